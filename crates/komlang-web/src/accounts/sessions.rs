//! Sessions, kept in the database so that every app server shares them, each with the id of
//! the account signed in with it (so that all of an account's sessions can be ended at once).

use async_trait::async_trait;
use komlang_store::{SessionRecord, Store};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::common::extract::USER_KEY;

/// tower-sessions store over Komlang's database.
#[derive(Clone, Debug)]
pub struct DbSessionStore(pub Store);

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// The record as stored: its data, expiry and account.
fn stored(record: &Record) -> session_store::Result<SessionRecord> {
    Ok(SessionRecord {
        data: serde_json::to_string(&record.data).map_err(backend)?,
        expires_at: record.expiry_date.unix_timestamp(),
        user_id: record.data.get(USER_KEY).and_then(serde_json::Value::as_i64),
    })
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let rec = stored(record)?;
            if self.0.session_create(&record.id.to_string(), &rec).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let rec = stored(record)?;
        self.0.session_save(&record.id.to_string(), &rec).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let Some(rec) = self.0.session_load(&id.to_string(), now).await.map_err(backend)? else {
            return Ok(None);
        };
        let data: std::collections::HashMap<String, serde_json::Value> =
            serde_json::from_str(&rec.data).map_err(backend)?;
        // The account column is the one that is ended; a session whose data names another
        // account (or one the column does not name) stands for nobody.
        if data.get(USER_KEY).and_then(serde_json::Value::as_i64) != rec.user_id {
            return Ok(None);
        }
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(rec.expires_at).map_err(backend)?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.session_delete(&id.to_string()).await.map_err(backend)
    }
}
