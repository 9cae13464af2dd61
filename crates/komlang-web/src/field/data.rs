//! `GET /field/data`: what a signed-in account keeps on its device to work without a
//! connection. Only what the account may see: its own record; for accounts that keep workers'
//! records, the workers of its scope (at most [`FIELD_WORKERS`]) with their current posting;
//! for those who run training, the events of the last 30 days and the coming ones at places
//! they may run training, with the participants they see; and the choices of the forms, in the
//! account's language.

use axum::extract::State;
use axum::Json;
use komlang_core::competency::{AssessmentKind, Rating};
use komlang_core::training::TrainingResult;
use komlang_core::*;
use komlang_store::{EventQuery, Participant, TrainingEvent};
use serde::Serialize;

use crate::common::names::pick;
use crate::common::{today, Ctx, I18n, PageError};
use crate::AppState;

/// Workers a device keeps at most: a district's few hundred, with room.
pub const FIELD_WORKERS: i64 = 2000;

#[derive(Serialize)]
pub struct FieldWorker {
    pub id: i64,
    pub version: i64,
    pub name_km: String,
    pub name_latin: String,
    pub sex: String,
    pub workplace_code: String,
    pub phone: String,
    pub email: String,
    pub status: String,
    pub cadre: String,
    pub role: String,
}

impl FieldWorker {
    pub fn of(w: &Worker) -> Self {
        FieldWorker {
            id: w.id,
            version: w.version,
            name_km: w.name_km.clone(),
            name_latin: w.name_latin.clone(),
            sex: w.sex.code().into(),
            workplace_code: w.workplace_code.clone(),
            phone: w.phone.clone().unwrap_or_default(),
            email: w.email.clone().unwrap_or_default(),
            status: w.status.code().into(),
            cadre: w.cadre.code().into(),
            role: w.role.code().into(),
        }
    }
}

#[derive(Serialize)]
pub struct FieldParticipant {
    pub worker_id: i64,
    pub version: i64,
    pub name: String,
    pub days_attended: String,
    pub result: String,
}

impl FieldParticipant {
    pub fn of(x: &Participant) -> Self {
        FieldParticipant {
            worker_id: x.worker.id,
            version: x.version,
            name: format!("{} · {}", x.worker.name_km, x.worker.name_latin),
            days_attended: x.days_attended.map(|d| d.to_string()).unwrap_or_default(),
            result: x.result.code().into(),
        }
    }
}

#[derive(Serialize)]
struct FieldEvent {
    id: i64,
    title: String,
    starts_on: String,
    ends_on: String,
    days: u32,
    place: String,
    participants: Vec<FieldParticipant>,
}

/// The competency framework as a self-assessment form needs it: each competency with its
/// indicators, in the account's language.
#[derive(Serialize)]
struct SelfAssessmentForm {
    framework_version: String,
    competencies: Vec<FormCompetency>,
}

#[derive(Serialize)]
struct FormCompetency {
    code: String,
    name: String,
    indicators: Vec<FormIndicator>,
}

#[derive(Serialize)]
struct FormIndicator {
    code: String,
    text: String,
}

#[derive(Serialize)]
struct May {
    add_worker: bool,
    edit_worker: bool,
    run_training: bool,
}

#[derive(Serialize)]
pub(super) struct FieldData {
    username: String,
    may: May,
    me: Option<FieldWorker>,
    workers: Vec<FieldWorker>,
    /// More workers are in scope than the device keeps.
    truncated: bool,
    events: Vec<FieldEvent>,
    /// For a worker's own account: the form of a self-assessment.
    self_assessment: Option<SelfAssessmentForm>,
    choices: serde_json::Map<String, serde_json::Value>,
    fetched_at: String,
}

/// A vocabulary's choices as the device's forms take them: `[code, label]`.
fn choices<T: Copy + crate::common::i18n::Labeled>(
    i: &I18n,
    all: &[T],
    code: fn(T) -> &'static str,
) -> serde_json::Value {
    crate::common::forms::choices(i, all, code, "").into_iter().map(|c| serde_json::json!([c.value, c.label])).collect()
}

