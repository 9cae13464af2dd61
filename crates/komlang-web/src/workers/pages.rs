//! The worker list (filters and pages) and a worker's record with its postings and statuses.

use askama::Template;
use axum::extract::{Path, Query, State};
use komlang_core::*;
use komlang_store::{OrgRow, Page, WorkerProfile, WorkerQuery, WorkerRow};
use serde::Deserialize;

use super::forms::may_edit_worker;
use crate::common::forms::choices;
use crate::common::names::{org_display, province_choices, unit_name};
use crate::common::pagination::grouped;
use crate::common::{layout, render, Choice, Ctx, Layout, Locale, PageResult};
use crate::AppState;

/// Worker list filters as they appear in the query string.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct WorkerFilters {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub commune: String,
    #[serde(default)]
    pub cadre: String,
    #[serde(default)]
    pub sector: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub org_id: String,
    #[serde(default)]
    pub page: String,
}

impl WorkerFilters {
    pub fn query(&self) -> WorkerQuery {
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        WorkerQuery {
            q: opt(&self.q),
            province: opt(&self.province),
            district: opt(&self.district),
            commune: opt(&self.commune),
            cadre: Cadre::parse(&self.cadre),
            sector: Sector::parse(&self.sector),
            status: EmploymentStatus::parse(&self.status),
            role: WorkerRole::parse(&self.role),
            org_id: self.org_id.trim().parse().ok(),
            page: self.page.parse().unwrap_or(1),
            per_page: 50,
        }
    }

    /// Query string of these filters without the page (for the export links).
    pub fn export_query(&self) -> String {
        let link = self.link(1);
        match link.strip_suffix("page=1") {
            Some(rest) => rest.trim_end_matches('&').to_string(),
            None => link,
        }
        .trim_end_matches('?')
        .to_string()
    }

