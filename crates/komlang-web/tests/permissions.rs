//! Access control over HTTP, on every engine: every page and API route, called
//! as every role, against records inside and outside the role's scope.
//!
//! The expectations are written from the rules, not read from the code under
//! test: national roles see everything; a provincial officer sees their
//! province (workers working there, organizations located there); a district
//! officer their district; an organization's HR manager only that
//! organization's staff and the organization itself; a worker only their own
//! record and their employer. Only the national administrator deletes and
//! reads the audit log; the national viewer writes nothing; a worker changes
//! only phone, email and education on their own record. Records outside a
//! caller's scope answer 404 (never 403, which would confirm they exist), are
//! never counted, and their names never appear in a page or API answer.
//!
//! Every route is listed in [`ROUTES`]; the first test compares it with the
//! application's route table (`komlang_web::route_table()`), so that a route
//! added without an entry here fails the suite. Each route's gate is checked
//! against the expectations: a role that does not hold the gate's action is
//! expected to get 403 from every check of the route, and only public routes
//! are served without credentials.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use std::collections::BTreeSet;

use common::{browser, csrf_of, login, TestApp, Texts};
use komlang_core::validate::{OrgInput, WorkerInput};
use komlang_core::{FieldError, Principal, UserRole, Worker};
use komlang_store::testing::engines;
use komlang_store::{system_principal, Engine, OrgQuery, WorkerChange, WorkerQuery};
use komlang_web::common::i18n::Locale;
use komlang_web::Gate;
use reqwest::{Client, Method};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// The route table
// ---------------------------------------------------------------------------

/// How the matrix exercises a page route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageOp {
    Home,
    /// The field app's page and its data.
    Field,
    /// A change sent from the field app.
    FieldChange,
    /// The manifest, the service worker, the scripts and the icon.
    Assets,
    LoginForm,
    Login,
    Logout,
    Lang,
    Me,
    Workers,
    CreateWorker,
    NewWorker,
    Worker,
    UpdateWorker,
    EditWorker,
    DeleteWorker,
    Orgs,
    CreateOrg,
    NewOrg,
    Org,
    UpdateOrg,
    EditOrg,
    DeleteOrg,
    Units,
    Unit,
    Audit,
    About,
    Health,
    /// `/readyz`: for load balancers, anyone.
    Ready,
    /// `/metrics`: past the gate, only the metrics token opens it; no account's credentials do.
    Metrics,
    Css,
    ExportCsv,
    ExportXlsx,
    Imports,
    Upload,
    NewImport,
    ImportMapping,
    SaveMapping,
    ImportPreview,
    ImportCommit,
    ImportResult,
    RejectedCsv,
    Competencies,
    Requirements,
    SaveRequirements,
    Assessments,
    CreateAssessment,
    NewAssessment,
    SetSupervisor,
    WorkerGaps,
    Assessment,
    UpdateAssessment,
    EditAssessment,
    DeleteAssessment,
    CompetencyGaps,
    TrainingNeeds,
    CompetencyExport,
    PlanningIndex,
    PlanningCoverage,
    PlanningNorms,
    AddNorm,
    CreatePlan,
    NewPlan,
    PlanPage,
    PlanPrint,
    ComparePlans,
    Supply,
    PlanningData,
    UploadData,
    /// Training, certificates and licences (checked by `training_page`).
    Training,
    /// The establishment: posts and vacancies (checked by `establishment_page`).
    Establishment,
    /// Supervision (checked by `supervision_page`).
    Supervision,
    /// Costs (checked by `costs_page`).
    Costs,
    /// Retention (checked by `retention_page`).
    Retention,
    /// Caseloads from the case systems (checked by `caseloads_page`).
    Caseloads,
    /// The recruitment need and its settings (checked by `recruitment_page`).
    Recruitment,
    /// Appraisals and job descriptions (checked by `appraisals_page`).
    Appraisals,
    /// Recruitment rounds and placements (checked by `hiring_page`).
    Hiring,
    /// Public pages: certificate verification and the licence register.
    Public,
    /// An account changing its own password (checked by `own_password_page`).
    OwnPassword,
    /// The accounts pages of national administrators (checked by `accounts_page`).
    Accounts,
}

/// How the matrix exercises an API route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApiOp {
    OpenApi,
    Me,
    Workers,
    CreateWorker,
    Worker,
    PatchWorker,
    DeleteWorker,
    Postings,
    Statuses,
    Orgs,
    CreateOrg,
    Org,
    PatchOrg,
    DeleteOrg,
    Units,
    Unit,
    Audit,
    ExportWorkers,
    Imports,
    ImportWorkers,
    Import,
    Frameworks,
    CurrentFramework,
    Framework,
    Assessments,
    CreateAssessment,
    WorkerGaps,
    Assessment,
    PutAssessment,
    DeleteAssessment,
    Gaps,
    TrainingNeeds,
    CompetencyExport,
    PlanningCoverage,
    PlanningNorms,
    AddNorm,
    PlanningPlans,
    CreatePlan,
    Plan,
    Supply,
    Indicators,
    Caseloads,
    Vacancies,
    /// Training, certificates and licences (checked by `training_api`).
    Training,
    /// The establishment: posts and vacancies (checked by `establishment_api`).
    Establishment,
    /// Supervision (checked by `supervision_api`).
    Supervision,
    /// Costs (checked by `costs_api`).
    Costs,
    /// Retention (checked by `retention_api`).
    Retention,
    /// Caseloads from the case systems (checked by `caseloads_api`).
    CaseSystems,
    /// The recruitment need and its settings (checked by `recruitment_api`).
    Recruitment,
    /// Appraisals and job descriptions (checked by `appraisals_api`).
    Appraisals,
    /// Recruitment rounds and placements (checked by `hiring_api`).
    Hiring,
    /// The public certificate check and licence register.
    Public,
    /// The accounts of the system (checked by `accounts_api`).
    Accounts,
    /// The FHIR registry under /fhir/r4 (bearer tokens, as the API; checked by `fhir_api`).
    Fhir,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Page(PageOp),
    Api(ApiOp),
}

struct Route {
    method: &'static str,
    /// The full path as served (API routes with their `/api` prefix).
    path: &'static str,
    op: Op,
}

const fn page(method: &'static str, path: &'static str, op: PageOp) -> Route {
    Route { method, path, op: Op::Page(op) }
}

const fn api(method: &'static str, path: &'static str, op: ApiOp) -> Route {
    Route { method, path, op: Op::Api(op) }
}

/// Every route the application serves, with how it is checked.
const ROUTES: &[Route] = &[
    // accounts, workers, organizations, units, imports, audit, public: pages
    page("GET", "/", PageOp::Home),
    page("GET", "/login", PageOp::LoginForm),
    page("POST", "/login", PageOp::Login),
    page("POST", "/logout", PageOp::Logout),
    page("GET", "/lang/{code}", PageOp::Lang),
    page("GET", "/account/password", PageOp::OwnPassword),
    page("POST", "/account/password", PageOp::OwnPassword),
    page("GET", "/accounts", PageOp::Accounts),
    page("GET", "/accounts/{id}", PageOp::Accounts),
    page("POST", "/accounts/{id}/disable", PageOp::Accounts),
    page("POST", "/accounts/{id}/enable", PageOp::Accounts),
    page("POST", "/accounts/{id}/password", PageOp::Accounts),
    page("POST", "/accounts/{id}/sessions/end", PageOp::Accounts),
    page("POST", "/accounts/{id}/tokens", PageOp::Accounts),
    page("POST", "/accounts/{id}/tokens/revoke", PageOp::Accounts),
    page("POST", "/accounts/{id}/tokens/{token_id}/revoke", PageOp::Accounts),
    page("GET", "/me", PageOp::Me),
    page("GET", "/workers", PageOp::Workers),
    page("POST", "/workers", PageOp::CreateWorker),
    page("GET", "/workers/new", PageOp::NewWorker),
    page("GET", "/workers/export.csv", PageOp::ExportCsv),
    page("GET", "/workers/export.xlsx", PageOp::ExportXlsx),
    page("GET", "/workers/{id}", PageOp::Worker),
    page("POST", "/workers/{id}", PageOp::UpdateWorker),
    page("GET", "/workers/{id}/edit", PageOp::EditWorker),
    page("POST", "/workers/{id}/delete", PageOp::DeleteWorker),
    page("GET", "/organizations", PageOp::Orgs),
    page("POST", "/organizations", PageOp::CreateOrg),
    page("GET", "/organizations/new", PageOp::NewOrg),
    page("GET", "/organizations/{id}", PageOp::Org),
    page("POST", "/organizations/{id}", PageOp::UpdateOrg),
    page("GET", "/organizations/{id}/edit", PageOp::EditOrg),
    page("POST", "/organizations/{id}/delete", PageOp::DeleteOrg),
    page("GET", "/admin-units", PageOp::Units),
    page("GET", "/admin-units/{code}", PageOp::Unit),
    page("GET", "/imports", PageOp::Imports),
    page("POST", "/imports", PageOp::Upload),
    page("GET", "/imports/new", PageOp::NewImport),
    page("GET", "/imports/files/{id}/mapping", PageOp::ImportMapping),
    page("POST", "/imports/files/{id}/mapping", PageOp::SaveMapping),
    page("GET", "/imports/files/{id}/preview", PageOp::ImportPreview),
    page("POST", "/imports/files/{id}/commit", PageOp::ImportCommit),
    page("GET", "/imports/{id}", PageOp::ImportResult),
    page("GET", "/imports/{id}/rejected.csv", PageOp::RejectedCsv),
    page("GET", "/audit", PageOp::Audit),
    page("GET", "/about", PageOp::About),
    // competency: pages
    page("GET", "/competencies", PageOp::Competencies),
    page("GET", "/competencies/requirements", PageOp::Requirements),
    page("POST", "/competencies/requirements", PageOp::SaveRequirements),
    page("GET", "/workers/{id}/assessments", PageOp::Assessments),
    page("POST", "/workers/{id}/assessments", PageOp::CreateAssessment),
    page("GET", "/workers/{id}/assessments/new", PageOp::NewAssessment),
    page("POST", "/workers/{id}/supervisor", PageOp::SetSupervisor),
    page("GET", "/workers/{id}/competency-gaps", PageOp::WorkerGaps),
    page("GET", "/assessments/{id}", PageOp::Assessment),
    page("POST", "/assessments/{id}", PageOp::UpdateAssessment),
    page("GET", "/assessments/{id}/edit", PageOp::EditAssessment),
    page("POST", "/assessments/{id}/delete", PageOp::DeleteAssessment),
    page("GET", "/competency/gaps", PageOp::CompetencyGaps),
    page("GET", "/competency/training-needs", PageOp::TrainingNeeds),
    page("GET", "/competency/export", PageOp::CompetencyExport),
    // planning: pages
    page("GET", "/planning", PageOp::PlanningIndex),
    page("GET", "/planning/coverage", PageOp::PlanningCoverage),
    page("GET", "/planning/norms", PageOp::PlanningNorms),
    page("POST", "/planning/norms", PageOp::AddNorm),
    page("POST", "/planning/plans", PageOp::CreatePlan),
    page("GET", "/planning/plans/new", PageOp::NewPlan),
    page("GET", "/planning/plans/{id}", PageOp::PlanPage),
    page("GET", "/planning/plans/{id}/print", PageOp::PlanPrint),
    page("GET", "/planning/compare", PageOp::ComparePlans),
    page("GET", "/planning/supply", PageOp::Supply),
    page("GET", "/planning/data", PageOp::PlanningData),
    page("POST", "/planning/data", PageOp::UploadData),
    page("GET", "/establishment", PageOp::Establishment),
    page("GET", "/establishment/export", PageOp::Establishment),
    page("POST", "/establishment/records", PageOp::Establishment),
    page("GET", "/establishment/posts", PageOp::Establishment),
    page("POST", "/establishment/posts", PageOp::Establishment),
    page("POST", "/establishment/posts/{id}/fill", PageOp::Establishment),
    page("POST", "/establishment/posts/{id}/vacate", PageOp::Establishment),
    page("POST", "/establishment/posts/{id}/end", PageOp::Establishment),
    page("GET", "/establishment/approve", PageOp::Establishment),
    page("POST", "/establishment/approve", PageOp::Establishment),
    page("GET", "/costs", PageOp::Costs),
    page("POST", "/workers/{id}/ranks", PageOp::Costs),
    page("GET", "/costs/export", PageOp::Costs),
    page("GET", "/retention", PageOp::Retention),
    page("GET", "/retention/export", PageOp::Retention),
    page("POST", "/retention/reasons", PageOp::Retention),
    page("POST", "/retention/ccwc-term", PageOp::Retention),
    page("GET", "/recruitment", PageOp::Recruitment),
    page("GET", "/recruitment/export", PageOp::Recruitment),
    page("POST", "/recruitment/settings", PageOp::Recruitment),
    page("GET", "/appraisals", PageOp::Appraisals),
    page("GET", "/appraisals/export", PageOp::Appraisals),
    page("GET", "/appraisals/list", PageOp::Appraisals),
    page("POST", "/appraisals/settings", PageOp::Appraisals),
    page("GET", "/appraisals/workers/{id}", PageOp::Appraisals),
    page("POST", "/appraisals/workers/{id}", PageOp::Appraisals),
    page("GET", "/appraisals/{id}", PageOp::Appraisals),
    page("POST", "/appraisals/{id}", PageOp::Appraisals),
    page("POST", "/appraisals/{id}/self", PageOp::Appraisals),
    page("POST", "/appraisals/{id}/actions", PageOp::Appraisals),
    page("POST", "/appraisals/actions/{id}/done", PageOp::Appraisals),
    page("GET", "/job-descriptions", PageOp::Appraisals),
    page("GET", "/recruitment/rounds", PageOp::Hiring),
    page("POST", "/recruitment/rounds", PageOp::Hiring),
    page("GET", "/recruitment/rounds/{id}", PageOp::Hiring),
    page("GET", "/recruitment/rounds/{id}/export", PageOp::Hiring),
    page("POST", "/recruitment/rounds/{id}/posts", PageOp::Hiring),
    page("POST", "/recruitment/rounds/{id}/candidates", PageOp::Hiring),
    page("POST", "/recruitment/rounds/{id}/close", PageOp::Hiring),
    page("POST", "/recruitment/candidates/{id}/scores", PageOp::Hiring),
    page("POST", "/recruitment/candidates/{id}/appoint", PageOp::Hiring),
    page("POST", "/recruitment/candidates/{id}/withdraw", PageOp::Hiring),
    page("GET", "/recruitment/placements", PageOp::Hiring),
    page("POST", "/recruitment/placements", PageOp::Hiring),
    page("GET", "/caseloads", PageOp::Caseloads),
    page("GET", "/caseloads/export", PageOp::Caseloads),
    page("GET", "/caseloads/reassignment", PageOp::Caseloads),
    page("GET", "/caseloads/import", PageOp::Caseloads),
    page("POST", "/caseloads/import", PageOp::Caseloads),
    page("GET", "/caseloads/owners", PageOp::Caseloads),
    page("POST", "/caseloads/owners", PageOp::Caseloads),
    page("POST", "/caseloads/owners/unlink", PageOp::Caseloads),
    page("POST", "/caseloads/thresholds", PageOp::Caseloads),
    page("POST", "/workers/{id}/exit-reason", PageOp::Retention),
    page("POST", "/costs/rows", PageOp::Costs),
    page("GET", "/costs/plans", PageOp::Costs),
    page("GET", "/supervision", PageOp::Supervision),
    page("GET", "/supervision/list", PageOp::Supervision),
    page("GET", "/supervision/export", PageOp::Supervision),
    page("POST", "/supervision/norms", PageOp::Supervision),
    page("GET", "/supervision/workers/{id}", PageOp::Supervision),
    page("POST", "/supervision/workers/{id}/supervisor", PageOp::Supervision),
    page("POST", "/supervision/workers/{id}/end", PageOp::Supervision),
    page("POST", "/supervision/workers/{id}/sessions", PageOp::Supervision),
    page("GET", "/static/planning.css", PageOp::Css),
    // training, licensing, public: pages
    page("GET", "/training", PageOp::Training),
    page("POST", "/training/institutions", PageOp::Training),
    page("POST", "/training/programmes", PageOp::Training),
    page("GET", "/training/programmes/{id}", PageOp::Training),
    page("POST", "/training/programmes/{id}", PageOp::Training),
    page("GET", "/training/programmes/{id}/edit", PageOp::Training),
    page("POST", "/training/institutions/{id}", PageOp::Training),
    page("GET", "/training/institutions/{id}/edit", PageOp::Training),
    page("POST", "/training/courses/{id}", PageOp::Training),
    page("GET", "/training/courses/{id}/edit", PageOp::Training),
    page("POST", "/training/courses", PageOp::Training),
    page("GET", "/training/events", PageOp::Training),
    page("POST", "/training/events", PageOp::Training),
    page("GET", "/training/events/new", PageOp::Training),
    page("GET", "/training/events/export", PageOp::Training),
    page("GET", "/training/events/{id}", PageOp::Training),
    page("POST", "/training/events/{id}", PageOp::Training),
    page("GET", "/training/events/{id}/edit", PageOp::Training),
    page("POST", "/training/events/{id}/participants", PageOp::Training),
    page("POST", "/training/events/{id}/pass-pending", PageOp::Training),
    page("POST", "/training/events/{id}/participants/{worker_id}", PageOp::Training),
    page("POST", "/training/events/{id}/participants/{worker_id}/delete", PageOp::Training),
    page("GET", "/training/progress", PageOp::Training),
    page("GET", "/training/targets", PageOp::Training),
    page("POST", "/training/targets", PageOp::Training),
    page("GET", "/workers/{id}/transcript", PageOp::Training),
    page("GET", "/workers/{id}/transcript/export", PageOp::Training),
    page("POST", "/workers/{id}/recognitions", PageOp::Training),
    page("POST", "/workers/{id}/certificates", PageOp::Training),
    page("POST", "/certificates/{number}/revoke", PageOp::Training),
    page("GET", "/certificates", PageOp::Training),
    page("GET", "/certificates/{number}/print", PageOp::Training),
    page("GET", "/certificates/export", PageOp::Training),
    page("POST", "/workers/{id}/licences", PageOp::Training),
    page("GET", "/licences", PageOp::Training),
    page("GET", "/licences/export", PageOp::Training),
    page("POST", "/licences/rules", PageOp::Training),
    page("GET", "/licences/{id}", PageOp::Training),
    page("POST", "/licences/{id}/decision", PageOp::Training),
    page("POST", "/licences/{id}/renew", PageOp::Training),
    page("GET", "/verify", PageOp::Public),
    page("GET", "/verify/{number}", PageOp::Public),
    page("GET", "/register", PageOp::Public),
    // public
    page("GET", "/healthz", PageOp::Health),
    page("GET", "/readyz", PageOp::Ready),
    page("GET", "/metrics", PageOp::Metrics),
    page("GET", "/static/app.css", PageOp::Css),
    page("GET", "/static/fonts/noto-sans-khmer-400.woff2", PageOp::Assets),
    page("GET", "/static/fonts/noto-sans-khmer-700.woff2", PageOp::Assets),
    page("GET", "/static/fonts/OFL.txt", PageOp::Assets),
    page("GET", "/field", PageOp::Field),
    page("GET", "/field/data", PageOp::Field),
    page("POST", "/field/changes", PageOp::FieldChange),
    page("GET", "/manifest.webmanifest", PageOp::Assets),
    page("GET", "/sw.js", PageOp::Assets),
    page("GET", "/static/field.js", PageOp::Assets),
    page("GET", "/static/komlang.js", PageOp::Assets),
    page("GET", "/static/icon.svg", PageOp::Assets),
    // openapi.rs; accounts, workers, organizations, units, audit, imports: API
    api("GET", "/api/openapi.json", ApiOp::OpenApi),
    api("GET", "/api/v1/me", ApiOp::Me),
    api("GET", "/api/v1/accounts", ApiOp::Accounts),
    api("GET", "/api/v1/accounts/{id}", ApiOp::Accounts),
    api("POST", "/api/v1/accounts/{id}/disable", ApiOp::Accounts),
    api("POST", "/api/v1/accounts/{id}/enable", ApiOp::Accounts),
    api("DELETE", "/api/v1/accounts/{id}/sessions", ApiOp::Accounts),
    api("GET", "/api/v1/accounts/{id}/tokens", ApiOp::Accounts),
    api("POST", "/api/v1/accounts/{id}/tokens", ApiOp::Accounts),
    api("DELETE", "/api/v1/accounts/{id}/tokens", ApiOp::Accounts),
    api("DELETE", "/api/v1/accounts/{id}/tokens/{token_id}", ApiOp::Accounts),
    api("GET", "/api/v1/workers", ApiOp::Workers),
    api("GET", "/api/v1/workers/export", ApiOp::ExportWorkers),
    api("POST", "/api/v1/workers", ApiOp::CreateWorker),
    api("GET", "/api/v1/workers/{id}", ApiOp::Worker),
    api("PATCH", "/api/v1/workers/{id}", ApiOp::PatchWorker),
    api("DELETE", "/api/v1/workers/{id}", ApiOp::DeleteWorker),
    api("GET", "/api/v1/workers/{id}/postings", ApiOp::Postings),
    api("GET", "/api/v1/workers/{id}/status-history", ApiOp::Statuses),
    api("GET", "/api/v1/organizations", ApiOp::Orgs),
    api("POST", "/api/v1/organizations", ApiOp::CreateOrg),
    api("GET", "/api/v1/organizations/{id}", ApiOp::Org),
    api("PATCH", "/api/v1/organizations/{id}", ApiOp::PatchOrg),
    api("DELETE", "/api/v1/organizations/{id}", ApiOp::DeleteOrg),
    api("GET", "/api/v1/admin-units", ApiOp::Units),
    api("GET", "/api/v1/admin-units/{code}", ApiOp::Unit),
    api("GET", "/api/v1/audit", ApiOp::Audit),
    api("GET", "/api/v1/imports", ApiOp::Imports),
    api("POST", "/api/v1/imports/workers", ApiOp::ImportWorkers),
    api("GET", "/api/v1/imports/{id}", ApiOp::Import),
    // competency: API
    api("GET", "/api/v1/competency-frameworks", ApiOp::Frameworks),
    api("GET", "/api/v1/competency-frameworks/current", ApiOp::CurrentFramework),
    api("GET", "/api/v1/competency-frameworks/{version}", ApiOp::Framework),
    api("GET", "/api/v1/workers/{id}/assessments", ApiOp::Assessments),
    api("POST", "/api/v1/workers/{id}/assessments", ApiOp::CreateAssessment),
    api("GET", "/api/v1/workers/{id}/competency-gaps", ApiOp::WorkerGaps),
    api("GET", "/api/v1/assessments/{id}", ApiOp::Assessment),
    api("PUT", "/api/v1/assessments/{id}", ApiOp::PutAssessment),
    api("DELETE", "/api/v1/assessments/{id}", ApiOp::DeleteAssessment),
    api("GET", "/api/v1/competency/gaps", ApiOp::Gaps),
    api("GET", "/api/v1/competency/training-needs", ApiOp::TrainingNeeds),
    api("GET", "/api/v1/competency/export", ApiOp::CompetencyExport),
    // planning: API
    api("GET", "/api/v1/planning/coverage", ApiOp::PlanningCoverage),
    api("GET", "/api/v1/planning/norms", ApiOp::PlanningNorms),
    api("POST", "/api/v1/planning/norms", ApiOp::AddNorm),
    api("GET", "/api/v1/planning/plans", ApiOp::PlanningPlans),
    api("POST", "/api/v1/planning/plans", ApiOp::CreatePlan),
    api("GET", "/api/v1/planning/plans/{id}", ApiOp::Plan),
    api("GET", "/api/v1/planning/supply", ApiOp::Supply),
    api("POST", "/api/v1/planning/indicators", ApiOp::Indicators),
    api("POST", "/api/v1/planning/caseloads", ApiOp::Caseloads),
    api("POST", "/api/v1/planning/vacancies", ApiOp::Vacancies),
    api("GET", "/api/v1/establishment", ApiOp::Establishment),
    api("GET", "/api/v1/establishment/years", ApiOp::Establishment),
    api("GET", "/api/v1/establishment/records", ApiOp::Establishment),
    api("POST", "/api/v1/establishment/records", ApiOp::Establishment),
    api("GET", "/api/v1/establishment/posts", ApiOp::Establishment),
    api("POST", "/api/v1/establishment/posts", ApiOp::Establishment),
    api("GET", "/api/v1/establishment/posts/{id}", ApiOp::Establishment),
    api("POST", "/api/v1/establishment/posts/{id}/fill", ApiOp::Establishment),
    api("POST", "/api/v1/establishment/posts/{id}/vacate", ApiOp::Establishment),
    api("POST", "/api/v1/establishment/posts/{id}/end", ApiOp::Establishment),
    api("POST", "/api/v1/planning/plans/{id}/approve", ApiOp::Establishment),
    api("GET", "/api/v1/costs", ApiOp::Costs),
    api("GET", "/api/v1/retention/turnover", ApiOp::Retention),
    api("GET", "/api/v1/retention/survival", ApiOp::Retention),
    api("GET", "/api/v1/retention/ccwc-term", ApiOp::Retention),
    api("PUT", "/api/v1/retention/ccwc-term", ApiOp::Retention),
    api("GET", "/api/v1/recruitment/need", ApiOp::Recruitment),
    api("GET", "/api/v1/recruitment/settings", ApiOp::Recruitment),
    api("PUT", "/api/v1/recruitment/settings", ApiOp::Recruitment),
    api("GET", "/api/v1/workers/{id}/appraisals", ApiOp::Appraisals),
    api("POST", "/api/v1/workers/{id}/appraisals", ApiOp::Appraisals),
    api("GET", "/api/v1/appraisals/summary", ApiOp::Appraisals),
    api("GET", "/api/v1/appraisals/lists/{kind}", ApiOp::Appraisals),
    api("GET", "/api/v1/appraisals/settings", ApiOp::Appraisals),
    api("PUT", "/api/v1/appraisals/settings", ApiOp::Appraisals),
    api("GET", "/api/v1/appraisals/{id}", ApiOp::Appraisals),
    api("PUT", "/api/v1/appraisals/{id}", ApiOp::Appraisals),
    api("PUT", "/api/v1/appraisals/{id}/self", ApiOp::Appraisals),
    api("POST", "/api/v1/appraisals/{id}/actions", ApiOp::Appraisals),
    api("POST", "/api/v1/appraisal-actions/{id}/done", ApiOp::Appraisals),
    api("GET", "/api/v1/job-descriptions", ApiOp::Appraisals),
    api("POST", "/api/v1/job-descriptions", ApiOp::Appraisals),
    api("GET", "/api/v1/recruitment/rounds", ApiOp::Hiring),
    api("POST", "/api/v1/recruitment/rounds", ApiOp::Hiring),
    api("GET", "/api/v1/recruitment/rounds/{id}", ApiOp::Hiring),
    api("POST", "/api/v1/recruitment/rounds/{id}/close", ApiOp::Hiring),
    api("POST", "/api/v1/recruitment/rounds/{id}/posts", ApiOp::Hiring),
    api("POST", "/api/v1/recruitment/rounds/{id}/candidates", ApiOp::Hiring),
    api("POST", "/api/v1/recruitment/rounds/{id}/candidates/import", ApiOp::Hiring),
    api("PUT", "/api/v1/recruitment/candidates/{id}/scores", ApiOp::Hiring),
    api("POST", "/api/v1/recruitment/candidates/{id}/appoint", ApiOp::Hiring),
    api("POST", "/api/v1/recruitment/candidates/{id}/withdraw", ApiOp::Hiring),
    api("GET", "/api/v1/placements", ApiOp::Hiring),
    api("POST", "/api/v1/placements", ApiOp::Hiring),
    api("GET", "/api/v1/retention/reasons", ApiOp::Retention),
    api("POST", "/api/v1/retention/reasons", ApiOp::Retention),
    api("PUT", "/api/v1/workers/{id}/exit-reason", ApiOp::Retention),
    api("GET", "/api/v1/caseloads", ApiOp::CaseSystems),
    api("GET", "/api/v1/caseloads/snapshots", ApiOp::CaseSystems),
    api("GET", "/api/v1/caseloads/over-threshold", ApiOp::CaseSystems),
    api("GET", "/api/v1/caseloads/reassignment", ApiOp::CaseSystems),
    api("POST", "/api/v1/caseloads/import", ApiOp::CaseSystems),
    api("GET", "/api/v1/caseloads/owners", ApiOp::CaseSystems),
    api("PUT", "/api/v1/caseloads/owners", ApiOp::CaseSystems),
    api("DELETE", "/api/v1/caseloads/owners", ApiOp::CaseSystems),
    api("GET", "/api/v1/caseloads/thresholds", ApiOp::CaseSystems),
    api("PUT", "/api/v1/caseloads/thresholds", ApiOp::CaseSystems),
    api("GET", "/api/v1/workers/{id}/caseload", ApiOp::CaseSystems),
    // The FHIR registry: bearer tokens, as the API.
    api("GET", "/fhir/r4/metadata", ApiOp::Fhir),
    api("GET", "/fhir/r4/CodeSystem", ApiOp::Fhir),
    api("GET", "/fhir/r4/CodeSystem/{id}", ApiOp::Fhir),
    api("GET", "/fhir/r4/Practitioner", ApiOp::Fhir),
    api("GET", "/fhir/r4/Practitioner/_history", ApiOp::Fhir),
    api("GET", "/fhir/r4/Practitioner/{id}", ApiOp::Fhir),
    api("GET", "/fhir/r4/PractitionerRole", ApiOp::Fhir),
    api("GET", "/fhir/r4/PractitionerRole/_history", ApiOp::Fhir),
    api("GET", "/fhir/r4/PractitionerRole/{id}", ApiOp::Fhir),
    api("GET", "/fhir/r4/Organization", ApiOp::Fhir),
    api("GET", "/fhir/r4/Organization/_history", ApiOp::Fhir),
    api("GET", "/fhir/r4/Organization/{id}", ApiOp::Fhir),
    api("GET", "/fhir/r4/Location", ApiOp::Fhir),
    api("GET", "/fhir/r4/Location/_history", ApiOp::Fhir),
    api("GET", "/fhir/r4/Location/{id}", ApiOp::Fhir),
    api("PUT", "/api/v1/costs", ApiOp::Costs),
    api("GET", "/api/v1/costs/workforce", ApiOp::Costs),
    api("GET", "/api/v1/planning/plans/{id}/cost", ApiOp::Costs),
    api("GET", "/api/v1/workers/{id}/ranks", ApiOp::Costs),
    api("POST", "/api/v1/workers/{id}/ranks", ApiOp::Costs),
    api("GET", "/api/v1/supervision/summary", ApiOp::Supervision),
    api("GET", "/api/v1/supervision/lists/{kind}", ApiOp::Supervision),
    api("GET", "/api/v1/supervision/norms", ApiOp::Supervision),
    api("PUT", "/api/v1/supervision/norms", ApiOp::Supervision),
    api("GET", "/api/v1/workers/{id}/supervision", ApiOp::Supervision),
    api("PUT", "/api/v1/workers/{id}/supervision", ApiOp::Supervision),
    api("DELETE", "/api/v1/workers/{id}/supervision", ApiOp::Supervision),
    api("POST", "/api/v1/supervision/sessions", ApiOp::Supervision),
    // training, licensing, public: API
    api("GET", "/api/v1/training/institutions", ApiOp::Training),
    api("POST", "/api/v1/training/institutions", ApiOp::Training),
    api("GET", "/api/v1/training/programmes", ApiOp::Training),
    api("POST", "/api/v1/training/programmes", ApiOp::Training),
    api("GET", "/api/v1/training/programmes/{id}", ApiOp::Training),
    api("PUT", "/api/v1/training/programmes/{id}", ApiOp::Training),
    api("PUT", "/api/v1/training/institutions/{id}", ApiOp::Training),
    api("GET", "/api/v1/training/courses/{id}", ApiOp::Training),
    api("PUT", "/api/v1/training/courses/{id}", ApiOp::Training),
    api("GET", "/api/v1/training/courses", ApiOp::Training),
    api("POST", "/api/v1/training/courses", ApiOp::Training),
    api("GET", "/api/v1/training/events", ApiOp::Training),
    api("POST", "/api/v1/training/events", ApiOp::Training),
    api("GET", "/api/v1/training/events/export", ApiOp::Training),
    api("GET", "/api/v1/training/events/{id}", ApiOp::Training),
    api("PUT", "/api/v1/training/events/{id}", ApiOp::Training),
    api("GET", "/api/v1/training/events/{id}/participants", ApiOp::Training),
    api("POST", "/api/v1/training/events/{id}/participants", ApiOp::Training),
    api("POST", "/api/v1/training/events/{id}/pass-pending", ApiOp::Training),
    api("PUT", "/api/v1/training/events/{id}/participants/{worker_id}", ApiOp::Training),
    api("DELETE", "/api/v1/training/events/{id}/participants/{worker_id}", ApiOp::Training),
    api("GET", "/api/v1/workers/{id}/transcript", ApiOp::Training),
    api("POST", "/api/v1/workers/{id}/recognitions", ApiOp::Training),
    api("GET", "/api/v1/workers/{id}/certificates", ApiOp::Training),
    api("POST", "/api/v1/workers/{id}/certificates", ApiOp::Training),
    api("POST", "/api/v1/certificates/{number}/revoke", ApiOp::Training),
    api("GET", "/api/v1/certificates", ApiOp::Training),
    api("GET", "/api/v1/training/progress", ApiOp::Training),
    api("GET", "/api/v1/training/targets", ApiOp::Training),
    api("POST", "/api/v1/training/targets", ApiOp::Training),
    api("GET", "/api/v1/licences", ApiOp::Training),
    api("GET", "/api/v1/workers/{id}/licences", ApiOp::Training),
    api("POST", "/api/v1/workers/{id}/licences", ApiOp::Training),
    api("GET", "/api/v1/licences/{id}", ApiOp::Training),
    api("POST", "/api/v1/licences/{id}/decision", ApiOp::Training),
    api("POST", "/api/v1/licences/{id}/renew", ApiOp::Training),
    api("GET", "/api/v1/licensing/rules", ApiOp::Training),
    api("PUT", "/api/v1/licensing/rules", ApiOp::Training),
    api("GET", "/api/v1/public/certificates/{number}", ApiOp::Public),
    api("GET", "/api/v1/public/licences", ApiOp::Public),
];

