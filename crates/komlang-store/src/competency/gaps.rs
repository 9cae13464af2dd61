//! A worker's gaps against the levels required of them, the gap table of a scope or team, and
//! the assessments export.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use komlang_core::competency::{
    compare_self_supervisor, competency_scores, latest_by_competency, required_levels, AggregateCell, AssessmentKind,
    Gap, IndicatorRating, Rating, RatingDifference,
};
use komlang_core::*;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::assessments::Assessment;
use crate::common::rows::parse_col;
use crate::common::scope::{push_attribute_filters, push_worker_scope, AttributeFilter};
use crate::common::sql::Sql;
use crate::{Result, Store, StoreError};

/// One competency of a worker's gap report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CompetencyStanding {
    pub area_code: String,
    pub competency_code: String,
    /// The level the worker's cadre and role require (the higher of the two); none when neither sets one.
    pub required: Option<Rating>,
    /// The latest score: from the most recent assessment (any kind) that rates this competency.
    pub latest: Option<Rating>,
    /// That assessment.
    pub latest_assessment_id: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    pub latest_on: Option<NaiveDate>,
    pub self_score: Option<Rating>,
    pub supervisor_score: Option<Rating>,
    pub training_score: Option<Rating>,
    /// `latest` is below `required`.
    pub gap: bool,
}

/// A worker's competencies against the levels required of them (in one framework version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WorkerGaps {
    pub worker_id: i64,
    pub framework_version: String,
    pub cadre: Cadre,
    pub role: WorkerRole,
    /// The worker's assessments in this version.
    pub assessments: u32,
    /// The most recent assessment of each kind in this version.
    pub latest_self_id: Option<i64>,
    pub latest_supervisor_id: Option<i64>,
    pub latest_training_id: Option<i64>,
    /// Competencies whose latest score is below the required level.
    pub gaps: Vec<Gap>,
    /// Competencies the worker's latest self-assessment scores and the supervisor's latest
    /// scores differ in.
    pub self_supervisor_differences: Vec<RatingDifference>,
    /// Every competency of the version.
    pub competencies: Vec<CompetencyStanding>,
}

/// Which workers and assessments an aggregate counts. Empty fields mean "no filter".
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GapQuery {
    /// Framework version; the current one when absent.
    pub version: Option<String>,
    pub province: Option<String>,
    pub district: Option<String>,
    pub cadre: Option<Cadre>,
    pub role: Option<WorkerRole>,
    pub sector: Option<Sector>,
    pub sex: Option<Sex>,
    pub status: Option<EmploymentStatus>,
    pub org_id: Option<i64>,
    /// Count only assessments of this kind (each worker's latest of that kind).
    pub kind: Option<AssessmentKind>,
    /// The caller's team: the workers they supervise, instead of the workers in their scope.
    pub team: bool,
}

/// The area x competency table of a scope: per competency, the workers assessed and below the
/// required level (each worker's latest assessment in the version counts).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GapReport {
    pub framework_version: String,
    /// Workers with an assessment counted.
    pub workers_assessed: u32,
    pub cells: Vec<AggregateCell>,
}

/// One rating of one assessment, with the worker it is about, for exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentExportRow {
    pub assessment_id: i64,
    pub worker_id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub sex: String,
    pub cadre: String,
    pub role: String,
    pub sector: String,
    pub province_code: Option<String>,
    pub district_code: Option<String>,
    pub workplace_code: String,
    pub framework_version: String,
    pub kind: String,
    pub assessed_on: String,
    pub assessor: String,
    pub recorded_by: String,
    pub indicator_code: String,
    pub rating: i64,
    pub evidence: Option<String>,
}

/// Columns of the assessments export (one row per rating).
pub const ASSESSMENT_EXPORT_COLUMNS: &[&str] = &[
    "assessment_id",
    "worker_id",
    "name_km",
    "name_latin",
    "sex",
    "cadre",
    "role",
    "sector",
    "province_code",
    "district_code",
    "workplace_code",
    "framework_version",
    "kind",
    "assessed_on",
    "assessor",
    "recorded_by",
    "area_code",
    "competency_code",
    "indicator_code",
    "rating",
    "evidence",
];

