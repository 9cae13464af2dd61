//! Supervision's pages: the figures by unit with the norms, the lists behind them, and one
//! worker's supervision with its forms (set or end the supervisor, record a session).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use chrono::NaiveDate;
use komlang_core::supervision::{Ineligible, SupervisionFunction, SupervisionModel, SupervisionNorms};
use komlang_core::*;
use komlang_store::supervision::{ListKind, ListRow, SummaryQuery, SummaryRow, WorkerSupervision};
use komlang_store::StoreError;
use serde::{Deserialize, Serialize};

use super::api::level_of;
use crate::common::export::{export_format, page_download, FormatParam};
use crate::common::form_box::{
    count, integer, messages, no_errors, query_string, typed_with_lists, values_of, vchoices, Fb, FormBox, FormMap,
};
use crate::common::names::pick;
use crate::common::{flash, layout, render_status, store_err, today, Choice, Ctx, I18n, Layout, PageResult};
use crate::AppState;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct SummaryFilters {
    pub level: String,
    pub parent: String,
}

pub struct UnitRow {
    pub row: SummaryRow,
    pub name: String,
    pub href: String,
    pub lists: String,
}

#[derive(Template)]
#[template(path = "supervision/summary.html")]
struct SummaryPage {
    l: Layout,
    levels: Vec<Choice>,
    parent: String,
    level_label: String,
    rows: Vec<UnitRow>,
    total: SummaryRow,
    norms_text: String,
    lists_href: String,
    /// The filters' query, for the download links.
    query: String,
    norms_form: Option<FormBox>,
}

fn cadre_list(i: &I18n, c: &[Cadre]) -> String {
    c.iter().map(|c| i.label(*c)).collect::<Vec<_>>().join(", ")
}

async fn summary_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: &SummaryFilters,
    failed: Option<(&FormMap, &ValidationErrors)>,
) -> PageResult {
    let i = ctx.i;
    let level = level_of(f.level.non_blank()).unwrap_or(AdminLevel::Province);
    let q = SummaryQuery { level, parent: f.parent.non_blank().map(String::from) };
    let items = app.store.supervision_summary(p, &q, today()).await.map_err(|e| store_err(ctx, e))?;
    let norms = app.store.supervision_norms().await?;
    let next = match level {
        AdminLevel::Province => Some(AdminLevel::District),
        AdminLevel::District => Some(AdminLevel::Commune),
        _ => None,
    };
    let mut total = SummaryRow::default();
    let rows = items
        .into_iter()
        .map(|r| {
            for (t, v) in [
                (&mut total.supervisors, r.supervisors),
                (&mut total.supervisees, r.supervisees),
                (&mut total.without_supervisor, r.without_supervisor),
                (&mut total.over_ratio, r.over_ratio),
                (&mut total.not_eligible, r.not_eligible),
                (&mut total.overdue, r.overdue),
            ] {
                *t += v;
            }
            UnitRow {
                name: pick(&i, &r.name_en, &r.name_km),
                href: next
                    .map(|n| format!("/supervision?{}", query_string(&[("level", n.code()), ("parent", &r.unit)])))
                    .unwrap_or_default(),
                lists: format!("/supervision/list?{}", query_string(&[("unit", &r.unit)])),
                row: r,
            }
        })
        .collect();
    let norms_form = if p.may(Action::KeepNorms) {
        let mut current = FormMap::new();
        for (k, v) in [
            ("dedicated_ratio", norms.dedicated_ratio),
            ("other_ratio", norms.other_ratio),
            ("years_required", norms.years_required),
            ("years_required_community", norms.years_required_community),
            ("overdue_days", norms.overdue_days),
        ] {
            current.insert(k.into(), v.to_string());
        }
        current.insert(
            "community_cadres".into(),
            norms.community_cadres.iter().map(|c| c.code()).collect::<Vec<_>>().join(" "),
        );
        current.insert(
            "qualified_cadres".into(),
            norms.qualified_cadres.iter().map(|c| c.code()).collect::<Vec<_>>().join(" "),
        );
        let none = no_errors();
        let (v, e) = failed.unwrap_or((&current, &none));
        let mut b = Fb::new(&i, "norms", v, e);
        for k in ["dedicated_ratio", "other_ratio", "years_required", "years_required_community", "overdue_days"] {
            b.add(k, &format!("supervision.{k}"), "number", true);
        }
        let cadres = vchoices(&i, Cadre::ALL, Cadre::code, Cadre::label_key);
        b.checkboxes("community_cadres", "supervision.community_cadres", &cadres);
        b.checkboxes("qualified_cadres", "supervision.qualified_cadres", &cadres);
        Some(b.finish(i.t("supervision.norms_title"), "/supervision/norms".into(), i.t("common.save")))
    } else {
        None
    };
    let levels = [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune]
        .iter()
        .map(|l| Choice { value: l.code().into(), label: i.label(*l), selected: *l == level })
        .collect();
    let norms_text = i.tp(
        "supervision.norms_text",
        &[
            ("dedicated", norms.dedicated_ratio.to_string()),
            ("other", norms.other_ratio.to_string()),
            ("years", norms.years_required.to_string()),
            ("community_years", norms.years_required_community.to_string()),
            ("community", cadre_list(&i, &norms.community_cadres)),
            ("qualified", cadre_list(&i, &norms.qualified_cadres)),
            ("days", norms.overdue_days.to_string()),
        ],
    );
    let l = layout(ctx, "supervision").await?;
    let view = SummaryPage {
        levels,
        parent: f.parent.trim().to_string(),
        level_label: i.label(level),
        lists_href: format!("/supervision/list?{}", query_string(&[("unit", f.parent.trim())])),
        query: query_string(&[("level", level.code()), ("parent", f.parent.trim())]),
        rows,
        total,
        norms_text,
        norms_form,
        l,
    };
    render_status(if failed.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }, &view)
}