// ---------------------------------------------------------------------------
// Every route the application serves is in the table, and nothing else
// ---------------------------------------------------------------------------

/// The gate the application declares for a route of [`ROUTES`].
fn gate_of(route: &Route) -> Gate {
    komlang_web::route_table()
        .into_iter()
        .find(|r| r.method == route.method && r.path == route.path)
        .unwrap_or_else(|| panic!("{} {} is not served", route.method, route.path))
        .gate
}

#[test]
fn every_route_is_in_the_permission_table() {
    let served: Vec<(String, String)> =
        komlang_web::route_table().into_iter().map(|r| (r.method.to_string(), r.path)).collect();
    let served_set: BTreeSet<(String, String)> = served.iter().cloned().collect();
    assert_eq!(served_set.len(), served.len(), "the route table lists a route twice");
    assert!(served.len() > 100, "the route table looks empty: {served:?}");

    let table: BTreeSet<(String, String)> = ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    assert_eq!(table.len(), ROUTES.len(), "ROUTES lists a route twice");
    let missing: Vec<_> = served_set.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "routes without a permission check in tests/permissions.rs ROUTES: {missing:?} — add them with their expectations"
    );
    let stale: Vec<_> = table.difference(&served_set).collect();
    assert!(stale.is_empty(), "ROUTES lists routes the application no longer serves: {stale:?}");
    for r in ROUTES {
        assert_eq!(
            matches!(r.op, Op::Api(_)),
            r.path.starts_with("/api/") || r.path.starts_with("/fhir/"),
            "{} {} is on the wrong surface",
            r.method,
            r.path
        );
    }
}

/// Without credentials, a route is served exactly when its gate is public; everything else
/// is refused before its handler runs (a login redirect, 401 in the API).
fn served_anonymously(op: Op) -> bool {
    matches!(
        op,
        Op::Page(
            PageOp::LoginForm
                | PageOp::Login
                | PageOp::Logout
                | PageOp::Lang
                | PageOp::About
                | PageOp::Css
                | PageOp::Assets
                | PageOp::Health
                | PageOp::Ready
                | PageOp::Metrics
                | PageOp::Public
        ) | Op::Api(ApiOp::OpenApi | ApiOp::Public)
    )
}

#[test]
fn public_gates_are_the_routes_anonymous_visitors_reach() {
    for r in ROUTES {
        assert_eq!(
            matches!(gate_of(r), Gate::Public | Gate::Limited),
            served_anonymously(r.op),
            "{} {}: gate {:?}, but the matrix expects it {} anonymously",
            r.method,
            r.path,
            gate_of(r),
            if served_anonymously(r.op) { "served" } else { "refused" }
        );
    }
}

/// A principal of `who`'s role (only the role matters to [`Principal::may`]).
fn principal_of(who: Who) -> Principal {
    Principal {
        user_id: 0,
        username: who.username().into(),
        role: who.role(),
        scope: komlang_core::Scope::Nation,
        org_id: None,
        worker_id: None,
    }
}

