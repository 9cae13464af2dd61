//! The national competency framework and competency assessments.
//!
//! The framework is MoSVY's *Guidelines on Basic Competencies for the Social Workforce in
//! Cambodia* (2019, seed 000) as versioned reference data: three areas (values and ethics,
//! knowledge, skills), their competencies and each competency's indicators, in English and
//! Khmer. The shipped version is `data/competency-framework/mosvy-2019.json`; an administrator
//! loads a revised version by importing a file of the same shape, checked by
//! [`parse_framework`].
//!
//! Codes (stable; assessments refer to indicators by code):
//! - area: `values`, `knowledge`, `skills`;
//! - competency: `<area>.<NN>` (`values.03`, `skills.10`), and in the knowledge area
//!   `knowledge.<group>.<NN>` (`knowledge.theories.04`, `knowledge.practice.01`,
//!   `knowledge.conventions.01`, `knowledge.laws.03`, `knowledge.policies.02`), numbered in
//!   the document's order;
//! - indicator: `<competency>.<n>`, its position under the competency (`values.03.2`).
//!
//! A competency's code starts with its area's code and a dot, an indicator's with its
//! competency's code and a dot; [`parse_framework`] enforces this.
//!
//! Assessments rate indicators on the [`Rating`] scale (1 not yet … 4 advanced). The score of
//! a competency is the mean of its rated indicators' ratings **rounded down** to a rating
//! (indicators left unrated are not counted; a competency with no rated indicator has no
//! score). Gap, comparison and aggregate functions below work on these scores. Pure: no I/O.

use crate::text::NonBlank;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{vocabulary, Cadre, WorkerRole};
use crate::validate::{FieldError, ValidationErrors};

/// The framework shipped with Komlang (MoSVY 2019), as JSON.
pub const BUNDLED_FRAMEWORK: &str = include_str!("../../../data/competency-framework/mosvy-2019.json");

/// The shipped framework, parsed. Its validity is checked by the tests.
#[allow(clippy::expect_used, reason = "the shipped file is checked by the tests; it is not user input")]
pub fn bundled() -> Framework {
    parse_framework(BUNDLED_FRAMEWORK).expect("the bundled competency framework is valid")
}

// ---------------------------------------------------------------------------------------------
// The framework
// ---------------------------------------------------------------------------------------------

/// One version of the competency framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// Version code, e.g. `mosvy-2019`; assessments keep pointing to the version they used.
    pub version: String,
    pub title_en: String,
    pub title_km: String,
    /// The document this version transcribes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// How reliable the Khmer texts are (e.g. a working translation still to be checked).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub translation_note: String,
    /// How the texts were transcribed from the source.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub transcription_note: String,
    pub areas: Vec<Area>,
}

/// An area of the framework: values and ethics, knowledge or skills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub code: String,
    pub name_en: String,
    pub name_km: String,
    pub competencies: Vec<Competency>,
}

/// A competency, with the indicators a worker is rated on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Competency {
    pub code: String,
    pub name_en: String,
    pub name_km: String,
    /// Knowledge sub-group (`theories`, `practice_models`, `international_conventions`,
    /// `national_laws`, `national_policies`); empty outside the knowledge area.
    #[serde(default)]
    pub group: String,
    pub indicators: Vec<Indicator>,
}

/// One observable indicator of a competency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub code: String,
    pub text_en: String,
    pub text_km: String,
}

vocabulary!(
    /// Sub-groups of the knowledge area (seed 000, Area 2 A, B and C 1-3).
    CompetencyGroup, "competency_group" {
        Theories => "theories",
        PracticeModels => "practice_models",
        InternationalConventions => "international_conventions",
        NationalLaws => "national_laws",
        NationalPolicies => "national_policies",
    }
);

impl Competency {
    /// The knowledge sub-group, or `None` when `group` is empty.
    pub fn group_kind(&self) -> Option<CompetencyGroup> {
        CompetencyGroup::parse(&self.group)
    }
}

impl Framework {
    /// Every competency with its area, in framework order.
    pub fn competencies(&self) -> impl Iterator<Item = (&Area, &Competency)> {
        self.areas.iter().flat_map(|a| a.competencies.iter().map(move |c| (a, c)))
    }

    /// Every indicator with its area and competency, in framework order.
    pub fn indicators(&self) -> impl Iterator<Item = (&Area, &Competency, &Indicator)> {
        self.competencies().flat_map(|(a, c)| c.indicators.iter().map(move |i| (a, c, i)))
    }

