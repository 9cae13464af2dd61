//! The certificate register (filters, export) and a printable certificate.

use askama::Template;
use axum::extract::{Path, Query, State};
use komlang_core::training::{normalize_number, CertificateLevel, NumberKind};
use komlang_core::*;
use komlang_store::{CertificateQuery, CERTIFICATE_EXPORT_COLUMNS};
use serde::Deserialize;

use super::catalogue::institution_view;
use super::events::date_of;
use super::shared::programme_title;
use crate::common::export::{export_format, page_download, FormatParam};
use crate::common::form_box::{query_string, select_choices, vchoices};
use crate::common::names::{pick, province_choices};
use crate::common::pagination::page_link;
use crate::common::{layout, render, store_err, Choice, Ctx, Layout, PageResult};
use crate::AppState;

/// Certificate register filters as they appear in the query string.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CertificateFilters {
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub programme: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub q: String,
    /// `valid`, `revoked` or empty.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub page: String,
}

impl CertificateFilters {
    pub fn query(&self) -> CertificateQuery {
        CertificateQuery {
            level: CertificateLevel::parse(&self.level),
            programme_id: self.programme.trim().parse().ok(),
            from: date_of(&self.from),
            to: date_of(&self.to),
            province: self.province.non_blank().map(str::to_string),
            district: None,
            q: self.q.non_blank().map(str::to_string),
            valid: match self.state.trim() {
                "valid" => Some(true),
                "revoked" => Some(false),
                _ => None,
            },
            page: self.page.trim().parse().unwrap_or(1),
            per_page: 50,
        }
    }

    pub fn query_string(&self) -> String {
        query_string(&[
            ("level", &self.level),
            ("programme", &self.programme),
            ("from", &self.from),
            ("to", &self.to),
            ("province", &self.province),
            ("q", &self.q),
            ("state", &self.state),
        ])
    }

    fn link(&self, page: i64) -> String {
        page_link(&self.query_string(), page)
    }
}

pub struct CertificateLine {
    pub number: String,
    pub level: String,
    pub programme_code: String,
    pub issued_on: String,
    pub valid: bool,
    pub revoked_on: String,
    pub worker_id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub workplace_code: String,
}

#[derive(Template)]
#[template(path = "training/certificates.html")]
struct CertificatesPage {
    l: Layout,
    f: CertificateFilters,
    levels: Vec<Choice>,
    programmes: Vec<Choice>,
    provinces: Vec<Choice>,
    states: Vec<Choice>,
    rows: Vec<CertificateLine>,
    total: i64,
    page_of: String,
    prev: Option<String>,
    next: Option<String>,
    query: String,
}

impl CertificatesPage {
    fn results(&self) -> String {
        self.l.i.tp("common.results", &[("total", self.total.to_string())])
    }
}

pub(super) async fn certificates_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(f): Query<CertificateFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let page = app.store.certificates(&p, &f.query()).await.map_err(|e| store_err(&ctx, e))?;
    let rows = page
        .items
        .iter()
        .map(|r| CertificateLine {
            number: r.certificate.number.clone(),
            level: i.t(&r.certificate.level.label_key()),
            programme_code: r.certificate.programme_code.clone(),
            issued_on: r.certificate.issued_on.to_string(),
            valid: r.certificate.valid,
            revoked_on: r.certificate.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
            worker_id: r.holder.id,
            name_km: r.holder.name_km.clone(),
            name_latin: r.holder.name_latin.clone(),
            workplace_code: r.holder.workplace_code.clone(),
        })
        .collect();
    let levels = vchoices(&i, CertificateLevel::ALL, CertificateLevel::code, CertificateLevel::label_key);
    let programmes: Vec<(String, String)> = app
        .store
        .programmes()
        .await?
        .iter()
        .filter(|x| x.level != CertificateLevel::Continuing)
        .map(|x| (x.id.to_string(), format!("{} · {}", x.code, programme_title(&i, x))))
        .collect();
    let states = vec![("valid".to_string(), i.t("training.valid")), ("revoked".to_string(), i.t("training.revoked"))];
    let l = layout(&ctx, "training").await?;
    render(&CertificatesPage {
        levels: select_choices(&levels, &f.level),
        programmes: select_choices(&programmes, &f.programme),
        provinces: province_choices(&app, &i, &p, &f.province).await?,
        states: select_choices(&states, &f.state),
        rows,
        total: page.total,
        page_of: i.tp("common.page_of", &[("page", page.page.to_string()), ("pages", page.pages().to_string())]),
        prev: (page.page > 1).then(|| f.link(page.page - 1)),
        next: (page.page < page.pages()).then(|| f.link(page.page + 1)),
        query: f.query_string(),
        f,
        l,
    })
}

#[derive(Template)]
#[template(path = "training/certificate_print.html")]
struct CertificatePrint {
    l: Layout,
    c: komlang_store::CertificateRow,
    level: String,
    programme: String,
    institution: String,
    credits: String,
    /// Where anyone checks it.
    verify_path: String,
}

/// A certificate laid out for printing, for whoever sees its holder's record.
pub(super) async fn print_certificate(State(app): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let Some(canonical) = normalize_number(NumberKind::Certificate, &number) else { return Err(ctx.not_found()) };
    let q = CertificateQuery { q: Some(canonical.clone()), page: 1, per_page: 5, ..Default::default() };
    let found = app.store.certificates(&p, &q).await.map_err(|e| store_err(&ctx, e))?;
    let Some(c) = found.items.into_iter().find(|r| r.certificate.number == canonical) else {
        return Err(ctx.not_found());
    };
    let institution = app
        .store
        .institutions()
        .await?
        .into_iter()
        .find(|x| x.code == c.certificate.institution_code)
        .map(|x| institution_view(&i, &x).name)
        .unwrap_or_else(|| c.certificate.institution_code.clone());
    let credits = match app.store.programme(c.certificate.programme_id).await? {
        Some(pr) => pr.credits_required.to_string(),
        None => String::new(),
    };
    let l = layout(&ctx, "training").await?;
    render(&CertificatePrint {
        level: i.t(&c.certificate.level.label_key()),
        programme: pick(&i, &c.certificate.programme_title_en, &c.certificate.programme_title_km),
        institution,
        credits,
        verify_path: format!("/verify/{}", c.certificate.number),
        c,
        l,
    })
}

pub(super) async fn export_certificates(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<CertificateFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let rows = app.store.certificate_export_rows(&p, &f.query()).await.map_err(|e| store_err(&ctx, e))?;
    page_download(&ctx, "komlang-certificates", format, CERTIFICATE_EXPORT_COLUMNS, rows).await
}
