//! Workforce planning: staffing norms, coverage and gaps, and a prioritized
//! deployment plan. Pure and deterministic: the same inputs always give the
//! same plan, and a plan never exceeds a unit's gap or cap nor the posts asked.
//!
//! The built-in norm is MoSVY's investment case (seed 002): one social worker
//! in each commune, two in each district and one professional social worker
//! in each province — 2,079 additional posts on the 2019 structure of 1,646
//! communes, 204 districts and 25 provinces.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::admin::AdminLevel;
use crate::model::{Cadre, Sector, WorkerRole};

/// Which workers count as filling a norm's posts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct WorkerFilter {
    /// Empty: any sector.
    pub sectors: Vec<Sector>,
    /// Empty: any cadre.
    pub cadres: Vec<Cadre>,
    /// Empty: any role.
    pub roles: Vec<WorkerRole>,
}

impl WorkerFilter {
    pub fn matches(&self, sector: Sector, cadre: Cadre, role: WorkerRole) -> bool {
        (self.sectors.is_empty() || self.sectors.contains(&sector))
            && (self.cadres.is_empty() || self.cadres.contains(&cadre))
            && (self.roles.is_empty() || self.roles.contains(&role))
    }

    /// Government workers of any cadre and role.
    pub fn government() -> Self {
        WorkerFilter { sectors: vec![Sector::Government], ..Default::default() }
    }
}

/// How many posts a norm asks of a unit. Stored and exchanged as JSON:
/// `{"kind": "per_unit", "level": "commune", "posts": 1, "counts": {...}}` or
/// `{"kind": "ratio", "level": "district", "workers": 1, "per": 100000, "children": true, "counts": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NormRule {
    /// A fixed number of posts in every unit of a level.
    PerUnit {
        level: AdminLevel,
        posts: u32,
        #[serde(default)]
        counts: WorkerFilter,
    },
    /// Posts in proportion to population at a level: `workers` per `per` people
    /// (children only when `children` is set), rounded up.
    Ratio {
        level: AdminLevel,
        workers: f64,
        per: u64,
        #[serde(default)]
        children: bool,
        #[serde(default)]
        counts: WorkerFilter,
    },
}

impl NormRule {
    pub fn level(&self) -> AdminLevel {
        match self {
            NormRule::PerUnit { level, .. } | NormRule::Ratio { level, .. } => *level,
        }
    }

    pub fn counts(&self) -> &WorkerFilter {
        match self {
            NormRule::PerUnit { counts, .. } | NormRule::Ratio { counts, .. } => counts,
        }
    }

    /// Posts required in a unit of this rule's level (None when the population it needs is unknown).
    pub fn required(&self, unit: &UnitFacts) -> Option<u32> {
        match self {
            NormRule::PerUnit { posts, .. } => Some(*posts),
            NormRule::Ratio { workers, per, children, .. } => {
                let base = if *children { unit.children? } else { unit.population? };
                if *per == 0 {
                    return None;
                }
                Some(((base as f64) * workers / (*per as f64)).ceil().max(0.0) as u32)
            }
        }
    }
}

/// A staffing norm: one rule per level (several norms can be kept side by side).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Norm {
    pub name: String,
    pub rules: Vec<NormRule>,
}

/// Why a norm cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NormError {
    /// The name is empty, too long, or not lowercase letters, digits, `-`, `_` and `.`.
    BadName,
    /// No rule.
    NoRule,
    /// Two rules for one level.
    DuplicateLevel,
    /// A rule for the country or villages (plans work on provinces, districts and communes).
    BadLevel,
    /// A ratio with `per` 0, or `workers` not a positive finite number.
    BadRatio,
}

impl NormError {
    /// The error code (translated by the web layer as `error.<code>`).
    pub fn code(self) -> &'static str {
        match self {
            NormError::BadName => "invalid_norm_name",
            NormError::NoRule => "norm_without_rule",
            NormError::DuplicateLevel => "duplicate_norm_level",
            NormError::BadLevel => "invalid_norm_level",
            NormError::BadRatio => "invalid_norm_ratio",
        }
    }
}

/// Levels a plan works on, from the top.
pub const PLAN_LEVELS: [AdminLevel; 3] = [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune];

impl Norm {
    /// The rule for units of `level`, if the norm has one.
    pub fn rule(&self, level: AdminLevel) -> Option<&NormRule> {
        self.rules.iter().find(|r| r.level() == level)
    }

    /// Checks a norm defined by a user.
    pub fn validate(&self) -> Result<(), NormError> {
        let n = &self.name;
        if n.is_empty()
            || n.len() > 64
            || !n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        {
            return Err(NormError::BadName);
        }
        if self.rules.is_empty() {
            return Err(NormError::NoRule);
        }
        let mut seen = BTreeSet::new();
        for r in &self.rules {
            if !PLAN_LEVELS.contains(&r.level()) {
                return Err(NormError::BadLevel);
            }
            if !seen.insert(r.level()) {
                return Err(NormError::DuplicateLevel);
            }
            if let NormRule::Ratio { workers, per, .. } = r {
                if *per == 0 || !workers.is_finite() || *workers <= 0.0 {
                    return Err(NormError::BadRatio);
                }
            }
        }
        Ok(())
    }
}

/// Name of the built-in investment-case norm.
pub const INVESTMENT_CASE: &str = "investment-case-2023";

/// MoSVY's investment case: one government social worker per commune, two
/// per district, one government professional social worker per province.
pub fn investment_case() -> Norm {
    let gov =
        |cadres: Vec<Cadre>, roles: Vec<WorkerRole>| WorkerFilter { sectors: vec![Sector::Government], cadres, roles };
    Norm {
        name: INVESTMENT_CASE.to_string(),
        rules: vec![
            NormRule::PerUnit {
                level: AdminLevel::Commune,
                posts: 1,
                counts: gov(vec![], vec![WorkerRole::SocialWorkAgent]),
            },
            NormRule::PerUnit {
                level: AdminLevel::District,
                posts: 2,
                counts: gov(vec![], vec![WorkerRole::DistrictSocialWorker]),
            },
            NormRule::PerUnit { level: AdminLevel::Province, posts: 1, counts: gov(vec![Cadre::Professional], vec![]) },
        ],
    }
}