pub(super) async fn field_data(State(app): State<AppState>, ctx: Ctx) -> Result<Json<FieldData>, PageError> {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let me = match p.worker_id {
        Some(id) => app.store.get_worker(&p, id).await?.map(|w| FieldWorker::of(&w)),
        None => None,
    };
    let self_assessment = match p.worker_id {
        Some(id) => self_assessment_form(&app, &p, &i, id).await?,
        None => None,
    };
    let keeps_records = p.may(Action::EditWorker) || p.may(Action::CreateWorker);
    let (workers, truncated) =
        if keeps_records { app.store.scope_workers(&p, FIELD_WORKERS).await? } else { (Vec::new(), false) };
    let mut events = Vec::new();
    if p.may(Action::RunTraining) {
        let q = EventQuery {
            from: today().checked_sub_days(chrono::Days::new(30)),
            page: 1,
            per_page: 50,
            ..Default::default()
        };
        let page = app.store.training_events(&p, &q).await?;
        for ev in page.items {
            if app.store.may_run_training_at(&p, &ev.place_code).await? {
                events.push(field_event(&app, &p, &i, &ev).await?);
            }
        }
    }
    let mut c = serde_json::Map::new();
    c.insert("sex".into(), choices(&i, Sex::ALL, Sex::code));
    c.insert("status".into(), choices(&i, EmploymentStatus::ALL, EmploymentStatus::code));
    c.insert("cadre".into(), choices(&i, Cadre::ALL, Cadre::code));
    c.insert("role".into(), choices(&i, WorkerRole::ALL, WorkerRole::code));
    c.insert("sector".into(), choices(&i, Sector::ALL, Sector::code));
    c.insert(
        "rating".into(),
        Rating::ALL
            .iter()
            .map(|r| serde_json::json!([r.value().to_string(), format!("{} · {}", r.value(), i.label(*r))]))
            .collect(),
    );
    c.insert(
        "result".into(),
        TrainingResult::ALL.iter().map(|r| serde_json::json!([r.code(), i.t(&r.label_key())])).collect(),
    );
    Ok(Json(FieldData {
        username: p.username.clone(),
        may: May {
            add_worker: p.may(Action::CreateWorker),
            edit_worker: p.may(Action::EditWorker),
            run_training: p.may(Action::RunTraining),
        },
        me,
        workers: workers.iter().map(FieldWorker::of).collect(),
        truncated,
        events,
        self_assessment,
        choices: c,
        fetched_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }))
}

/// The self-assessment form of the account's own record, when it may record one.
async fn self_assessment_form(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    worker_id: i64,
) -> Result<Option<SelfAssessmentForm>, PageError> {
    let Some(access) = app.store.assessment_access(p, worker_id).await? else { return Ok(None) };
    if !access.may_record(AssessmentKind::SelfAssessment) {
        return Ok(None);
    }
    let fw = app.store.current_framework().await?;
    let competencies = fw
        .competencies()
        .map(|(_, c)| FormCompetency {
            code: c.code.clone(),
            name: pick(i, &c.name_en, &c.name_km),
            indicators: c
                .indicators
                .iter()
                .map(|x| FormIndicator { code: x.code.clone(), text: pick(i, &x.text_en, &x.text_km) })
                .collect(),
        })
        .collect();
    Ok(Some(SelfAssessmentForm { framework_version: fw.version, competencies }))
}

async fn field_event(app: &AppState, p: &Principal, i: &I18n, ev: &TrainingEvent) -> Result<FieldEvent, PageError> {
    let participants = app.store.event_participants(p, ev.id).await?;
    Ok(FieldEvent {
        id: ev.id,
        title: format!("{} · {}", ev.course_code, pick(i, &ev.course_title_en, &ev.course_title_km)),
        starts_on: ev.starts_on.to_string(),
        ends_on: ev.ends_on.to_string(),
        days: ev.days,
        place: pick(i, &ev.place_name_en, &ev.place_name_km),
        participants: participants.iter().map(FieldParticipant::of).collect(),
    })
}
