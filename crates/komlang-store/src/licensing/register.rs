//! The public register of valid licences.

use chrono::NaiveDate;
use komlang_core::training::*;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::common::numbers::push_name_or_number;
use crate::common::rows::date_col;
use crate::common::sql::Sql;
use crate::{Result, Store};

/// A valid licence as the public register shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicLicence {
    pub number: String,
    pub name_km: String,
    pub name_latin: String,
    #[schema(value_type = String, format = Date)]
    pub expires_on: NaiveDate,
}

/// Most rows the public register answers.
pub const REGISTER_LIMIT: i64 = 50;

impl Store {
    /// The public register: valid licences whose holder's name or number matches `q`
    /// (at least two characters), at most [`REGISTER_LIMIT`].
    pub async fn public_register(&self, q: &str, today: NaiveDate) -> Result<Vec<PublicLicence>> {
        let q = q.trim();
        if q.chars().count() < 2 {
            return Ok(vec![]);
        }
        let mut sql = Sql::for_engine(
            "SELECT l.number, l.expires_on, w.name_km, w.name_latin FROM licences l JOIN workers w ON w.id = l.worker_id \
             WHERE l.status = 'active' AND l.expires_on >= ",
            self.engine,
        );
        sql.text(today.to_string());
        push_name_or_number(&mut sql, q, NumberKind::Licence, "l.number");
        sql.push(" ORDER BY w.name_latin, l.id LIMIT ").int(REGISTER_LIMIT);
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(PublicLicence {
                    number: r.try_get("number")?,
                    name_km: r.try_get("name_km")?,
                    name_latin: r.try_get("name_latin")?,
                    expires_on: date_col(r, "expires_on")?,
                })
            })
            .collect()
    }
}