    pub fn area(&self, code: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.code == code)
    }

    pub fn competency(&self, code: &str) -> Option<&Competency> {
        self.competencies().map(|(_, c)| c).find(|c| c.code == code)
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators().map(|(_, _, i)| i).find(|i| i.code == code)
    }

    /// The competency an indicator belongs to.
    pub fn competency_of_indicator(&self, indicator_code: &str) -> Option<&Competency> {
        self.indicators().find(|(_, _, i)| i.code == indicator_code).map(|(_, c, _)| c)
    }

    pub fn competency_count(&self) -> usize {
        self.competencies().count()
    }

    pub fn indicator_count(&self) -> usize {
        self.indicators().count()
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------------------------

/// One problem found in a framework file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FrameworkProblem {
    /// Where: the code of the area, competency or indicator (`values.03.2`); its position
    /// (`areas[0].competencies[2]`) when its code is empty; `framework` for the top level.
    pub at: String,
    /// The field concerned: `code`, `name_km`, `text_en`, `group`, `indicators`, ...
    pub field: String,
    /// What is wrong: `required` (empty text), `empty_list`, `duplicate_code`, `invalid_code`,
    /// `code_outside_parent`, `unknown_group`.
    pub code: String,
    /// The offending or expected value: the duplicated code, the unknown group, the prefix a
    /// code must start with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl FrameworkProblem {
    fn new(at: &str, field: &str, code: &str, value: Option<String>) -> Self {
        Self { at: at.to_string(), field: field.to_string(), code: code.to_string(), value }
    }
}

impl fmt::Display for FrameworkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.value.as_deref().unwrap_or("");
        match self.code.as_str() {
            "required" => write!(f, "{}: {} is empty", self.at, self.field),
            "empty_list" => write!(f, "{}: {} has no entries (at least one is required)", self.at, self.field),
            "duplicate_code" => write!(f, "{}: code {value:?} is used more than once", self.at),
            "invalid_code" => {
                write!(f, "{}: code {value:?} may contain only a-z, 0-9, '.', '_' and '-'", self.at)
            }
            "code_outside_parent" => write!(f, "{}: {} must start with {value:?}", self.at, self.field),
            "unknown_group" => {
                write!(f, "{}: group {value:?} is not one of \"\", {}", self.at, CompetencyGroup::codes().join(", "))
            }
            other => write!(f, "{}: {}: {other} {value}", self.at, self.field),
        }
    }
}

/// Why a framework file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameworkError {
    /// Not JSON, or not the expected shape (missing field, unknown field, wrong type).
    #[error("the framework file is not of the expected shape (line {line}, column {column}): {message}")]
    Syntax { line: usize, column: usize, message: String },
    /// The shape is right but the content breaks the framework's rules.
    #[error("the framework file has {} problem(s): {}", .0.len(), join_problems(.0))]
    Invalid(Vec<FrameworkProblem>),
}

impl FrameworkError {
    /// The content problems (empty for a syntax error).
    pub fn problems(&self) -> &[FrameworkProblem] {
        match self {
            FrameworkError::Syntax { .. } => &[],
            FrameworkError::Invalid(p) => p,
        }
    }
}

fn join_problems(problems: &[FrameworkProblem]) -> String {
    problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ")
}

