//! Recruitment rounds, candidates and placements in the JSON API ([`RoundsApiDoc`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::hiring::{
    CandidateSource, CandidateStatus, PlacementKind, RankingRule, RequiredCompetency, Requirements, RoundKind,
    RoundStatus, Unmet,
};
use komlang_store::hiring::{
    AppointInput, CandidateInput, CandidateView, Placement, PlacementInput, RequirementSet, Round, RoundBrief,
    RoundInput, RoundPost, RoundPostInput, ScoresInput, SetFit,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::common::errors::store;
use crate::common::export::{download, format_param};
use crate::common::extract::{body, query};
use crate::common::versions::{IfMatchHeader, VersionedWrite};
use crate::common::{today, ApiErrorBody, ApiResult, ApiUser, ExportFormat, IfMatch, Tagged};
use crate::AppState;

/// Rounds.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rounds {
    pub items: Vec<RoundBrief>,
}

#[utoipa::path(get, path = "/api/v1/recruitment/rounds", tag = "recruitment",
    responses((status = 200, body = Rounds)), security(("bearer" = [])))]
pub(super) async fn rounds(State(app): State<AppState>, ApiUser(p, i): ApiUser) -> ApiResult<Json<Rounds>> {
    Ok(Json(Rounds { items: app.store.recruitment_rounds(&p).await.map_err(store(&i))? }))
}

