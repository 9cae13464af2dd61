//! Bulk import (upload → column matching → dry-run preview → commit → the
//! audited result) and export of the filtered worker list, as pages.
//!
//! Nothing about a flow is kept in the server's memory: the uploaded file is
//! in the database (`import_files`), and the column matching and the
//! duplicate decisions travel in the forms and links, so any app server can
//! continue a flow another one started.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use komlang_core::dedup::DupReason;
use komlang_core::import::{check_mapping, guess_mapping, ColumnMapping, ImportField, MappingError, RowError};
use komlang_core::*;
use komlang_store::{
    DupDecision, DupTarget, DuplicateFound, ImportOptions, ImportRecord, ImportReport, RejectedRow, StoreError,
    WorkerImportOptions, WorkerQuery,
};

use crate::common::export::{attachment, CSV_TYPE, XLSX_TYPE};
use crate::common::{
    flash, layout, render, render_status, store_err, today, Choice, Ctx, ExportFormat, I18n, Layout, PageError,
    PageResult,
};
use crate::pages::WorkerFilters;
use crate::AppState;

/// Largest file accepted for an import.
pub const MAX_UPLOAD_MB: usize = 64;
pub const MAX_UPLOAD: usize = MAX_UPLOAD_MB * 1024 * 1024;
/// Problems listed on a page (all of them are in the rejected-rows file).
const MAX_PROBLEMS_SHOWN: usize = 500;
/// Sample values shown per column on the matching page.
const SAMPLES: usize = 3;
/// Score from which a likely duplicate is skipped unless the user decides otherwise.
pub const SKIP_FROM_SCORE: u8 = 95;

// ---------- who may import what ----------

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Workers,
    Organizations,
    Population,
}

impl ImportKind {
    pub const ALL: [ImportKind; 3] = [ImportKind::Workers, ImportKind::Organizations, ImportKind::Population];

    pub fn code(self) -> &'static str {
        match self {
            ImportKind::Workers => "workers",
            ImportKind::Organizations => "organizations",
            ImportKind::Population => "population",
        }
    }

    pub fn parse(s: &str) -> Option<ImportKind> {
        ImportKind::ALL.into_iter().find(|k| k.code() == s.trim())
    }

    pub fn label(self, i: &I18n) -> String {
        i.code_label("import_kind", self.code())
    }

    /// The action of importing this kind of file (`docs/access.md`): workers are imported by
    /// whoever adds workers, organizations by whoever adds organizations (each row inside the
    /// importer's scope), population figures by national administrators.
    pub fn action(self) -> Action {
        match self {
            ImportKind::Workers => Action::ImportWorkers,
            ImportKind::Organizations => Action::ImportOrgs,
            ImportKind::Population => Action::ImportPopulation,
        }
    }

    pub fn allowed(self, p: &Principal) -> bool {
        p.may(self.action())
    }
}

fn kind_of(ctx: &Ctx, p: &Principal, s: Option<&String>) -> Result<ImportKind, PageError> {
    let k = match s.map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => ImportKind::Workers,
        Some(s) => ImportKind::parse(s).ok_or_else(|| ctx.not_found())?,
    };
    if k.allowed(p) {
        Ok(k)
    } else {
        Err(ctx.forbidden())
    }
}

// ---------- reading files ----------

/// Why a file cannot be imported, as a sentence in the user's language.
pub fn io_error_text(i: &I18n, e: &komlang_io::IoError) -> String {
    use komlang_io::IoError as E;
    match e {
        E::NotATable(_) => i.t("import.error_not_table"),
        E::Encoding { .. } => i.t("import.error_encoding"),
        E::Empty => i.t("import.error_empty"),
        other => i.tp("import.error_read", &[("detail", other.to_string())]),
    }
}

/// A file as a table: its headers and every data row (row number, cells).
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Opens an uploaded file as a table reader.
pub fn open_table(name: &str, bytes: &[u8]) -> Result<komlang_io::TableReader, komlang_io::IoError> {
    komlang_io::TableReader::from_bytes(name, bytes.to_vec())
}

/// The rows of a reader as the store's imports take them.
pub fn store_rows(r: komlang_io::TableReader) -> impl Iterator<Item = Result<(u64, Vec<String>), String>> {
    r.map(|row| row.map_err(|e| e.to_string()))
}

/// The headers and the first `limit` data rows (all with `None`).
pub fn read_table(name: &str, bytes: &[u8], limit: Option<usize>) -> Result<Table, komlang_io::IoError> {
    let mut r = open_table(name, bytes)?;
    let headers = r.headers().to_vec();
    let mut rows = Vec::new();
    for row in r.by_ref() {
        if limit.is_some_and(|n| rows.len() >= n) {
            break;
        }
        rows.push(row?);
    }
    Ok(Table { headers, rows })
}

/// The cells of the given rows of a file.
fn rows_by_number(name: &str, bytes: &[u8], wanted: &BTreeSet<u64>) -> HashMap<u64, Vec<String>> {
    let mut out = HashMap::new();
    if wanted.is_empty() {
        return out;
    }
    if let Ok(mut r) = open_table(name, bytes) {
        for (n, cells) in r.by_ref().flatten() {
            if wanted.contains(&n) {
                out.insert(n, cells);
                if out.len() == wanted.len() {
                    break;
                }
            }
        }
    }
    out
}

// ---------- the matching of columns, in forms and links ----------

/// `c0=name_km&c1=&c2=sex…` (one entry per column; empty: ignored).
fn mapping_from_params(params: &[(String, String)], columns: usize) -> Option<ColumnMapping> {
    let map: HashMap<&str, &str> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if !(0..columns).any(|i| map.contains_key(format!("c{i}").as_str())) {
        return None;
    }
    let columns = (0..columns).map(|i| map.get(format!("c{i}").as_str()).and_then(|v| ImportField::parse(v))).collect();
    Some(ColumnMapping { columns })
}