/// What planning knows of one unit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitFacts {
    pub code: String,
    pub level: Option<AdminLevel>,
    pub name_en: String,
    pub name_km: String,
    /// Workers in post who count toward the norm's rule at this level.
    pub in_post: u32,
    /// All government social service workers working in the unit (for ratios).
    pub government_workers: u32,
    /// Posts approved but not filled.
    pub vacancies: u32,
    pub population: Option<u64>,
    pub children: Option<u64>,
    /// Open cases per worker, from the case management systems, when known.
    pub caseload: Option<f64>,
    /// Open cases, when known (what `caseload` is computed from).
    #[serde(default)]
    pub open_cases: Option<u64>,
    /// Any other indicator imported per unit (e.g. a poverty index), by name.
    pub indicators: BTreeMap<String, f64>,
}

impl UnitFacts {
    /// Sets `open_cases` and the caseload pressure: open cases per government
    /// worker in the unit (per one worker when there is none).
    pub fn set_open_cases(&mut self, open_cases: Option<u64>) {
        self.open_cases = open_cases;
        self.caseload = open_cases.map(|n| n as f64 / self.government_workers.max(1) as f64);
    }
}

/// Workers of one kind in one unit: what the store's grouped query returns
/// (or one worker, with `count` 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerGroup<'a> {
    /// Code of the unit (at the level being tallied) the workers' workplace lies in.
    pub code: &'a str,
    pub sector: Sector,
    pub cadre: Cadre,
    pub role: WorkerRole,
    pub count: u32,
}

/// Adds workers to the units of one level: `in_post` counts those matching
/// the norm's rule for the level, `government_workers` every government
/// worker. Groups whose code is not among `units` are ignored.
pub fn tally_workers<'a>(
    norm: &Norm,
    level: AdminLevel,
    units: &mut [UnitFacts],
    groups: impl IntoIterator<Item = WorkerGroup<'a>>,
) {
    let rule = norm.rule(level).map(|r| r.counts());
    let mut add: Vec<(u32, u32)> = vec![(0, 0); units.len()];
    {
        let index: HashMap<&str, usize> = units.iter().enumerate().map(|(i, u)| (u.code.as_str(), i)).collect();
        for g in groups {
            let Some(&i) = index.get(g.code) else { continue };
            if rule.is_some_and(|f| f.matches(g.sector, g.cadre, g.role)) {
                add[i].0 += g.count;
            }
            if g.sector == Sector::Government {
                add[i].1 += g.count;
            }
        }
    }
    for (u, (in_post, gov)) in units.iter_mut().zip(add) {
        u.in_post += in_post;
        u.government_workers += gov;
        if u.open_cases.is_some() {
            u.set_open_cases(u.open_cases);
        }
    }
}

/// Coverage of one unit under a norm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Coverage {
    pub code: String,
    pub level: AdminLevel,
    pub name_en: String,
    pub name_km: String,
    /// Workers in post who count toward the norm.
    pub in_post: u32,
    /// Posts the norm asks for (absent when a ratio norm lacks the population).
    pub required: Option<u32>,
    /// Posts missing: required − in post, never negative.
    pub gap: u32,
    pub vacancies: u32,
    /// Government social service workers in the unit (what the ratios count).
    pub government_workers: u32,
    pub population: Option<u64>,
    pub children: Option<u64>,
    pub open_cases: Option<u64>,
    /// Government workers per 10,000 population.
    pub per_10k_population: Option<f64>,
    /// Government workers per 100,000 children.
    pub per_100k_children: Option<f64>,
}

fn ratio(n: u32, base: Option<u64>, per: f64) -> Option<f64> {
    base.filter(|b| *b > 0).map(|b| (n as f64) * per / (b as f64))
}

/// Coverage of one unit under a rule.
fn cover(rule: &NormRule, level: AdminLevel, u: &UnitFacts) -> Coverage {
    let required = rule.required(u);
    Coverage {
        code: u.code.clone(),
        level,
        name_en: u.name_en.clone(),
        name_km: u.name_km.clone(),
        in_post: u.in_post,
        required,
        gap: required.map(|r| r.saturating_sub(u.in_post)).unwrap_or(0),
        vacancies: u.vacancies,
        government_workers: u.government_workers,
        population: u.population,
        children: u.children,
        open_cases: u.open_cases,
        per_10k_population: ratio(u.government_workers, u.population, 10_000.0),
        per_100k_children: ratio(u.government_workers, u.children, 100_000.0),
    }
}

/// Coverage of every unit whose level the norm has a rule for, with the
/// index of the unit it comes from.
fn coverage_indexed(norm: &Norm, units: &[UnitFacts]) -> Vec<(usize, Coverage)> {
    units
        .iter()
        .enumerate()
        .filter_map(|(i, u)| {
            let level = u.level?;
            let rule = norm.rule(level)?;
            Some((i, cover(rule, level, u)))
        })
        .collect()
}

/// Coverage of every unit whose level the norm has a rule for.
pub fn coverage(norm: &Norm, units: &[UnitFacts]) -> Vec<Coverage> {
    coverage_indexed(norm, units).into_iter().map(|(_, c)| c).collect()
}

/// Total posts a norm asks for on a structure with no one in post: the sum of
/// its per-unit rules over the units of each level.
pub fn total_required(norm: &Norm, units: &[UnitFacts]) -> u64 {
    coverage(norm, units).iter().map(|c| c.required.unwrap_or(0) as u64).sum()
}

