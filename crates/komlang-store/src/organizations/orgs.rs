//! Organizations: employers and government offices, each in an admin unit.

use komlang_core::validate::{validate_org, OrgInput};
use komlang_core::*;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::common::audit::record_audit;
use crate::common::scope::{push_org_scope, seat_in_reach};
use crate::common::sql::{check_version, like_pattern, lock_existing, Sql};
use crate::{now_text, Page, Result, Store, StoreError};

#[derive(Debug, Default, Clone)]
pub struct OrgQuery {
    pub q: Option<String>,
    pub kind: Option<OrgKind>,
    pub province: Option<String>,
    pub page: i64,
    pub per_page: i64,
}

/// An organization with the names of its admin unit.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OrgRow {
    #[serde(flatten)]
    pub org: Organization,
    pub admin_name_en: String,
    pub admin_name_km: String,
}

const COLS: &str = "o.id, o.name_km, o.name_en, o.kind, o.registration_no, o.admin_code, o.phone, o.email, \
    o.created_at, o.updated_at, o.version, u.name_en AS u_name_en, u.name_km AS u_name_km";

fn org_from_row(r: &AnyRow) -> Result<OrgRow> {
    let kind: String = r.try_get("kind")?;
    Ok(OrgRow {
        org: Organization {
            id: r.try_get("id")?,
            name_km: r.try_get("name_km")?,
            name_en: r.try_get("name_en")?,
            kind: OrgKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("org kind {kind}")))?,
            registration_no: r.try_get("registration_no")?,
            admin_code: r.try_get("admin_code")?,
            phone: r.try_get("phone")?,
            email: r.try_get("email")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            version: r.try_get("version")?,
        },
        admin_name_en: r.try_get("u_name_en")?,
        admin_name_km: r.try_get("u_name_km")?,
    })
}

impl Store {
    pub async fn list_orgs(&self, p: &Principal, q: &OrgQuery) -> Result<Page<OrgRow>> {
        let mut f = Sql::new(" WHERE 1 = 1");
        push_org_scope(&mut f, p);
        if let Some(t) = q.q.non_blank() {
            let pat = like_pattern(t);
            f.push(" AND (LOWER(o.name_en) LIKE ").text(pat.clone()).push(" ESCAPE '\\'");
            f.push(" OR LOWER(o.name_km) LIKE ").text(pat).push(" ESCAPE '\\'");
            f.push(" OR o.registration_no = ").text(t).push(")");
        }
        if let Some(k) = q.kind {
            f.push(" AND o.kind = ").text(k.code());
        }
        if let Some(v) = q.province.non_blank() {
            f.push(" AND u.province_code = ").text(v);
        }
        let from = " FROM organizations o JOIN admin_units u ON u.code = o.admin_code";
        let mut count = Sql::new(&format!("SELECT COUNT(*){from}"));
        count.push(&f.text);
        count.args = f.args.clone();
        let total: i64 = count.query().fetch_one(&self.pool).await?.try_get(0)?;
        let per_page = if q.per_page <= 0 { 50 } else { q.per_page.min(500) };
        let page = q.page.max(1);
        let mut list = Sql::new(&format!("SELECT {COLS}{from}"));
        list.push(&f.text);
        list.args = f.args;
        list.push(" ORDER BY o.name_en, o.id LIMIT ")
            .int(per_page)
            .push(" OFFSET ")
            .int(crate::common::sql::offset(page, per_page));
        let rows = list.query().fetch_all(&self.pool).await?;
        Ok(Page {
            items: rows.iter().map(org_from_row).collect::<Result<_>>()?,
            total,
            total_is_lower_bound: false,
            page,
            per_page,
        })
    }

    /// An organization within the principal's scope.
    pub async fn get_org(&self, p: &Principal, id: i64) -> Result<Option<OrgRow>> {
        let mut sql = Sql::new(&format!(
            "SELECT {COLS} FROM organizations o JOIN admin_units u ON u.code = o.admin_code WHERE o.id = "
        ));
        sql.int(id);
        push_org_scope(&mut sql, p);
        let row = sql.query().fetch_optional(&self.pool).await?;
        row.as_ref().map(org_from_row).transpose()
    }

    /// An organization seen only because it employs someone in the caller's area (an NGO
    /// seated elsewhere) is changed by those whose area holds its seat: 403 for others.
    async fn require_seat_in_reach(&self, p: &Principal, org: &OrgRow) -> Result<()> {
        match self.admin_unit(&org.org.admin_code).await? {
            Some(seat) if seat_in_reach(p, &seat) => Ok(()),
            _ => Err(StoreError::Forbidden),
        }
    }

    async fn check_org_refs(&self, p: &Principal, d: &OrgDraft, self_id: Option<i64>) -> Result<()> {
        let mut errs = ValidationErrors::default();
        match self.admin_unit(&d.admin_code).await? {
            None => errs.push(FieldError::new("admin_code", "unknown_admin_unit").with("value", &d.admin_code)),
            Some(u) if !p.scope.contains(&u) => errs.push(FieldError::new("admin_code", "out_of_scope")),
            Some(_) => {}
        }
        if let Some(reg) = &d.registration_no {
            let row = sqlx::query("SELECT id FROM organizations WHERE registration_no = $1 AND id <> $2")
                .bind(reg)
                .bind(self_id.unwrap_or(0))
                .fetch_optional(&self.pool)
                .await?;
            if let Some(r) = row {
                let id: i64 = r.try_get(0)?;
                let mut e = FieldError::new("registration_no", "duplicate_registration_no");
                if self.get_org(p, id).await?.is_some() {
                    e = e.with("existing_id", id);
                }
                errs.push(e);
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Invalid(errs))
        }
    }