/// Parses and checks a framework file. Every content problem is reported at once:
/// empty texts (either language), areas/competencies without entries (every competency needs
/// at least one indicator), codes that are empty, malformed, not under their parent's code or
/// used twice, and groups outside the allowed set.
pub fn parse_framework(json: &str) -> Result<Framework, FrameworkError> {
    let framework: Framework = serde_json::from_str(json).map_err(|e| FrameworkError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let problems = check_framework(&framework);
    if problems.is_empty() {
        Ok(framework)
    } else {
        Err(FrameworkError::Invalid(problems))
    }
}

/// The content problems of a framework (empty when it is valid).
pub fn check_framework(fw: &Framework) -> Vec<FrameworkProblem> {
    let mut p = Vec::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let top = "framework";
    check_code(&mut p, top, "version", &fw.version, None);
    for (field, text) in [("title_en", &fw.title_en), ("title_km", &fw.title_km)] {
        require_text(&mut p, top, field, text);
    }
    if fw.areas.is_empty() {
        p.push(FrameworkProblem::new(top, "areas", "empty_list", None));
    }
    for (ai, area) in fw.areas.iter().enumerate() {
        let at = label(&area.code, || format!("areas[{ai}]"));
        check_code(&mut p, &at, "code", &area.code, None);
        check_unique(&mut p, &mut seen, &at, &area.code);
        require_text(&mut p, &at, "name_en", &area.name_en);
        require_text(&mut p, &at, "name_km", &area.name_km);
        if area.competencies.is_empty() {
            p.push(FrameworkProblem::new(&at, "competencies", "empty_list", None));
        }
        for (ci, comp) in area.competencies.iter().enumerate() {
            let at = label(&comp.code, || format!("areas[{ai}].competencies[{ci}]"));
            check_code(&mut p, &at, "code", &comp.code, Some(&area.code));
            check_unique(&mut p, &mut seen, &at, &comp.code);
            require_text(&mut p, &at, "name_en", &comp.name_en);
            require_text(&mut p, &at, "name_km", &comp.name_km);
            if !comp.group.is_empty() && comp.group_kind().is_none() {
                p.push(FrameworkProblem::new(&at, "group", "unknown_group", Some(comp.group.clone())));
            }
            if comp.indicators.is_empty() {
                p.push(FrameworkProblem::new(&at, "indicators", "empty_list", None));
            }
            for (ii, ind) in comp.indicators.iter().enumerate() {
                let at = label(&ind.code, || format!("areas[{ai}].competencies[{ci}].indicators[{ii}]"));
                check_code(&mut p, &at, "code", &ind.code, Some(&comp.code));
                check_unique(&mut p, &mut seen, &at, &ind.code);
                require_text(&mut p, &at, "text_en", &ind.text_en);
                require_text(&mut p, &at, "text_km", &ind.text_km);
            }
        }
    }
    p
}

fn label(code: &str, position: impl FnOnce() -> String) -> String {
    if code.trim().is_empty() {
        position()
    } else {
        code.to_string()
    }
}

fn require_text(p: &mut Vec<FrameworkProblem>, at: &str, field: &str, text: &str) {
    if text.trim().is_empty() {
        p.push(FrameworkProblem::new(at, field, "required", None));
    }
}

fn check_code(p: &mut Vec<FrameworkProblem>, at: &str, field: &str, code: &str, parent: Option<&str>) {
    if code.is_empty() {
        p.push(FrameworkProblem::new(at, field, "required", None));
        return;
    }
    let well_formed = code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && !code.starts_with('.')
        && !code.ends_with('.');
    if !well_formed {
        p.push(FrameworkProblem::new(at, field, "invalid_code", Some(code.to_string())));
        return;
    }
    if let Some(parent) = parent.filter(|s| !s.is_empty()) {
        let prefix = format!("{parent}.");
        if !code.starts_with(&prefix) {
            p.push(FrameworkProblem::new(at, field, "code_outside_parent", Some(prefix)));
        }
    }
}

fn check_unique<'a>(p: &mut Vec<FrameworkProblem>, seen: &mut BTreeSet<&'a str>, at: &str, code: &'a str) {
    if !code.is_empty() && !seen.insert(code) {
        p.push(FrameworkProblem::new(at, "code", "duplicate_code", Some(code.to_string())));
    }
}

// ---------------------------------------------------------------------------------------------
// Rating scale and required levels
// ---------------------------------------------------------------------------------------------

/// The rating scale of every assessment. Stored and sent as its number (1-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
#[repr(u8)]
pub enum Rating {
    NotYet = 1,
    Developing = 2,
    Competent = 3,
    Advanced = 4,
}

impl Rating {
    pub const ALL: &'static [Rating] = &[Rating::NotYet, Rating::Developing, Rating::Competent, Rating::Advanced];
    /// Prefix of the labels' translation keys.
    pub const LABEL_PREFIX: &'static str = "rating";

    /// The number on the scale, 1-4.
    pub fn value(self) -> u8 {
        self as u8
    }

    /// The rating with this number; `None` outside 1-4.
    pub fn from_value(value: i64) -> Option<Self> {
        match value {
            1 => Some(Rating::NotYet),
            2 => Some(Rating::Developing),
            3 => Some(Rating::Competent),
            4 => Some(Rating::Advanced),
            _ => None,
        }
    }

    /// Parses a number `1`-`4` or a code (`not_yet`, `developing`, `competent`, `advanced`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        match s.parse::<i64>() {
            Ok(n) => Self::from_value(n),
            Err(_) => Self::ALL.iter().copied().find(|r| r.code() == s),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Rating::NotYet => "not_yet",
            Rating::Developing => "developing",
            Rating::Competent => "competent",
            Rating::Advanced => "advanced",
        }
    }

    /// Translation key of the label, e.g. `rating.not_yet`.
    pub fn label_key(self) -> String {
        format!("{}.{}", Self::LABEL_PREFIX, self.code())
    }

    /// The mean of `count` ratings summing to `sum`, rounded down; `None` when `count` is 0.
    pub fn floor_of_mean(sum: u32, count: u32) -> Option<Self> {
        if count == 0 {
            return None;
        }
        Self::from_value(i64::from(sum / count))
    }
}

impl TryFrom<u8> for Rating {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Rating::from_value(i64::from(value)).ok_or_else(|| format!("rating {value} is outside the scale 1-4"))
    }
}

impl From<Rating> for u8 {
    fn from(r: Rating) -> u8 {
        r.value()
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value())
    }
}

impl utoipa::PartialSchema for Rating {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(4))
            .description(Some("1 not yet, 2 developing, 3 competent, 4 advanced"))
            .into()
    }
}

impl ToSchema for Rating {}

