//! The OpenAPI document at `/api/openapi.json`: every feature's part (its `*ApiDoc`) merged
//! into one, with the bearer-token security scheme.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::common::{ApiErrorBody, ApiFieldError, Gate, Routes};
use crate::{
    accounts, audit, competency, imports, licensing, organizations, planning, public, training, units, workers,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document's frame: its title, the error bodies every part uses, the security scheme.
#[derive(OpenApi)]
#[openapi(
    info(title = "Komlang API", description = "Registry of the social service workforce. Every call is limited to the caller's role and geographic scope: records outside it answer 404."),
    components(schemas(ApiErrorBody, ApiFieldError)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The whole document: the frame and every feature's part.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for part in [
        accounts::AccountsApiDoc::openapi(),
        workers::WorkersApiDoc::openapi(),
        organizations::OrganizationsApiDoc::openapi(),
        units::UnitsApiDoc::openapi(),
        audit::AuditApiDoc::openapi(),
        imports::ImportsApiDoc::openapi(),
        competency::CompetencyApiDoc::openapi(),
        planning::PlanningApiDoc::openapi(),
        training::TrainingApiDoc::openapi(),
        licensing::LicensingApiDoc::openapi(),
        public::PublicApiDoc::openapi(),
    ] {
        doc.merge(part);
    }
    doc
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

pub fn routes(r: Routes) -> Routes {
    r.get("/api/openapi.json", Gate::Public, openapi)
}
