//! SQLite: schema objects (triggers, indexes) an import takes off inside its transaction and
//! puts back, from their own text as the database kept them, before it commits ([`super::tallies`],
//! [`super::indexes`]). A failed or abandoned import rolls both back.

use sqlx::{AnyConnection, Row};

use crate::Result;

/// Schema objects (triggers, indexes) an import took off inside its transaction, to be put
/// back before it commits: their names and `CREATE` texts, as the database kept them.
pub(super) struct Held(Vec<(String, String)>);

impl Held {
    pub(super) fn holds(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

/// Takes the named objects of a kind (`trigger`, `index`) off, in the import's transaction,
/// keeping their texts. One the database lacks is left to itself.
pub(super) async fn take_off(conn: &mut AnyConnection, kind: &str, names: &[&str]) -> Result<Held> {
    let mut held = Vec::new();
    for &name in names {
        let sql: Option<String> = sqlx::query("SELECT sql FROM sqlite_master WHERE type = $1 AND name = $2")
            .bind(kind)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if let Some(sql) = sql {
            sqlx::query(&format!("DROP {} {name}", kind.to_uppercase())).execute(&mut *conn).await?;
            held.push((name.to_string(), sql));
        }
    }
    Ok(Held(held))
}

/// Puts what was taken off back, as it was (an index is built again from every row).
pub(super) async fn put_back(conn: &mut AnyConnection, held: Held) -> Result<()> {
    for (_, sql) in held.0 {
        sqlx::query(&sql).execute(&mut *conn).await?;
    }
    Ok(())
}