/// Every route (of the API when `api`, else of the pages) whose gate names an action: for every
/// role that does not hold it, each status the matrix expected of that route is 403 (the gate's
/// answer), and there is at least one.
fn check_gates_agree(f: &mut Failures, api: bool) {
    for route in ROUTES.iter().filter(|r| matches!(r.op, Op::Api(_)) == api) {
        let Gate::Action(action) = gate_of(route) else { continue };
        for who in Who::ALL.into_iter().filter(|w| !principal_of(*w).may(action)) {
            let wants: Vec<u16> = f
                .wants
                .iter()
                .filter(|(w, m, p, _)| *w == who && *m == route.method && *p == route.path)
                .map(|(_, _, _, want)| *want)
                .collect();
            if wants.is_empty() {
                f.list.push(format!(
                    "{who:?} {} {}: gated on {action:?}, which {who:?} lacks, but the matrix expects nothing",
                    route.method, route.path
                ));
            }
            if let Some(other) = wants.iter().find(|w| **w != 403) {
                f.list.push(format!(
                    "{who:?} {} {}: gated on {action:?}, which {who:?} lacks, but the matrix expects {other}",
                    route.method, route.path
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Records and roles
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum W {
    W1,
    W2,
    W3,
    W4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum O {
    A,
    B,
}

struct WorkerSpec {
    name_km: &'static str,
    name_latin: &'static str,
    /// A fragment of the Latin name found in no other record.
    token: &'static str,
    national_id: &'static str,
    phone: &'static str,
    workplace: &'static str,
    province: &'static str,
    district: &'static str,
    org: Option<O>,
}

impl W {
    const ALL: [W; 4] = [W::W1, W::W2, W::W3, W::W4];

    fn spec(self) -> WorkerSpec {
        match self {
            // Commune Banteay Neang, district 0102 of province 01; employed by A.
            W::W1 => WorkerSpec {
                name_km: "សុខា មួយ",
                name_latin: "Sokha Wone",
                token: "wone",
                national_id: "NIDW10001",
                phone: "012 100 001",
                workplace: "010201",
                province: "01",
                district: "0102",
                org: Some(O::A),
            },
            // Commune Kantueu Muoy, province 02; employed by B.
            W::W2 => WorkerSpec {
                name_km: "ដារា ពីរ",
                name_latin: "Dara Wtwo",
                token: "wtwo",
                national_id: "NIDW20002",
                phone: "012 200 002",
                workplace: "020101",
                province: "02",
                district: "0201",
                org: Some(O::B),
            },
            // District Phnum Srok: province 01 but another district; no employer.
            W::W3 => WorkerSpec {
                name_km: "ចិន្តា បី",
                name_latin: "Chenda Wthree",
                token: "wthree",
                national_id: "NIDW30003",
                phone: "012 300 003",
                workplace: "0103",
                province: "01",
                district: "0103",
                org: None,
            },
            // Employed by A but working in province 02: the HR manager of A
            // sees them, the officers of province 01 and district 0102 do not.
            W::W4 => WorkerSpec {
                name_km: "វណ្ណា បួន",
                name_latin: "Vanna Wfour",
                token: "wfour",
                national_id: "NIDW40004",
                phone: "012 400 004",
                workplace: "020102",
                province: "02",
                district: "0201",
                org: Some(O::A),
            },
        }
    }
}

struct OrgSpec {
    name_en: &'static str,
    name_km: &'static str,
    registration_no: &'static str,
    admin_code: &'static str,
    province: &'static str,
    district: &'static str,
}

impl O {
    const ALL: [O; 2] = [O::A, O::B];

    fn spec(self) -> OrgSpec {
        match self {
            O::A => OrgSpec {
                name_en: "Alpha Care NGO",
                name_km: "អង្គការ អាល់ហ្វា",
                registration_no: "REGA0001",
                admin_code: "0102",
                province: "01",
                district: "0102",
            },
            O::B => OrgSpec {
                name_en: "Bravo Aid NGO",
                name_km: "អង្គការ ប្រាវ៉ូ",
                registration_no: "REGB0002",
                admin_code: "0201",
                province: "02",
                district: "0201",
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Viewer,
    /// Provincial officer of province 01.
    Prov,
    /// District officer of district 0102 (province 01).
    Dist,
    /// HR manager of organization A.
    OrgHr,
    /// The worker W1 (employed by A).
    SelfW1,
}

impl Who {
    const ALL: [Who; 6] = [Who::Admin, Who::Viewer, Who::Prov, Who::Dist, Who::OrgHr, Who::SelfW1];

    fn username(self) -> &'static str {
        match self {
            Who::Admin => "admin",
            Who::Viewer => "viewer",
            Who::Prov => "prov01",
            Who::Dist => "dist0102",
            Who::OrgHr => "hr-alpha",
            Who::SelfW1 => "worker-w1",
        }
    }

    fn role(self) -> UserRole {
        match self {
            Who::Admin => UserRole::NationalAdmin,
            Who::Viewer => UserRole::NationalViewer,
            Who::Prov => UserRole::ProvincialOfficer,
            Who::Dist => UserRole::DistrictOfficer,
            Who::OrgHr => UserRole::OrgHrManager,
            Who::SelfW1 => UserRole::Worker,
        }
    }

    fn sees_worker(self, w: W) -> bool {
        let s = w.spec();
        match self {
            Who::Admin | Who::Viewer => true,
            Who::Prov => s.province == "01",
            Who::Dist => s.district == "0102",
            Who::OrgHr => s.org == Some(O::A),
            Who::SelfW1 => w == W::W1,
        }
    }

    /// Whether the account sees (and so may name as employer) the organization: seated in
    /// its area, or employing someone who works there (docs/access.md). In this fixture no
    /// organization employs anyone in an area other than its seat's but A (W4 in province
    /// 02, which no officer here covers), so the seat decides.
    fn sees_org(self, o: O) -> bool {
        let s = o.spec();
        match self {
            Who::Admin | Who::Viewer => true,
            Who::Prov => s.province == "01",
            Who::Dist => s.district == "0102",
            // The HR manager's own organization; the worker's employer (W1 works for A).
            Who::OrgHr | Who::SelfW1 => o == O::A,
        }
    }

    /// May change (some fields of) the worker records they see.
    fn writes_workers(self) -> bool {
        !matches!(self, Who::Viewer)
    }

    fn creates_workers(self) -> bool {
        matches!(self, Who::Admin | Who::Prov | Who::Dist | Who::OrgHr)
    }

    fn writes_orgs(self) -> bool {
        matches!(self, Who::Admin | Who::Prov | Who::Dist)
    }

    fn deletes(self) -> bool {
        self == Who::Admin
    }

    fn reads_audit(self) -> bool {
        self == Who::Admin
    }

    /// Records supervisor and training assessments of the workers they see:
    /// everyone who changes worker records other than through their own profile.
    fn assesses(self) -> bool {
        matches!(self, Who::Admin | Who::Prov | Who::Dist | Who::OrgHr)
    }

    /// Status of recording (or changing) a supervisor assessment of `w`.
    fn on_supervisor_assessment(self, w: W, ok: u16) -> u16 {
        if !self.sees_worker(w) {
            404
        } else if self.assesses() {
            ok
        } else {
            403
        }
    }

    /// May import files (of workers): everyone who writes worker records
    /// other than through their own profile.
    fn imports(self) -> bool {
        matches!(self, Who::Admin | Who::Prov | Who::Dist | Who::OrgHr)
    }

    /// May import files of `kind` (`docs/access.md`): workers as they add workers;
    /// organizations as they add organizations (national administrators,
    /// provincial and district officers); population figures national
    /// administrators only.
    fn imports_kind(self, kind: &str) -> bool {
        match kind {
            "workers" => self.imports(),
            "organizations" => self.writes_orgs(),
            _ => self == Who::Admin,
        }
    }

    /// Status of a page or API call on an uploaded file or an import made by
    /// the provincial officer: theirs and the national administrator's to
    /// see; 404 for other importers; 403 for accounts that do not import.
    fn on_prov_import(self) -> u16 {
        match self {
            Who::Admin | Who::Prov => 200,
            Who::Dist | Who::OrgHr => 404,
            Who::Viewer | Who::SelfW1 => 403,
        }
    }

    /// Whether a workplace lies in the account's geographic reach (accounts
    /// without a geographic scope reach the whole country).
    fn reaches_place(self, province: &str, district: &str) -> bool {
        match self {
            Who::Prov => province == "01",
            Who::Dist => district == "0102",
            _ => true,
        }
    }
}

// ---------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------

struct Fx {
    app: TestApp,
    w: [i64; 4],
    o: [i64; 2],
    tokens: Vec<String>,
    api: Client,
    /// A file uploaded by the provincial officer (one row: W1 again).
    prov_file: i64,
    /// An import committed by the provincial officer (of that file).
    prov_import: i64,
    /// A supervisor's assessment of each worker (recorded by the national administrator).
    a: [i64; 4],
    /// W1's self-assessment.
    self_a1: i64,
    /// Training events, certificates and licences.
    tr: TrainingFx,
}

/// Columns of the import files the checks use.
const IMPORT_HEADERS: [&str; 10] = [
    "name_km",
    "name_latin",
    "sex",
    "date_of_birth",
    "national_id",
    "cadre",
    "role",
    "sector",
    "workplace_code",
    "status",
];

/// A worker file with one row: W1 as recorded (a certain duplicate, skipped
/// by default, so importing it adds nobody).
fn w1_file() -> Vec<u8> {
    let s = W::W1.spec();
    format!(
        "{}\n{},{},female,1988-04-12,{},para_professional,ngo_case_worker,ngo,{},active\n",
        IMPORT_HEADERS.join(","),
        s.name_km,
        s.name_latin,
        s.national_id,
        s.workplace
    )
    .into_bytes()
}

/// The matching of [`IMPORT_HEADERS`] as form fields.
fn mapping_form() -> Vec<(String, String)> {
    let mut form = vec![("kind".to_string(), "workers".to_string())];
    form.extend(IMPORT_HEADERS.iter().enumerate().map(|(n, h)| (format!("c{n}"), h.to_string())));
    form
}

/// (headers, rows) of a downloaded CSV or XLSX file.
fn read_back(name: &str, bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let t = komlang_web::imports::read_table(name, bytes, None).unwrap_or_else(|e| panic!("read {name}: {e}"));
    (t.headers, t.rows.into_iter().map(|(_, cells)| cells).collect())
}

/// The `id` column of an export.
fn export_ids(name: &str, bytes: &[u8]) -> BTreeSet<i64> {
    let (headers, rows) = read_back(name, bytes);
    let col = headers.iter().position(|h| h == "id").expect("an id column");
    rows.iter().filter_map(|r| r[col].parse().ok()).collect()
}

fn sys() -> Principal {
    system_principal("test")
}

/// An assessment of today with these ratings.
fn assessment_input(kind: &str, ratings: &[(&str, i64)]) -> komlang_core::competency::AssessmentInput {
    komlang_core::competency::AssessmentInput {
        kind: Some(kind.into()),
        assessed_on: Some(today().to_string()),
        ratings: ratings
            .iter()
            .map(|(code, r)| komlang_core::competency::RatingInput {
                indicator_code: code.to_string(),
                rating: *r,
                evidence: None,
            })
            .collect(),
        ..Default::default()
    }
}

/// The same assessment as a page form.
fn assessment_form(kind: &str, ratings: &[(&str, i64)]) -> Vec<(String, String)> {
    let mut form = vec![("kind".to_string(), kind.to_string()), ("assessed_on".into(), today().to_string())];
    form.extend(ratings.iter().map(|(code, r)| (format!("r.{code}"), r.to_string())));
    form
}

/// The `worker_id` column of an assessments export.
fn export_worker_ids(name: &str, bytes: &[u8]) -> BTreeSet<i64> {
    let (headers, rows) = read_back(name, bytes);
    let col = headers.iter().position(|h| h == "worker_id").expect("a worker_id column");
    rows.iter().filter_map(|r| r[col].parse().ok()).collect()
}

fn today() -> chrono::NaiveDate {
    komlang_web::common::today()
}

fn worker_input(name_km: &str, name_latin: &str, workplace: &str, org: Option<i64>) -> WorkerInput {
    WorkerInput {
        name_km: Some(name_km.into()),
        name_latin: Some(name_latin.into()),
        sex: Some("female".into()),
        date_of_birth: Some("1988-04-12".into()),
        cadre: Some("para_professional".into()),
        role: Some("ngo_case_worker".into()),
        sector: Some("ngo".into()),
        org_id: org,
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some("2020-01-06".into()),
        ..Default::default()
    }
}

fn org_input(name_en: &str, admin_code: &str) -> OrgInput {
    OrgInput {
        name_en: Some(name_en.into()),
        kind: Some("ngo".into()),
        admin_code: Some(admin_code.into()),
        ..Default::default()
    }
}

/// The fields of an input as a form body (absent fields left out).
fn form_of<T: serde::Serialize>(input: &T, csrf: Option<&str>) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = serde_json::to_value(input)
        .unwrap()
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            Value::Number(n) => Some((k.clone(), n.to_string())),
            _ => None,
        })
        .collect();
    if let Some(c) = csrf {
        form.push(("csrf".into(), c.into()));
    }
    form
}

impl Fx {
    async fn setup(engine: Engine) -> Fx {
        let config = komlang_web::WebConfig {
            metrics_token: komlang_web::MetricsToken::new(METRICS_TOKEN),
            ..Default::default()
        };
        let app = TestApp::start_with(engine, config).await;
        let store = &app.db.store;
        let mut o = [0; 2];
        for org in O::ALL {
            let s = org.spec();
            let mut input = org_input(s.name_en, s.admin_code);
            input.name_km = Some(s.name_km.into());
            input.registration_no = Some(s.registration_no.into());
            o[org as usize] = store.create_org(&sys(), &input).await.unwrap().org.id;
        }
        let mut w = [0; 4];
        for worker in W::ALL {
            let s = worker.spec();
            let mut input = worker_input(s.name_km, s.name_latin, s.workplace, s.org.map(|x| o[x as usize]));
            input.national_id = Some(s.national_id.into());
            input.phone = Some(s.phone.into());
            w[worker as usize] = store.create_worker(&sys(), &input, today()).await.unwrap().id;
        }
        let mut tokens = Vec::new();
        let mut prov = None;
        for who in Who::ALL {
            let (scope, org, worker) = match who {
                Who::Admin | Who::Viewer => (None, None, None),
                Who::Prov => (Some("01"), None, None),
                Who::Dist => (Some("0102"), None, None),
                Who::OrgHr => (None, Some(o[O::A as usize]), None),
                Who::SelfW1 => (None, None, Some(w[W::W1 as usize])),
            };
            let (p, token) = app.account(who.username(), who.role(), scope, org, worker).await;
            assert_eq!(p.role, who.role());
            if who == Who::SelfW1 {
                assert_eq!(
                    p.org_id,
                    Some(o[O::A as usize]),
                    "a worker account takes its employer from the worker record"
                );
            }
            if who == Who::Prov {
                prov = Some(p.clone());
            }
            tokens.push(token);
        }
        let prov = prov.expect("the provincial officer's account");
        let mut a = [0; 4];
        for worker in W::ALL {
            let input = assessment_input("supervisor", &[("values.01.1", 2), ("skills.01.1", 3)]);
            a[worker as usize] =
                app.db.store.create_assessment(&sys(), w[worker as usize], &input, today()).await.unwrap().id;
        }
        let me = app.db.store.principal_for_user(app.db.store.user_by_name("worker-w1").await.unwrap().unwrap().id);
        let me = me.await.unwrap().unwrap();
        let own = assessment_input("self", &[("values.01.1", 4), ("values.02.1", 3)]);
        let self_a1 = app.db.store.create_assessment(&me, w[W::W1 as usize], &own, today()).await.unwrap().id;
        let store = &app.db.store;
        let prov_file = store.save_import_file(&prov, "w1.csv", &w1_file()).await.unwrap();
        let reader = komlang_web::imports::open_table("w1.csv", &w1_file()).unwrap();
        let headers = reader.headers().to_vec();
        let mapping = komlang_core::import::guess_mapping(&headers);
        let opts = komlang_store::WorkerImportOptions {
            file_name: "w1.csv".into(),
            file_sha256: komlang_web::imports::sha256_hex(&w1_file()),
            ..Default::default()
        };
        let report = store
            .import_workers(&prov, &headers, komlang_web::imports::store_rows(reader), &mapping, &opts, today())
            .await
            .unwrap();
        assert!(report.committed && report.added == 0, "the fixture import adds nobody: {report:?}");
        let prov_import = report.import_id.expect("the fixture import is recorded");
        let tr = training_fixture(&app, &w).await;
        Fx { app, w, o, tokens, api: Client::new(), prov_file, prov_import, a, self_a1, tr }
    }

    fn wid(&self, w: W) -> i64 {
        self.w[w as usize]
    }

    fn oid(&self, o: O) -> i64 {
        self.o[o as usize]
    }

    fn token(&self, who: Who) -> &str {
        &self.tokens[who as usize]
    }

    fn aid(&self, w: W) -> i64 {
        self.a[w as usize]
    }

    /// Ids of every assessment of the fixture's workers.
    async fn assessment_ids(&self) -> BTreeSet<i64> {
        let mut ids = BTreeSet::new();
        for w in W::ALL {
            for a in self.app.db.store.list_assessments(&sys(), self.wid(w)).await.unwrap() {
                ids.insert(a.id);
            }
        }
        ids
    }

    /// Deletes the assessments made since `before`.
    async fn remove_assessments_since(&self, before: &BTreeSet<i64>) -> Vec<i64> {
        let made: Vec<i64> = self.assessment_ids().await.difference(before).copied().collect();
        for id in &made {
            self.app.db.store.delete_assessment(&sys(), *id, None).await.unwrap();
        }
        made
    }

    /// A supervisor's assessment of `w`, to be deleted by a check.
    async fn throwaway_assessment(&self, w: W) -> i64 {
        let input = assessment_input("training", &[("skills.02.1", 2)]);
        self.app.db.store.create_assessment(&sys(), self.wid(w), &input, today()).await.unwrap().id
    }

    async fn stored_worker(&self, id: i64) -> Option<Worker> {
        self.app.db.store.get_worker(&sys(), id).await.unwrap()
    }

    async fn stored_phone(&self, w: W) -> Option<String> {
        self.stored_worker(self.wid(w)).await.expect("fixture worker exists").phone
    }

    async fn stored_org_phone(&self, o: O) -> Option<String> {
        self.app.db.store.get_org(&sys(), self.oid(o)).await.unwrap().expect("fixture org exists").org.phone
    }

    async fn worker_ids(&self) -> BTreeSet<i64> {
        let q = WorkerQuery { per_page: 500, ..Default::default() };
        self.app.db.store.list_workers(&sys(), &q).await.unwrap().items.iter().map(|r| r.id).collect()
    }

    async fn org_ids(&self) -> BTreeSet<i64> {
        let q = OrgQuery { per_page: 500, ..Default::default() };
        self.app.db.store.list_orgs(&sys(), &q).await.unwrap().items.iter().map(|r| r.org.id).collect()
    }

    /// A copy of `like` (same workplace and employer) to be deleted.
    async fn throwaway_worker(&self, like: W) -> i64 {
        let s = like.spec();
        let input = worker_input("បណ្ដោះអាសន្ន", "Temp Copy", s.workplace, s.org.map(|o| self.oid(o)));
        self.app.db.store.create_worker(&sys(), &input, today()).await.unwrap().id
    }

    async fn throwaway_org(&self, admin_code: &str) -> i64 {
        self.app.db.store.create_org(&sys(), &org_input("Temp Org", admin_code)).await.unwrap().org.id
    }

    /// Puts the fixture's phone numbers (and W1's email) back after checks that change them.
    async fn restore_contacts(&self) {
        let store = &self.app.db.store;
        for w in W::ALL {
            let patch = WorkerInput {
                phone: Some(w.spec().phone.into()),
                email: Some(String::new()),
                education_level: Some(String::new()),
                ..Default::default()
            };
            store.update_worker(&sys(), self.wid(w), &patch, &WorkerChange::default(), today(), None).await.unwrap();
        }
        for o in O::ALL {
            let patch = OrgInput { phone: Some(String::new()), ..Default::default() };
            store.update_org(&sys(), self.oid(o), &patch, None).await.unwrap();
        }
    }

    async fn remove_worker(&self, id: i64) {
        self.app.db.store.delete_worker(&sys(), id, None).await.unwrap();
    }

    async fn remove_org(&self, id: i64) {
        self.app.db.store.delete_org(&sys(), id, None).await.unwrap();
    }

    /// Strings that must never reach `who`: names, national IDs and
    /// registration numbers of the records outside their scope.
    fn secrets(&self, who: Who) -> Vec<&'static str> {
        let mut v = Vec::new();
        for w in W::ALL.into_iter().filter(|w| !who.sees_worker(*w)) {
            let s = w.spec();
            v.extend([s.name_latin, s.name_km, s.national_id]);
        }
        for o in O::ALL.into_iter().filter(|o| !who.sees_org(*o)) {
            let s = o.spec();
            v.extend([s.name_en, s.name_km, s.registration_no]);
        }
        v
    }

    /// An API call as `who` (None: without a token); also checks that the
    /// answer names nothing outside the caller's scope.
    async fn call(
        &self,
        f: &mut Failures,
        who: Option<Who>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut rb = self.api.request(Method::from_bytes(method.as_bytes()).unwrap(), self.app.url(path));
        if let Some(who) = who {
            rb = rb.bearer_auth(self.token(who));
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        f.check(documented(method, path, status), || {
            format!("{who:?} {method} {path}: {status} is not in the OpenAPI document: {text}")
        });
        if let Some(who) = who {
            let typed = |s: &str| path.contains(s) || body.is_some_and(|b| b.to_string().contains(s));
            for s in self.secrets(who).into_iter().filter(|s| !typed(s)) {
                f.check(!text.contains(s), || {
                    format!("{who:?} {method} {path}: answer contains out-of-scope {s:?}: {text}")
                });
            }
        }
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A page request in a browser session of `who` (None: anonymous); also
    /// checks that the page names nothing outside the caller's scope.
    async fn page(
        &self,
        f: &mut Failures,
        c: &Client,
        who: Option<Who>,
        method: &str,
        path: &str,
        form: Option<&[(String, String)]>,
    ) -> Resp {
        let mut rb = c.request(Method::from_bytes(method.as_bytes()).unwrap(), self.app.url(path));
        if let Some(form) = form {
            rb = rb.form(form);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string());
        let body = r.text().await.unwrap();
        let secrets = match who {
            Some(who) => self.secrets(who),
            // Anonymous visitors see no record at all.
            None => W::ALL
                .iter()
                .flat_map(|w| [w.spec().name_latin, w.spec().name_km, w.spec().national_id])
                .chain(O::ALL.iter().flat_map(|o| [o.spec().name_en, o.spec().name_km, o.spec().registration_no]))
                .collect(),
        };
        // What the caller typed (a search, a form value) may be echoed back.
        let typed = |s: &str| path.contains(s) || form.is_some_and(|form| form.iter().any(|(_, v)| v.contains(s)));
        for s in secrets.into_iter().filter(|s| !typed(s)) {
            f.check(!body.contains(s), || format!("{who:?} {method} {path}: page contains out-of-scope {s:?}"));
        }
        Resp { status, location, body }
    }
}

struct Resp {
    status: u16,
    location: Option<String>,
    body: String,
}

/// Collects every broken expectation so that one run reports them all.
struct Failures {
    engine: Engine,
    list: Vec<String>,
    /// The route being checked and as whom (while the matrix runs through [`ROUTES`]).
    route: Option<(Who, &'static str, &'static str)>,
    /// Every status expected while checking a route: (who, method, route path, status).
    wants: Vec<(Who, &'static str, &'static str, u16)>,
}

impl Failures {
    fn new(engine: Engine) -> Self {
        Failures { engine, list: Vec::new(), route: None, wants: Vec::new() }
    }

    fn check(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        if !ok {
            self.list.push(msg());
        }
    }

    fn status(&mut self, what: impl std::fmt::Display, got: u16, want: u16, body: impl std::fmt::Display) {
        if let Some((who, method, path)) = self.route {
            self.wants.push((who, method, path, want));
        }
        self.check(got == want, || format!("{what}: status {got}, want {want}: {}", truncate(&body.to_string())));
    }

    fn finish(self) {
        assert!(
            self.list.is_empty(),
            "{} access-control expectation(s) failed on {:?}:\n  - {}",
            self.list.len(),
            self.engine,
            self.list.join("\n  - ")
        );
    }
}

/// The English interface texts, as the pages render them (the session's
/// language is set to English before the page checks).
fn en() -> Texts {
    Texts::new(Locale::En)
}

/// Text as askama escapes it into HTML.
fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#x27;")
}

/// The "n results" line of a list page.
fn results_text(n: usize) -> String {
    html(&en().tp("common.results", &[("total", n.to_string())]))
}

/// The message of a field outside the caller's area.
fn out_of_scope_text() -> String {
    html(&en().field_error(&FieldError::new("workplace_code", "out_of_scope")))
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 400 {
        format!("{}…", s.chars().take(400).collect::<String>())
    } else {
        s.to_string()
    }
}

fn field_codes(v: &Value) -> Vec<(String, String)> {
    v["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| (e["field"].as_str().unwrap_or("").to_string(), e["code"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn ids_of(v: &Value) -> BTreeSet<i64> {
    v["items"].as_array().map(|a| a.iter().filter_map(|i| i["id"].as_i64()).collect()).unwrap_or_default()
}

/// A distinct phone number per check, so a change can be traced to its caller.
fn phone_for(kind: usize, who: Who, n: usize) -> String {
    format!("09{kind}{} {n}55 666", who as usize)
}

/// Which fixture records a list filter matches.
type Filter<T> = Box<dyn Fn(T) -> bool>;

/// Worker list filters (query string, which fixture workers match).
fn worker_filters(fx: &Fx) -> Vec<(String, Filter<W>)> {
    let a = fx.oid(O::A);
    let b = fx.oid(O::B);
    let mut filters: Vec<(String, Filter<W>)> = vec![
        (String::new(), Box::new(|_| true)),
        ("province=01".into(), Box::new(|w: W| w.spec().province == "01")),
        ("province=02".into(), Box::new(|w: W| w.spec().province == "02")),
        ("district=0102".into(), Box::new(|w: W| w.spec().district == "0102")),
        ("district=0201".into(), Box::new(|w: W| w.spec().district == "0201")),
        ("commune=020101".into(), Box::new(|w: W| w.spec().workplace == "020101")),
        (format!("org_id={a}"), Box::new(|w: W| w.spec().org == Some(O::A))),
        (format!("org_id={b}"), Box::new(|w: W| w.spec().org == Some(O::B))),
        (format!("province=02&org_id={a}"), Box::new(|w: W| w.spec().province == "02" && w.spec().org == Some(O::A))),
    ];
    // Searches by name, national ID and phone number find only what is in scope.
    for target in W::ALL {
        let s = target.spec();
        let phone = s.phone.replace(' ', "%20");
        for q in [s.token.to_string(), s.national_id.to_string(), phone[..phone.len() - 2].to_string()] {
            filters.push((format!("q={q}"), Box::new(move |w: W| w == target)));
        }
    }
    filters
}

// ---------------------------------------------------------------------------
// API: every route as every role
// ---------------------------------------------------------------------------

#[tokio::test]
async fn api_routes_respect_roles_and_scopes() {
    for engine in engines() {
        let fx = Fx::setup(engine).await;
        let mut f = Failures::new(engine);
        for who in Who::ALL {
            for route in ROUTES {
                if let Op::Api(op) = route.op {
                    f.route = Some((who, route.method, route.path));
                    api_route(&fx, &mut f, who, route, op).await;
                    f.route = None;
                }
            }
        }
        // Nothing that should have stayed was removed or moved.
        let ids = fx.worker_ids().await;
        for w in W::ALL {
            f.check(ids.contains(&fx.wid(w)), || format!("{w:?} was deleted during the API checks"));
            let stored = fx.stored_worker(fx.wid(w)).await;
            if let Some(s) = stored {
                f.check(s.workplace_code == w.spec().workplace, || format!("{w:?} was moved to {}", s.workplace_code));
                f.check(s.org_id == w.spec().org.map(|o| fx.oid(o)), || {
                    format!("{w:?} changed employer to {:?}", s.org_id)
                });
            }
        }
        f.check(ids.len() == 4, || format!("workers left behind by the API checks: {ids:?}"));
        f.check(fx.org_ids().await.len() == 2, || "organizations left behind by the API checks".into());
        fx.app.stop().await;
        check_gates_agree(&mut f, true);
        f.finish();
    }
}

async fn api_route(fx: &Fx, f: &mut Failures, who: Who, route: &Route, op: ApiOp) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    match op {
        ApiOp::OpenApi => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/openapi.json", None).await;
            f.status(at("/api/openapi.json"), s, 200, "");
            f.check(v["openapi"].is_string(), || "openapi.json is not an OpenAPI document".into());
        }
        ApiOp::Me => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/me", None).await;
            f.status(at("/api/v1/me"), s, 200, &v);
            f.check(v["username"] == who.username() && v["role"] == who.role().code(), || format!("{who:?} /me: {v}"));
            let want_worker = if who == Who::SelfW1 { json!(fx.wid(W::W1)) } else { Value::Null };
            f.check(v["worker_id"] == want_worker, || format!("{who:?} /me worker_id: {v}"));
        }
        ApiOp::Workers => {
            for (query, matches) in worker_filters(fx) {
                let path = format!("/api/v1/workers?{query}");
                let want: BTreeSet<i64> =
                    W::ALL.into_iter().filter(|w| who.sees_worker(*w) && matches(*w)).map(|w| fx.wid(w)).collect();
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, 200, &v);
                f.check(v["total"] == json!(want.len()), || {
                    format!("{}: total {} but {} in scope", at(&path), v["total"], want.len())
                });
                f.check(ids_of(&v) == want, || format!("{}: ids {:?}, want {want:?}", at(&path), ids_of(&v)));
                // A short page still counts the whole scope, and only it.
                let path = format!("/api/v1/workers?{query}&per_page=1");
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, 200, &v);
                f.check(v["total"] == json!(want.len()), || format!("{}: total {}", at(&path), v["total"]));
                f.check(ids_of(&v).is_subset(&want) && ids_of(&v).len() == want.len().min(1), || {
                    format!("{}: ids {:?}", at(&path), ids_of(&v))
                });
            }
        }
        ApiOp::CreateWorker => {
            let a = fx.oid(O::A);
            let b = fx.oid(O::B);
            // (case, body, province and district of the workplace, employer)
            let cases = [
                ("in scope", worker_input("ថ្មី ក្នុង", "New Inside", "010201", None), ("01", "0102"), None),
                ("out-of-scope workplace", worker_input("ថ្មី ក្រៅ", "New Outside", "020101", None), ("02", "0201"), None),
                ("employer B", worker_input("ថ្មី ខ", "New Bemployee", "010201", Some(b)), ("01", "0102"), Some(O::B)),
                (
                    "employer A elsewhere",
                    worker_input("ថ្មី ក", "New Aemployee", "020102", Some(a)),
                    ("02", "0201"),
                    Some(O::A),
                ),
            ];
            for (case, input, (province, district), org) in cases {
                let before = fx.worker_ids().await;
                let (s, v) = fx.call(f, Some(who), "POST", "/api/v1/workers", Some(&json!(input))).await;
                let what = format!("{} ({case})", at("/api/v1/workers"));
                let own_org_ok = who != Who::OrgHr || org.is_none() || org == Some(O::A);
                if !who.creates_workers() {
                    f.status(&what, s, 403, &v);
                    f.check(v["error"] == "forbidden", || format!("{what}: {v}"));
                } else if !who.reaches_place(province, district) {
                    f.status(&what, s, 422, &v);
                    f.check(field_codes(&v).contains(&("workplace_code".into(), "out_of_scope".into())), || {
                        format!("{what}: want workplace_code out_of_scope: {v}")
                    });
                } else if !own_org_ok || org.is_some_and(|o| !who.sees_org(o)) {
                    // An employer the account does not see answers as one that does not exist.
                    f.status(&what, s, 422, &v);
                    f.check(field_codes(&v).contains(&("org_id".into(), "unknown_organization".into())), || {
                        format!("{what}: want org_id unknown_organization: {v}")
                    });
                } else {
                    // An employer seated elsewhere is named where it has staff (A in province 02).
                    f.status(&what, s, 201, &v);
                }
                let after = fx.worker_ids().await;
                let created: Vec<i64> = after.difference(&before).copied().collect();
                if s == 201 {
                    f.check(created.len() == 1, || format!("{what}: created {created:?}"));
                    if who == Who::OrgHr {
                        f.check(v["org_id"] == json!(a), || {
                            format!("{what}: an HR manager's new worker must be A's: {v}")
                        });
                    }
                    let id = v["id"].as_i64().unwrap_or(0);
                    let (s, _) = fx.call(f, Some(who), "GET", &format!("/api/v1/workers/{id}"), None).await;
                    f.status(format!("{what}: reading the new worker back"), s, 200, "");
                } else {
                    f.check(created.is_empty(), || format!("{what}: answered {s} but created {created:?}"));
                }
                for id in created {
                    fx.remove_worker(id).await;
                }
            }
        }
        ApiOp::Worker => {
            let (_, none) = fx.call(f, Some(who), "GET", "/api/v1/workers/999999", None).await;
            for w in W::ALL {
                let path = format!("/api/v1/workers/{}", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                if who.sees_worker(w) {
                    f.status(at(&path), s, 200, &v);
                    f.check(v["id"] == json!(fx.wid(w)) && v["name_latin"] == w.spec().name_latin, || {
                        format!("{}: {v}", at(&path))
                    });
                } else {
                    f.status(at(&path), s, 404, &v);
                    f.check(v == none, || {
                        format!("{}: 404 differs from a missing record's ({v} vs {none})", at(&path))
                    });
                }
            }
        }
        ApiOp::PatchWorker => {
            for (n, w) in W::ALL.into_iter().enumerate() {
                let path = format!("/api/v1/workers/{}", fx.wid(w));
                let before = fx.stored_phone(w).await;
                let phone = phone_for(1, who, n);
                let (s, v) = fx.call(f, Some(who), "PATCH", &path, Some(&json!({ "phone": phone }))).await;
                let want = if !who.sees_worker(w) {
                    404
                } else if !who.writes_workers() {
                    403
                } else {
                    200
                };
                f.status(format!("{} {{phone}}", at(&path)), s, want, &v);
                let after = fx.stored_phone(w).await;
                let expected = if want == 200 { Some(phone.clone()) } else { before.clone() };
                f.check(after == expected, || format!("{}: stored phone {after:?}, want {expected:?}", at(&path)));
            }
            // Attempts to change what the role may not change, or to move a
            // record out of the caller's own reach.
            let w1 = format!("/api/v1/workers/{}", fx.wid(W::W1));
            let attempts: Vec<(Value, &str, &str)> = match who {
                Who::SelfW1 => vec![
                    (json!({"cadre": "professional_social_worker"}), "cadre", "not_editable"),
                    (json!({"workplace_code": "020101"}), "workplace_code", "not_editable"),
                    (json!({"org_id": fx.oid(O::B)}), "org_id", "not_editable"),
                    (json!({"status": "left", "phone": "012 777 777"}), "status", "not_editable"),
                ],
                Who::Prov => vec![(json!({"workplace_code": "020101"}), "workplace_code", "out_of_scope")],
                Who::Dist => vec![(json!({"workplace_code": "0103"}), "workplace_code", "out_of_scope")],
                Who::OrgHr => vec![
                    (json!({"org_id": fx.oid(O::B)}), "org_id", "unknown_organization"),
                    (json!({"org_id": 0}), "org_id", "must_be_own_organization"),
                ],
                Who::Admin | Who::Viewer => vec![],
            };
            for (body, field, code) in attempts {
                let before = fx.stored_worker(fx.wid(W::W1)).await;
                let (s, v) = fx.call(f, Some(who), "PATCH", &w1, Some(&body)).await;
                let what = format!("{} {body}", at(&w1));
                f.status(&what, s, 422, &v);
                f.check(field_codes(&v).contains(&(field.into(), code.into())), || {
                    format!("{what}: want {field} {code}: {v}")
                });
                let after = fx.stored_worker(fx.wid(W::W1)).await;
                f.check(after == before, || format!("{what}: W1 changed although the change was refused"));
            }
            if who == Who::SelfW1 {
                let body = json!({"email": "w1@example.org", "education_level": "tvc1"});
                let (s, v) = fx.call(f, Some(who), "PATCH", &w1, Some(&body)).await;
                f.status(format!("{} {body}", at(&w1)), s, 200, &v);
                let after = fx.stored_worker(fx.wid(W::W1)).await.unwrap();
                f.check(after.email.as_deref() == Some("w1@example.org"), || {
                    format!("worker's own email not saved: {after:?}")
                });
            }
            fx.restore_contacts().await;
        }
        ApiOp::DeleteWorker => {
            if who.deletes() {
                for w in W::ALL {
                    let id = fx.throwaway_worker(w).await;
                    let path = format!("/api/v1/workers/{id}");
                    let (s, v) = fx.call(f, Some(who), "DELETE", &path, None).await;
                    f.status(format!("{} (copy of {w:?})", at(&path)), s, 204, &v);
                    f.check(fx.stored_worker(id).await.is_none(), || format!("{}: still stored", at(&path)));
                    let (s, v) = fx.call(f, Some(who), "DELETE", &path, None).await;
                    f.status(format!("{} again", at(&path)), s, 404, &v);
                }
            } else {
                for w in W::ALL {
                    let path = format!("/api/v1/workers/{}", fx.wid(w));
                    let (s, v) = fx.call(f, Some(who), "DELETE", &path, None).await;
                    f.status(at(&path), s, if who.sees_worker(w) { 403 } else { 404 }, &v);
                    f.check(fx.stored_worker(fx.wid(w)).await.is_some(), || {
                        format!("{}: {w:?} was deleted", at(&path))
                    });
                }
            }
        }
        ApiOp::Postings | ApiOp::Statuses => {
            let tail = if op == ApiOp::Postings { "postings" } else { "status-history" };
            for w in W::ALL {
                let path = format!("/api/v1/workers/{}/{tail}", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                if who.sees_worker(w) {
                    f.status(at(&path), s, 200, &v);
                    let items = v.as_array().cloned().unwrap_or_default();
                    f.check(!items.is_empty() && items.iter().all(|i| i["worker_id"] == json!(fx.wid(w))), || {
                        format!("{}: {v}", at(&path))
                    });
                } else {
                    f.status(at(&path), s, 404, &v);
                }
            }
            let (s, v) = fx.call(f, Some(who), "GET", &format!("/api/v1/workers/999999/{tail}"), None).await;
            f.status(at(&format!("/api/v1/workers/999999/{tail}")), s, 404, &v);
        }
        ApiOp::Orgs => {
            let filters: Vec<(&str, Filter<O>)> = vec![
                ("", Box::new(|_| true)),
                ("province=01", Box::new(|o: O| o.spec().province == "01")),
                ("province=02", Box::new(|o: O| o.spec().province == "02")),
                ("q=bravo", Box::new(|o: O| o == O::B)),
                ("q=REGB0002", Box::new(|o: O| o == O::B)),
                ("kind=ngo", Box::new(|_| true)),
            ];
            for (query, matches) in filters {
                let path = format!("/api/v1/organizations?{query}");
                let want: BTreeSet<i64> =
                    O::ALL.into_iter().filter(|o| who.sees_org(*o) && matches(*o)).map(|o| fx.oid(o)).collect();
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, 200, &v);
                f.check(v["total"] == json!(want.len()) && ids_of(&v) == want, || {
                    format!("{}: total {} ids {:?}, want {want:?}", at(&path), v["total"], ids_of(&v))
                });
            }
        }
        ApiOp::CreateOrg => {
            for (case, code, province, district) in
                [("in scope", "0102", "01", "0102"), ("out of scope", "0201", "02", "0201")]
            {
                let before = fx.org_ids().await;
                let body = json!(org_input("New Org", code));
                let (s, v) = fx.call(f, Some(who), "POST", "/api/v1/organizations", Some(&body)).await;
                let what = format!("{} ({case})", at("/api/v1/organizations"));
                if !who.writes_orgs() {
                    f.status(&what, s, 403, &v);
                } else if !who.reaches_place(province, district) {
                    f.status(&what, s, 422, &v);
                    f.check(field_codes(&v).contains(&("admin_code".into(), "out_of_scope".into())), || {
                        format!("{what}: {v}")
                    });
                } else {
                    f.status(&what, s, 201, &v);
                }
                let created: Vec<i64> = fx.org_ids().await.difference(&before).copied().collect();
                f.check(created.len() == usize::from(s == 201), || {
                    format!("{what}: answered {s}, created {created:?}")
                });
                for id in created {
                    fx.remove_org(id).await;
                }
            }
        }
        ApiOp::Org => {
            let (_, none) = fx.call(f, Some(who), "GET", "/api/v1/organizations/999999", None).await;
            for o in O::ALL {
                let path = format!("/api/v1/organizations/{}", fx.oid(o));
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                if who.sees_org(o) {
                    f.status(at(&path), s, 200, &v);
                    f.check(v["name_en"] == o.spec().name_en, || format!("{}: {v}", at(&path)));
                } else {
                    f.status(at(&path), s, 404, &v);
                    f.check(v == none, || format!("{}: 404 differs from a missing record's", at(&path)));
                }
            }
        }
        ApiOp::PatchOrg => {
            for (n, o) in O::ALL.into_iter().enumerate() {
                let path = format!("/api/v1/organizations/{}", fx.oid(o));
                let before = fx.stored_org_phone(o).await;
                let phone = phone_for(2, who, n);
                let (s, v) = fx.call(f, Some(who), "PATCH", &path, Some(&json!({ "phone": phone }))).await;
                let want = if !who.sees_org(o) {
                    404
                } else if !who.writes_orgs() {
                    403
                } else {
                    200
                };
                f.status(format!("{} {{phone}}", at(&path)), s, want, &v);
                let after = fx.stored_org_phone(o).await;
                let expected = if want == 200 { Some(phone.clone()) } else { before };
                f.check(after == expected, || format!("{}: stored phone {after:?}, want {expected:?}", at(&path)));
            }
            let moves = match who {
                Who::Prov => Some("0201"),
                Who::Dist => Some("0103"),
                _ => None,
            };
            if let Some(code) = moves {
                let path = format!("/api/v1/organizations/{}", fx.oid(O::A));
                let (s, v) = fx.call(f, Some(who), "PATCH", &path, Some(&json!({ "admin_code": code }))).await;
                f.status(format!("{} moving A to {code}", at(&path)), s, 422, &v);
                f.check(field_codes(&v).contains(&("admin_code".into(), "out_of_scope".into())), || {
                    format!("{}: {v}", at(&path))
                });
                let stored = fx.app.db.store.get_org(&sys(), fx.oid(O::A)).await.unwrap().unwrap();
                f.check(stored.org.admin_code == "0102", || {
                    format!("{}: A moved to {}", at(&path), stored.org.admin_code)
                });
            }
            fx.restore_contacts().await;
        }
        ApiOp::DeleteOrg => {
            for o in O::ALL {
                let path = format!("/api/v1/organizations/{}", fx.oid(o));
                let (s, v) = fx.call(f, Some(who), "DELETE", &path, None).await;
                let want = if !who.sees_org(o) {
                    404
                } else if !who.deletes() {
                    403
                } else {
                    409 // still employs workers
                };
                f.status(at(&path), s, want, &v);
                f.check(fx.org_ids().await.contains(&fx.oid(o)), || format!("{}: {o:?} was deleted", at(&path)));
            }
            let temp = fx.throwaway_org("0201").await;
            let path = format!("/api/v1/organizations/{temp}");
            let (s, v) = fx.call(f, Some(who), "DELETE", &path, None).await;
            let want = match who {
                Who::Admin => 204,
                Who::Viewer => 403,
                _ => 404, // an organization in province 02
            };
            f.status(format!("{} (unreferenced, province 02)", at(&path)), s, want, &v);
            let gone = !fx.org_ids().await.contains(&temp);
            f.check(gone == (want == 204), || format!("{}: deleted = {gone}", at(&path)));
            if !gone {
                fx.remove_org(temp).await;
            }
        }
        ApiOp::Units => {
            for path in ["/api/v1/admin-units", "/api/v1/admin-units?parent=02", "/api/v1/admin-units?level=province"] {
                let (s, v) = fx.call(f, Some(who), "GET", path, None).await;
                f.status(at(path), s, 200, &v);
                f.check(v["total"].as_i64().unwrap_or(0) > 0, || {
                    format!("{}: reference data is for everyone: {v}", at(path))
                });
            }
        }
        ApiOp::Unit => {
            for code in ["01", "02", "0201", "020101"] {
                let path = format!("/api/v1/admin-units/{code}");
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, 200, &v);
            }
        }
        ApiOp::ExportWorkers => {
            for (query, matches) in [
                (String::new(), Box::new(|_: W| true) as Filter<W>),
                ("province=02".to_string(), Box::new(|w: W| w.spec().province == "02")),
                (format!("org_id={}", fx.oid(O::A)), Box::new(|w: W| w.spec().org == Some(O::A))),
            ] {
                let want: BTreeSet<i64> =
                    W::ALL.into_iter().filter(|w| who.sees_worker(*w) && matches(*w)).map(|w| fx.wid(w)).collect();
                for format in ["csv", "xlsx"] {
                    let path = format!("/api/v1/workers/export?format={format}&{query}");
                    // Through `call` for its check that nothing out of scope is named…
                    let (s, _) = fx.call(f, Some(who), "GET", &path, None).await;
                    f.status(at(&path), s, 200, "");
                    // …and read back for exactly the workers in scope.
                    let r = fx.api.get(fx.app.url(&path)).bearer_auth(fx.token(who)).send().await.unwrap();
                    let ids = export_ids(&format!("export.{format}"), &r.bytes().await.unwrap());
                    f.check(ids == want, || format!("{}: ids {ids:?}, want {want:?}", at(&path)));
                }
            }
        }
        ApiOp::Imports => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/imports", None).await;
            if who.imports() {
                f.status(at("/api/v1/imports"), s, 200, &v);
                let listed = ids_of(&v).contains(&fx.prov_import);
                f.check(listed == (who.on_prov_import() == 200), || {
                    format!("{}: the officer's import listed = {listed}: {v}", at("/api/v1/imports"))
                });
            } else {
                f.status(at("/api/v1/imports"), s, 403, &v);
            }
        }
        ApiOp::Import => {
            let path = format!("/api/v1/imports/{}", fx.prov_import);
            let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
            f.status(at(&path), s, who.on_prov_import(), &v);
            if s == 200 {
                f.check(v["username"] == Who::Prov.username() && v["file_name"] == "w1.csv", || format!("{v}"));
            }
        }
        ApiOp::ImportWorkers => {
            let before = fx.worker_ids().await;
            for query in ["dry_run=true", "dry_run=false"] {
                let path = format!("/api/v1/imports/workers?{query}");
                let r = fx
                    .api
                    .post(fx.app.url(&path))
                    .bearer_auth(fx.token(who))
                    .header("content-type", "text/csv")
                    .body(w1_file())
                    .send()
                    .await
                    .unwrap();
                let s = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                if who.imports() {
                    f.status(at(&path), s, 200, &v);
                    // W1 is a certain duplicate, visible to every importer here: skipped.
                    f.check(v["duplicates_skipped"] == 1 && v["added"] == 0, || format!("{}: {v}", at(&path)));
                } else {
                    f.status(at(&path), s, 403, &v);
                }
            }
            f.check(fx.worker_ids().await == before, || format!("{who:?}: the import API added workers"));
        }
        ApiOp::Frameworks => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/competency-frameworks", None).await;
            f.status(at("/api/v1/competency-frameworks"), s, 200, &v);
            f.check(v[0]["version"] == "mosvy-2019" && v[0]["current"] == true, || format!("{who:?}: {v}"));
        }
        ApiOp::CurrentFramework => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/competency-frameworks/current", None).await;
            f.status(at("/api/v1/competency-frameworks/current"), s, 200, "");
            let competencies: usize = v["areas"]
                .as_array()
                .map(|a| a.iter().map(|a| a["competencies"].as_array().map_or(0, |c| c.len())).sum())
                .unwrap_or(0);
            f.check(v["version"] == "mosvy-2019" && competencies == 56, || {
                format!("{who:?}: {competencies} competencies")
            });
        }
        ApiOp::Framework => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/competency-frameworks/mosvy-2019", None).await;
            f.status(at("/api/v1/competency-frameworks/mosvy-2019"), s, 200, "");
            f.check(v["version"] == "mosvy-2019", || format!("{who:?}: version {}", v["version"]));
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/competency-frameworks/no-such", None).await;
            f.status(at("/api/v1/competency-frameworks/no-such"), s, 404, &v);
        }
        ApiOp::Assessments => {
            let (_, none) = fx.call(f, Some(who), "GET", "/api/v1/workers/999999/assessments", None).await;
            for w in W::ALL {
                let path = format!("/api/v1/workers/{}/assessments", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                if who.sees_worker(w) {
                    f.status(at(&path), s, 200, &v);
                    let items = v.as_array().cloned().unwrap_or_default();
                    f.check(
                        items.iter().any(|a| a["id"] == json!(fx.aid(w)))
                            && items.iter().all(|a| a["worker_id"] == json!(fx.wid(w))),
                        || format!("{}: {v}", at(&path)),
                    );
                } else {
                    f.status(at(&path), s, 404, &v);
                    f.check(v == none, || format!("{}: 404 differs from a missing worker's", at(&path)));
                }
            }
        }
        ApiOp::CreateAssessment => {
            for w in W::ALL {
                let path = format!("/api/v1/workers/{}/assessments", fx.wid(w));
                for kind in ["supervisor", "self"] {
                    let before = fx.assessment_ids().await;
                    let body = json!(assessment_input(kind, &[("values.03.1", 3)]));
                    let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&body)).await;
                    let own = who == Who::SelfW1 && w == W::W1;
                    let want = match kind {
                        "supervisor" if own => 422,
                        "supervisor" => who.on_supervisor_assessment(w, 201),
                        _ if !who.sees_worker(w) => 404,
                        _ if own => 201,
                        _ if who.assesses() => 422,
                        _ => 403,
                    };
                    let what = format!("{} ({kind})", at(&path));
                    f.status(&what, s, want, &v);
                    if want == 422 {
                        f.check(field_codes(&v).contains(&("kind".into(), "kind_not_allowed".into())), || {
                            format!("{what}: want kind kind_not_allowed: {v}")
                        });
                    }
                    let made = fx.remove_assessments_since(&before).await;
                    f.check(made.len() == usize::from(want == 201), || format!("{what}: answered {s}, made {made:?}"));
                }
            }
        }
        ApiOp::WorkerGaps => {
            for w in W::ALL {
                let path = format!("/api/v1/workers/{}/competency-gaps", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                if who.sees_worker(w) {
                    f.status(at(&path), s, 200, &v);
                    f.check(
                        v["worker_id"] == json!(fx.wid(w)) && v["competencies"].as_array().map_or(0, |c| c.len()) == 56,
                        || format!("{}: {v}", at(&path)),
                    );
                } else {
                    f.status(at(&path), s, 404, &v);
                }
            }
        }
        ApiOp::Assessment => {
            let (_, none) = fx.call(f, Some(who), "GET", "/api/v1/assessments/999999", None).await;
            let mut cases: Vec<(W, i64)> = W::ALL.iter().map(|w| (*w, fx.aid(*w))).collect();
            cases.push((W::W1, fx.self_a1));
            for (w, id) in cases {
                let path = format!("/api/v1/assessments/{id}");
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                if who.sees_worker(w) {
                    f.status(at(&path), s, 200, &v);
                    f.check(v["worker_id"] == json!(fx.wid(w)), || format!("{}: {v}", at(&path)));
                } else {
                    f.status(at(&path), s, 404, &v);
                    f.check(v == none, || format!("{}: 404 differs from a missing assessment's", at(&path)));
                }
            }
        }
        ApiOp::PutAssessment => {
            for w in W::ALL {
                let path = format!("/api/v1/assessments/{}", fx.aid(w));
                let mut input = assessment_input("supervisor", &[("values.01.1", 2), ("skills.01.1", 3)]);
                input.notes = Some(format!("changed by {who:?}"));
                let (s, v) = fx.call(f, Some(who), "PUT", &path, Some(&json!(input))).await;
                let want = who.on_supervisor_assessment(w, 200);
                f.status(at(&path), s, want, &v);
                let stored = fx.app.db.store.get_assessment(&sys(), fx.aid(w)).await.unwrap().unwrap();
                let changed = stored.notes.as_deref() == input.notes.as_deref();
                f.check(changed == (want == 200), || format!("{}: stored notes {:?}", at(&path), stored.notes));
            }
            // The worker changes their own self-assessment; nobody else may.
            let path = format!("/api/v1/assessments/{}", fx.self_a1);
            let input = assessment_input("self", &[("values.01.1", 4), ("values.02.1", 3)]);
            let (s, v) = fx.call(f, Some(who), "PUT", &path, Some(&json!(input))).await;
            let want = if !who.sees_worker(W::W1) {
                404
            } else if who == Who::SelfW1 {
                200
            } else {
                403
            };
            f.status(at(&path), s, want, &v);
        }
        ApiOp::DeleteAssessment => {
            for w in W::ALL {
                let id = fx.throwaway_assessment(w).await;
                let path = format!("/api/v1/assessments/{id}");
                let (s, v) = fx.call(f, Some(who), "DELETE", &path, None).await;
                let want = who.on_supervisor_assessment(w, 204);
                f.status(at(&path), s, want, &v);
                let gone = fx.app.db.store.get_assessment(&sys(), id).await.unwrap().is_none();
                f.check(gone == (want == 204), || format!("{}: deleted = {gone}", at(&path)));
                if !gone {
                    fx.app.db.store.delete_assessment(&sys(), id, None).await.unwrap();
                }
            }
        }
        ApiOp::Gaps => {
            for (query, matches) in
                [("", Box::new(|_: W| true) as Filter<W>), ("province=02", Box::new(|w: W| w.spec().province == "02"))]
            {
                let path = format!("/api/v1/competency/gaps?{query}");
                let want = W::ALL.into_iter().filter(|w| who.sees_worker(*w) && matches(*w)).count();
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, 200, &v);
                f.check(
                    v["workers_assessed"] == json!(want) && v["cells"].as_array().map_or(0, |c| c.len()) == 56,
                    || format!("{}: workers_assessed {}, want {want}", at(&path), v["workers_assessed"]),
                );
            }
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/competency/gaps?sex=x", None).await;
            f.status(at("/api/v1/competency/gaps?sex=x"), s, 400, &v);
        }
        ApiOp::TrainingNeeds => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/competency/training-needs", None).await;
            f.status(at("/api/v1/competency/training-needs"), s, 200, &v);
            let want = W::ALL.into_iter().filter(|w| who.sees_worker(*w)).count();
            f.check(v["workers_assessed"] == json!(want), || format!("{who:?} training needs: {v}"));
        }
        ApiOp::PlanningCoverage => {
            let province_level = match who {
                Who::Admin | Who::Viewer | Who::Prov => 200,
                // A district officer's area has no province row.
                Who::Dist => 422,
                _ => 403,
            };
            for (path, want) in [
                ("/api/v1/planning/coverage?level=commune&parent=0102", if reads_planning(who) { 200 } else { 403 }),
                ("/api/v1/planning/coverage?level=commune&parent=0201", on_national_only(who)),
                ("/api/v1/planning/coverage?level=province", province_level),
                ("/api/v1/planning/coverage?level=province&format=csv", province_level),
            ] {
                let (s, v) = fx.call(f, Some(who), "GET", path, None).await;
                f.status(at(path), s, want, &v);
            }
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/planning/coverage?level=province", None).await;
            if s == 200 {
                let n = v["units"].as_array().map_or(0, |a| a.len());
                let want = if who == Who::Prov { 1 } else { 25 };
                f.check(n == want, || format!("{}: {n} provinces, want {want}", at("/api/v1/planning/coverage")));
            }
        }
        ApiOp::PlanningNorms => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/planning/norms", None).await;
            f.status(at("/api/v1/planning/norms"), s, if reads_planning(who) { 200 } else { 403 }, &v);
        }
        ApiOp::AddNorm => {
            let body = json!({"name": format!("perm-api-{}", format!("{who:?}").to_lowercase()),
                "rules": [{"kind": "ratio", "level": "province", "workers": 1, "per": 10000}]});
            let (s, v) = fx.call(f, Some(who), "POST", "/api/v1/planning/norms", Some(&body)).await;
            f.status(at("/api/v1/planning/norms"), s, if who == Who::Admin { 201 } else { 403 }, &v);
        }
        ApiOp::PlanningPlans => {
            let id = prov_plan(fx).await;
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/planning/plans", None).await;
            f.status(at("/api/v1/planning/plans"), s, if reads_planning(who) { 200 } else { 403 }, &v);
            if s == 200 {
                let listed = v.as_array().is_some_and(|a| a.iter().any(|p| p["id"] == json!(id)));
                f.check(listed == (on_prov_plan(who) == 200), || {
                    format!("{}: the provincial plan listed = {listed}", at("/api/v1/planning/plans"))
                });
            }
        }
        ApiOp::CreatePlan => {
            let body = json!({"name": "perm", "start_year": 2025, "target_year": 2025, "posts": 1});
            let (s, v) = fx.call(f, Some(who), "POST", "/api/v1/planning/plans", Some(&body)).await;
            f.status(at("/api/v1/planning/plans"), s, if makes_plans(who) { 201 } else { 403 }, &v);
            let outside =
                json!({"name": "perm", "start_year": 2025, "target_year": 2025, "posts": 1, "parent": "0201"});
            let (s, v) = fx.call(f, Some(who), "POST", "/api/v1/planning/plans", Some(&outside)).await;
            let want = match who {
                Who::Admin => 201,
                Who::Prov | Who::Dist => 404,
                _ => 403,
            };
            f.status(at("/api/v1/planning/plans (parent 0201)"), s, want, &v);
        }
        ApiOp::Plan => {
            let id = prov_plan(fx).await;
            let path = format!("/api/v1/planning/plans/{id}");
            let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
            f.status(at(&path), s, on_prov_plan(who), &v);
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/planning/plans/999999", None).await;
            f.status(at("/api/v1/planning/plans/999999"), s, if reads_planning(who) { 404 } else { 403 }, &v);
        }
        ApiOp::Supply => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/planning/supply", None).await;
            f.status(at("/api/v1/planning/supply"), s, if reads_planning(who) { 200 } else { 403 }, &v);
        }
        ApiOp::Training => training_api(fx, f, who, route).await,
        ApiOp::Establishment => establishment_api(fx, f, who, route).await,
        ApiOp::Supervision => supervision_api(fx, f, who, route).await,
        ApiOp::Costs => costs_api(fx, f, who, route).await,
        ApiOp::Retention => retention_api(fx, f, who, route).await,
        ApiOp::CaseSystems => caseloads_api(fx, f, who, route).await,
        ApiOp::Fhir => fhir_api(fx, f, who, route).await,
        ApiOp::Recruitment => recruitment_api(fx, f, who, route).await,
        ApiOp::Appraisals => appraisals_api(fx, f, who, route).await,
        ApiOp::Hiring => hiring_api(fx, f, who, route).await,
        ApiOp::Accounts => accounts_api(fx, f, who, route).await,
        ApiOp::Public => public_check(fx, f, Some(who), route).await,
        ApiOp::Indicators | ApiOp::Caseloads | ApiOp::Vacancies => {
            let (path, body) = match op {
                ApiOp::Indicators => (
                    "/api/v1/planning/indicators",
                    json!([{"admin_code": "01", "name": "perm_index", "year": 2024, "value": 0.5}]),
                ),
                ApiOp::Caseloads => (
                    "/api/v1/planning/caseloads",
                    json!([{"admin_code": "01", "open_cases": 9, "as_of": "2025-01-31"}]),
                ),
                _ => {
                    ("/api/v1/planning/vacancies", json!([{"admin_code": "01", "vacancies": 2, "as_of": "2025-01-31"}]))
                }
            };
            let (s, v) = fx.call(f, Some(who), "POST", path, Some(&body)).await;
            f.status(at(path), s, if who == Who::Admin { 200 } else { 403 }, &v);
        }
        ApiOp::CompetencyExport => {
            let want: BTreeSet<i64> = W::ALL.into_iter().filter(|w| who.sees_worker(*w)).map(|w| fx.wid(w)).collect();
            for format in ["csv", "xlsx"] {
                let path = format!("/api/v1/competency/export?table=assessments&format={format}");
                let (s, _) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, 200, "");
                let r = fx.api.get(fx.app.url(&path)).bearer_auth(fx.token(who)).send().await.unwrap();
                let ids = export_worker_ids(&format!("export.{format}"), &r.bytes().await.unwrap());
                f.check(ids == want, || format!("{}: worker ids {ids:?}, want {want:?}", at(&path)));
            }
            let path = "/api/v1/competency/export?table=gaps&format=csv";
            let r = fx.api.get(fx.app.url(path)).bearer_auth(fx.token(who)).send().await.unwrap();
            f.status(at(path), r.status().as_u16(), 200, "");
            let (_, rows) = read_back("gaps.csv", &r.bytes().await.unwrap());
            f.check(rows.len() == 56, || format!("{}: {} rows", at(path), rows.len()));
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/competency/export?table=nope", None).await;
            f.status(at("/api/v1/competency/export?table=nope"), s, 400, &v);
        }
        ApiOp::Audit => {
            for path in
                ["/api/v1/audit", "/api/v1/audit?entity=worker", &format!("/api/v1/audit?entity_id={}", fx.wid(W::W2))]
            {
                let (s, v) = fx.call(f, Some(who), "GET", path, None).await;
                if who.reads_audit() {
                    f.status(at(path), s, 200, &v);
                    f.check(v["total"].as_i64().unwrap_or(0) > 0, || format!("{}: empty audit log: {v}", at(path)));
                } else {
                    f.status(at(path), s, 403, &v);
                    f.check(v["error"] == "forbidden" && v.get("items").is_none(), || format!("{}: {v}", at(path)));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Pages: every route as every role
// ---------------------------------------------------------------------------

#[tokio::test]
async fn page_routes_respect_roles_and_scopes() {
    for engine in engines() {
        let fx = Fx::setup(engine).await;
        let mut f = Failures::new(engine);
        for who in Who::ALL {
            let c = browser();
            login(&fx.app, &c, who.username()).await;
            let r = fx.page(&mut f, &c, Some(who), "GET", "/lang/en?next=/about", None).await;
            f.status(format!("{who:?} GET /lang/en"), r.status, 303, "");
            // The CSRF token of the session, from the edit page where there is one.
            let edit = fx.page(&mut f, &c, Some(who), "GET", &format!("/workers/{}/edit", fx.wid(W::W1)), None).await;
            let any = fx.page(&mut f, &c, Some(who), "GET", "/about", None).await;
            let csrf = if edit.status == 200 { csrf_of(&edit.body) } else { csrf_of(&any.body) };
            f.check(csrf_of(&any.body) == csrf, || format!("{who:?}: CSRF token differs between pages"));
            for route in ROUTES {
                if let Op::Page(op) = route.op {
                    f.route = Some((who, route.method, route.path));
                    page_route(&fx, &mut f, who, &c, &csrf, route, op).await;
                    f.route = None;
                }
            }
            // Logging out ends the session.
            let r = fx.page(&mut f, &c, Some(who), "POST", "/logout", Some(&[("csrf".into(), csrf.clone())])).await;
            f.status(format!("{who:?} POST /logout with CSRF"), r.status, 303, "");
            let r = fx.page(&mut f, &c, None, "GET", "/workers", None).await;
            f.check(r.status == 303 && r.location.as_deref().is_some_and(|l| l.starts_with("/login")), || {
                format!("{who:?}: still signed in after logout ({} {:?})", r.status, r.location)
            });
        }
        let ids = fx.worker_ids().await;
        f.check(ids.len() == 4 && W::ALL.iter().all(|w| ids.contains(&fx.wid(*w))), || {
            format!("workers after the page checks: {ids:?}")
        });
        f.check(fx.org_ids().await.len() == 2, || "organizations left behind by the page checks".into());
        fx.app.stop().await;
        check_gates_agree(&mut f, false);
        f.finish();
    }
}

async fn page_route(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route, op: PageOp) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let with_csrf = |mut form: Vec<(String, String)>| {
        form.push(("csrf".into(), csrf.to_string()));
        form
    };
    match op {
        PageOp::Home => {
            let r = fx.page(f, c, Some(who), "GET", "/", None).await;
            if who == Who::SelfW1 {
                f.status(at("/"), r.status, 303, "");
                f.check(r.location.as_deref() == Some("/me"), || format!("{}: to {:?}", at("/"), r.location));
            } else {
                f.status(at("/"), r.status, 200, "");
                let n = W::ALL.iter().filter(|w| who.sees_worker(**w)).count();
                f.check(r.body.contains(&format!("class=\"big\">{n}</div>")), || {
                    format!("{}: total is not {n}", at("/"))
                });
                // Certified (W1, W2, W4 hold a certificate) and licensed (W1, W2), in scope.
                let certified = [W::W1, W::W2, W::W4].iter().filter(|w| who.sees_worker(**w)).count();
                let licensed = [W::W1, W::W2].iter().filter(|w| who.sees_worker(**w)).count();
                f.check(r.body.contains(&format!("id=\"certified\">{certified}<")), || {
                    format!("{}: certified is not {certified}", at("/"))
                });
                f.check(r.body.contains(&format!("id=\"licensed\">{licensed}<")), || {
                    format!("{}: licensed is not {licensed}", at("/"))
                });
            }
        }
        PageOp::LoginForm => {
            let r = fx.page(f, c, Some(who), "GET", "/login", None).await;
            f.status(at("/login"), r.status, 303, "");
            f.check(r.location.as_deref() == Some("/"), || format!("{}: to {:?}", at("/login"), r.location));
        }
        PageOp::Login => {
            // Without the form's CSRF token a login is refused, and the
            // session stays the caller's (no login CSRF).
            let form: Vec<(String, String)> = vec![
                ("username".into(), "admin".into()),
                ("password".into(), common::PASSWORD.into()),
                ("next".into(), "/".into()),
            ];
            let r = fx.page(f, c, Some(who), "POST", "/login", Some(&form)).await;
            f.status(at("/login (no CSRF)"), r.status, 401, "");
            let r = fx.page(f, c, Some(who), "GET", "/audit", None).await;
            f.status(
                format!("{who:?} GET /audit after a refused login as admin"),
                r.status,
                if who.reads_audit() { 200 } else { 403 },
                "",
            );
        }
        PageOp::Logout => {
            let r = fx.page(f, c, Some(who), "POST", "/logout", Some(&[("csrf".into(), "0".repeat(48))])).await;
            f.status(at("/logout (wrong CSRF)"), r.status, 403, "");
            let r = fx.page(f, c, Some(who), "GET", "/about", None).await;
            f.check(r.body.contains(who.username()), || format!("{who:?}: signed out by a forged logout"));
        }
        PageOp::Lang => {
            for (path, to) in [
                ("/lang/en?next=/workers", "/workers"),
                ("/lang/en?next=//evil.example/x", "/"),
                ("/lang/en?next=https://evil.example/", "/"),
            ] {
                let r = fx.page(f, c, Some(who), "GET", path, None).await;
                f.status(at(path), r.status, 303, "");
                f.check(r.location.as_deref() == Some(to), || format!("{}: to {:?}, want {to}", at(path), r.location));
            }
        }
        PageOp::Me => {
            let r = fx.page(f, c, Some(who), "GET", "/me", None).await;
            f.status(at("/me"), r.status, 303, "");
            let want = if who == Who::SelfW1 { format!("/workers/{}", fx.wid(W::W1)) } else { "/".into() };
            f.check(r.location.as_deref() == Some(want.as_str()), || {
                format!("{}: to {:?}, want {want}", at("/me"), r.location)
            });
        }
        PageOp::Workers => {
            for (query, matches) in worker_filters(fx) {
                let path = format!("/workers?{query}");
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, 200, "");
                let want: Vec<W> = W::ALL.into_iter().filter(|w| who.sees_worker(*w) && matches(*w)).collect();
                let count = format!("id=\"result-count\">{}<", results_text(want.len()));
                f.check(r.body.contains(&count), || format!("{}: result count is not {}", at(&path), want.len()));
                for w in W::ALL {
                    let shown = r.body.contains(w.spec().name_latin);
                    f.check(shown == want.contains(&w), || format!("{}: {w:?} shown = {shown}", at(&path)));
                }
            }
        }
        PageOp::CreateWorker => {
            let a = fx.oid(O::A);
            let b = fx.oid(O::B);
            let cases = [
                ("in scope", worker_input("ថ្មី ក្នុង", "New Inside", "010201", None), ("01", "0102"), None),
                ("out-of-scope workplace", worker_input("ថ្មី ក្រៅ", "New Outside", "020101", None), ("02", "0201"), None),
                ("employer B", worker_input("ថ្មី ខ", "New Bemployee", "010201", Some(b)), ("01", "0102"), Some(O::B)),
                (
                    "employer A elsewhere",
                    worker_input("ថ្មី ក", "New Aemployee", "020102", Some(a)),
                    ("02", "0201"),
                    Some(O::A),
                ),
            ];
            for (case, input, (province, district), org) in cases {
                let before = fx.worker_ids().await;
                let r = fx.page(f, c, Some(who), "POST", "/workers", Some(&form_of(&input, Some(csrf)))).await;
                let what = format!("{} ({case})", at("/workers"));
                let own_org_ok = who != Who::OrgHr || org.is_none() || org == Some(O::A);
                if !who.creates_workers() {
                    f.status(&what, r.status, 403, "");
                } else if !who.reaches_place(province, district) {
                    f.status(&what, r.status, 422, "");
                    f.check(r.body.contains(&out_of_scope_text()), || format!("{what}: no out-of-scope message"));
                } else if !own_org_ok || org.is_some_and(|o| !who.sees_org(o)) {
                    f.status(&what, r.status, 422, "");
                } else {
                    f.status(&what, r.status, 303, "");
                }
                let created: Vec<i64> = fx.worker_ids().await.difference(&before).copied().collect();
                f.check(created.len() == usize::from(r.status == 303), || {
                    format!("{what}: answered {}, created {created:?}", r.status)
                });
                if let [id] = created[..] {
                    let to = format!("/workers/{id}");
                    f.check(r.location.as_deref() == Some(to.as_str()), || format!("{what}: to {:?}", r.location));
                    if who == Who::OrgHr {
                        let stored = fx.stored_worker(id).await.unwrap();
                        f.check(stored.org_id == Some(a), || format!("{what}: an HR manager's new worker must be A's"));
                    }
                }
                for id in created {
                    fx.remove_worker(id).await;
                }
            }
        }
        PageOp::NewWorker => {
            let r = fx.page(f, c, Some(who), "GET", "/workers/new", None).await;
            f.status(at("/workers/new"), r.status, if who.creates_workers() { 200 } else { 403 }, "");
        }
        PageOp::Worker => {
            for w in W::ALL {
                let path = format!("/workers/{}", fx.wid(w));
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                if who.sees_worker(w) {
                    f.status(at(&path), r.status, 200, "");
                    f.check(r.body.contains(w.spec().name_latin), || format!("{}: name missing", at(&path)));
                    if let Some(o) = w.spec().org {
                        f.check(r.body.contains(o.spec().name_en) == who.sees_org(o), || {
                            format!("{}: employer name shown wrongly", at(&path))
                        });
                    }
                } else {
                    f.status(at(&path), r.status, 404, "");
                }
            }
            let r = fx.page(f, c, Some(who), "GET", "/workers/999999", None).await;
            f.status(at("/workers/999999"), r.status, 404, "");
        }
        PageOp::UpdateWorker => {
            for (n, w) in W::ALL.into_iter().enumerate() {
                let path = format!("/workers/{}", fx.wid(w));
                let before = fx.stored_phone(w).await;
                let phone = phone_for(3, who, n);
                let r = fx
                    .page(f, c, Some(who), "POST", &path, Some(&with_csrf(vec![("phone".into(), phone.clone())])))
                    .await;
                let want = if !who.sees_worker(w) {
                    404
                } else if !who.writes_workers() {
                    403
                } else {
                    303
                };
                f.status(format!("{} {{phone}}", at(&path)), r.status, want, truncate(&r.body));
                let after = fx.stored_phone(w).await;
                let expected = if want == 303 { Some(phone) } else { before };
                f.check(after == expected, || format!("{}: stored phone {after:?}, want {expected:?}", at(&path)));
            }
            let w1 = format!("/workers/{}", fx.wid(W::W1));
            let before = fx.stored_worker(fx.wid(W::W1)).await.unwrap();
            match who {
                Who::SelfW1 => {
                    // Fields a worker may not change are ignored, the others saved.
                    let form = with_csrf(vec![
                        ("phone".into(), "012 888 999".into()),
                        ("cadre".into(), "professional_social_worker".into()),
                        ("workplace_code".into(), "020101".into()),
                        ("org_id".into(), fx.oid(O::B).to_string()),
                        ("status".into(), "left".into()),
                    ]);
                    let r = fx.page(f, c, Some(who), "POST", &w1, Some(&form)).await;
                    f.status(format!("{} (with fields not self-editable)", at(&w1)), r.status, 303, truncate(&r.body));
                    let after = fx.stored_worker(fx.wid(W::W1)).await.unwrap();
                    f.check(
                        after.cadre == before.cadre
                            && after.workplace_code == before.workplace_code
                            && after.org_id == before.org_id
                            && after.status == before.status,
                        || format!("{}: a worker changed protected fields: {after:?}", at(&w1)),
                    );
                    f.check(after.phone.as_deref() == Some("012 888 999"), || {
                        format!("{}: own phone not saved", at(&w1))
                    });
                }
                Who::Prov | Who::Dist | Who::OrgHr => {
                    let (field, value) = match who {
                        Who::Prov => ("workplace_code", "020101".to_string()),
                        Who::Dist => ("workplace_code", "0103".to_string()),
                        _ => ("org_id", fx.oid(O::B).to_string()),
                    };
                    let r = fx
                        .page(f, c, Some(who), "POST", &w1, Some(&with_csrf(vec![(field.into(), value.clone())])))
                        .await;
                    f.status(format!("{} moving W1 out of reach ({field}={value})", at(&w1)), r.status, 422, "");
                    let after = fx.stored_worker(fx.wid(W::W1)).await.unwrap();
                    f.check(after == before, || format!("{}: W1 changed by a refused move", at(&w1)));
                }
                Who::Admin | Who::Viewer => {}
            }
            fx.restore_contacts().await;
        }
        PageOp::EditWorker => {
            for w in W::ALL {
                let path = format!("/workers/{}/edit", fx.wid(w));
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                let want = if !who.sees_worker(w) {
                    404
                } else if !who.writes_workers() {
                    403
                } else {
                    200
                };
                f.status(at(&path), r.status, want, "");
                if r.status == 200 {
                    let has_cadre = r.body.contains("name=\"cadre\"");
                    f.check(has_cadre == (who != Who::SelfW1), || {
                        format!("{}: cadre field shown = {has_cadre}", at(&path))
                    });
                    f.check(r.body.contains("name=\"phone\""), || format!("{}: no phone field", at(&path)));
                }
            }
        }
        PageOp::DeleteWorker => {
            if who.deletes() {
                for w in W::ALL {
                    let id = fx.throwaway_worker(w).await;
                    let path = format!("/workers/{id}/delete");
                    let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(vec![]))).await;
                    f.status(format!("{} (copy of {w:?})", at(&path)), r.status, 303, "");
                    f.check(r.location.as_deref() == Some("/workers"), || {
                        format!("{}: to {:?}", at(&path), r.location)
                    });
                    f.check(fx.stored_worker(id).await.is_none(), || format!("{}: still stored", at(&path)));
                }
            } else {
                for w in W::ALL {
                    let path = format!("/workers/{}/delete", fx.wid(w));
                    let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(vec![]))).await;
                    f.status(at(&path), r.status, if who.sees_worker(w) { 403 } else { 404 }, "");
                    f.check(fx.stored_worker(fx.wid(w)).await.is_some(), || {
                        format!("{}: {w:?} was deleted", at(&path))
                    });
                }
            }
        }
        PageOp::Orgs => {
            for (query, matches) in
                [("", None), ("q=bravo", Some(O::B)), ("q=alpha", Some(O::A)), ("q=REGB0002", Some(O::B))]
            {
                let path = format!("/organizations?{query}");
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, 200, "");
                let want: Vec<O> =
                    O::ALL.into_iter().filter(|o| who.sees_org(*o) && matches.is_none_or(|m| m == *o)).collect();
                f.check(r.body.contains(&format!(">{}<", results_text(want.len()))), || {
                    format!("{}: count is not {}", at(&path), want.len())
                });
                for o in O::ALL {
                    let shown = r.body.contains(o.spec().name_en);
                    f.check(shown == want.contains(&o), || format!("{}: {o:?} shown = {shown}", at(&path)));
                }
            }
        }
        PageOp::CreateOrg => {
            for (case, code, province, district) in
                [("in scope", "0102", "01", "0102"), ("out of scope", "0201", "02", "0201")]
            {
                let before = fx.org_ids().await;
                let r = fx
                    .page(
                        f,
                        c,
                        Some(who),
                        "POST",
                        "/organizations",
                        Some(&form_of(&org_input("New Org", code), Some(csrf))),
                    )
                    .await;
                let what = format!("{} ({case})", at("/organizations"));
                let want = if !who.writes_orgs() {
                    403
                } else if !who.reaches_place(province, district) {
                    422
                } else {
                    303
                };
                f.status(&what, r.status, want, "");
                let created: Vec<i64> = fx.org_ids().await.difference(&before).copied().collect();
                f.check(created.len() == usize::from(r.status == 303), || {
                    format!("{what}: answered {}, created {created:?}", r.status)
                });
                for id in created {
                    fx.remove_org(id).await;
                }
            }
        }
        PageOp::NewOrg => {
            let r = fx.page(f, c, Some(who), "GET", "/organizations/new", None).await;
            f.status(at("/organizations/new"), r.status, if who.writes_orgs() { 200 } else { 403 }, "");
        }
        PageOp::Org => {
            for o in O::ALL {
                let path = format!("/organizations/{}", fx.oid(o));
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                if !who.sees_org(o) {
                    f.status(at(&path), r.status, 404, "");
                    continue;
                }
                f.status(at(&path), r.status, 200, "");
                // The staff list holds only the staff the caller may see.
                let staff: Vec<W> =
                    W::ALL.into_iter().filter(|w| w.spec().org == Some(o) && who.sees_worker(*w)).collect();
                f.check(r.body.contains(&format!("{}: {}<", html(&en().t("org.staff")), staff.len())), || {
                    format!("{}: staff count is not {}", at(&path), staff.len())
                });
                for w in W::ALL {
                    let shown = r.body.contains(w.spec().name_latin);
                    f.check(shown == staff.contains(&w), || format!("{}: {w:?} shown = {shown}", at(&path)));
                }
            }
        }
        PageOp::UpdateOrg | PageOp::EditOrg => {
            for (n, o) in O::ALL.into_iter().enumerate() {
                let want = if !who.sees_org(o) {
                    404
                } else if !who.writes_orgs() {
                    403
                } else if op == PageOp::EditOrg {
                    200
                } else {
                    303
                };
                if op == PageOp::EditOrg {
                    let path = format!("/organizations/{}/edit", fx.oid(o));
                    let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                    f.status(at(&path), r.status, want, "");
                    continue;
                }
                let path = format!("/organizations/{}", fx.oid(o));
                let before = fx.stored_org_phone(o).await;
                let phone = phone_for(4, who, n);
                let r = fx
                    .page(f, c, Some(who), "POST", &path, Some(&with_csrf(vec![("phone".into(), phone.clone())])))
                    .await;
                f.status(format!("{} {{phone}}", at(&path)), r.status, want, truncate(&r.body));
                let after = fx.stored_org_phone(o).await;
                let expected = if want == 303 { Some(phone) } else { before };
                f.check(after == expected, || format!("{}: stored phone {after:?}, want {expected:?}", at(&path)));
            }
            fx.restore_contacts().await;
        }
        PageOp::DeleteOrg => {
            for o in O::ALL {
                let path = format!("/organizations/{}/delete", fx.oid(o));
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(vec![]))).await;
                let want = if !who.sees_org(o) {
                    404
                } else if !who.deletes() {
                    403
                } else {
                    409
                };
                f.status(at(&path), r.status, want, "");
                f.check(fx.org_ids().await.contains(&fx.oid(o)), || format!("{}: {o:?} was deleted", at(&path)));
            }
            let temp = fx.throwaway_org("0102").await;
            let path = format!("/organizations/{temp}/delete");
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(vec![]))).await;
            let want = match who {
                Who::Admin => 303,
                Who::Viewer | Who::Prov | Who::Dist => 403, // in their area
                Who::OrgHr | Who::SelfW1 => 404,            // not their organization
            };
            f.status(format!("{} (unreferenced, district 0102)", at(&path)), r.status, want, "");
            let gone = !fx.org_ids().await.contains(&temp);
            f.check(gone == (want == 303), || format!("{}: deleted = {gone}", at(&path)));
            if !gone {
                fx.remove_org(temp).await;
            }
        }
        PageOp::Units => {
            for path in ["/admin-units", "/admin-units?q=Banan"] {
                let r = fx.page(f, c, Some(who), "GET", path, None).await;
                f.status(at(path), r.status, 200, "");
            }
        }
        PageOp::Unit => {
            for code in ["02", "0201", "010201"] {
                let path = format!("/admin-units/{code}");
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, 200, "");
            }
            let r = fx.page(f, c, Some(who), "GET", "/admin-units/99", None).await;
            f.status(at("/admin-units/99"), r.status, 404, "");
        }
        PageOp::Audit => {
            for path in ["/audit", "/audit?entity=worker"] {
                let r = fx.page(f, c, Some(who), "GET", path, None).await;
                f.status(at(path), r.status, if who.reads_audit() { 200 } else { 403 }, "");
            }
        }
        PageOp::About => {
            let r = fx.page(f, c, Some(who), "GET", "/about", None).await;
            f.status(at("/about"), r.status, 200, "");
        }
        PageOp::Health => {
            let r = fx.page(f, c, Some(who), "GET", "/healthz", None).await;
            f.status(at("/healthz"), r.status, 200, "");
        }
        PageOp::Ready => {
            let r = fx.page(f, c, Some(who), "GET", "/readyz", None).await;
            f.status(at("/readyz"), r.status, 200, &r.body);
        }
        PageOp::Metrics => metrics_check(fx, f, Some((who, c))).await,
        PageOp::ExportCsv | PageOp::ExportXlsx => {
            let ext = if op == PageOp::ExportCsv { "csv" } else { "xlsx" };
            for (query, matches) in worker_filters(fx) {
                let path = format!("/workers/export.{ext}?{query}");
                let want: BTreeSet<i64> =
                    W::ALL.into_iter().filter(|w| who.sees_worker(*w) && matches(*w)).map(|w| fx.wid(w)).collect();
                if ext == "csv" {
                    // Through `page` for its check that nothing out of scope is named.
                    let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                    f.status(at(&path), r.status, 200, "");
                }
                let r = c.get(fx.app.url(&path)).send().await.unwrap();
                f.status(at(&path), r.status().as_u16(), 200, "");
                let ids = export_ids(&format!("export.{ext}"), &r.bytes().await.unwrap());
                f.check(ids == want, || format!("{}: ids {ids:?}, want {want:?}", at(&path)));
            }
        }
        PageOp::Imports => {
            let r = fx.page(f, c, Some(who), "GET", "/imports", None).await;
            if who.imports() {
                f.status(at("/imports"), r.status, 200, "");
                let link = format!("href=\"/imports/{}\"", fx.prov_import);
                f.check(r.body.contains(&link) == (who.on_prov_import() == 200), || {
                    format!("{}: the officer's import listed wrongly", at("/imports"))
                });
            } else {
                f.status(at("/imports"), r.status, 403, "");
            }
        }
        PageOp::NewImport => {
            let r = fx.page(f, c, Some(who), "GET", "/imports/new", None).await;
            f.status(at("/imports/new"), r.status, if who.imports() { 200 } else { 403 }, "");
            for kind in ["organizations", "population"] {
                let path = format!("/imports/new?kind={kind}");
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, if who.imports_kind(kind) { 200 } else { 403 }, "");
            }
        }
        PageOp::Upload => {
            for kind in ["workers", "organizations", "population"] {
                let bytes = match kind {
                    "workers" => w1_file(),
                    "organizations" => b"name_en,kind,admin_code\nUploaded Org,ngo,0102\n".to_vec(),
                    _ => b"admin_code,year,sex,age_group,count\n01,2024,total,0-17,1000\n".to_vec(),
                };
                let part = reqwest::multipart::Part::bytes(bytes).file_name("f.csv").mime_str("text/csv").unwrap();
                let form = reqwest::multipart::Form::new()
                    .text("csrf", csrf.to_string())
                    .text("kind", kind)
                    .part("file", part);
                let r = c.post(fx.app.url("/imports")).multipart(form).send().await.unwrap();
                let status = r.status().as_u16();
                let what = format!("{} (kind {kind})", at("/imports"));
                let allowed = who.imports_kind(kind);
                f.status(&what, status, if allowed { 303 } else { 403 }, "");
                if allowed {
                    let to = r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
                    f.check(to.starts_with("/imports/files/"), || format!("{what}: to {to:?}"));
                    // The new file is the uploader's to continue with.
                    let r = fx.page(f, c, Some(who), "GET", &to, None).await;
                    f.status(format!("{what} then GET {to}"), r.status, 200, "");
                }
            }
        }
        PageOp::ImportMapping => {
            let path = format!("/imports/files/{}/mapping?kind=workers", fx.prov_file);
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(&path), r.status, who.on_prov_import(), "");
        }
        PageOp::SaveMapping => {
            let path = format!("/imports/files/{}/mapping", fx.prov_file);
            let mut form = with_csrf(mapping_form());
            form.push(("action".into(), "preview".into()));
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
            let want = match who.on_prov_import() {
                200 => 303,
                other => other,
            };
            f.status(at(&path), r.status, want, "");
        }
        PageOp::ImportPreview => {
            let q = serde_urlencoded::to_string(mapping_form()).unwrap();
            let path = format!("/imports/files/{}/preview?{q}", fx.prov_file);
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(&path), r.status, who.on_prov_import(), "");
            if r.status == 200 {
                f.check(r.body.contains("id=\"dup-2\""), || {
                    format!("{}: W1 is shown as a likely duplicate", at(&path))
                });
            }
        }
        PageOp::ImportCommit => {
            let before = fx.worker_ids().await;
            let path = format!("/imports/files/{}/commit", fx.prov_file);
            let mut form = with_csrf(mapping_form());
            form.push(("mode".into(), "all".into()));
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
            let want = match who.on_prov_import() {
                200 => 303,
                other => other,
            };
            f.status(at(&path), r.status, want, truncate(&r.body));
            f.check(fx.worker_ids().await == before, || format!("{}: the duplicate of W1 was added", at(&path)));
        }
        PageOp::ImportResult => {
            let path = format!("/imports/{}", fx.prov_import);
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(&path), r.status, who.on_prov_import(), "");
            let r = fx.page(f, c, Some(who), "GET", "/imports/999999", None).await;
            f.status(at("/imports/999999"), r.status, if who.imports() { 404 } else { 403 }, "");
        }
        PageOp::RejectedCsv => {
            let path = format!("/imports/{}/rejected.csv", fx.prov_import);
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(&path), r.status, who.on_prov_import(), "");
        }
        PageOp::Competencies => {
            let r = fx.page(f, c, Some(who), "GET", "/competencies", None).await;
            f.status(at("/competencies"), r.status, 200, "");
            f.check(r.body.contains("id=\"values.01.1\"") && r.body.contains("id=\"skills.10\""), || {
                format!("{}: the framework is not listed", at("/competencies"))
            });
            let r = fx.page(f, c, Some(who), "GET", "/competencies?version=no-such", None).await;
            f.status(at("/competencies?version=no-such"), r.status, 404, "");
        }
        PageOp::Requirements => {
            let path = "/competencies/requirements?for=role:ccwc_member";
            let r = fx.page(f, c, Some(who), "GET", path, None).await;
            f.status(at(path), r.status, 200, "");
            let form = r.body.contains("name=\"level.values.01\"");
            f.check(form == (who == Who::Admin), || format!("{}: level form shown = {form}", at(path)));
        }
        PageOp::SaveRequirements => {
            let form = with_csrf(vec![
                ("version".into(), "mosvy-2019".into()),
                ("for".into(), "role:other".into()),
                ("level.values.01".into(), "4".into()),
            ]);
            let r = fx.page(f, c, Some(who), "POST", "/competencies/requirements", Some(&form)).await;
            f.status(at("/competencies/requirements"), r.status, if who == Who::Admin { 303 } else { 403 }, "");
            let store = &fx.app.db.store;
            let target = komlang_core::competency::RequirementFor::Role(komlang_core::WorkerRole::Other);
            let set = store.competency_requirements("mosvy-2019").await.unwrap().iter().any(|r| r.applies_to == target);
            f.check(set == (who == Who::Admin), || format!("{}: saved = {set}", at("/competencies/requirements")));
            store.set_competency_requirements(&sys(), "mosvy-2019", target, &Default::default()).await.unwrap();
        }
        PageOp::Assessments | PageOp::WorkerGaps => {
            let tail = if op == PageOp::Assessments { "assessments" } else { "competency-gaps" };
            for w in W::ALL {
                let path = format!("/workers/{}/{tail}", fx.wid(w));
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                if who.sees_worker(w) {
                    f.status(at(&path), r.status, 200, "");
                    f.check(r.body.contains(w.spec().name_latin), || format!("{}: name missing", at(&path)));
                } else {
                    f.status(at(&path), r.status, 404, "");
                }
            }
        }
        PageOp::NewAssessment => {
            for w in W::ALL {
                let path = format!("/workers/{}/assessments/new", fx.wid(w));
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                let want = if who == Who::SelfW1 && w == W::W1 { 200 } else { who.on_supervisor_assessment(w, 200) };
                f.status(at(&path), r.status, want, "");
            }
        }
        PageOp::CreateAssessment => {
            for w in W::ALL {
                let path = format!("/workers/{}/assessments", fx.wid(w));
                let before = fx.assessment_ids().await;
                let form = with_csrf(assessment_form("supervisor", &[("values.04.1", 2)]));
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
                let want = if who == Who::SelfW1 && w == W::W1 { 422 } else { who.on_supervisor_assessment(w, 303) };
                f.status(at(&path), r.status, want, truncate(&r.body));
                let made = fx.remove_assessments_since(&before).await;
                f.check(made.len() == usize::from(want == 303), || format!("{}: made {made:?}", at(&path)));
                if let [id] = made[..] {
                    let to = format!("/assessments/{id}");
                    f.check(r.location.as_deref() == Some(to.as_str()), || {
                        format!("{}: to {:?}", at(&path), r.location)
                    });
                }
            }
        }
        PageOp::SetSupervisor => {
            for w in W::ALL {
                let path = format!("/workers/{}/supervisor", fx.wid(w));
                let form = with_csrf(vec![("supervisor".into(), "viewer".into())]);
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
                let want = if !who.sees_worker(w) {
                    404
                } else if who.assesses() {
                    303
                } else {
                    403
                };
                f.status(at(&path), r.status, want, "");
                let set = fx.app.db.store.worker_supervisor(&sys(), fx.wid(w)).await.unwrap();
                f.check(set.is_some() == (want == 303), || format!("{}: supervisor {set:?}", at(&path)));
                fx.app.db.store.set_worker_supervisor(&sys(), fx.wid(w), None).await.unwrap();
            }
        }
        PageOp::Assessment => {
            let mut cases: Vec<(W, i64)> = W::ALL.iter().map(|w| (*w, fx.aid(*w))).collect();
            cases.push((W::W1, fx.self_a1));
            for (w, id) in cases {
                let path = format!("/assessments/{id}");
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, if who.sees_worker(w) { 200 } else { 404 }, "");
            }
            let r = fx.page(f, c, Some(who), "GET", "/assessments/999999", None).await;
            f.status(at("/assessments/999999"), r.status, 404, "");
        }
        PageOp::EditAssessment => {
            for w in W::ALL {
                let path = format!("/assessments/{}/edit", fx.aid(w));
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, who.on_supervisor_assessment(w, 200), "");
            }
            let path = format!("/assessments/{}/edit", fx.self_a1);
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            let want = if !who.sees_worker(W::W1) {
                404
            } else if who == Who::SelfW1 {
                200
            } else {
                403
            };
            f.status(at(&path), r.status, want, "");
        }
        PageOp::UpdateAssessment => {
            for w in W::ALL {
                let path = format!("/assessments/{}", fx.aid(w));
                let mut form = with_csrf(assessment_form("supervisor", &[("values.01.1", 2), ("skills.01.1", 3)]));
                let note = format!("page change by {who:?}");
                form.push(("notes".into(), note.clone()));
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
                let want = who.on_supervisor_assessment(w, 303);
                f.status(at(&path), r.status, want, truncate(&r.body));
                let stored = fx.app.db.store.get_assessment(&sys(), fx.aid(w)).await.unwrap().unwrap();
                let changed = stored.notes.as_deref() == Some(note.as_str());
                f.check(changed == (want == 303), || format!("{}: stored notes {:?}", at(&path), stored.notes));
            }
        }
        PageOp::DeleteAssessment => {
            for w in W::ALL {
                let id = fx.throwaway_assessment(w).await;
                let path = format!("/assessments/{id}/delete");
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(vec![]))).await;
                let want = who.on_supervisor_assessment(w, 303);
                f.status(at(&path), r.status, want, "");
                let gone = fx.app.db.store.get_assessment(&sys(), id).await.unwrap().is_none();
                f.check(gone == (want == 303), || format!("{}: deleted = {gone}", at(&path)));
                if !gone {
                    fx.app.db.store.delete_assessment(&sys(), id, None).await.unwrap();
                }
            }
        }
        PageOp::CompetencyGaps | PageOp::TrainingNeeds => {
            let base = if op == PageOp::CompetencyGaps { "/competency/gaps" } else { "/competency/training-needs" };
            for (query, matches) in
                [("", Box::new(|_: W| true) as Filter<W>), ("province=01", Box::new(|w: W| w.spec().province == "01"))]
            {
                let path = format!("{base}?{query}");
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, 200, "");
                let want = W::ALL.into_iter().filter(|w| who.sees_worker(*w) && matches(*w)).count();
                f.check(r.body.contains(&format!("<strong>{want}</strong>")), || {
                    format!("{}: not {want} workers assessed", at(&path))
                });
            }
        }
        PageOp::PlanningIndex | PageOp::PlanningNorms | PageOp::Supply | PageOp::PlanningData => {
            let path = match op {
                PageOp::PlanningIndex => "/planning",
                PageOp::PlanningNorms => "/planning/norms",
                PageOp::Supply => "/planning/supply",
                _ => "/planning/data",
            };
            let r = fx.page(f, c, Some(who), "GET", path, None).await;
            f.status(at(path), r.status, if reads_planning(who) { 200 } else { 403 }, "");
        }
        PageOp::PlanningCoverage => {
            for (path, want) in [
                ("/planning/coverage", if reads_planning(who) { 200 } else { 403 }),
                ("/planning/coverage?level=commune&parent=0102", if reads_planning(who) { 200 } else { 403 }),
                (
                    "/planning/coverage?level=commune&parent=0102&format=csv",
                    if reads_planning(who) { 200 } else { 403 },
                ),
                ("/planning/coverage?level=commune&parent=0201", on_national_only(who)),
            ] {
                let r = fx.page(f, c, Some(who), "GET", path, None).await;
                f.status(at(path), r.status, want, "");
            }
        }
        PageOp::AddNorm => {
            let form = with_csrf(vec![
                ("name".into(), format!("perm-page-{}", format!("{who:?}").to_lowercase())),
                ("workers".into(), "1".into()),
                ("per".into(), "10000".into()),
                ("base".into(), "population".into()),
                ("level".into(), "province".into()),
                ("counts".into(), "government".into()),
            ]);
            let r = fx.page(f, c, Some(who), "POST", "/planning/norms", Some(&form)).await;
            f.status(at("/planning/norms"), r.status, if who == Who::Admin { 303 } else { 403 }, "");
        }
        PageOp::NewPlan => {
            let r = fx.page(f, c, Some(who), "GET", "/planning/plans/new", None).await;
            f.status(at("/planning/plans/new"), r.status, if makes_plans(who) { 200 } else { 403 }, "");
        }
        PageOp::CreatePlan => {
            for parent in ["", "0201"] {
                let form = with_csrf(vec![
                    ("name".into(), format!("perm {who:?}")),
                    ("norm".into(), "investment-case-2023".into()),
                    ("parent".into(), parent.into()),
                    ("posts".into(), "1".into()),
                    ("start_year".into(), "2025".into()),
                    ("target_year".into(), "2025".into()),
                    ("w_gap".into(), "1".into()),
                    ("level_order".into(), "together".into()),
                ]);
                let r = fx.page(f, c, Some(who), "POST", "/planning/plans", Some(&form)).await;
                let want = match who {
                    _ if !makes_plans(who) => 403,
                    Who::Prov | Who::Dist if !parent.is_empty() => 422,
                    _ => 303,
                };
                f.status(at(&format!("/planning/plans (parent {parent:?})")), r.status, want, "");
            }
        }
        PageOp::PlanPage | PageOp::PlanPrint | PageOp::ComparePlans => {
            let id = prov_plan(fx).await;
            let path = match op {
                PageOp::PlanPage => format!("/planning/plans/{id}"),
                PageOp::PlanPrint => format!("/planning/plans/{id}/print"),
                _ => format!("/planning/compare?a={id}&b={id}"),
            };
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(&path), r.status, on_prov_plan(who), "");
            let path = match op {
                PageOp::PlanPage => "/planning/plans/999999",
                PageOp::PlanPrint => "/planning/plans/999999/print",
                _ => "/planning/compare?a=999999&b=999999",
            };
            let r = fx.page(f, c, Some(who), "GET", path, None).await;
            f.status(at(path), r.status, if reads_planning(who) { 404 } else { 403 }, "");
        }
        PageOp::Training => training_page(fx, f, who, c, csrf, route).await,
        PageOp::Establishment => establishment_page(fx, f, who, c, csrf, route).await,
        PageOp::Supervision => supervision_page(fx, f, who, c, csrf, route).await,
        PageOp::Costs => costs_page(fx, f, who, c, csrf, route).await,
        PageOp::Retention => retention_page(fx, f, who, c, csrf, route).await,
        PageOp::Caseloads => caseloads_page(fx, f, who, c, csrf, route).await,
        PageOp::Recruitment => recruitment_page(fx, f, who, c, csrf, route).await,
        PageOp::Appraisals => appraisals_page(fx, f, who, c, csrf, route).await,
        PageOp::Hiring => hiring_page(fx, f, who, c, csrf, route).await,
        PageOp::OwnPassword => own_password_page(fx, f, who, c, csrf, route).await,
        PageOp::Accounts => accounts_page(fx, f, who, c, csrf, route).await,
        PageOp::Public => public_check(fx, f, Some(who), route).await,
        PageOp::UploadData => {
            let file = b"admin_code,name,year,value\n01,perm_index,2024,0.5\n".to_vec();
            let part = reqwest::multipart::Part::bytes(file).file_name("indicators.csv").mime_str("text/csv").unwrap();
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf.to_string())
                .text("kind", "indicators")
                .part("file", part);
            let r = c.post(fx.app.url("/planning/data")).multipart(form).send().await.unwrap();
            f.status(at("/planning/data"), r.status().as_u16(), if who == Who::Admin { 200 } else { 403 }, "");
        }
        PageOp::CompetencyExport => {
            let want: BTreeSet<i64> = W::ALL.into_iter().filter(|w| who.sees_worker(*w)).map(|w| fx.wid(w)).collect();
            for format in ["csv", "xlsx"] {
                let path = format!("/competency/export?table=assessments&format={format}");
                if format == "csv" {
                    let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                    f.status(at(&path), r.status, 200, "");
                }
                let r = c.get(fx.app.url(&path)).send().await.unwrap();
                f.status(at(&path), r.status().as_u16(), 200, "");
                let ids = export_worker_ids(&format!("export.{format}"), &r.bytes().await.unwrap());
                f.check(ids == want, || format!("{}: worker ids {ids:?}, want {want:?}", at(&path)));
            }
            for table in ["gaps", "training-needs"] {
                let path = format!("/competency/export?table={table}&format=xlsx");
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, 200, "");
            }
            let r = fx.page(f, c, Some(who), "GET", "/competency/export?table=nope", None).await;
            f.status(at("/competency/export?table=nope"), r.status, 404, "");
        }
        PageOp::Css => {
            let r = fx.page(f, c, Some(who), "GET", "/static/app.css", None).await;
            f.status(at("/static/app.css"), r.status, 200, "");
        }
        PageOp::Assets => {
            let r = fx.page(f, c, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), r.status, 200, "");
        }
        PageOp::Field => {
            // The page, and the data the device keeps: only the caller's scope (the page helper
            // checks that nothing out of scope is named), and workers' records only for those
            // who change them.
            let r = fx.page(f, c, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), r.status, 200, "");
            if route.path == "/field/data" {
                let v: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                let ids: Vec<i64> = v["workers"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|w| w["id"].as_i64()).collect())
                    .unwrap_or_default();
                let want: Vec<i64> = if who.creates_workers() {
                    let mut w: Vec<i64> = W::ALL.iter().filter(|w| who.sees_worker(**w)).map(|w| fx.wid(*w)).collect();
                    w.sort_unstable();
                    w
                } else {
                    Vec::new()
                };
                let mut got = ids.clone();
                got.sort_unstable();
                f.check(got == want, || format!("{}: workers {ids:?}, want {want:?}", at(route.path)));
                let me = v["me"]["id"].as_i64();
                let want_me = (who == Who::SelfW1).then(|| fx.wid(W::W1));
                f.check(me == want_me, || format!("{}: me {me:?}, want {want_me:?}", at(route.path)));
            }
        }
        PageOp::FieldChange => {
            // A phone number changed in the field: as the pages allow, and only with the CSRF token.
            for (n, w) in W::ALL.into_iter().enumerate() {
                let before = fx.stored_phone(w).await;
                let phone = phone_for(5, who, n);
                let body = json!({"id": format!("{who:?}-{n}"), "kind": "update_worker", "worker_id": fx.wid(w),
                                  "fields": {"phone": phone}});
                let url = fx.app.url("/field/changes");
                let forged = c.post(&url).header("x-csrf-token", "forged").json(&body).send().await.unwrap();
                f.status(format!("{} without the CSRF token", at(route.path)), forged.status().as_u16(), 403, "");
                let r = c.post(&url).header("x-csrf-token", csrf).json(&body).send().await.unwrap();
                let want = if !who.sees_worker(w) {
                    404
                } else if !who.writes_workers() {
                    403
                } else {
                    200
                };
                f.status(format!("{} {{worker {n}}}", at(route.path)), r.status().as_u16(), want, "");
                let after = fx.stored_phone(w).await;
                let expected = if want == 200 { Some(phone) } else { before };
                f.check(after == expected, || format!("{}: stored phone {after:?}, want {expected:?}", at(route.path)));
            }
            fx.restore_contacts().await;
        }
    }
}

