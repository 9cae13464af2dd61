//! The data planning uses (indicators, caseloads, vacancies): the page and the upload of a
//! file (national administrators).

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use komlang_core::{Action, FieldError, Principal};
use komlang_store::planning::{CaseloadRow, IndicatorRow, VacancyRow};
use komlang_store::StoreError;

use super::shared::{error_text, field_label, store_error};
use crate::common::{layout, render_status, Ctx, Layout, PageResult};
use crate::AppState;

/// Kinds of per-unit data and the columns of their files.
pub const DATA_KINDS: &[(&str, &[&str])] = &[
    ("indicators", &["admin_code", "name", "year", "value"]),
    ("caseloads", &["admin_code", "open_cases", "as_of"]),
    ("vacancies", &["admin_code", "vacancies", "as_of"]),
];

/// Rows of a data file, checked cell by cell (row numbers as a spreadsheet shows them).
pub enum DataRows {
    Indicators(Vec<IndicatorRow>),
    Caseloads(Vec<CaseloadRow>),
    Vacancies(Vec<VacancyRow>),
}

/// Problems of a data file listed in full; the others are counted ([`capped`]).
pub const MAX_DATA_ERRORS: usize = 1_000;

/// The first [`MAX_DATA_ERRORS`] problems, then one that says how many more there are: a
/// file of many bad rows must not make a page (and a list in memory) as big as itself.
pub fn capped(mut errs: Vec<FieldError>, more: usize) -> Vec<FieldError> {
    let more = more + errs.len().saturating_sub(MAX_DATA_ERRORS);
    errs.truncate(MAX_DATA_ERRORS);
    if more > 0 {
        errs.push(FieldError::new("file", "more_errors").with("count", more));
    }
    errs
}