/// Whom a required level applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequirementFor {
    Cadre(Cadre),
    Role(WorkerRole),
}

/// The level a cadre or a role requires in one competency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequiredLevel {
    pub applies_to: RequirementFor,
    pub competency_code: String,
    pub level: Rating,
}

/// The level required of a worker with this cadre and role, per competency code. Where both
/// the cadre and the role set a level for one competency, the higher level applies.
pub fn required_levels(
    requirements: &[RequiredLevel],
    cadre: Option<Cadre>,
    role: Option<WorkerRole>,
) -> BTreeMap<String, Rating> {
    let mut out: BTreeMap<String, Rating> = BTreeMap::new();
    for r in requirements {
        let applies = match r.applies_to {
            RequirementFor::Cadre(c) => cadre == Some(c),
            RequirementFor::Role(x) => role == Some(x),
        };
        if applies {
            let level = out.entry(r.competency_code.clone()).or_insert(r.level);
            *level = (*level).max(r.level);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Assessments: scores, gaps, self vs supervisor
// ---------------------------------------------------------------------------------------------

/// One indicator's rating in an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IndicatorRating {
    pub indicator_code: String,
    pub rating: Rating,
}

impl IndicatorRating {
    pub fn new(indicator_code: &str, rating: Rating) -> Self {
        Self { indicator_code: indicator_code.to_string(), rating }
    }
}

/// A rating that cannot be recorded against a framework version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, thiserror::Error)]
#[serde(tag = "problem", content = "indicator_code", rename_all = "snake_case")]
pub enum RatingProblem {
    #[error("indicator {0:?} is not in this framework version")]
    UnknownIndicator(String),
    #[error("indicator {0:?} is rated more than once")]
    DuplicateIndicator(String),
}

/// Checks that every rated indicator belongs to the framework and is rated once.
pub fn check_ratings(framework: &Framework, ratings: &[IndicatorRating]) -> Result<(), Vec<RatingProblem>> {
    let known: BTreeSet<&str> = framework.indicators().map(|(_, _, i)| i.code.as_str()).collect();
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for r in ratings {
        let code = r.indicator_code.as_str();
        if !known.contains(code) {
            problems.push(RatingProblem::UnknownIndicator(code.to_string()));
        } else if !seen.insert(code) {
            problems.push(RatingProblem::DuplicateIndicator(code.to_string()));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A competency's score in one assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CompetencyScore {
    pub area_code: String,
    pub competency_code: String,
    /// Indicators of the competency.
    pub indicators: u32,
    /// Indicators rated in the assessment.
    pub rated: u32,
    /// Sum of those ratings.
    pub sum: u32,
    /// Mean of the ratings rounded down; `None` when no indicator is rated.
    pub score: Option<Rating>,
}

impl CompetencyScore {
    /// The unrounded mean, for display.
    pub fn mean(&self) -> Option<f64> {
        (self.rated > 0).then(|| f64::from(self.sum) / f64::from(self.rated))
    }
}

/// Ratings by indicator code; where an indicator is rated twice the last rating counts, and
/// codes outside the framework are ignored by the scoring functions (see [`check_ratings`]).
fn ratings_by_code(ratings: &[IndicatorRating]) -> HashMap<&str, Rating> {
    ratings.iter().map(|r| (r.indicator_code.as_str(), r.rating)).collect()
}

/// The score of every competency of the framework, in framework order.
pub fn competency_scores(framework: &Framework, ratings: &[IndicatorRating]) -> Vec<CompetencyScore> {
    let by_code = ratings_by_code(ratings);
    framework.competencies().map(|(area, comp)| score_one(area, comp, &by_code)).collect()
}

fn score_one(area: &Area, comp: &Competency, by_code: &HashMap<&str, Rating>) -> CompetencyScore {
    let (mut rated, mut sum) = (0u32, 0u32);
    for ind in &comp.indicators {
        if let Some(r) = by_code.get(ind.code.as_str()) {
            rated += 1;
            sum += u32::from(r.value());
        }
    }
    CompetencyScore {
        area_code: area.code.clone(),
        competency_code: comp.code.clone(),
        indicators: comp.indicators.len() as u32,
        rated,
        sum,
        score: Rating::floor_of_mean(sum, rated),
    }
}

/// A competency scored below the level required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Gap {
    pub area_code: String,
    pub competency_code: String,
    pub required: Rating,
    pub score: Rating,
}

/// The competencies, in framework order, whose score in this assessment is below the required
/// level (`required`: level per competency code, e.g. from [`required_levels`]). Competencies
/// without a requirement or without any rated indicator are not gaps.
pub fn gaps(framework: &Framework, required: &BTreeMap<String, Rating>, ratings: &[IndicatorRating]) -> Vec<Gap> {
    competency_scores(framework, ratings)
        .into_iter()
        .filter_map(|s| {
            let required = *required.get(&s.competency_code)?;
            let score = s.score?;
            (score < required).then_some(Gap {
                area_code: s.area_code,
                competency_code: s.competency_code,
                required,
                score,
            })
        })
        .collect()
}

/// An indicator rated differently by the worker and the supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IndicatorDifference {
    pub indicator_code: String,
    pub self_rating: Rating,
    pub supervisor_rating: Rating,
}

/// A competency the worker and the supervisor score differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RatingDifference {
    pub area_code: String,
    pub competency_code: String,
    pub self_score: Rating,
    pub supervisor_score: Rating,
    /// Self score minus supervisor score: positive when the worker rates themselves higher.
    pub difference: i8,
    /// The indicators of this competency rated differently (both rated).
    pub indicators: Vec<IndicatorDifference>,
}

/// The competencies, in framework order, whose self-assessment score and supervisor score
/// differ by one level or more (competencies scored in both assessments only).
pub fn compare_self_supervisor(
    framework: &Framework,
    self_ratings: &[IndicatorRating],
    supervisor_ratings: &[IndicatorRating],
) -> Vec<RatingDifference> {
    let mine = ratings_by_code(self_ratings);
    let theirs = ratings_by_code(supervisor_ratings);
    let mut out = Vec::new();
    for (area, comp) in framework.competencies() {
        let (Some(s), Some(v)) = (score_one(area, comp, &mine).score, score_one(area, comp, &theirs).score) else {
            continue;
        };
        let difference = s.value() as i8 - v.value() as i8;
        if difference == 0 {
            continue;
        }
        let indicators = comp
            .indicators
            .iter()
            .filter_map(|i| {
                let (a, b) = (*mine.get(i.code.as_str())?, *theirs.get(i.code.as_str())?);
                (a != b).then(|| IndicatorDifference {
                    indicator_code: i.code.clone(),
                    self_rating: a,
                    supervisor_rating: b,
                })
            })
            .collect();
        out.push(RatingDifference {
            area_code: area.code.clone(),
            competency_code: comp.code.clone(),
            self_score: s,
            supervisor_score: v,
            difference,
            indicators,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Aggregates over many workers
// ---------------------------------------------------------------------------------------------

/// One assessment of one worker, with the worker's cadre and role, as input to [`aggregate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkerAssessment {
    pub worker_id: i64,
    #[schema(value_type = String, format = Date)]
    pub assessed_on: NaiveDate,
    pub cadre: Option<Cadre>,
    pub role: Option<WorkerRole>,
    pub ratings: Vec<IndicatorRating>,
}

/// The counts for one competency (one cell of the area x competency heat map).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AggregateCell {
    pub area_code: String,
    pub competency_code: String,
    /// Workers whose latest assessment scores this competency.
    pub assessed: u32,
    /// Of those, workers whose cadre or role sets a required level for it.
    pub with_requirement: u32,
    /// Of those, workers scored below the required level.
    pub below_required: u32,
    /// `below_required / assessed`; `None` when nobody is assessed.
    pub share_below: Option<f64>,
}

/// A worker's standing from several assessments, competency by competency: the ratings of each
/// competency come from the last assessment (in the order given: oldest first) that rates at
/// least one of its indicators. A later assessment that leaves a competency unrated (say, one
/// made at the end of a training on a few competencies) does not erase its earlier score.
/// Returns the ratings in framework order, with the index of the assessment each competency's
/// ratings come from.
pub fn latest_by_competency<'a>(
    framework: &Framework,
    assessments: impl IntoIterator<Item = &'a [IndicatorRating]>,
) -> Vec<(usize, IndicatorRating)> {
    let assessments: Vec<HashMap<&str, Rating>> = assessments.into_iter().map(ratings_by_code).collect();
    let mut out = Vec::new();
    for (_, comp) in framework.competencies() {
        let source = assessments
            .iter()
            .enumerate()
            .rev()
            .find(|(_, a)| comp.indicators.iter().any(|i| a.contains_key(i.code.as_str())));
        if let Some((n, a)) = source {
            for i in &comp.indicators {
                if let Some(r) = a.get(i.code.as_str()) {
                    out.push((n, IndicatorRating::new(&i.code, *r)));
                }
            }
        }
    }
    out
}

/// Each worker's latest assessment (latest `assessed_on`; on the same date, the one that comes
/// last in `assessments`), ordered by worker id.
pub fn latest_per_worker(assessments: &[WorkerAssessment]) -> Vec<&WorkerAssessment> {
    let mut latest: BTreeMap<i64, &WorkerAssessment> = BTreeMap::new();
    for a in assessments {
        match latest.get(&a.worker_id) {
            Some(prev) if prev.assessed_on > a.assessed_on => {}
            _ => {
                latest.insert(a.worker_id, a);
            }
        }
    }
    latest.into_values().collect()
}

/// Per competency (framework order), over each worker's latest assessment: how many workers are
/// assessed, how many have a required level, how many are below it, and the share below.
/// The caller selects the assessments (scope, kind, sector, sex, cadre filters) beforehand.
pub fn aggregate(
    framework: &Framework,
    requirements: &[RequiredLevel],
    assessments: &[WorkerAssessment],
) -> Vec<AggregateCell> {
    let mut cells: Vec<AggregateCell> = framework
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
    for assessment in latest_per_worker(assessments) {
        let required = required_levels(requirements, assessment.cadre, assessment.role);
        for (cell, score) in cells.iter_mut().zip(competency_scores(framework, &assessment.ratings)) {
            let Some(score) = score.score else { continue };
            cell.assessed += 1;
            if let Some(level) = required.get(&cell.competency_code) {
                cell.with_requirement += 1;
                if score < *level {
                    cell.below_required += 1;
                }
            }
        }
    }
    for cell in &mut cells {
        cell.share_below = (cell.assessed > 0).then(|| f64::from(cell.below_required) / f64::from(cell.assessed));
    }
    cells
}

/// A training-needs list: the competencies with workers below the required level, most such
/// workers first (then the higher share, then framework order).
pub fn training_needs(cells: &[AggregateCell]) -> Vec<&AggregateCell> {
    let mut needs: Vec<(usize, &AggregateCell)> =
        cells.iter().enumerate().filter(|(_, c)| c.below_required > 0).collect();
    needs.sort_by(|(ia, a), (ib, b)| {
        b.below_required
            .cmp(&a.below_required)
            .then_with(|| b.share_below.unwrap_or(0.0).total_cmp(&a.share_below.unwrap_or(0.0)))
            .then_with(|| ia.cmp(ib))
    });
    needs.into_iter().map(|(_, c)| c).collect()
}

// ---------------------------------------------------------------------------------------------
// Assessments as recorded: kinds, submitted input, validation
// ---------------------------------------------------------------------------------------------

vocabulary!(
    /// Who made an assessment: the worker themself, their supervisor, or a trainer at the end
    /// of a training.
    AssessmentKind, "assessment_kind" {
        SelfAssessment => "self",
        Supervisor => "supervisor",
        Training => "training",
    }
);

/// Longest notes of an assessment, in characters.
pub const NOTES_MAX: usize = 4000;
/// Longest evidence note of one rating, in characters.
pub const EVIDENCE_MAX: usize = 2000;
/// Longest assessor name, in characters.
pub const ASSESSOR_MAX: usize = 200;

/// One indicator's rating as submitted. The rating is a plain number so that a value outside
/// the scale is reported on its field (`rating.<indicator code>`) instead of refusing the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    pub indicator_code: String,
    /// 1 not yet, 2 developing, 3 competent, 4 advanced.
    #[schema(value_type = Rating)]
    pub rating: i64,
    /// What the rating rests on (observed practice, a case file, a test...).
    #[serde(default)]
    pub evidence: Option<String>,
}

/// An assessment as submitted (form or API). Only the indicators rated are listed: rating a
/// subset of the framework is allowed, but at least one indicator must be rated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    #[schema(value_type = AssessmentKind, required = true)]
    pub kind: Option<String>,
    /// The day of the assessment (YYYY-MM-DD), not in the future.
    #[schema(value_type = String, format = Date, required = true)]
    pub assessed_on: Option<String>,
    /// Who assessed (e.g. the trainer's name); the account recording it when absent.
    pub assessor: Option<String>,
    pub notes: Option<String>,
    /// The framework version the indicator codes belong to; the current version when absent.
    pub framework_version: Option<String>,
    #[serde(default)]
    pub ratings: Vec<RatingInput>,
}

