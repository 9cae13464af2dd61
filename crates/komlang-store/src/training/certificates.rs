//! Certificates: issued to workers whose credits reach a programme's, revoked with a reason;
//! the register and its export, and public verification.

use chrono::NaiveDate;
use komlang_core::training::*;
use komlang_core::*;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::numbers::{push_name_or_number, random_number};
use crate::common::rows::{date_col, opt_date, parse_col};
use crate::common::scope::{push_attribute_filters, push_worker_scope, AttributeFilter};
use crate::common::sql::Sql;
use crate::common::store::invalid;
use crate::workers::{brief_from_row, WorkerBrief, BRIEF_COLS};
use crate::{now_text, Page, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Certificate {
    pub id: i64,
    /// Unique, random: `C-XXXX-XXXX-XXXX-K`.
    pub number: String,
    pub worker_id: i64,
    pub programme_id: i64,
    pub programme_code: String,
    pub programme_title_en: String,
    pub programme_title_km: String,
    pub institution_code: String,
    pub level: CertificateLevel,
    #[schema(value_type = String, format = Date)]
    pub issued_on: NaiveDate,
    pub issued_by: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub revoked_on: Option<NaiveDate>,
    pub revoke_reason: Option<String>,
    /// Not revoked.
    pub valid: bool,
}

/// Which certificates the register lists. Empty fields mean "no filter".
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CertificateQuery {
    pub level: Option<CertificateLevel>,
    pub programme_id: Option<i64>,
    /// Issued on or after.
    pub from: Option<NaiveDate>,
    /// Issued on or before.
    pub to: Option<NaiveDate>,
    /// Province or district code of the holder's workplace.
    pub province: Option<String>,
    pub district: Option<String>,
    /// Holder's name or the certificate number.
    pub q: Option<String>,
    /// Only valid (true) or only revoked (false) certificates.
    pub valid: Option<bool>,
    pub page: i64,
    pub per_page: i64,
}

/// A line of the certificate register: the certificate and its holder.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CertificateRow {
    pub certificate: Certificate,
    pub holder: WorkerBrief,
}

pub const CERTIFICATE_EXPORT_COLUMNS: &[&str] = &[
    "certificate_number",
    "level",
    "programme",
    "institution",
    "issued_on",
    "issued_by",
    "valid",
    "revoked_on",
    "revoke_reason",
    "worker_id",
    "name_latin",
    "name_km",
    "workplace_code",
];

/// What the public verification page and API show: the certificate and its holder's name only.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicCertificate {
    pub number: String,
    pub valid: bool,
    pub holder_name_km: String,
    pub holder_name_latin: String,
    pub level: CertificateLevel,
    pub programme_title_en: String,
    pub programme_title_km: String,
    pub institution_code: String,
    #[schema(value_type = String, format = Date)]
    pub issued_on: NaiveDate,
    #[schema(value_type = Option<String>, format = Date)]
    pub revoked_on: Option<NaiveDate>,
}

const CERT_SELECT: &str = "SELECT ce.id, ce.number, ce.worker_id, ce.programme_id, p.code AS programme_code, \
     p.title_en AS programme_title_en, p.title_km AS programme_title_km, i.code AS institution_code, ce.level, \
     ce.issued_on, ce.issued_by, ce.revoked_on, ce.revoke_reason \
     FROM certificates ce JOIN training_programmes p ON p.id = ce.programme_id \
     JOIN training_institutions i ON i.id = p.institution_id";

fn certificate_from_row(r: &AnyRow) -> Result<Certificate> {
    let revoked_on = opt_date(r, "revoked_on")?;
    Ok(Certificate {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        worker_id: r.try_get("worker_id")?,
        programme_id: r.try_get("programme_id")?,
        programme_code: r.try_get("programme_code")?,
        programme_title_en: r.try_get("programme_title_en")?,
        programme_title_km: r.try_get("programme_title_km")?,
        institution_code: r.try_get("institution_code")?,
        level: parse_col(r, "level", CertificateLevel::parse)?,
        issued_on: date_col(r, "issued_on")?,
        issued_by: r.try_get("issued_by")?,
        revoked_on,
        revoke_reason: r.try_get("revoke_reason")?,
        valid: revoked_on.is_none(),
    })
}