/// Totals of a coverage table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CoverageTotals {
    pub units: u32,
    pub in_post: u64,
    pub required: u64,
    /// Posts filled toward the norm: Σ min(in post, required) (a surplus in one unit fills no other).
    pub filled: u64,
    pub gap: u64,
    pub vacancies: u64,
    pub government_workers: u64,
    pub population: Option<u64>,
    pub children: Option<u64>,
    pub per_10k_population: Option<f64>,
    pub per_100k_children: Option<f64>,
}

/// Sums a coverage table (population and children only over units that have them).
pub fn totals(cov: &[Coverage]) -> CoverageTotals {
    let mut t = CoverageTotals { units: cov.len() as u32, ..Default::default() };
    for c in cov {
        t.in_post += c.in_post as u64;
        t.required += c.required.unwrap_or(0) as u64;
        t.filled += c.required.map(|r| r.min(c.in_post)).unwrap_or(0) as u64;
        t.gap += c.gap as u64;
        t.vacancies += c.vacancies as u64;
        t.government_workers += c.government_workers as u64;
        if let Some(p) = c.population {
            *t.population.get_or_insert(0) += p;
        }
        if let Some(p) = c.children {
            *t.children.get_or_insert(0) += p;
        }
    }
    let gov_with = |f: fn(&Coverage) -> Option<u64>| -> u64 {
        cov.iter().filter(|c| f(c).is_some()).map(|c| c.government_workers as u64).sum()
    };
    let r = |n: u64, base: Option<u64>, per: f64| base.filter(|b| *b > 0).map(|b| n as f64 * per / b as f64);
    t.per_10k_population = r(gov_with(|c| c.population), t.population, 10_000.0);
    t.per_100k_children = r(gov_with(|c| c.children), t.children, 100_000.0);
    t
}

/// Weights of the priority policy (all ≥ 0; only their ratios matter).
/// Higher values rank higher: a bigger gap, more children, more open cases
/// per worker, a higher indicator (e.g. a poverty index).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Weights {
    pub gap: f64,
    pub children: f64,
    pub caseload: f64,
    /// Weight per imported indicator name.
    #[serde(default)]
    pub indicators: BTreeMap<String, f64>,
}

impl Default for Weights {
    fn default() -> Self {
        Weights { gap: 1.0, children: 1.0, caseload: 0.0, indicators: BTreeMap::new() }
    }
}

/// What a deployment plan is asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanParams {
    /// Posts to place (None: the whole gap).
    pub posts: Option<u32>,
    pub start_year: i32,
    pub target_year: i32,
    /// Posts that can be recruited in one year (None: no limit).
    pub yearly_capacity: Option<u32>,
    pub weights: Weights,
    /// At most this many new posts in one unit (on top of the gap limit).
    pub cap_per_unit: Option<u32>,
    /// Levels served one after another in this order; empty: all together.
    /// Levels left out come last, together.
    pub level_order: Vec<AdminLevel>,
    /// Units that cannot take a post in a year.
    pub blocked: BTreeSet<(String, i32)>,
}

impl PlanParams {
    pub fn new(start_year: i32, target_year: i32) -> Self {
        PlanParams {
            posts: None,
            start_year,
            target_year,
            yearly_capacity: None,
            weights: Weights::default(),
            cap_per_unit: None,
            level_order: Vec::new(),
            blocked: BTreeSet::new(),
        }
    }
}

/// Why a unit ranks where it does: the facts its priority comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    /// Rank of the unit by its opening priority (1 = first).
    pub rank: u32,
    /// Units with a gap that were ranked.
    pub of: u32,
    pub gap: u32,
    pub required: u32,
    /// The opening priority score.
    pub score: f64,
    /// Shown when the children weight is above 0.
    pub children: Option<u64>,
    /// Open cases per worker, shown when the caseload weight is above 0.
    pub caseload: Option<f64>,
    /// Indicators with a weight, as the unit has them.
    #[serde(default)]
    pub indicators: BTreeMap<String, f64>,
}

impl Reason {
    /// The reason in English (the CLI and the API's `reason`).
    pub fn english(&self) -> String {
        let mut why = format!(
            "gap {} of {} required by the norm; priority rank {} of {}",
            self.gap, self.required, self.rank, self.of
        );
        if let Some(ch) = self.children {
            why.push_str(&format!("; {ch} children"));
        }
        if let Some(cl) = self.caseload {
            why.push_str(&format!("; caseload {cl:.1}"));
        }
        for (k, v) in &self.indicators {
            why.push_str(&format!("; {k} {v}"));
        }
        why
    }
}

/// Posts placed in one unit in one year, with why it ranks where it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlannedPosts {
    pub admin_code: String,
    pub level: AdminLevel,
    pub year: i32,
    pub count: u32,
    pub reason: String,
    /// The reason's facts (for display in other languages).
    #[serde(default)]
    pub why: Reason,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Plan {
    pub posts: Vec<PlannedPosts>,
    pub total: u32,
    /// Posts asked for that could not be placed (no gap left, caps, blocked years or capacity).
    pub unplaced: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlanError {
    /// The target year is before the start year.
    TargetBeforeStart,
    /// A weight is negative or not a number.
    BadWeight,
}

/// Scales values of one factor to 0..1 by the largest value among candidates.
fn max_of(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, f64::max)
}

struct Candidate {
    /// Index in the coverage table.
    idx: usize,
    remaining: u32,
    placed: u32,
    cap: u32,
    static_score: f64,
    gap0: u32,
    /// Years in which the unit cannot take a post.
    blocked: Vec<i32>,
}

/// Heap entry: higher priority first, then the lower unit code (candidates
/// are sorted by code, so the lower index) for a stable order.
#[derive(PartialEq)]
struct Entry {
    priority: f64,
    k: usize,
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority.total_cmp(&other.priority).then_with(|| other.k.cmp(&self.k))
    }
}

