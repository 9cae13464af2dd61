//! The caseloads page (the case lists imported, open cases per unit with a drill-down, the
//! workers above their threshold, the thresholds; for national administrators the import of a
//! case list and the thresholds' form), and the page of the case systems' users to link.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use chrono::NaiveDate;
use komlang_core::caseload::CaseSource;
use komlang_core::*;
use komlang_store::caseloads::{CaseOwner, CaseloadImportOptions, CaseloadSnapshot, OverThreshold, UnitCaseload};
use komlang_store::{ImportReport, StoreError};
use serde::Deserialize;

use crate::common::export::{export_format, page_download, FormatParam};
use crate::common::form_box::{messages, query_string};
use crate::common::names::pick;
use crate::common::uploads::{
    check_table, io_error_text, open_table_within, read_upload_form, sha256_hex, store_rows_in, UploadForm,
    MAX_UPLOAD_MB,
};
use crate::common::{flash, layout, render, render_status, store_err, today, Choice, Ctx, Layout, PageResult};
use crate::AppState;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct UnitFilters {
    pub level: String,
    pub parent: String,
    /// An import just made (its outcome is shown).
    pub imported: String,
}

impl UnitFilters {
    fn level(&self) -> AdminLevel {
        AdminLevel::parse(&self.level)
            .filter(|l| matches!(l, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune))
            .unwrap_or(AdminLevel::Province)
    }
    fn parent(&self) -> Option<&str> {
        self.parent.non_blank()
    }
}

fn level_below(l: AdminLevel) -> Option<AdminLevel> {
    match l {
        AdminLevel::Province => Some(AdminLevel::District),
        AdminLevel::District => Some(AdminLevel::Commune),
        _ => None,
    }
}

/// An import's outcome, shown on the page.
pub struct ImportOutcome {
    pub committed: bool,
    pub dry_run: bool,
    pub rows_total: u64,
    pub added: u64,
    pub rejected_count: u64,
    /// (row, column, message) of the problems listed.
    pub problems: Vec<(u64, String, String)>,
}

#[derive(Template)]
#[template(path = "caseloads/caseloads.html")]
struct CaseloadsPage {
    l: Layout,
    snapshots: Vec<CaseloadSnapshot>,
    levels: Vec<Choice>,
    parent: String,
    units: Vec<UnitCaseload>,
    /// The level below the one shown, to drill down to.
    below: Option<String>,
    over: Vec<OverThreshold>,
    thresholds: Vec<(String, String, u32)>,
    default_threshold: u32,
    cadres: Vec<Choice>,
    roles: Vec<Choice>,
    can_import: bool,
    can_keep: bool,
    can_link: bool,
    outcome: Option<ImportOutcome>,
    problems: Vec<String>,
    /// The filters' query, for the download links.
    query: String,
    today: String,
}

impl CaseloadsPage {
    fn unit_name(&self, u: &UnitCaseload) -> String {
        pick(&self.l.i, &u.name_en, &u.name_km)
    }
    fn source_label(&self, s: &str) -> &'static str {
        CaseSource::parse(s).map(|s| s.label()).unwrap_or("")
    }
    fn per_worker(&self, u: &UnitCaseload) -> String {
        u.cases_per_worker.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
    }
}

