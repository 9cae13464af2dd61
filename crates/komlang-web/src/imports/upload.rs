//! The list of imports and the upload of a file.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use komlang_core::*;

use super::files::{check_table, io_error_text, kind_of, ImportKind, MAX_UPLOAD_MB};
use crate::common::uploads::{read_upload_form, UploadForm};
use crate::common::{layout, render, render_status, store_err, Choice, Ctx, I18n, Layout, PageResult};
use crate::AppState;

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
#[template(path = "imports/list.html")]
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
    pub(super) page: String,
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

#[derive(Template)]
#[template(path = "imports/new.html")]
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

pub(super) async fn new_page(ctx: &Ctx, p: &Principal, kind: ImportKind, error: Option<String>) -> PageResult {
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
    pub(super) kind: Option<String>,
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
    let UploadForm { fields, file, too_large } = read_upload_form(&mut mp).await;
    ctx.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or(""))?;
    let kind = kind_of(&ctx, &p, fields.get("kind"))?;
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
    // The whole file is read once here (keeping no row), so that a wrong format or
    // encoding, or a file past a limit, is explained now rather than after the matching.
    if let Err(e) = check_table(&app.config.upload_limits, &name, &bytes) {
        return new_page(&ctx, &p, kind, Some(io_error_text(&i, &e))).await;
    }
    let id = app.store.save_import_file(&p, &name, &bytes).await.map_err(|e| store_err(&ctx, e))?;
    let next = match kind {
        ImportKind::Workers => format!("/imports/files/{id}/mapping?kind=workers"),
        other => format!("/imports/files/{id}/preview?kind={}", other.code()),
    };
    Ok(Redirect::to(&next).into_response())
}