impl Store {
    /// Each competency's latest score in the current framework (what [`Store::worker_gaps`]
    /// calls `latest`), per worker, for the workers whose assessments `filter` selects (a
    /// condition on `a`, the assessments, with `$1` bound to `id`): read for many workers at
    /// once. Not scoped: the caller decides what may be seen of it.
    pub(crate) async fn latest_competency_scores(
        &self,
        filter: &str,
        id: i64,
    ) -> Result<HashMap<i64, BTreeMap<String, Rating>>> {
        let fw = self.current_framework().await?;
        let mut by_worker: HashMap<i64, Vec<Vec<IndicatorRating>>> = HashMap::new();
        // Oldest first, as `latest_by_competency` takes them.
        for a in self.read_assessments(filter, id).await? {
            if a.framework_version == fw.version {
                by_worker.entry(a.worker_id).or_default().push(a.plain_ratings());
            }
        }
        Ok(by_worker
            .into_iter()
            .map(|(worker, plain)| {
                let latest: Vec<IndicatorRating> =
                    latest_by_competency(&fw, plain.iter().map(Vec::as_slice)).into_iter().map(|(_, r)| r).collect();
                let scores =
                    competency_scores(&fw, &latest).into_iter().filter_map(|s| Some((s.competency_code, s.score?)));
                (worker, scores.collect())
            })
            .collect())
    }

    /// A worker's competencies against the levels their cadre and role require, in one
    /// framework version (the current one by default). Each competency is measured on its
    /// latest score: the most recent assessment (of any kind) that rates it; likewise for the
    /// self, supervisor and training columns and the self/supervisor comparison, each within
    /// its kind.
    pub async fn worker_gaps(&self, p: &Principal, worker_id: i64, version: Option<&str>) -> Result<WorkerGaps> {
        let access = self.assessment_access(p, worker_id).await?.ok_or(StoreError::NotFound)?;
        let fw = self.framework_or_current(version).await?.ok_or(StoreError::NotFound)?;
        let reqs = self.competency_requirements(&fw.version).await?;
        let required = required_levels(&reqs, Some(access.worker.cadre), Some(access.worker.role));
        // Oldest first (by date, then as recorded), as the aggregates take them.
        let all: Vec<Assessment> = self
            .read_assessments("a.worker_id = $1", worker_id)
            .await?
            .into_iter()
            .filter(|a| a.framework_version == fw.version)
            .collect();
        let plain: Vec<Vec<IndicatorRating>> = all.iter().map(Assessment::plain_ratings).collect();
        let merged = |kind: Option<AssessmentKind>| -> (Vec<IndicatorRating>, HashMap<String, i64>) {
            let picked: Vec<usize> = (0..all.len()).filter(|&n| kind.is_none_or(|k| all[n].kind == k)).collect();
            let latest = latest_by_competency(&fw, picked.iter().map(|&n| plain[n].as_slice()));
            let mut source = HashMap::new();
            let ratings = latest
                .into_iter()
                .map(|(n, r)| {
                    if let Some(c) = fw.competency_of_indicator(&r.indicator_code) {
                        source.insert(c.code.clone(), all[picked[n]].id);
                    }
                    r
                })
                .collect();
            (ratings, source)
        };
        let scores = |ratings: &[IndicatorRating]| -> HashMap<String, Rating> {
            competency_scores(&fw, ratings).into_iter().filter_map(|s| Some((s.competency_code, s.score?))).collect()
        };
        let (latest, source) = merged(None);
        let (own, _) = merged(Some(AssessmentKind::SelfAssessment));
        let (sup, _) = merged(Some(AssessmentKind::Supervisor));
        let (training, _) = merged(Some(AssessmentKind::Training));
        let (m_latest, m_self, m_sup, m_training) = (scores(&latest), scores(&own), scores(&sup), scores(&training));
        let gaps = competency::gaps(&fw, &required, &latest);
        let differences = compare_self_supervisor(&fw, &own, &sup);
        let by_id: HashMap<i64, &Assessment> = all.iter().map(|a| (a.id, a)).collect();
        let competencies = fw
            .competencies()
            .map(|(area, c)| {
                let req = required.get(&c.code).copied();
                let score = m_latest.get(&c.code).copied();
                let from = source.get(&c.code).and_then(|id| by_id.get(id));
                CompetencyStanding {
                    area_code: area.code.clone(),
                    competency_code: c.code.clone(),
                    required: req,
                    latest: score,
                    latest_assessment_id: from.map(|a| a.id),
                    latest_on: from.map(|a| a.assessed_on),
                    self_score: m_self.get(&c.code).copied(),
                    supervisor_score: m_sup.get(&c.code).copied(),
                    training_score: m_training.get(&c.code).copied(),
                    gap: matches!((score, req), (Some(s), Some(r)) if s < r),
                }
            })
            .collect();
        let last_of = |k: AssessmentKind| all.iter().rev().find(|a| a.kind == k).map(|a| a.id);
        Ok(WorkerGaps {
            worker_id,
            framework_version: fw.version.clone(),
            cadre: access.worker.cadre,
            role: access.worker.role,
            assessments: all.len() as u32,
            latest_self_id: last_of(AssessmentKind::SelfAssessment),
            latest_supervisor_id: last_of(AssessmentKind::Supervisor),
            latest_training_id: last_of(AssessmentKind::Training),
            gaps,
            self_supervisor_differences: differences,
            competencies,
        })
    }