    pub async fn create_org(&self, p: &Principal, input: &OrgInput) -> Result<OrgRow> {
        p.require(Action::EditOrg, Target::Any)?;
        let d = validate_org(input)?;
        self.check_org_refs(p, &d, None).await?;
        let mut tx = self.begin_write().await?;
        let id = insert_org(&mut tx, &d).await?;
        record_audit(&mut tx, p, "create", "organization", &id.to_string(), None, Some(&d)).await?;
        tx.commit().await?;
        self.get_org(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// Applies the fields present in `patch`; with `expected`, only if the record is still at
    /// that version (else [`StoreError::Stale`], nothing changed).
    pub async fn update_org(&self, p: &Principal, id: i64, patch: &OrgInput, expected: Option<i64>) -> Result<OrgRow> {
        let existing = self.get_org(p, id).await?.ok_or(StoreError::NotFound)?;
        check_version(existing.org.version, expected)?;
        p.require(Action::EditOrg, Target::Any)?;
        self.require_seat_in_reach(p, &existing).await?;
        let before = existing.org.draft();
        let d = validate_org(&OrgInput::from_draft(&before).overlay(patch.clone()))?;
        if d == before {
            return Ok(existing);
        }
        self.check_org_refs(p, &d, Some(id)).await?;
        // Lock the row, read it again and apply the patch to what is stored (as for workers:
        // a concurrent edit of other fields survives, and the audit's "before" is true).
        let mut tx = self.begin_write().await?;
        lock_existing(&mut tx, "organizations", id, expected).await?;
        let stored = org_on(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        if stored.org.admin_code != existing.org.admin_code {
            // Moved meanwhile: changed only by those whose area holds its new seat.
            self.require_seat_in_reach(p, &stored).await?;
        }
        let before = stored.org.draft();
        let d = validate_org(&OrgInput::from_draft(&before).overlay(patch.clone()))?;
        if d == before {
            tx.rollback().await?;
            return Ok(existing);
        }
        sqlx::query(
            "UPDATE organizations SET name_km = $1, name_en = $2, kind = $3, registration_no = $4, admin_code = $5, \
             phone = $6, email = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(&d.name_km)
        .bind(&d.name_en)
        .bind(d.kind.code())
        .bind(&d.registration_no)
        .bind(&d.admin_code)
        .bind(&d.phone)
        .bind(&d.email)
        .bind(now_text())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        record_audit(&mut tx, p, "update", "organization", &id.to_string(), Some(&before), Some(&d)).await?;
        tx.commit().await?;
        self.get_org(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// Deletes an organization that no worker, posting or account refers to.
    /// With `expected`, only if the record is still at that version.
    pub async fn delete_org(&self, p: &Principal, id: i64, expected: Option<i64>) -> Result<()> {
        let existing = self.get_org(p, id).await?.ok_or(StoreError::NotFound)?;
        p.require(Action::DeleteOrg, Target::Any)?;
        self.require_seat_in_reach(p, &existing).await?;
        let refs: i64 = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM workers WHERE org_id = $1) + (SELECT COUNT(*) FROM postings WHERE org_id = $1) \
             + (SELECT COUNT(*) FROM users WHERE org_id = $1)",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        if refs > 0 {
            return Err(StoreError::Conflict(format!("organization {id} is referred to by {refs} records")));
        }
        let mut tx = self.begin_write().await?;
        // Locked, then read: the audit keeps the record as it was when deleted.
        lock_existing(&mut tx, "organizations", id, expected).await?;
        let before = org_on(&mut tx, id).await?.ok_or(StoreError::NotFound)?.org.draft();
        sqlx::query("DELETE FROM organizations WHERE id = $1").bind(id).execute(&mut *tx).await?;
        record_audit(&mut tx, p, "delete", "organization", &id.to_string(), Some(&before), None).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An organization as stored, read on a connection (no scope: the caller has checked it).
async fn org_on(conn: &mut AnyConnection, id: i64) -> Result<Option<OrgRow>> {
    let mut sql = Sql::new(&format!(
        "SELECT {COLS} FROM organizations o JOIN admin_units u ON u.code = o.admin_code WHERE o.id = "
    ));
    sql.int(id);
    sql.query().fetch_optional(&mut *conn).await?.as_ref().map(org_from_row).transpose()
}

pub(crate) async fn insert_org(tx: &mut sqlx::Transaction<'_, sqlx::Any>, d: &OrgDraft) -> Result<i64> {
    let now = now_text();
    let row = sqlx::query(
        "INSERT INTO organizations (name_km, name_en, kind, registration_no, admin_code, phone, email, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&d.name_km)
    .bind(&d.name_en)
    .bind(d.kind.code())
    .bind(&d.registration_no)
    .bind(&d.admin_code)
    .bind(&d.phone)
    .bind(&d.email)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

impl komlang_core::Versioned for OrgRow {
    fn version(&self) -> i64 {
        self.org.version
    }
}
