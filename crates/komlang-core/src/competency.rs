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
    /// `self`, `supervisor` or `training`.
    pub kind: Option<String>,
    /// The day of the assessment (YYYY-MM-DD), not in the future.
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
mod tests {
    use super::*;

    fn fw() -> Framework {
        bundled()
    }

    // ----- the bundled framework against seed 000 -----

    #[test]
    fn bundled_framework_parses_and_round_trips_exactly() {
        let f = fw();
        assert_eq!(f.version, "mosvy-2019");
        // The types match the file exactly: serializing gives back the same JSON.
        let original: serde_json::Value = serde_json::from_str(BUNDLED_FRAMEWORK).unwrap();
        assert_eq!(serde_json::to_value(&f).unwrap(), original);
        assert!(f.translation_note.contains("working translation"));
    }

    #[test]
    fn bundled_counts_match_seed_000() {
        let f = fw();
        let areas: Vec<&str> = f.areas.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(areas, ["values", "knowledge", "skills"]);
        assert_eq!(f.competency_count(), 56);
        assert_eq!(f.indicator_count(), 285);

        let count =
            |area: &str, group: &str| f.area(area).unwrap().competencies.iter().filter(|c| c.group == group).count();
        let indicators = |area: &str, group: &str| -> usize {
            f.area(area).unwrap().competencies.iter().filter(|c| c.group == group).map(|c| c.indicators.len()).sum()
        };
        assert_eq!(count("values", ""), 11);
        assert_eq!(f.area("values").unwrap().competencies.len(), 11);
        assert_eq!(count("knowledge", "theories"), 10);
        assert_eq!(count("knowledge", "practice_models"), 6);
        // Seed 000, Area 2 C: conventions a-e, laws and legal standards a-k, policies a-c.
        assert_eq!(count("knowledge", "international_conventions"), 5);
        assert_eq!(count("knowledge", "national_laws"), 11);
        assert_eq!(count("knowledge", "national_policies"), 3);
        assert_eq!(count("knowledge", ""), 0);
        assert_eq!(count("skills", ""), 10);
        assert_eq!(f.area("skills").unwrap().competencies.len(), 10);

        assert_eq!(indicators("values", ""), 42);
        assert_eq!(indicators("knowledge", "theories"), 51);
        assert_eq!(indicators("knowledge", "practice_models"), 65);
        assert_eq!(indicators("knowledge", "international_conventions"), 22);
        assert_eq!(indicators("knowledge", "national_laws"), 49);
        assert_eq!(indicators("knowledge", "national_policies"), 10);
        assert_eq!(indicators("skills", ""), 46);

        // A few per-competency counts from the seed.
        let n = |code: &str| f.competency(code).unwrap().indicators.len();
        assert_eq!(n("values.01"), 5); // the confidentiality exceptions are one indicator
        assert_eq!(n("knowledge.practice.01"), 17);
        assert_eq!(n("knowledge.theories.07"), 9);
        assert_eq!(n("knowledge.laws.03"), 8);
        assert_eq!(n("skills.09"), 2);
    }

    #[test]
    fn bundled_codes_follow_the_scheme() {
        let f = fw();
        let prefix = |c: &Competency| match c.group_kind() {
            None => String::new(),
            Some(CompetencyGroup::Theories) => "theories.".into(),
            Some(CompetencyGroup::PracticeModels) => "practice.".into(),
            Some(CompetencyGroup::InternationalConventions) => "conventions.".into(),
            Some(CompetencyGroup::NationalLaws) => "laws.".into(),
            Some(CompetencyGroup::NationalPolicies) => "policies.".into(),
        };
        for area in &f.areas {
            let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
            for c in &area.competencies {
                let k = numbers.entry(prefix(c)).or_default();
                *k += 1;
                assert_eq!(c.code, format!("{}.{}{:02}", area.code, prefix(c), k));
                for (i, ind) in c.indicators.iter().enumerate() {
                    assert_eq!(ind.code, format!("{}.{}", c.code, i + 1));
                }
            }
        }
        assert_eq!(f.competency_of_indicator("knowledge.laws.03.8").unwrap().name_en, "Juvenile Justice Law");
    }

    #[test]
    fn every_text_has_khmer() {
        let f = fw();
        let khmer = |s: &str| s.chars().any(|ch| ('\u{1780}'..='\u{17FF}').contains(&ch));
        assert!(khmer(&f.title_km));
        for a in &f.areas {
            assert!(khmer(&a.name_km), "{}", a.code);
            for c in &a.competencies {
                assert!(khmer(&c.name_km), "{}", c.code);
                for i in &c.indicators {
                    assert!(khmer(&i.text_km), "{}", i.code);
                    assert!(!khmer(&i.text_en), "{}", i.code);
                }
            }
        }
    }