/// Builds a deployment plan over the units' coverage.
///
/// Each year (start to target) posts go one at a time to the unit of highest
/// priority — `gap weight × (its remaining gap ÷ the largest gap)` plus the
/// weighted children, caseload and indicators, each scaled to 0..1 by its
/// largest value — until the posts asked, the year's capacity or the
/// candidates run out. A unit never gets more than its gap or the cap, nor a
/// post in a year it is blocked. With a level order, the levels are served
/// one after another within each year.
pub fn plan(norm: &Norm, units: &[UnitFacts], params: &PlanParams) -> Result<Plan, PlanError> {
    if params.target_year < params.start_year {
        return Err(PlanError::TargetBeforeStart);
    }
    let w = &params.weights;
    let weights_ok =
        [w.gap, w.children, w.caseload].iter().chain(w.indicators.values()).all(|x| x.is_finite() && *x >= 0.0);
    if !weights_ok {
        return Err(PlanError::BadWeight);
    }
    let indexed = coverage_indexed(norm, units);
    let facts: Vec<&UnitFacts> = indexed.iter().map(|(i, _)| &units[*i]).collect();
    let cov: Vec<Coverage> = indexed.into_iter().map(|(_, c)| c).collect();
    let total_gap: u64 = cov.iter().map(|c| c.gap as u64).sum();
    let asked = params.posts.map(|p| p as u64).unwrap_or(total_gap);

    // Static part of each unit's priority: children, caseload, indicators, scaled to 0..1.
    let max_children = max_of(facts.iter().map(|u| u.children.unwrap_or(0) as f64));
    let max_caseload = max_of(facts.iter().map(|u| u.caseload.unwrap_or(0.0)));
    let max_ind: BTreeMap<&str, f64> = w
        .indicators
        .keys()
        .map(|k| (k.as_str(), max_of(facts.iter().map(|u| u.indicators.get(k).copied().unwrap_or(0.0)))))
        .collect();
    let scaled = |v: f64, max: f64| if max > 0.0 { v / max } else { 0.0 };
    let max_gap = cov.iter().map(|c| c.gap).max().unwrap_or(0).max(1) as f64;

    let mut blocked: HashMap<&str, Vec<i32>> = HashMap::new();
    for (code, year) in &params.blocked {
        blocked.entry(code.as_str()).or_default().push(*year);
    }
    let mut cands: Vec<Candidate> = cov
        .iter()
        .enumerate()
        .filter(|(_, c)| c.gap > 0)
        .map(|(i, c)| {
            let u = facts[i];
            let mut s = w.children * scaled(u.children.unwrap_or(0) as f64, max_children)
                + w.caseload * scaled(u.caseload.unwrap_or(0.0), max_caseload);
            for (k, wk) in &w.indicators {
                s += wk * scaled(u.indicators.get(k).copied().unwrap_or(0.0), max_ind[k.as_str()]);
            }
            let cap = params.cap_per_unit.unwrap_or(u32::MAX).min(c.gap);
            let blocked = blocked.get(c.code.as_str()).cloned().unwrap_or_default();
            Candidate { idx: i, remaining: c.gap, placed: 0, cap, static_score: s, gap0: c.gap, blocked }
        })
        .collect();
    // Ties go to the lower code, whatever the order of the units given.
    cands.sort_by(|a, b| cov[a.idx].code.cmp(&cov[b.idx].code));
    let priority = |c: &Candidate| w.gap * (c.remaining as f64 / max_gap) + c.static_score;

    // Levels served in order (each level one group, levels left out last and
    // together), or all together.
    let groups: Vec<Vec<AdminLevel>> = if params.level_order.is_empty() {
        vec![AdminLevel::ALL.to_vec()]
    } else {
        let mut g: Vec<Vec<AdminLevel>> = Vec::new();
        for l in &params.level_order {
            if !g.iter().any(|x| x.contains(l)) {
                g.push(vec![*l]);
            }
        }
        let rest: Vec<AdminLevel> =
            AdminLevel::ALL.iter().copied().filter(|l| !params.level_order.contains(l)).collect();
        if !rest.is_empty() {
            g.push(rest);
        }
        g
    };

    let mut left = asked;
    let mut placed: BTreeMap<(i32, usize), u32> = BTreeMap::new();
    'years: for year in params.start_year..=params.target_year {
        let mut capacity = params.yearly_capacity.map(|c| c as u64).unwrap_or(u64::MAX);
        for group in &groups {
            if left == 0 || capacity == 0 {
                break;
            }
            let mut heap: BinaryHeap<Entry> = cands
                .iter()
                .enumerate()
                .filter(|(_, c)| group.contains(&cov[c.idx].level) && c.placed < c.cap && !c.blocked.contains(&year))
                .map(|(k, c)| Entry { priority: priority(c), k })
                .collect();
            while left > 0 && capacity > 0 {
                let Some(top) = heap.pop() else { break };
                let c = &mut cands[top.k];
                c.placed += 1;
                c.remaining -= 1;
                left -= 1;
                capacity -= 1;
                *placed.entry((year, top.k)).or_insert(0) += 1;
                if c.placed < c.cap {
                    let c = &cands[top.k];
                    heap.push(Entry { priority: priority(c), k: top.k });
                }
            }
        }
        if left == 0 {
            break 'years;
        }
    }

    // Rank of each unit by its opening priority, for the reasons.
    let opening = |c: &Candidate| w.gap * (c.gap0 as f64 / max_gap) + c.static_score;
    let mut ranked: Vec<usize> = (0..cands.len()).collect();
    ranked.sort_by(|a, b| opening(&cands[*b]).total_cmp(&opening(&cands[*a])).then_with(|| a.cmp(b)));
    let mut rank = vec![0u32; cands.len()];
    for (r, k) in ranked.iter().enumerate() {
        rank[*k] = r as u32 + 1;
    }

    let posts: Vec<PlannedPosts> = placed
        .into_iter()
        .map(|((year, k), count)| {
            let c = &cands[k];
            let cv = &cov[c.idx];
            let u = facts[c.idx];
            let why = Reason {
                rank: rank[k],
                of: cands.len() as u32,
                gap: cv.gap,
                required: cv.required.unwrap_or(0),
                score: opening(c),
                children: u.children.filter(|_| w.children > 0.0),
                caseload: u.caseload.filter(|_| w.caseload > 0.0),
                indicators: w.indicators.keys().filter_map(|k| u.indicators.get(k).map(|v| (k.clone(), *v))).collect(),
            };
            PlannedPosts { admin_code: cv.code.clone(), level: cv.level, year, count, reason: why.english(), why }
        })
        .collect();
    let total: u32 = posts.iter().map(|p| p.count).sum();
    Ok(Plan { posts, total, unplaced: (asked - total as u64).min(u32::MAX as u64) as u32 })
}