pub(super) async fn summary_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<SummaryFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    summary_view(&app, &ctx, &p, &f, None).await
}

/// The summary shown (same level and parent) as a CSV or XLSX file.
pub(super) async fn export(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<SummaryFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let q = SummaryQuery {
        level: level_of(f.level.non_blank()).unwrap_or(AdminLevel::Province),
        parent: f.parent.non_blank().map(String::from),
    };
    let items = app.store.supervision_summary(&p, &q, today()).await.map_err(|e| store_err(&ctx, e))?;
    page_download(&ctx, "komlang-supervision", format, super::SUMMARY_COLUMNS, super::summary_cells(&items)).await
}

/// The norms, as posted.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct NormsForm {
    pub csrf: String,
    pub dedicated_ratio: String,
    pub other_ratio: String,
    pub years_required: String,
    pub years_required_community: String,
    pub overdue_days: String,
    #[serde(skip)]
    pub community_cadres: Vec<String>,
    #[serde(skip)]
    pub qualified_cadres: Vec<String>,
}

pub(super) async fn set_norms(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let (mut form, mut lists): (NormsForm, _) = typed_with_lists(pairs, &["community_cadres", "qualified_cadres"]);
    form.qualified_cadres = lists.pop().unwrap_or_default();
    form.community_cadres = lists.pop().unwrap_or_default();
    ctx.check_csrf(&form.csrf)?;
    let mut errs = no_errors();
    let mut n = |k: &str, v: &str| count(k, v, &mut errs);
    let values = [
        n("dedicated_ratio", &form.dedicated_ratio),
        n("other_ratio", &form.other_ratio),
        n("years_required", &form.years_required),
        n("years_required_community", &form.years_required_community),
        n("overdue_days", &form.overdue_days),
    ];
    let keys = ["dedicated_ratio", "other_ratio", "years_required", "years_required_community", "overdue_days"];
    for (k, v) in keys.iter().zip(&values) {
        if v.is_none() && errs.for_field(k).is_none() {
            errs.push(FieldError::new(k, "required"));
        }
    }
    let cadres = |v: &[String]| v.iter().filter_map(|c| Cadre::parse(c)).collect::<Vec<_>>();
    let result = match values {
        [Some(a), Some(b), Some(c), Some(d), Some(e)] if errs.is_empty() => {
            let norms = SupervisionNorms {
                dedicated_ratio: a,
                other_ratio: b,
                years_required: c,
                years_required_community: d,
                overdue_days: e,
                community_cadres: cadres(&form.community_cadres),
                qualified_cadres: cadres(&form.qualified_cadres),
            };
            app.store.set_supervision_norms(&p, &norms).await.map(|_| ())
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/supervision#norms").into_response())
        }
        Err(StoreError::Invalid(e)) => {
            let mut v = values_of(&form);
            v.insert("community_cadres".into(), form.community_cadres.join(" "));
            v.insert("qualified_cadres".into(), form.qualified_cadres.join(" "));
            summary_view(&app, &ctx, &p, &SummaryFilters::default(), Some((&v, &e))).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct ListFilters {
    pub kind: String,
    pub unit: String,
}

pub struct ListLine {
    pub row: ListRow,
    pub name: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "supervision/list.html")]
struct ListPage {
    l: Layout,
    kinds: Vec<Choice>,
    unit: String,
    title: String,
    lines: Vec<ListLine>,
}

fn ineligible_text(i: &I18n, x: &Ineligible) -> String {
    match x {
        Ineligible::Qualification => i.t("supervision.not_qualified"),
        Ineligible::Experience { have, need } => i.tp(
            "supervision.too_little_experience",
            &[("have", have.map(|h| h.to_string()).unwrap_or_else(|| "?".into())), ("need", need.to_string())],
        ),
    }
}

pub(super) async fn list_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<ListFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let kind = ListKind::parse(&f.kind).unwrap_or(ListKind::WithoutSupervisor);
    let rows =
        app.store.supervision_list(&p, kind, f.unit.non_blank(), today()).await.map_err(|e| store_err(&ctx, e))?;
    let lines = rows
        .into_iter()
        .map(|r| {
            let mut detail = Vec::new();
            if let (Some(n), Some(limit)) = (r.supervisees, r.limit) {
                detail.push(i.tp("supervision.ratio_of", &[("n", n.to_string()), ("limit", limit.to_string())]));
            }
            detail.extend(r.ineligible.iter().map(|x| ineligible_text(&i, x)));
            if kind == ListKind::Overdue {
                detail.push(match &r.last_session {
                    Some(d) => i.tp("supervision.last_session", &[("date", d.clone())]),
                    None => i.t("supervision.never"),
                });
            }
            ListLine { name: pick(&i, &r.worker.name_latin, &r.worker.name_km), detail: detail.join(" · "), row: r }
        })
        .collect();
    let kinds = ListKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.code().into(),
            label: i.t(&format!("supervision.{}", k.code())),
            selected: *k == kind,
        })
        .collect();
    let l = layout(&ctx, "supervision").await?;
    render_status(
        StatusCode::OK,
        &ListPage {
            kinds,
            unit: f.unit.trim().to_string(),
            title: i.t(&format!("supervision.{}", kind.code())),
            lines,
            l,
        },
    )
}