#[utoipa::path(post, path = "/api/v1/recruitment/rounds", tag = "recruitment", request_body = RoundInput,
    responses((status = 201, body = Round), (status = 400, body = ApiErrorBody),
        (status = 403, description = "The caller does not run recruitment there (a national round: national administrators)", body = ApiErrorBody),
        (status = 422, description = "`name` (`required`, `too_long`), `closes_on` (`before_start`), `province` (`required`, `unknown_admin_unit`, `national_round_has_no_province`), `ranking.*` (`out_of_range`, `weights_not_one`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_round(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<RoundInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<Round>)> {
    let input = body(b)?;
    Ok((StatusCode::CREATED, Tagged(app.store.create_round(&p, &input, today()).await.map_err(store(&i))?)))
}

/// A round as a file.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoundParams {
    /// `csv` or `xlsx`: the candidates in ranked order as a file.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/recruitment/rounds/{id}", tag = "recruitment", params(("id" = i64, Path), RoundParams),
    responses((status = 200, description = "The round: its posts with their requirements, its candidates in ranked order with what each does not meet of each post (JSON, or with `format` the candidates as a file)",
            content((Round = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn round(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    q: Result<Query<RoundParams>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let format = format_param(&q.format)?;
    let r = app.store.recruitment_round(&p, id, today()).await.map_err(store(&i))?;
    match format {
        None => Ok(Tagged(r).into_response()),
        Some(f) => {
            download(&i, "komlang-recruitment-round", f, super::CANDIDATE_COLUMNS, super::candidate_cells(&r)).await
        }
    }
}

#[utoipa::path(post, path = "/api/v1/recruitment/rounds/{id}/close", tag = "recruitment", params(("id" = i64, Path), IfMatchHeader),
    responses(VersionedWrite, (status = 200, body = Round), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`status` (`round_closed`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn close_round(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
) -> ApiResult<Tagged<Round>> {
    Ok(Tagged(app.store.close_round(&p, id, expected, today()).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/recruitment/rounds/{id}/posts", tag = "recruitment", params(("id" = i64, Path)),
    request_body = RoundPostInput,
    responses((status = 201, body = Round), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`post_id` (`unknown_post`, `post_outside_round`, `post_filled`, `post_ended`, `post_in_round`), `requirements.*` (`out_of_range`, `unknown_competency`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn add_post(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<RoundPostInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<Round>)> {
    let input = body(b)?;
    Ok((StatusCode::CREATED, Tagged(app.store.add_round_post(&p, id, &input, today()).await.map_err(store(&i))?)))
}

#[utoipa::path(post, path = "/api/v1/recruitment/rounds/{id}/candidates", tag = "recruitment", params(("id" = i64, Path)),
    request_body(content = CandidateInput, description = "A worker of the registry (`worker_id`), a person of the placements' pool (`placement_id`), or a new person (names, sex, and what the requirements need: cadre, education, experience)"),
    responses((status = 201, body = Round), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`worker_id` (`unknown_worker`), `placement_id` (`unknown_placement`), `name_km`/`name_latin`/`sex` (`required`), `national_id` (`invalid_national_id`), `candidate` (`duplicate_candidate`), `status` (`round_closed`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn add_candidate(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<CandidateInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<Round>)> {
    let input = body(b)?;
    Ok((StatusCode::CREATED, Tagged(app.store.add_candidate(&p, id, &input, today()).await.map_err(store(&i))?)))
}

#[utoipa::path(post, path = "/api/v1/recruitment/rounds/{id}/candidates/import", tag = "recruitment", params(("id" = i64, Path)),
    request_body(description = "Candidates, one per row (columns: worker_id, or name_km, name_latin, sex, date_of_birth, national_id, phone, cadre, education_level, experience_since, institution, graduated_year, source, applied_on): raw CSV or XLSX bytes, or a multipart form with one file field. All or nothing.",
        content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("application/octet-stream"), ("multipart/form-data"))),
    responses((status = 200, body = Round), (status = 400, description = "Not a CSV/XLSX file", body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 413, body = ApiErrorBody),
        (status = 422, description = "Every problem, named `row N: field` (or `file` for an unknown column or too many rows); nothing was written", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn import_candidates(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    let (_, _, reader) = crate::common::uploads::uploaded_table(&app, &i, req, None).await?;
    let headers = reader.headers().to_vec();
    let mut rows = Vec::new();
    for r in reader {
        rows.push(r.map_err(|e| crate::common::uploads::bad_file(&i, &e))?);
    }
    let round = app.store.import_candidates(&p, id, &headers, rows, today()).await.map_err(store(&i))?;
    Ok(Tagged(round).into_response())
}

#[utoipa::path(put, path = "/api/v1/recruitment/candidates/{id}/scores", tag = "recruitment", params(("id" = i64, Path), IfMatchHeader),
    request_body(content = ScoresInput, description = "Exam and interview scores, 0 to 100; `If-Match`: the candidate's `version`"),
    responses(VersionedWrite, (status = 200, body = Round), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`exam_score`/`interview_score` (`out_of_range`), `status` (`candidate_not_in_running`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn scores(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<ScoresInput>, JsonRejection>,
) -> ApiResult<Tagged<Round>> {
    let input = body(b)?;
    Ok(Tagged(app.store.set_candidate_scores(&p, id, &input, expected, today()).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/recruitment/candidates/{id}/appoint", tag = "recruitment", params(("id" = i64, Path)),
    request_body = AppointInput,
    responses((status = 200, body = Round), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 409, description = "The candidate or the post changed meanwhile", body = ApiErrorBody),
        (status = 412, description = "The candidate or the post changed meanwhile", body = ApiErrorBody),
        (status = 422, description = "`post_id` (`post_not_in_round`, `post_filled`), `candidate` (`not_eligible_for_post`, `not_ranked`), `status` (`candidate_not_in_running`), `national_id` (`duplicate_national_id`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn appoint(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<AppointInput>, JsonRejection>,
) -> ApiResult<Tagged<Round>> {
    let input = body(b)?;
    Ok(Tagged(app.store.appoint_candidate(&p, id, &input, today()).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/recruitment/candidates/{id}/withdraw", tag = "recruitment", params(("id" = i64, Path)),
    responses((status = 200, body = Round), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`status` (`candidate_not_in_running`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn withdraw(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Tagged<Round>> {
    Ok(Tagged(app.store.withdraw_candidate(&p, id, today()).await.map_err(store(&i))?))
}

/// Which placements.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlacementParams {
    /// Only the pool a round draws on: placements ended within three years, or graduates of the
    /// last three years, not yet hired.
    pub pool: Option<bool>,
}

/// Placements.
#[derive(Debug, Serialize, ToSchema)]
pub struct Placements {
    pub items: Vec<Placement>,
}

#[utoipa::path(get, path = "/api/v1/placements", tag = "recruitment", params(PlacementParams),
    responses((status = 200, body = Placements), (status = 400, body = ApiErrorBody),
        (status = 403, description = "Neither reads recruitment nor records placements", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn placements(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<PlacementParams>, QueryRejection>,
) -> ApiResult<Json<Placements>> {
    let q = query(q)?;
    let items = app.store.placements(&p, q.pool.unwrap_or(false), today()).await.map_err(store(&i))?;
    Ok(Json(Placements { items }))
}

#[utoipa::path(post, path = "/api/v1/placements", tag = "recruitment", request_body = PlacementInput,
    responses((status = 201, body = Placement), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`name_km`/`name_latin`/`institution` (`required`, `too_long`), `end_date` (`before_start`), `host_admin_code` (`unknown_admin_unit`, `out_of_scope`), `host_org_id` (`unknown_organization`, `must_be_own_organization`), `supervisor_worker_id` (`unknown_worker`), `national_id` (`invalid_national_id`), `graduated_year` (`invalid_year`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_placement(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<PlacementInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Placement>)> {
    let input = body(b)?;
    Ok((StatusCode::CREATED, Json(app.store.create_placement(&p, &input).await.map_err(store(&i))?)))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        rounds,
        create_round,
        import_candidates,
        round,
        close_round,
        add_post,
        add_candidate,
        scores,
        appoint,
        withdraw,
        placements,
        create_placement
    ),
    components(schemas(
        Rounds,
        RoundBrief,
        Round,
        RoundPost,
        RoundInput,
        RoundPostInput,
        Requirements,
        RequiredCompetency,
        RankingRule,
        CandidateView,
        RequirementSet,
        SetFit,
        Unmet,
        CandidateInput,
        ScoresInput,
        AppointInput,
        Placements,
        Placement,
        PlacementInput,
        RoundKind,
        RoundStatus,
        CandidateSource,
        CandidateStatus,
        PlacementKind
    ))
)]
pub struct RoundsApiDoc;