/// The token the matrix's server asks for at `/metrics`.
const METRICS_TOKEN: &str = "metrics-token-of-the-permission-matrix";

/// `/metrics` answers 401 to a visitor (`who: None`) and to every account, by its session
/// cookie or its API token, and 200 only to the metrics token.
async fn metrics_check(fx: &Fx, f: &mut Failures, who: Option<(Who, &Client)>) {
    let url = fx.app.url("/metrics");
    let what = format!("{:?} GET /metrics", who.map(|(w, _)| w));
    let anonymous = browser();
    let c = who.map_or(&anonymous, |(_, c)| c);
    let s = c.get(&url).send().await.unwrap().status().as_u16();
    f.status(format!("{what} (session or none)"), s, 401, "");
    if let Some((w, _)) = who {
        let s = fx.api.get(&url).bearer_auth(fx.token(w)).send().await.unwrap().status().as_u16();
        f.status(format!("{what} with the account's API token"), s, 401, "");
    }
    for bad in ["metrics-token-of-the-permission-matri", "metrics-token-of-the-permission-matrixx", ""] {
        let s = c.get(&url).bearer_auth(bad).send().await.unwrap().status().as_u16();
        f.status(format!("{what} with the bearer {bad:?}"), s, 401, "");
    }
    let r = c.get(&url).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    f.status(format!("{what} with the metrics token"), r.status().as_u16(), 200, "");
    let body = r.text().await.unwrap();
    f.check(body.contains("komlang_http_requests_total{"), || format!("{what}: no request counts in {body:.200}"));
}