/// One rating as recorded, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RatedIndicator {
    pub indicator_code: String,
    pub rating: Rating,
    pub evidence: Option<String>,
}

impl RatedIndicator {
    pub fn plain(&self) -> IndicatorRating {
        IndicatorRating { indicator_code: self.indicator_code.clone(), rating: self.rating }
    }
}

/// A validated assessment, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentDraft {
    pub kind: AssessmentKind,
    pub assessed_on: NaiveDate,
    /// `None`: the account recording the assessment.
    pub assessor: Option<String>,
    pub notes: Option<String>,
    pub framework_version: String,
    /// In framework order.
    pub ratings: Vec<RatedIndicator>,
}

fn clean_text(v: &Option<String>) -> Option<String> {
    v.non_blank().map(String::from)
}

fn check_len(errs: &mut ValidationErrors, field: &str, v: &Option<String>, max: usize) -> Option<String> {
    let v = clean_text(v);
    if let Some(s) = &v {
        if s.chars().count() > max {
            errs.push(FieldError::new(field, "too_long").with("max", max));
        } else if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
            errs.push(FieldError::new(field, "invalid_characters"));
        }
    }
    v
}

/// Checks an assessment against the framework version it refers to. Every problem is reported
/// at once, one per field: `kind` (required, `invalid_choice`), `assessed_on` (required,
/// `invalid_date`, `future_date`), `assessor` / `notes` (`too_long`), `ratings` (`no_ratings`:
/// nothing rated), `rating.<indicator code>` (`rating_out_of_scale`, `unknown_indicator`: not in
/// this framework version, `duplicate_indicator`) and `evidence.<indicator code>` (`too_long`).
/// Whether the caller may record this kind for this worker is the store's business.
pub fn validate_assessment(
    framework: &Framework,
    input: &AssessmentInput,
    today: NaiveDate,
) -> Result<AssessmentDraft, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let kind = match clean_text(&input.kind) {
        None => {
            errs.push(FieldError::new("kind", "required"));
            None
        }
        Some(s) => {
            let k = AssessmentKind::parse(&s);
            if k.is_none() {
                errs.push(FieldError::new("kind", "invalid_choice").with("value", s));
            }
            k
        }
    };
    let assessed_on = match clean_text(&input.assessed_on) {
        None => {
            errs.push(FieldError::new("assessed_on", "required"));
            None
        }
        Some(s) => match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Ok(d) if d > today => {
                errs.push(FieldError::new("assessed_on", "future_date"));
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                errs.push(FieldError::new("assessed_on", "invalid_date").with("value", s));
                None
            }
        },
    };
    let assessor = check_len(&mut errs, "assessor", &input.assessor, ASSESSOR_MAX);
    let notes = check_len(&mut errs, "notes", &input.notes, NOTES_MAX);

    let position: HashMap<&str, usize> =
        framework.indicators().enumerate().map(|(n, (_, _, i))| (i.code.as_str(), n)).collect();
    let mut seen = BTreeSet::new();
    let mut ratings: Vec<(usize, RatedIndicator)> = Vec::new();
    if input.ratings.is_empty() {
        errs.push(FieldError::new("ratings", "no_ratings"));
    }
    for r in &input.ratings {
        let code = r.indicator_code.trim();
        let field = format!("rating.{code}");
        let Some(&pos) = position.get(code) else {
            errs.push(
                FieldError::new(&field, "unknown_indicator")
                    .with("indicator", code)
                    .with("version", &framework.version),
            );
            continue;
        };
        if !seen.insert(code) {
            errs.push(FieldError::new(&field, "duplicate_indicator").with("indicator", code));
            continue;
        }
        let rating = Rating::from_value(r.rating);
        if rating.is_none() {
            errs.push(
                FieldError::new(&field, "rating_out_of_scale")
                    .with("value", r.rating)
                    .with("min", Rating::NotYet.value())
                    .with("max", Rating::Advanced.value()),
            );
        }
        let evidence = check_len(&mut errs, &format!("evidence.{code}"), &r.evidence, EVIDENCE_MAX);
        if let Some(rating) = rating {
            ratings.push((pos, RatedIndicator { indicator_code: code.to_string(), rating, evidence }));
        }
    }
    match (kind, assessed_on) {
        (Some(kind), Some(assessed_on)) if errs.is_empty() => {
            ratings.sort_by_key(|(pos, _)| *pos);
            Ok(AssessmentDraft {
                kind,
                assessed_on,
                assessor,
                notes,
                framework_version: framework.version.clone(),
                ratings: ratings.into_iter().map(|(_, r)| r).collect(),
            })
        }
        _ => Err(errs),
    }
}