/// A worker as a page names them: a worker outside the caller's reach (id 0) is not named.
fn name_of(i: &I18n, w: &komlang_store::WorkerBrief) -> String {
    if w.id == 0 {
        i.t("supervision.outside")
    } else {
        format!("{} · {}", w.name_km, w.name_latin)
    }
}

/// One supervision as a line of the page.
pub struct AssignmentLine {
    /// The other worker's id (0: not in the caller's reach, no link).
    pub id: i64,
    pub name: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "supervision/worker.html")]
struct WorkerPage {
    l: Layout,
    s: WorkerSupervision,
    supervisor: Option<AssignmentLine>,
    history: Vec<AssignmentLine>,
    supervisees: Vec<AssignmentLine>,
    ineligible: Vec<String>,
    sessions: Vec<SessionLine>,
    assign_form: Option<FormBox>,
    can_end: bool,
    session_form: Option<FormBox>,
    problems: Vec<String>,
    today: String,
}

pub struct SessionLine {
    pub held_on: String,
    pub supervisor: String,
    pub supervisees: String,
    pub model: String,
    pub functions: String,
    pub notes: String,
    pub withheld: bool,
}

enum Failed<'a> {
    None,
    Assign(&'a FormMap, &'a ValidationErrors),
    Session(&'a FormMap, &'a ValidationErrors),
    Other(&'a ValidationErrors),
}