// ---------------------------------------------------------------------------
// Without credentials
// ---------------------------------------------------------------------------

/// A path of `route` with its parameters filled in.
fn concrete(fx: &Fx, path: &str) -> String {
    let id = if path.contains("/organizations/") {
        fx.oid(O::A)
    } else if path.contains("/assessments/") {
        fx.aid(W::W1)
    } else if path.contains("/training/events/") {
        fx.tr.e1
    } else if path.contains("/training/programmes/") {
        fx.tr.vc
    } else if path.contains("/training/institutions/") {
        fx.tr.nisa
    } else if path.contains("/training/courses/") {
        fx.tr.course
    } else if path.contains("/licences/") {
        fx.tr.lic_w1
    } else {
        fx.wid(W::W1)
    };
    path.replace("{id}", &id.to_string())
        .replace("{code}", if path.starts_with("/lang/") { "en" } else { "01" })
        .replace("{version}", "mosvy-2019")
        .replace("{worker_id}", &fx.wid(W::W1).to_string())
        .replace("{number}", &fx.tr.cert_w1)
        .replace("{token_id}", "1")
}

#[tokio::test]
async fn anonymous_requests_are_turned_away() {
    for engine in engines() {
        let fx = Fx::setup(engine).await;
        let mut f = Failures::new(engine);
        let w1_before = fx.stored_worker(fx.wid(W::W1)).await;
        let a_before = fx.stored_org_phone(O::A).await;
        let workers_before = fx.worker_ids().await;
        let orgs_before = fx.org_ids().await;

        // A signed-in browser, to show that a session cookie is no API credential.
        let signed_in = browser();
        login(&fx.app, &signed_in, "admin").await;

        for route in ROUTES {
            if matches!(route.op, Op::Page(PageOp::Public) | Op::Api(ApiOp::Public)) {
                public_check(&fx, &mut f, None, route).await;
                continue;
            }
            let path = concrete(&fx, route.path);
            let what = format!("anonymous {} {path}", route.method);
            match route.op {
                Op::Api(ApiOp::OpenApi) => {
                    let (s, _) = fx.call(&mut f, None, route.method, &path, None).await;
                    f.status(&what, s, 200, "");
                }
                Op::Api(op) => {
                    let body = match op {
                        ApiOp::CreateWorker => Some(json!(worker_input("ថ្មី", "New Anon", "010201", None))),
                        ApiOp::PatchWorker | ApiOp::PatchOrg => Some(json!({"phone": "012 000 000"})),
                        ApiOp::CreateOrg => Some(json!(org_input("Anon Org", "0102"))),
                        ApiOp::CreateAssessment | ApiOp::PutAssessment => {
                            Some(json!(assessment_input("supervisor", &[("values.01.1", 3)])))
                        }
                        _ => None,
                    };
                    let (s, v) = fx.call(&mut f, None, route.method, &path, body.as_ref()).await;
                    f.status(&what, s, 401, &v);
                    // The FHIR registry refuses with an OperationOutcome (issue type `login`).
                    let refused = if op == ApiOp::Fhir {
                        v["resourceType"] == "OperationOutcome" && v["issue"][0]["code"] == "login"
                    } else {
                        v["error"] == "unauthorized"
                    };
                    f.check(refused, || format!("{what}: {v}"));
                    for bad in ["Bearer not-a-token", "Bearer ", "Basic YWRtaW46eA==", "bearer x"] {
                        let mut rb =
                            fx.api.request(Method::from_bytes(route.method.as_bytes()).unwrap(), fx.app.url(&path));
                        rb = rb.header("authorization", bad);
                        if let Some(b) = &body {
                            rb = rb.json(b);
                        }
                        let s = rb.send().await.unwrap().status().as_u16();
                        f.status(format!("{what} with {bad:?}"), s, 401, "");
                    }
                    let mut rb =
                        signed_in.request(Method::from_bytes(route.method.as_bytes()).unwrap(), fx.app.url(&path));
                    if let Some(b) = &body {
                        rb = rb.json(b);
                    }
                    let s = rb.send().await.unwrap().status().as_u16();
                    f.status(format!("{what} with only a session cookie"), s, 401, "");
                }
                Op::Page(op) => {
                    let c = browser();
                    let form: Option<Vec<(String, String)>> = match route.method {
                        "POST" => Some(match op {
                            PageOp::CreateWorker => form_of(&worker_input("ថ្មី", "New Anon", "010201", None), None),
                            PageOp::CreateOrg => form_of(&org_input("Anon Org", "0102"), None),
                            PageOp::Login => {
                                vec![("username".into(), "admin".into()), ("password".into(), common::PASSWORD.into())]
                            }
                            _ => vec![("phone".into(), "012 000 000".into())],
                        }),
                        _ => None,
                    };
                    let r = fx.page(&mut f, &c, None, route.method, &path, form.as_deref()).await;
                    let to_login =
                        r.status == 303 && r.location.as_deref().is_some_and(|l| l.starts_with("/login?next="));
                    match (route.method, op) {
                        (
                            "GET",
                            PageOp::LoginForm
                            | PageOp::About
                            | PageOp::Css
                            | PageOp::Assets
                            | PageOp::Health
                            | PageOp::Ready,
                        ) => {
                            f.status(&what, r.status, 200, "");
                        }
                        ("GET", PageOp::Metrics) => metrics_check(&fx, &mut f, None).await,
                        ("GET", PageOp::Lang) => {
                            f.check(r.status == 303 && !to_login, || format!("{what}: {} {:?}", r.status, r.location));
                        }
                        ("POST", PageOp::Login) => f.status(format!("{what} (no CSRF)"), r.status, 401, ""),
                        ("POST", PageOp::Logout) => f.status(format!("{what} (no CSRF)"), r.status, 403, ""),
                        _ => f.check(to_login, || format!("{what}: {} {:?}, want 303 to /login", r.status, r.location)),
                    }
                    if route.method == "GET" && to_login {
                        let next = serde_urlencoded::to_string([("next", &path)]).unwrap();
                        f.check(r.location.as_deref() == Some(&format!("/login?{next}")), || {
                            format!("{what}: login does not return here: {:?}", r.location)
                        });
                    }
                }
            }
        }
        // Nothing changed.
        f.check(fx.stored_worker(fx.wid(W::W1)).await == w1_before, || "W1 changed by anonymous requests".into());
        f.check(fx.stored_org_phone(O::A).await == a_before, || "A changed by anonymous requests".into());
        f.check(fx.worker_ids().await == workers_before, || "workers created or deleted anonymously".into());
        f.check(fx.org_ids().await == orgs_before, || "organizations created or deleted anonymously".into());
        fx.app.stop().await;
        f.finish();
    }
}

// ---------------------------------------------------------------------------
// CSRF
// ---------------------------------------------------------------------------

#[tokio::test]
async fn page_posts_without_a_valid_csrf_token_change_nothing() {
    for engine in engines() {
        let fx = Fx::setup(engine).await;
        let mut f = Failures::new(engine);
        // Tokens of another session, valid there but not here.
        let other = browser();
        login(&fx.app, &other, "admin").await;
        let foreign = csrf_of(&other.get(fx.app.url("/about")).send().await.unwrap().text().await.unwrap());

        for who in [Who::Admin, Who::Prov] {
            let c = browser();
            login(&fx.app, &c, who.username()).await;
            let own = csrf_of(&fx.page(&mut f, &c, Some(who), "GET", "/about", None).await.body);
            assert_ne!(own, foreign, "every session has its own CSRF token");
            let temp_worker = fx.throwaway_worker(W::W1).await;
            let temp_org = fx.throwaway_org("0102").await;
            let w1_before = fx.stored_worker(fx.wid(W::W1)).await;
            let a_before = fx.app.db.store.get_org(&sys(), fx.oid(O::A)).await.unwrap();
            let workers_before = fx.worker_ids().await;
            let orgs_before = fx.org_ids().await;

            for route in ROUTES.iter().filter(|r| r.method == "POST" && matches!(r.op, Op::Page(_))) {
                let Op::Page(op) = route.op else { unreachable!() };
                let path = route
                    .path
                    .replace(
                        "{id}",
                        &if op == PageOp::DeleteWorker {
                            temp_worker
                        } else if op == PageOp::DeleteOrg {
                            temp_org
                        } else if route.path.contains("/organizations/") {
                            fx.oid(O::A)
                        } else {
                            fx.wid(W::W1)
                        }
                        .to_string(),
                    )
                    .replace("{worker_id}", &fx.wid(W::W1).to_string())
                    .replace("{number}", &fx.tr.cert_w1)
                    .replace("{token_id}", "1");
                let base: Vec<(String, String)> = match op {
                    PageOp::CreateWorker => form_of(&worker_input("ថ្មី", "New Forged", "010201", None), None),
                    PageOp::CreateOrg => form_of(&org_input("Forged Org", "0102"), None),
                    PageOp::Login => {
                        vec![("username".into(), "admin".into()), ("password".into(), common::PASSWORD.into())]
                    }
                    PageOp::UpdateWorker | PageOp::UpdateOrg => vec![("phone".into(), "012 666 666".into())],
                    _ => vec![],
                };
                for (case, token) in [
                    ("no token", None),
                    ("empty token", Some(String::new())),
                    ("wrong token", Some("f".repeat(48))),
                    ("another session's token", Some(foreign.clone())),
                ] {
                    let mut form = base.clone();
                    if let Some(t) = token {
                        form.push(("csrf".into(), t));
                    }
                    let r = fx.page(&mut f, &c, Some(who), "POST", &path, Some(&form)).await;
                    let what = format!("{who:?} POST {path} ({case})");
                    // A refused login re-renders the form with 401; everything else is 403.
                    let want = if op == PageOp::Login { 401 } else { 403 };
                    f.status(&what, r.status, want, "");
                }
            }
            f.check(fx.stored_worker(fx.wid(W::W1)).await == w1_before, || {
                format!("{who:?}: W1 changed by forged posts")
            });
            f.check(fx.app.db.store.get_org(&sys(), fx.oid(O::A)).await.unwrap() == a_before, || {
                format!("{who:?}: A changed by forged posts")
            });
            f.check(fx.worker_ids().await == workers_before, || {
                format!("{who:?}: workers created or deleted by forged posts")
            });
            f.check(fx.org_ids().await == orgs_before, || {
                format!("{who:?}: organizations created or deleted by forged posts")
            });
            // Still signed in (the forged logouts did nothing), as the same account.
            let r = fx.page(&mut f, &c, Some(who), "GET", "/about", None).await;
            f.check(r.body.contains(&format!(">{}</span>", who.username())), || {
                format!("{who:?}: session lost or switched by forged posts")
            });
            fx.remove_worker(temp_worker).await;
            fx.remove_org(temp_org).await;
        }
        fx.app.stop().await;
        f.finish();
    }
}

// ---------------------------------------------------------------------------
// Uniqueness checks must not reveal records outside the caller's scope
// ---------------------------------------------------------------------------

// A duplicate national ID or registration number is refused whatever the
// caller's scope, but the existing record is named only when the caller may see it.
#[tokio::test]
async fn duplicate_checks_do_not_reveal_out_of_scope_records() {
    for engine in engines() {
        let fx = Fx::setup(engine).await;
        let mut f = Failures::new(engine);
        let w2 = fx.wid(W::W2).to_string();
        let b = fx.oid(O::B).to_string();
        // A provincial officer of 01 records someone whose national ID is W2's
        // (province 02): the ID must be refused, but W2's record not named.
        let mut input = worker_input("ថ្មី", "New Duplicate", "010201", None);
        input.national_id = Some(W::W2.spec().national_id.into());
        let (s, v) = fx.call(&mut f, Some(Who::Prov), "POST", "/api/v1/workers", Some(&json!(input))).await;
        f.status("Prov POST /api/v1/workers with W2's national ID", s, 422, &v);
        let leaked = v["fields"].as_array().into_iter().flatten().any(|e| e["params"]["existing_id"] == json!(w2));
        f.check(!leaked, || format!("API names out-of-scope worker W2 (id {w2}) to a provincial officer of 01: {v}"));

        let c = browser();
        login(&fx.app, &c, Who::Prov.username()).await;
        let csrf = csrf_of(&fx.page(&mut f, &c, Some(Who::Prov), "GET", "/workers/new", None).await.body);
        let r = fx.page(&mut f, &c, Some(Who::Prov), "POST", "/workers", Some(&form_of(&input, Some(&csrf)))).await;
        f.status("Prov POST /workers with W2's national ID", r.status, 422, "");
        f.check(!r.body.contains(&format!("/workers/{w2}\"")), || {
            format!("form links out-of-scope worker W2 (/workers/{w2}) for a provincial officer of 01")
        });

        // Same for an organization's registration number.
        let mut org = org_input("New Duplicate Org", "0102");
        org.registration_no = Some(O::B.spec().registration_no.into());
        let (s, v) = fx.call(&mut f, Some(Who::Prov), "POST", "/api/v1/organizations", Some(&json!(org))).await;
        f.status("Prov POST /api/v1/organizations with B's registration number", s, 422, &v);
        let leaked = v["fields"].as_array().into_iter().flatten().any(|e| e["params"]["existing_id"] == json!(b));
        f.check(!leaked, || {
            format!("API names out-of-scope organization B (id {b}) to a provincial officer of 01: {v}")
        });

        // In scope the existing record may be named: it is the caller's own.
        let mut input = worker_input("ថ្មី", "New Duplicate", "010201", None);
        input.national_id = Some(W::W3.spec().national_id.into());
        let (s, v) = fx.call(&mut f, Some(Who::Prov), "POST", "/api/v1/workers", Some(&json!(input))).await;
        f.status("Prov POST /api/v1/workers with W3's national ID", s, 422, &v);
        f.check(field_codes(&v).contains(&("national_id".into(), "duplicate_national_id".into())), || format!("{v}"));
        f.check(fx.worker_ids().await.len() == 4, || "a duplicate was saved".into());
        fx.app.stop().await;
        f.finish();
    }
}

// ---------------------------------------------------------------------------
// Workforce planning: national administrators do everything, national
// viewers read, provincial and district officers read and make plans for
// their scope, organization HR managers and workers have no access (403).
// ---------------------------------------------------------------------------

fn reads_planning(who: Who) -> bool {
    matches!(who, Who::Admin | Who::Viewer | Who::Prov | Who::Dist)
}

fn makes_plans(who: Who) -> bool {
    matches!(who, Who::Admin | Who::Prov | Who::Dist)
}

/// Status of a planning read about units of province 02 (outside the officers' scope).
fn on_national_only(who: Who) -> u16 {
    match who {
        Who::Admin | Who::Viewer => 200,
        Who::Prov | Who::Dist => 404,
        Who::OrgHr | Who::SelfW1 => 403,
    }
}

/// Status of reading a plan of the provincial officer of 01: theirs and the
/// national roles' to see; outside a district officer's area (404).
fn on_prov_plan(who: Who) -> u16 {
    match who {
        Who::Admin | Who::Viewer | Who::Prov => 200,
        Who::Dist => 404,
        Who::OrgHr | Who::SelfW1 => 403,
    }
}

/// A plan saved by the provincial officer of 01 (for province 01).
async fn prov_plan(fx: &Fx) -> i64 {
    let prov = Principal {
        user_id: 0,
        username: Who::Prov.username().into(),
        role: UserRole::ProvincialOfficer,
        scope: komlang_core::Scope::Unit { code: "01".into(), level: komlang_core::AdminLevel::Province },
        org_id: None,
        worker_id: None,
    };
    let req = serde_json::from_value(
        json!({"name": "Banteay Meanchey", "start_year": 2025, "target_year": 2026, "posts": 3}),
    )
    .unwrap();
    fx.app.db.store.create_plan(&prov, &req).await.unwrap().id
}

// ---------------------------------------------------------------------------
// Training, certificates and licences. Everybody signed in reads the catalogue,
// targets and progress (of the workers they see); national administrators keep
// the catalogue, targets and licensing rules, issue and revoke certificates and
// decide licences. Events are seen by every account but `worker`, within its
// geographic area; national administrators and provincial and district officers
// run those in their area (participants: workers they see). Transcripts and
// licences follow the worker's record. The public pages and API answer anyone.
// ---------------------------------------------------------------------------

struct TrainingFx {
    /// The Vocational Certificate programme.
    vc: i64,
    /// The institution NISA.
    nisa: i64,
    /// A module of it worth 30 credits.
    course: i64,
    /// An event in commune 010201 (district 0102, province 01): W1 and W3 passed.
    e1: i64,
    /// An event in commune 020101 (province 02): W2 and W4 passed.
    e2: i64,
    cert_w1: String,
    cert_w2: String,
    lic_w1: i64,
    lic_w2: i64,
}

/// Name of the public holder: in no scope's secrets, shown by the public pages.
const PUBLIC_HOLDER: &str = "Pheap Publicholder";

async fn training_fixture(app: &TestApp, w: &[i64; 4]) -> TrainingFx {
    use komlang_core::training::{AttendanceInput, CourseInput, DecisionInput, EventInput, Hours};
    let s = &app.db.store;
    let vc = s.programmes().await.unwrap().into_iter().find(|p| p.code == "VC-PSW").unwrap().id;
    let course = CourseInput {
        code: "PERM-M1".into(),
        title_en: "Permission module".into(),
        programme_id: Some(vc),
        hours: Hours { teaching: 450.0, ..Default::default() },
        ..Default::default()
    };
    let course = s.create_course(&sys(), &course).await.unwrap().id;
    let mut events = Vec::new();
    for (place, who) in [("010201", vec![w[0], w[2]]), ("020101", vec![w[1], w[3]])] {
        let input = EventInput {
            course_id: course,
            starts_on: "2026-01-05".into(),
            ends_on: "2026-01-09".into(),
            place_code: place.into(),
            ..Default::default()
        };
        let e = s.create_training_event(&sys(), &input).await.unwrap().id;
        s.add_participants(&sys(), e, &who).await.unwrap();
        for id in who {
            let pass = AttendanceInput { result: "passed".into(), ..Default::default() };
            s.record_attendance(&sys(), e, id, &pass, None).await.unwrap();
        }
        events.push(e);
    }
    let mut certs = Vec::new();
    for id in [w[0], w[1], w[3]] {
        certs.push(s.issue_certificate(&sys(), id, vc, today()).await.unwrap().number);
    }
    let approve = DecisionInput { action: "approve".into(), reason: None };
    let mut lics = Vec::new();
    for id in [w[0], w[1]] {
        let l = s.apply_licence(&sys(), id, None, today()).await.unwrap();
        lics.push(s.decide_licence(&sys(), l.id, &approve, today(), None).await.unwrap());
    }
    let nisa = s.institutions().await.unwrap().into_iter().find(|i| i.code == "NISA").unwrap().id;
    TrainingFx {
        vc,
        nisa,
        course,
        e1: events[0],
        e2: events[1],
        cert_w1: certs[0].clone(),
        cert_w2: certs[1].clone(),
        lic_w1: lics[0].id,
        lic_w2: lics[1].id,
    }
}

/// Sees training events (every account but a worker's).
fn sees_events(who: Who) -> bool {
    who != Who::SelfW1
}

/// Sees the event of the fixture in `province`/`district`.
fn sees_event(who: Who, e1: bool) -> bool {
    sees_events(who) && (e1 || !matches!(who, Who::Prov | Who::Dist))
}

/// Runs training (in their area).
fn runs_training(who: Who) -> bool {
    matches!(who, Who::Admin | Who::Prov | Who::Dist)
}

/// Status of reading an event: 403 for workers (no access to events), 404 outside the area.
fn on_event_read(who: Who, e1: bool) -> u16 {
    if !sees_events(who) {
        403
    } else if sees_event(who, e1) {
        200
    } else {
        404
    }
}

/// Status of changing an event (E1 when `e1`, else E2): 403 for workers, 404 unseen, 403 not
/// theirs to run.
fn on_event_write(who: Who, e1: bool, ok: u16) -> u16 {
    if !sees_events(who) {
        403
    } else if !sees_event(who, e1) {
        404
    } else if runs_training(who) {
        ok
    } else {
        403
    }
}

/// Status of a national administrator's act on a worker's record (certificates, licence decisions).
fn on_certify(who: Who, w: W, ok: u16) -> u16 {
    if !who.sees_worker(w) {
        404
    } else if who == Who::Admin {
        ok
    } else {
        403
    }
}

/// Status of recording RPL/RCC for a worker.
fn on_recognition(who: Who, w: W, ok: u16) -> u16 {
    if !who.sees_worker(w) {
        404
    } else if runs_training(who) {
        ok
    } else {
        403
    }
}

/// Status of a catalogue change: national administrators only.
fn on_catalogue(who: Who, ok: u16) -> u16 {
    if who == Who::Admin {
        ok
    } else {
        403
    }
}

fn rpl_form() -> Vec<(String, String)> {
    vec![
        ("kind".into(), "rpl".into()),
        ("programme_id".into(), String::new()),
        ("hours.teaching".into(), "15".into()),
        ("evidence".into(), "Portfolio".into()),
        ("assessor".into(), "NISA".into()),
        ("assessed_on".into(), today().to_string()),
    ]
}

fn event_form(fx: &Fx, place: &str) -> Vec<(String, String)> {
    vec![
        ("course_id".into(), fx.tr.course.to_string()),
        ("starts_on".into(), "2026-02-02".into()),
        ("ends_on".into(), "2026-02-03".into()),
        ("place_code".into(), place.into()),
    ]
}