// ---------------------------------------------------------------------------------------------
// Default required levels
// ---------------------------------------------------------------------------------------------

/// The levels Komlang proposes until MoSVY sets its own (docs/competencies.md explains them).
/// They are applied to the framework loaded when a database is created and can be changed by a
/// national administrator. Rules by cadre over whole areas and knowledge groups, then a few
/// role rules where a role clearly needs more than its cadre (the higher level applies).
pub fn default_requirements(framework: &Framework) -> Vec<RequiredLevel> {
    use Cadre::*;
    use Rating::*;
    use WorkerRole as R;
    // (area code, knowledge group, competency code) -> level; the most specific rule wins.
    type Rule = (&'static str, &'static str, &'static str, Rating);
    let cadre_rules: &[(Cadre, &[Rule])] = &[
        (
            Professional,
            &[
                ("values", "", "", Advanced),
                ("knowledge", "theories", "", Competent),
                ("knowledge", "practice_models", "", Advanced),
                ("knowledge", "international_conventions", "", Competent),
                ("knowledge", "national_laws", "", Competent),
                ("knowledge", "national_policies", "", Competent),
                ("skills", "", "", Advanced),
            ],
        ),
        (
            ParaProfessional,
            &[
                ("values", "", "", Competent),
                ("knowledge", "theories", "", Developing),
                ("knowledge", "practice_models", "", Competent),
                ("knowledge", "international_conventions", "", Developing),
                ("knowledge", "national_laws", "", Competent),
                ("knowledge", "national_policies", "", Developing),
                ("skills", "", "", Competent),
            ],
        ),
        (
            ParaSocialWorker,
            &[
                ("values", "", "", Competent),
                // Case management and basic counselling, the UN Convention on the Rights of the Child.
                ("knowledge", "", "knowledge.practice.01", Developing),
                ("knowledge", "", "knowledge.practice.02", Developing),
                ("knowledge", "", "knowledge.conventions.01", Developing),
                ("knowledge", "national_laws", "", Developing),
                // Basic skills competent: engagement, documentation, communication, interpersonal, self-care.
                ("skills", "", "", Developing),
                ("skills", "", "skills.01", Competent),
                ("skills", "", "skills.05", Competent),
                ("skills", "", "skills.06", Competent),
                ("skills", "", "skills.07", Competent),
                ("skills", "", "skills.10", Competent),
            ],
        ),
        (
            Allied,
            &[
                ("values", "", "", Competent),
                ("knowledge", "", "knowledge.conventions.01", Developing),
                ("knowledge", "national_laws", "", Developing),
                ("skills", "", "skills.01", Developing),
                ("skills", "", "skills.06", Developing),
                ("skills", "", "skills.07", Developing),
            ],
        ),
    ];
    let role_rules: &[(&[WorkerRole], &[Rule])] = &[
        (
            // Case workers: case management and the skills of each of its steps.
            &[R::DosvyCaseManagementOfficer, R::DistrictSocialWorker, R::NgoCaseWorker, R::NgoSocialWorker],
            &[
                ("knowledge", "", "knowledge.practice.01", Competent),
                ("skills", "", "skills.02", Competent),
                ("skills", "", "skills.03", Competent),
                ("skills", "", "skills.04", Competent),
                ("skills", "", "skills.05", Competent),
            ],
        ),
        (
            // Child protection officers: the child rights convention, the laws, alternative care.
            &[R::MosvyChildProtectionOfficer, R::DosvyChildProtectionOfficer],
            &[
                ("knowledge", "", "knowledge.conventions.01", Competent),
                ("knowledge", "national_laws", "", Competent),
                ("knowledge", "", "knowledge.policies.02", Competent),
            ],
        ),
        // CCWC focal points coordinate referrals.
        (&[R::CcwcFocalPoint], &[("skills", "", "skills.08", Competent)]),
        // Lecturers teach the theories and practice models.
        (
            &[R::NisaLecturer],
            &[("knowledge", "theories", "", Advanced), ("knowledge", "practice_models", "", Advanced)],
        ),
        // Managers and ministry/department officers: national policies.
        (&[R::NgoManager, R::MosvyOfficer, R::DosvyOfficer], &[("knowledge", "national_policies", "", Competent)]),
        // Police: juvenile justice, trafficking, the criminal code.
        (
            &[R::AlliedPolice],
            &[
                ("knowledge", "", "knowledge.laws.03", Competent),
                ("knowledge", "", "knowledge.laws.04", Competent),
                ("knowledge", "", "knowledge.laws.07", Competent),
            ],
        ),
        (&[R::AlliedTeacher], &[("knowledge", "", "knowledge.theories.03", Developing)]),
        (&[R::AlliedHealth], &[("knowledge", "", "knowledge.theories.04", Developing)]),
    ];
    // The level a list of rules sets for one competency: the most specific matching rule.
    let level_of = |rules: &[Rule], area: &Area, comp: &Competency| -> Option<Rating> {
        let by_code = rules.iter().find(|r| r.2 == comp.code).map(|r| r.3);
        let by_group = || {
            rules
                .iter()
                .find(|r| r.2.is_empty() && !r.1.is_empty() && r.0 == area.code && r.1 == comp.group)
                .map(|r| r.3)
        };
        let by_area = || rules.iter().find(|r| r.2.is_empty() && r.1.is_empty() && r.0 == area.code).map(|r| r.3);
        by_code.or_else(by_group).or_else(by_area)
    };
    let mut out = Vec::new();
    for (cadre, rules) in cadre_rules {
        for (area, comp) in framework.competencies() {
            if let Some(level) = level_of(rules, area, comp) {
                out.push(RequiredLevel {
                    applies_to: RequirementFor::Cadre(*cadre),
                    competency_code: comp.code.clone(),
                    level,
                });
            }
        }
    }
    for (roles, rules) in role_rules {
        for role in *roles {
            for (area, comp) in framework.competencies() {
                if let Some(level) = level_of(rules, area, comp) {
                    out.push(RequiredLevel {
                        applies_to: RequirementFor::Role(*role),
                        competency_code: comp.code.clone(),
                        level,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