async fn worker_view(app: &AppState, ctx: &Ctx, p: &Principal, id: i64, failed: Failed<'_>) -> PageResult {
    let i = ctx.i;
    let Some(s) = app.store.worker_supervision(p, id, today()).await.map_err(|e| store_err(ctx, e))? else {
        return Err(ctx.not_found());
    };
    let none = no_errors();
    let empty = FormMap::new();
    let assign_form = p.allows(Action::SetSupervisor, Target::worker(id)).then(|| {
        let (v, e) = match &failed {
            Failed::Assign(v, e) => (*v, *e),
            _ => (&empty, &none),
        };
        let mut b = Fb::new(&i, "assign", v, e);
        b.add("supervisor_id", "supervision.supervisor_id", "number", true).hint = i.t("supervision.supervisor_hint");
        b.checkboxes("dedicated", "", &[("1".into(), i.t("supervision.dedicated"))]);
        b.add("on", "supervision.from", "date", false);
        b.finish(i.t("supervision.assign"), format!("/supervision/workers/{id}/supervisor"), i.t("common.save"))
    });
    let session_form =
        (p.allows(Action::RecordSupervision, Target::worker(id)) && !s.supervisees.is_empty()).then(|| {
            let (v, e) = match &failed {
                Failed::Session(v, e) => (*v, *e),
                _ => (&empty, &none),
            };
            let mut b = Fb::new(&i, "session", v, e);
            b.add("held_on", "supervision.held_on", "date", true);
            b.select(
                "model",
                "supervision.model",
                &vchoices(&i, SupervisionModel::ALL, SupervisionModel::code, SupervisionModel::label_key),
                true,
            );
            b.checkboxes(
                "functions",
                "supervision.functions",
                &vchoices(&i, SupervisionFunction::ALL, SupervisionFunction::code, SupervisionFunction::label_key),
            );
            let supervisees: Vec<(String, String)> = s
                .supervisees
                .iter()
                .filter(|a| a.supervisee.id != 0)
                .map(|a| (a.supervisee.id.to_string(), name_of(&i, &a.supervisee)))
                .collect();
            b.checkboxes("supervisee_ids", "supervision.supervisees", &supervisees);
            b.add("notes", "supervision.notes", "textarea", false).hint = i.t("supervision.notes_hint");
            b.finish(
                i.t("supervision.record_session"),
                format!("/supervision/workers/{id}/sessions"),
                i.t("common.save"),
            )
        });
    let sessions = s
        .sessions
        .iter()
        .map(|x| SessionLine {
            held_on: x.held_on.clone(),
            supervisor: pick(&i, &x.supervisor.name_latin, &x.supervisor.name_km),
            supervisees: x
                .supervisees
                .iter()
                .map(|w| pick(&i, &w.name_latin, &w.name_km))
                .collect::<Vec<_>>()
                .join(", "),
            model: i.label(x.model),
            functions: x.functions.iter().map(|f| i.label(*f)).collect::<Vec<_>>().join(", "),
            notes: x.notes.clone().unwrap_or_default(),
            withheld: x.notes_withheld,
        })
        .collect();
    let problems = match &failed {
        Failed::Other(e) => messages(&i, e),
        _ => Vec::new(),
    };
    let dedicated = i.t("supervision.dedicated");
    let line = |other: &komlang_store::WorkerBrief, a: &komlang_store::supervision::Assignment| AssignmentLine {
        id: other.id,
        name: name_of(&i, other),
        detail: format!(
            "{} · {}{}{}",
            i.label(other.cadre),
            a.start_date,
            a.end_date.as_ref().map(|e| format!(" – {e}")).unwrap_or_default(),
            if a.dedicated { format!(" · {dedicated}") } else { String::new() }
        ),
    };
    let supervisor = s.supervisor.as_ref().map(|a| line(&a.supervisor, a));
    let history = s.history.iter().map(|a| line(&a.supervisor, a)).collect();
    let supervisees = s.supervisees.iter().map(|a| line(&a.supervisee, a)).collect();
    let status = if matches!(failed, Failed::None) { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let l = layout(ctx, "supervision").await?;
    render_status(
        status,
        &WorkerPage {
            supervisor,
            history,
            supervisees,
            ineligible: s.ineligible.iter().map(|x| ineligible_text(&i, x)).collect(),
            can_end: p.allows(Action::SetSupervisor, Target::worker(id)) && s.supervisor.is_some(),
            s,
            sessions,
            assign_form,
            session_form,
            problems,
            today: today().to_string(),
            l,
        },
    )
}

pub(super) async fn worker_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    worker_view(&app, &ctx, &p, id, Failed::None).await
}