async fn training_page(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let with_csrf = |mut form: Vec<(String, String)>| {
        form.push(("csrf".into(), csrf.to_string()));
        form
    };
    let store = &fx.app.db.store;
    let tr = &fx.tr;
    let n = who as usize;
    match (route.method, route.path) {
        ("GET", "/training") => {
            let r = fx.page(f, c, Some(who), "GET", "/training", None).await;
            f.status(at("/training"), r.status, 200, "");
            f.check(r.body.contains("VC-PSW"), || format!("{}: programmes not listed", at("/training")));
        }
        ("POST", "/training/institutions") => {
            let form = with_csrf(vec![
                ("code".into(), format!("PERM{n}")),
                ("name_en".into(), "Permission institute".into()),
                ("kind".into(), "ngo".into()),
            ]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form)).await;
            f.status(at(route.path), r.status, on_catalogue(who, 303), "");
        }
        ("POST", "/training/programmes") => {
            let nisa = store.institutions().await.unwrap().into_iter().find(|i| i.code == "NISA").unwrap().id;
            let form = with_csrf(vec![
                ("code".into(), format!("PERM-P{n}")),
                ("title_en".into(), "Permission programme".into()),
                ("level".into(), "tvc1".into()),
                ("institution_id".into(), nisa.to_string()),
            ]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form)).await;
            f.status(at(route.path), r.status, on_catalogue(who, 303), "");
        }
        ("GET", "/training/programmes/{id}") => {
            let path = format!("/training/programmes/{}", tr.vc);
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(&path), r.status, 200, "");
            f.check(r.body.contains("PERM-M1"), || format!("{}: module missing", at(&path)));
            let r = fx.page(f, c, Some(who), "GET", "/training/programmes/999999", None).await;
            f.status(at("/training/programmes/999999"), r.status, 404, "");
        }
        ("GET", "/training/programmes/{id}/edit")
        | ("GET", "/training/institutions/{id}/edit")
        | ("GET", "/training/courses/{id}/edit") => {
            let id = if route.path.contains("programmes") {
                tr.vc
            } else if route.path.contains("institutions") {
                tr.nisa
            } else {
                tr.course
            };
            let path = route.path.replace("{id}", &id.to_string());
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(&path), r.status, on_catalogue(who, 200), "");
            let unknown = route.path.replace("{id}", "999999");
            let r = fx.page(f, c, Some(who), "GET", &unknown, None).await;
            f.status(at(&unknown), r.status, on_catalogue(who, 404), "");
        }
        ("POST", "/training/programmes/{id}")
        | ("POST", "/training/institutions/{id}")
        | ("POST", "/training/courses/{id}") => {
            // The record as it is, sent back: saved by the administrator, refused to others.
            let (id, form) = if route.path.contains("programmes") {
                let x = store.programme(tr.vc).await.unwrap().unwrap();
                (
                    tr.vc,
                    vec![
                        ("code".into(), x.code),
                        ("title_en".into(), x.title_en),
                        ("title_km".into(), x.title_km),
                        ("level".into(), x.level.code().into()),
                        ("institution_id".into(), x.institution_id.to_string()),
                        ("credits_required".into(), x.credits_required.to_string()),
                    ],
                )
            } else if route.path.contains("institutions") {
                let x = store.institution(tr.nisa).await.unwrap().unwrap();
                (
                    tr.nisa,
                    vec![
                        ("code".into(), x.code),
                        ("name_en".into(), x.name_en),
                        ("name_km".into(), x.name_km),
                        ("kind".into(), x.kind.code().into()),
                    ],
                )
            } else {
                let x = store.course(tr.course).await.unwrap().unwrap();
                (
                    tr.course,
                    vec![
                        ("code".into(), x.code),
                        ("title_en".into(), x.title_en),
                        ("programme_id".into(), tr.vc.to_string()),
                        ("hours.teaching".into(), x.hours.teaching.to_string()),
                    ],
                )
            };
            let path = route.path.replace("{id}", &id.to_string());
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(form))).await;
            f.status(at(&path), r.status, on_catalogue(who, 303), "");
        }
        ("POST", "/training/courses") => {
            let form = with_csrf(vec![
                ("code".into(), format!("PERM-C{n}")),
                ("title_en".into(), "Permission course".into()),
                ("programme_id".into(), tr.vc.to_string()),
                ("hours.teaching".into(), "6".into()),
            ]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form)).await;
            f.status(at(route.path), r.status, on_catalogue(who, 303), "");
        }
        ("GET", "/training/events") | ("GET", "/training/events/export") => {
            let path = if route.path.ends_with("export") { "/training/events/export?format=csv" } else { route.path };
            let r = fx.page(f, c, Some(who), "GET", path, None).await;
            f.status(at(path), r.status, if sees_events(who) { 200 } else { 403 }, "");
            if r.status == 200 && !path.contains("export") {
                for (e, e1) in [(tr.e1, true), (tr.e2, false)] {
                    let listed = r.body.contains(&format!("/training/events/{e}\""));
                    f.check(listed == sees_event(who, e1), || format!("{}: event {e} listed = {listed}", at(path)));
                }
            }
        }
        ("GET", "/training/events/new") => {
            let r = fx.page(f, c, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), r.status, if runs_training(who) { 200 } else { 403 }, "");
        }
        ("POST", "/training/events") => {
            for (place, inside) in [("010201", true), ("020101", false)] {
                let r = fx.page(f, c, Some(who), "POST", route.path, Some(&with_csrf(event_form(fx, place)))).await;
                let want = match (runs_training(who), inside || who == Who::Admin) {
                    (false, _) => 403,
                    (true, true) => 303,
                    (true, false) => 422,
                };
                f.status(format!("{} at {place}", at(route.path)), r.status, want, "");
            }
        }
        ("GET", "/training/events/{id}") | ("GET", "/training/events/{id}/edit") => {
            for (e, e1) in [(tr.e1, true), (tr.e2, false)] {
                let path = route.path.replace("{id}", &e.to_string());
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                let want =
                    if route.path.ends_with("edit") { on_event_write(who, e1, 200) } else { on_event_read(who, e1) };
                f.status(at(&path), r.status, want, "");
            }
        }
        ("POST", "/training/events/{id}") => {
            for (e, e1) in [(tr.e1, true), (tr.e2, false)] {
                let path = format!("/training/events/{e}");
                let place = if e1 { "010201" } else { "020101" };
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(event_form(fx, place)))).await;
                f.status(at(&path), r.status, on_event_write(who, e1, 303), "");
            }
        }
        ("POST", "/training/events/{id}/participants") => {
            let path = format!("/training/events/{}/participants", tr.e1);
            let form = with_csrf(vec![("worker_ids".into(), fx.wid(W::W3).to_string())]);
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
            // W3 works in district 0103: not the district officer's to add.
            let want = if who == Who::Dist { 422 } else { on_event_write(who, true, 303) };
            f.status(at(&path), r.status, want, "");
        }
        ("POST", "/training/events/{id}/pass-pending") => {
            for (e, e1) in [(tr.e1, true), (tr.e2, false)] {
                let path = format!("/training/events/{e}/pass-pending");
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(vec![]))).await;
                f.status(at(&path), r.status, on_event_write(who, e1, 303), "");
            }
        }
        ("POST", "/training/events/{id}/participants/{worker_id}") => {
            let path = format!("/training/events/{}/participants/{}", tr.e1, fx.wid(W::W1));
            let form = with_csrf(vec![("result".into(), "passed".into())]);
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
            f.status(at(&path), r.status, on_event_write(who, true, 303), "");
        }
        ("POST", "/training/events/{id}/participants/{worker_id}/delete") => {
            let path = format!("/training/events/{}/participants/{}/delete", tr.e1, fx.wid(W::W3));
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(vec![]))).await;
            let want = if who == Who::Dist { 404 } else { on_event_write(who, true, 303) };
            f.status(at(&path), r.status, want, "");
            restore_w3(fx).await;
        }
        ("GET", "/training/progress") | ("GET", "/training/targets") => {
            let r = fx.page(f, c, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), r.status, 200, "");
        }
        ("POST", "/training/targets") => {
            let form = with_csrf(vec![
                ("group_code".into(), format!("perm{n}")),
                ("group_en".into(), "Permission group".into()),
                ("level".into(), "tvc1".into()),
                ("year".into(), "2027".into()),
                ("target".into(), "10".into()),
            ]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form)).await;
            f.status(at(route.path), r.status, on_catalogue(who, 303), "");
        }
        ("GET", "/workers/{id}/transcript") | ("GET", "/workers/{id}/transcript/export") => {
            for w in W::ALL {
                let mut path = route.path.replace("{id}", &fx.wid(w).to_string());
                if path.ends_with("export") {
                    path.push_str("?format=csv");
                }
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, if who.sees_worker(w) { 200 } else { 404 }, "");
                if r.status == 200 {
                    f.check(r.body.contains(w.spec().name_latin), || format!("{}: name missing", at(&path)));
                }
            }
        }
        ("POST", "/workers/{id}/recognitions") => {
            for w in [W::W1, W::W2] {
                let path = format!("/workers/{}/recognitions", fx.wid(w));
                let mut form = rpl_form();
                form[1].1 = tr.vc.to_string();
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(form))).await;
                f.status(at(&path), r.status, on_recognition(who, w, 303), "");
            }
        }
        ("POST", "/workers/{id}/certificates") => {
            // W3 is eligible and holds no certificate.
            let path = format!("/workers/{}/certificates", fx.wid(W::W3));
            let form = with_csrf(vec![("programme_id".into(), tr.vc.to_string())]);
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
            f.status(at(&path), r.status, on_certify(who, W::W3, 303), "");
            revoke_w3(fx).await;
        }
        ("POST", "/certificates/{number}/revoke") => {
            for (w, number) in [(W::W1, &tr.cert_w1), (W::W2, &tr.cert_w2)] {
                let path = format!("/certificates/{number}/revoke");
                // An empty reason is refused (and so nothing is revoked).
                let form = with_csrf(vec![("reason".into(), String::new())]);
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
                f.status(at(&path), r.status, on_certify(who, w, 422), "");
            }
            let r = fx
                .page(f, c, Some(who), "POST", "/certificates/C-0000-0000-0000-0/revoke", Some(&with_csrf(vec![])))
                .await;
            f.status(at("/certificates/C-0000-0000-0000-0/revoke"), r.status, 404, "");
        }
        ("POST", "/workers/{id}/licences") => {
            // W1 holds an open licence: allowed callers are told so (422); W4 may apply.
            for w in [W::W1, W::W4] {
                let path = format!("/workers/{}/licences", fx.wid(w));
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(vec![]))).await;
                let may = who.sees_worker(w) && (who.writes_workers() || (who == Who::SelfW1 && w == W::W1));
                let want = match (who.sees_worker(w), may, w) {
                    (false, _, _) => 404,
                    (true, false, _) => 403,
                    (true, true, W::W1) => 422,
                    _ => 303,
                };
                let want = if who == Who::Viewer && who.sees_worker(w) { 403 } else { want };
                f.status(at(&path), r.status, want, "");
                reject_open_licence(fx, W::W4).await;
            }
        }
        ("GET", "/certificates/{number}/print") => {
            for (w, number) in [(W::W1, &tr.cert_w1), (W::W2, &tr.cert_w2)] {
                let path = format!("/certificates/{number}/print");
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, if who.sees_worker(w) { 200 } else { 404 }, "");
                if r.status == 200 {
                    f.check(
                        r.body.contains(w.spec().name_latin) && r.body.contains(&format!("/verify/{number}")),
                        || format!("{}: holder or verification link missing", at(&path)),
                    );
                }
            }
            let r = fx.page(f, c, Some(who), "GET", "/certificates/C-0000-0000-0000-0/print", None).await;
            f.status(at("/certificates/C-0000-0000-0000-0/print"), r.status, 404, "");
        }
        ("GET", "/certificates") | ("GET", "/certificates/export") => {
            let path = if route.path.ends_with("export") { "/certificates/export?format=csv" } else { route.path };
            let r = fx.page(f, c, Some(who), "GET", path, None).await;
            f.status(at(path), r.status, 200, "");
            for (w, number) in [(W::W1, &tr.cert_w1), (W::W2, &tr.cert_w2)] {
                let listed = r.body.contains(number.as_str());
                f.check(listed == who.sees_worker(w), || {
                    format!("{}: {w:?}'s certificate listed = {listed}", at(path))
                });
            }
        }
        ("GET", "/licences") | ("GET", "/licences/export") => {
            let path = if route.path.ends_with("export") { "/licences/export?format=csv" } else { route.path };
            let r = fx.page(f, c, Some(who), "GET", path, None).await;
            f.status(at(path), r.status, 200, "");
            for w in [W::W1, W::W2] {
                let listed = r.body.contains(w.spec().name_latin);
                f.check(listed == who.sees_worker(w), || format!("{}: {w:?} listed = {listed}", at(path)));
            }
        }
        ("POST", "/licences/rules") => {
            let form = with_csrf(vec![("term_years".into(), "3".into()), ("renewal_ce_hours".into(), "30".into())]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form)).await;
            f.status(at(route.path), r.status, on_catalogue(who, 303), "");
        }
        ("GET", "/licences/{id}") => {
            for (w, id) in [(W::W1, tr.lic_w1), (W::W2, tr.lic_w2)] {
                let path = format!("/licences/{id}");
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, if who.sees_worker(w) { 200 } else { 404 }, "");
            }
        }
        ("POST", "/licences/{id}/decision") => {
            for (w, id) in [(W::W1, tr.lic_w1), (W::W2, tr.lic_w2)] {
                let path = format!("/licences/{id}/decision");
                // Suspending without a reason is refused: nothing changes.
                let form = with_csrf(vec![("action".into(), "suspend".into()), ("reason".into(), String::new())]);
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
                f.status(at(&path), r.status, on_certify(who, w, 422), "");
            }
        }
        ("POST", "/licences/{id}/renew") => {
            for (w, id) in [(W::W1, tr.lic_w1), (W::W2, tr.lic_w2)] {
                let path = format!("/licences/{id}/renew");
                // No continuing education yet: refused with the hours.
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(vec![]))).await;
                f.status(at(&path), r.status, on_certify(who, w, 422), "");
            }
        }
        (m, p) => f.check(false, || format!("no permission check written for page {m} {p}")),
    }
}

/// Puts W3 back into E1 (a check removed them).
async fn restore_w3(fx: &Fx) {
    use komlang_core::training::AttendanceInput;
    let s = &fx.app.db.store;
    let w3 = fx.wid(W::W3);
    if s.add_participants(&sys(), fx.tr.e1, &[w3]).await.unwrap() == 1 {
        let pass = AttendanceInput { result: "passed".into(), ..Default::default() };
        s.record_attendance(&sys(), fx.tr.e1, w3, &pass, None).await.unwrap();
    }
}

/// Revokes a certificate a check issued to W3, so that W3 is eligible again.
async fn revoke_w3(fx: &Fx) {
    let s = &fx.app.db.store;
    for c in s.worker_certificates(&sys(), fx.wid(W::W3)).await.unwrap().into_iter().filter(|c| c.valid) {
        s.revoke_certificate(&sys(), &c.number, "permission check", today()).await.unwrap();
    }
}

/// Rejects an application a check made for `w`, so that the next caller may apply again.
async fn reject_open_licence(fx: &Fx, w: W) {
    let s = &fx.app.db.store;
    let reject = komlang_core::training::DecisionInput { action: "reject".into(), reason: Some("check".into()) };
    for l in s.worker_licences(&sys(), fx.wid(w), today()).await.unwrap() {
        if l.status == komlang_core::training::LicenceStatus::Applied {
            s.decide_licence(&sys(), l.id, &reject, today(), None).await.unwrap();
        }
    }
}

async fn training_api(fx: &Fx, f: &mut Failures, who: Who, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let store = &fx.app.db.store;
    let tr = &fx.tr;
    let n = who as usize;
    match (route.method, route.path) {
        ("GET", "/api/v1/training/institutions")
        | ("GET", "/api/v1/training/programmes")
        | ("GET", "/api/v1/training/courses")
        | ("GET", "/api/v1/training/targets")
        | ("GET", "/api/v1/licensing/rules") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, 200, &v);
        }
        ("POST", "/api/v1/training/institutions") => {
            let body = json!({"code": format!("PERMA{n}"), "name_en": "Permission institute", "kind": "ngo"});
            let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
            f.status(at(route.path), s, on_catalogue(who, 201), &v);
        }
        ("POST", "/api/v1/training/programmes") => {
            let nisa = store.institutions().await.unwrap().into_iter().find(|i| i.code == "NISA").unwrap().id;
            let body = json!({"code": format!("PERMA-P{n}"), "title_en": "P", "level": "tvc2", "institution_id": nisa});
            let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
            f.status(at(route.path), s, on_catalogue(who, 201), &v);
        }
        ("GET", "/api/v1/training/programmes/{id}") => {
            let path = format!("/api/v1/training/programmes/{}", tr.vc);
            let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
            f.status(at(&path), s, 200, &v);
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/training/programmes/999999", None).await;
            f.status(at("/api/v1/training/programmes/999999"), s, 404, &v);
        }
        ("GET", "/api/v1/training/courses/{id}") => {
            let path = format!("/api/v1/training/courses/{}", tr.course);
            let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
            f.status(at(&path), s, 200, &v);
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/training/courses/999999", None).await;
            f.status(at("/api/v1/training/courses/999999"), s, 404, &v);
        }
        ("PUT", "/api/v1/training/programmes/{id}")
        | ("PUT", "/api/v1/training/institutions/{id}")
        | ("PUT", "/api/v1/training/courses/{id}") => {
            let (id, body) = if route.path.contains("programmes") {
                let x = store.programme(tr.vc).await.unwrap().unwrap();
                (
                    tr.vc,
                    json!({"code": x.code, "title_en": x.title_en, "title_km": x.title_km, "level": x.level,
                    "institution_id": x.institution_id, "credits_required": x.credits_required}),
                )
            } else if route.path.contains("institutions") {
                let x = store.institution(tr.nisa).await.unwrap().unwrap();
                (tr.nisa, json!({"code": x.code, "name_en": x.name_en, "name_km": x.name_km, "kind": x.kind}))
            } else {
                let x = store.course(tr.course).await.unwrap().unwrap();
                (tr.course, json!({"code": x.code, "title_en": x.title_en, "programme_id": tr.vc, "hours": x.hours}))
            };
            let path = route.path.replace("{id}", &id.to_string());
            let (s, v) = fx.call(f, Some(who), "PUT", &path, Some(&body)).await;
            f.status(at(&path), s, on_catalogue(who, 200), &v);
            let unknown = route.path.replace("{id}", "999999");
            let (s, v) = fx.call(f, Some(who), "PUT", &unknown, Some(&body)).await;
            f.status(at(&unknown), s, on_catalogue(who, 404), &v);
        }
        ("POST", "/api/v1/training/courses") => {
            let body = json!({"code": format!("PERMA-C{n}"), "title_en": "C", "programme_id": tr.vc,
                "hours": {"teaching": 6}});
            let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
            f.status(at(route.path), s, on_catalogue(who, 201), &v);
        }
        ("GET", "/api/v1/training/events") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, if sees_events(who) { 200 } else { 403 }, &v);
            if s == 200 {
                let ids = ids_of(&v);
                for (e, e1) in [(tr.e1, true), (tr.e2, false)] {
                    f.check(ids.contains(&e) == sees_event(who, e1), || {
                        format!("{}: event {e} in {ids:?}", at(route.path))
                    });
                }
            }
        }
        ("GET", "/api/v1/training/events/export") => {
            let path = "/api/v1/training/events/export?format=csv";
            let (s, _) = fx.call(f, Some(who), "GET", path, None).await;
            f.status(at(path), s, if sees_events(who) { 200 } else { 403 }, "");
        }
        ("POST", "/api/v1/training/events") => {
            for (place, inside) in [("010201", true), ("020101", false)] {
                let body = json!({"course_id": tr.course, "starts_on": "2026-02-02", "ends_on": "2026-02-03",
                    "place_code": place});
                let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
                let want = match (runs_training(who), inside || who == Who::Admin) {
                    (false, _) => 403,
                    (true, true) => 201,
                    (true, false) => 422,
                };
                f.status(format!("{} at {place}", at(route.path)), s, want, &v);
            }
        }
        ("GET", "/api/v1/training/events/{id}") | ("GET", "/api/v1/training/events/{id}/participants") => {
            for (e, e1) in [(tr.e1, true), (tr.e2, false)] {
                let path = route.path.replace("{id}", &e.to_string());
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, on_event_read(who, e1), &v);
            }
        }
        ("PUT", "/api/v1/training/events/{id}") => {
            for (e, e1) in [(tr.e1, true), (tr.e2, false)] {
                let path = format!("/api/v1/training/events/{e}");
                let place = if e1 { "010201" } else { "020101" };
                let body = json!({"course_id": tr.course, "starts_on": "2026-01-05", "ends_on": "2026-01-09",
                    "place_code": place});
                let (s, v) = fx.call(f, Some(who), "PUT", &path, Some(&body)).await;
                f.status(at(&path), s, on_event_write(who, e1, 200), &v);
            }
        }
        ("POST", "/api/v1/training/events/{id}/participants") => {
            let path = format!("/api/v1/training/events/{}/participants", tr.e1);
            let body = json!({"worker_ids": [fx.wid(W::W3)]});
            let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&body)).await;
            let want = if who == Who::Dist { 422 } else { on_event_write(who, true, 201) };
            f.status(at(&path), s, want, &v);
        }
        ("POST", "/api/v1/training/events/{id}/pass-pending") => {
            for (e, e1) in [(tr.e1, true), (tr.e2, false)] {
                let path = format!("/api/v1/training/events/{e}/pass-pending");
                let (s, v) = fx.call(f, Some(who), "POST", &path, None).await;
                f.status(at(&path), s, on_event_write(who, e1, 200), &v);
            }
        }
        ("PUT", "/api/v1/training/events/{id}/participants/{worker_id}") => {
            let path = format!("/api/v1/training/events/{}/participants/{}", tr.e1, fx.wid(W::W1));
            let (s, v) = fx.call(f, Some(who), "PUT", &path, Some(&json!({"result": "passed"}))).await;
            f.status(at(&path), s, on_event_write(who, true, 200), &v);
        }
        ("DELETE", "/api/v1/training/events/{id}/participants/{worker_id}") => {
            let path = format!("/api/v1/training/events/{}/participants/{}", tr.e1, fx.wid(W::W3));
            let (s, v) = fx.call(f, Some(who), "DELETE", &path, None).await;
            let want = if who == Who::Dist { 404 } else { on_event_write(who, true, 204) };
            f.status(at(&path), s, want, &v);
            restore_w3(fx).await;
        }
        ("GET", "/api/v1/workers/{id}/transcript")
        | ("GET", "/api/v1/workers/{id}/certificates")
        | ("GET", "/api/v1/workers/{id}/licences") => {
            for w in W::ALL {
                let path = route.path.replace("{id}", &fx.wid(w).to_string());
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, if who.sees_worker(w) { 200 } else { 404 }, &v);
                if s == 200 && path.ends_with("transcript") {
                    let want = store.transcript(&sys(), fx.wid(w)).await.unwrap().total_credits;
                    f.check(want >= 30.0 && v["total_credits"] == json!(want), || {
                        format!("{}: total_credits {}, want {want}", at(&path), v["total_credits"])
                    });
                }
            }
        }
        ("POST", "/api/v1/workers/{id}/recognitions") => {
            for w in [W::W1, W::W2] {
                let path = format!("/api/v1/workers/{}/recognitions", fx.wid(w));
                let body = json!({"kind": "rcc", "programme_id": tr.vc, "hours": {"teaching": 15}, "evidence": "Observed",
                    "assessor": "NISA", "assessed_on": today().to_string()});
                let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&body)).await;
                f.status(at(&path), s, on_recognition(who, w, 201), &v);
            }
        }
        ("POST", "/api/v1/workers/{id}/certificates") => {
            let path = format!("/api/v1/workers/{}/certificates", fx.wid(W::W3));
            let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&json!({"programme_id": tr.vc}))).await;
            f.status(at(&path), s, on_certify(who, W::W3, 201), &v);
            revoke_w3(fx).await;
        }
        ("POST", "/api/v1/certificates/{number}/revoke") => {
            for (w, number) in [(W::W1, &tr.cert_w1), (W::W2, &tr.cert_w2)] {
                let path = format!("/api/v1/certificates/{number}/revoke");
                let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&json!({"reason": ""}))).await;
                f.status(at(&path), s, on_certify(who, w, 422), &v);
            }
        }
        ("GET", "/api/v1/certificates") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, 200, &v);
            let numbers: Vec<&str> = v["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x["certificate"]["number"].as_str())
                .collect();
            for (w, number) in [(W::W1, &tr.cert_w1), (W::W2, &tr.cert_w2)] {
                let listed = numbers.contains(&number.as_str());
                f.check(listed == who.sees_worker(w), || {
                    format!("{}: {w:?}'s certificate listed = {listed}", at(route.path))
                });
            }
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/certificates?level=phd", None).await;
            f.status(at("/api/v1/certificates?level=phd"), s, 400, &v);
        }
        ("GET", "/api/v1/training/progress") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, 200, &v);
            // W3 is the one eligible worker (no certificate).
            let want = if who.sees_worker(W::W3) { 1 } else { 0 };
            f.check(v["eligible_total"] == json!(want), || {
                format!("{}: eligible {}", at(route.path), v["eligible_total"])
            });
        }
        ("POST", "/api/v1/training/targets") => {
            let body = json!({"group_code": format!("perma{n}"), "group_en": "G", "level": "tvc1", "year": 2027,
                "target": 5});
            let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
            let ok = if s == 204 { 204 } else { 200 };
            f.status(at(route.path), s, on_catalogue(who, ok), &v);
        }
        ("GET", "/api/v1/licences") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, 200, &v);
            let all = komlang_store::LicenceQuery { page: 1, per_page: 100, ..Default::default() };
            let want = store
                .licences(&sys(), &all, today())
                .await
                .unwrap()
                .items
                .iter()
                .filter(|l| W::ALL.iter().any(|w| fx.wid(*w) == l.worker.id && who.sees_worker(*w)))
                .count();
            f.check(v["total"] == json!(want), || format!("{}: total {}, want {want}", at(route.path), v["total"]));
        }
        ("POST", "/api/v1/workers/{id}/licences") => {
            for w in [W::W1, W::W4] {
                let path = format!("/api/v1/workers/{}/licences", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&json!({}))).await;
                let may = who.writes_workers() || (who == Who::SelfW1 && w == W::W1);
                let want = match (who.sees_worker(w), may, w) {
                    (false, _, _) => 404,
                    (true, false, _) => 403,
                    (true, true, W::W1) => 422,
                    _ => 201,
                };
                f.status(at(&path), s, want, &v);
                reject_open_licence(fx, W::W4).await;
            }
        }
        ("GET", "/api/v1/licences/{id}") => {
            for (w, id) in [(W::W1, tr.lic_w1), (W::W2, tr.lic_w2)] {
                let path = format!("/api/v1/licences/{id}");
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, if who.sees_worker(w) { 200 } else { 404 }, &v);
            }
        }
        ("POST", "/api/v1/licences/{id}/decision") => {
            for (w, id) in [(W::W1, tr.lic_w1), (W::W2, tr.lic_w2)] {
                let path = format!("/api/v1/licences/{id}/decision");
                let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&json!({"action": "suspend"}))).await;
                f.status(at(&path), s, on_certify(who, w, 422), &v);
            }
        }
        ("POST", "/api/v1/licences/{id}/renew") => {
            for (w, id) in [(W::W1, tr.lic_w1), (W::W2, tr.lic_w2)] {
                let path = format!("/api/v1/licences/{id}/renew");
                let (s, v) = fx.call(f, Some(who), "POST", &path, None).await;
                f.status(at(&path), s, on_certify(who, w, 422), &v);
            }
        }
        ("PUT", "/api/v1/licensing/rules") => {
            let body = json!({"term_years": 3, "renewal_ce_hours": 30});
            let (s, v) = fx.call(f, Some(who), "PUT", route.path, Some(&body)).await;
            f.status(at(route.path), s, on_catalogue(who, 200), &v);
        }
        (m, p) => f.check(false, || format!("no permission check written for API {m} {p}")),
    }
}

/// The public certificate check and licence register: the same answer for anyone, signed in or not.
async fn public_check(fx: &Fx, f: &mut Failures, who: Option<Who>, route: &Route) {
    let (holder, public_cert, public_lic) = public_holder(fx).await;
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let anon = Client::new();
    let get = |path: String| {
        let anon = anon.clone();
        async move {
            let r = anon.get(fx.app.url(&path)).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let mut cases: Vec<(String, u16, Option<&str>)> = Vec::new();
    match route.path {
        "/verify" => {
            cases.push(("/verify".into(), 200, None));
            cases.push((format!("/verify?number={}", public_cert), 200, Some(PUBLIC_HOLDER)));
        }
        "/verify/{number}" => {
            cases.push((format!("/verify/{}", public_cert), 200, Some(PUBLIC_HOLDER)));
            cases.push(("/verify/C-0000-0000-0000-0".into(), 404, None));
        }
        "/register" => cases.push(("/register?q=publicholder".into(), 200, Some(public_lic.as_str()))),
        "/api/v1/public/certificates/{number}" => {
            cases.push((format!("/api/v1/public/certificates/{}", public_cert), 200, Some(PUBLIC_HOLDER)));
            cases.push(("/api/v1/public/certificates/C-0000-0000-0000-0".into(), 404, None));
        }
        "/api/v1/public/licences" => {
            cases.push(("/api/v1/public/licences?q=publicholder".into(), 200, Some(public_lic.as_str())));
        }
        p => f.check(false, || format!("no public check for {p}")),
    }
    for (path, want, shows) in cases {
        // With the caller's credentials where the caller has some; the answer is the same.
        let (s, body) = match who {
            Some(w) if path.starts_with("/api/") => {
                let r = fx.api.get(fx.app.url(&path)).bearer_auth(fx.token(w)).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
            _ => get(path.clone()).await,
        };
        f.status(at(&path), s, want, &body);
        if let Some(text) = shows {
            f.check(body.contains(text), || format!("{}: {text:?} not shown", at(&path)));
        }
        // Nothing of the fixture's workers, and not the holder's phone number or national ID.
        for w in W::ALL {
            let spec = w.spec();
            for secret in [spec.name_latin, spec.national_id, spec.phone] {
                f.check(!body.contains(secret), || format!("{}: shows {secret:?}", at(&path)));
            }
        }
        for secret in [HOLDER_NATIONAL_ID, HOLDER_PHONE] {
            f.check(!body.contains(secret), || format!("{}: shows the holder's {secret:?}", at(&path)));
        }
    }
    fx.remove_worker(holder).await;
}

const HOLDER_NATIONAL_ID: &str = "NIDPH0005";
const HOLDER_PHONE: &str = "012 500 005";

/// A worker who is none of the fixture's (so in no caller's secrets), with a certificate and a
/// licence; removed after each public check. (worker id, certificate number, licence number)
async fn public_holder(fx: &Fx) -> (i64, String, String) {
    use komlang_core::training::{AttendanceInput, DecisionInput};
    let s = &fx.app.db.store;
    let mut input = worker_input("ភាព សាធារណៈ", PUBLIC_HOLDER, "020101", None);
    input.national_id = Some(HOLDER_NATIONAL_ID.into());
    input.phone = Some(HOLDER_PHONE.into());
    let id = s.create_worker(&sys(), &input, today()).await.unwrap().id;
    s.add_participants(&sys(), fx.tr.e2, &[id]).await.unwrap();
    let pass = AttendanceInput { result: "passed".into(), ..Default::default() };
    s.record_attendance(&sys(), fx.tr.e2, id, &pass, None).await.unwrap();
    let cert = s.issue_certificate(&sys(), id, fx.tr.vc, today()).await.unwrap().number;
    let l = s.apply_licence(&sys(), id, None, today()).await.unwrap();
    let approve = DecisionInput { action: "approve".into(), reason: None };
    let lic = s.decide_licence(&sys(), l.id, &approve, today(), None).await.unwrap().number.unwrap();
    (id, cert, lic)
}

// ---------------------------------------------------------------------------
// Accounts: an account's own password; the accounts of the system
// ---------------------------------------------------------------------------

/// The account the national administrator's checks of the accounts pages and API act on
/// (created on first use), with a token of its own: the matrix's accounts stay untouched.
async fn spare_account(fx: &Fx) -> (i64, i64) {
    let store = &fx.app.db.store;
    let id = match store.user_by_name("spare").await.unwrap() {
        Some(u) => u.id,
        None => {
            let u = komlang_store::NewUser {
                username: "spare".into(),
                password: common::PASSWORD.into(),
                role: UserRole::NationalViewer,
                scope_code: None,
                org_id: None,
                worker_id: None,
            };
            store.create_user(&sys(), &u).await.unwrap().id
        }
    };
    store.set_active(&sys(), id, true).await.unwrap();
    let token = store.issue_token(&sys(), id, &komlang_store::NewToken::default()).await.unwrap();
    (id, token.info.id)
}

async fn own_password_page(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    match route.method {
        "GET" => {
            let r = fx.page(f, c, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), r.status, 200, "");
        }
        _ => {
            // Every role changes its own password; a wrong current password is refused, and
            // so is a form without the session's CSRF token (nothing changes: the matrix
            // signs in with the same password throughout).
            let form = |csrf: &str| -> Vec<(String, String)> {
                vec![
                    ("current".into(), "not the password".into()),
                    ("password".into(), "another password".into()),
                    ("confirm".into(), "another password".into()),
                    ("csrf".into(), csrf.into()),
                ]
            };
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form(csrf))).await;
            f.status(at("/account/password (wrong current password)"), r.status, 422, "");
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form(&"0".repeat(48)))).await;
            f.status(at("/account/password (wrong CSRF)"), r.status, 403, "");
        }
    }
}

async fn accounts_page(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let store = &fx.app.db.store;
    let (spare, token) = spare_account(fx).await;
    let admin = who == Who::Admin;
    let path = route.path.replace("{id}", &spare.to_string()).replace("{token_id}", &token.to_string());
    let with_csrf = |mut form: Vec<(String, String)>| {
        form.push(("csrf".into(), csrf.to_string()));
        form
    };
    if route.method == "GET" {
        let r = fx.page(f, c, Some(who), "GET", &path, None).await;
        f.status(at(&path), r.status, if admin { 200 } else { 403 }, "");
        if admin {
            f.check(r.body.contains("spare"), || format!("{}: the spare account is not shown", at(&path)));
        }
        if route.path.contains("{id}") {
            let r = fx.page(f, c, Some(who), "GET", "/accounts/999999", None).await;
            f.status(at("/accounts/999999"), r.status, if admin { 404 } else { 403 }, "");
        }
        return;
    }
    let form = match route.path {
        "/accounts/{id}/password" => {
            vec![("password".into(), "spare password".into()), ("confirm".into(), "spare password".into())]
        }
        "/accounts/{id}/tokens" => vec![("label".into(), "matrix".into()), ("expires".into(), "7d".into())],
        _ => Vec::new(),
    };
    let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(form.clone()))).await;
    let ok = if route.path == "/accounts/{id}/tokens" { 200 } else { 303 };
    f.status(at(&path), r.status, if admin { ok } else { 403 }, "");
    // A forged form (without the session's token) is refused, even to administrators.
    let mut forged = form;
    forged.push(("csrf".into(), "0".repeat(48)));
    let r = fx.page(f, c, Some(who), "POST", &path, Some(&forged)).await;
    f.status(format!("{} (wrong CSRF)", at(&path)), r.status, 403, "");
    let u = store.user_by_name("spare").await.unwrap().unwrap();
    let tokens = store.tokens_of(&sys(), spare).await.unwrap();
    let revoked = tokens.iter().find(|t| t.id == token).map(|t| t.revoked_at.is_some());
    match route.path {
        "/accounts/{id}/disable" => f.check(u.active != admin, || format!("{}: active = {}", at(&path), u.active)),
        "/accounts/{id}/tokens/{token_id}/revoke" | "/accounts/{id}/tokens/revoke" => {
            f.check(revoked == Some(admin), || format!("{}: token revoked = {revoked:?}", at(&path)));
        }
        _ => {}
    }
    // The administrator's own account cannot be disabled (422); unknown accounts are 404.
    if route.path == "/accounts/{id}/disable" && admin {
        let me = store.user_by_name("admin").await.unwrap().unwrap().id;
        let own = format!("/accounts/{me}/disable");
        let r = fx.page(f, c, Some(who), "POST", &own, Some(&with_csrf(Vec::new()))).await;
        f.status(at(&own), r.status, 422, "");
    }
    if route.path == "/accounts/{id}/tokens/{token_id}/revoke" {
        let unknown = format!("/accounts/{spare}/tokens/999999/revoke");
        let r = fx.page(f, c, Some(who), "POST", &unknown, Some(&with_csrf(Vec::new()))).await;
        f.status(at(&unknown), r.status, if admin { 404 } else { 403 }, "");
    }
    store.set_active(&sys(), spare, true).await.unwrap();
}

async fn accounts_api(fx: &Fx, f: &mut Failures, who: Who, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let store = &fx.app.db.store;
    let (spare, token) = spare_account(fx).await;
    let admin = who == Who::Admin;
    let path = route.path.replace("{id}", &spare.to_string()).replace("{token_id}", &token.to_string());
    let body = (route.method == "POST" && route.path.ends_with("/tokens")).then(|| json!({"label": "matrix"}));
    let (s, v) = fx.call(f, Some(who), route.method, &path, body.as_ref()).await;
    let ok = if body.is_some() { 201 } else { 200 };
    f.status(at(&path), s, if admin { ok } else { 403 }, &v);
    if !admin {
        f.check(v["error"] == "forbidden", || format!("{}: {v}", at(&path)));
    }
    if route.path.contains("{id}") {
        let unknown = route.path.replace("{id}", "999999").replace("{token_id}", &token.to_string());
        let (s, v) = fx.call(f, Some(who), route.method, &unknown, body.as_ref()).await;
        f.status(at(&unknown), s, if admin { 404 } else { 403 }, &v);
    }
    let u = store.user_by_name("spare").await.unwrap().unwrap();
    match route.path {
        "/api/v1/accounts/{id}/disable" => {
            f.check(u.active != admin, || format!("{}: active = {}", at(&path), u.active));
        }
        "/api/v1/accounts/{id}/tokens" if route.method == "GET" && admin => {
            f.check(v.as_array().is_some_and(|a| a.iter().any(|t| t["id"] == token)), || format!("{}: {v}", at(&path)));
        }
        _ => {}
    }
    store.set_active(&sys(), spare, true).await.unwrap();
}