    // ------------------------------------------------------------------------------------------
    // Aggregates and exports
    // ------------------------------------------------------------------------------------------

    /// `WHERE` conditions selecting the workers an aggregate or export counts (over
    /// `workers w JOIN admin_units u`): the caller's scope (or team) and the filters.
    fn gap_population(&self, p: &Principal, q: &GapQuery, sql: &mut Sql) {
        if q.team {
            sql.push(" AND w.id IN (SELECT s.worker_id FROM worker_supervisors s WHERE s.supervisor_user_id = ")
                .int(p.user_id)
                .push(")");
        } else {
            if !p.may(Action::ReadWorkers) {
                sql.push(" AND 1 = 0");
            }
            push_worker_scope(sql, &p.worker_scope());
        }
        push_attribute_filters(
            sql,
            &AttributeFilter {
                province: q.province.as_deref(),
                district: q.district.as_deref(),
                commune: None,
                cadre: q.cadre,
                sector: q.sector,
                status: q.status,
                role: q.role,
                sex: q.sex,
                org_id: q.org_id,
            },
        );
    }

    /// The area x competency gap table of the caller's scope (or team) with the filters of `q`.
    /// Each worker counts with their latest score in each competency: from the most recent
    /// assessment in the framework version (of the kind asked, if any) that rates it, measured
    /// against the level the worker's current cadre and role require.
    pub async fn competency_gaps(&self, p: &Principal, q: &GapQuery) -> Result<GapReport> {
        let fw = self.framework_or_current(q.version.as_deref()).await?.ok_or(StoreError::NotFound)?;
        let reqs = self.competency_requirements(&fw.version).await?;
        // Per worker and competency, the sum and count of the ratings of the latest assessment
        // that rates the competency: ratings grouped by assessment and competency, ranked by
        // date then id within each worker and competency (rank 1: the latest).
        let mut sql = Sql::new(
            "SELECT worker_id, cadre, role, competency_code, s, n FROM (SELECT a.worker_id, w.cadre, w.role, \
             r.competency_code, CAST(SUM(r.rating) AS BIGINT) AS s, COUNT(*) AS n, ROW_NUMBER() OVER \
             (PARTITION BY a.worker_id, r.competency_code ORDER BY a.assessed_on DESC, a.id DESC) AS latest \
             FROM competency_ratings r JOIN competency_assessments a ON a.id = r.assessment_id \
             JOIN workers w ON w.id = a.worker_id JOIN admin_units u ON u.code = w.workplace_code \
             WHERE a.framework_version = ",
        );
        sql.text(fw.version.clone());
        if let Some(k) = q.kind {
            sql.push(" AND a.kind = ").text(k.code());
        }
        self.gap_population(p, q, &mut sql);
        sql.push(
            " GROUP BY a.worker_id, w.cadre, w.role, r.competency_code, a.id, a.assessed_on) ranked WHERE latest = 1",
        );
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut cells: Vec<AggregateCell> = fw
            .competencies()
            .map(|(a, c)| AggregateCell {
                area_code: a.code.clone(),
                competency_code: c.code.clone(),
                assessed: 0,
                with_requirement: 0,
                below_required: 0,
                share_below: None,
            })
            .collect();
        let index: HashMap<&str, usize> =
            fw.competencies().enumerate().map(|(n, (_, c))| (c.code.as_str(), n)).collect();
        let mut levels: HashMap<(Cadre, WorkerRole), BTreeMap<String, Rating>> = HashMap::new();
        let mut workers = std::collections::BTreeSet::new();
        for r in &rows {
            let code: String = r.try_get("competency_code")?;
            let Some(&n) = index.get(code.as_str()) else { continue };
            let (sum, count): (i64, i64) = (r.try_get("s")?, r.try_get("n")?);
            let Some(score) = Rating::floor_of_mean(sum as u32, count as u32) else { continue };
            let cadre = parse_col(r, "cadre", Cadre::parse)?;
            let role = parse_col(r, "role", WorkerRole::parse)?;
            workers.insert(r.try_get::<i64, _>("worker_id")?);
            let required = levels
                .entry((cadre, role))
                .or_insert_with(|| required_levels(&reqs, Some(cadre), Some(role)))
                .get(&code)
                .copied();
            let cell = &mut cells[n];
            cell.assessed += 1;
            if let Some(level) = required {
                cell.with_requirement += 1;
                if score < level {
                    cell.below_required += 1;
                }
            }
        }
        for cell in &mut cells {
            cell.share_below = (cell.assessed > 0).then(|| f64::from(cell.below_required) / f64::from(cell.assessed));
        }
        Ok(GapReport { framework_version: fw.version.clone(), workers_assessed: workers.len() as u32, cells })
    }

