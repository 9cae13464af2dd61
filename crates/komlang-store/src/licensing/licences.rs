//! Licences: applied for, decided, renewed; listed (also those about to expire) and exported.

use chrono::NaiveDate;
use komlang_core::training::*;
use komlang_core::*;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::numbers::{push_name_or_number, random_number};
use crate::common::rows::{date_col, opt_date, parse_col};
use crate::common::scope::{push_attribute_filters, push_worker_scope, AttributeFilter};
use crate::common::sql::{check_version, lock_existing, Sql};
use crate::common::store::invalid;
use crate::workers::{brief_from_row, WorkerBrief, BRIEF_COLS};
use crate::{now_text, Page, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LicenceActionRow {
    pub action: String,
    #[schema(value_type = String, format = Date)]
    pub on_date: NaiveDate,
    pub by_user: String,
    pub reason: Option<String>,
    /// For a renewal: the continuing-education hours counted.
    pub ce_hours: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Licence {
    pub id: i64,
    pub worker: WorkerBrief,
    /// Set when approved: `L-XXXX-XXXX-XXXX-K`.
    pub number: Option<String>,
    /// As stored.
    pub status: LicenceStatus,
    /// On today: an active licence past its expiry has lapsed.
    pub effective_status: LicenceStatus,
    #[schema(value_type = String, format = Date)]
    pub applied_on: NaiveDate,
    pub application_note: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub decided_on: Option<NaiveDate>,
    pub decided_by: Option<String>,
    /// Reason of the last rejection, suspension, lapse or revocation.
    pub reason: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub issued_on: Option<NaiveDate>,
    /// Start of the current term (continuing-education hours count from here).
    #[schema(value_type = Option<String>, format = Date)]
    pub term_start: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<NaiveDate>,
    pub renewals: i64,
    /// Days from today to the expiry (negative once past).
    pub days_to_expiry: Option<i64>,
    /// Raised by every change: send it back (`If-Match`, a form's `version`) to decide on or
    /// renew the licence only if nobody else has changed it meanwhile.
    pub version: i64,
}

/// A licence with its history and continuing-education standing.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LicenceDetail {
    pub licence: Licence,
    pub actions: Vec<LicenceActionRow>,
    /// Continuing-education hours (passed training) since the term started.
    pub ce_hours_in_term: f64,
    /// Hours the rules require to renew.
    pub ce_hours_required: u32,
}

/// Which licences a list shows. Empty fields mean "no filter".
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LicenceQuery {
    /// Effective status.
    pub status: Option<LicenceStatus>,
    /// Active licences expiring within this many days from today.
    pub expiring_within_days: Option<i64>,
    /// Name or licence number.
    pub q: Option<String>,
    pub province: Option<String>,
    pub district: Option<String>,
    pub page: i64,
    pub per_page: i64,
}

const LICENCE_COLS: &str = "l.id AS licence_id, l.number, l.status, l.applied_on, l.application_note, l.decided_on, \
     l.decided_by, l.reason, l.issued_on, l.term_start, l.expires_on, l.renewals, l.version";

fn licence_from_row(r: &AnyRow, today: NaiveDate) -> Result<Licence> {
    let status = parse_col(r, "status", LicenceStatus::parse)?;
    let expires_on = opt_date(r, "expires_on")?;
    Ok(Licence {
        id: r.try_get("licence_id")?,
        worker: brief_from_row(r)?,
        number: r.try_get("number")?,
        status,
        effective_status: effective_status(status, expires_on, today),
        applied_on: date_col(r, "applied_on")?,
        application_note: r.try_get("application_note")?,
        decided_on: opt_date(r, "decided_on")?,
        decided_by: r.try_get("decided_by")?,
        reason: r.try_get("reason")?,
        issued_on: opt_date(r, "issued_on")?,
        term_start: opt_date(r, "term_start")?,
        expires_on,
        renewals: r.try_get("renewals")?,
        days_to_expiry: expires_on.map(|d| (d - today).num_days()),
        version: r.try_get("version")?,
    })
}

/// Inserts a row of `licence_actions`.
async fn licence_action(
    conn: &mut AnyConnection,
    licence_id: i64,
    action: &str,
    on: NaiveDate,
    by: &str,
    reason: Option<&str>,
    ce_minutes: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO licence_actions (licence_id, action, on_date, by_user, reason, ce_minutes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(licence_id)
    .bind(action)
    .bind(on.to_string())
    .bind(by)
    .bind(reason)
    .bind(ce_minutes)
    .bind(now_text())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Columns of the licences export, in order.
pub const LICENCE_EXPORT_COLUMNS: &[&str] = &[
    "licence_number",
    "worker_id",
    "name_latin",
    "name_km",
    "workplace_code",
    "status",
    "applied_on",
    "issued_on",
    "term_start",
    "expires_on",
    "days_to_expiry",
    "renewals",
    "reason",
];

impl Store {
    fn licence_select(&self) -> Sql {
        Sql::for_engine(
            &format!(
                "SELECT {LICENCE_COLS}, {BRIEF_COLS} FROM licences l JOIN workers w ON w.id = l.worker_id \
                 JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1"
            ),
            self.engine,
        )
    }

    fn licence_filter(&self, p: &Principal, q: &LicenceQuery, today: NaiveDate) -> Sql {
        let mut f = Sql::for_engine("", self.engine);
        push_worker_scope(&mut f, &p.worker_scope());
        push_attribute_filters(
            &mut f,
            &AttributeFilter { province: q.province.as_deref(), district: q.district.as_deref(), ..Default::default() },
        );
        let t = today.to_string();
        match q.status {
            Some(LicenceStatus::Active) => {
                f.push(" AND l.status = 'active' AND l.expires_on >= ").text(t.clone());
            }
            Some(LicenceStatus::Lapsed) => {
                f.push(" AND (l.status = 'lapsed' OR (l.status = 'active' AND l.expires_on < ").text(t.clone());
                f.push("))");
            }
            Some(s) => {
                f.push(" AND l.status = ").text(s.code());
            }
            None => {}
        }
        if let Some(n) = q.expiring_within_days {
            let until = today + chrono::Days::new(n.max(0) as u64);
            f.push(" AND l.status = 'active' AND l.expires_on >= ").text(t);
            f.push(" AND l.expires_on <= ").text(until.to_string());
        }
        if let Some(s) = q.q.non_blank() {
            push_name_or_number(&mut f, s, NumberKind::Licence, "l.number");
        }
        f
    }

    /// Licences in the caller's scope; with `expiring_within_days`, soonest expiry first.
    pub async fn licences(&self, p: &Principal, q: &LicenceQuery, today: NaiveDate) -> Result<Page<Licence>> {
        let per_page = q.per_page.clamp(1, 10_000);
        let page = q.page.max(1);
        if !p.may(Action::ReadWorkers) {
            return Ok(Page { items: vec![], total: 0, total_is_lower_bound: false, page, per_page });
        }
        let f = self.licence_filter(p, q, today);
        let mut count = Sql::for_engine(
            "SELECT COUNT(*) FROM licences l JOIN workers w ON w.id = l.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1",
            self.engine,
        );
        count.append(&f);
        let total: i64 = count.query().fetch_one(&self.pool).await?.try_get(0)?;
        let mut sql = self.licence_select();
        sql.append(&f);
        if q.expiring_within_days.is_some() {
            sql.push(" ORDER BY l.expires_on, l.id");
        } else {
            sql.push(" ORDER BY l.applied_on DESC, l.id DESC");
        }
        sql.push(" LIMIT ").int(per_page).push(" OFFSET ").int(crate::common::sql::offset(page, per_page));
        let rows = sql.query().fetch_all(&self.pool).await?;
        let items = rows.iter().map(|r| licence_from_row(r, today)).collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, total_is_lower_bound: false, page, per_page })
    }

    pub async fn worker_licences(&self, p: &Principal, worker_id: i64, today: NaiveDate) -> Result<Vec<Licence>> {
        self.brief(p, worker_id).await?;
        let mut sql = self.licence_select();
        sql.push(" AND l.worker_id = ").int(worker_id).push(" ORDER BY l.applied_on DESC, l.id DESC");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| licence_from_row(r, today)).collect()
    }

    async fn licence_row(&self, p: &Principal, id: i64, today: NaiveDate) -> Result<Licence> {
        self.licence_row_on(&mut *self.pool.acquire().await?, p, id, today).await
    }

    /// [`Store::licence_row`] on a connection: locked first inside a transaction, so that two
    /// decisions on one licence are taken one after the other, each on what the other stored.
    async fn locked_licence(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        id: i64,
        today: NaiveDate,
        expected: Option<i64>,
    ) -> Result<Licence> {
        lock_existing(conn, "licences", id, expected).await?;
        self.licence_row_on(conn, p, id, today).await
    }

    async fn licence_row_on(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        id: i64,
        today: NaiveDate,
    ) -> Result<Licence> {
        let mut sql = self.licence_select();
        sql.push(" AND l.id = ").int(id);
        push_worker_scope(&mut sql, &p.worker_scope());
        if !p.may(Action::ReadWorkers) {
            return Err(StoreError::NotFound);
        }
        let row = sql.query().fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
        licence_from_row(&row, today)
    }

    /// Continuing-education minutes: passed training of the worker in events ending in `[from, to]`.
    async fn ce_minutes(&self, worker_id: i64, from: NaiveDate, to: NaiveDate) -> Result<i64> {
        ce_minutes(&mut *self.pool.acquire().await?, worker_id, from, to).await
    }

    pub async fn licence(&self, p: &Principal, id: i64, today: NaiveDate) -> Result<LicenceDetail> {
        let licence = self.licence_row(p, id, today).await?;
        let rows = sqlx::query(
            "SELECT action, on_date, by_user, reason, ce_minutes FROM licence_actions WHERE licence_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let actions = rows
            .iter()
            .map(|r| {
                let ce: Option<i64> = r.try_get("ce_minutes")?;
                Ok(LicenceActionRow {
                    action: r.try_get("action")?,
                    on_date: date_col(r, "on_date")?,
                    by_user: r.try_get("by_user")?,
                    reason: r.try_get("reason")?,
                    ce_hours: ce.map(|m| Minutes { teaching: m, lab: 0, field: 0 }.hours().teaching),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let rules = self.licensing_rules().await?;
        let ce = match licence.term_start {
            Some(start) => self.ce_minutes(licence.worker.id, start, today).await?,
            None => 0,
        };
        Ok(LicenceDetail {
            licence,
            actions,
            ce_hours_in_term: Minutes { teaching: ce, lab: 0, field: 0 }.hours().teaching,
            ce_hours_required: rules.renewal_ce_hours,
        })
    }

    /// Applies for a licence for a worker: by the worker themself or an account that may change
    /// the worker's record. The worker must hold a valid certificate or a degree in social work,
    /// and have no open (applied, active or suspended) licence.
    pub async fn apply_licence(
        &self,
        p: &Principal,
        worker_id: i64,
        note: Option<&str>,
        today: NaiveDate,
    ) -> Result<Licence> {
        let w = self.get_worker(p, worker_id).await?.ok_or(StoreError::NotFound)?;
        p.require(Action::ApplyLicence, Target::worker(worker_id))?;
        let degree = matches!(
            w.education_level,
            Some(EducationLevel::Bachelor | EducationLevel::Master | EducationLevel::Doctorate)
        ) && w.education_field == Some(EducationField::SocialWork);
        let certified = self.certificates_of(worker_id).await?.iter().any(|c| c.valid);
        if !degree && !certified {
            return Err(invalid("worker_id", "no_qualification"));
        }
        let open = sqlx::query(
            "SELECT id FROM licences WHERE worker_id = $1 AND status IN ('applied', 'active', 'suspended')",
        )
        .bind(worker_id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = open {
            let id: i64 = r.try_get(0)?;
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("worker_id", "licence_open").with("licence_id", id),
            )));
        }
        let note = note.non_blank();
        if note.is_some_and(|n| n.chars().count() > 1000) {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("note", "too_long").with("max", 1000),
            )));
        }
        let now = now_text();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO licences (worker_id, status, applied_on, application_note, created_at, updated_at) \
             VALUES ($1, 'applied', $2, $3, $4, $5) RETURNING id",
        )
        .bind(worker_id)
        .bind(today.to_string())
        .bind(note)
        .bind(&now)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        licence_action(&mut tx, id, "apply", today, &p.username, note, None).await?;
        let after = serde_json::json!({"worker_id": worker_id, "status": "applied", "applied_on": today, "note": note});
        record_audit(&mut tx, p, "create", "licence", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.licence_row(p, id, today).await
    }

    /// Approves or rejects an application; suspends, reinstates, lapses or revokes a licence.
    /// With `expected`, only if the licence is still at that version.
    pub async fn decide_licence(
        &self,
        p: &Principal,
        id: i64,
        input: &DecisionInput,
        today: NaiveDate,
        expected: Option<i64>,
    ) -> Result<Licence> {
        let before = self.licence_row(p, id, today).await?;
        check_version(before.version, expected)?;
        p.require(Action::DecideLicence, Target::Any)?;
        let (action, reason) = validate_decision(input)?;
        action.apply(before.effective_status).map_err(ValidationErrors::single)?;
        let rules = self.licensing_rules().await?;
        let mut tx = self.begin_write().await?;
        // Decided on the licence as stored now (a concurrent decision came first).
        let before = self.locked_licence(&mut tx, p, id, today, expected).await?;
        let to = action.apply(before.effective_status).map_err(ValidationErrors::single)?;
        match action {
            LicenceAction::Approve => {
                let number = loop {
                    let n = random_number(NumberKind::Licence);
                    if sqlx::query("SELECT 1 FROM licences WHERE number = $1")
                        .bind(&n)
                        .fetch_optional(&mut *tx)
                        .await?
                        .is_none()
                    {
                        break n;
                    }
                };
                sqlx::query(
                    "UPDATE licences SET status = 'active', number = $1, decided_on = $2, decided_by = $3, \
                     issued_on = $2, term_start = $2, expires_on = $4, reason = NULL, updated_at = $5 WHERE id = $6",
                )
                .bind(&number)
                .bind(today.to_string())
                .bind(&p.username)
                .bind(rules.expiry(today).to_string())
                .bind(now_text())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            _ => {
                let decided = matches!(action, LicenceAction::Reject);
                let mut sql = Sql::for_engine("UPDATE licences SET status = ", self.engine);
                sql.text(to.code()).push(", reason = ").opt_text(reason.clone());
                sql.push(", updated_at = ").text(now_text());
                if decided {
                    sql.push(", decided_on = ").text(today.to_string()).push(", decided_by = ").text(&p.username);
                }
                sql.push(" WHERE id = ").int(id);
                sql.query().execute(&mut *tx).await?;
            }
        }
        licence_action(&mut tx, id, action.code(), today, &p.username, reason.as_deref(), None).await?;
        let after = serde_json::json!({"status": to, "reason": reason});
        let b = serde_json::json!({"status": before.effective_status, "reason": before.reason});
        record_audit(&mut tx, p, action.code(), "licence", &id.to_string(), Some(&b), Some(&after)).await?;
        tx.commit().await?;
        self.licence_row(p, id, today).await
    }

    /// Renews a licence for another term when the worker's continuing-education hours in the
    /// current term reach the rules'; refused with the hours had and needed otherwise. A licence
    /// still in its term is renewed from its expiry; one that has run out, from today.
    /// With `expected`, only if the licence is still at that version.
    pub async fn renew_licence(
        &self,
        p: &Principal,
        id: i64,
        today: NaiveDate,
        expected: Option<i64>,
    ) -> Result<Licence> {
        let before = self.licence_row(p, id, today).await?;
        check_version(before.version, expected)?;
        p.require(Action::DecideLicence, Target::Any)?;
        if before.status != LicenceStatus::Active {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("action", "action_not_allowed")
                    .with("action", "renew")
                    .with("status", before.effective_status.code()),
            )));
        }
        let rules = self.licensing_rules().await?;
        let mut tx = self.begin_write().await?;
        // Renewed from the term as stored now: two renewals at once add two terms only if each
        // is allowed on what the other stored.
        let before = self.locked_licence(&mut tx, p, id, today, expected).await?;
        if before.status != LicenceStatus::Active {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("action", "action_not_allowed")
                    .with("action", "renew")
                    .with("status", before.effective_status.code()),
            )));
        }
        let start = before.term_start.or(before.issued_on).unwrap_or(before.applied_on);
        let ce = ce_minutes(&mut tx, before.worker.id, start, today).await?;
        rules.check_renewal(ce).map_err(ValidationErrors::single)?;
        let next_start = match before.expires_on {
            Some(exp) if exp >= today => exp.succ_opt().unwrap_or(exp),
            _ => today,
        };
        let expires = rules.expiry(next_start);
        sqlx::query(
            "UPDATE licences SET term_start = $1, expires_on = $2, renewals = renewals + 1, updated_at = $3 WHERE id = $4",
        )
        .bind(next_start.to_string())
        .bind(expires.to_string())
        .bind(now_text())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        licence_action(&mut tx, id, "renew", today, &p.username, None, Some(ce)).await?;
        let b = serde_json::json!({"term_start": before.term_start, "expires_on": before.expires_on});
        let a = serde_json::json!({"term_start": next_start, "expires_on": expires, "ce_minutes": ce});
        record_audit(&mut tx, p, "renew", "licence", &id.to_string(), Some(&b), Some(&a)).await?;
        tx.commit().await?;
        self.licence_row(p, id, today).await
    }

    /// The licences of the query as rows of [`LICENCE_EXPORT_COLUMNS`].
    pub async fn licence_export_rows(
        &self,
        p: &Principal,
        q: &LicenceQuery,
        today: NaiveDate,
    ) -> Result<Vec<Vec<String>>> {
        let mut q = q.clone();
        q.page = 1;
        q.per_page = 10_000;
        let mut out = Vec::new();
        loop {
            let page = self.licences(p, &q, today).await?;
            for l in &page.items {
                out.push(vec![
                    l.number.clone().unwrap_or_default(),
                    l.worker.id.to_string(),
                    l.worker.name_latin.clone(),
                    l.worker.name_km.clone(),
                    l.worker.workplace_code.clone(),
                    l.effective_status.code().into(),
                    l.applied_on.to_string(),
                    l.issued_on.map(|d| d.to_string()).unwrap_or_default(),
                    l.term_start.map(|d| d.to_string()).unwrap_or_default(),
                    l.expires_on.map(|d| d.to_string()).unwrap_or_default(),
                    l.days_to_expiry.map(|d| d.to_string()).unwrap_or_default(),
                    l.renewals.to_string(),
                    l.reason.clone().unwrap_or_default(),
                ]);
            }
            if q.page >= page.pages() {
                break;
            }
            q.page += 1;
        }
        Ok(out)
    }
}

/// Continuing-education minutes: passed training of the worker in events ending in `[from, to]`.
async fn ce_minutes(conn: &mut AnyConnection, worker_id: i64, from: NaiveDate, to: NaiveDate) -> Result<i64> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(tp.teaching_minutes + tp.lab_minutes + tp.field_minutes), 0) AS BIGINT) \
         FROM training_participants tp JOIN training_events e ON e.id = tp.event_id \
         WHERE tp.worker_id = $1 AND tp.result = 'passed' AND e.ends_on >= $2 AND e.ends_on <= $3",
    )
    .bind(worker_id)
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

komlang_core::versioned!(Licence);

impl komlang_core::Versioned for LicenceDetail {
    fn version(&self) -> i64 {
        self.licence.version
    }
}