impl Store {
    pub async fn worker_certificates(&self, p: &Principal, worker_id: i64) -> Result<Vec<Certificate>> {
        self.brief(p, worker_id).await?;
        self.certificates_of(worker_id).await
    }

    /// The certificates of a worker the caller is known to see.
    pub(crate) async fn certificates_of(&self, worker_id: i64) -> Result<Vec<Certificate>> {
        let rows =
            sqlx::query(&format!("{CERT_SELECT} WHERE ce.worker_id = $1 ORDER BY ce.issued_on DESC, ce.id DESC"))
                .bind(worker_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(certificate_from_row).collect()
    }

    /// Issues a certificate of a programme to a worker whose computed credits reach it.
    pub async fn issue_certificate(
        &self,
        p: &Principal,
        worker_id: i64,
        programme_id: i64,
        today: NaiveDate,
    ) -> Result<Certificate> {
        let t = self.transcript(p, worker_id).await?;
        p.require(Action::IssueCertificate, Target::Any)?;
        let Some(pr) = t.progress.iter().find(|x| x.programme_id == programme_id) else {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("programme_id", "unknown_programme").with("value", programme_id),
            )));
        };
        if let Some(n) = &pr.certificate {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("programme_id", "already_certified").with("number", n),
            )));
        }
        if !pr.eligible {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("programme_id", "not_eligible")
                    .with("have", pr.credits_earned)
                    .with("need", pr.credits_required),
            )));
        }
        let mut tx = self.begin_write().await?;
        let number = loop {
            let n = random_number(NumberKind::Certificate);
            if sqlx::query("SELECT 1 FROM certificates WHERE number = $1")
                .bind(&n)
                .fetch_optional(&mut *tx)
                .await?
                .is_none()
            {
                break n;
            }
        };
        let row = sqlx::query(
            "INSERT INTO certificates (number, worker_id, programme_id, level, issued_on, issued_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&number)
        .bind(worker_id)
        .bind(programme_id)
        .bind(pr.level.code())
        .bind(today.to_string())
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        let after = serde_json::json!({"number": number, "worker_id": worker_id, "programme_id": programme_id,
            "level": pr.level, "credits": pr.credits_earned, "issued_on": today});
        record_audit(&mut tx, p, "create", "certificate", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.certificates_of(worker_id).await?.into_iter().find(|c| c.id == id).ok_or(StoreError::NotFound)
    }

    /// Revokes a certificate, with the reason.
    pub async fn revoke_certificate(
        &self,
        p: &Principal,
        number: &str,
        reason: &str,
        today: NaiveDate,
    ) -> Result<Certificate> {
        let n = normalize_number(NumberKind::Certificate, number).ok_or(StoreError::NotFound)?;
        let row = sqlx::query(&format!("{CERT_SELECT} WHERE ce.number = $1"))
            .bind(&n)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let cert = certificate_from_row(&row)?;
        self.brief(p, cert.worker_id).await?;
        p.require(Action::IssueCertificate, Target::Any)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(invalid("reason", "reason_required"));
        }
        if !cert.valid {
            return Err(invalid("number", "already_revoked"));
        }
        let mut tx = self.begin_write().await?;
        // Only a certificate still valid as stored now: of two revocations at once, the second
        // is refused, and the first reason stays.
        let n = sqlx::query(
            "UPDATE certificates SET revoked_on = $1, revoke_reason = $2 WHERE id = $3 AND revoked_on IS NULL",
        )
        .bind(today.to_string())
        .bind(reason)
        .bind(cert.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(invalid("number", "already_revoked"));
        }
        let before = serde_json::json!({"number": cert.number, "revoked_on": null, "revoke_reason": null});
        let after = serde_json::json!({"number": cert.number, "revoked_on": today, "revoke_reason": reason});
        record_audit(&mut tx, p, "revoke", "certificate", &cert.id.to_string(), Some(&before), Some(&after)).await?;
        tx.commit().await?;
        self.certificates_of(cert.worker_id).await?.into_iter().find(|c| c.id == cert.id).ok_or(StoreError::NotFound)
    }

    fn certificate_filter(&self, p: &Principal, q: &CertificateQuery) -> Sql {
        let mut f = Sql::for_engine("", self.engine);
        push_worker_scope(&mut f, &p.worker_scope());
        push_attribute_filters(
            &mut f,
            &AttributeFilter { province: q.province.as_deref(), district: q.district.as_deref(), ..Default::default() },
        );
        if let Some(l) = q.level {
            f.push(" AND ce.level = ").text(l.code());
        }
        if let Some(id) = q.programme_id {
            f.push(" AND ce.programme_id = ").int(id);
        }
        if let Some(d) = q.from {
            f.push(" AND ce.issued_on >= ").text(d.to_string());
        }
        if let Some(d) = q.to {
            f.push(" AND ce.issued_on <= ").text(d.to_string());
        }
        match q.valid {
            Some(true) => {
                f.push(" AND ce.revoked_on IS NULL");
            }
            Some(false) => {
                f.push(" AND ce.revoked_on IS NOT NULL");
            }
            None => {}
        }
        if let Some(t) = q.q.non_blank() {
            push_name_or_number(&mut f, t, NumberKind::Certificate, "ce.number");
        }
        f
    }

    /// The certificate register: certificates of the workers in the caller's scope, latest first.
    pub async fn certificates(&self, p: &Principal, q: &CertificateQuery) -> Result<Page<CertificateRow>> {
        let per_page = q.per_page.clamp(1, 10_000);
        let page = q.page.max(1);
        if !p.may(Action::ReadWorkers) {
            return Ok(Page { items: vec![], total: 0, total_is_lower_bound: false, page, per_page });
        }
        let from = " FROM certificates ce JOIN training_programmes p ON p.id = ce.programme_id \
             JOIN training_institutions i ON i.id = p.institution_id JOIN workers w ON w.id = ce.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1";
        let f = self.certificate_filter(p, q);
        let mut count = Sql::for_engine(&format!("SELECT COUNT(*){from}"), self.engine);
        count.append(&f);
        let total: i64 = count.query().fetch_one(&self.pool).await?.try_get(0)?;
        let mut sql = Sql::for_engine(
            &format!(
                "SELECT ce.id, ce.number, ce.worker_id, ce.programme_id, p.code AS programme_code, \
                 p.title_en AS programme_title_en, p.title_km AS programme_title_km, i.code AS institution_code, \
                 ce.level, ce.issued_on, ce.issued_by, ce.revoked_on, ce.revoke_reason, {BRIEF_COLS}{from}"
            ),
            self.engine,
        );
        sql.append(&f);
        sql.push(" ORDER BY ce.issued_on DESC, ce.id DESC LIMIT ")
            .int(per_page)
            .push(" OFFSET ")
            .int(crate::common::sql::offset(page, per_page));
        let rows = sql.query().fetch_all(&self.pool).await?;
        let items = rows
            .iter()
            .map(|r| Ok(CertificateRow { certificate: certificate_from_row(r)?, holder: brief_from_row(r)? }))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, total_is_lower_bound: false, page, per_page })
    }

    /// The register of the query as rows of [`CERTIFICATE_EXPORT_COLUMNS`].
    pub async fn certificate_export_rows(&self, p: &Principal, q: &CertificateQuery) -> Result<Vec<Vec<String>>> {
        let mut q = q.clone();
        q.page = 1;
        q.per_page = 10_000;
        let mut out = Vec::new();
        loop {
            let page = self.certificates(p, &q).await?;
            for r in &page.items {
                let c = &r.certificate;
                out.push(vec![
                    c.number.clone(),
                    c.level.code().into(),
                    c.programme_code.clone(),
                    c.institution_code.clone(),
                    c.issued_on.to_string(),
                    c.issued_by.clone(),
                    if c.valid { "yes".into() } else { "no".into() },
                    c.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
                    c.revoke_reason.clone().unwrap_or_default(),
                    r.holder.id.to_string(),
                    r.holder.name_latin.clone(),
                    r.holder.name_km.clone(),
                    r.holder.workplace_code.clone(),
                ]);
            }
            if q.page >= page.pages() {
                break;
            }
            q.page += 1;
        }
        Ok(out)
    }

    /// Workers in the caller's scope holding a valid certificate, and holding a valid licence on
    /// `today` (for the overview; the UNICEF indicators count workers by whether they are
    /// certified or licensed).
    pub async fn certified_and_licensed(&self, p: &Principal, today: NaiveDate) -> Result<(i64, i64)> {
        if !p.may(Action::ReadWorkers) {
            return Ok((0, 0));
        }
        // Certified: from the worker tallies (the triggers on `certificates` keep a flag on
        // each worker, tallied with the rest) when the caller reads an area.
        let tallied = match crate::workers::tally_area(p) {
            Some(area) => Some(self.tallied_certified(&area).await?),
            None => None,
        };
        // Otherwise, and for the licences (valid on a day: not tallied), driven by the certificates and licences (their partial and expiry indexes), not by
        // every worker: the cost of the holders, whatever the size of the registry. The joins
        // are written in that order as CROSS JOINs, which SQLite keeps (it would otherwise start
        // from the admin units of a scope and probe every holder for each of them); PostgreSQL
        // plans them as inner joins.
        // The admin units only for an area smaller than the country.
        let (units, unit_of) = match p.scope {
            Scope::Unit { .. } => (" CROSS JOIN admin_units u", " AND u.code = w.workplace_code"),
            Scope::Nation => ("", ""),
        };
        let mut out = [0i64; 2];
        for (k, head) in [
            "SELECT COUNT(DISTINCT ce.worker_id) FROM certificates ce CROSS JOIN workers w",
            "SELECT COUNT(DISTINCT l.worker_id) FROM licences l CROSS JOIN workers w",
        ]
        .into_iter()
        .enumerate()
        {
            if let (0, Some(n)) = (k, tallied) {
                out[0] = n;
                continue;
            }
            let mut sql = Sql::for_engine(head, self.engine);
            sql.push(units);
            if k == 0 {
                sql.push(" WHERE w.id = ce.worker_id AND ce.revoked_on IS NULL");
            } else {
                sql.push(" WHERE w.id = l.worker_id AND l.status = 'active' AND l.expires_on >= ");
                sql.text(today.to_string());
            }
            sql.push(unit_of).push(" AND w.status IN ('active', 'on_leave')");
            push_worker_scope(&mut sql, &p.worker_scope());
            out[k] = sql.query().fetch_one(&self.pool).await?.try_get(0)?;
        }
        Ok((out[0], out[1]))
    }

    /// Public verification: the certificate and its holder's name, or none for an unknown number.
    pub async fn public_certificate(&self, number: &str) -> Result<Option<PublicCertificate>> {
        let Some(n) = normalize_number(NumberKind::Certificate, number) else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT ce.number, ce.level, ce.issued_on, ce.revoked_on, p.title_en, p.title_km, i.code AS institution_code, \
             w.name_km, w.name_latin FROM certificates ce JOIN workers w ON w.id = ce.worker_id \
             JOIN training_programmes p ON p.id = ce.programme_id JOIN training_institutions i ON i.id = p.institution_id \
             WHERE ce.number = $1",
        )
        .bind(&n)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let revoked_on = opt_date(&r, "revoked_on")?;
        Ok(Some(PublicCertificate {
            number: r.try_get("number")?,
            valid: revoked_on.is_none(),
            holder_name_km: r.try_get("name_km")?,
            holder_name_latin: r.try_get("name_latin")?,
            level: parse_col(&r, "level", CertificateLevel::parse)?,
            programme_title_en: r.try_get("title_en")?,
            programme_title_km: r.try_get("title_km")?,
            institution_code: r.try_get("institution_code")?,
            issued_on: date_col(&r, "issued_on")?,
            revoked_on,
        }))
    }
}
