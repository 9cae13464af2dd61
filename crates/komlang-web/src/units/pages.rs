//! Administrative units (provinces, districts, communes, villages): reference data every
//! account reads.

use askama::Template;
use axum::extract::{Path, Query, State};
use komlang_core::*;
use komlang_store::AdminUnitQuery;
use serde::Deserialize;

use crate::common::names::unit_name;
use crate::common::{layout, render, Ctx, Layout, Locale, PageResult};
use crate::AppState;

#[derive(Deserialize, Default)]
pub(super) struct UnitFilters {
    #[serde(default)]
    pub(super) q: String,
}

#[derive(Template)]
#[template(path = "units/units.html")]
struct UnitsPage {
    l: Layout,
    q: String,
    unit: Option<AdminUnit>,
    path: Vec<AdminUnit>,
    units: Vec<AdminUnit>,
}

impl UnitsPage {
    fn name(&self, u: &AdminUnit) -> String {
        unit_name(&self.l.i, &u.name_km, &u.name_en)
    }
    fn other_name(&self, u: &AdminUnit) -> String {
        match self.l.i.locale {
            Locale::Km => u.name_en.clone(),
            Locale::En => u.name_km.clone(),
        }
    }
}

pub(super) async fn units(State(app): State<AppState>, ctx: Ctx, Query(f): Query<UnitFilters>) -> PageResult {
    ctx.require()?;
    let units = if f.q.trim().is_empty() {
        match app.store.country().await? {
            Some(c) => app.store.admin_children(&c.code).await?,
            None => Vec::new(),
        }
    } else {
        app.store
            .admin_units(&AdminUnitQuery { q: Some(f.q.clone()), page: 1, per_page: 200, ..Default::default() })
            .await?
            .items
    };
    let l = layout(&ctx, "units").await?;
    render(&UnitsPage { l, q: f.q, unit: None, path: Vec::new(), units })
}

pub(super) async fn unit(State(app): State<AppState>, ctx: Ctx, Path(code): Path<String>) -> PageResult {
    ctx.require()?;
    let Some(u) = app.store.admin_unit(&code).await? else { return Err(ctx.not_found()) };
    let path = app.store.admin_path(&code).await?;
    let units = app.store.admin_children(&code).await?;
    let l = layout(&ctx, "units").await?;
    render(&UnitsPage { l, q: String::new(), unit: Some(u), path, units })
}