async fn caseloads_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: &UnitFilters,
    outcome: Option<ImportOutcome>,
    problems: Vec<String>,
) -> PageResult {
    let i = ctx.i;
    let level = f.level();
    let snapshots = app.store.caseload_snapshots(p).await.map_err(|e| store_err(ctx, e))?;
    let units = app.store.caseloads_by_unit(p, level, f.parent()).await.map_err(|e| store_err(ctx, e))?;
    let over = app.store.workers_over_threshold(p, f.parent()).await.map_err(|e| store_err(ctx, e))?;
    let thresholds = app
        .store
        .caseload_thresholds()
        .await?
        .into_iter()
        .map(|t| {
            let any = i.t("caseload.any");
            let cadre = if t.cadre.is_empty() { any.clone() } else { i.code_label("cadre", &t.cadre) };
            let role = if t.role.is_empty() { any } else { i.code_label("role", &t.role) };
            (cadre, role, t.max_open)
        })
        .collect();
    let any = Choice { value: String::new(), label: i.t("caseload.any"), selected: true };
    let cadres = std::iter::once(any.clone())
        .chain(Cadre::ALL.iter().map(|c| Choice { value: c.code().into(), label: i.label(*c), selected: false }))
        .collect();
    let roles = std::iter::once(any)
        .chain(WorkerRole::ALL.iter().map(|r| Choice { value: r.code().into(), label: i.label(*r), selected: false }))
        .collect();
    let levels = [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune]
        .into_iter()
        .map(|l| Choice {
            value: l.code().into(),
            label: i.t(&format!("caseload.level_{}", l.code())),
            selected: l == level,
        })
        .collect();
    let l = layout(ctx, "caseloads").await?;
    render_status(
        if problems.is_empty() && outcome.as_ref().is_none_or(|o| o.committed || o.dry_run) {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &CaseloadsPage {
            snapshots,
            levels,
            parent: f.parent.trim().to_string(),
            units,
            below: level_below(level).map(|l| l.code().to_string()),
            over,
            thresholds,
            default_threshold: komlang_core::caseload::DEFAULT_THRESHOLD,
            cadres,
            roles,
            can_import: p.may(Action::ImportCaseloads),
            can_keep: p.may(Action::KeepNorms),
            can_link: p.may(Action::LinkCaseOwners),
            outcome,
            problems,
            query: query_string(&[("level", level.code()), ("parent", f.parent.trim())]),
            today: today().to_string(),
            l,
        },
    )
}

pub(super) async fn caseloads_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<UnitFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    // The outcome of the import just made, from its record (the page it redirected to).
    let mut outcome = None;
    if let Ok(id) = f.imported.trim().parse::<i64>() {
        if let Some(rec) = app.store.get_import(&p, id).await.map_err(|e| store_err(&ctx, e))? {
            if let (true, Some(r)) = (rec.summary.kind == "caseload", rec.report) {
                outcome = Some(outcome_of(&ctx, &r));
            }
        }
    }
    caseloads_view(&app, &ctx, &p, &f, outcome, Vec::new()).await
}

/// `GET /caseloads/import` (a language switched on an import's answer): the page.
pub(super) async fn to_page(ctx: Ctx) -> PageResult {
    ctx.require()?;
    Ok(Redirect::to("/caseloads").into_response())
}

/// The units shown (same level and parent) as a CSV or XLSX file.
pub(super) async fn export(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<UnitFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let rows = app.store.caseloads_by_unit(&p, f.level(), f.parent()).await.map_err(|e| store_err(&ctx, e))?;
    page_download(&ctx, "komlang-caseloads", format, super::CASELOAD_COLUMNS, super::caseload_cells(&rows)).await
}

fn outcome_of(ctx: &Ctx, r: &ImportReport) -> ImportOutcome {
    ImportOutcome {
        // A stored report is of a committed import.
        committed: r.committed || r.import_id.is_some(),
        dry_run: r.dry_run,
        rows_total: r.rows_total,
        added: r.added,
        rejected_count: r.rejected_total(),
        problems: r
            .rejected
            .iter()
            .flat_map(|row| row.errors.iter())
            .map(|e| (e.row, e.column.clone(), crate::common::import_report::row_error_text(&ctx.i, e)))
            .collect(),
    }
}