    #[test]
    fn indicator_texts_are_verbatim_from_seed_000() {
        let f = fw();
        let text = |code: &str| f.indicator(code).unwrap().text_en.clone();
        // Area 1, Values and ethics, 1. Dignity and right for privacy (exceptions joined in).
        assert_eq!(
            text("values.01.1"),
            "Respects the inherent worth of every individual and shows unconditional acceptance."
        );
        assert_eq!(
            text("values.01.3"),
            "Keeps confidentiality and protects the client's privacy in keeping their identity and records \
             (including electronic) except in certain narrow exceptions; only for client's interest and public \
             safety such as: Supervision/ consultation; Reporting any abuse as required by law; In an emergency \
             to protect client/others from serious bodily harm or death; Occurrence of a felony, as defined in \
             the Criminal Code."
        );
        // Area 2, Knowledge, C 2 c. Juvenile justice law.
        assert_eq!(
            text("knowledge.laws.03.1"),
            "Explains why detention is the last resort and must be as short as possible."
        );
        // Area 2, Knowledge, A 5. Empowerment theory (typographic quotes as in the seed).
        assert_eq!(
            text("knowledge.theories.05.1"),
            "Distinguishes between “enabling” and “empowering” and knows when to use each concept in the helping relationship."
        );
        // Area 3, Skills, 6. Communication skills.
        assert_eq!(
            text("skills.06.1"),
            "Listens attentively, without interrupting and using ‘active listening’—i.e. encouraging, showing understanding."
        );
        // The last indicator of the document.
        assert_eq!(
            text("skills.10.6"),
            "Is well anchored in good personal relationships and a set of clear beliefs in order to nurture self and others."
        );
        assert_eq!(
            f.competency("knowledge.conventions.01").unwrap().name_en,
            "U.N. Convention on the Rights of the Child (UNCRC)"
        );
        assert_eq!(f.competency("knowledge.laws.01").unwrap().name_km, "ច្បាប់ស្ដីពីកិច្ចការពារ និងការលើកកម្ពស់សិទ្ធិជនពិការ");
    }

    // ----- bad framework files -----

    fn tiny_json() -> serde_json::Value {
        serde_json::json!({
            "version": "test-1",
            "title_en": "Test framework",
            "title_km": "ក្របខណ្ឌសាកល្បង",
            "areas": [
                {"code": "values", "name_en": "Values", "name_km": "គុណតម្លៃ", "competencies": [
                    {"code": "values.01", "name_en": "Dignity", "name_km": "សេចក្ដីថ្លៃថ្នូរ", "group": "", "indicators": [
                        {"code": "values.01.1", "text_en": "Respects.", "text_km": "គោរព។"},
                        {"code": "values.01.2", "text_en": "Treats.", "text_km": "ប្រព្រឹត្ត។"}
                    ]},
                    {"code": "values.02", "name_en": "Service", "name_km": "សេវា", "group": "", "indicators": [
                        {"code": "values.02.1", "text_en": "Serves.", "text_km": "បម្រើ។"}
                    ]}
                ]},
                {"code": "knowledge", "name_en": "Knowledge", "name_km": "ចំណេះដឹង", "competencies": [
                    {"code": "knowledge.theories.01", "name_en": "Ecosystem", "name_km": "អេកូឡូស៊ី", "group": "theories", "indicators": [
                        {"code": "knowledge.theories.01.1", "text_en": "Understands.", "text_km": "យល់។"},
                        {"code": "knowledge.theories.01.2", "text_en": "Identifies.", "text_km": "កំណត់។"},
                        {"code": "knowledge.theories.01.3", "text_en": "Finds.", "text_km": "ស្វែងរក។"}
                    ]}
                ]}
            ]
        })
    }

    fn tiny() -> Framework {
        parse_framework(&tiny_json().to_string()).unwrap()
    }

    fn problems_of(v: serde_json::Value) -> Vec<FrameworkProblem> {
        match parse_framework(&v.to_string()) {
            Err(FrameworkError::Invalid(p)) => p,
            other => panic!("expected content problems, got {other:?}"),
        }
    }

    fn has(p: &[FrameworkProblem], at: &str, field: &str, code: &str) -> bool {
        p.iter().any(|x| x.at == at && x.field == field && x.code == code)
    }