/// Social work graduates a year from RUPP (about 32 bachelor's and master's
/// graduates a year) and NISA (about 13 bachelor's graduates a year): seed
/// 002, Figure 7 and its text.
pub const DEFAULT_GRADUATES_PER_YEAR: u32 = 45;
/// Share of graduates taking a government post: 20 of the 93 graduates of
/// NISA's bachelor's programme were recruited by MoSVY (seed 001, 1.2.2).
pub const DEFAULT_UPTAKE: f64 = 0.2;
/// Share of the workforce leaving each year: an assumption (the seeds report
/// "high turnover" at commune and district level without a rate).
pub const DEFAULT_ATTRITION: f64 = 0.05;

/// Supply assumptions for a projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplyParams {
    /// Workers counting toward the norm today.
    pub in_post: u32,
    /// Posts the norm requires (kept constant over the projection).
    pub required: u32,
    pub start_year: i32,
    pub end_year: i32,
    /// Share of the workforce leaving each year (0.05 = 5%).
    pub attrition: f64,
    /// New graduates by year (years not listed: `default_graduates`).
    pub graduates: BTreeMap<i32, u32>,
    pub default_graduates: u32,
    /// Share of graduates who take up a government post (0..1).
    pub uptake: f64,
}

/// One year of a supply projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SupplyYear {
    pub year: i32,
    pub workforce: f64,
    pub required: u32,
    pub met: bool,
}

/// Projects the workforce year by year: `w(y+1) = w(y)·(1 − attrition) + graduates(y)·uptake`.
pub fn project_supply(p: &SupplyParams) -> Vec<SupplyYear> {
    let mut w = p.in_post as f64;
    let mut out = Vec::new();
    for year in p.start_year..=p.end_year {
        if year > p.start_year {
            let grads = *p.graduates.get(&(year - 1)).unwrap_or(&p.default_graduates) as f64;
            w = w * (1.0 - p.attrition.clamp(0.0, 1.0)) + grads * p.uptake.clamp(0.0, 1.0);
        }
        out.push(SupplyYear { year, workforce: w, required: p.required, met: w + 1e-9 >= p.required as f64 });
    }
    out
}