fn mapping_params(m: &ColumnMapping) -> Vec<(String, String)> {
    m.columns
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("c{i}"), f.map(|f| f.code().to_string()).unwrap_or_default()))
        .collect()
}

/// `d12=merge&d15=keep_both…`: the decision for the duplicate found at a row.
fn decisions_from_params(params: &[(String, String)]) -> BTreeMap<u64, DupDecision> {
    params
        .iter()
        .filter_map(|(k, v)| {
            let row = k.strip_prefix('d')?.parse::<u64>().ok()?;
            Some((row, decision_parse(v)?))
        })
        .collect()
}

pub fn decision_code(d: DupDecision) -> &'static str {
    match d {
        DupDecision::Merge => "merge",
        DupDecision::KeepBoth => "keep_both",
        DupDecision::Skip => "skip",
    }
}

pub fn decision_parse(s: &str) -> Option<DupDecision> {
    match s.trim() {
        "merge" => Some(DupDecision::Merge),
        "keep_both" => Some(DupDecision::KeepBoth),
        "skip" => Some(DupDecision::Skip),
        _ => None,
    }
}

/// Skip a near-certain duplicate, keep both otherwise, unless the user chose.
pub fn default_decision(score: u8) -> DupDecision {
    if score >= SKIP_FROM_SCORE {
        DupDecision::Skip
    } else {
        DupDecision::KeepBoth
    }
}

/// Applies a saved matching to a file: columns are matched by header text,
/// headers the saved matching does not know are guessed.
pub fn apply_saved(headers: &[String], saved_headers: &[String], saved: &ColumnMapping) -> ColumnMapping {
    let guessed = guess_mapping(headers);
    let norm = |s: &str| s.trim().to_lowercase();
    let columns = headers
        .iter()
        .enumerate()
        .map(|(i, h)| match saved_headers.iter().position(|s| norm(s) == norm(h)) {
            Some(j) => saved.columns.get(j).copied().flatten(),
            None => guessed.columns.get(i).copied().flatten(),
        })
        .collect();
    ColumnMapping { columns }
}

fn mapping_problem_text(i: &I18n, e: &MappingError) -> String {
    let field = i.label(e.field);
    match e.code.as_str() {
        "duplicate_column" => format!("{field}: {}", i.t("error.duplicate_column")),
        _ => format!("{field}: {}", i.t("error.missing_required_column")),
    }
}

// ---------- texts of a report ----------

/// A problem of one cell as a sentence in the user's language.
pub fn row_error_text(i: &I18n, e: &RowError) -> String {
    let mut fe = FieldError::new(&e.field, &e.code);
    fe.params = e.params.clone();
    let text = i.field_error(&fe);
    // A placeholder the error carries no value for is dropped from the sentence.
    if text.contains("%{") {
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(a) = rest.find("%{") {
            out.push_str(&rest[..a]);
            out.push('…');
            rest = rest[a..].find('}').map(|b| &rest[a + b + 1..]).unwrap_or("");
        }
        out.push_str(rest);
        return out;
    }
    text
}