    #[test]
    fn duplicate_codes_are_refused() {
        let mut v = tiny_json();
        v["areas"][0]["competencies"][0]["indicators"][1]["code"] = "values.01.1".into();
        let p = problems_of(v);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(has(&p, "values.01.1", "code", "duplicate_code"));
        assert_eq!(p[0].to_string(), "values.01.1: code \"values.01.1\" is used more than once");
    }

    #[test]
    fn a_competency_without_indicators_is_refused() {
        let mut v = tiny_json();
        v["areas"][0]["competencies"][1]["indicators"] = serde_json::json!([]);
        let p = problems_of(v);
        assert_eq!(p, vec![FrameworkProblem::new("values.02", "indicators", "empty_list", None)]);
        let e = parse_framework(
            &{
                let mut v = tiny_json();
                v["areas"][0]["competencies"][1]["indicators"] = serde_json::json!([]);
                v
            }
            .to_string(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("values.02: indicators has no entries"), "{e}");
    }

    #[test]
    fn unknown_groups_are_refused() {
        let mut v = tiny_json();
        v["areas"][1]["competencies"][0]["group"] = "theory".into();
        let p = problems_of(v);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].value.as_deref(), Some("theory"));
        assert!(has(&p, "knowledge.theories.01", "group", "unknown_group"));
        assert!(p[0].to_string().contains("\"theory\" is not one of"));
    }

    #[test]
    fn empty_texts_in_either_language_are_refused() {
        let mut v = tiny_json();
        v["areas"][0]["competencies"][0]["indicators"][0]["text_km"] = "  ".into();
        v["areas"][0]["competencies"][1]["name_en"] = "".into();
        v["areas"][1]["name_km"] = "".into();
        v["title_km"] = "".into();
        let p = problems_of(v);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(has(&p, "values.01.1", "text_km", "required"));
        assert!(has(&p, "values.02", "name_en", "required"));
        assert!(has(&p, "knowledge", "name_km", "required"));
        assert!(has(&p, "framework", "title_km", "required"));
    }

    #[test]
    fn bad_codes_are_refused_with_their_position() {
        let mut v = tiny_json();
        v["areas"][0]["competencies"][0]["indicators"][0]["code"] = "".into();
        v["areas"][0]["competencies"][0]["indicators"][1]["code"] = "Values 01.2".into();
        v["areas"][0]["competencies"][1]["code"] = "skills.02".into();
        v["areas"][0]["competencies"][1]["indicators"][0]["code"] = "skills.02.1".into();
        let p = problems_of(v);
        assert!(has(&p, "areas[0].competencies[0].indicators[0]", "code", "required"), "{p:?}");
        assert!(has(&p, "Values 01.2", "code", "invalid_code"));
        assert!(p
            .iter()
            .any(|x| x.at == "skills.02" && x.code == "code_outside_parent" && x.value.as_deref() == Some("values.")));
        assert_eq!(p.len(), 3, "{p:?}");
    }

    #[test]
    fn empty_lists_and_malformed_files_are_refused() {
        let mut v = tiny_json();
        v["areas"] = serde_json::json!([]);
        assert!(has(&problems_of(v), "framework", "areas", "empty_list"));

        let mut v = tiny_json();
        v["areas"][1]["competencies"] = serde_json::json!([]);
        assert!(has(&problems_of(v), "knowledge", "competencies", "empty_list"));

        // A misspelt field is not silently dropped.
        let mut v = tiny_json();
        v["areas"][0]["competencies"][0]["indicators"][0]["text_kh"] = "x".into();
        let e = parse_framework(&v.to_string()).unwrap_err();
        assert!(matches!(&e, FrameworkError::Syntax { message, .. } if message.contains("text_kh")), "{e}");
        assert!(e.problems().is_empty());

        // A missing field.
        let mut v = tiny_json();
        v["areas"][0].as_object_mut().unwrap().remove("name_km");
        assert!(matches!(parse_framework(&v.to_string()), Err(FrameworkError::Syntax { .. })));

        // Not JSON at all: the position is reported.
        match parse_framework("{\n  \"version\": ") {
            Err(FrameworkError::Syntax { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
    }

    // ----- rating scale -----

    #[test]
    fn rating_scale() {
        assert_eq!(Rating::from_value(1), Some(Rating::NotYet));
        assert_eq!(Rating::from_value(4), Some(Rating::Advanced));
        assert_eq!(Rating::from_value(0), None);
        assert_eq!(Rating::from_value(5), None);
        assert_eq!(Rating::parse(" 3 "), Some(Rating::Competent));
        assert_eq!(Rating::parse("developing"), Some(Rating::Developing));
        assert_eq!(Rating::parse("5"), None);
        assert_eq!(Rating::parse("good"), None);
        assert_eq!(Rating::Developing.label_key(), "rating.developing");
        assert_eq!(Rating::Advanced.value(), 4);
        assert!(Rating::NotYet < Rating::Advanced);
        assert_eq!(serde_json::to_string(&Rating::Competent).unwrap(), "3");
        assert_eq!(serde_json::from_str::<Rating>("2").unwrap(), Rating::Developing);
        assert!(serde_json::from_str::<Rating>("0").is_err());
        assert!(serde_json::from_str::<Rating>("7").is_err());
        assert_eq!(Rating::floor_of_mean(7, 2), Some(Rating::Competent)); // 3.5 -> 3
        assert_eq!(Rating::floor_of_mean(11, 3), Some(Rating::Competent)); // 3.67 -> 3
        assert_eq!(Rating::floor_of_mean(0, 0), None);
        let req = RequiredLevel {
            applies_to: RequirementFor::Cadre(Cadre::ParaSocialWorker),
            competency_code: "skills.01".into(),
            level: Rating::Competent,
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            serde_json::json!({"applies_to": {"cadre": "para_social_worker"}, "competency_code": "skills.01", "level": 3})
        );
    }

    // ----- assessments as submitted -----

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rin(code: &str, rating: i64) -> RatingInput {
        RatingInput { indicator_code: code.into(), rating, evidence: None }
    }

    fn good_input() -> AssessmentInput {
        AssessmentInput {
            kind: Some("supervisor".into()),
            assessed_on: Some("2025-03-01".into()),
            assessor: Some("  Sok Dara ".into()),
            notes: Some(String::new()),
            framework_version: None,
            ratings: vec![
                rin("knowledge.theories.01.2", 2),
                RatingInput { indicator_code: "values.01.1".into(), rating: 4, evidence: Some(" seen ".into()) },
            ],
        }
    }

    #[test]
    fn a_valid_assessment_becomes_a_draft_in_framework_order() {
        let d = validate_assessment(&tiny(), &good_input(), day("2025-03-01")).unwrap();
        assert_eq!(d.kind, AssessmentKind::Supervisor);
        assert_eq!(d.assessed_on, day("2025-03-01"));
        assert_eq!(d.assessor.as_deref(), Some("Sok Dara"));
        assert_eq!(d.notes, None);
        assert_eq!(d.framework_version, "test-1");
        let codes: Vec<&str> = d.ratings.iter().map(|r| r.indicator_code.as_str()).collect();
        assert_eq!(codes, ["values.01.1", "knowledge.theories.01.2"]);
        assert_eq!(d.ratings[0].evidence.as_deref(), Some("seen"));
        assert_eq!(d.ratings[0].rating, Rating::Advanced);
        assert_eq!(AssessmentKind::parse("self"), Some(AssessmentKind::SelfAssessment));
        assert_eq!(AssessmentKind::Training.label_key(), "assessment_kind.training");
    }

    #[test]
    fn every_bad_field_of_an_assessment_is_reported() {
        let f = tiny();
        let fields = |input: &AssessmentInput| -> Vec<(String, String)> {
            validate_assessment(&f, input, day("2025-03-01"))
                .unwrap_err()
                .errors
                .into_iter()
                .map(|e| (e.field, e.code))
                .collect()
        };
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        let mut i = good_input();
        i.kind = Some("peer".into());
        i.assessed_on = Some("2025-03-02".into());
        i.ratings = vec![rin("values.01.1", 5), rin("values.01.1", 3), rin("skills.01.1", 3), rin("values.02.1", 0)];
        i.notes = Some("x".repeat(NOTES_MAX + 1));
        assert_eq!(
            fields(&i),
            vec![
                pair("kind", "invalid_choice"),
                pair("assessed_on", "future_date"),
                pair("notes", "too_long"),
                pair("rating.values.01.1", "rating_out_of_scale"),
                pair("rating.values.01.1", "duplicate_indicator"),
                pair("rating.skills.01.1", "unknown_indicator"),
                pair("rating.values.02.1", "rating_out_of_scale"),
            ]
        );
        let e = validate_assessment(&f, &i, day("2025-03-01")).unwrap_err();
        let out = e.for_field("rating.values.01.1").unwrap();
        assert_eq!(
            (out.params["value"].as_str(), out.params["min"].as_str(), out.params["max"].as_str()),
            ("5", "1", "4")
        );
        assert_eq!(e.for_field("rating.skills.01.1").unwrap().params["version"], "test-1");

        let empty = AssessmentInput::default();
        assert_eq!(
            fields(&empty),
            vec![pair("kind", "required"), pair("assessed_on", "required"), pair("ratings", "no_ratings")]
        );
        let mut i = good_input();
        i.assessed_on = Some("1/3/2025".into());
        i.ratings[1].evidence = Some("e".repeat(EVIDENCE_MAX + 1));
        assert_eq!(fields(&i), vec![pair("assessed_on", "invalid_date"), pair("evidence.values.01.1", "too_long")]);
        // Today is allowed.
        let mut i = good_input();
        i.assessed_on = Some("2025-03-01".into());
        assert!(validate_assessment(&f, &i, day("2025-03-01")).is_ok());
        // JSON: an unknown field is refused, a rating is a number.
        assert!(serde_json::from_value::<AssessmentInput>(serde_json::json!({"kind": "self", "extra": 1})).is_err());
        assert!(serde_json::from_value::<AssessmentInput>(
            serde_json::json!({"ratings": [{"indicator_code": "values.01.1", "rating": 9}]})
        )
        .is_ok());
    }

    // ----- default required levels -----

    #[test]
    fn default_requirements_cover_the_bundled_framework_sensibly() {
        let f = fw();
        let reqs = default_requirements(&f);
        let mut keys = BTreeSet::new();
        for r in &reqs {
            assert!(f.competency(&r.competency_code).is_some(), "{}", r.competency_code);
            assert!(keys.insert((format!("{:?}", r.applies_to), r.competency_code.clone())), "twice: {r:?}");
        }
        let level = |cadre: Cadre, role: WorkerRole, code: &str| {
            required_levels(&reqs, Some(cadre), Some(role)).get(code).copied()
        };
        use Cadre::*;
        use WorkerRole as R;
        // Para social workers: competent in values and the basic skills.
        for (area, comp) in f.competencies().filter(|(a, _)| a.code == "values") {
            assert_eq!(level(ParaSocialWorker, R::CcwcMember, &comp.code), Some(Rating::Competent), "{}", area.code);
        }
        assert_eq!(level(ParaSocialWorker, R::CcwcMember, "skills.01"), Some(Rating::Competent));
        assert_eq!(level(ParaSocialWorker, R::CcwcMember, "skills.09"), Some(Rating::Developing));
        assert_eq!(level(ParaSocialWorker, R::CcwcMember, "knowledge.theories.01"), None);
        // The focal point's role adds networking.
        assert_eq!(level(ParaSocialWorker, R::CcwcFocalPoint, "skills.08"), Some(Rating::Competent));
        // Professional social workers: advanced in skills and values.
        for (_, comp) in f.competencies().filter(|(a, _)| a.code == "skills") {
            assert_eq!(level(Professional, R::DistrictSocialWorker, &comp.code), Some(Rating::Advanced));
        }
        assert_eq!(level(Professional, R::Other, "knowledge.laws.03"), Some(Rating::Competent));
        // A case worker's role raises case management above the cadre's level.
        assert_eq!(level(ParaSocialWorker, R::NgoCaseWorker, "knowledge.practice.01"), Some(Rating::Competent));
        assert_eq!(level(Allied, R::AlliedPolice, "knowledge.laws.03"), Some(Rating::Competent));
        // Every cadre has requirements.
        for c in Cadre::ALL {
            assert!(reqs.iter().any(|r| r.applies_to == RequirementFor::Cadre(*c)), "{c}");
        }
        // On another framework only the rules that fit apply.
        let t = default_requirements(&tiny());
        assert!(t.iter().all(|r| tiny().competency(&r.competency_code).is_some()));
        assert!(t.iter().any(|r| r.competency_code == "values.01"));
    }

    // ----- gaps and comparisons on a small framework -----

    fn r(code: &str, v: u8) -> IndicatorRating {
        IndicatorRating::new(code, Rating::try_from(v).unwrap())
    }

    fn req(applies_to: RequirementFor, code: &str, level: u8) -> RequiredLevel {
        RequiredLevel { applies_to, competency_code: code.into(), level: Rating::try_from(level).unwrap() }
    }

    #[test]
    fn scores_are_the_mean_rounded_down() {
        let f = tiny();
        let s = competency_scores(&f, &[r("values.01.1", 4), r("values.01.2", 3), r("knowledge.theories.01.1", 2)]);
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s[0].competency_code.as_str(), s[0].rated, s[0].sum, s[0].score),
            ("values.01", 2, 7, Some(Rating::Competent))
        );
        assert_eq!(s[0].mean(), Some(3.5));
        assert_eq!((s[1].competency_code.as_str(), s[1].rated, s[1].score), ("values.02", 0, None));
        assert_eq!(s[1].mean(), None);
        assert_eq!((s[2].indicators, s[2].rated, s[2].score), (3, 1, Some(Rating::Developing)));
    }

    #[test]
    fn required_levels_take_the_higher_of_cadre_and_role() {
        let reqs = [
            req(RequirementFor::Cadre(Cadre::ParaSocialWorker), "values.01", 3),
            req(RequirementFor::Role(WorkerRole::CcwcFocalPoint), "values.01", 2),
            req(RequirementFor::Role(WorkerRole::CcwcFocalPoint), "values.02", 4),
            req(RequirementFor::Cadre(Cadre::Professional), "values.02", 1),
        ];
        let m = required_levels(&reqs, Some(Cadre::ParaSocialWorker), Some(WorkerRole::CcwcFocalPoint));
        assert_eq!(m.get("values.01"), Some(&Rating::Competent));
        assert_eq!(m.get("values.02"), Some(&Rating::Advanced));
        assert_eq!(m.len(), 2);
        assert!(required_levels(&reqs, None, None).is_empty());
        let m = required_levels(&reqs, Some(Cadre::Professional), None);
        assert_eq!(m.into_iter().collect::<Vec<_>>(), vec![("values.02".to_string(), Rating::NotYet)]);
    }

    #[test]
    fn gaps_list_competencies_below_the_required_level() {
        let f = tiny();
        let required: BTreeMap<String, Rating> = [
            ("values.01".to_string(), Rating::Advanced),
            ("values.02".to_string(), Rating::Competent),
            ("knowledge.theories.01".to_string(), Rating::Developing),
        ]
        .into();
        let ratings = [
            r("values.01.1", 4),
            r("values.01.2", 3), // 3.5 -> competent, below advanced
            // values.02 not rated: not a gap
            r("knowledge.theories.01.1", 2),
            r("knowledge.theories.01.2", 2),
            r("knowledge.theories.01.3", 3), // 2.33 -> developing, meets developing
        ];
        let g = gaps(&f, &required, &ratings);
        assert_eq!(
            g,
            vec![Gap {
                area_code: "values".into(),
                competency_code: "values.01".into(),
                required: Rating::Advanced,
                score: Rating::Competent
            }]
        );
        // No requirement, no gap.
        assert!(gaps(&f, &BTreeMap::new(), &ratings).is_empty());
        // Rated low everywhere.
        let low = [r("values.01.1", 1), r("values.02.1", 2), r("knowledge.theories.01.2", 1)];
        let codes: Vec<String> = gaps(&f, &required, &low).into_iter().map(|g| g.competency_code).collect();
        assert_eq!(codes, ["values.01", "values.02", "knowledge.theories.01"]);
    }

    #[test]
    fn ratings_from_another_version_are_refused() {
        let f = tiny();
        assert!(check_ratings(&f, &[r("values.01.1", 2), r("values.02.1", 3)]).is_ok());
        let e = check_ratings(&f, &[r("values.01.1", 2), r("values.01.1", 3), r("skills.01.1", 3)]).unwrap_err();
        assert_eq!(
            e,
            vec![
                RatingProblem::DuplicateIndicator("values.01.1".into()),
                RatingProblem::UnknownIndicator("skills.01.1".into())
            ]
        );
        assert_eq!(e[1].to_string(), "indicator \"skills.01.1\" is not in this framework version");
        // Unknown codes do not count towards a score.
        let s = competency_scores(&f, &[r("values.01.1", 2), r("skills.01.1", 4)]);
        assert_eq!(s[0].score, Some(Rating::Developing));
    }

    #[test]
    fn self_and_supervisor_differences() {
        let f = tiny();
        let mine = [
            r("values.01.1", 4),
            r("values.01.2", 4), // 4
            r("values.02.1", 3), // 3
            r("knowledge.theories.01.1", 3),
            r("knowledge.theories.01.2", 3), // 3
        ];
        let theirs = [
            r("values.01.1", 3),
            r("values.01.2", 4), // 3.5 -> 3: differs by 1
            r("values.02.1", 3), // same
            r("knowledge.theories.01.1", 4),
            r("knowledge.theories.01.2", 2),
            r("knowledge.theories.01.3", 4), // 3.33 -> 3: same score though indicators differ
        ];
        let d = compare_self_supervisor(&f, &mine, &theirs);
        assert_eq!(
            d,
            vec![RatingDifference {
                area_code: "values".into(),
                competency_code: "values.01".into(),
                self_score: Rating::Advanced,
                supervisor_score: Rating::Competent,
                difference: 1,
                indicators: vec![IndicatorDifference {
                    indicator_code: "values.01.1".into(),
                    self_rating: Rating::Advanced,
                    supervisor_rating: Rating::Competent
                }],
            }]
        );
        // The supervisor higher: negative difference. Competencies rated by one side only are skipped.
        let d = compare_self_supervisor(&f, &[r("values.02.1", 1), r("values.01.1", 2)], &[r("values.02.1", 4)]);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].competency_code.as_str(), d[0].difference), ("values.02", -3));
    }

    // ----- aggregates -----

    fn wa(worker_id: i64, date: &str, cadre: Option<Cadre>, ratings: Vec<IndicatorRating>) -> WorkerAssessment {
        WorkerAssessment { worker_id, assessed_on: date.parse().unwrap(), cadre, role: None, ratings }
    }

    #[test]
    fn aggregate_counts_latest_assessments() {
        let f = tiny();
        let reqs = [
            req(RequirementFor::Cadre(Cadre::ParaSocialWorker), "values.01", 3),
            req(RequirementFor::Cadre(Cadre::Professional), "values.01", 4),
        ];
        let psw = Some(Cadre::ParaSocialWorker);
        let pro = Some(Cadre::Professional);
        let assessments = vec![
            // Worker 1: an old low assessment, superseded by a later one at competent.
            wa(1, "2024-01-10", psw, vec![r("values.01.1", 1), r("values.01.2", 1)]),
            wa(1, "2025-03-01", psw, vec![r("values.01.1", 3), r("values.01.2", 4), r("values.02.1", 2)]),
            // Worker 2: professional at 3.5 -> 3, below 4.
            wa(2, "2025-02-01", pro, vec![r("values.01.1", 3), r("values.01.2", 4)]),
            // Worker 3: para social worker at 2, below 3.
            wa(3, "2025-02-01", psw, vec![r("values.01.1", 2)]),
            // Worker 4: no cadre: assessed, no requirement.
            wa(4, "2025-02-01", None, vec![r("values.01.1", 1), r("knowledge.theories.01.3", 4)]),
        ];
        let cells = aggregate(&f, &reqs, &assessments);
        assert_eq!(cells.len(), 3);
        let v1 = &cells[0];
        assert_eq!(v1.competency_code, "values.01");
        assert_eq!((v1.assessed, v1.with_requirement, v1.below_required), (4, 3, 2));
        assert_eq!(v1.share_below, Some(0.5));
        assert_eq!((cells[1].assessed, cells[1].with_requirement, cells[1].below_required), (1, 0, 0));
        assert_eq!(cells[1].share_below, Some(0.0));
        assert_eq!((cells[2].area_code.as_str(), cells[2].assessed), ("knowledge", 1));
        assert!(aggregate(&f, &reqs, &[]).iter().all(|c| c.assessed == 0 && c.share_below.is_none()));

        let needs = training_needs(&cells);
        assert_eq!(needs.len(), 1);
        assert_eq!(needs[0].competency_code, "values.01");

        // Same date twice: the one later in the list counts.
        let same_day = vec![
            wa(9, "2025-01-01", psw, vec![r("values.01.1", 4)]),
            wa(9, "2025-01-01", psw, vec![r("values.01.1", 1)]),
        ];
        assert_eq!(latest_per_worker(&same_day)[0].ratings[0].rating, Rating::NotYet);
        assert_eq!(aggregate(&f, &reqs, &same_day)[0].below_required, 1);
    }

    #[test]
    fn the_latest_score_of_each_competency_survives_partial_assessments() {
        let f = tiny();
        let first = [r("values.01.1", 1), r("values.01.2", 2), r("values.02.1", 2)];
        let second = [r("values.01.2", 4), r("knowledge.theories.01.1", 3)]; // values.02 left unrated
        let third: [IndicatorRating; 0] = [];
        let merged = latest_by_competency(&f, [&first[..], &second[..], &third[..]]);
        let got: Vec<(usize, &str, u8)> =
            merged.iter().map(|(n, x)| (*n, x.indicator_code.as_str(), x.rating.value())).collect();
        // values.01 comes whole from the second assessment (its values.01.1 is not carried over).
        assert_eq!(got, [(1, "values.01.2", 4), (0, "values.02.1", 2), (1, "knowledge.theories.01.1", 3)]);
        assert!(latest_by_competency(&f, []).is_empty());
    }

    /// xorshift64*: deterministic pseudo-random numbers for the property test.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn aggregates_equal_a_direct_count_over_random_assessments() {
        let f = fw();
        let indicator_codes: Vec<String> = f.indicators().map(|(_, _, i)| i.code.clone()).collect();
        let competency_codes: Vec<String> = f.competencies().map(|(_, c)| c.code.clone()).collect();
        for seed in [1u64, 42, 2019, 0x5eed] {
            let mut rng = Rng(seed);
            let mut reqs = Vec::new();
            for _ in 0..60 {
                let applies_to = if rng.below(2) == 0 {
                    RequirementFor::Cadre(Cadre::ALL[rng.below(Cadre::ALL.len() as u64) as usize])
                } else {
                    RequirementFor::Role(WorkerRole::ALL[rng.below(WorkerRole::ALL.len() as u64) as usize])
                };
                let code = competency_codes[rng.below(competency_codes.len() as u64) as usize].clone();
                reqs.push(RequiredLevel {
                    applies_to,
                    competency_code: code,
                    level: Rating::ALL[rng.below(4) as usize],
                });
            }
            let mut assessments = Vec::new();
            for _ in 0..300 {
                let cadre = (rng.below(5) > 0).then(|| Cadre::ALL[rng.below(Cadre::ALL.len() as u64) as usize]);
                let role =
                    (rng.below(3) > 0).then(|| WorkerRole::ALL[rng.below(WorkerRole::ALL.len() as u64) as usize]);
                let mut ratings = Vec::new();
                for code in &indicator_codes {
                    if rng.below(3) == 0 {
                        ratings.push(IndicatorRating::new(code, Rating::ALL[rng.below(4) as usize]));
                    }
                }
                let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(rng.below(20));
                assessments.push(WorkerAssessment {
                    worker_id: rng.below(80) as i64,
                    assessed_on: day,
                    cadre,
                    role,
                    ratings,
                });
            }
            let cells = aggregate(&f, &reqs, &assessments);

            // Direct count, written independently: for each worker the index of the latest
            // assessment; for each competency the floor of the mean computed in floating point.
            let mut latest: BTreeMap<i64, usize> = BTreeMap::new();
            for (idx, a) in assessments.iter().enumerate() {
                let keep = latest.get(&a.worker_id).is_some_and(|&j| assessments[j].assessed_on > a.assessed_on);
                if !keep {
                    latest.insert(a.worker_id, idx);
                }
            }
            for (cell, (area, comp)) in cells.iter().zip(f.competencies()) {
                assert_eq!(
                    (cell.area_code.as_str(), cell.competency_code.as_str()),
                    (area.code.as_str(), comp.code.as_str())
                );
                let (mut assessed, mut with_req, mut below) = (0u32, 0u32, 0u32);
                for &idx in latest.values() {
                    let a = &assessments[idx];
                    let values: Vec<f64> = comp
                        .indicators
                        .iter()
                        .filter_map(|i| a.ratings.iter().rev().find(|x| x.indicator_code == i.code))
                        .map(|x| f64::from(x.rating as u8))
                        .collect();
                    if values.is_empty() {
                        continue;
                    }
                    assessed += 1;
                    let score = (values.iter().sum::<f64>() / values.len() as f64).floor() as u8;
                    let needed = reqs
                        .iter()
                        .filter(|q| q.competency_code == comp.code)
                        .filter(|q| match q.applies_to {
                            RequirementFor::Cadre(c) => a.cadre == Some(c),
                            RequirementFor::Role(x) => a.role == Some(x),
                        })
                        .map(|q| q.level as u8)
                        .max();
                    if let Some(needed) = needed {
                        with_req += 1;
                        if score < needed {
                            below += 1;
                        }
                    }
                }
                assert_eq!(
                    (cell.assessed, cell.with_requirement, cell.below_required),
                    (assessed, with_req, below),
                    "seed {seed}, {}",
                    comp.code
                );
                let share = (assessed > 0).then(|| f64::from(below) / f64::from(assessed));
                assert_eq!(cell.share_below, share);
            }
            assert!(cells.iter().any(|c| c.below_required > 0), "the random data exercises gaps");
            let needs = training_needs(&cells);
            assert!(needs.windows(2).all(|w| w[0].below_required >= w[1].below_required));
        }
    }
}