/// Reads a CSV or XLSX file of one kind of data, within `limits`.
pub fn read_data(
    kind: &str,
    file_name: &str,
    bytes: Vec<u8>,
    limits: komlang_io::ReadLimits,
) -> Result<DataRows, Vec<FieldError>> {
    let Some((_, columns)) = DATA_KINDS.iter().find(|(k, _)| *k == kind) else {
        return Err(vec![FieldError::new("kind", "invalid_choice")]);
    };
    let reader = komlang_io::TableReader::from_bytes_with(file_name, bytes, limits)
        .map_err(|e| vec![FieldError::new("file", "invalid_file").with("message", e.to_string())])?;
    let headers: Vec<String> = reader.headers().iter().map(|h| h.trim().to_lowercase()).collect();
    let mut idx = Vec::new();
    let mut errs = Vec::new();
    for c in columns.iter() {
        match headers.iter().position(|h| h == c) {
            Some(i) => idx.push(i),
            None => errs.push(FieldError::new(c, "missing_required_column")),
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut ind = Vec::new();
    let mut cases = Vec::new();
    let mut vac = Vec::new();
    let mut more = 0usize;
    for item in reader {
        let (row, cells) =
            item.map_err(|e| vec![FieldError::new("file", "invalid_file").with("message", e.to_string())])?;
        let cell = |k: usize| cells.get(idx[k]).map(|s| s.trim().to_string()).unwrap_or_default();
        let mut bad = |field: &str, code: &str, v: String| {
            if errs.len() < MAX_DATA_ERRORS {
                errs.push(FieldError::new(field, code).with("row", row).with("value", v));
            } else {
                more += 1;
            }
        };
        match kind {
            "indicators" => {
                let year = cell(2).parse::<i32>();
                let value = cell(3).replace(',', ".").parse::<f64>().ok().filter(|v| v.is_finite());
                if year.is_err() {
                    bad("year", "invalid_year", cell(2));
                }
                if value.is_none() {
                    bad("value", "invalid_number", cell(3));
                }
                if let (Ok(year), Some(value)) = (year, value) {
                    ind.push(IndicatorRow { admin_code: cell(0), name: cell(1), year, value });
                }
            }
            "caseloads" => {
                let n = cell(1).replace([',', ' '], "").parse::<u64>();
                let d = parse_date(&cell(2));
                if n.is_err() {
                    bad("open_cases", "invalid_number", cell(1));
                }
                if d.is_none() {
                    bad("as_of", "invalid_date", cell(2));
                }
                if let (Ok(open_cases), Some(as_of)) = (n, d) {
                    cases.push(CaseloadRow { admin_code: cell(0), open_cases, as_of });
                }
            }
            _ => {
                let n = cell(1).replace([',', ' '], "").parse::<u32>();
                let d = parse_date(&cell(2));
                if n.is_err() {
                    bad("vacancies", "invalid_number", cell(1));
                }
                if d.is_none() {
                    bad("as_of", "invalid_date", cell(2));
                }
                if let (Ok(vacancies), Some(as_of)) = (n, d) {
                    vac.push(VacancyRow { admin_code: cell(0), vacancies, as_of });
                }
            }
        }
    }
    if !errs.is_empty() {
        return Err(capped(errs, more));
    }
    Ok(match kind {
        "indicators" => DataRows::Indicators(ind),
        "caseloads" => DataRows::Caseloads(cases),
        _ => DataRows::Vacancies(vac),
    })
}

fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Saves rows of per-unit data; how many.
pub async fn save_data(app: &AppState, p: &Principal, rows: &DataRows) -> Result<usize, StoreError> {
    match rows {
        DataRows::Indicators(r) => app.store.save_indicators(p, r).await,
        DataRows::Caseloads(r) => app.store.save_caseloads(p, r).await,
        DataRows::Vacancies(r) => app.store.save_vacancies(p, r).await,
    }
}

#[derive(Template)]
#[template(path = "planning/data.html")]
struct DataPage {
    l: Layout,
    can_manage: bool,
    indicators: Vec<String>,
    kinds: Vec<(String, String, String)>,
    kind: String,
    errors: Vec<String>,
    saved: Option<String>,
}

impl DataPage {
    fn is_kind(&self, code: &str) -> bool {
        self.kind == code
    }
}

async fn data_page_with(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    kind: String,
    errors: Vec<String>,
    saved: Option<String>,
) -> PageResult {
    let i = ctx.i;
    let indicators = app.store.indicator_names().await.map_err(|e| store_error(ctx, e))?;
    let kinds = DATA_KINDS
        .iter()
        .map(|(k, cols)| (k.to_string(), i.t(&format!("planning.data_{k}")), cols.join(",")))
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let l = layout(ctx, "planning").await?;
    render_status(status, &DataPage { l, can_manage: p.may(Action::KeepNorms), indicators, kinds, kind, errors, saved })
}

pub(super) async fn data_page(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    data_page_with(&app, &ctx, &p, "indicators".into(), Vec::new(), None).await
}

/// Largest data file accepted (the body limit of the router is 2 MB).
const MAX_DATA_FILE: usize = 2 * 1024 * 1024;

pub(super) async fn upload_data(
    State(app): State<AppState>,
    ctx: Ctx,
    mp: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let p = ctx.require()?.clone();
    // A post that is not a readable multipart form has no readable CSRF token.
    let Ok(mut mp) = mp else { return Err(ctx.forbidden()) };
    let mut csrf = String::new();
    let mut kind = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut too_large = false;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => match field.name().unwrap_or("") {
                "csrf" => csrf = field.text().await.unwrap_or_default(),
                "kind" => kind = field.text().await.unwrap_or_default(),
                "file" => {
                    let name = field.file_name().unwrap_or("").to_string();
                    match field.bytes().await {
                        Ok(b) if b.len() <= MAX_DATA_FILE => file = Some((name, b.to_vec())),
                        _ => {
                            too_large = true;
                            break;
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) => {
                too_large = true;
                break;
            }
        }
    }
    ctx.check_csrf(&csrf)?;
    let i = ctx.i;
    if !DATA_KINDS.iter().any(|(k, _)| *k == kind) {
        kind = "indicators".into();
    }
    let fail = |errs: Vec<FieldError>| {
        errs.iter().map(|e| format!("{}: {}", field_label(&i, &e.field), error_text(&i, e))).collect::<Vec<_>>()
    };
    if too_large {
        return data_page_with(&app, &ctx, &p, kind, vec![i.t("planning.file_too_large")], None).await;
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return data_page_with(&app, &ctx, &p, kind, vec![i.t("planning.no_file")], None).await;
    };
    let rows = match read_data(&kind, &name, bytes, app.config.upload_limits) {
        Ok(r) => r,
        Err(errs) => return data_page_with(&app, &ctx, &p, kind, fail(errs), None).await,
    };
    match save_data(&app, &p, &rows).await {
        Ok(n) => {
            let msg = i.tp("planning.data_saved", &[("n", n.to_string())]);
            data_page_with(&app, &ctx, &p, kind, Vec::new(), Some(msg)).await
        }
        Err(StoreError::Invalid(v)) => data_page_with(&app, &ctx, &p, kind, fail(capped(v.errors, 0)), None).await,
        Err(e) => Err(store_error(&ctx, e)),
    }
}
