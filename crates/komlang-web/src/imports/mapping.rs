//! Matching the columns of a worker file to the registry's fields (and saving a matching
//! for the next file from the same source). The matching travels in the forms and links.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::import::{check_mapping, guess_mapping, ColumnMapping, ImportField, MappingError};
use komlang_core::*;
use komlang_store::StoreError;

use super::files::{kind_of, load_file, read_table_within, ImportKind, LoadedFile, Table};
use crate::common::{flash, layout, render_status, store_err, Choice, Ctx, I18n, Layout, PageError, PageResult};
use crate::AppState;

/// Sample values shown per column on the matching page.
const SAMPLES: usize = 3;

/// `c0=name_km&c1=&c2=sex…` (one entry per column; empty: ignored).
pub(super) fn mapping_from_params(params: &[(String, String)], columns: usize) -> Option<ColumnMapping> {
    let map: HashMap<&str, &str> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if !(0..columns).any(|i| map.contains_key(format!("c{i}").as_str())) {
        return None;
    }
    let columns = (0..columns).map(|i| map.get(format!("c{i}").as_str()).and_then(|v| ImportField::parse(v))).collect();
    Some(ColumnMapping { columns })
}

pub(super) fn mapping_params(m: &ColumnMapping) -> Vec<(String, String)> {
    m.columns
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("c{i}"), f.map(|f| f.code().to_string()).unwrap_or_default()))
        .collect()
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

pub struct ColumnView {
    pub index: usize,
    pub header: String,
    pub samples: Vec<String>,
    pub options: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "imports/mapping.html")]
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
    let table = read_table_within(&app.config.upload_limits, &file.name, &file.bytes, Some(SAMPLES * 4))
        .map_err(|e| PageError::Internal(e.to_string()))?;
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
    let table = read_table_within(&app.config.upload_limits, &file.name, &file.bytes, Some(SAMPLES * 4))
        .map_err(|e| PageError::Internal(e.to_string()))?;
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
