//! Training and certification: the catalogue (institutions, programmes, modules and courses),
//! training events with their participants and attendance, a worker's transcript (trainings,
//! RPL/RCC, certificates, progress, licences), group progress and the targets, the certificate
//! register and printable certificates, as pages and in the API.
//!
//! Every page goes through the store, which decides who sees and does what (see
//! `komlang_store::training`): records outside the caller's scope answer 404, actions the
//! caller may not take 403. Refusals of the store are shown on the form that was sent, in the
//! interface language, with what was typed kept.

mod api;
mod catalogue;
mod catalogue_edit;
mod certificates;
mod events;
mod participants;
mod progress;
mod shared;
mod transcript;

use komlang_core::Action;

pub use api::TrainingApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadWorkers);
    let keep = Gate::Action(Action::KeepTrainingCatalogue);
    let events = Gate::Action(Action::ReadTrainingEvents);
    let run = Gate::Action(Action::RunTraining);
    let r = r
        .get("/training", Gate::SignedIn, catalogue::hub)
        .post("/training/institutions", keep, catalogue::create_institution)
        .post("/training/institutions/{id}", keep, catalogue_edit::update_institution)
        .get("/training/institutions/{id}/edit", keep, catalogue_edit::edit_institution)
        .post("/training/programmes", keep, catalogue::create_programme)
        .get("/training/programmes/{id}", Gate::SignedIn, catalogue::programme_page)
        .post("/training/programmes/{id}", keep, catalogue_edit::update_programme)
        .get("/training/programmes/{id}/edit", keep, catalogue_edit::edit_programme)
        .post("/training/courses", keep, catalogue::create_course)
        .post("/training/courses/{id}", keep, catalogue_edit::update_course)
        .get("/training/courses/{id}/edit", keep, catalogue_edit::edit_course)
        .get("/training/events", events, events::events_page)
        .post("/training/events", run, events::create_event)
        .get("/training/events/new", run, events::new_event)
        .get("/training/events/export", events, events::export_events)
        .get("/training/events/{id}", events, participants::event_page)
        .post("/training/events/{id}", run, events::update_event)
        .get("/training/events/{id}/edit", run, events::edit_event)
        .post("/training/events/{id}/participants", run, participants::add_participants)
        .post("/training/events/{id}/pass-pending", run, participants::pass_pending)
        .post("/training/events/{id}/participants/{worker_id}", run, participants::record_attendance)
        .post("/training/events/{id}/participants/{worker_id}/delete", run, participants::remove_participant)
        .get("/training/progress", read, progress::progress_page)
        .get("/training/targets", Gate::SignedIn, progress::targets_page)
        .post("/training/targets", keep, progress::set_target)
        .get("/workers/{id}/transcript", read, transcript::transcript_page)
        .get("/workers/{id}/transcript/export", read, transcript::export_transcript)
        // RunTraining, then IssueCertificate: checked per record, after the scope (404 first).
        .post("/workers/{id}/recognitions", read, transcript::add_recognition)
        .post("/workers/{id}/certificates", read, transcript::issue_certificate)
        .post("/certificates/{number}/revoke", read, transcript::revoke_certificate)
        // Applying for a licence is a form of the transcript, shown again there when refused.
        .post("/workers/{id}/licences", Gate::Action(Action::ApplyLicence), transcript::apply_licence)
        .get("/certificates", read, certificates::certificates_page)
        .get("/certificates/export", read, certificates::export_certificates)
        .get("/certificates/{number}/print", read, certificates::print_certificate);
    r.get("/api/v1/training/institutions", Gate::SignedIn, api::list_institutions)
        .post("/api/v1/training/institutions", keep, api::create_institution)
        .put("/api/v1/training/institutions/{id}", keep, api::update_institution)
        .get("/api/v1/training/programmes", Gate::SignedIn, api::list_programmes)
        .post("/api/v1/training/programmes", keep, api::create_programme)
        .get("/api/v1/training/programmes/{id}", Gate::SignedIn, api::get_programme)
        .put("/api/v1/training/programmes/{id}", keep, api::update_programme)
        .get("/api/v1/training/courses", Gate::SignedIn, api::list_courses)
        .post("/api/v1/training/courses", keep, api::create_course)
        .get("/api/v1/training/courses/{id}", Gate::SignedIn, api::get_course)
        .put("/api/v1/training/courses/{id}", keep, api::update_course)
        .get("/api/v1/training/events", events, api::list_events)
        .post("/api/v1/training/events", run, api::create_event)
        .get("/api/v1/training/events/export", events, api::export_events)
        .get("/api/v1/training/events/{id}", events, api::get_event)
        .put("/api/v1/training/events/{id}", run, api::update_event)
        .get("/api/v1/training/events/{id}/participants", events, api::list_participants)
        .post("/api/v1/training/events/{id}/participants", run, api::add_participants)
        .post("/api/v1/training/events/{id}/pass-pending", run, api::pass_pending)
        .put("/api/v1/training/events/{id}/participants/{worker_id}", run, api::record_attendance)
        .delete("/api/v1/training/events/{id}/participants/{worker_id}", run, api::remove_participant)
        .get("/api/v1/training/progress", read, api::progress)
        .get("/api/v1/training/targets", Gate::SignedIn, api::list_targets)
        .post("/api/v1/training/targets", keep, api::set_target)
        .get("/api/v1/workers/{id}/transcript", read, api::transcript)
        // RunTraining, then IssueCertificate: checked per record, after the scope (404 first).
        .post("/api/v1/workers/{id}/recognitions", read, api::add_recognition)
        .get("/api/v1/workers/{id}/certificates", read, api::list_certificates)
        .post("/api/v1/workers/{id}/certificates", read, api::issue_certificate)
        .get("/api/v1/certificates", read, api::list_certificate_register)
        .post("/api/v1/certificates/{number}/revoke", read, api::revoke_certificate)
}
