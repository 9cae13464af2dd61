//! The home page (an overview of the workers in the caller's scope) and `/me`.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use komlang_core::*;

use crate::common::names::unit_name;
use crate::common::{layout, render, today, Ctx, I18n, Layout, PageError, PageResult};
use crate::AppState;

#[derive(Template)]
#[template(path = "workers/home.html")]
struct HomePage {
    l: Layout,
    scope: String,
    total: i64,
    groups: Vec<(String, Vec<Bar>)>,
    /// Workers in post with a valid certificate, and with a valid licence.
    certified: i64,
    licensed: i64,
}

pub struct Bar {
    pub label: String,
    pub count: i64,
    pub max: i64,
    pub href: String,
}

async fn scope_name(app: &AppState, i: &I18n, p: &Principal) -> Result<String, PageError> {
    Ok(match &p.scope {
        Scope::Nation => i.t("home.nation"),
        Scope::Unit { code, .. } => match app.store.admin_unit(code).await? {
            Some(u) => format!("{} ({})", unit_name(i, &u.name_km, &u.name_en), i.label(u.level)),
            None => code.clone(),
        },
    })
}

pub(super) async fn home(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    // A worker's account reads only its own record: its home is its profile.
    if !p.may_in_scope(Action::ReadWorkers) {
        return Ok(Redirect::to("/me").into_response());
    }
    let i = ctx.i;
    let mut groups = Vec::new();
    let mut total = 0;
    let by = [("cadre", "home.by_cadre"), ("sector", "home.by_sector"), ("status", "home.by_status")];
    let all = app.store.count_workers_by_each(&p, &by.map(|b| b.0)).await?;
    for ((col, title), counts) in by.into_iter().zip(all) {
        total = counts.iter().map(|(_, n)| n).sum();
        let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
        let bars = counts
            .into_iter()
            .map(|(code, count)| Bar {
                label: i.code_label(col, &code),
                count,
                max,
                href: format!("/workers?{}", serde_urlencoded::to_string([(col, &code)]).unwrap_or_default()),
            })
            .collect();
        groups.push((i.t(title), bars));
    }
    let scope = scope_name(&app, &i, &p).await?;
    let (certified, licensed) = app.store.certified_and_licensed(&p, today()).await?;
    let l = layout(&ctx, "home").await?;
    render(&HomePage { l, scope, total, groups, certified, licensed })
}

pub(super) async fn me(ctx: Ctx) -> PageResult {
    let p = ctx.require()?;
    match p.worker_id {
        Some(id) => Ok(Redirect::to(&format!("/workers/{id}")).into_response()),
        None => Ok(Redirect::to("/").into_response()),
    }
}
