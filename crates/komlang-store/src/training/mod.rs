//! Training: the catalogue (institutions, programmes, modules and courses), events with their
//! participants and attendance, RPL/RCC, transcripts and certificate progress, certificates with
//! public verification, and training targets (seed 001 Table 11 by default). Licences, which
//! build on certificates, are the `licensing` feature.
//!
//! Who does what:
//! - Everybody signed in reads the catalogue; a national administrator keeps it and the targets
//!   ([`Action::KeepTrainingCatalogue`]).
//! - Training events are seen by every account except `worker` whose geographic scope holds
//!   the event's place; they are run (created, changed, participants, attendance) by national
//!   administrators and by provincial and district officers for places in their scope
//!   ([`Action::RunTraining`]). Participants are workers of the registry the caller sees;
//!   a participant list only shows the workers the caller sees.
//! - A transcript, its recognitions and certificates follow the worker's record: whoever sees
//!   the worker ([`Store::get_worker`]) sees them; nobody else (404).
//! - RPL/RCC grants are recorded by those who run training, for workers they see.
//! - Certificates are issued and revoked by national administrators ([`Action::IssueCertificate`]).
//! - Anyone, without signing in, may verify a certificate number; the answer shows the holder's
//!   name and nothing else about them.
//!
//! Credits and eligibility are computed from hours by the credit rule, never stored.
//!
//! [`Store::get_worker`]: crate::Store::get_worker
//! [`Action::KeepTrainingCatalogue`]: komlang_core::Action::KeepTrainingCatalogue
//! [`Action::RunTraining`]: komlang_core::Action::RunTraining
//! [`Action::IssueCertificate`]: komlang_core::Action::IssueCertificate

mod catalogue;
mod certificates;
mod demo;
mod events;
mod progress;
mod transcripts;

use komlang_core::training::Minutes;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::Result;

pub use catalogue::{Course, Institution, Programme};
pub use certificates::{Certificate, CertificateQuery, CertificateRow, PublicCertificate, CERTIFICATE_EXPORT_COLUMNS};
pub use events::{EventQuery, Participant, TrainingEvent, EVENT_EXPORT_COLUMNS};
pub use progress::{
    EligibleWorker, GroupProgress, ProgressQuery, ProgressReport, TargetInput, TrainingTarget, ELIGIBLE_LIMIT,
};
pub use transcripts::{Recognition, Transcript, TranscriptEntry, TRANSCRIPT_EXPORT_COLUMNS};

/// The teaching, lab and field minutes of a row (columns `{prefix}teaching_minutes`...).
fn minutes(r: &AnyRow, prefix: &str) -> Result<Minutes> {
    Ok(Minutes {
        teaching: r.try_get(format!("{prefix}teaching_minutes").as_str())?,
        lab: r.try_get(format!("{prefix}lab_minutes").as_str())?,
        field: r.try_get(format!("{prefix}field_minutes").as_str())?,
    })
}

/// Hours or credits as an export cell.
fn h(v: f64) -> String {
    format!("{v}")
}