/// Whether the OpenAPI document lists `status` for the operation serving `method path` (a
/// path outside the API, or served by no operation, is not the document's).
fn documented(method: &str, path: &str, status: u16) -> bool {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let doc = DOC.get_or_init(|| serde_json::to_value(komlang_web::openapi::document()).unwrap());
    let path = path.split('?').next().unwrap_or(path);
    if !path.starts_with("/api/") || path == komlang_web::openapi::DOCUMENT_PATH {
        return true;
    }
    let method = method.to_lowercase();
    let segments: Vec<&str> = path.split('/').collect();
    let serving = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(template, item)| {
            let t: Vec<&str> = template.split('/').collect();
            item[&method].is_object()
                && t.len() == segments.len()
                && t.iter().zip(&segments).all(|(t, s)| t.starts_with('{') || t == s)
        })
        .max_by_key(|(template, _)| template.split('/').filter(|t| !t.starts_with('{')).count());
    serving.is_none_or(|(_, item)| item[&method]["responses"][status.to_string()].is_object())
}

// ---------------------------------------------------------------------------
// The establishment
// ---------------------------------------------------------------------------

/// A post approved by the national administrator at `unit` (2024, vacant).
async fn new_post(fx: &Fx, unit: &str) -> i64 {
    let n = komlang_store::establishment::NewPosts {
        admin_code: unit.into(),
        org_id: None,
        cadre: komlang_core::Cadre::ParaProfessional,
        role: komlang_core::WorkerRole::DistrictSocialWorker,
        funding: komlang_core::establishment::FundingSource::MosvyPayroll,
        approved_year: 2024,
        count: 1,
        note: None,
    };
    fx.app.db.store.create_posts(&sys(), &n).await.unwrap()[0]
}

/// A post at W3's workplace (district 0103: province 01, not district 0102), filled by W3 when
/// `filled`, after W3 leaves any post they fill.
async fn w3_post(fx: &Fx, filled: bool) -> i64 {
    let store = &fx.app.db.store;
    let id = new_post(fx, W::W3.spec().workplace).await;
    free_w3(fx).await;
    if filled {
        store.fill_post(&sys(), id, fx.wid(W::W3), today(), None).await.unwrap();
    }
    id
}

/// W3 fills no post.
async fn free_w3(fx: &Fx) {
    let store = &fx.app.db.store;
    let q = komlang_store::establishment::PostQuery {
        unit: Some(W::W3.spec().workplace.into()),
        year: 2026,
        state: Some(komlang_store::establishment::PostState::Filled),
        page: 1,
        per_page: 500,
        ..Default::default()
    };
    for p in store.posts(&sys(), &q).await.unwrap().items {
        store.vacate_post(&sys(), p.id, today(), None).await.unwrap();
    }
}

/// Status of a change of a post at W3's workplace (province 01, outside district 0102).
fn on_w3_post(who: Who, ok: u16) -> u16 {
    match who {
        Who::Admin | Who::Prov => ok,
        Who::Dist => 404,
        _ => 403,
    }
}

fn keeps_establishment(who: Who, ok: u16) -> u16 {
    if who == Who::Admin {
        ok
    } else {
        403
    }
}

async fn establishment_api(fx: &Fx, f: &mut Failures, who: Who, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let read = |ok: u16| if reads_planning(who) { ok } else { 403 };
    match (route.method, route.path) {
        ("GET", "/api/v1/establishment") => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/establishment?level=district&year=2026", None).await;
            f.status(at(route.path), s, read(200), &v);
            if s == 200 {
                let units: Vec<&str> =
                    v["items"].as_array().unwrap().iter().filter_map(|x| x["unit"].as_str()).collect();
                let inside = |u: &str| match who {
                    Who::Prov => u.starts_with("01"),
                    Who::Dist => u == "0102",
                    _ => true,
                };
                f.check(units.iter().all(|u| inside(u)) && !units.is_empty(), || {
                    format!("{}: units {units:?}", at(route.path))
                });
            }
            let path = "/api/v1/establishment?level=district&parent=02";
            let (s, v) = fx.call(f, Some(who), "GET", path, None).await;
            f.status(at(path), s, on_national_only(who), &v);
        }
        ("GET", "/api/v1/establishment/years") | ("GET", "/api/v1/establishment/records") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, read(200), &v);
        }
        ("POST", "/api/v1/establishment/records") => {
            let body = json!({"admin_code": "01", "year": 2020, "approved": 40, "source": "permissions"});
            let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
            f.status(at(route.path), s, keeps_establishment(who, 200), &v);
        }
        ("GET", "/api/v1/establishment/posts") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, read(200), &v);
            let path = "/api/v1/establishment/posts?unit=02";
            let (s, v) = fx.call(f, Some(who), "GET", path, None).await;
            f.status(at(path), s, on_national_only(who), &v);
        }
        ("POST", "/api/v1/establishment/posts") => {
            let body = json!({"admin_code": "0102", "cadre": "para_professional", "role": "district_social_worker",
                "funding": "mosvy_payroll", "approved_year": 2026, "count": 2});
            let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
            f.status(at(route.path), s, keeps_establishment(who, 201), &v);
        }
        ("GET", "/api/v1/establishment/posts/{id}") => {
            let id = w3_post(fx, false).await;
            let path = format!("/api/v1/establishment/posts/{id}");
            let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
            let want = match who {
                Who::Admin | Who::Viewer | Who::Prov => 200,
                Who::Dist => 404,
                _ => 403,
            };
            f.status(at(&path), s, want, &v);
            let other = new_post(fx, "0201").await;
            let path = format!("/api/v1/establishment/posts/{other}");
            let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
            f.status(at(&path), s, on_national_only(who), &v);
        }
        ("POST", "/api/v1/establishment/posts/{id}/fill") => {
            let id = w3_post(fx, false).await;
            let path = format!("/api/v1/establishment/posts/{id}/fill");
            let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&json!({"worker_id": fx.wid(W::W3)}))).await;
            f.status(at(&path), s, on_w3_post(who, 200), &v);
            free_w3(fx).await;
        }
        ("POST", "/api/v1/establishment/posts/{id}/vacate") => {
            let id = w3_post(fx, true).await;
            let path = format!("/api/v1/establishment/posts/{id}/vacate");
            let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&json!({}))).await;
            f.status(at(&path), s, on_w3_post(who, 200), &v);
            free_w3(fx).await;
        }
        ("POST", "/api/v1/establishment/posts/{id}/end") => {
            let id = w3_post(fx, false).await;
            let path = format!("/api/v1/establishment/posts/{id}/end");
            let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&json!({"year": 2030}))).await;
            f.status(at(&path), s, keeps_establishment(who, 200), &v);
        }
        ("POST", "/api/v1/planning/plans/{id}/approve") => {
            let id = prov_plan(fx).await;
            let path = format!("/api/v1/planning/plans/{id}/approve");
            let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&json!({"funding": "mosvy_payroll"}))).await;
            f.status(at(&path), s, keeps_establishment(who, 201), &v);
        }
        other => f.check(false, || format!("establishment_api does not check {other:?}")),
    }
}

async fn establishment_page(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let with_csrf = |pairs: &[(&str, String)]| {
        let mut form: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        form.push(("csrf".into(), csrf.to_string()));
        form
    };
    let read = |ok: u16| if reads_planning(who) { ok } else { 403 };
    match (route.method, route.path) {
        ("GET", "/establishment") | ("GET", "/establishment/export") => {
            let r = fx.page(f, c, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), r.status, read(200), "");
            let path = format!("{}?parent=02", route.path);
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(&path), r.status, on_national_only(who), "");
        }
        ("GET", "/establishment/posts") => {
            let r = fx.page(f, c, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), r.status, read(200), "");
            let r = fx.page(f, c, Some(who), "GET", "/establishment/posts?unit=02", None).await;
            f.status(at("/establishment/posts?unit=02"), r.status, on_national_only(who), "");
        }
        ("POST", "/establishment/records") => {
            let form = with_csrf(&[
                ("admin_code", "01".into()),
                ("year", "2021".into()),
                ("approved", "30".into()),
                ("source", "perm".into()),
            ]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form)).await;
            f.status(at(route.path), r.status, keeps_establishment(who, 303), "");
        }
        ("POST", "/establishment/posts") => {
            let form = with_csrf(&[
                ("admin_code", "0102".into()),
                ("cadre", "para_professional".into()),
                ("role", "district_social_worker".into()),
                ("funding", "mosvy_payroll".into()),
                ("approved_year", "2026".into()),
                ("count", "1".into()),
            ]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form)).await;
            f.status(at(route.path), r.status, keeps_establishment(who, 303), "");
        }
        ("POST", "/establishment/posts/{id}/fill") | ("POST", "/establishment/posts/{id}/vacate") => {
            let filling = route.path.ends_with("fill");
            let id = w3_post(fx, !filling).await;
            let path = route.path.replace("{id}", &id.to_string());
            let form = with_csrf(&[("worker_id", fx.wid(W::W3).to_string()), ("back", "/establishment/posts".into())]);
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
            f.status(at(&path), r.status, on_w3_post(who, 303), "");
            free_w3(fx).await;
        }
        ("POST", "/establishment/posts/{id}/end") => {
            let id = w3_post(fx, false).await;
            let path = route.path.replace("{id}", &id.to_string());
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(&[("year", "2030".into())]))).await;
            f.status(at(&path), r.status, keeps_establishment(who, 303), "");
        }
        ("GET", "/establishment/approve") => {
            let id = prov_plan(fx).await;
            let path = format!("/establishment/approve?plan={id}");
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(&path), r.status, keeps_establishment(who, 200), "");
        }
        ("POST", "/establishment/approve") => {
            let id = prov_plan(fx).await;
            let form = with_csrf(&[("plan", id.to_string()), ("funding", "mosvy_payroll".into())]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form)).await;
            f.status(at(route.path), r.status, keeps_establishment(who, 303), "");
        }
        other => f.check(false, || format!("establishment_page does not check {other:?}")),
    }
}

// ---------------------------------------------------------------------------
// Supervision
// ---------------------------------------------------------------------------

/// Reading a worker's supervision: a worker reads only their own (403 for anyone else's, seen
/// or not); others as they see the worker.
fn on_supervision_of(who: Who, w: W) -> u16 {
    match who {
        Who::SelfW1 => {
            if w == W::W1 {
                200
            } else {
                403
            }
        }
        _ if who.sees_worker(w) => 200,
        _ => 404,
    }
}

/// Setting W1's supervisor to W3 (province 01, district 0103, no employer): the district
/// officer and A's HR manager reach W1 but not W3.
fn on_w1_supervised_by_w3(who: Who, ok: u16) -> u16 {
    match who {
        Who::Admin | Who::Prov => ok,
        Who::Dist | Who::OrgHr => 422,
        Who::Viewer | Who::SelfW1 => 403,
    }
}

/// A session held by W3 with W1: the district officer and A's HR manager do not reach W3.
fn on_w3_session(who: Who, ok: u16) -> u16 {
    match who {
        Who::Admin | Who::Prov => ok,
        Who::Dist | Who::OrgHr => 404,
        Who::Viewer | Who::SelfW1 => 403,
    }
}

/// W1 supervised by W3 (set by the national administrator).
async fn w1_under_w3(fx: &Fx) {
    fx.app.db.store.assign_supervisor(&sys(), fx.wid(W::W1), fx.wid(W::W3), false, today()).await.unwrap();
}

/// Ending a supervision: whoever sets supervisors and reaches W1.
fn on_end_w1(who: Who, ok: u16) -> u16 {
    match who {
        Who::Viewer | Who::SelfW1 => 403,
        _ => ok,
    }
}

async fn supervision_api(fx: &Fx, f: &mut Failures, who: Who, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let sees_02 = |ok: u16| if matches!(who, Who::Prov | Who::Dist) { 404 } else { ok };
    match (route.method, route.path) {
        ("GET", "/api/v1/supervision/summary") => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/supervision/summary?level=district", None).await;
            f.status(at(route.path), s, 200, &v);
            let path = "/api/v1/supervision/summary?level=commune&parent=02";
            let (s, v) = fx.call(f, Some(who), "GET", path, None).await;
            f.status(at(path), s, sees_02(200), &v);
        }
        ("GET", "/api/v1/supervision/lists/{kind}") => {
            for kind in ["without_supervisor", "overdue", "over_ratio", "not_eligible"] {
                let path = format!("/api/v1/supervision/lists/{kind}");
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, 200, &v);
            }
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/supervision/lists/nope", None).await;
            f.status(at("/api/v1/supervision/lists/nope"), s, 400, &v);
            let path = "/api/v1/supervision/lists/without_supervisor?unit=02";
            let (s, v) = fx.call(f, Some(who), "GET", path, None).await;
            f.status(at(path), s, sees_02(200), &v);
        }
        ("GET", "/api/v1/supervision/norms") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, 200, &v);
        }
        ("PUT", "/api/v1/supervision/norms") => {
            let body = serde_json::to_value(komlang_core::supervision::SupervisionNorms::default()).unwrap();
            let (s, v) = fx.call(f, Some(who), "PUT", route.path, Some(&body)).await;
            f.status(at(route.path), s, if who == Who::Admin { 200 } else { 403 }, &v);
        }
        ("GET", "/api/v1/workers/{id}/supervision") => {
            for w in [W::W1, W::W2] {
                let path = format!("/api/v1/workers/{}/supervision", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, on_supervision_of(who, w), &v);
            }
        }
        ("PUT", "/api/v1/workers/{id}/supervision") => {
            let body = json!({"supervisor_id": fx.wid(W::W3)});
            let path = format!("/api/v1/workers/{}/supervision", fx.wid(W::W1));
            let (s, v) = fx.call(f, Some(who), "PUT", &path, Some(&body)).await;
            f.status(at(&path), s, on_w1_supervised_by_w3(who, 200), &v);
            let path = format!("/api/v1/workers/{}/supervision", fx.wid(W::W2));
            let (s, v) = fx.call(f, Some(who), "PUT", &path, Some(&body)).await;
            let want = match who {
                Who::Admin => 200,
                Who::Viewer | Who::SelfW1 => 403,
                _ => 404,
            };
            f.status(at(&path), s, want, &v);
        }
        ("DELETE", "/api/v1/workers/{id}/supervision") => {
            w1_under_w3(fx).await;
            let path = format!("/api/v1/workers/{}/supervision", fx.wid(W::W1));
            let (s, v) = fx.call(f, Some(who), "DELETE", &path, None).await;
            f.status(at(&path), s, on_end_w1(who, 204), &v);
        }
        ("POST", "/api/v1/supervision/sessions") => {
            w1_under_w3(fx).await;
            let body = json!({"supervisor_id": fx.wid(W::W3), "held_on": today().to_string(), "model": "individual",
                "functions": ["supportive"], "supervisee_ids": [fx.wid(W::W1)]});
            let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
            f.status(at(route.path), s, on_w3_session(who, 201), &v);
        }
        other => f.check(false, || format!("supervision_api does not check {other:?}")),
    }
}

async fn supervision_page(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let with_csrf = |pairs: &[(&str, String)]| {
        let mut form: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        form.push(("csrf".into(), csrf.to_string()));
        form
    };
    let w1 = fx.wid(W::W1);
    match (route.method, route.path) {
        ("GET", "/supervision") | ("GET", "/supervision/list") | ("GET", "/supervision/export") => {
            let r = fx.page(f, c, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), r.status, 200, "");
            let path = match route.path {
                "/supervision" => "/supervision?parent=02",
                "/supervision/export" => "/supervision/export?format=xlsx&parent=02",
                _ => "/supervision/list?unit=02",
            };
            let r = fx.page(f, c, Some(who), "GET", path, None).await;
            f.status(at(path), r.status, if matches!(who, Who::Prov | Who::Dist) { 404 } else { 200 }, "");
        }
        ("POST", "/supervision/norms") => {
            let form = with_csrf(&[
                ("dedicated_ratio", "10".into()),
                ("other_ratio", "6".into()),
                ("years_required", "5".into()),
                ("years_required_community", "3".into()),
                ("overdue_days", "90".into()),
                ("qualified_cadres", "professional_social_worker".into()),
            ]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form)).await;
            f.status(at(route.path), r.status, if who == Who::Admin { 303 } else { 403 }, "");
        }
        ("GET", "/supervision/workers/{id}") => {
            for w in [W::W1, W::W2] {
                let path = format!("/supervision/workers/{}", fx.wid(w));
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, on_supervision_of(who, w), "");
            }
        }
        ("POST", "/supervision/workers/{id}/supervisor") => {
            let path = format!("/supervision/workers/{w1}/supervisor");
            let form = with_csrf(&[("supervisor_id", fx.wid(W::W3).to_string())]);
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
            f.status(at(&path), r.status, on_w1_supervised_by_w3(who, 303), "");
        }
        ("POST", "/supervision/workers/{id}/end") => {
            w1_under_w3(fx).await;
            let path = format!("/supervision/workers/{w1}/end");
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&with_csrf(&[]))).await;
            f.status(at(&path), r.status, on_end_w1(who, 303), "");
        }
        ("POST", "/supervision/workers/{id}/sessions") => {
            w1_under_w3(fx).await;
            let path = format!("/supervision/workers/{}/sessions", fx.wid(W::W3));
            let form = with_csrf(&[
                ("held_on", today().to_string()),
                ("model", "individual".into()),
                ("functions", "supportive".into()),
                ("supervisee_ids", w1.to_string()),
            ]);
            let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
            f.status(at(&path), r.status, on_w3_session(who, 303), "");
        }
        other => f.check(false, || format!("supervision_page does not check {other:?}")),
    }
}

// ---------------------------------------------------------------------------
// Costs
// ---------------------------------------------------------------------------

/// Cost data for every cadre (a scale row of grade G, no allowance), set by the administrator.
async fn cost_data(fx: &Fx) -> komlang_store::costs::CostData {
    let store = &fx.app.db.store;
    let data = komlang_store::costs::CostData {
        currencies: vec!["USD".into()],
        rates: vec![],
        scales: vec![komlang_core::costs::ScaleRow {
            grade: "G".into(),
            step: 1,
            effective_from: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            monthly: 250.0,
            currency: "USD".into(),
        }],
        allowances: vec![],
        cadres: komlang_core::Cadre::ALL
            .iter()
            .map(|c| komlang_core::costs::CadreCosting { cadre: *c, grade: "G".into(), step: 1, certificate: None })
            .collect(),
        training: vec![],
    };
    store.set_cost_data(&sys(), &data).await.unwrap()
}

async fn costs_api(fx: &Fx, f: &mut Failures, who: Who, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let read = |ok: u16| if reads_planning(who) { ok } else { 403 };
    let data = cost_data(fx).await;
    match (route.method, route.path) {
        ("GET", "/api/v1/costs") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, read(200), &v);
        }
        ("PUT", "/api/v1/costs") => {
            let body = serde_json::to_value(&data).unwrap();
            let (s, v) = fx.call(f, Some(who), "PUT", route.path, Some(&body)).await;
            f.status(at(route.path), s, if who == Who::Admin { 200 } else { 403 }, &v);
        }
        ("GET", "/api/v1/costs/workforce") => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/costs/workforce?level=district", None).await;
            f.status(at(route.path), s, read(200), &v);
            if s == 200 {
                let units: Vec<&str> =
                    v["by_unit"].as_array().unwrap().iter().filter_map(|g| g["key"].as_str()).collect();
                let inside = |u: &str| match who {
                    Who::Prov => u.starts_with("01"),
                    Who::Dist => u == "0102",
                    _ => true,
                };
                f.check(units.iter().all(|u| inside(u)), || format!("{}: units {units:?}", at(route.path)));
            }
        }
        ("GET", "/api/v1/planning/plans/{id}/cost") => {
            let id = prov_plan(fx).await;
            let path = format!("/api/v1/planning/plans/{id}/cost");
            let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
            f.status(at(&path), s, on_prov_plan(who), &v);
        }
        ("GET", "/api/v1/workers/{id}/ranks") => {
            for w in [W::W1, W::W2] {
                let path = format!("/api/v1/workers/{}/ranks", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, if who.sees_worker(w) { 200 } else { 404 }, &v);
            }
        }
        ("POST", "/api/v1/workers/{id}/ranks") => {
            let body = json!({"grade": "G", "step": 1, "from_date": "2024-01-01"});
            for w in [W::W1, W::W2] {
                let path = format!("/api/v1/workers/{}/ranks", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&body)).await;
                let want = match who {
                    Who::Viewer | Who::SelfW1 => 403,
                    _ if who.sees_worker(w) => 201,
                    _ => 404,
                };
                f.status(at(&path), s, want, &v);
            }
        }
        other => f.check(false, || format!("costs_api does not check {other:?}")),
    }
}

async fn costs_page(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let read = |ok: u16| if reads_planning(who) { ok } else { 403 };
    cost_data(fx).await;
    match (route.method, route.path) {
        ("GET", "/costs") => {
            let r = fx.page(f, c, Some(who), "GET", "/costs?level=district", None).await;
            f.status(at(route.path), r.status, read(200), "");
        }
        ("GET", "/costs/export") => {
            let r = fx.page(f, c, Some(who), "GET", "/costs/export?format=csv&level=district", None).await;
            f.status(at(route.path), r.status, read(200), "");
        }
        ("GET", "/costs/plans") => {
            let id = prov_plan(fx).await;
            let path = format!("/costs/plans?a={id}");
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(&path), r.status, read(200), "");
        }
        ("POST", "/costs/rows") => {
            let form: Vec<(String, String)> =
                [("kind", "rate"), ("currency", "KHR"), ("year", "2026"), ("per_usd", "4000")]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .chain(std::iter::once(("csrf".to_string(), csrf.to_string())))
                    .collect();
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form)).await;
            f.status(at(route.path), r.status, if who == Who::Admin { 303 } else { 403 }, "");
        }
        ("POST", "/workers/{id}/ranks") => {
            for w in [W::W1, W::W2] {
                let path = format!("/workers/{}/ranks", fx.wid(w));
                let form: Vec<(String, String)> = [("grade", "G"), ("step", "1"), ("from_date", "2024-01-01")]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .chain(std::iter::once(("csrf".to_string(), csrf.to_string())))
                    .collect();
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&form)).await;
                let want = match who {
                    Who::Viewer | Who::SelfW1 => 403,
                    _ if who.sees_worker(w) => 303,
                    _ => 404,
                };
                f.status(at(&path), r.status, want, "");
            }
        }
        other => f.check(false, || format!("costs_page does not check {other:?}")),
    }
}

// ---------------------------------------------------------------------------
// Retention
// ---------------------------------------------------------------------------

/// Giving the reason W1 or W2 left (neither has: 422 `not_separated` to whoever may change the
/// record and sees it).
fn on_exit_reason(who: Who, w: W, refused: u16) -> u16 {
    match who {
        Who::Viewer | Who::SelfW1 => 403,
        _ if who.sees_worker(w) => refused,
        _ => 404,
    }
}

async fn retention_api(fx: &Fx, f: &mut Failures, who: Who, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let read = |ok: u16| if reads_planning(who) { ok } else { 403 };
    let admin = |ok: u16| if who == Who::Admin { ok } else { 403 };
    match (route.method, route.path) {
        ("GET", "/api/v1/retention/turnover")
        | ("GET", "/api/v1/retention/survival")
        | ("GET", "/api/v1/retention/ccwc-term") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, read(200), &v);
        }
        ("PUT", "/api/v1/retention/ccwc-term") => {
            let (s, v) = fx.call(f, Some(who), "PUT", route.path, Some(&json!({"term_end": "2027-06-30"}))).await;
            f.status(at(route.path), s, admin(200), &v);
        }
        ("GET", "/api/v1/retention/reasons") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, 200, &v);
        }
        ("POST", "/api/v1/retention/reasons") => {
            let body = json!({"code": format!("perm_{}", who.username().replace('-', "_")), "name_en": "Permission"});
            let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
            f.status(at(route.path), s, admin(201), &v);
        }
        ("PUT", "/api/v1/workers/{id}/exit-reason") => {
            for w in [W::W1, W::W2] {
                let path = format!("/api/v1/workers/{}/exit-reason", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "PUT", &path, Some(&json!({"reason": "resigned"}))).await;
                f.status(at(&path), s, on_exit_reason(who, w, 422), &v);
            }
        }
        other => f.check(false, || format!("retention_api does not check {other:?}")),
    }
}

async fn retention_page(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let form = |pairs: &[(&str, &str)]| {
        let mut v: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        v.push(("csrf".into(), csrf.to_string()));
        v
    };
    let admin = |ok: u16| if who == Who::Admin { ok } else { 403 };
    match (route.method, route.path) {
        ("GET", "/retention") | ("GET", "/retention/export") => {
            let path = format!("{}?by=province&format=csv", route.path);
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(route.path), r.status, if reads_planning(who) { 200 } else { 403 }, "");
        }
        ("POST", "/retention/reasons") => {
            let code = format!("page_{}", who.username().replace('-', "_"));
            let r = fx
                .page(f, c, Some(who), "POST", route.path, Some(&form(&[("code", &code), ("name_en", "Page")])))
                .await;
            f.status(at(route.path), r.status, admin(303), "");
        }
        ("POST", "/retention/ccwc-term") => {
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&form(&[("term_end", "2027-06-30")]))).await;
            f.status(at(route.path), r.status, admin(303), "");
        }
        ("POST", "/workers/{id}/exit-reason") => {
            for w in [W::W1, W::W2] {
                let path = format!("/workers/{}/exit-reason", fx.wid(w));
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&form(&[("reason", "resigned")]))).await;
                f.status(at(&path), r.status, on_exit_reason(who, w, 303), "");
            }
        }
        other => f.check(false, || format!("retention_page does not check {other:?}")),
    }
}

/// Links case system users to workers: national administrators, and the officers for the
/// workers in their scope.
fn links_case_owners(who: Who) -> bool {
    matches!(who, Who::Admin | Who::Prov | Who::Dist)
}

/// A Primero case list of one case held by `owner`.
fn case_list(owner: &str) -> Vec<u8> {
    format!("case_id_display,name,status,owned_by,location_current\nPERM-{owner},Secret Child,open,{owner},010201\n")
        .into_bytes()
}

async fn caseloads_api(fx: &Fx, f: &mut Failures, who: Who, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let read = |ok: u16| if reads_planning(who) { ok } else { 403 };
    let link = |ok: u16| if links_case_owners(who) { ok } else { 403 };
    let admin = |ok: u16| if who == Who::Admin { ok } else { 403 };
    let owner = format!("api_{}", who.username().replace('-', "_"));
    match (route.method, route.path) {
        ("GET", "/api/v1/caseloads")
        | ("GET", "/api/v1/caseloads/snapshots")
        | ("GET", "/api/v1/caseloads/over-threshold")
        | ("GET", "/api/v1/caseloads/reassignment")
        | ("GET", "/api/v1/caseloads/thresholds") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, read(200), &v);
            if route.path == "/api/v1/caseloads/reassignment" {
                let path = "/api/v1/caseloads/reassignment?parent=02";
                let (s, v) = fx.call(f, Some(who), "GET", path, None).await;
                f.status(at(path), s, on_national_only(who), &v);
            }
        }
        ("POST", "/api/v1/caseloads/import") => {
            let path = "/api/v1/caseloads/import?source=primero&as_of=2026-01-02";
            let r = fx
                .api
                .post(fx.app.url(path))
                .bearer_auth(fx.token(who))
                .header("content-type", "text/csv")
                .body(case_list(&owner))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            f.check(documented("POST", route.path, status), || format!("{}: {status} not documented", at(path)));
            f.check(!text.contains("Secret Child"), || format!("{}: echoes a column not mapped: {text}", at(path)));
            f.status(at(path), status, admin(200), &text);
        }
        ("GET", "/api/v1/caseloads/owners") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, link(200), &v);
        }
        ("PUT", "/api/v1/caseloads/owners") => {
            for w in [W::W1, W::W2] {
                let body = json!({"source": "primero", "owner": format!("{owner}_{w:?}"), "worker_id": fx.wid(w)});
                let (s, v) = fx.call(f, Some(who), "PUT", route.path, Some(&body)).await;
                let want = if !links_case_owners(who) {
                    403
                } else if who.sees_worker(w) {
                    204
                } else {
                    422
                };
                f.status(format!("{} ({w:?})", at(route.path)), s, want, &v);
            }
        }
        ("DELETE", "/api/v1/caseloads/owners") => {
            // A link of the caller's own (set by the national administrator, to W1), then unlinked.
            let mine = format!("{owner}_del");
            let body = json!({"source": "primero", "owner": mine, "worker_id": fx.wid(W::W1)});
            let (s, v) = fx.call(f, Some(Who::Admin), "PUT", route.path, Some(&body)).await;
            f.check(s == 204, || format!("{}: the link to remove: {s} {v}", at("PUT")));
            let path = format!("{}?source=primero&owner={mine}", route.path);
            let (s, v) = fx.call(f, Some(who), "DELETE", &path, None).await;
            f.status(at(&path), s, if who.sees_worker(W::W1) { link(204) } else { link(404) }, &v);
        }
        ("PUT", "/api/v1/caseloads/thresholds") => {
            let body = json!({"role": "ccwc_focal_point", "max_open": 20});
            let (s, v) = fx.call(f, Some(who), "PUT", route.path, Some(&body)).await;
            f.status(at(route.path), s, admin(200), &v);
        }
        ("GET", "/api/v1/workers/{id}/caseload") => {
            for w in W::ALL {
                let path = format!("/api/v1/workers/{}/caseload", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, if who.sees_worker(w) { 200 } else { 404 }, &v);
            }
        }
        other => f.check(false, || format!("caseloads_api does not check {other:?}")),
    }
}

async fn caseloads_page(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let form = |pairs: &[(&str, &str)]| {
        let mut v: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        v.push(("csrf".into(), csrf.to_string()));
        v
    };
    let link = |ok: u16| if links_case_owners(who) { ok } else { 403 };
    let admin = |ok: u16| if who == Who::Admin { ok } else { 403 };
    let owner = format!("page_{}", who.username().replace('-', "_"));
    match (route.method, route.path) {
        ("GET", "/caseloads/reassignment") => {
            let r = fx.page(f, c, Some(who), "GET", "/caseloads/reassignment?level=commune", None).await;
            f.status(at(route.path), r.status, if reads_planning(who) { 200 } else { 403 }, "");
            let r = fx.page(f, c, Some(who), "GET", "/caseloads/reassignment?parent=02", None).await;
            f.status(at("/caseloads/reassignment?parent=02"), r.status, on_national_only(who), "");
        }
        ("GET", "/caseloads") | ("GET", "/caseloads/export") | ("GET", "/caseloads/import") => {
            let path = format!("{}?level=district&format=csv", route.path);
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            let ok = if route.path == "/caseloads/import" { 303 } else { 200 };
            f.status(at(route.path), r.status, if reads_planning(who) { ok } else { 403 }, "");
        }
        ("POST", "/caseloads/import") => {
            let part =
                reqwest::multipart::Part::bytes(case_list(&owner)).file_name("cases.csv").mime_str("text/csv").unwrap();
            let mp = reqwest::multipart::Form::new()
                .text("csrf", csrf.to_string())
                .text("source", "primero")
                .text("as_of", "2026-01-03")
                .part("file", part);
            let r = c.post(fx.app.url(route.path)).multipart(mp).send().await.unwrap();
            let status = r.status().as_u16();
            let to = r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            f.status(at(route.path), status, admin(303), "");
            if who == Who::Admin {
                // The page it leads to shows the import's outcome, and nothing of the columns not read.
                let r = fx.page(f, c, Some(who), "GET", &to, None).await;
                f.check(r.status == 200 && r.body.contains("caseload-outcome"), || format!("{}: {to}", at(route.path)));
                f.check(!r.body.contains("Secret Child"), || format!("{}: echoes a column not mapped", at(route.path)));
            }
        }
        ("GET", "/caseloads/owners") => {
            let r = fx.page(f, c, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), r.status, link(200), "");
        }
        ("POST", "/caseloads/owners") => {
            for w in [W::W1, W::W2] {
                let id = fx.wid(w).to_string();
                let name = format!("{owner}_{w:?}");
                let pairs = form(&[("source", "primero"), ("owner", &name), ("worker_id", &id)]);
                let r = fx.page(f, c, Some(who), "POST", route.path, Some(&pairs)).await;
                let want = if !links_case_owners(who) {
                    403
                } else if who.sees_worker(w) {
                    303
                } else {
                    422
                };
                f.status(format!("{} ({w:?})", at(route.path)), r.status, want, "");
            }
        }
        ("POST", "/caseloads/owners/unlink") => {
            let mine = format!("{owner}_unlink");
            let body = json!({"source": "primero", "owner": mine, "worker_id": fx.wid(W::W1)});
            let (s, v) = fx.call(f, Some(Who::Admin), "PUT", "/api/v1/caseloads/owners", Some(&body)).await;
            f.check(s == 204, || format!("{}: the link to remove: {s} {v}", at("PUT")));
            let pairs = form(&[("source", "primero"), ("owner", &mine)]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&pairs)).await;
            f.status(at(route.path), r.status, if who.sees_worker(W::W1) { link(303) } else { link(404) }, "");
        }
        ("POST", "/caseloads/thresholds") => {
            let pairs = form(&[("role", "ccwc_focal_point"), ("max_open", "18")]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&pairs)).await;
            f.status(at(route.path), r.status, admin(303), "");
        }
        other => f.check(false, || format!("caseloads_page does not check {other:?}")),
    }
}