fn day(k: &str, v: &str, errs: &mut ValidationErrors) -> Option<NaiveDate> {
    match v.non_blank() {
        None => None,
        Some(s) => {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| errs.push(FieldError::new(k, "invalid_date"))).ok()
        }
    }
}

/// A supervisor, as posted.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct AssignForm {
    pub csrf: String,
    pub supervisor_id: String,
    pub dedicated: String,
    pub on: String,
}

pub(super) async fn assign(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<AssignForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let mut errs = no_errors();
    let sup = integer("supervisor_id", &form.supervisor_id, &mut errs);
    let on = day("on", &form.on, &mut errs).unwrap_or_else(today);
    if sup.is_none() && errs.for_field("supervisor_id").is_none() {
        errs.push(FieldError::new("supervisor_id", "required"));
    }
    let result = match sup {
        Some(s) if errs.is_empty() => {
            app.store.assign_supervisor(&p, id, s, !form.dedicated.trim().is_empty(), on).await.map(|_| ())
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/supervision/workers/{id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => worker_view(&app, &ctx, &p, id, Failed::Assign(&values_of(&form), &e)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

/// Ending a supervision, as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct EndForm {
    pub csrf: String,
    pub on: String,
}

pub(super) async fn end(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<EndForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let mut errs = no_errors();
    let on = day("on", &form.on, &mut errs).unwrap_or_else(today);
    let result =
        if errs.is_empty() { app.store.end_supervision(&p, id, on).await } else { Err(StoreError::Invalid(errs)) };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/supervision/workers/{id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => worker_view(&app, &ctx, &p, id, Failed::Other(&e)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

/// A session, as posted.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct SessionForm {
    pub csrf: String,
    pub held_on: String,
    pub model: String,
    #[serde(skip)]
    pub functions: Vec<String>,
    #[serde(skip)]
    pub supervisee_ids: Vec<String>,
    pub notes: String,
}

pub(super) async fn record_session(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let (mut form, mut lists): (SessionForm, _) = typed_with_lists(pairs, &["functions", "supervisee_ids"]);
    form.supervisee_ids = lists.pop().unwrap_or_default();
    form.functions = lists.pop().unwrap_or_default();
    ctx.check_csrf(&form.csrf)?;
    let mut errs = no_errors();
    let held_on = day("held_on", &form.held_on, &mut errs);
    if held_on.is_none() && errs.for_field("held_on").is_none() {
        errs.push(FieldError::new("held_on", "required"));
    }
    let model = SupervisionModel::parse(&form.model);
    if model.is_none() {
        errs.push(FieldError::new("model", "required"));
    }
    let result = match (held_on, model) {
        (Some(held_on), Some(model)) if errs.is_empty() => {
            let input = komlang_store::supervision::SessionInput {
                supervisor_id: id,
                held_on,
                model,
                functions: form.functions.iter().filter_map(|f| SupervisionFunction::parse(f)).collect(),
                supervisee_ids: form.supervisee_ids.iter().filter_map(|s| s.trim().parse().ok()).collect(),
                notes: form.notes.non_blank().map(String::from),
            };
            app.store.record_session(&p, &input, today()).await.map(|_| ())
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/supervision/workers/{id}#sessions")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            let mut v = values_of(&form);
            v.insert("functions".into(), form.functions.join(" "));
            v.insert("supervisee_ids".into(), form.supervisee_ids.join(" "));
            worker_view(&app, &ctx, &p, id, Failed::Session(&v, &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}