    /// Query string of these filters on another page.
    pub fn link(&self, page: i64) -> String {
        let pairs: Vec<(&str, String)> = [
            ("q", &self.q),
            ("province", &self.province),
            ("district", &self.district),
            ("commune", &self.commune),
            ("cadre", &self.cadre),
            ("sector", &self.sector),
            ("status", &self.status),
            ("role", &self.role),
            ("org_id", &self.org_id),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .chain(std::iter::once(("page", page.to_string())))
        .collect();
        format!("?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    }
}

#[derive(Template)]
#[template(path = "workers/list.html")]
struct WorkersPage {
    l: Layout,
    f: WorkerFilters,
    page: Page<WorkerRow>,
    provinces: Vec<Choice>,
    cadres: Vec<Choice>,
    sectors: Vec<Choice>,
    statuses: Vec<Choice>,
    roles: Vec<Choice>,
}

impl WorkersPage {
    fn prev(&self) -> Option<String> {
        (self.page.page > 1).then(|| self.f.link(self.page.page - 1))
    }
    fn next(&self) -> Option<String> {
        self.page.has_next().then(|| self.f.link(self.page.page + 1))
    }
    /// "Page 2 of 7", or "Page 2" when the count stopped at a bound (the last page is unknown).
    fn page_of(&self) -> String {
        if self.page.total_is_lower_bound {
            self.l.i.tp("common.page_n", &[("page", self.page.page.to_string())])
        } else {
            self.l
                .i
                .tp("common.page_of", &[("page", self.page.page.to_string()), ("pages", self.page.pages().to_string())])
        }
    }
    /// "Results: 42", or "Results: more than 1,000".
    fn results(&self) -> String {
        if self.page.total_is_lower_bound {
            self.l.i.tp("common.results_more_than", &[("total", grouped(self.page.total))])
        } else {
            self.l.i.tp("common.results", &[("total", self.page.total.to_string())])
        }
    }
    fn place(&self, w: &WorkerRow) -> String {
        unit_name(&self.l.i, &w.workplace_name_km, &w.workplace_name_en)
    }
}

pub(super) async fn workers(State(app): State<AppState>, ctx: Ctx, Query(f): Query<WorkerFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let page = app.store.list_workers(&p, &f.query()).await?;
    let provinces = province_choices(&app, &i, &p, &f.province).await?;
    let l = layout(&ctx, "workers").await?;
    render(&WorkersPage {
        cadres: choices(&i, Cadre::ALL, Cadre::code, &f.cadre),
        sectors: choices(&i, Sector::ALL, Sector::code, &f.sector),
        statuses: choices(&i, EmploymentStatus::ALL, EmploymentStatus::code, &f.status),
        roles: choices(&i, WorkerRole::ALL, WorkerRole::code, &f.role),
        provinces,
        l,
        f,
        page,
    })
}

#[derive(Template)]
#[template(path = "workers/worker.html")]
struct WorkerPage {
    l: Layout,
    w: Worker,
    org: Option<OrgRow>,
    place: Vec<AdminUnit>,
    postings: Vec<Posting>,
    /// The status history, each change with its reason's name (empty: none given).
    statuses: Vec<(StatusChange, String)>,
    can_edit: bool,
    /// Username of the worker's supervisor (competency assessments).
    supervisor: String,
    can_set_supervisor: bool,
    /// For a worker who left and whose record the caller changes: the reasons for leaving.
    exit_reasons: Vec<(String, String)>,
    /// The reason given for their leaving (its name).
    exit_reason: String,
    /// Their rank history (grade, step, from), latest first.
    ranks: Vec<komlang_store::costs::WorkerRank>,
    /// Their open cases in the case systems they are linked to.
    caseload: Vec<komlang_store::caseloads::WorkerCaseload>,
}

impl WorkerPage {
    fn place_text(&self) -> String {
        self.place
            .iter()
            .filter(|u| u.level != AdminLevel::Country)
            .map(|u| unit_name(&self.l.i, &u.name_km, &u.name_en))
            .collect::<Vec<_>>()
            .join(" › ")
    }
    fn org_name(&self) -> String {
        self.org.as_ref().map(|o| org_display(&self.l.i, &o.org)).unwrap_or_default()
    }
    fn date(d: &Option<chrono::NaiveDate>) -> String {
        d.map(|d| d.to_string()).unwrap_or_default()
    }
    fn posting_place(&self, p: &Posting) -> String {
        match self.l.i.locale {
            Locale::Km => p.workplace_name_km.clone(),
            Locale::En => p.workplace_name_en.clone(),
        }
        .unwrap_or_else(|| p.workplace_code.clone())
    }
}

pub(super) async fn worker(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    // Six queries, the worker row read once (docs/architecture.md).
    let Some(prof) = app.store.worker_profile(&p, id).await? else { return Err(ctx.not_found()) };
    let WorkerProfile { worker: w, org, place, postings, statuses, supervisor } = prof;
    let supervisor = supervisor.map(|s| s.username).unwrap_or_default();
    let can_set_supervisor = p.allows(Action::SetSupervisor, Target::worker(id));
    let given_any = statuses.iter().any(|s| s.reason.is_some());
    let reasons = if w.status.is_separated() || given_any { app.store.exit_reasons().await? } else { Vec::new() };
    let name = |r: &komlang_store::retention::ExitReason| crate::common::names::pick(&ctx.i, &r.name_en, &r.name_km);
    // Each separation's reason, by name, beside its row of the status history.
    let status_reasons: Vec<String> = statuses
        .iter()
        .map(|s| s.reason.as_ref().and_then(|g| reasons.iter().find(|r| &r.code == g)).map(name).unwrap_or_default())
        .collect();
    let (exit_reasons, exit_reason) = if w.status.is_separated() {
        let given = app.store.latest_exit_reason(id).await?;
        let given = given.and_then(|g| reasons.iter().find(|r| r.code == g)).map(name).unwrap_or_default();
        let choices = if may_edit_worker(&p, id) {
            reasons.iter().map(|r| (r.code.clone(), name(r))).collect()
        } else {
            Vec::new()
        };
        (choices, given)
    } else {
        (Vec::new(), String::new())
    };
    let statuses: Vec<(StatusChange, String)> = statuses.into_iter().zip(status_reasons).collect();
    let ranks = app.store.worker_ranks(&p, id).await?.unwrap_or_default();
    let caseload = app.store.worker_caseload(&p, id).await?;
    let l = layout(&ctx, "workers").await?;
    render(&WorkerPage {
        caseload,
        exit_reasons,
        exit_reason,
        ranks,
        can_edit: may_edit_worker(&p, id),
        l,
        w,
        org,
        place,
        postings,
        statuses,
        supervisor,
        can_set_supervisor,
    })
}
