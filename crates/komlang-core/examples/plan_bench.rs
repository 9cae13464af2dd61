//! Planning benchmark (not a test): how long a deployment plan takes.
//!
//! ```sh
//! cargo run --release -p komlang-core --example plan_bench
//! ```
//!
//! 1. Cambodia's 2025 units as shipped (1,661 communes, 210 districts, 25
//!    provinces), a plan of 2,079 posts over 2025-2027 (700 a year, children
//!    and caseload weighted), and of the whole gap.
//! 2. A synthetic country of 100,000 units and 1,000,000 workers: the workers
//!    tallied into the facts of every unit (the aggregation the store does
//!    in SQL, here in memory), the coverage, and a plan of the whole gap.
//!
//! Each figure is the median of several runs; see BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::time::{Duration, Instant};

use komlang_core::admin::{parse_admin_units, AdminCsvSet};
use komlang_core::planning::{
    coverage, investment_case, plan, tally_workers, totals, PlanParams, UnitFacts, Weights, WorkerGroup,
};
use komlang_core::{AdminLevel, Cadre, Sector, WorkerRole};

macro_rules! data {
    ($f:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/cambodia-admin/", $f))
    };
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self, m: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        (z ^ (z >> 31)) % m.max(1)
    }
}

fn median(runs: usize, mut f: impl FnMut() -> u64) -> (Duration, u64) {
    let mut times = Vec::new();
    let mut check = 0;
    for _ in 0..runs {
        let t = Instant::now();
        check = f();
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], check)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // --- 1. Cambodia, 2025 ---
    let parsed = parse_admin_units(&AdminCsvSet {
        country: data!("country.csv"),
        provinces: data!("CambodiaProvinceList2025.csv"),
        districts: data!("CambodiaDistrictList2025.csv"),
        communes: data!("CambodiaCommuneList2025.csv"),
        villages: None,
    })
    .expect("bundled units");
    let mut rng = Rng(7);
    let units: Vec<UnitFacts> = parsed
        .units
        .iter()
        .filter(|u| matches!(u.level, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune))
        .map(|u| {
            let mut f = UnitFacts {
                code: u.code.clone(),
                level: Some(u.level),
                name_en: u.name_en.clone(),
                name_km: u.name_km.clone(),
                // Nobody in post yet: the gap is the investment case's whole 2,106.
                in_post: 0,
                government_workers: rng.next(6) as u32,
                children: Some(500 + rng.next(20_000)),
                ..Default::default()
            };
            f.set_open_cases(Some(rng.next(80)));
            f
        })
        .collect();
    let count = |l: AdminLevel| units.iter().filter(|u| u.level == Some(l)).count();
    println!(
        "Cambodia 2025: {} provinces, {} districts, {} communes",
        count(AdminLevel::Province),
        count(AdminLevel::District),
        count(AdminLevel::Commune)
    );
    let norm = investment_case();
    let mut params = PlanParams::new(2025, 2027);
    params.posts = Some(2079);
    params.yearly_capacity = Some(700);
    params.weights = Weights { gap: 1.0, children: 1.0, caseload: 0.5, indicators: Default::default() };
    let (t, total) = median(21, || plan(&norm, &units, &params).unwrap().total as u64);
    println!("  plan of 2,079 posts, 2025-2027, 700 a year:        {} ({total} placed)", ms(t));
    let mut whole = PlanParams::new(2025, 2027);
    whole.weights = params.weights;
    let (t, total) = median(21, || plan(&norm, &units, &whole).unwrap().total as u64);
    println!("  plan of the whole gap:                             {} ({total} placed)", ms(t));

    // --- 2. A synthetic country: 100,000 units, 1,000,000 workers ---
    let (provinces, districts, communes) = (100usize, 4_900usize, 95_000usize);
    let mut codes: Vec<(String, AdminLevel)> = Vec::with_capacity(provinces + districts + communes);
    codes.extend((0..provinces).map(|i| (format!("P{i:03}"), AdminLevel::Province)));
    codes.extend((0..districts).map(|i| (format!("D{i:05}"), AdminLevel::District)));
    codes.extend((0..communes).map(|i| (format!("C{i:06}"), AdminLevel::Commune)));
    // Each commune's district and province, each district's province.
    let district_of = |c: usize| c % districts;
    let province_of_district = |d: usize| d % provinces;
    // One worker: (province, district, commune) indexes of the workplace (usize::MAX: above that level).
    struct W {
        p: usize,
        d: usize,
        c: usize,
        sector: Sector,
        cadre: Cadre,
        role: WorkerRole,
    }
    let mut rng = Rng(11);
    let sectors = [Sector::Government, Sector::Government, Sector::Ngo, Sector::Volunteer];
    let roles = [
        WorkerRole::SocialWorkAgent,
        WorkerRole::CcwcFocalPoint,
        WorkerRole::CcwcMember,
        WorkerRole::DistrictSocialWorker,
        WorkerRole::DosvyOfficer,
        WorkerRole::NgoCaseWorker,
    ];
    let workers: Vec<W> = (0..1_000_000)
        .map(|_| {
            let c = rng.next(communes as u64) as usize;
            let d = district_of(c);
            let p = province_of_district(d);
            let (d, c) = match rng.next(10) {
                0 => (usize::MAX, usize::MAX),
                1 | 2 => (d, usize::MAX),
                _ => (d, c),
            };
            W {
                p,
                d,
                c,
                sector: sectors[rng.next(4) as usize],
                cadre: Cadre::ALL[rng.next(4) as usize],
                role: roles[rng.next(6) as usize],
            }
        })
        .collect();
    println!(
        "Synthetic country: {} units ({provinces} provinces, {districts} districts, {communes} communes), {} workers",
        codes.len(),
        workers.len()
    );
    let (province_codes, rest) = codes.split_at(provinces);
    let (district_codes, commune_codes) = rest.split_at(districts);
    let run = || {
        let started = Instant::now();
        let mut all = Vec::with_capacity(codes.len());
        for (level, list, pick) in [
            (AdminLevel::Province, province_codes, 0usize),
            (AdminLevel::District, district_codes, 1),
            (AdminLevel::Commune, commune_codes, 2),
        ] {
            let mut units: Vec<UnitFacts> = list
                .iter()
                .map(|(code, l)| UnitFacts { code: code.clone(), level: Some(*l), ..Default::default() })
                .collect();
            let groups = workers.iter().filter_map(|w| {
                let i = [w.p, w.d, w.c][pick];
                (i != usize::MAX).then(|| WorkerGroup {
                    code: &list[i].0,
                    sector: w.sector,
                    cadre: w.cadre,
                    role: w.role,
                    count: 1,
                })
            });
            tally_workers(&norm, level, &mut units, groups);
            all.extend(units);
        }
        let aggregated = started.elapsed();
        let cov = coverage(&norm, &all);
        let t = totals(&cov);
        let p = plan(&norm, &all, &PlanParams::new(2025, 2027)).unwrap();
        let whole = started.elapsed();
        (aggregated, whole, t.required, t.in_post, t.gap, p.total)
    };
    let mut runs: Vec<_> = (0..5).map(|_| run()).collect();
    runs.sort_by_key(|r| r.1);
    let (agg, whole, required, in_post, gap, placed) = runs[runs.len() / 2];
    println!("  required {required}, in post {in_post}, gap {gap}");
    println!("  aggregation of 1,000,000 workers into facts:       {}", ms(agg));
    println!("  aggregation + coverage + plan of the whole gap:    {} ({placed} placed)", ms(whole));
}
