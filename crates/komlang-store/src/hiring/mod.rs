//! Hiring (seed 002): recruitment rounds that open vacant posts (nationally by exam, or by a
//! province) with what each post requires; candidates from the registry, the pool of field
//! placements and internships, or new people; each checked against each post (and told why
//! not); exam and interview scores; the ranking by the round's published rule; the appointment
//! that fills the post in one audited action. Field placements and internships, and the pool of
//! graduates and interns. What decides is `komlang_core::hiring`. docs/hiring.md.

mod appoint;
mod candidates;
mod demo;
mod placements;
mod rounds;

pub use appoint::AppointInput;
pub use candidates::{CandidateInput, CandidateView, ScoresInput, SetFit};
pub use placements::{Placement, PlacementInput};
pub use rounds::{RequirementSet, Round, RoundBrief, RoundInput, RoundPost, RoundPostInput};