/// The import: a multipart form with `csrf`, `source`, `as_of`, `dry_run`, `partial`, `file`.
/// The file is read and dropped: only the cases' mapped columns are kept.
pub(super) async fn import(
    State(app): State<AppState>,
    ctx: Ctx,
    mp: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let Ok(mut mp) = mp else { return Err(ctx.forbidden()) };
    let UploadForm { fields, file, too_large } = read_upload_form(&mut mp).await;
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
    let (csrf, source, as_of) = (field("csrf"), field("source"), field("as_of"));
    let (dry_run, partial) = (!field("dry_run").is_empty(), !field("partial").is_empty());
    ctx.check_csrf(csrf)?;
    let i = ctx.i;
    let none = UnitFilters::default();
    let back = |msg: String| caseloads_view(&app, &ctx, &p, &none, None, vec![msg]);
    if too_large {
        return back(i.tp("import.error_too_large", &[("max", MAX_UPLOAD_MB.to_string())])).await;
    }
    let Some(source) = CaseSource::parse(source) else {
        return back(i.t("caseload.error_source")).await;
    };
    let as_of = match as_of.non_blank() {
        None => today(),
        Some(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => return back(i.t("error.invalid_date")).await,
        },
    };
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return back(i.t("import.error_no_file")).await;
    };
    let limits = &app.config.upload_limits;
    let reader = match check_table(limits, &name, &bytes).and_then(|()| open_table_within(limits, &name, &bytes)) {
        Ok(r) => r,
        Err(e) => return back(io_error_text(&i, &e)).await,
    };
    let headers = reader.headers().to_vec();
    let opts = CaseloadImportOptions {
        source,
        as_of,
        dry_run,
        partial,
        file_name: name,
        file_sha256: sha256_hex(&bytes),
        columns: Vec::new(),
        report: app.config.report_limits,
    };
    match app.store.import_caseload(&p, &headers, store_rows_in(i, reader), &opts).await {
        // Written: to the page, which shows the import's outcome from its record.
        Ok(r) if r.committed => {
            let id = r.import_id.unwrap_or_default();
            Ok(Redirect::to(&format!("/caseloads?imported={id}#caseload-outcome")).into_response())
        }
        Ok(r) => {
            let outcome = outcome_of(&ctx, &r);
            caseloads_view(&app, &ctx, &p, &UnitFilters::default(), Some(outcome), Vec::new()).await
        }
        Err(StoreError::Invalid(e)) => {
            caseloads_view(&app, &ctx, &p, &UnitFilters::default(), None, messages(&i, &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ThresholdForm {
    pub csrf: String,
    pub cadre: String,
    pub role: String,
    /// Empty: remove the setting.
    pub max_open: String,
}

pub(super) async fn set_threshold(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ThresholdForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let invalid = |field: &str, code: &str| StoreError::Invalid(ValidationErrors::single(FieldError::new(field, code)));
    let parsed = (|| {
        let cadre = match form.cadre.non_blank() {
            None => None,
            Some(c) => Some(Cadre::parse(c).ok_or_else(|| invalid("cadre", "invalid_choice"))?),
        };
        let role = match form.role.non_blank() {
            None => None,
            Some(r) => Some(WorkerRole::parse(r).ok_or_else(|| invalid("role", "invalid_choice"))?),
        };
        let max = match form.max_open.non_blank() {
            None => None,
            Some(n) => Some(n.parse::<u32>().map_err(|_| invalid("max_open", "invalid_number"))?),
        };
        Ok::<_, StoreError>((cadre, role, max))
    })();
    let result = match parsed {
        Ok((c, r, m)) => app.store.set_caseload_threshold(&p, c, r, m).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/caseloads#thresholds").into_response())
        }
        Err(StoreError::Invalid(e)) => {
            caseloads_view(&app, &ctx, &p, &UnitFilters::default(), None, messages(&ctx.i, &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct OwnerFilters {
    pub source: String,
    /// Non-empty: only the users linked to no worker.
    pub unlinked: String,
}

#[derive(Template)]
#[template(path = "caseloads/owners.html")]
struct OwnersPage {
    l: Layout,
    owners: Vec<CaseOwner>,
    sources: Vec<Choice>,
    unlinked: bool,
    problems: Vec<String>,
}

impl OwnersPage {
    fn source_label(&self, s: &str) -> &'static str {
        CaseSource::parse(s).map(|s| s.label()).unwrap_or("")
    }
}

async fn owners_view(app: &AppState, ctx: &Ctx, p: &Principal, f: &OwnerFilters, problems: Vec<String>) -> PageResult {
    let i = ctx.i;
    let source = CaseSource::parse(&f.source);
    let unlinked = !f.unlinked.trim().is_empty();
    let owners = app.store.case_owners(p, source, unlinked).await.map_err(|e| store_err(ctx, e))?;
    let sources =
        std::iter::once(Choice { value: String::new(), label: i.t("caseload.any"), selected: source.is_none() })
            .chain(CaseSource::ALL.iter().map(|s| Choice {
                value: s.code().into(),
                label: s.label().into(),
                selected: Some(*s) == source,
            }))
            .collect();
    let l = layout(ctx, "caseloads").await?;
    render_status(
        if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &OwnersPage { l, owners, sources, unlinked, problems },
    )
}

pub(super) async fn owners_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<OwnerFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    owners_view(&app, &ctx, &p, &f, Vec::new()).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LinkForm {
    pub csrf: String,
    pub source: String,
    pub owner: String,
    pub worker_id: String,
}

pub(super) async fn link(State(app): State<AppState>, ctx: Ctx, Form(form): Form<LinkForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let source = CaseSource::parse(&form.source);
    let worker: Option<i64> = form.worker_id.trim().trim_start_matches('#').parse().ok();
    let result = match (source, worker) {
        (Some(s), Some(w)) => app.store.link_case_owner(&p, s, &form.owner, w).await,
        (None, _) => Err(StoreError::Invalid(ValidationErrors::single(FieldError::new("source", "invalid_choice")))),
        (_, None) => Err(StoreError::Invalid(ValidationErrors::single(FieldError::new("worker_id", "unknown_worker")))),
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/caseloads/owners").into_response())
        }
        Err(StoreError::Invalid(e)) => {
            owners_view(&app, &ctx, &p, &OwnerFilters::default(), messages(&ctx.i, &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UnlinkForm {
    pub csrf: String,
    pub source: String,
    pub owner: String,
}

pub(super) async fn unlink(State(app): State<AppState>, ctx: Ctx, Form(form): Form<UnlinkForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let Some(source) = CaseSource::parse(&form.source) else { return Err(ctx.not_found()) };
    app.store.unlink_case_owner(&p, source, &form.owner).await.map_err(|e| store_err(&ctx, e))?;
    flash(&ctx, "common.saved").await?;
    Ok(Redirect::to("/caseloads/owners").into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct HintFilters {
    pub level: String,
    pub parent: String,
}

pub struct HintLine {
    pub over: String,
    pub over_load: String,
    pub under: String,
    pub under_load: String,
    pub movers: Vec<String>,
}

#[derive(Template)]
#[template(path = "caseloads/reassignment.html")]
struct ReassignmentPage {
    l: Layout,
    lines: Vec<HintLine>,
    level: String,
    parent: String,
}

/// Re-assignment hints: units far above capacity next to nearby units far below it.
pub(super) async fn reassignment_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(f): Query<HintFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let hints = match super::api::hints_for(&app, &p, Some(f.level.as_str()), f.parent.non_blank()).await {
        Ok(r) => r.map_err(|e| store_err(&ctx, e))?,
        Err(_) => return Err(ctx.not_found()),
    };
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    let unit = |u: &komlang_store::caseloads::UnitLoad| {
        format!("{} {} ({} / {})", u.unit, pick(&i, &u.name_en, &u.name_km), u.open_cases, u.capacity)
    };
    let lines = hints
        .iter()
        .map(|h| HintLine {
            over: unit(&h.over),
            over_load: pct(h.over.load),
            under: unit(&h.under),
            under_load: pct(h.under.load),
            movers: h
                .movers
                .iter()
                .map(|m| {
                    i.tp(
                        "caseload.mover",
                        &[
                            ("name", pick(&i, &m.name_latin, &m.name_km)),
                            ("open", m.open_cases.to_string()),
                            ("threshold", m.threshold.to_string()),
                            ("post", m.post_id.map(|x| x.to_string()).unwrap_or_else(|| "—".into())),
                            (
                                "vacant",
                                if m.vacant_posts_there.is_empty() {
                                    "—".into()
                                } else {
                                    let ids: Vec<String> = m.vacant_posts_there.iter().map(|x| x.to_string()).collect();
                                    let more = m.vacant_posts_there_total as usize > ids.len();
                                    if more {
                                        format!("{} … ({})", ids.join(", "), m.vacant_posts_there_total)
                                    } else {
                                        ids.join(", ")
                                    }
                                },
                            ),
                        ],
                    )
                })
                .collect(),
        })
        .collect();
    let l = layout(&ctx, "caseloads").await?;
    render(&ReassignmentPage { lines, level: f.level.trim().to_string(), parent: f.parent.trim().to_string(), l })
}
