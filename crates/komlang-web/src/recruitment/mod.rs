//! Recruitment: how many people each unit must recruit in a year (the vacant posts plus the
//! filled ones expected to fall vacant: retirements, incapacity, death), with the retirement age
//! and the exit rates per cadre that size it; as a page, a download and in the API.
//! docs/recruitment.md.

mod api;
mod pages;
mod rounds_api;
mod rounds_pages;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use komlang_core::Action;
use komlang_store::recruitment::NeedReport;

pub use api::RecruitmentApiDoc;
pub use rounds_api::RoundsApiDoc;

use crate::common::uploads::MAX_UPLOAD;
use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadPlanning);
    let keep = Gate::Action(Action::KeepNorms);
    r.get("/recruitment", read, pages::need_page)
        .get("/recruitment/export", read, pages::export)
        .post("/recruitment/settings", keep, pages::save_settings)
        .get("/api/v1/recruitment/need", read, api::need)
        .get("/api/v1/recruitment/settings", read, api::settings)
        .put("/api/v1/recruitment/settings", keep, api::set_settings)
        .merge_rounds()
}

trait RoundRoutes {
    fn merge_rounds(self) -> Self;
}

impl RoundRoutes for Routes {
    /// Recruitment rounds, candidates and placements (docs/hiring.md).
    fn merge_rounds(self) -> Routes {
        let read = Gate::Action(Action::ReadRecruitment);
        let run = Gate::Action(Action::RunRecruitment);
        let place = Gate::Action(Action::KeepPlacements);
        self.get("/recruitment/rounds", read, rounds_pages::rounds_page)
            .post("/recruitment/rounds", run, rounds_pages::create_round)
            .get("/recruitment/rounds/{id}", read, rounds_pages::round_page)
            .get("/recruitment/rounds/{id}/export", read, rounds_pages::round_export)
            .post("/recruitment/rounds/{id}/posts", run, rounds_pages::add_post)
            .post("/recruitment/rounds/{id}/candidates", run, rounds_pages::add_candidate)
            .post("/recruitment/rounds/{id}/close", run, rounds_pages::close_round)
            .post("/recruitment/candidates/{id}/scores", run, rounds_pages::scores)
            .post("/recruitment/candidates/{id}/appoint", run, rounds_pages::appoint)
            .post("/recruitment/candidates/{id}/withdraw", run, rounds_pages::withdraw)
            .get("/recruitment/placements", Gate::SignedIn, rounds_pages::placements_page)
            .post("/recruitment/placements", place, rounds_pages::create_placement)
            .get("/api/v1/recruitment/rounds", read, rounds_api::rounds)
            .post("/api/v1/recruitment/rounds", run, rounds_api::create_round)
            .get("/api/v1/recruitment/rounds/{id}", read, rounds_api::round)
            .post("/api/v1/recruitment/rounds/{id}/close", run, rounds_api::close_round)
            .post("/api/v1/recruitment/rounds/{id}/posts", run, rounds_api::add_post)
            .post("/api/v1/recruitment/rounds/{id}/candidates", run, rounds_api::add_candidate)
            .post(
                "/api/v1/recruitment/rounds/{id}/candidates/import",
                run,
                rounds_api::import_candidates.layer(DefaultBodyLimit::max(MAX_UPLOAD + 65536)),
            )
            .put("/api/v1/recruitment/candidates/{id}/scores", run, rounds_api::scores)
            .post("/api/v1/recruitment/candidates/{id}/appoint", run, rounds_api::appoint)
            .post("/api/v1/recruitment/candidates/{id}/withdraw", run, rounds_api::withdraw)
            .get("/api/v1/placements", Gate::SignedIn, rounds_api::placements)
            .post("/api/v1/placements", place, rounds_api::create_placement)
    }
}

/// The columns of a round's download: its candidates in ranked order.
pub const CANDIDATE_COLUMNS: &[&str] = &[
    "round",
    "rank",
    "candidate_id",
    "name_latin",
    "name_km",
    "source",
    "cadre",
    "education_level",
    "years",
    "exam_score",
    "interview_score",
    "total",
    "status",
    "eligible_posts",
    "appointed_post",
];

/// The rows of a round's download.
pub fn candidate_cells(r: &komlang_store::hiring::Round) -> Vec<Vec<String>> {
    let num = |v: Option<f64>| v.map(|x| format!("{x:.2}")).unwrap_or_default();
    r.candidates
        .iter()
        .map(|c| {
            vec![
                r.id.to_string(),
                c.rank.map(|x| x.to_string()).unwrap_or_default(),
                c.id.to_string(),
                c.name_latin.clone(),
                c.name_km.clone(),
                c.source.code().to_string(),
                c.cadre.map(|x| x.code().to_string()).unwrap_or_default(),
                c.education_level.map(|x| x.code().to_string()).unwrap_or_default(),
                c.years.map(|x| x.to_string()).unwrap_or_default(),
                num(c.exam_score),
                num(c.interview_score),
                num(c.total),
                c.status.code().to_string(),
                r.eligible_posts(c).map(|p| p.to_string()).collect::<Vec<_>>().join(" "),
                c.appointed_post_id.map(|x| x.to_string()).unwrap_or_default(),
            ]
        })
        .collect()
}

/// The columns of the need's download, one row per unit and the total.
pub const NEED_COLUMNS: &[&str] = &[
    "year",
    "unit",
    "name_en",
    "name_km",
    "vacant",
    "filled",
    "retiring",
    "birth_unknown",
    "other_exits",
    "expected_exits",
    "planned",
    "to_recruit",
];

/// The rows of the need's download (the total last, its unit empty).
pub fn need_cells(r: &NeedReport) -> Vec<Vec<String>> {
    let row = |unit: &str, en: &str, km: &str, n: &komlang_core::recruitment::Need| {
        vec![
            r.year.to_string(),
            unit.to_string(),
            en.to_string(),
            km.to_string(),
            n.vacant.to_string(),
            n.filled.to_string(),
            n.retiring.to_string(),
            n.birth_unknown.to_string(),
            format!("{:.2}", n.other_exits),
            n.expected_exits.to_string(),
            n.planned.to_string(),
            n.to_recruit.to_string(),
        ]
    };
    let mut out: Vec<Vec<String>> = r.items.iter().map(|u| row(&u.unit, &u.name_en, &u.name_km, &u.need)).collect();
    out.push(row("", "Total", "សរុប", &r.total));
    out
}
