//! Training events: their participants, attendance and results, and the events export.

use std::collections::HashMap;

use chrono::NaiveDate;
use komlang_core::training::*;
use komlang_core::*;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::{h, minutes};
use crate::common::audit::record_audit;
use crate::common::rows::{date_col, parse_col};
use crate::common::scope::{push_area, push_worker_scope};
use crate::common::sql::{check_version, lock_existing, Sql};
use crate::workers::{brief_from_row, WorkerBrief, BRIEF_COLS};
use crate::{now_text, Page, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TrainingEvent {
    pub id: i64,
    pub course_id: i64,
    pub course_code: String,
    pub course_title_en: String,
    pub course_title_km: String,
    pub programme_id: Option<i64>,
    pub programme_code: Option<String>,
    pub institution_id: Option<i64>,
    pub institution_code: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub starts_on: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub ends_on: NaiveDate,
    /// Days from start to end, both included.
    pub days: u32,
    pub place_code: String,
    pub place_name_en: String,
    pub place_name_km: String,
    pub venue: Option<String>,
    pub trainers: Option<String>,
    /// What a full attendance earns.
    pub hours: Hours,
    pub credits: f64,
    /// Participants the caller sees.
    pub participants: i64,
    /// Of those, who passed.
    pub passed: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// Raised by every change: send it back (`If-Match`, a form's `version`) to change the
    /// record only if nobody else has changed it meanwhile.
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Participant {
    pub event_id: i64,
    pub worker: WorkerBrief,
    pub days_attended: Option<u32>,
    pub hours: Hours,
    /// By the credit rule; only a passed result earns them.
    pub credits: f64,
    pub result: TrainingResult,
    pub updated_by: String,
    pub updated_at: String,
    /// Raised by every change: send it back (`If-Match`, a form's `version`) to change the
    /// record only if nobody else has changed it meanwhile.
    pub version: i64,
}

/// Which events a list shows. Empty fields mean "no filter".
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EventQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Province or district code: events placed there.
    pub place: Option<String>,
    pub programme_id: Option<i64>,
    pub course_id: Option<i64>,
    pub page: i64,
    pub per_page: i64,
}

/// Events (`e`) with their course, programme, institution and place (`u`, for scope filters).
const EVENT_FROM: &str = "FROM training_events e JOIN training_courses c ON c.id = e.course_id \
     LEFT JOIN training_programmes p ON p.id = c.programme_id \
     LEFT JOIN training_institutions i ON i.id = e.institution_id \
     JOIN admin_units u ON u.code = e.place_code";

const EVENT_COLS: &str = "e.id, e.course_id, c.code AS course_code, c.title_en AS course_title_en, \
     c.title_km AS course_title_km, c.programme_id, p.code AS programme_code, e.institution_id, \
     i.code AS institution_code, e.starts_on, e.ends_on, e.place_code, u.name_en AS place_name_en, \
     u.name_km AS place_name_km, e.venue, e.trainers, e.teaching_minutes, e.lab_minutes, e.field_minutes, \
     e.created_by, e.created_at, e.updated_at, e.version";

fn event_from_row(r: &AnyRow, participants: i64, passed: i64) -> Result<TrainingEvent> {
    let m = minutes(r, "")?;
    let starts_on = date_col(r, "starts_on")?;
    let ends_on = date_col(r, "ends_on")?;
    Ok(TrainingEvent {
        id: r.try_get("id")?,
        course_id: r.try_get("course_id")?,
        course_code: r.try_get("course_code")?,
        course_title_en: r.try_get("course_title_en")?,
        course_title_km: r.try_get("course_title_km")?,
        programme_id: r.try_get("programme_id")?,
        programme_code: r.try_get("programme_code")?,
        institution_id: r.try_get("institution_id")?,
        institution_code: r.try_get("institution_code")?,
        starts_on,
        ends_on,
        days: ((ends_on - starts_on).num_days() + 1).max(1) as u32,
        place_code: r.try_get("place_code")?,
        place_name_en: r.try_get("place_name_en")?,
        place_name_km: r.try_get("place_name_km")?,
        venue: r.try_get("venue")?,
        trainers: r.try_get("trainers")?,
        hours: m.hours(),
        credits: m.credits(),
        participants,
        passed,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        version: r.try_get("version")?,
    })
}

/// Columns of the events export, in order.
pub const EVENT_EXPORT_COLUMNS: &[&str] = &[
    "event_id",
    "course_code",
    "course_title_en",
    "programme",
    "institution",
    "starts_on",
    "ends_on",
    "place_code",
    "place_name_en",
    "venue",
    "trainers",
    "worker_id",
    "name_latin",
    "name_km",
    "days_attended",
    "teaching_hours",
    "lab_hours",
    "field_hours",
    "credits",
    "result",
];

impl Store {
    pub async fn training_events(&self, p: &Principal, q: &EventQuery) -> Result<Page<TrainingEvent>> {
        let per_page = q.per_page.clamp(1, 500);
        let page = q.page.max(1);
        p.require(Action::ReadTrainingEvents, Target::Any)?;
        let mut f = Sql::for_engine(" WHERE 1 = 1", self.engine);
        push_area(&mut f, &p.scope);
        if let Some(d) = q.from {
            f.push(" AND e.ends_on >= ").text(d.to_string());
        }
        if let Some(d) = q.to {
            f.push(" AND e.starts_on <= ").text(d.to_string());
        }
        if let Some(place) = q.place.non_blank() {
            f.push(" AND (u.province_code = ").text(place).push(" OR u.district_code = ").text(place);
            f.push(" OR u.code = ").text(place).push(")");
        }
        if let Some(id) = q.programme_id {
            f.push(" AND c.programme_id = ").int(id);
        }
        if let Some(id) = q.course_id {
            f.push(" AND e.course_id = ").int(id);
        }
        let mut count = Sql::for_engine(&format!("SELECT COUNT(*) {EVENT_FROM}"), self.engine);
        count.append(&f);
        let total: i64 = count.query().fetch_one(&self.pool).await?.try_get(0)?;
        let mut sql = Sql::for_engine(&format!("SELECT {EVENT_COLS} {EVENT_FROM}"), self.engine);
        sql.append(&f);
        sql.push(" ORDER BY e.starts_on DESC, e.id DESC LIMIT ")
            .int(per_page)
            .push(" OFFSET ")
            .int(crate::common::sql::offset(page, per_page));
        let rows = sql.query().fetch_all(&self.pool).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.try_get("id")).collect::<std::result::Result<_, _>>()?;
        let counts = self.participant_counts(p, &ids).await?;
        let items = rows
            .iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let (n, passed) = counts.get(&id).copied().unwrap_or((0, 0));
                event_from_row(r, n, passed)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, total_is_lower_bound: false, page, per_page })
    }

    /// Participants and passes per event, counting only the workers the caller sees.
    async fn participant_counts(&self, p: &Principal, ids: &[i64]) -> Result<HashMap<i64, (i64, i64)>> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut sql = Sql::for_engine(
            "SELECT tp.event_id, COUNT(*) AS n, CAST(SUM(CASE WHEN tp.result = 'passed' THEN 1 ELSE 0 END) AS BIGINT) AS passed \
             FROM training_participants tp JOIN workers w ON w.id = tp.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code WHERE tp.event_id IN (",
            self.engine,
        );
        for (k, id) in ids.iter().enumerate() {
            if k > 0 {
                sql.push(", ");
            }
            sql.int(*id);
        }
        sql.push(")");
        push_worker_scope(&mut sql, &p.worker_scope());
        sql.push(" GROUP BY tp.event_id");
        for r in sql.query().fetch_all(&self.pool).await? {
            let passed: Option<i64> = r.try_get("passed")?;
            out.insert(r.try_get::<i64, _>("event_id")?, (r.try_get("n")?, passed.unwrap_or(0)));
        }
        Ok(out)
    }

    /// The event if it is placed in the caller's scope; Forbidden for accounts that see no
    /// events ([`komlang_core::Action::ReadTrainingEvents`]).
    pub async fn training_event(&self, p: &Principal, id: i64) -> Result<Option<TrainingEvent>> {
        p.require(Action::ReadTrainingEvents, Target::Any)?;
        let mut sql = Sql::for_engine(&format!("SELECT {EVENT_COLS} {EVENT_FROM} WHERE e.id = "), self.engine);
        sql.int(id);
        push_area(&mut sql, &p.scope);
        let Some(row) = sql.query().fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let counts = self.participant_counts(p, &[id]).await?;
        let (n, passed) = counts.get(&id).copied().unwrap_or((0, 0));
        Ok(Some(event_from_row(&row, n, passed)?))
    }

    /// Whether the caller may run events placed at `place_code`.
    pub async fn may_run_training_at(&self, p: &Principal, place_code: &str) -> Result<bool> {
        if !p.may(Action::RunTraining) {
            return Ok(false);
        }
        let mut sql = Sql::for_engine("SELECT 1 FROM admin_units u WHERE u.code = ", self.engine);
        sql.text(place_code);
        push_area(&mut sql, &p.scope);
        Ok(sql.query().fetch_optional(&self.pool).await?.is_some())
    }

    async fn check_event(&self, p: &Principal, input: &EventInput) -> Result<(EventDraft, Minutes)> {
        let d = validate_event(input)?;
        let mut errs = ValidationErrors::default();
        let course = self.course(d.course_id).await?;
        if course.is_none() {
            errs.push(FieldError::new("course_id", "unknown_course").with("value", d.course_id));
        }
        if let Some(i) = d.institution_id {
            if sqlx::query("SELECT 1 FROM training_institutions WHERE id = $1")
                .bind(i)
                .fetch_optional(&self.pool)
                .await?
                .is_none()
            {
                errs.push(FieldError::new("institution_id", "unknown_institution").with("value", i));
            }
        }
        if sqlx::query("SELECT 1 FROM admin_units WHERE code = $1")
            .bind(&d.place_code)
            .fetch_optional(&self.pool)
            .await?
            .is_none()
        {
            errs.push(FieldError::new("place_code", "unknown_admin_unit").with("value", &d.place_code));
        } else if !self.may_run_training_at(p, &d.place_code).await? {
            errs.push(FieldError::new("place_code", "outside_scope").with("value", &d.place_code));
        }
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let minutes = match (d.minutes, course) {
            (Some(m), _) => m,
            (None, Some(c)) => c.hours.to_minutes("hours.", &mut ValidationErrors::default()),
            (None, None) => Minutes::default(),
        };
        Ok((d, minutes))
    }

    pub async fn create_training_event(&self, p: &Principal, input: &EventInput) -> Result<TrainingEvent> {
        p.require(Action::RunTraining, Target::Any)?;
        let (d, m) = self.check_event(p, input).await?;
        let now = now_text();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO training_events (course_id, institution_id, starts_on, ends_on, place_code, venue, trainers, \
             teaching_minutes, lab_minutes, field_minutes, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(d.course_id)
        .bind(d.institution_id)
        .bind(d.starts_on.to_string())
        .bind(d.ends_on.to_string())
        .bind(&d.place_code)
        .bind(&d.venue)
        .bind(&d.trainers)
        .bind(m.teaching)
        .bind(m.lab)
        .bind(m.field)
        .bind(&p.username)
        .bind(&now)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        let after = EventDraft { minutes: Some(m), ..d };
        record_audit(&mut tx, p, "create", "training_event", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.training_event(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// The event if the caller may run it; NotFound when they do not see it, Forbidden when
    /// they see it but may not run it (or see no events at all).
    pub async fn runnable_event(&self, p: &Principal, id: i64) -> Result<TrainingEvent> {
        let ev = self.training_event(p, id).await?.ok_or(StoreError::NotFound)?;
        if !self.may_run_training_at(p, &ev.place_code).await? {
            return Err(StoreError::Forbidden);
        }
        Ok(ev)
    }

    /// Changes an event; with `expected`, only if it is still at that version.
    pub async fn update_training_event(
        &self,
        p: &Principal,
        id: i64,
        input: &EventInput,
        expected: Option<i64>,
    ) -> Result<TrainingEvent> {
        let seen = self.runnable_event(p, id).await?;
        check_version(seen.version, expected)?;
        let (d, m) = self.check_event(p, input).await?;
        // Locked, then read again: the audit's "before" is what a concurrent change stored, and
        // a change that moved the event out of the caller's reach meanwhile is not overwritten.
        let mut tx = self.begin_write().await?;
        lock_existing(&mut tx, "training_events", id, expected).await?;
        let row = sqlx::query(&format!("SELECT {EVENT_COLS} {EVENT_FROM} WHERE e.id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let before = event_from_row(&row, 0, 0)?;
        if before.place_code != seen.place_code && !self.may_run_training_at(p, &before.place_code).await? {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE training_events SET course_id = $1, institution_id = $2, starts_on = $3, ends_on = $4, \
             place_code = $5, venue = $6, trainers = $7, teaching_minutes = $8, lab_minutes = $9, field_minutes = $10, \
             updated_at = $11 WHERE id = $12",
        )
        .bind(d.course_id)
        .bind(d.institution_id)
        .bind(d.starts_on.to_string())
        .bind(d.ends_on.to_string())
        .bind(&d.place_code)
        .bind(&d.venue)
        .bind(&d.trainers)
        .bind(m.teaching)
        .bind(m.lab)
        .bind(m.field)
        .bind(now_text())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let after = EventDraft { minutes: Some(m), ..d };
        let before = EventDraft {
            course_id: before.course_id,
            institution_id: before.institution_id,
            starts_on: before.starts_on,
            ends_on: before.ends_on,
            place_code: before.place_code,
            venue: before.venue,
            trainers: before.trainers,
            minutes: Some(before.hours.to_minutes("", &mut ValidationErrors::default())),
        };
        record_audit(&mut tx, p, "update", "training_event", &id.to_string(), Some(&before), Some(&after)).await?;
        tx.commit().await?;
        self.training_event(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// The event's participants the caller sees, by name.
    pub async fn event_participants(&self, p: &Principal, event_id: i64) -> Result<Vec<Participant>> {
        self.training_event(p, event_id).await?.ok_or(StoreError::NotFound)?;
        self.participants_of(p, event_id).await
    }

    /// The participants of an event the caller is known to see, among the workers they see.
    async fn participants_of(&self, p: &Principal, event_id: i64) -> Result<Vec<Participant>> {
        let mut sql = Sql::for_engine(
            &format!(
                "SELECT {BRIEF_COLS}, tp.event_id, tp.days_attended, tp.teaching_minutes, tp.lab_minutes, \
                 tp.field_minutes, tp.result, tp.updated_by, tp.updated_at, tp.version FROM training_participants tp \
                 JOIN workers w ON w.id = tp.worker_id JOIN admin_units u ON u.code = w.workplace_code \
                 WHERE tp.event_id = "
            ),
            self.engine,
        );
        sql.int(event_id);
        push_worker_scope(&mut sql, &p.worker_scope());
        sql.push(" ORDER BY w.name_latin, w.id");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(participant_from_row).collect()
    }

    /// Adds workers of the registry to an event (result `pending`). A worker the caller does
    /// not see is refused as not in the registry; one already there is left as is.
    pub async fn add_participants(&self, p: &Principal, event_id: i64, worker_ids: &[i64]) -> Result<usize> {
        self.runnable_event(p, event_id).await?;
        let mut errs = ValidationErrors::default();
        if worker_ids.is_empty() {
            errs.push(FieldError::new("worker_ids", "required"));
        }
        for id in worker_ids {
            if self.get_worker(p, *id).await?.is_none() {
                errs.push(FieldError::new("worker_ids", "not_in_registry").with("value", id));
            }
        }
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let now = now_text();
        let mut tx = self.begin_write().await?;
        let mut added = 0;
        for id in worker_ids {
            let r = sqlx::query(
                "INSERT INTO training_participants (event_id, worker_id, days_attended, teaching_minutes, lab_minutes, \
                 field_minutes, result, updated_by, updated_at) VALUES ($1, $2, NULL, 0, 0, 0, 'pending', $3, $4) \
                 ON CONFLICT (event_id, worker_id) DO NOTHING",
            )
            .bind(event_id)
            .bind(id)
            .bind(&p.username)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() == 1 {
                added += 1;
                let after = serde_json::json!({"event_id": event_id, "worker_id": id, "result": "pending"});
                record_audit(
                    &mut tx,
                    p,
                    "create",
                    "training_participant",
                    &format!("{event_id}/{id}"),
                    None,
                    Some(&after),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Records a participant's attendance, hours and result; with `expected`, only if the
    /// participant's record is still at that version.
    pub async fn record_attendance(
        &self,
        p: &Principal,
        event_id: i64,
        worker_id: i64,
        input: &AttendanceInput,
        expected: Option<i64>,
    ) -> Result<Participant> {
        let ev = self.runnable_event(p, event_id).await?;
        let before = self
            .participants_of(p, event_id)
            .await?
            .into_iter()
            .find(|x| x.worker.id == worker_id)
            .ok_or(StoreError::NotFound)?;
        let mut e = ValidationErrors::default();
        let event_minutes = ev.hours.to_minutes("", &mut e);
        check_version(before.version, expected)?;
        let d = validate_attendance(input, &event_minutes, ev.days)?;
        let mut tx = self.begin_write().await?;
        let before = locked_participant(&mut tx, event_id, before, expected).await?;
        sqlx::query(
            "UPDATE training_participants SET days_attended = $1, teaching_minutes = $2, lab_minutes = $3, \
             field_minutes = $4, result = $5, updated_by = $6, updated_at = $7 WHERE event_id = $8 AND worker_id = $9",
        )
        .bind(d.days_attended.map(|x| x as i64))
        .bind(d.minutes.teaching)
        .bind(d.minutes.lab)
        .bind(d.minutes.field)
        .bind(d.result.code())
        .bind(&p.username)
        .bind(now_text())
        .bind(event_id)
        .bind(worker_id)
        .execute(&mut *tx)
        .await?;
        let key = format!("{event_id}/{worker_id}");
        let b =
            serde_json::json!({"days_attended": before.days_attended, "hours": before.hours, "result": before.result});
        let a = serde_json::json!({"days_attended": d.days_attended, "hours": d.minutes.hours(), "result": d.result});
        record_audit(&mut tx, p, "update", "training_participant", &key, Some(&b), Some(&a)).await?;
        tx.commit().await?;
        self.participants_of(p, event_id)
            .await?
            .into_iter()
            .find(|x| x.worker.id == worker_id)
            .ok_or(StoreError::NotFound)
    }

    /// Records every participant still `pending` (among those the caller sees) as passed, with
    /// the event's hours and days: what an organizer does after an event, before correcting the
    /// exceptions one by one. Answers how many were recorded.
    pub async fn pass_pending(&self, p: &Principal, event_id: i64) -> Result<usize> {
        let ev = self.runnable_event(p, event_id).await?;
        let pending: Vec<Participant> = self
            .participants_of(p, event_id)
            .await?
            .into_iter()
            .filter(|x| x.result == TrainingResult::Pending)
            .collect();
        let m = ev.hours.to_minutes("", &mut ValidationErrors::default());
        let now = now_text();
        let mut tx = self.begin_write().await?;
        let mut recorded = 0;
        for x in &pending {
            let n = sqlx::query(
                "UPDATE training_participants SET days_attended = $1, teaching_minutes = $2, lab_minutes = $3, \
                 field_minutes = $4, result = 'passed', updated_by = $5, updated_at = $6, version = version + 1 \
                 WHERE event_id = $7 AND worker_id = $8 AND result = 'pending'",
            )
            .bind(ev.days as i64)
            .bind(m.teaching)
            .bind(m.lab)
            .bind(m.field)
            .bind(&p.username)
            .bind(&now)
            .bind(event_id)
            .bind(x.worker.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // Recorded meanwhile by someone else (or removed): left as they stored it.
            if n == 0 {
                continue;
            }
            recorded += 1;
            let key = format!("{event_id}/{}", x.worker.id);
            let b = serde_json::json!({"days_attended": x.days_attended, "hours": x.hours, "result": x.result});
            let a = serde_json::json!({"days_attended": ev.days, "hours": ev.hours, "result": TrainingResult::Passed});
            record_audit(&mut tx, p, "update", "training_participant", &key, Some(&b), Some(&a)).await?;
        }
        tx.commit().await?;
        Ok(recorded)
    }

    /// Removes a participant; with `expected`, only if their record is still at that version.
    pub async fn remove_participant(
        &self,
        p: &Principal,
        event_id: i64,
        worker_id: i64,
        expected: Option<i64>,
    ) -> Result<()> {
        self.runnable_event(p, event_id).await?;
        let before = self
            .participants_of(p, event_id)
            .await?
            .into_iter()
            .find(|x| x.worker.id == worker_id)
            .ok_or(StoreError::NotFound)?;
        check_version(before.version, expected)?;
        let mut tx = self.begin_write().await?;
        let before = locked_participant(&mut tx, event_id, before, expected).await?;
        sqlx::query("DELETE FROM training_participants WHERE event_id = $1 AND worker_id = $2")
            .bind(event_id)
            .bind(worker_id)
            .execute(&mut *tx)
            .await?;
        record_audit(
            &mut tx,
            p,
            "delete",
            "training_participant",
            &format!("{event_id}/{worker_id}"),
            Some(&before),
            None::<&Participant>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Events of the query with every participant the caller sees, as rows of
    /// [`EVENT_EXPORT_COLUMNS`] (an event without visible participants gives one row).
    pub async fn event_export_rows(&self, p: &Principal, q: &EventQuery) -> Result<Vec<Vec<String>>> {
        let mut q = q.clone();
        q.page = 1;
        q.per_page = 500;
        let mut out = Vec::new();
        loop {
            let page = self.training_events(p, &q).await?;
            for e in &page.items {
                let head = vec![
                    e.id.to_string(),
                    e.course_code.clone(),
                    e.course_title_en.clone(),
                    e.programme_code.clone().unwrap_or_default(),
                    e.institution_code.clone().unwrap_or_default(),
                    e.starts_on.to_string(),
                    e.ends_on.to_string(),
                    e.place_code.clone(),
                    e.place_name_en.clone(),
                    e.venue.clone().unwrap_or_default(),
                    e.trainers.clone().unwrap_or_default(),
                ];
                let parts = self.participants_of(p, e.id).await?;
                if parts.is_empty() {
                    let mut r = head.clone();
                    r.extend(std::iter::repeat_n(String::new(), 9));
                    out.push(r);
                }
                for x in parts {
                    let mut r = head.clone();
                    r.extend([
                        x.worker.id.to_string(),
                        x.worker.name_latin.clone(),
                        x.worker.name_km.clone(),
                        x.days_attended.map(|d| d.to_string()).unwrap_or_default(),
                        h(x.hours.teaching),
                        h(x.hours.lab),
                        h(x.hours.field),
                        h(x.credits),
                        x.result.code().into(),
                    ]);
                    out.push(r);
                }
            }
            if q.page >= page.pages() {
                break;
            }
            q.page += 1;
        }
        Ok(out)
    }
}

fn participant_from_row(r: &AnyRow) -> Result<Participant> {
    attendance_from_row(r, r.try_get("event_id")?, brief_from_row(r)?)
}

/// A participant's attendance, hours and result as a row holds them.
fn attendance_from_row(r: &AnyRow, event_id: i64, worker: WorkerBrief) -> Result<Participant> {
    let m = minutes(r, "")?;
    let result = parse_col(r, "result", TrainingResult::parse)?;
    let days: Option<i64> = r.try_get("days_attended")?;
    Ok(Participant {
        event_id,
        worker,
        days_attended: days.map(|d| d.max(0) as u32),
        hours: m.hours(),
        credits: if result == TrainingResult::Passed { m.credits() } else { 0.0 },
        result,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
        version: r.try_get("version")?,
    })
}

/// Locks a participant's row (raising its version, as `common::sql::lock_version` does for records with
/// an id) and reads its attendance again, over what the caller read before (the worker and the
/// event stay): the audit's "before" is what a concurrent change stored. NotFound when the
/// participant was removed meanwhile, Stale when changed meanwhile and `expected` is given.
async fn locked_participant(
    conn: &mut AnyConnection,
    event_id: i64,
    seen: Participant,
    expected: Option<i64>,
) -> Result<Participant> {
    let locked = sqlx::query(
        "UPDATE training_participants SET version = version + 1 WHERE event_id = $1 AND worker_id = $2 \
         RETURNING version",
    )
    .bind(event_id)
    .bind(seen.worker.id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    check_version(locked.try_get::<i64, _>(0)? - 1, expected)?;
    let r = sqlx::query(
        "SELECT tp.days_attended, tp.teaching_minutes, tp.lab_minutes, tp.field_minutes, tp.result, tp.updated_by, \
         tp.updated_at, tp.version FROM training_participants tp WHERE tp.event_id = $1 AND tp.worker_id = $2",
    )
    .bind(event_id)
    .bind(seen.worker.id)
    .fetch_one(&mut *conn)
    .await?;
    attendance_from_row(&r, event_id, seen.worker)
}

komlang_core::versioned!(TrainingEvent, Participant);
