//! Competencies: the national competency framework and the levels each cadre and role requires,
//! a worker's assessments (list and progress, recording, viewing, changing) and gaps, the gap
//! heat map and training needs of a scope with their exports, and all of it in the API.
//!
//! Every page goes through the store, which decides who sees and records what (see
//! `komlang_store::competencies`): a worker's assessments are shown to the worker, their
//! supervisor and the accounts whose scope includes them; to anyone else they answer 404.
//! Recording is gated on [`Action::AssessWorker`], which workers and national viewers hold for
//! their supervisees (and a worker for their own self-assessment); the store decides per record.

mod api;
mod assessment_form;
mod assessments;
mod export;
mod framework;
mod gaps;
mod labels;

use komlang_core::Action;

pub use api::CompetencyApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadWorkers);
    let assess = Gate::Action(Action::AssessWorker);
    r.get("/competencies", Gate::SignedIn, framework::framework_page)
        .get("/competencies/requirements", Gate::SignedIn, framework::requirements_page)
        .post("/competencies/requirements", Gate::Action(Action::KeepFramework), framework::save_requirements)
        .get("/workers/{id}/assessments", read, assessments::assessments_page)
        .post("/workers/{id}/assessments", assess, assessment_form::create_assessment)
        .get("/workers/{id}/assessments/new", assess, assessment_form::new_assessment)
        // SetSupervisor: checked per record, after the scope (404 first).
        .post("/workers/{id}/supervisor", read, assessments::set_supervisor)
        .get("/workers/{id}/competency-gaps", read, gaps::worker_gaps_page)
        .get("/assessments/{id}", read, assessments::assessment_page)
        .post("/assessments/{id}", assess, assessment_form::update_assessment)
        .get("/assessments/{id}/edit", assess, assessment_form::edit_assessment)
        .post("/assessments/{id}/delete", assess, assessments::delete_assessment)
        .get("/competency/gaps", read, gaps::gaps_page)
        .get("/competency/training-needs", read, gaps::training_needs_page)
        .get("/competency/export", read, export::export_page)
        .get("/api/v1/competency-frameworks", Gate::SignedIn, api::list_frameworks)
        .get("/api/v1/competency-frameworks/current", Gate::SignedIn, api::current_framework)
        .get("/api/v1/competency-frameworks/{version}", Gate::SignedIn, api::framework_version)
        .get("/api/v1/workers/{id}/assessments", read, api::list_assessments)
        .post("/api/v1/workers/{id}/assessments", assess, api::create_assessment)
        .get("/api/v1/workers/{id}/competency-gaps", read, api::worker_gaps)
        .get("/api/v1/assessments/{id}", read, api::get_assessment)
        .put("/api/v1/assessments/{id}", assess, api::update_assessment)
        .delete("/api/v1/assessments/{id}", assess, api::delete_assessment)
        .get("/api/v1/competency/gaps", read, api::gaps)
        .get("/api/v1/competency/training-needs", read, api::needs)
        .get("/api/v1/competency/export", read, api::export)
}