    /// Every rating of every assessment of the workers an aggregate would count (all
    /// assessments, not only the latest; every version unless `q.version` names one), for
    /// export. Ordered by assessment, then framework order.
    pub async fn assessment_export_rows(&self, p: &Principal, q: &GapQuery) -> Result<Vec<AssessmentExportRow>> {
        let mut sql = Sql::new(
            "SELECT a.id AS assessment_id, a.worker_id, w.name_km, w.name_latin, w.sex, w.cadre, w.role, w.sector, \
             u.province_code, u.district_code, w.workplace_code, a.framework_version, a.kind, a.assessed_on, \
             a.assessor, a.recorded_by, r.indicator_code, r.rating, r.evidence \
             FROM competency_assessments a JOIN workers w ON w.id = a.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code \
             JOIN competency_ratings r ON r.assessment_id = a.id WHERE 1 = 1",
        );
        if let Some(v) = q.version.non_blank().map(String::from) {
            sql.push(" AND a.framework_version = ").text(v);
        }
        if let Some(k) = q.kind {
            sql.push(" AND a.kind = ").text(k.code());
        }
        self.gap_population(p, q, &mut sql);
        sql.push(" ORDER BY a.worker_id, a.assessed_on, a.id");
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(AssessmentExportRow {
                assessment_id: r.try_get("assessment_id")?,
                worker_id: r.try_get("worker_id")?,
                name_km: r.try_get("name_km")?,
                name_latin: r.try_get("name_latin")?,
                sex: r.try_get("sex")?,
                cadre: r.try_get("cadre")?,
                role: r.try_get("role")?,
                sector: r.try_get("sector")?,
                province_code: r.try_get("province_code")?,
                district_code: r.try_get("district_code")?,
                workplace_code: r.try_get("workplace_code")?,
                framework_version: r.try_get("framework_version")?,
                kind: r.try_get("kind")?,
                assessed_on: r.try_get("assessed_on")?,
                assessor: r.try_get("assessor")?,
                recorded_by: r.try_get("recorded_by")?,
                indicator_code: r.try_get("indicator_code")?,
                rating: r.try_get("rating")?,
                evidence: r.try_get("evidence")?,
            });
        }
        // Framework order within each assessment.
        let mut orders: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for v in out.iter().map(|r| r.framework_version.clone()).collect::<std::collections::BTreeSet<_>>() {
            if let Some(fw) = self.framework(&v).await? {
                orders.insert(v, fw.indicators().enumerate().map(|(n, (_, _, i))| (i.code.clone(), n)).collect());
            }
        }
        out.sort_by_cached_key(|r| {
            let pos = orders.get(&r.framework_version).and_then(|o| o.get(&r.indicator_code)).copied();
            (r.worker_id, r.assessed_on.clone(), r.assessment_id, pos.unwrap_or(usize::MAX))
        });
        Ok(out)
    }
}