/// First year in which the norm is met, if within the projection.
pub fn year_norm_met(p: &SupplyParams) -> Option<i32> {
    project_supply(p).into_iter().find(|y| y.met).map(|y| y.year)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, level: AdminLevel) -> UnitFacts {
        UnitFacts { code: code.into(), level: Some(level), ..Default::default() }
    }

    /// A structure with the given numbers of provinces, districts and communes.
    fn structure(provinces: usize, districts: usize, communes: usize) -> Vec<UnitFacts> {
        let mut v = Vec::new();
        v.extend((0..provinces).map(|i| unit(&format!("P{i:03}"), AdminLevel::Province)));
        v.extend((0..districts).map(|i| unit(&format!("D{i:04}"), AdminLevel::District)));
        v.extend((0..communes).map(|i| unit(&format!("C{i:05}"), AdminLevel::Commune)));
        v
    }

    #[test]
    fn investment_case_gives_2079_posts_on_the_2019_structure() {
        let units = structure(25, 204, 1646);
        assert_eq!(total_required(&investment_case(), &units), 2079);
        let p = plan(&investment_case(), &units, &PlanParams::new(2024, 2027)).unwrap();
        assert_eq!(p.total, 2079);
        assert_eq!(p.unplaced, 0);
    }

    #[test]
    fn staff_in_post_reduce_the_gap() {
        let mut units = structure(1, 1, 2);
        units[1].in_post = 1; // the district has one of its two
        units[2].in_post = 3; // more than needed: no gap, never negative
        let cov = coverage(&investment_case(), &units);
        let gaps: Vec<u32> = cov.iter().map(|c| c.gap).collect();
        assert_eq!(gaps, vec![1, 1, 0, 1]);
    }

    #[test]
    fn capacity_spreads_posts_over_years_and_caps_hold() {
        let units = structure(2, 3, 10);
        let mut params = PlanParams::new(2025, 2027);
        params.yearly_capacity = Some(5);
        params.cap_per_unit = Some(1);
        let p = plan(&investment_case(), &units, &params).unwrap();
        for y in 2025..=2027 {
            assert!(p.posts.iter().filter(|x| x.year == y).map(|x| x.count).sum::<u32>() <= 5);
        }
        let mut per_unit: BTreeMap<&str, u32> = BTreeMap::new();
        for x in &p.posts {
            *per_unit.entry(&x.admin_code).or_default() += x.count;
        }
        assert!(per_unit.values().all(|n| *n <= 1));
        assert_eq!(p.total, 15, "2 + 3 + 10 units, one post each at most");
    }

    #[test]
    fn priority_follows_children_and_blocked_years_are_respected() {
        let mut units = structure(0, 0, 3);
        units[0].children = Some(100);
        units[1].children = Some(5_000);
        units[2].children = Some(900);
        let mut params = PlanParams::new(2026, 2026);
        params.posts = Some(2);
        let p = plan(&investment_case(), &units, &params).unwrap();
        let codes: Vec<&str> = p.posts.iter().map(|x| x.admin_code.as_str()).collect();
        assert_eq!(codes, vec!["C00001", "C00002"]);
        assert!(p.posts[0].reason.contains("5000 children"), "{}", p.posts[0].reason);
        params.blocked.insert(("C00001".into(), 2026));
        let p = plan(&investment_case(), &units, &params).unwrap();
        let codes: Vec<&str> = p.posts.iter().map(|x| x.admin_code.as_str()).collect();
        assert_eq!(codes, vec!["C00000", "C00002"]);
    }

    #[test]
    fn level_order_serves_provinces_first() {
        let units = structure(2, 2, 2);
        let mut params = PlanParams::new(2026, 2026);
        params.posts = Some(2);
        params.level_order = vec![AdminLevel::Province, AdminLevel::District, AdminLevel::Commune];
        let p = plan(&investment_case(), &units, &params).unwrap();
        assert!(p.posts.iter().all(|x| x.level == AdminLevel::Province));
    }

    #[test]
    fn ratio_norms_round_up_and_need_population() {
        let norm = Norm {
            name: "per-children".into(),
            rules: vec![NormRule::Ratio {
                level: AdminLevel::District,
                workers: 1.0,
                per: 10_000,
                children: true,
                counts: WorkerFilter::default(),
            }],
        };
        let mut units = structure(0, 2, 0);
        units[0].children = Some(25_000);
        let cov = coverage(&norm, &units);
        assert_eq!(cov[0].required, Some(3));
        assert_eq!(cov[1].required, None);
        assert_eq!(cov[1].gap, 0);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let units = structure(1, 1, 1);
        assert_eq!(plan(&investment_case(), &units, &PlanParams::new(2027, 2026)), Err(PlanError::TargetBeforeStart));
        let mut p = PlanParams::new(2026, 2027);
        p.weights.gap = -1.0;
        assert_eq!(plan(&investment_case(), &units, &p), Err(PlanError::BadWeight));
    }

    #[test]
    fn supply_projection_finds_the_year_the_norm_is_met() {
        let p = SupplyParams {
            in_post: 100,
            required: 150,
            start_year: 2025,
            end_year: 2035,
            attrition: 0.1,
            graduates: BTreeMap::new(),
            default_graduates: 40,
            uptake: 0.5,
        };
        let years = project_supply(&p);
        assert_eq!(years[0].workforce, 100.0);
        assert!((years[1].workforce - 110.0).abs() < 1e-9, "100·0.9 + 40·0.5");
        // Steady state is 200; from 2026: 110, 119, 127.1, 134.39, 140.95, 146.86, then 152.17 in 2032.
        assert_eq!(year_norm_met(&p), Some(2032));
        let never = SupplyParams { default_graduates: 0, ..p };
        assert_eq!(year_norm_met(&never), None);
    }

    /// Deterministic pseudo-random structures for the properties below.
    fn random_units(seed: u64, n: usize) -> Vec<UnitFacts> {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut next = move |m: u64| {
            x ^= x >> 33;
            x = x.wrapping_mul(0xff51afd7ed558ccd);
            x ^= x >> 33;
            x % m.max(1)
        };
        (0..n)
            .map(|i| {
                let level = [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune][next(3) as usize];
                UnitFacts {
                    code: format!("U{i:05}"),
                    level: Some(level),
                    in_post: next(3) as u32,
                    children: Some(next(20_000)),
                    caseload: Some(next(50) as f64),
                    ..Default::default()
                }
            })
            .collect()
    }

    #[test]
    fn plans_never_exceed_gaps_caps_or_posts_and_are_repeatable() {
        for seed in 0..200u64 {
            let units = random_units(seed, 1 + (seed as usize % 60));
            let mut params = PlanParams::new(2025, 2025 + (seed % 4) as i32);
            params.posts = Some((seed * 7 % 90) as u32);
            params.cap_per_unit = if seed % 3 == 0 { Some(1) } else { None };
            params.yearly_capacity = if seed % 2 == 0 { Some(1 + (seed % 13) as u32) } else { None };
            params.weights.caseload = (seed % 5) as f64;
            let norm = investment_case();
            let p = plan(&norm, &units, &params).unwrap();
            assert_eq!(p, plan(&norm, &units, &params).unwrap(), "seed {seed}: same inputs, same plan");
            assert!(p.total <= params.posts.unwrap(), "seed {seed}");
            let cov: BTreeMap<String, u32> = coverage(&norm, &units).into_iter().map(|c| (c.code, c.gap)).collect();
            let mut per_unit: BTreeMap<&str, u32> = BTreeMap::new();
            for x in &p.posts {
                *per_unit.entry(&x.admin_code).or_default() += x.count;
                assert!((params.start_year..=params.target_year).contains(&x.year));
            }
            for (code, n) in per_unit {
                assert!(n <= cov[code], "seed {seed}: {code} gets {n} > gap {}", cov[code]);
                if let Some(cap) = params.cap_per_unit {
                    assert!(n <= cap);
                }
            }
            if let Some(capacity) = params.yearly_capacity {
                for y in params.start_year..=params.target_year {
                    assert!(p.posts.iter().filter(|x| x.year == y).map(|x| x.count).sum::<u32>() <= capacity);
                }
            }
            let gap_total: u32 = cov.values().sum();
            assert_eq!(p.total + p.unplaced, params.posts.unwrap(), "seed {seed}");
            if params.cap_per_unit.is_none() && params.yearly_capacity.is_none() {
                assert_eq!(p.total, params.posts.unwrap().min(gap_total), "seed {seed}: places all it can");
            }
        }
    }

    #[test]
    fn norms_are_stored_as_tagged_json() {
        let v = serde_json::to_value(investment_case()).unwrap();
        assert_eq!(v["rules"][0]["kind"], "per_unit");
        assert_eq!(v["rules"][0]["level"], "commune");
        assert_eq!(v["rules"][0]["counts"]["roles"][0], "social_work_agent");
        let ratio: NormRule = serde_json::from_value(serde_json::json!(
            {"kind": "ratio", "level": "district", "workers": 1, "per": 100000, "children": true}
        ))
        .unwrap();
        assert_eq!(
            ratio,
            NormRule::Ratio {
                level: AdminLevel::District,
                workers: 1.0,
                per: 100_000,
                children: true,
                counts: WorkerFilter::default()
            }
        );
        let back: Norm = serde_json::from_value(v).unwrap();
        assert_eq!(back, investment_case());
    }

    #[test]
    fn user_norms_are_checked() {
        assert_eq!(investment_case().validate(), Ok(()));
        let rule =
            |level| NormRule::Ratio { level, workers: 1.0, per: 10_000, children: false, counts: Default::default() };
        let n = |name: &str, rules: Vec<NormRule>| Norm { name: name.into(), rules };
        assert_eq!(n("per-10k", vec![rule(AdminLevel::Province)]).validate(), Ok(()));
        assert_eq!(n("Per 10k", vec![rule(AdminLevel::Province)]).validate(), Err(NormError::BadName));
        assert_eq!(n("", vec![rule(AdminLevel::Province)]).validate(), Err(NormError::BadName));
        assert_eq!(n("x", vec![]).validate(), Err(NormError::NoRule));
        assert_eq!(
            n("x", vec![rule(AdminLevel::Province), rule(AdminLevel::Province)]).validate(),
            Err(NormError::DuplicateLevel)
        );
        assert_eq!(n("x", vec![rule(AdminLevel::Village)]).validate(), Err(NormError::BadLevel));
        let zero = NormRule::Ratio {
            level: AdminLevel::Commune,
            workers: 0.0,
            per: 10_000,
            children: false,
            counts: Default::default(),
        };
        assert_eq!(n("x", vec![zero]).validate(), Err(NormError::BadRatio));
    }

    #[test]
    fn workers_are_tallied_by_the_rule_of_their_level() {
        use crate::model::{Cadre as C, Sector as S, WorkerRole as R};
        let mut units = structure(0, 2, 0);
        units[0].set_open_cases(Some(30));
        let g = |code, sector, cadre, role, count| WorkerGroup { code, sector, cadre, role, count };
        tally_workers(
            &investment_case(),
            AdminLevel::District,
            &mut units,
            [
                g("D0000", S::Government, C::ParaProfessional, R::DistrictSocialWorker, 1),
                g("D0000", S::Government, C::ParaProfessional, R::DistrictOfficer, 2),
                g("D0000", S::Ngo, C::Professional, R::DistrictSocialWorker, 5),
                g("D0001", S::Government, C::Professional, R::DistrictSocialWorker, 3),
                g("nowhere", S::Government, C::Professional, R::DistrictSocialWorker, 9),
            ],
        );
        assert_eq!((units[0].in_post, units[0].government_workers), (1, 3));
        assert_eq!((units[1].in_post, units[1].government_workers), (3, 3));
        assert_eq!(units[0].caseload, Some(10.0), "30 open cases for 3 government workers");
        let cov = coverage(&investment_case(), &units);
        assert_eq!((cov[0].gap, cov[1].gap), (1, 0));
        let t = totals(&cov);
        assert_eq!((t.required, t.in_post, t.filled, t.gap), (4, 4, 3, 1), "a surplus fills no other unit");
    }

    #[test]
    fn ratios_and_totals() {
        let mut units = structure(2, 0, 0);
        units[0].government_workers = 5;
        units[0].population = Some(100_000);
        units[0].children = Some(40_000);
        units[1].government_workers = 7;
        let cov = coverage(&investment_case(), &units);
        assert_eq!(cov[0].per_10k_population, Some(0.5));
        assert_eq!(cov[0].per_100k_children, Some(12.5));
        assert_eq!(cov[1].per_10k_population, None, "no population, no ratio");
        let t = totals(&cov);
        assert_eq!(t.population, Some(100_000));
        assert_eq!(t.per_10k_population, Some(0.5), "only units with a population count in the ratio");
    }

    #[test]
    fn levels_left_out_of_the_order_come_last() {
        let units = structure(1, 1, 1);
        let mut params = PlanParams::new(2026, 2026);
        params.posts = Some(3);
        params.level_order = vec![AdminLevel::Commune];
        let p = plan(&investment_case(), &units, &params).unwrap();
        assert_eq!(p.total, 3);
        params.yearly_capacity = Some(1);
        let p = plan(&investment_case(), &units, &params).unwrap();
        assert_eq!(p.posts.len(), 1);
        assert_eq!(p.posts[0].level, AdminLevel::Commune);
    }

    #[test]
    fn reasons_name_the_facts_they_come_from() {
        let mut units = structure(0, 0, 2);
        units[0].indicators.insert("poverty".into(), 0.4);
        units[1].indicators.insert("poverty".into(), 0.9);
        let mut params = PlanParams::new(2026, 2026);
        params.weights =
            Weights { gap: 1.0, children: 0.0, caseload: 0.0, indicators: [("poverty".into(), 2.0)].into() };
        let p = plan(&investment_case(), &units, &params).unwrap();
        assert_eq!(p.posts.len(), 2);
        let first = p.posts.iter().find(|x| x.admin_code == "C00001").unwrap();
        assert_eq!(first.why.rank, 1);
        assert_eq!(first.why.of, 2);
        assert!(
            first.reason.contains("priority rank 1 of 2") && first.reason.contains("poverty 0.9"),
            "{}",
            first.reason
        );
        assert_eq!(first.reason, first.why.english());
        assert_eq!(first.why.children, None, "children carry no weight here");
    }

    /// A plan on the 2025 structure (1,661 communes, 210 districts, 25 provinces).
    #[test]
    fn investment_case_on_the_2025_structure() {
        let units = structure(25, 210, 1661);
        assert_eq!(total_required(&investment_case(), &units), 1661 + 2 * 210 + 25);
        let mut params = PlanParams::new(2025, 2027);
        params.posts = Some(2079);
        params.yearly_capacity = Some(700);
        let p = plan(&investment_case(), &units, &params).unwrap();
        assert_eq!(p.total, 2079);
        for y in 2025..=2027 {
            assert_eq!(
                p.posts.iter().filter(|x| x.year == y).map(|x| x.count).sum::<u32>(),
                [700, 700, 679][(y - 2025) as usize]
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn arb_units() -> impl Strategy<Value = Vec<UnitFacts>> {
            prop::collection::vec(
                (0usize..3, 0u32..4, prop::option::of(0u64..50_000), prop::option::of(0u64..200), 0u8..4),
                0..40,
            )
            .prop_map(|v| {
                v.into_iter()
                    .enumerate()
                    .map(|(i, (level, in_post, children, cases, poverty))| {
                        let mut u = UnitFacts {
                            code: format!("U{:03}", (i * 7919) % 1000),
                            level: Some(PLAN_LEVELS[level]),
                            in_post,
                            government_workers: in_post,
                            children,
                            ..Default::default()
                        };
                        u.set_open_cases(cases);
                        u.indicators.insert("poverty".into(), poverty as f64 / 4.0);
                        u
                    })
                    .collect()
            })
        }

        fn arb_params() -> impl Strategy<Value = PlanParams> {
            (
                prop::option::of(0u32..120),
                0i32..4,
                prop::option::of(0u32..15),
                prop::option::of(1u32..3),
                prop::collection::vec(0usize..3, 0..3),
                (0.0f64..3.0, 0.0f64..3.0, 0.0f64..3.0, 0.0f64..3.0),
                prop::collection::btree_set((0usize..1000, 0i32..4), 0..30),
            )
                .prop_map(|(posts, years, capacity, cap, order, (g, ch, cl, pov), blocked)| {
                    let mut p = PlanParams::new(2025, 2025 + years);
                    p.posts = posts;
                    p.yearly_capacity = capacity;
                    p.cap_per_unit = cap;
                    p.level_order = order.into_iter().map(|l| PLAN_LEVELS[l]).collect();
                    p.weights =
                        Weights { gap: g, children: ch, caseload: cl, indicators: [("poverty".into(), pov)].into() };
                    p.blocked = blocked.into_iter().map(|(c, y)| (format!("U{c:03}"), 2025 + y)).collect();
                    p
                })
        }

        proptest! {
            #[test]
            fn plans_respect_every_limit(units in arb_units(), params in arb_params()) {
                let norm = investment_case();
                let p = plan(&norm, &units, &params).unwrap();
                prop_assert_eq!(&p, &plan(&norm, &units, &params).unwrap(), "same inputs, same plan");
                let cov = coverage(&norm, &units);
                // Units may repeat a code: limits hold per unit code on the summed gap.
                let mut gap: BTreeMap<&str, u32> = BTreeMap::new();
                for c in &cov {
                    *gap.entry(c.code.as_str()).or_default() += c.gap;
                }
                let total_gap: u32 = gap.values().sum();
                let asked = params.posts.unwrap_or(total_gap);
                prop_assert!(p.total <= asked);
                prop_assert_eq!(p.total + p.unplaced, asked);
                let mut per_unit: BTreeMap<&str, u32> = BTreeMap::new();
                for x in &p.posts {
                    prop_assert!(x.count > 0);
                    prop_assert!((params.start_year..=params.target_year).contains(&x.year));
                    prop_assert!(!params.blocked.contains(&(x.admin_code.clone(), x.year)), "blocked {} {}", x.admin_code, x.year);
                    *per_unit.entry(x.admin_code.as_str()).or_default() += x.count;
                }
                for (code, n) in &per_unit {
                    prop_assert!(*n <= gap[code]);
                }
                if let Some(cap) = params.cap_per_unit {
                    let distinct: BTreeSet<&str> = cov.iter().map(|c| c.code.as_str()).collect();
                    if distinct.len() == cov.len() {
                        prop_assert!(per_unit.values().all(|n| *n <= cap));
                    }
                }
                if let Some(capacity) = params.yearly_capacity {
                    for y in params.start_year..=params.target_year {
                        prop_assert!(p.posts.iter().filter(|x| x.year == y).map(|x| x.count).sum::<u32>() <= capacity);
                    }
                }
                let unconstrained = params.cap_per_unit.is_none() && params.yearly_capacity.is_none() && params.blocked.is_empty();
                if unconstrained {
                    prop_assert_eq!(p.total, asked.min(total_gap), "places all it can");
                }
            }

            #[test]
            fn a_level_served_later_waits_for_the_levels_before_it(units in arb_units(), mut params in arb_params()) {
                params.blocked.clear();
                params.cap_per_unit = None;
                params.level_order = vec![AdminLevel::Province, AdminLevel::District, AdminLevel::Commune];
                let norm = investment_case();
                let p = plan(&norm, &units, &params).unwrap();
                // Whatever is placed for a later level in a year comes after every
                // post an earlier level could still take (its gap is exhausted).
                let cov = coverage(&norm, &units);
                for y in params.start_year..=params.target_year {
                    for (i, later) in params.level_order.iter().enumerate() {
                        let got_later = p.posts.iter().any(|x| x.year == y && x.level == *later);
                        if !got_later { continue; }
                        for earlier in &params.level_order[..i] {
                            let gap: u32 = cov.iter().filter(|c| c.level == *earlier).map(|c| c.gap).sum();
                            let placed: u32 = p.posts.iter().filter(|x| x.level == *earlier && x.year <= y).map(|x| x.count).sum();
                            prop_assert_eq!(placed, gap, "{:?} got posts in {} while {:?} still had a gap", later, y, earlier);
                        }
                    }
                }
            }
        }
    }
}