/// "same date of birth, names 92% alike".
pub fn explanation(i: &I18n, reasons: &[DupReason]) -> String {
    reasons
        .iter()
        .map(|r| match r {
            DupReason::SameNationalId => i.t("dup_reason.same_national_id"),
            DupReason::SameDateOfBirth => i.t("dup_reason.same_date_of_birth"),
            DupReason::SameKhmerName => i.t("dup_reason.same_khmer_name"),
            DupReason::SameLatinName => i.t("dup_reason.same_latin_name"),
            DupReason::SimilarNames(p) => i.tp("dup_reason.similar_names", &[("percent", p.to_string())]),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The reason column of the rejected-rows file: every problem of the row.
pub fn reason_text(i: &I18n, r: &RejectedRow) -> String {
    r.errors
        .iter()
        .map(|e| {
            let text = row_error_text(i, e);
            if e.column.is_empty() {
                text
            } else {
                format!("{}: {text}", e.column)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One problem as the tables show it.
pub struct ProblemView {
    pub row: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

fn problems(i: &I18n, report: &ImportReport) -> (Vec<ProblemView>, usize) {
    let mut out = Vec::new();
    let mut more = 0;
    for r in &report.rejected {
        if out.len() >= MAX_PROBLEMS_SHOWN {
            more += 1;
            continue;
        }
        for e in &r.errors {
            out.push(ProblemView {
                row: r.row,
                column: if e.column.is_empty() { i.t("import.whole_row") } else { e.column.clone() },
                value: e.value.clone(),
                reason: row_error_text(i, e),
            });
        }
    }
    (out, more)
}

pub struct Counts {
    pub rows_total: u64,
    pub added: u64,
    pub merged: u64,
    pub skipped: u64,
    pub rejected: u64,
}

fn counts(r: &ImportReport) -> Counts {
    Counts {
        rows_total: r.rows_total,
        added: r.added,
        merged: r.merged,
        skipped: r.duplicates_skipped,
        rejected: r.rejected.len() as u64,
    }
}

// ---------- list of imports ----------

pub struct ImportLine {
    pub id: i64,
    pub at: String,
    pub username: String,
    pub file_name: String,
    pub short_hash: String,
    pub kind: String,
    pub rows_total: i64,
    pub added: i64,
    pub merged: i64,
    pub skipped: i64,
    pub rejected: i64,
    pub committed: bool,
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    l: Layout,
    rows: Vec<ImportLine>,
    results: String,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct PageParam {
    #[serde(default)]
    page: String,
}

pub async fn list(State(app): State<AppState>, ctx: Ctx, Query(q): Query<PageParam>) -> PageResult {
    let p = ctx.require()?.clone();
    let page = app.store.list_imports(&p, q.page.parse().unwrap_or(1)).await?;
    let i = ctx.i;
    let rows = page
        .items
        .iter()
        .map(|r| ImportLine {
            id: r.id,
            at: r.at.clone(),
            username: r.username.clone(),
            file_name: r.file_name.clone(),
            short_hash: r.file_sha256.chars().take(12).collect(),
            kind: ImportKind::parse(&r.kind).map(|k| k.label(&i)).unwrap_or_else(|| r.kind.clone()),
            rows_total: r.rows_total,
            added: r.rows_added,
            merged: r.rows_merged,
            skipped: r.rows_duplicate_skipped,
            rejected: r.rows_rejected,
            committed: true,
        })
        .collect();
    let link = |n: i64| format!("?page={n}");
    let prev = (page.page > 1).then(|| link(page.page - 1));
    let next = (page.page < page.pages()).then(|| link(page.page + 1));
    let results = i.tp("common.results", &[("total", page.total.to_string())]);
    let l = layout(&ctx, "imports").await?;
    render(&ImportsPage { l, rows, results, prev, next })
}

// ---------- upload ----------

#[derive(Template)]
#[template(path = "import_new.html")]
struct NewPage {
    l: Layout,
    kinds: Vec<Choice>,
    /// Every kind of file is offered (else a hint says who imports the others).
    all_kinds: bool,
    error: Option<String>,
}

fn kind_choices(i: &I18n, p: &Principal, current: ImportKind) -> Vec<Choice> {
    ImportKind::ALL
        .into_iter()
        .filter(|k| k.allowed(p))
        .map(|k| Choice { value: k.code().into(), label: k.label(i), selected: k == current })
        .collect()
}

async fn new_page(ctx: &Ctx, p: &Principal, kind: ImportKind, error: Option<String>) -> PageResult {
    let l = layout(ctx, "imports").await?;
    let page = NewPage {
        kinds: kind_choices(&ctx.i, p, kind),
        all_kinds: ImportKind::ALL.iter().all(|k| k.allowed(p)),
        error: error.clone(),
        l,
    };
    if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    }
}

#[derive(serde::Deserialize, Default)]
pub struct KindParam {
    #[serde(default)]
    kind: Option<String>,
}

pub async fn new_form(ctx: Ctx, Query(q): Query<KindParam>) -> PageResult {
    let p = ctx.require()?.clone();
    let kind = kind_of(&ctx, &p, q.kind.as_ref())?;
    new_page(&ctx, &p, kind, None).await
}

/// The upload: a multipart form with `csrf`, `kind` and `file`.
pub async fn upload(State(app): State<AppState>, ctx: Ctx, mp: Result<Multipart, MultipartRejection>) -> PageResult {
    let p = ctx.require()?.clone();
    // A post that is not a readable multipart form has no readable CSRF token.
    let Ok(mut mp) = mp else { return Err(ctx.forbidden()) };
    let mut csrf = String::new();
    let mut kind = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut too_large = false;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                match name.as_str() {
                    "csrf" => csrf = field.text().await.unwrap_or_default(),
                    "kind" => kind = field.text().await.unwrap_or_default(),
                    "file" => {
                        let file_name = field.file_name().unwrap_or("").to_string();
                        match field.bytes().await {
                            Ok(b) => file = Some((file_name, b.to_vec())),
                            Err(e) => {
                                too_large = e.status() == StatusCode::PAYLOAD_TOO_LARGE;
                                break;
                            }
                        }
                    }
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => {
                too_large = e.status() == StatusCode::PAYLOAD_TOO_LARGE;
                break;
            }
        }
    }
    ctx.check_csrf(&csrf)?;
    let kind = kind_of(&ctx, &p, Some(&kind))?;
    let i = ctx.i;
    if too_large {
        let msg = i.tp("import.error_too_large", &[("max", MAX_UPLOAD_MB.to_string())]);
        return new_page(&ctx, &p, kind, Some(msg)).await;
    }
    let Some((name, bytes)) = file.filter(|(n, b)| !n.is_empty() || !b.is_empty()) else {
        return new_page(&ctx, &p, kind, Some(i.t("import.error_no_file"))).await;
    };
    if bytes.is_empty() {
        return new_page(&ctx, &p, kind, Some(i.t("import.error_empty"))).await;
    }
    // The whole file is read once here, so that a wrong format or encoding
    // is explained now rather than after the matching.
    if let Err(e) = read_table(&name, &bytes, None) {
        return new_page(&ctx, &p, kind, Some(io_error_text(&i, &e))).await;
    }
    let id = app.store.save_import_file(&p, &name, &bytes).await.map_err(|e| store_err(&ctx, e))?;
    let next = match kind {
        ImportKind::Workers => format!("/imports/files/{id}/mapping?kind=workers"),
        other => format!("/imports/files/{id}/preview?kind={}", other.code()),
    };
    Ok(Redirect::to(&next).into_response())
}

// ---------- matching columns ----------

pub struct ColumnView {
    pub index: usize,
    pub header: String,
    pub samples: Vec<String>,
    pub options: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "import_mapping.html")]
struct MappingPage {
    l: Layout,
    file_id: i64,
    file_name: String,
    kind: String,
    kind_label: String,
    columns: Vec<ColumnView>,
    problems: Vec<String>,
    required_text: String,
    saved: Vec<Choice>,
    using_saved: Option<String>,
    name: String,
    error: Option<String>,
}

struct LoadedFile {
    name: String,
    bytes: Vec<u8>,
    sha256: String,
}

async fn load_file(app: &AppState, ctx: &Ctx, p: &Principal, id: i64) -> Result<LoadedFile, PageError> {
    match app.store.import_file(p, id).await {
        Ok(Some((meta, bytes))) => Ok(LoadedFile { name: meta.file_name, bytes, sha256: meta.sha256 }),
        Ok(None) | Err(StoreError::NotFound) => Err(ctx.not_found()),
        Err(e) => Err(store_err(ctx, e)),
    }
}

fn required_text(i: &I18n) -> String {
    let fields: Vec<String> = [
        ImportField::NameKm,
        ImportField::NameLatin,
        ImportField::Sex,
        ImportField::Cadre,
        ImportField::Role,
        ImportField::Sector,
        ImportField::WorkplaceCode,
    ]
    .into_iter()
    .map(|f| i.label(f))
    .collect();
    i.tp("import.required_fields", &[("fields", fields.join(", "))])
}

#[allow(clippy::too_many_arguments)]
async fn mapping_page(
    app: &AppState,
    ctx: &Ctx,
    file_id: i64,
    file: &LoadedFile,
    table: &Table,
    mapping: &ColumnMapping,
    saved_name: Option<String>,
    name: String,
    error: Option<String>,
) -> PageResult {
    let i = ctx.i;
    let columns = table
        .headers
        .iter()
        .enumerate()
        .map(|(n, h)| {
            let current = mapping.columns.get(n).copied().flatten();
            let mut options =
                vec![Choice { value: String::new(), label: i.t("import.ignore"), selected: current.is_none() }];
            options.extend(ImportField::ALL.iter().map(|f| Choice {
                value: f.code().into(),
                label: i.label(*f),
                selected: current == Some(*f),
            }));
            ColumnView {
                index: n,
                header: h.clone(),
                samples: table
                    .rows
                    .iter()
                    .filter_map(|(_, cells)| cells.get(n).cloned())
                    .filter(|s| !s.trim().is_empty())
                    .take(SAMPLES)
                    .collect(),
                options,
            }
        })
        .collect();
    let problems = match check_mapping(mapping) {
        Ok(()) => Vec::new(),
        Err(es) => es.iter().map(|e| mapping_problem_text(&i, e)).collect(),
    };
    let saved = app
        .store
        .mappings()
        .await?
        .into_iter()
        .map(|m| Choice {
            selected: saved_name.as_deref() == Some(m.name.as_str()),
            label: m.name.clone(),
            value: m.name,
        })
        .collect();
    let l = layout(ctx, "imports").await?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    render_status(
        status,
        &MappingPage {
            l,
            file_id,
            file_name: file.name.clone(),
            kind: ImportKind::Workers.code().into(),
            kind_label: ImportKind::Workers.label(&i),
            columns,
            problems,
            required_text: required_text(&i),
            saved,
            using_saved: saved_name.map(|n| i.tp("import.using_saved", &[("name", n)])),
            name,
            error,
        },
    )
}

pub async fn mapping(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let p = ctx.require()?.clone();
    let params: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let kind = kind_of(&ctx, &p, get("kind").as_ref())?;
    if kind != ImportKind::Workers {
        return Ok(Redirect::to(&format!("/imports/files/{id}/preview?kind={}", kind.code())).into_response());
    }
    let file = load_file(&app, &ctx, &p, id).await?;
    let table =
        read_table(&file.name, &file.bytes, Some(SAMPLES * 4)).map_err(|e| PageError::Internal(e.to_string()))?;
    let mut error = None;
    let mut saved_name = None;
    let mapping = if let Some(name) = get("saved").filter(|s| !s.is_empty()) {
        match app.store.mapping(&name).await? {
            Some(m) => {
                saved_name = Some(name);
                apply_saved(&table.headers, &m.headers, &m.mapping)
            }
            None => {
                error = Some(ctx.i.tp("import.unknown_mapping", &[("name", name)]));
                guess_mapping(&table.headers)
            }
        }
    } else {
        mapping_from_params(&params, table.headers.len()).unwrap_or_else(|| guess_mapping(&table.headers))
    };
    mapping_page(&app, &ctx, id, &file, &table, &mapping, saved_name, String::new(), error).await
}

/// The matching form: `action=preview` goes on to the check, `action=save`
/// keeps the matching under `name` for the next file from the same source.
pub async fn save_mapping(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let p = ctx.require()?.clone();
    ctx.check_csrf(&get("csrf"))?;
    let _ = kind_of(&ctx, &p, Some(&get("kind")))?;
    let file = load_file(&app, &ctx, &p, id).await?;
    let table =
        read_table(&file.name, &file.bytes, Some(SAMPLES * 4)).map_err(|e| PageError::Internal(e.to_string()))?;
    let mapping = mapping_from_params(&form, table.headers.len())
        .unwrap_or_else(|| ColumnMapping { columns: vec![None; table.headers.len()] });
    if get("action") == "save" {
        let name = get("name").trim().to_string();
        if name.is_empty() {
            let error = Some(ctx.i.t("import.mapping_name_required"));
            return mapping_page(&app, &ctx, id, &file, &table, &mapping, None, name, error).await;
        }
        match app.store.save_mapping(&p, &name, &table.headers, &mapping).await {
            Ok(_) => {}
            Err(StoreError::Invalid(errs)) => {
                let error = Some(errs.errors.iter().map(|e| ctx.i.field_error(e)).collect::<Vec<_>>().join(" "));
                return mapping_page(&app, &ctx, id, &file, &table, &mapping, None, name, error).await;
            }
            Err(e) => return Err(store_err(&ctx, e)),
        }
        flash(&ctx, "import.mapping_saved").await?;
        let q = serde_urlencoded::to_string([("kind", "workers"), ("saved", name.as_str())]).unwrap_or_default();
        return Ok(Redirect::to(&format!("/imports/files/{id}/mapping?{q}")).into_response());
    }
    let mut q = vec![("kind".to_string(), "workers".to_string())];
    q.extend(mapping_params(&mapping));
    let q = serde_urlencoded::to_string(&q).unwrap_or_default();
    if check_mapping(&mapping).is_err() {
        return Ok(Redirect::to(&format!("/imports/files/{id}/mapping?{q}")).into_response());
    }
    Ok(Redirect::to(&format!("/imports/files/{id}/preview?{q}")).into_response())
}

// ---------- preview (dry run) and commit ----------

pub struct DupView {
    pub row: u64,
    pub title: String,
    pub explanation: String,
    pub likeness: String,
    pub left_title: String,
    pub right_title: String,
    pub right_link: Option<String>,
    /// (field label, value in the file, value of the other record)
    pub lines: Vec<(String, String, String)>,
    pub choices: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "import_preview.html")]
struct PreviewPage {
    l: Layout,
    file_id: i64,
    file_name: String,
    kind: String,
    kind_label: String,
    counts: Counts,
    problems: Vec<ProblemView>,
    more_problems: usize,
    more_text: String,
    duplicates: Vec<DupView>,
    hidden: Vec<(String, String)>,
    partial: bool,
    back: Option<String>,
    error: Option<String>,
}

/// What a flow's forms and links carry: the kind, the matching and the decisions.
struct FlowParams {
    kind: ImportKind,
    mapping: ColumnMapping,
    decisions: BTreeMap<u64, DupDecision>,
    partial: bool,
}

/// The fields compared side by side for a likely duplicate.
const SIDE_BY_SIDE: [ImportField; 7] = [
    ImportField::NameKm,
    ImportField::NameLatin,
    ImportField::Sex,
    ImportField::DateOfBirth,
    ImportField::NationalId,
    ImportField::Phone,
    ImportField::WorkplaceCode,
];

fn worker_value(w: &Worker, f: ImportField, i: &I18n) -> String {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    match f {
        ImportField::NameKm => w.name_km.clone(),
        ImportField::NameLatin => w.name_latin.clone(),
        ImportField::Sex => i.label(w.sex),
        ImportField::DateOfBirth => date(w.date_of_birth),
        ImportField::NationalId => w.national_id.clone().unwrap_or_default(),
        ImportField::Phone => w.phone.clone().unwrap_or_default(),
        ImportField::WorkplaceCode => w.workplace_code.clone(),
        _ => String::new(),
    }
}

fn cell_value(mapping: &ColumnMapping, cells: Option<&Vec<String>>, f: ImportField) -> String {
    let Some(cells) = cells else { return String::new() };
    mapping.columns.iter().position(|c| *c == Some(f)).and_then(|n| cells.get(n)).cloned().unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
async fn dup_views(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    file: &LoadedFile,
    mapping: &ColumnMapping,
    found: &[DuplicateFound],
    chosen: &BTreeMap<u64, DupDecision>,
) -> Result<Vec<DupView>, PageError> {
    let mut wanted: BTreeSet<u64> = found.iter().map(|d| d.row).collect();
    wanted.extend(found.iter().filter_map(|d| match d.target {
        DupTarget::Row(r) => Some(r),
        _ => None,
    }));
    let cells = rows_by_number(&file.name, &file.bytes, &wanted);
    let mut out = Vec::new();
    for d in found {
        let decision = chosen.get(&d.row).copied().unwrap_or_else(|| default_decision(d.score));
        let mine = cells.get(&d.row);
        let (right_title, right_link, right): (String, Option<String>, Vec<String>) = match &d.target {
            DupTarget::Existing { worker_id, .. } => {
                // Only what the user may see of the existing record is shown.
                match app.store.get_worker(p, *worker_id).await? {
                    Some(w) => (
                        i.t("import.existing"),
                        Some(format!("/workers/{worker_id}")),
                        SIDE_BY_SIDE.iter().map(|f| worker_value(&w, *f, i)).collect(),
                    ),
                    None => (i.t("import.existing"), None, vec![i.t("common.not_found")]),
                }
            }
            DupTarget::Row(r) => (
                i.tp("import.other_row", &[("row", r.to_string())]),
                None,
                SIDE_BY_SIDE.iter().map(|f| cell_value(mapping, cells.get(r), *f)).collect(),
            ),
        };
        let lines = SIDE_BY_SIDE
            .iter()
            .enumerate()
            .map(|(n, f)| (i.label(*f), cell_value(mapping, mine, *f), right.get(n).cloned().unwrap_or_default()))
            .collect();
        let choices = [DupDecision::Merge, DupDecision::KeepBoth, DupDecision::Skip]
            .into_iter()
            // Merging is into a record of the registry, not into another row.
            .filter(|c| *c != DupDecision::Merge || matches!(d.target, DupTarget::Existing { .. }))
            .map(|c| Choice {
                value: decision_code(c).into(),
                label: i.t(&format!("decision.{}", decision_code(c))),
                selected: c == decision,
            })
            .collect();
        out.push(DupView {
            row: d.row,
            title: i.tp("import.in_file", &[("row", d.row.to_string())]),
            explanation: explanation(i, &d.reasons),
            likeness: i.tp("import.likeness", &[("score", d.score.to_string())]),
            left_title: i.tp("import.in_file", &[("row", d.row.to_string())]),
            right_title,
            right_link,
            lines,
            choices,
        });
    }
    Ok(out)
}

fn flow_params(ctx: &Ctx, p: &Principal, params: &[(String, String)], columns: usize) -> Result<FlowParams, PageError> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let kind = kind_of(ctx, p, get("kind").as_ref())?;
    Ok(FlowParams {
        kind,
        mapping: mapping_from_params(params, columns).unwrap_or_default(),
        decisions: decisions_from_params(params),
        partial: get("mode").as_deref() == Some("partial"),
    })
}

/// Runs the import (or its dry run) of a stored file: the report, or why the
/// file as a whole cannot be imported.
async fn run_import(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    file: &LoadedFile,
    flow: &FlowParams,
    dry_run: bool,
) -> Result<Result<ImportReport, Vec<String>>, PageError> {
    let reader = open_table(&file.name, &file.bytes).map_err(|e| PageError::Internal(e.to_string()))?;
    let headers = reader.headers().to_vec();
    let rows = store_rows(reader);
    let opts = WorkerImportOptions {
        dry_run,
        partial: flow.partial,
        decisions: flow.decisions.clone(),
        default_decision: DupDecision::Skip,
        file_name: file.name.clone(),
        file_sha256: file.sha256.clone(),
    };
    let other_opts = ImportOptions {
        dry_run,
        partial: flow.partial,
        file_name: file.name.clone(),
        file_sha256: file.sha256.clone(),
    };
    let report = match flow.kind {
        ImportKind::Workers => app.store.import_workers(p, &headers, rows, &flow.mapping, &opts, today()).await,
        ImportKind::Organizations => app.store.import_orgs(p, &headers, rows, &other_opts).await,
        ImportKind::Population => app.store.import_population(p, &headers, rows, &other_opts).await,
    };
    match report {
        Ok(r) => Ok(Ok(r)),
        // The file lacks a column the kind needs (organizations, population).
        Err(StoreError::Invalid(errs)) => Ok(Err(errs
            .errors
            .iter()
            .map(|e| {
                if e.code == "missing_required_column" {
                    i.tp("import.missing_column", &[("column", e.field.clone())])
                } else {
                    format!("{}: {}", e.field, i.field_error(e))
                }
            })
            .collect())),
        Err(StoreError::Forbidden) => Err(PageError::Forbidden(i.locale)),
        Err(e) => Err(e.into()),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[allow(clippy::too_many_arguments)]
async fn preview_page(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    file_id: i64,
    file: &LoadedFile,
    flow: &FlowParams,
    report: &ImportReport,
    error: Option<String>,
) -> PageResult {
    let i = ctx.i;
    let (problems, more) = problems(&i, report);
    let duplicates = dup_views(app, p, &i, file, &flow.mapping, &report.duplicates, &flow.decisions).await?;
    let mut hidden = vec![("kind".to_string(), flow.kind.code().to_string())];
    if flow.kind == ImportKind::Workers {
        hidden.extend(mapping_params(&flow.mapping));
    }
    let back = (flow.kind == ImportKind::Workers).then(|| {
        format!("/imports/files/{file_id}/mapping?{}", serde_urlencoded::to_string(&hidden).unwrap_or_default())
    });
    let l = layout(ctx, "imports").await?;
    let page = PreviewPage {
        l,
        file_id,
        file_name: file.name.clone(),
        kind: flow.kind.code().into(),
        kind_label: flow.kind.label(&i),
        counts: counts(report),
        more_text: i.tp("import.more_problems", &[("count", more.to_string())]),
        problems,
        more_problems: more,
        duplicates,
        hidden,
        partial: flow.partial,
        back,
        error: error.clone(),
    };
    if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    }
}

/// Fills in the default decision (by score) of every duplicate the user has
/// not decided on yet, so that the counts and the form agree.
fn with_defaults(found: &[DuplicateFound], chosen: &BTreeMap<u64, DupDecision>) -> BTreeMap<u64, DupDecision> {
    let mut all = chosen.clone();
    for d in found {
        all.entry(d.row).or_insert_with(|| default_decision(d.score));
    }
    all
}

pub async fn preview(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let p = ctx.require()?.clone();
    let params: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let file = load_file(&app, &ctx, &p, id).await?;
    let table = read_table(&file.name, &file.bytes, Some(0)).map_err(|e| PageError::Internal(e.to_string()))?;
    let mut flow = flow_params(&ctx, &p, &params, table.headers.len())?;
    if flow.kind == ImportKind::Workers && check_mapping(&flow.mapping).is_err() {
        let mut q = vec![("kind".to_string(), "workers".to_string())];
        if mapping_from_params(&params, table.headers.len()).is_some() {
            q.extend(mapping_params(&flow.mapping));
        }
        let q = serde_urlencoded::to_string(&q).unwrap_or_default();
        return Ok(Redirect::to(&format!("/imports/files/{id}/mapping?{q}")).into_response());
    }
    let mut report = match run_import(&app, &p, &ctx.i, &file, &flow, true).await? {
        Ok(r) => r,
        Err(problems) => return new_page(&ctx, &p, flow.kind, Some(problems.join(" "))).await,
    };
    let decided = with_defaults(&report.duplicates, &flow.decisions);
    if report.duplicates.iter().any(|d| decided.get(&d.row) != Some(&d.decision)) {
        flow.decisions = decided;
        report = match run_import(&app, &p, &ctx.i, &file, &flow, true).await? {
            Ok(r) => r,
            Err(problems) => return new_page(&ctx, &p, flow.kind, Some(problems.join(" "))).await,
        };
    } else {
        flow.decisions = decided;
    }
    preview_page(&app, &ctx, &p, id, &file, &flow, &report, None).await
}

pub async fn commit(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let csrf = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf)?;
    if form.iter().any(|(k, v)| k == "action" && v == "recheck") {
        // Check again with the decisions and mode chosen on the page.
        let keep: Vec<&(String, String)> = form.iter().filter(|(k, _)| k != "csrf" && k != "action").collect();
        let q = serde_urlencoded::to_string(&keep).unwrap_or_default();
        return Ok(Redirect::to(&format!("/imports/files/{id}/preview?{q}")).into_response());
    }
    let file = load_file(&app, &ctx, &p, id).await?;
    let table = read_table(&file.name, &file.bytes, Some(0)).map_err(|e| PageError::Internal(e.to_string()))?;
    let mut flow = flow_params(&ctx, &p, &form, table.headers.len())?;
    if flow.kind == ImportKind::Workers && check_mapping(&flow.mapping).is_err() {
        let mut q = vec![("kind".to_string(), "workers".to_string())];
        q.extend(mapping_params(&flow.mapping));
        let q = serde_urlencoded::to_string(&q).unwrap_or_default();
        return Ok(Redirect::to(&format!("/imports/files/{id}/mapping?{q}")).into_response());
    }
    let report = match run_import(&app, &p, &ctx.i, &file, &flow, false).await? {
        Ok(r) => r,
        Err(problems) => return new_page(&ctx, &p, flow.kind, Some(problems.join(" "))).await,
    };
    match report.import_id {
        Some(import_id) if report.committed => {
            flash(&ctx, "import.done").await?;
            Ok(Redirect::to(&format!("/imports/{import_id}?file={id}")).into_response())
        }
        _ => {
            flow.decisions = with_defaults(&report.duplicates, &flow.decisions);
            let error = ctx.i.tp("import.nothing_written", &[("count", report.rejected.len().to_string())]);
            preview_page(&app, &ctx, &p, id, &file, &flow, &report, Some(error)).await
        }
    }
}

// ---------- the audited result ----------

pub struct DupLine {
    pub row: u64,
    pub target: String,
    pub link: Option<String>,
    pub explanation: String,
    pub decision: String,
}

#[derive(Template)]
#[template(path = "import_result.html")]
struct ResultPage {
    l: Layout,
    title: String,
    username: String,
    at: String,
    kind_label: String,
    file_name: String,
    sha256: String,
    mode: String,
    outcome: String,
    counts: Counts,
    problems: Vec<ProblemView>,
    more_problems: usize,
    more_text: String,
    duplicates: Vec<DupLine>,
    rejected_link: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct FileParam {
    #[serde(default)]
    file: Option<i64>,
}

/// The stored file an import was made from: `file` names an uploaded file,
/// which counts only when the caller may see it and it is the very file of
/// the import (same SHA-256).
async fn file_of_import(
    app: &AppState,
    p: &Principal,
    rec: &ImportRecord,
    file: Option<i64>,
) -> Result<Option<LoadedFile>, PageError> {
    let Some(fid) = file else { return Ok(None) };
    match app.store.import_file(p, fid).await? {
        Some((meta, bytes)) if meta.sha256 == rec.summary.file_sha256 => {
            Ok(Some(LoadedFile { name: meta.file_name, bytes, sha256: meta.sha256 }))
        }
        _ => Ok(None),
    }
}

pub async fn result(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<FileParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(rec) = app.store.get_import(&p, id).await.map_err(|e| store_err(&ctx, e))? else {
        return Err(ctx.not_found());
    };
    let i = ctx.i;
    let report = rec.report.clone().unwrap_or_default();
    let (problems, more) = problems(&i, &report);
    let mut duplicates = Vec::new();
    for d in &report.duplicates {
        let (target, link) = match &d.target {
            DupTarget::Existing { worker_id, .. } => match app.store.get_worker(&p, *worker_id).await? {
                Some(w) => (format!("{} · {}", w.name_km, w.name_latin), Some(format!("/workers/{worker_id}"))),
                None => (i.t("common.not_found"), None),
            },
            DupTarget::Row(r) => (i.tp("import.other_row", &[("row", r.to_string())]), None),
        };
        duplicates.push(DupLine {
            row: d.row,
            target,
            link,
            explanation: explanation(&i, &d.reasons),
            decision: i.t(&format!("decision.{}", decision_code(d.decision))),
        });
    }
    let s = &rec.summary;
    let partial = s.mode == "partial";
    let rejected_link = (partial && s.rows_rejected > 0).then(|| match q.file {
        Some(f) => format!("/imports/{id}/rejected.csv?file={f}"),
        None => format!("/imports/{id}/rejected.csv"),
    });
    let l = layout(&ctx, "imports").await?;
    render(&ResultPage {
        title: i.tp("import.result_title", &[("id", id.to_string())]),
        username: s.username.clone(),
        at: s.at.clone(),
        kind_label: ImportKind::parse(&s.kind).map(|k| k.label(&i)).unwrap_or_else(|| s.kind.clone()),
        file_name: s.file_name.clone(),
        sha256: s.file_sha256.clone(),
        mode: if partial { i.t("import.mode_partial_short") } else { i.t("import.mode_all_short") },
        outcome: i.t("import.committed"),
        counts: Counts {
            rows_total: s.rows_total as u64,
            added: s.rows_added as u64,
            merged: s.rows_merged as u64,
            skipped: s.rows_duplicate_skipped as u64,
            rejected: s.rows_rejected as u64,
        },
        more_text: i.tp("import.more_problems", &[("count", more.to_string())]),
        problems,
        more_problems: more,
        duplicates,
        rejected_link,
        l,
    })
}

/// Exactly the rejected rows of an import, as the file had them, with a
/// `reason` column: corrected, the file can be imported again.
pub async fn rejected_csv(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<FileParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(rec) = app.store.get_import(&p, id).await.map_err(|e| store_err(&ctx, e))? else {
        return Err(ctx.not_found());
    };
    let report = rec.report.clone().unwrap_or_default();
    // The header row of the file, when the file is at hand; else generic names.
    let width = report.rejected.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    let headers = if !report.headers.is_empty() {
        report.headers.clone()
    } else {
        match file_of_import(&app, &p, &rec, q.file).await? {
            Some(f) => read_table(&f.name, &f.bytes, Some(0)).map(|t| t.headers).unwrap_or_default(),
            None => Vec::new(),
        }
    };
    let headers = if headers.is_empty() { (1..=width).map(|n| format!("column {n}")).collect() } else { headers };
    let body = rejected_rows_csv(&ctx.i, &headers, &report).map_err(|e| PageError::Internal(e.to_string()))?;
    let name = format!("import-{id}-rejected.csv");
    Ok(attachment(CSV_TYPE, &name, body))
}

/// The rejected rows of a report as CSV (UTF-8 with BOM), headers plus `reason`.
pub fn rejected_rows_csv(i: &I18n, headers: &[String], report: &ImportReport) -> Result<Vec<u8>, komlang_io::IoError> {
    let mut h = headers.to_vec();
    h.push("reason".into());
    let width = headers.len();
    let rows: Vec<Vec<String>> = report
        .rejected
        .iter()
        .map(|r| {
            let mut cells = r.cells.clone();
            cells.resize(width.max(cells.len()), String::new());
            cells.push(reason_text(i, r));
            cells
        })
        .collect();
    let h: Vec<&str> = h.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    komlang_io::write_csv(&mut out, &h, rows.into_iter())?;
    Ok(out)
}

// ---------- export ----------

/// Rows as CSV lines, as [`komlang_io::write_csv`] writes them (after its BOM and header).
fn csv_lines(rows: &[Vec<String>]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().flexible(true).terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for r in rows {
        w.write_record(r)?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

fn export_error(e: komlang_io::IoError) -> StoreError {
    StoreError::Io(std::io::Error::other(e.to_string()))
}

/// Every worker of a filtered list (all pages) in the caller's scope, as a
/// file to download: CSV (UTF-8 with BOM, streamed page by page) or XLSX.
pub async fn export_response(
    app: &AppState,
    p: &Principal,
    q: &WorkerQuery,
    format: ExportFormat,
) -> Result<Response, StoreError> {
    let stamp = today().format("%Y-%m-%d").to_string();
    let columns = komlang_store::EXPORT_COLUMNS;
    match format {
        ExportFormat::Csv => {
            let mut head = Vec::new();
            komlang_io::write_csv(&mut head, columns, std::iter::empty()).map_err(export_error)?;
            let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
            let (store, p, q) = (app.store.clone(), p.clone(), q.clone());
            tokio::spawn(async move {
                let mut pages = store.export_pages(&p, &q);
                loop {
                    let chunk = match pages.next_page().await {
                        Ok(Some(rows)) => csv_lines(&rows),
                        Ok(None) => break,
                        Err(e) => Err(std::io::Error::other(e.to_string())),
                    };
                    let failed = chunk.is_err();
                    if tx.send(chunk).await.is_err() || failed {
                        break;
                    }
                }
            });
            // The first page is read before answering, so that a failing
            // query is an error rather than a cut-off download.
            if let Some(first) = rx.recv().await {
                head.extend(first?);
            }
            let rest = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
            let body = futures_util::StreamExt::chain(futures_util::stream::once(async move { Ok(head) }), rest);
            let disposition = format!("attachment; filename=\"komlang-workers-{stamp}.csv\"");
            Ok((
                [
                    (header::CONTENT_TYPE, CSV_TYPE.to_string()),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                axum::body::Body::from_stream(body),
            )
                .into_response())
        }
        ExportFormat::Xlsx => {
            let mut rows = Vec::new();
            let mut pages = app.store.export_pages(p, q);
            while let Some(page) = pages.next_page().await? {
                rows.extend(page);
            }
            let bytes = tokio::task::spawn_blocking(move || {
                let mut out = std::io::Cursor::new(Vec::new());
                komlang_io::write_xlsx(&mut out, columns, rows.into_iter()).map(|_| out.into_inner())
            })
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?
            .map_err(export_error)?;
            Ok(attachment(XLSX_TYPE, &format!("komlang-workers-{stamp}.xlsx"), bytes))
        }
    }
}

async fn export(app: AppState, ctx: Ctx, f: WorkerFilters, format: ExportFormat) -> PageResult {
    let p = ctx.require()?.clone();
    let mut q = f.query();
    q.page = 1;
    export_response(&app, &p, &q, format).await.map_err(|e| store_err(&ctx, e))
}

pub async fn export_csv(State(app): State<AppState>, ctx: Ctx, Query(f): Query<WorkerFilters>) -> PageResult {
    export(app, ctx, f, ExportFormat::Csv).await
}

pub async fn export_xlsx(State(app): State<AppState>, ctx: Ctx, Query(f): Query<WorkerFilters>) -> PageResult {
    export(app, ctx, f, ExportFormat::Xlsx).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::Locale;

    #[test]
    fn row_errors_keep_their_numbers() {
        let mut e = RowError {
            row: 3,
            column: "Name".into(),
            field: "name_km".into(),
            value: "x".into(),
            code: "too_long".into(),
            params: Default::default(),
        };
        e.params.insert("max".into(), "200".into());
        assert!(row_error_text(&I18n::new(Locale::En), &e).contains("200"));
        e.params.clear();
        assert!(!row_error_text(&I18n::new(Locale::En), &e).contains("%{"));
    }
}