/// The FHIR registry: each resource read, searched and listed in `_history` within the caller's
/// scope only (404 outside it, never 403), as the API's; the reference data to every account.
async fn fhir_api(fx: &Fx, f: &mut Failures, who: Who, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let refs = |bundle: &Value, field: &str| -> BTreeSet<String> {
        bundle["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| match field {
                "id" => e["resource"]["id"].as_str().map(str::to_string),
                _ => e["resource"][field]["reference"].as_str().map(|r| r.rsplit('/').next().unwrap().to_string()),
            })
            .collect()
    };
    match route.path {
        "/fhir/r4/metadata" | "/fhir/r4/CodeSystem" | "/fhir/r4/Location" | "/fhir/r4/Location/_history" => {
            let path = if route.path.ends_with("/metadata") {
                route.path.to_string()
            } else {
                format!("{}?_count=5", route.path)
            };
            let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
            f.status(at(&path), s, 200, &v);
        }
        "/fhir/r4/CodeSystem/{id}" | "/fhir/r4/Location/{id}" => {
            let path = route.path.replace("{id}", if route.path.contains("CodeSystem") { "cadre" } else { "0102" });
            let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
            f.status(at(&path), s, 200, &v);
        }
        "/fhir/r4/Practitioner" | "/fhir/r4/Practitioner/_history" => {
            let path = format!("{}?_count=500", route.path);
            let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
            f.status(at(&path), s, 200, &v);
            let listed = refs(&v, "id");
            for w in W::ALL {
                let shown = listed.contains(&fx.wid(w).to_string());
                f.check(shown == who.sees_worker(w), || format!("{}: {w:?} listed = {shown}", at(&path)));
            }
        }
        "/fhir/r4/Practitioner/{id}" => {
            for w in W::ALL {
                let path = format!("/fhir/r4/Practitioner/{}", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, if who.sees_worker(w) { 200 } else { 404 }, &v);
            }
        }
        "/fhir/r4/PractitionerRole" | "/fhir/r4/PractitionerRole/_history" => {
            let path = format!("{}?_count=500", route.path);
            let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
            f.status(at(&path), s, 200, &v);
            let of = refs(&v, "practitioner");
            for w in W::ALL {
                let shown = of.contains(&fx.wid(w).to_string());
                f.check(shown == who.sees_worker(w), || format!("{}: {w:?}'s postings listed = {shown}", at(&path)));
            }
        }
        "/fhir/r4/PractitionerRole/{id}" => {
            for w in W::ALL {
                let search = format!("/fhir/r4/PractitionerRole?practitioner={}", fx.wid(w));
                let (_, all) = fx.call(f, Some(Who::Admin), "GET", &search, None).await;
                let Some(id) = refs(&all, "id").into_iter().next() else {
                    f.check(false, || format!("{w:?} has no posting"));
                    continue;
                };
                let path = format!("/fhir/r4/PractitionerRole/{id}");
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, if who.sees_worker(w) { 200 } else { 404 }, &v);
            }
        }
        "/fhir/r4/Organization" | "/fhir/r4/Organization/_history" => {
            let path = route.path;
            let mut listed = BTreeSet::new();
            // Every page, by the next links (a history's pages go by key, not by offset).
            let mut next = Some(format!("{}?_count=500", route.path));
            while let Some(page) = next {
                let page = page.trim_start_matches(&fx.app.base).to_string();
                let (s, v) = fx.call(f, Some(who), "GET", &page, None).await;
                f.status(at(&page), s, 200, &v);
                if s != 200 {
                    break;
                }
                listed.extend(refs(&v, "id"));
                if route.path.ends_with("_history") {
                    for e in v["entry"].as_array().into_iter().flatten().filter(|e| e["resource"].is_null()) {
                        let url = e["request"]["url"].as_str().unwrap_or_default();
                        listed.insert(format!("deleted:{url}"));
                    }
                }
                next = v["link"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|l| l["relation"] == "next")
                    .and_then(|l| l["url"].as_str())
                    .map(str::to_string);
            }
            for o in O::ALL {
                let shown = listed.contains(&fx.oid(o).to_string());
                f.check(shown == who.sees_org(o), || format!("{}: {o:?} listed = {shown}", at(path)));
            }
        }
        "/fhir/r4/Organization/{id}" => {
            for o in O::ALL {
                let path = format!("/fhir/r4/Organization/{}", fx.oid(o));
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, if who.sees_org(o) { 200 } else { 404 }, &v);
            }
        }
        other => f.check(false, || format!("fhir_api does not check {other:?}")),
    }
}

/// The recruitment need: read by whoever reads planning, in their area (a unit outside it: 404);
/// its settings kept by national administrators only.
async fn recruitment_api(fx: &Fx, f: &mut Failures, who: Who, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let read = |ok: u16| if reads_planning(who) { ok } else { 403 };
    match (route.method, route.path) {
        ("GET", "/api/v1/recruitment/need") => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/recruitment/need?year=2027", None).await;
            f.status(at(route.path), s, read(200), &v);
            let path = "/api/v1/recruitment/need?year=2027&level=district&parent=02";
            let (s, v) = fx.call(f, Some(who), "GET", path, None).await;
            f.status(at(path), s, on_national_only(who), &v);
        }
        ("GET", "/api/v1/recruitment/settings") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, read(200), &v);
        }
        ("PUT", "/api/v1/recruitment/settings") => {
            let body = json!({"retirement_age": 60, "exit_rates": [{"cadre": "para_social_worker", "incapacity_per_1000": 2.0, "death_per_1000": 3.0}]});
            let (s, v) = fx.call(f, Some(who), "PUT", route.path, Some(&body)).await;
            f.status(at(route.path), s, if who == Who::Admin { 200 } else { 403 }, &v);
        }
        other => f.check(false, || format!("recruitment_api does not check {other:?}")),
    }
}

async fn recruitment_page(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let read = |ok: u16| if reads_planning(who) { ok } else { 403 };
    match (route.method, route.path) {
        ("GET", "/recruitment") | ("GET", "/recruitment/export") => {
            let path = format!("{}?year=2027&level=district&format=csv", route.path);
            let r = fx.page(f, c, Some(who), "GET", &path, None).await;
            f.status(at(&path), r.status, read(200), "");
            let outside = format!("{}?year=2027&level=district&parent=02&format=csv", route.path);
            let r = fx.page(f, c, Some(who), "GET", &outside, None).await;
            f.status(at(&outside), r.status, on_national_only(who), "");
        }
        ("POST", "/recruitment/settings") => {
            let pairs: Vec<(String, String)> = vec![
                ("csrf".into(), csrf.to_string()),
                ("retirement_age".into(), "60".into()),
                ("incapacity_para_social_worker".into(), "2".into()),
                ("death_para_social_worker".into(), "3".into()),
            ];
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&pairs)).await;
            f.status(at(route.path), r.status, if who == Who::Admin { 303 } else { 403 }, "");
        }
        other => f.check(false, || format!("recruitment_page does not check {other:?}")),
    }
}

/// A job description for the fixture's workers' role (all NGO case workers), loaded once.
async fn ngo_job_description(fx: &Fx) {
    let store = &fx.app.db.store;
    let loaded = store.job_descriptions(true).await.unwrap();
    if loaded.iter().any(|j| j.role == komlang_core::WorkerRole::NgoCaseWorker) {
        return;
    }
    let d = komlang_core::performance::JobDescriptionInput {
        role: komlang_core::WorkerRole::NgoCaseWorker,
        title_en: "NGO case worker".into(),
        title_km: "បុគ្គលិកករណី".into(),
        source: None,
        functions: vec![komlang_core::performance::KeyFunction {
            code: "cases".into(),
            name_en: "Manage cases".into(),
            name_km: "គ្រប់គ្រងករណី".into(),
            competencies: vec!["skills.02".into()],
        }],
    };
    store.load_job_descriptions(&sys(), &[d]).await.unwrap();
}

/// An open appraisal of the worker for `cycle` (started by the system when missing), with a
/// fresh corrective action not yet done: (appraisal, action).
async fn appraisal_of(fx: &Fx, w: W, cycle: &str) -> (i64, i64) {
    ngo_job_description(fx).await;
    let store = &fx.app.db.store;
    let id = match store
        .worker_appraisals(&sys(), fx.wid(w), today())
        .await
        .unwrap()
        .items
        .iter()
        .find(|a| a.cycle == cycle)
    {
        Some(a) => a.id,
        None => {
            let start = komlang_store::performance::StartAppraisal {
                cycle: cycle.into(),
                period_start: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                period_end: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
                form: komlang_core::performance::AppraisalForm::Formal,
            };
            store.start_appraisal(&sys(), fx.wid(w), &start, today()).await.unwrap().id
        }
    };
    let action = komlang_store::performance::ActionInput {
        kind: komlang_core::performance::ActionKind::Corrective,
        description: "Follow up".into(),
        competency_code: None,
        course_id: None,
        follow_up_on: Some(today() + chrono::Days::new(30)),
    };
    let a = store.add_appraisal_action(&sys(), id, &action, today()).await.unwrap();
    (id, a.actions.last().unwrap().id)
}

/// Reading a worker's appraisals: whoever sees the worker's record (the worker: their own);
/// elsewhere 404, as if there were none.
fn on_appraisals_of(who: Who, w: W) -> u16 {
    if who.sees_worker(w) {
        200
    } else {
        404
    }
}

/// Appraising a worker (`ok` the success status): an account whose scope holds the worker; not
/// the viewer (403), not the worker themself (403), nobody outside (404).
fn on_appraise(who: Who, w: W, ok: u16) -> u16 {
    match who {
        Who::Viewer => 403,
        Who::SelfW1 if w == W::W1 => 403,
        _ if who.sees_worker(w) => ok,
        _ => 404,
    }
}

/// The figures and lists: accounts whose scope holds workers; a worker's account 403.
fn on_appraisal_figures(who: Who, outside: bool) -> u16 {
    match who {
        Who::SelfW1 => 403,
        Who::Prov | Who::Dist if outside => 404,
        _ => 200,
    }
}

async fn appraisals_api(fx: &Fx, f: &mut Failures, who: Who, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let cycle = format!("{who:?}");
    match (route.method, route.path) {
        ("GET", "/api/v1/workers/{id}/appraisals") => {
            for w in [W::W1, W::W2] {
                appraisal_of(fx, w, "read").await;
                let path = format!("/api/v1/workers/{}/appraisals", fx.wid(w));
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, on_appraisals_of(who, w), &v);
                if s == 200 {
                    let items = v["items"].as_array().cloned().unwrap_or_default();
                    f.check(
                        items.iter().any(|i| {
                            i["cycle"] == "read"
                                && i["status"] == "open"
                                && i["id"].is_i64()
                                && i.get("overall").is_some()
                        }),
                        || format!("{}: the contract's items: {v}", at(&path)),
                    );
                }
            }
        }
        ("POST", "/api/v1/workers/{id}/appraisals") => {
            ngo_job_description(fx).await;
            for w in [W::W1, W::W2] {
                let path = format!("/api/v1/workers/{}/appraisals", fx.wid(w));
                let body =
                    json!({"cycle": cycle, "period_start": "2026-01-01", "period_end": "2026-06-30", "form": "formal"});
                let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&body)).await;
                f.status(at(&path), s, on_appraise(who, w, 201), &v);
            }
        }
        ("GET", "/api/v1/appraisals/summary") => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/appraisals/summary?level=district", None).await;
            f.status(at(route.path), s, on_appraisal_figures(who, false), &v);
            let path = "/api/v1/appraisals/summary?level=commune&parent=02";
            let (s, v) = fx.call(f, Some(who), "GET", path, None).await;
            f.status(at(path), s, on_appraisal_figures(who, true), &v);
        }
        ("GET", "/api/v1/appraisals/lists/{kind}") => {
            for kind in ["due", "overdue", "corrective"] {
                let path = format!("/api/v1/appraisals/lists/{kind}");
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, on_appraisal_figures(who, false), &v);
            }
            let path = "/api/v1/appraisals/lists/overdue?unit=02";
            let (s, v) = fx.call(f, Some(who), "GET", path, None).await;
            f.status(at(path), s, on_appraisal_figures(who, true), &v);
        }
        ("GET", "/api/v1/appraisals/settings") | ("GET", "/api/v1/job-descriptions") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, 200, &v);
        }
        ("PUT", "/api/v1/appraisals/settings") => {
            let body = json!({"cycle_months": 12, "due_within_days": 60});
            let (s, v) = fx.call(f, Some(who), "PUT", route.path, Some(&body)).await;
            f.status(at(route.path), s, if who == Who::Admin { 200 } else { 403 }, &v);
        }
        ("POST", "/api/v1/job-descriptions") => {
            let body = json!({"descriptions": [{"role": "mosvy_officer", "title_en": "Officer", "title_km": "មន្ត្រី",
                "functions": [{"code": "plan", "name_en": "Plan", "name_km": "ផែនការ"}]}]});
            let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
            f.status(at(route.path), s, if who == Who::Admin { 201 } else { 403 }, &v);
        }
        ("GET", "/api/v1/appraisals/{id}") => {
            for w in [W::W1, W::W2] {
                let (id, _) = appraisal_of(fx, w, "read").await;
                let path = format!("/api/v1/appraisals/{id}");
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, on_appraisals_of(who, w), &v);
            }
        }
        ("PUT", "/api/v1/appraisals/{id}") => {
            for w in [W::W1, W::W2] {
                let (id, _) = appraisal_of(fx, w, "update").await;
                let path = format!("/api/v1/appraisals/{id}");
                let body = json!({"ratings": [{"function": "cases", "rating": 3}]});
                let (s, v) = fx.call(f, Some(who), "PUT", &path, Some(&body)).await;
                f.status(at(&path), s, on_appraise(who, w, 200), &v);
            }
        }
        ("PUT", "/api/v1/appraisals/{id}/self") => {
            for w in [W::W1, W::W2] {
                let (id, _) = appraisal_of(fx, w, "self").await;
                let path = format!("/api/v1/appraisals/{id}/self");
                let body = json!({"ratings": [{"function": "cases", "rating": 4}], "comment": "mine"});
                let (s, v) = fx.call(f, Some(who), "PUT", &path, Some(&body)).await;
                let want = match who {
                    Who::SelfW1 if w == W::W1 => 200,
                    _ if who.sees_worker(w) => 403,
                    _ => 404,
                };
                f.status(at(&path), s, want, &v);
            }
        }
        ("POST", "/api/v1/appraisals/{id}/actions") => {
            for w in [W::W1, W::W2] {
                let (id, _) = appraisal_of(fx, w, "actions").await;
                let path = format!("/api/v1/appraisals/{id}/actions");
                let body = json!({"kind": "reward", "description": "Certificate of appreciation"});
                let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&body)).await;
                f.status(at(&path), s, on_appraise(who, w, 201), &v);
            }
        }
        ("POST", "/api/v1/appraisal-actions/{id}/done") => {
            for w in [W::W1, W::W2] {
                let (_, action) = appraisal_of(fx, w, "done").await;
                let path = format!("/api/v1/appraisal-actions/{action}/done");
                let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&json!({}))).await;
                f.status(at(&path), s, on_appraise(who, w, 200), &v);
            }
        }
        other => f.check(false, || format!("appraisals_api does not check {other:?}")),
    }
}

async fn appraisals_page(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        std::iter::once(("csrf".to_string(), csrf.to_string()))
            .chain(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .collect()
    };
    let posted = |ok: u16| if ok == 200 { 303 } else { ok };
    let cycle = format!("page-{who:?}");
    match (route.method, route.path) {
        ("GET", "/appraisals") => {
            let r = fx.page(f, c, Some(who), "GET", "/appraisals?level=district", None).await;
            f.status(at(route.path), r.status, if who == Who::SelfW1 { 303 } else { 200 }, "");
            let path = "/appraisals?level=commune&parent=02";
            let r = fx.page(f, c, Some(who), "GET", path, None).await;
            let want = if who == Who::SelfW1 { 303 } else { on_appraisal_figures(who, true) };
            f.status(at(path), r.status, want, "");
        }
        ("GET", "/appraisals/export") => {
            let r = fx.page(f, c, Some(who), "GET", "/appraisals/export?level=district&format=csv", None).await;
            f.status(at(route.path), r.status, on_appraisal_figures(who, false), "");
            let path = "/appraisals/export?level=commune&parent=02&format=csv";
            let r = fx.page(f, c, Some(who), "GET", path, None).await;
            f.status(at(path), r.status, on_appraisal_figures(who, true), "");
        }
        ("GET", "/appraisals/list") => {
            let r = fx.page(f, c, Some(who), "GET", "/appraisals/list?kind=overdue", None).await;
            f.status(at(route.path), r.status, on_appraisal_figures(who, false), "");
            let path = "/appraisals/list?kind=due&unit=02";
            let r = fx.page(f, c, Some(who), "GET", path, None).await;
            f.status(at(path), r.status, on_appraisal_figures(who, true), "");
        }
        ("POST", "/appraisals/settings") => {
            let pairs = form(&[("cycle_months", "12"), ("due_within_days", "60")]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&pairs)).await;
            f.status(at(route.path), r.status, if who == Who::Admin { 303 } else { 403 }, "");
        }
        ("GET", "/job-descriptions") => {
            let r = fx.page(f, c, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), r.status, 200, "");
        }
        ("GET", "/appraisals/workers/{id}") => {
            for w in [W::W1, W::W2] {
                let path = format!("/appraisals/workers/{}", fx.wid(w));
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, on_appraisals_of(who, w), "");
            }
        }
        ("POST", "/appraisals/workers/{id}") => {
            ngo_job_description(fx).await;
            for w in [W::W1, W::W2] {
                let path = format!("/appraisals/workers/{}", fx.wid(w));
                let pairs = form(&[
                    ("cycle", &cycle),
                    ("period_start", "2026-01-01"),
                    ("period_end", "2026-06-30"),
                    ("form", "informal"),
                ]);
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&pairs)).await;
                f.status(at(&path), r.status, posted(on_appraise(who, w, 200)), "");
            }
        }
        ("GET", "/appraisals/{id}") => {
            for w in [W::W1, W::W2] {
                let (id, _) = appraisal_of(fx, w, "read").await;
                let path = format!("/appraisals/{id}");
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, on_appraisals_of(who, w), "");
            }
        }
        ("POST", "/appraisals/{id}") => {
            for w in [W::W1, W::W2] {
                let (id, _) = appraisal_of(fx, w, "update").await;
                let path = format!("/appraisals/{id}");
                let pairs = form(&[("rating_cases", "2"), ("comment_cases", "ok"), ("form", "formal")]);
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&pairs)).await;
                f.status(at(&path), r.status, posted(on_appraise(who, w, 200)), "");
            }
        }
        ("POST", "/appraisals/{id}/self") => {
            for w in [W::W1, W::W2] {
                let (id, _) = appraisal_of(fx, w, "self").await;
                let path = format!("/appraisals/{id}/self");
                let pairs = form(&[("self_rating_cases", "3"), ("self_comment", "mine")]);
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&pairs)).await;
                let want = match who {
                    Who::SelfW1 if w == W::W1 => 303,
                    _ if who.sees_worker(w) => 403,
                    _ => 404,
                };
                f.status(at(&path), r.status, want, "");
            }
        }
        ("POST", "/appraisals/{id}/actions") => {
            for w in [W::W1, W::W2] {
                let (id, _) = appraisal_of(fx, w, "actions").await;
                let path = format!("/appraisals/{id}/actions");
                let pairs = form(&[("kind", "reward"), ("description", "Certificate of appreciation")]);
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&pairs)).await;
                f.status(at(&path), r.status, posted(on_appraise(who, w, 200)), "");
            }
        }
        ("POST", "/appraisals/actions/{id}/done") => {
            for w in [W::W1, W::W2] {
                let (id, action) = appraisal_of(fx, w, "done").await;
                let path = format!("/appraisals/actions/{action}/done");
                let pairs = form(&[("appraisal_id", &id.to_string())]);
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&pairs)).await;
                f.status(at(&path), r.status, posted(on_appraise(who, w, 200)), "");
            }
        }
        other => f.check(false, || format!("appraisals_page does not check {other:?}")),
    }
}

/// A fresh provincial round of `province` (01 or 02) opened by the system, with a fresh vacant
/// post of one of its districts and a new person as candidate, scored (ranked): (round, post,
/// candidate).
async fn hiring_fixture(fx: &Fx, province: &str) -> (i64, i64, i64) {
    use komlang_store::hiring::{CandidateInput, RoundInput, RoundPostInput, ScoresInput};
    let store = &fx.app.db.store;
    let round = store
        .create_round(
            &sys(),
            &RoundInput {
                name: format!("Round {province}"),
                kind: komlang_core::hiring::RoundKind::Provincial,
                province: Some(province.into()),
                opens_on: today(),
                closes_on: today() + chrono::Days::new(30),
                ranking: None,
            },
            today(),
        )
        .await
        .unwrap();
    let posts = komlang_store::establishment::NewPosts {
        admin_code: if province == "01" { "0102".into() } else { "0201".into() },
        org_id: None,
        cadre: komlang_core::Cadre::ParaSocialWorker,
        role: komlang_core::WorkerRole::CcwcMember,
        funding: komlang_core::establishment::FundingSource::MosvyPayroll,
        approved_year: 2025,
        count: 1,
        note: None,
    };
    let post = store.create_posts(&sys(), &posts).await.unwrap()[0];
    store
        .add_round_post(&sys(), round.id, &RoundPostInput { post_id: post, requirements: Default::default() }, today())
        .await
        .unwrap();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let person = CandidateInput {
        name_km: Some("សុខ ថ្មី".into()),
        name_latin: Some("Sok Thmey".into()),
        sex: Some(komlang_core::Sex::Female),
        national_id: Some(format!("HIRE{n:06}")),
        ..Default::default()
    };
    let r = store.add_candidate(&sys(), round.id, &person, today()).await.unwrap();
    let candidate = r.candidates[0].id;
    let scores = ScoresInput { exam_score: Some(70.0), interview_score: Some(70.0), interview_notes: None };
    store.set_candidate_scores(&sys(), candidate, &scores, None, today()).await.unwrap();
    (round.id, post, candidate)
}

/// Deletes the worker record an appointment made of a new person, so that the fixture keeps
/// its four workers for the checks that count them.
async fn forget_appointed(fx: &Fx, candidate: i64) {
    use sqlx::Row;
    let store = &fx.app.db.store;
    let w: Option<i64> = sqlx::query("SELECT appointed_worker_id FROM candidates WHERE id = $1")
        .bind(candidate)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    if let Some(w) = w {
        store.delete_worker(&sys(), w, None).await.unwrap();
    }
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Reads recruitment rounds: national accounts and officers (403 for the others).
fn reads_rounds(who: Who) -> bool {
    matches!(who, Who::Admin | Who::Viewer | Who::Prov | Who::Dist)
}

/// Reading a round of `province`: national accounts; the province's officer; 404 for the
/// other readers, 403 for those who read none.
fn on_round_read(who: Who, province: &str) -> u16 {
    match who {
        Who::Admin | Who::Viewer => 200,
        Who::Prov if province == "01" => 200,
        Who::Prov | Who::Dist => 404,
        Who::OrgHr | Who::SelfW1 => 403,
    }
}

/// Running a round of `province`: the national administrator, the province's officer; 404
/// where the round is not seen; 403 for those who do not run recruitment.
fn on_round_run(who: Who, province: &str, ok: u16) -> u16 {
    match who {
        Who::Admin => ok,
        Who::Prov if province == "01" => ok,
        Who::Prov => 404,
        _ => 403,
    }
}

async fn hiring_api(fx: &Fx, f: &mut Failures, who: Who, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    match (route.method, route.path) {
        ("GET", "/api/v1/recruitment/rounds") => {
            let (s, v) = fx.call(f, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), s, if reads_rounds(who) { 200 } else { 403 }, &v);
        }
        ("POST", "/api/v1/recruitment/rounds") => {
            for (province, kind) in [(Some("01"), "provincial"), (Some("02"), "provincial"), (None, "national")] {
                let body = json!({"name": "Round", "kind": kind, "province": province, "opens_on": "2026-12-01", "closes_on": "2027-01-31"});
                let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
                let want = match who {
                    Who::Admin => 201,
                    Who::Prov if province == Some("01") => 201,
                    _ => 403,
                };
                f.status(at(&format!("{} {kind} {province:?}", route.path)), s, want, &v);
            }
        }
        ("GET", "/api/v1/recruitment/rounds/{id}") => {
            for province in ["01", "02"] {
                let (round, _, _) = hiring_fixture(fx, province).await;
                let path = format!("/api/v1/recruitment/rounds/{round}");
                let (s, v) = fx.call(f, Some(who), "GET", &path, None).await;
                f.status(at(&path), s, on_round_read(who, province), &v);
            }
        }
        ("POST", "/api/v1/recruitment/rounds/{id}/close") => {
            for province in ["01", "02"] {
                let (round, _, _) = hiring_fixture(fx, province).await;
                let path = format!("/api/v1/recruitment/rounds/{round}/close");
                let (s, v) = fx.call(f, Some(who), "POST", &path, None).await;
                f.status(at(&path), s, on_round_run(who, province, 200), &v);
            }
        }
        ("POST", "/api/v1/recruitment/rounds/{id}/posts") => {
            for province in ["01", "02"] {
                let (round, _, _) = hiring_fixture(fx, province).await;
                let (_, post, _) = hiring_fixture(fx, province).await;
                let path = format!("/api/v1/recruitment/rounds/{round}/posts");
                let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&json!({"post_id": post}))).await;
                f.status(at(&path), s, on_round_run(who, province, 201), &v);
            }
        }
        ("POST", "/api/v1/recruitment/rounds/{id}/candidates") => {
            for province in ["01", "02"] {
                let (round, _, _) = hiring_fixture(fx, province).await;
                let path = format!("/api/v1/recruitment/rounds/{round}/candidates");
                let w = if province == "01" { W::W1 } else { W::W2 };
                let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&json!({"worker_id": fx.wid(w)}))).await;
                f.status(at(&path), s, on_round_run(who, province, 201), &v);
            }
        }
        ("POST", "/api/v1/recruitment/rounds/{id}/candidates/import") => {
            for province in ["01", "02"] {
                let (round, _, _) = hiring_fixture(fx, province).await;
                let path = format!("/api/v1/recruitment/rounds/{round}/candidates/import");
                let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let file = format!("name_km,name_latin,sex,national_id\nសុខ,Sok Import,female,IMP{n:06}\n");
                let r = fx
                    .api
                    .post(fx.app.url(&path))
                    .bearer_auth(fx.token(who))
                    .header("content-type", "text/csv")
                    .body(file)
                    .send()
                    .await
                    .unwrap();
                let s = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                f.status(at(&path), s, on_round_run(who, province, 200), &v);
            }
        }
        ("PUT", "/api/v1/recruitment/candidates/{id}/scores") => {
            for province in ["01", "02"] {
                let (_, _, candidate) = hiring_fixture(fx, province).await;
                let path = format!("/api/v1/recruitment/candidates/{candidate}/scores");
                let body = json!({"exam_score": 80, "interview_score": 75});
                let (s, v) = fx.call(f, Some(who), "PUT", &path, Some(&body)).await;
                f.status(at(&path), s, on_round_run(who, province, 200), &v);
            }
        }
        ("POST", "/api/v1/recruitment/candidates/{id}/appoint") => {
            for province in ["01", "02"] {
                let (_, post, candidate) = hiring_fixture(fx, province).await;
                let path = format!("/api/v1/recruitment/candidates/{candidate}/appoint");
                let body = json!({"post_id": post, "start_date": today().to_string()});
                let (s, v) = fx.call(f, Some(who), "POST", &path, Some(&body)).await;
                f.status(at(&path), s, on_round_run(who, province, 200), &v);
                forget_appointed(fx, candidate).await;
            }
        }
        ("POST", "/api/v1/recruitment/candidates/{id}/withdraw") => {
            for province in ["01", "02"] {
                let (_, _, candidate) = hiring_fixture(fx, province).await;
                let path = format!("/api/v1/recruitment/candidates/{candidate}/withdraw");
                let (s, v) = fx.call(f, Some(who), "POST", &path, None).await;
                f.status(at(&path), s, on_round_run(who, province, 200), &v);
            }
        }
        ("GET", "/api/v1/placements") => {
            let (s, v) = fx.call(f, Some(who), "GET", "/api/v1/placements?pool=true", None).await;
            f.status(at(route.path), s, if who == Who::SelfW1 { 403 } else { 200 }, &v);
        }
        ("POST", "/api/v1/placements") => {
            let body = json!({"kind": "internship", "name_km": "សុខ", "name_latin": "Sok Intern", "sex": "female",
                "institution": "NISA", "host_admin_code": "0102", "start_date": "2026-01-05", "end_date": "2026-06-30"});
            let (s, v) = fx.call(f, Some(who), "POST", route.path, Some(&body)).await;
            f.status(at(route.path), s, if matches!(who, Who::Viewer | Who::SelfW1) { 403 } else { 201 }, &v);
        }
        other => f.check(false, || format!("hiring_api does not check {other:?}")),
    }
}

async fn hiring_page(fx: &Fx, f: &mut Failures, who: Who, c: &Client, csrf: &str, route: &Route) {
    let at = |path: &str| format!("{who:?} {} {path}", route.method);
    let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        std::iter::once(("csrf".to_string(), csrf.to_string()))
            .chain(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .collect()
    };
    let posted = |ok: u16| if ok == 200 { 303 } else { ok };
    match (route.method, route.path) {
        ("GET", "/recruitment/rounds") => {
            let r = fx.page(f, c, Some(who), "GET", route.path, None).await;
            f.status(at(route.path), r.status, if reads_rounds(who) { 200 } else { 403 }, "");
        }
        ("POST", "/recruitment/rounds") => {
            let pairs = form(&[
                ("name", "Round"),
                ("kind", "provincial"),
                ("province", "01"),
                ("opens_on", "2026-12-01"),
                ("closes_on", "2027-01-31"),
            ]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&pairs)).await;
            f.status(at(route.path), r.status, posted(on_round_run(who, "01", 200)), "");
        }
        ("GET", "/recruitment/rounds/{id}") | ("GET", "/recruitment/rounds/{id}/export") => {
            for province in ["01", "02"] {
                let (round, _, _) = hiring_fixture(fx, province).await;
                let path = route.path.replace("{id}", &round.to_string()) + "?format=csv";
                let r = fx.page(f, c, Some(who), "GET", &path, None).await;
                f.status(at(&path), r.status, on_round_read(who, province), "");
            }
        }
        ("POST", "/recruitment/rounds/{id}/posts")
        | ("POST", "/recruitment/rounds/{id}/candidates")
        | ("POST", "/recruitment/rounds/{id}/close") => {
            for province in ["01", "02"] {
                let (round, _, _) = hiring_fixture(fx, province).await;
                let (_, post, _) = hiring_fixture(fx, province).await;
                let path = route.path.replace("{id}", &round.to_string());
                let post = post.to_string();
                let pairs = if route.path.ends_with("/posts") {
                    form(&[("post_id", &post), ("years_min", "0")])
                } else if route.path.ends_with("/candidates") {
                    form(&[("name_km", "ដារា"), ("name_latin", "Dara New"), ("sex", "male"), ("source", "external")])
                } else {
                    form(&[])
                };
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&pairs)).await;
                f.status(at(&path), r.status, posted(on_round_run(who, province, 200)), "");
            }
        }
        ("POST", "/recruitment/candidates/{id}/scores")
        | ("POST", "/recruitment/candidates/{id}/appoint")
        | ("POST", "/recruitment/candidates/{id}/withdraw") => {
            for province in ["01", "02"] {
                let (round, post, candidate) = hiring_fixture(fx, province).await;
                let path = route.path.replace("{id}", &candidate.to_string());
                let (round, post) = (round.to_string(), post.to_string());
                let t = today().to_string();
                let pairs = form(&[
                    ("round_id", &round),
                    ("exam_score", "60"),
                    ("interview_score", "65"),
                    ("post_id", &post),
                    ("start_date", &t),
                ]);
                let r = fx.page(f, c, Some(who), "POST", &path, Some(&pairs)).await;
                f.status(at(&path), r.status, posted(on_round_run(who, province, 200)), "");
                forget_appointed(fx, candidate).await;
            }
        }
        ("GET", "/recruitment/placements") => {
            let r = fx.page(f, c, Some(who), "GET", "/recruitment/placements?pool=1", None).await;
            f.status(at(route.path), r.status, if who == Who::SelfW1 { 403 } else { 200 }, "");
        }
        ("POST", "/recruitment/placements") => {
            let pairs = form(&[
                ("kind", "field_placement"),
                ("name_km", "សុខ"),
                ("name_latin", "Sok Student"),
                ("sex", "female"),
                ("institution", "RUPP"),
                ("host_admin_code", "0102"),
                ("start_date", "2026-01-05"),
                ("end_date", "2026-06-30"),
            ]);
            let r = fx.page(f, c, Some(who), "POST", route.path, Some(&pairs)).await;
            f.status(at(route.path), r.status, if matches!(who, Who::Viewer | Who::SelfW1) { 403 } else { 303 }, "");
        }
        other => f.check(false, || format!("hiring_page does not check {other:?}")),
    }
}
