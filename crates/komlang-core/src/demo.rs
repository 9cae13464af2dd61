//! A synthetic demo data set: organizations and workers that look like
//! Cambodia's social service workforce, for demonstrations and tests.
//!
//! Every person is invented (names are random pairs of common Khmer family and
//! given names, e-mail addresses use the reserved `example.org` domain). The
//! generator is pure and deterministic: the same admin units and `today` give
//! byte-identical output on every call (its own splitmix64 generator with a
//! constant seed, ordered collections only, no clock).
//!
//! Where the numbers come from:
//! - Table 11 of the NISA *Strategic Plan for Training the Social Service
//!   Workforce 2021-2025* (seed 001), "Proposed types and certification levels
//!   required for social service workforce in Cambodia":
//!   MoSVY social service workforce 500 (including 118 child protection
//!   officers), DoSVY 471 (including 125 child protection officers), district,
//!   municipal and khan offices of social affairs 406, child protection
//!   officers of NGOs 1,170, CCWC para-social workers 3,292, allied workers
//!   250 + 40 + 27 = 317.
//! - The structure of the workforce for child care and protection (seed 002,
//!   Figure 5, Data for Impact): MoSVY and its departments at national level,
//!   a DoSVY in each province, an office of social affairs in each district,
//!   a CCWC with a focal point for women and children in each commune, NGOs
//!   alongside; and MoSVY's investment case target of one professional social
//!   worker in each province (here one per province at the DoSVY, on top of
//!   the 471).
//!
//! How many DoSVY case management officers there are among the 471 is not in
//! the sources; [`DOSVY_CASE_MANAGEMENT_OFFICERS`] is an invented share.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, Months, NaiveDate};

use crate::admin::{AdminLevel, AdminUnit};
use crate::model::*;

/// Key of the Ministry of Social Affairs, Veterans and Youth Rehabilitation.
pub const MOSVY_KEY: &str = "mosvy";
/// Key of the National Institute of Social Affairs.
pub const NISA_KEY: &str = "nisa";
/// Key of MoSVY's Department of Child Welfare.
pub const CHILD_WELFARE_DEPT_KEY: &str = "mosvy-child-welfare";
/// Number of NGOs; their keys are `ngo_key(1)` to `ngo_key(NGO_COUNT)`.
pub const NGO_COUNT: usize = 40;

/// MoSVY para-professional social service workforce (Table 11).
pub const MOSVY_WORKERS: usize = 500;
/// Of which child protection officers (Table 11).
pub const MOSVY_CHILD_PROTECTION_OFFICERS: usize = 118;
/// DoSVY para-professional social service workforce (Table 11).
pub const DOSVY_WORKERS: usize = 471;
/// Of which child protection officers (Table 11).
pub const DOSVY_CHILD_PROTECTION_OFFICERS: usize = 125;
/// Of which case management officers (invented share).
pub const DOSVY_CASE_MANAGEMENT_OFFICERS: usize = 60;
/// Staff of the district, municipal and khan offices of social affairs (Table 11).
pub const DISTRICT_WORKERS: usize = 406;
/// Child protection officers of NGOs (Table 11).
pub const NGO_WORKERS: usize = 1170;
/// CCWC members, para-social workers (Table 11); one focal point per commune.
pub const CCWC_WORKERS: usize = 3292;
/// Allied workers: 250 officers in charge of child protection, 40 officials of
/// national committees, 27 of ministries' working groups for children (Table 11).
pub const ALLIED_WORKERS: usize = ALLIED_LOCAL + ALLIED_COMMITTEES + ALLIED_WORKING_GROUPS;
const ALLIED_LOCAL: usize = 250;
const ALLIED_COMMITTEES: usize = 40;
const ALLIED_WORKING_GROUPS: usize = 27;

/// An organization of the demo set; `key` is how workers refer to it.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOrg {
    pub key: String,
    pub draft: OrgDraft,
}

/// An earlier (closed) posting of a demo worker.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoPosting {
    pub org_key: Option<String>,
    pub role: WorkerRole,
    pub position_title: Option<String>,
    pub workplace_code: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// A demo worker with their history.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoWorker {
    /// The current record; `draft.org_id` is always `None`, the employer is `org_key`.
    pub draft: WorkerDraft,
    pub org_key: Option<String>,
    /// Earlier postings, oldest first, each ending before `draft.start_date`.
    pub earlier_postings: Vec<DemoPosting>,
    /// Status changes, oldest first: the first is `(Active, start of the first
    /// posting)`, the last is `(draft.status, date of that status)`.
    pub status_history: Vec<(EmploymentStatus, NaiveDate)>,
}

/// The whole demo data set.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoDataSet {
    pub orgs: Vec<DemoOrg>,
    pub workers: Vec<DemoWorker>,
}

/// Key of the DoSVY of a province, e.g. `dosvy-12`.
pub fn dosvy_key(province_code: &str) -> String {
    format!("dosvy-{province_code}")
}

/// Key of the office of social affairs of a district, e.g. `district-office-0102`.
pub fn district_office_key(district_code: &str) -> String {
    format!("district-office-{district_code}")
}

/// Key of the `n`-th NGO (1-based, up to [`NGO_COUNT`]), e.g. `ngo-07`.
pub fn ngo_key(n: usize) -> String {
    format!("ngo-{n:02}")
}

// ---------------------------------------------------------------------------
// Deterministic randomness

const SEED: u64 = 0x4b6f_6d6c_616e_6721; // "Komlang!"

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn new(stream: u64) -> Self {
        Rng(SEED ^ stream.wrapping_mul(0xa076_1d64_78bd_642f))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// True with probability `permille / 1000`.
    fn chance(&mut self, permille: u32) -> bool {
        (self.next_u64() % 1000) < u64::from(permille)
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// Index drawn with the given weights (not all zero).
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut r = self.next_u64() % total.max(1);
        for (i, &w) in weights.iter().enumerate() {
            if r < u64::from(w) {
                return i;
            }
            r -= u64::from(w);
        }
        weights.len() - 1
    }
}

/// Splits `total` over the weights: `base` each first (as far as it goes), the
/// rest in proportion to the weights by largest remainder (ties to the lower index).
fn apportion(total: usize, weights: &[u64], base: usize) -> Vec<usize> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let base = base.min(total / n);
    let mut out = vec![base; n];
    let rest = (total - base * n) as u64;
    let sum: u64 = weights.iter().sum::<u64>().max(1);
    let mut given = 0u64;
    let mut remainders: Vec<(u64, usize)> = Vec::with_capacity(n);
    for (i, &w) in weights.iter().enumerate() {
        let exact = rest * w;
        out[i] += (exact / sum) as usize;
        given += exact / sum;
        remainders.push((exact % sum, i));
    }
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take((rest - given) as usize) {
        out[i] += 1;
    }
    out
}

// ---------------------------------------------------------------------------
// Names

/// Common Khmer family names: (Khmer, Latin).
pub const FAMILY_NAMES: &[(&str, &str)] = &[
    ("សុខ", "Sok"),
    ("ចាន់", "Chan"),
    ("ហេង", "Heng"),
    ("លី", "Ly"),
    ("កែវ", "Keo"),
    ("ស៊ុន", "Sun"),
    ("ម៉ៅ", "Mao"),
    ("ឈឹម", "Chhim"),
    ("សេង", "Seng"),
    ("ជា", "Chea"),
    ("ញឹម", "Nhim"),
    ("ពេជ្រ", "Pich"),
    ("យិន", "Yin"),
    ("ទេព", "Tep"),
    ("ឡុង", "Long"),
    ("មាស", "Meas"),
    ("ពៅ", "Pov"),
    ("នួន", "Nuon"),
    ("គង់", "Kong"),
    ("ឃឹម", "Khim"),
    ("ទូច", "Touch"),
    ("វ៉ាន់", "Van"),
    ("ប៊ុន", "Bun"),
    ("អ៊ុំ", "Um"),
    ("សួន", "Suon"),
    ("ឯក", "Ek"),
    ("ព្រំ", "Prum"),
    ("ខៀវ", "Khiev"),
    ("ផល", "Phal"),
    ("ស៊ីម", "Sim"),
    ("អ៊ឹម", "Im"),
    ("ហួត", "Huot"),
    ("រស់", "Ros"),
    ("លឹម", "Lim"),
    ("ថាច់", "Thach"),
];

/// Common female given names: (Khmer, Latin).
pub const FEMALE_NAMES: &[(&str, &str)] = &[
    ("សុភា", "Sophea"),
    ("ស្រីមុំ", "Sreymom"),
    ("ចន្ធូ", "Chanthou"),
    ("ដាលីន", "Dalin"),
    ("ស្រីនាង", "Sreyneang"),
    ("ធីតា", "Thida"),
    ("បុប្ផា", "Bopha"),
    ("សុគន្ធា", "Sokunthea"),
    ("មាលា", "Mealea"),
    ("សុភាព", "Sopheap"),
    ("ចិន្តា", "Chenda"),
    ("ស្រីល័ក្ខ", "Sreyleak"),
    ("លក្ខិណា", "Leakhena"),
    ("កញ្ញា", "Kanha"),
    ("សុវណ្ណារី", "Sovannary"),
    ("ពិសី", "Pisey"),
    ("រស្មី", "Reaksmey"),
    ("ម៉ានី", "Many"),
    ("ស្រីពៅ", "Sreypov"),
    ("នារី", "Neary"),
    ("ចរិយា", "Chariya"),
    ("ធារី", "Theary"),
    ("ស្រីអូន", "Sreyoun"),
];

/// Common male given names: (Khmer, Latin).
pub const MALE_NAMES: &[(&str, &str)] = &[
    ("ដារ៉ា", "Dara"),
    ("សុខា", "Sokha"),
    ("វិចិត្រ", "Vichet"),
    ("សំណាង", "Samnang"),
    ("ពិសិដ្ឋ", "Piseth"),
    ("រិទ្ធី", "Rithy"),
    ("វឌ្ឍនា", "Vathana"),
    ("សុផល", "Sophal"),
    ("វុទ្ធី", "Vuthy"),
    ("បូរ៉ា", "Bora"),
    ("កុសល", "Kosal"),
    ("ម៉ារ៉ា", "Mara"),
    ("វីរៈ", "Virak"),
    ("ចំរើន", "Chamroeun"),
    ("រដ្ឋា", "Ratha"),
    ("ពុទ្ធី", "Puthy"),
    ("សុវណ្ណ", "Sovann"),
    ("ធារ៉ា", "Theara"),
    ("វណ្ណៈ", "Vannak"),
    ("ភក្តី", "Pheakdey"),
    ("ម៉េងលី", "Mengly"),
    ("ចាន់ថន", "Chanthon"),
];

const PHONE_PREFIXES: &[&str] = &[
    "010", "011", "012", "015", "016", "017", "069", "070", "076", "077", "078", "081", "085", "086", "087", "089",
    "092", "093", "095", "096", "097", "098", "099",
];

// ---------------------------------------------------------------------------
// Organizations

const MOSVY_NAME_EN: &str = "Ministry of Social Affairs, Veterans and Youth Rehabilitation";
const MOSVY_NAME_KM: &str = "ក្រសួងសង្គមកិច្ច អតីតយុទ្ធជន និងយុវនីតិសម្បទា";
const DOSVY_NAME_EN: &str = "Department of Social Affairs, Veterans and Youth Rehabilitation";
const DOSVY_NAME_KM: &str = "មន្ទីរសង្គមកិច្ច អតីតយុទ្ធជន និងយុវនីតិសម្បទា";
const OFFICE_NAME_EN: &str = "Office of Social Affairs, Veterans and Youth Rehabilitation";
const OFFICE_NAME_KM: &str = "ការិយាល័យសង្គមកិច្ច អតីតយុទ្ធជន និងយុវនីតិសម្បទា";

/// MoSVY departments: (key, English, Khmer).
const DEPARTMENTS: &[(&str, &str, &str)] = &[
    (CHILD_WELFARE_DEPT_KEY, "Department of Child Welfare", "នាយកដ្ឋានកុមារកិច្ច"),
    ("mosvy-social-welfare", "Department of Social Welfare", "នាយកដ្ឋានសុខុមាលភាពសង្គម"),
    ("mosvy-disability-welfare", "Department of Welfare for Persons with Disabilities", "នាយកដ្ឋានសុខុមាលភាពជនពិការ"),
    ("mosvy-elderly-welfare", "Department of Elderly Welfare", "នាយកដ្ឋានសុខុមាលភាពមនុស្សចាស់"),
    (
        "mosvy-anti-trafficking",
        "Department of Anti-Human Trafficking and Juvenile Rehabilitation",
        "នាយកដ្ឋានប្រឆាំងការជួញដូរមនុស្ស និងយុវនីតិសម្បទា",
    ),
];
const ANTI_TRAFFICKING_DEPT: usize = 4;

/// Invented NGO name parts: (Latin, Khmer).
const NGO_NAMES: &[(&str, &str)] = &[
    ("Ponleu Thmey", "ពន្លឺថ្មី"),
    ("Kdey Sangkheum", "ក្តីសង្ឃឹម"),
    ("Phka Rik", "ផ្ការីក"),
    ("Komar Sabay", "កុមារសប្បាយ"),
    ("Sangkum Metta", "សង្គមមេត្តា"),
    ("Kruosar Sok", "គ្រួសារសុខ"),
    ("Setthi Komar", "សិទ្ធិកុមារ"),
    ("Akphiwat Sahakum", "អភិវឌ្ឍន៍សហគមន៍"),
    ("Angkor Komar", "អង្គរកុមារ"),
    ("Prey Phka", "ព្រៃផ្កា"),
    ("Srolanh Komar", "ស្រឡាញ់កុមារ"),
    ("Samaki", "សាមគ្គី"),
    ("Reaksmey Thmey", "រស្មីថ្មី"),
    ("Kdey Srolanh", "ក្តីស្រឡាញ់"),
    ("Chivit Thmey", "ជីវិតថ្មី"),
    ("Neak Chit Khang", "អ្នកជិតខាង"),
    ("Sok Sabay", "សុខសប្បាយ"),
    ("Phnom Meas", "ភ្នំមាស"),
    ("Tuk Thla", "ទឹកថ្លា"),
    ("Preah Atit", "ព្រះអាទិត្យ"),
];

/// What the NGOs do: (Latin, Khmer).
const NGO_KINDS: &[(&str, &str)] = &[
    ("Child Care", "ថែទាំកុមារ"),
    ("Family Support", "គាំទ្រគ្រួសារ"),
    ("Community Services", "សេវាសហគមន៍"),
    ("Youth Centre", "មជ្ឈមណ្ឌលយុវជន"),
    ("Social Services", "សេវាសង្គម"),
    ("Child Protection Network", "បណ្តាញការពារកុមារ"),
    ("Alternative Care", "ថែទាំជំនួស"),
    ("Disability Support", "គាំទ្រជនពិការ"),
];

/// Khmer name of a province with its `ខេត្ត` / `រាជធានី` prefix.
fn province_km_full(p: &AdminUnit) -> String {
    if p.name_km.starts_with("រាជធានី") || p.name_km.starts_with("ខេត្ត") {
        p.name_km.clone()
    } else {
        format!("ខេត្ត{}", p.name_km)
    }
}

fn org(key: String, name_en: String, name_km: Option<String>, kind: OrgKind, admin_code: &str) -> DemoOrg {
    DemoOrg {
        draft: OrgDraft {
            name_km,
            name_en,
            kind,
            registration_no: None,
            admin_code: admin_code.to_string(),
            phone: None,
            email: Some(format!("contact@{key}.example.org")),
        },
        key,
    }
}

// ---------------------------------------------------------------------------
// Geography

struct Geo<'a> {
    country: &'a AdminUnit,
    /// Phnom Penh ("12") when present, else the first province.
    capital: &'a AdminUnit,
    provinces: Vec<&'a AdminUnit>,
    districts: Vec<&'a AdminUnit>,
    communes: Vec<&'a AdminUnit>,
    /// Province code -> indices into `districts`.
    districts_of: BTreeMap<&'a str, Vec<usize>>,
    /// District code -> indices into `communes`.
    communes_of: BTreeMap<&'a str, Vec<usize>>,
    /// Province code -> number of communes.
    communes_in_province: BTreeMap<&'a str, usize>,
}

impl<'a> Geo<'a> {
    fn new(units: &'a [AdminUnit]) -> Option<Self> {
        let country = units.iter().find(|u| u.level == AdminLevel::Country)?;
        let of = |level| units.iter().filter(move |u| u.level == level).collect::<Vec<_>>();
        let provinces = of(AdminLevel::Province);
        let districts = of(AdminLevel::District);
        let communes = of(AdminLevel::Commune);
        let capital =
            provinces.iter().copied().find(|p| p.code == "12").or(provinces.first().copied()).unwrap_or(country);
        let mut districts_of: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, d) in districts.iter().enumerate() {
            if let Some(p) = d.province_code.as_deref() {
                districts_of.entry(p).or_default().push(i);
            }
        }
        let mut communes_of: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut communes_in_province: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, c) in communes.iter().enumerate() {
            if let Some(d) = c.district_code.as_deref() {
                communes_of.entry(d).or_default().push(i);
            }
            if let Some(p) = c.province_code.as_deref() {
                *communes_in_province.entry(p).or_default() += 1;
            }
        }
        Some(Geo { country, capital, provinces, districts, communes, districts_of, communes_of, communes_in_province })
    }

    fn districts_in(&self, province_code: &str) -> &[usize] {
        self.districts_of.get(province_code).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Weight of a province for spreading provincial staff: bigger provinces get more.
    fn province_weight(&self, p: &AdminUnit) -> u64 {
        30 + *self.communes_in_province.get(p.code.as_str()).unwrap_or(&0) as u64
    }
}

// ---------------------------------------------------------------------------
// Workers

/// A posting without dates.
#[derive(Clone)]
struct Post {
    org_key: Option<String>,
    role: WorkerRole,
    position_title: Option<String>,
    workplace_code: String,
}

/// Everything about a new worker that the group decides.
struct Job {
    cadre: Cadre,
    sector: Sector,
    post: Post,
    education: (Option<EducationLevel>, Option<EducationField>),
    /// Chance (per mille) that the worker is a woman.
    female: u32,
    /// Chance (per mille) that the worker has an e-mail address.
    email: u32,
    /// The post they held before a transfer, if any.
    earlier: Option<Post>,
}

/// Share of workers (per mille) with an earlier posting.
const TRANSFER_PERMILLE: u32 = 100;

fn days_ago(today: NaiveDate, days: i64) -> NaiveDate {
    today - Duration::days(days)
}

fn age_on(dob: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - dob.year();
    if (day.month(), day.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    age
}

struct Gen<'a> {
    rng: Rng,
    today: NaiveDate,
    geo: Geo<'a>,
    national_ids: BTreeSet<String>,
    emails: BTreeSet<String>,
    /// Province code of each NGO, in key order.
    ngo_homes: Vec<String>,
    /// Relative size of each NGO.
    ngo_sizes: Vec<u64>,
    workers: Vec<DemoWorker>,
}

impl Gen<'_> {
    fn post(&mut self, org_key: Option<String>, role: WorkerRole, titles: &[&str], workplace_code: &str) -> Post {
        let position_title = if titles.is_empty() { None } else { Some(self.rng.pick(titles).to_string()) };
        Post { org_key, role, position_title, workplace_code: workplace_code.to_string() }
    }

    fn transfer(&mut self) -> bool {
        self.rng.chance(TRANSFER_PERMILLE)
    }

    fn national_id(&mut self) -> String {
        loop {
            let id = format!("{}", 100_000_000 + self.rng.below(900_000_000));
            if self.national_ids.insert(id.clone()) {
                return id;
            }
        }
    }

    fn phone(&mut self) -> String {
        let prefix = self.rng.pick(PHONE_PREFIXES);
        format!("{prefix} {:03} {:03}", self.rng.below(1000), self.rng.below(1000))
    }

    fn email(&mut self, given: &str, family: &str) -> String {
        let clean = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
        let local = format!("{}.{}", clean(given), clean(family));
        let mut candidate = format!("{local}@example.org");
        let mut n = 1;
        while self.emails.contains(&candidate) {
            n += 1;
            candidate = format!("{local}{n}@example.org");
        }
        self.emails.insert(candidate.clone());
        candidate
    }

    fn add(&mut self, job: Job) {
        let today = self.today;
        let rng = &mut self.rng;

        let sex = if rng.chance(job.female) { Sex::Female } else { Sex::Male };
        let (family_km, family_latin) = *rng.pick(FAMILY_NAMES);
        let (given_km, given_latin) = *rng.pick(if sex == Sex::Female { FEMALE_NAMES } else { MALE_NAMES });

        // Age 22 to 60; service 1 to 25 years, starting at 18 at the earliest.
        let age_days = rng.range(22 * 366, 60 * 365);
        let dob = days_ago(today, age_days);
        let max_service = (25 * 365).min(age_days - 18 * 366);
        let min_service = if job.earlier.is_some() { 2 * 365 } else { 365 };
        // The shorter of two draws: more recent starters than veterans.
        let service = rng.range(min_service, max_service).min(rng.range(min_service, max_service));
        let first_start = days_ago(today, service);
        let (start, earlier_postings) = match job.earlier {
            Some(post) => {
                let moved = rng.range(180, service - 365);
                let start = first_start + Duration::days(moved);
                let earlier = DemoPosting {
                    org_key: post.org_key,
                    role: post.role,
                    position_title: post.position_title,
                    workplace_code: post.workplace_code,
                    start_date: first_start,
                    end_date: start - Duration::days(1),
                };
                (start, vec![earlier])
            }
            None => (first_start, Vec::new()),
        };

        // About 5% not active now (on leave, left, or retired when old
        // enough), about 2% back from a leave.
        let mut status_history = vec![(EmploymentStatus::Active, first_start)];
        let mut status = EmploymentStatus::Active;
        let mut end_date = None;
        let since_start = (today - start).num_days();
        let recent = |rng: &mut Rng, not_before: NaiveDate| {
            let oldest = (3 * 365).min(since_start - 30).min((today - not_before).num_days());
            days_ago(today, rng.range(0, oldest))
        };
        let roll = rng.below(1000);
        if age_on(dob, today) >= 56 && rng.chance(150) {
            let may_retire = dob.checked_add_months(Months::new(55 * 12)).unwrap_or(start) + Duration::days(1);
            let date = recent(rng, may_retire);
            status = EmploymentStatus::Retired;
            end_date = Some(date);
            status_history.push((status, date));
        } else if roll < 35 {
            let date = recent(rng, start);
            status = if roll < 17 { EmploymentStatus::OnLeave } else { EmploymentStatus::Left };
            if status.is_separated() {
                end_date = Some(date);
            }
            status_history.push((status, date));
        } else if roll < 55 {
            let leave = days_ago(today, rng.range(60, (4 * 365).min(since_start - 30).max(60)));
            let back = leave + Duration::days(rng.range(14, (today - leave).num_days().min(180)));
            status_history.push((EmploymentStatus::OnLeave, leave));
            status_history.push((EmploymentStatus::Active, back));
        }

        let has_id = rng.chance(700);
        let has_phone = rng.chance(800);
        let has_email = rng.chance(job.email);
        let national_id = has_id.then(|| self.national_id());
        let phone = has_phone.then(|| self.phone());
        let email = has_email.then(|| self.email(given_latin, family_latin));

        let draft = WorkerDraft {
            name_km: format!("{family_km} {given_km}"),
            name_latin: format!("{family_latin} {given_latin}"),
            sex,
            date_of_birth: Some(dob),
            national_id,
            phone,
            email,
            cadre: job.cadre,
            role: job.post.role,
            sector: job.sector,
            org_id: None,
            position_title: job.post.position_title,
            workplace_code: job.post.workplace_code,
            status,
            start_date: Some(start),
            end_date,
            education_level: job.education.0,
            education_field: job.education.1,
        };
        self.workers.push(DemoWorker { draft, org_key: job.post.org_key, earlier_postings, status_history });
    }

    // --- education by cadre

    fn edu_professional(&mut self) -> (Option<EducationLevel>, Option<EducationField>) {
        let level = if self.rng.chance(250) { EducationLevel::Master } else { EducationLevel::Bachelor };
        (Some(level), Some(EducationField::SocialWork))
    }

    fn edu_para_professional(&mut self) -> (Option<EducationLevel>, Option<EducationField>) {
        use EducationLevel::*;
        let levels = [Tvc1, Tvc2, Tvc3, Associate, Bachelor];
        let level = levels[self.rng.weighted(&[10, 12, 12, 18, 48])];
        // Some hold a NISA technical and vocational certificate in social work;
        // a degree in social work would make them professionals.
        let field =
            if level != Bachelor && self.rng.chance(300) { EducationField::SocialWork } else { EducationField::Other };
        if self.rng.chance(30) {
            (None, None)
        } else {
            (Some(level), Some(field))
        }
    }

    fn edu_para_social_worker(&mut self) -> (Option<EducationLevel>, Option<EducationField>) {
        use EducationLevel::*;
        let levels = [Primary, LowerSecondary, UpperSecondary, VocationalCertificate];
        let level = levels[self.rng.weighted(&[10, 25, 40, 25])];
        let field = if level == VocationalCertificate && self.rng.chance(500) {
            EducationField::SocialWork
        } else {
            EducationField::Other
        };
        if self.rng.chance(50) {
            (None, None)
        } else {
            (Some(level), Some(field))
        }
    }

    fn edu_allied(&mut self, national: bool) -> (Option<EducationLevel>, Option<EducationField>) {
        use EducationLevel::*;
        let levels = [UpperSecondary, Tvc2, Tvc3, Associate, Bachelor, Master];
        let weights: &[u32] = if national { &[0, 0, 0, 5, 55, 40] } else { &[20, 10, 10, 25, 30, 5] };
        (Some(levels[self.rng.weighted(weights)]), Some(EducationField::Other))
    }

    // --- groups

    fn national_workplace(&mut self) -> String {
        if self.rng.chance(750) {
            self.geo.country.code.clone()
        } else {
            self.geo.capital.code.clone()
        }
    }

    /// A random province other than `except` (when there is another).
    fn random_province(&mut self, except: Option<&str>) -> String {
        let n = self.geo.provinces.len();
        let mut i = self.rng.below(n);
        if n > 1 && Some(self.geo.provinces[i].code.as_str()) == except {
            i = (i + 1 + self.rng.below(n - 1)) % n;
        }
        self.geo.provinces[i].code.clone()
    }

    fn mosvy(&mut self) {
        let mut org_weights = vec![40u32];
        org_weights.extend(DEPARTMENTS.iter().map(|_| 12));
        for i in 0..MOSVY_WORKERS {
            let workplace = self.national_workplace();
            let post = if i < MOSVY_CHILD_PROTECTION_OFFICERS {
                let dept = if self.rng.chance(700) { 0 } else { ANTI_TRAFFICKING_DEPT };
                let titles = ["Child Protection Officer", "Child Protection Officer", "Deputy Chief of Office"];
                self.post(
                    Some(DEPARTMENTS[dept].0.to_string()),
                    WorkerRole::MosvyChildProtectionOfficer,
                    &titles,
                    &workplace,
                )
            } else {
                let o = self.rng.weighted(&org_weights);
                let key = if o == 0 { MOSVY_KEY } else { DEPARTMENTS[o - 1].0 };
                let titles = [
                    "Officer",
                    "Officer",
                    "Programme Officer",
                    "Administrative Officer",
                    "Deputy Chief of Office",
                    "Chief of Office",
                ];
                self.post(Some(key.to_string()), WorkerRole::MosvyOfficer, &titles, &workplace)
            };
            let earlier = if self.transfer() && !self.geo.provinces.is_empty() {
                let p = self.random_province(None);
                Some(self.post(Some(dosvy_key(&p)), WorkerRole::DosvyOfficer, &["Officer"], &p))
            } else {
                None
            };
            let education = self.edu_para_professional();
            self.add(Job {
                cadre: Cadre::ParaProfessional,
                sector: Sector::Government,
                post,
                education,
                female: 400,
                email: 500,
                earlier,
            });
        }
    }

    /// The DoSVY para-professionals, then one professional social worker per province.
    fn dosvy(&mut self) {
        let provinces = self.geo.provinces.clone();
        if provinces.is_empty() {
            return;
        }
        let weights: Vec<u64> = provinces.iter().map(|p| self.geo.province_weight(p)).collect();
        let officers = DOSVY_WORKERS - DOSVY_CHILD_PROTECTION_OFFICERS - DOSVY_CASE_MANAGEMENT_OFFICERS;
        let per_role = [
            (WorkerRole::DosvyChildProtectionOfficer, apportion(DOSVY_CHILD_PROTECTION_OFFICERS, &weights, 1)),
            (WorkerRole::DosvyCaseManagementOfficer, apportion(DOSVY_CASE_MANAGEMENT_OFFICERS, &weights, 1)),
            (WorkerRole::DosvyOfficer, apportion(officers, &weights, 1)),
        ];
        for (pi, p) in provinces.iter().enumerate() {
            for (role, counts) in &per_role {
                for _ in 0..counts[pi] {
                    let titles: &[&str] = match role {
                        WorkerRole::DosvyChildProtectionOfficer => &["Child Protection Officer"],
                        WorkerRole::DosvyCaseManagementOfficer => &["Case Management Officer"],
                        _ => &[
                            "Officer",
                            "Officer",
                            "Officer",
                            "Deputy Chief of Office",
                            "Chief of Office",
                            "Deputy Director",
                        ],
                    };
                    let post = self.post(Some(dosvy_key(&p.code)), *role, titles, &p.code);
                    let earlier = if self.transfer() { Some(self.earlier_local_office(p, None)) } else { None };
                    let education = self.edu_para_professional();
                    self.add(Job {
                        cadre: Cadre::ParaProfessional,
                        sector: Sector::Government,
                        post,
                        education,
                        female: 450,
                        email: 400,
                        earlier,
                    });
                }
            }
        }
        for p in &provinces {
            let post = self.post(
                Some(dosvy_key(&p.code)),
                WorkerRole::DosvyCaseManagementOfficer,
                &["Social Worker (Case Management)"],
                &p.code,
            );
            // Professionals often came from an NGO.
            let earlier = if self.rng.chance(300) && !self.ngo_homes.is_empty() {
                let n = self.rng.below(self.ngo_homes.len());
                let home = self.ngo_homes[n].clone();
                Some(self.post(Some(ngo_key(n + 1)), WorkerRole::NgoSocialWorker, &["Social Worker"], &home))
            } else {
                None
            };
            let education = self.edu_professional();
            self.add(Job {
                cadre: Cadre::Professional,
                sector: Sector::Government,
                post,
                education,
                female: 600,
                email: 800,
                earlier,
            });
        }
    }

    /// An earlier post at a district office of the province (or another
    /// DoSVY when the province has no other district), for a transfer.
    fn earlier_local_office(&mut self, p: &AdminUnit, except_district: Option<&str>) -> Post {
        let choices: Vec<usize> = self
            .geo
            .districts_in(&p.code)
            .iter()
            .copied()
            .filter(|&i| Some(self.geo.districts[i].code.as_str()) != except_district)
            .collect();
        if choices.is_empty() || (except_district.is_none() && self.rng.chance(300)) {
            // A DoSVY worker comes from another province's DoSVY; a district
            // worker without another district around from their own DoSVY.
            let other = match except_district {
                None => self.random_province(Some(&p.code)),
                Some(_) => p.code.clone(),
            };
            return self.post(Some(dosvy_key(&other)), WorkerRole::DosvyOfficer, &["Officer"], &other);
        }
        let d = self.geo.districts[*self.rng.pick(&choices)].code.clone();
        self.post(Some(district_office_key(&d)), WorkerRole::DistrictOfficer, &["Officer"], &d)
    }

    fn district_offices(&mut self) {
        let districts = self.geo.districts.clone();
        let weights: Vec<u64> =
            districts.iter().map(|d| self.geo.communes_of.get(d.code.as_str()).map_or(1, |c| c.len() as u64)).collect();
        let counts = apportion(DISTRICT_WORKERS, &weights, 1);
        for (d, &count) in districts.iter().zip(&counts) {
            for k in 0..count {
                let post = if k == 0 {
                    self.post(
                        Some(district_office_key(&d.code)),
                        WorkerRole::DistrictSocialWorker,
                        &["Social Worker"],
                        &d.code,
                    )
                } else {
                    let titles = ["Chief of Office", "Deputy Chief of Office", "Officer", "Officer"];
                    self.post(Some(district_office_key(&d.code)), WorkerRole::DistrictOfficer, &titles, &d.code)
                };
                let province =
                    self.geo.provinces.iter().copied().find(|p| Some(p.code.as_str()) == d.province_code.as_deref());
                let earlier = match province {
                    Some(p) if self.transfer() => Some(self.earlier_local_office(p, Some(&d.code))),
                    _ => None,
                };
                let education = self.edu_para_professional();
                self.add(Job {
                    cadre: Cadre::ParaProfessional,
                    sector: Sector::Government,
                    post,
                    education,
                    female: 400,
                    email: 250,
                    earlier,
                });
            }
        }
    }

    /// The NGOs (organizations); their homes and sizes are kept for the workers.
    fn ngo_orgs(&mut self) -> Vec<DemoOrg> {
        let mut orgs = Vec::new();
        if self.geo.provinces.is_empty() {
            return orgs;
        }
        // NGOs cluster in the capital and the big provinces.
        let province_weights: Vec<u32> = self
            .geo
            .provinces
            .iter()
            .map(|p| match p.code.as_str() {
                "12" => 60,
                "17" | "02" => 25,
                _ => 8,
            })
            .collect();
        let mut reg_nos = BTreeSet::new();
        for n in 1..=NGO_COUNT {
            let (name_en, name_km) = NGO_NAMES[(n - 1) % NGO_NAMES.len()];
            let (kind_en, kind_km) = NGO_KINDS[((n - 1) * 7 + (n - 1) / NGO_NAMES.len()) % NGO_KINDS.len()];
            let home = self.geo.provinces[self.rng.weighted(&province_weights)].code.clone();
            let reg = loop {
                let r = 1000 + self.rng.below(9000);
                if reg_nos.insert(r) {
                    break r;
                }
            };
            let mut o = org(
                ngo_key(n),
                format!("{name_en} {kind_en}"),
                Some(format!("អង្គការ{kind_km}{name_km}")),
                OrgKind::Ngo,
                &home,
            );
            o.draft.registration_no = Some(format!("MOI-NGO-{reg}"));
            orgs.push(o);
            self.ngo_homes.push(home);
            self.ngo_sizes.push(self.rng.range(5, 60) as u64);
        }
        orgs
    }

    /// The NGOs' child protection staff.
    fn ngo_workers(&mut self) {
        let homes = self.ngo_homes.clone();
        let sizes = self.ngo_sizes.clone();
        let counts = apportion(NGO_WORKERS, &sizes, 3);
        for (i, (home, &count)) in homes.iter().zip(&counts).enumerate() {
            let key = ngo_key(i + 1);
            let districts: Vec<String> =
                self.geo.districts_in(home).iter().map(|&d| self.geo.districts[d].code.clone()).collect();
            let managers = if count > 25 { 2 } else { 1 };
            for k in 0..count {
                let workplace = if districts.is_empty() || self.rng.chance(400) {
                    home.clone()
                } else {
                    self.rng.pick(&districts).clone()
                };
                let (post, education) = if k < managers {
                    let post = self.post(
                        Some(key.clone()),
                        WorkerRole::NgoManager,
                        &["Programme Manager", "Project Coordinator", "Director"],
                        &workplace,
                    );
                    let edu = if self.rng.chance(450) {
                        self.edu_professional()
                    } else {
                        let level =
                            if self.rng.chance(400) { EducationLevel::Master } else { EducationLevel::Bachelor };
                        (Some(level), Some(EducationField::Other))
                    };
                    (post, edu)
                } else if self.rng.chance(400) {
                    let post =
                        self.post(Some(key.clone()), WorkerRole::NgoSocialWorker, &["Social Worker"], &workplace);
                    let edu = if self.rng.chance(800) { self.edu_professional() } else { self.edu_para_professional() };
                    (post, edu)
                } else {
                    let post = self.post(
                        Some(key.clone()),
                        WorkerRole::NgoCaseWorker,
                        &["Case Worker", "Case Worker", "Community Social Worker", "Outreach Worker"],
                        &workplace,
                    );
                    let edu = if self.rng.chance(150) { self.edu_professional() } else { self.edu_para_professional() };
                    (post, edu)
                };
                let cadre = if matches!(
                    education,
                    (Some(EducationLevel::Bachelor | EducationLevel::Master), Some(EducationField::SocialWork))
                ) {
                    Cadre::Professional
                } else {
                    Cadre::ParaProfessional
                };
                let earlier = if self.transfer() {
                    let other = (i + 1 + self.rng.below(homes.len() - 1)) % homes.len();
                    let other_home = homes[other].clone();
                    Some(self.post(Some(ngo_key(other + 1)), WorkerRole::NgoCaseWorker, &["Case Worker"], &other_home))
                } else {
                    None
                };
                self.add(Job { cadre, sector: Sector::Ngo, post, education, female: 600, email: 700, earlier });
            }
        }
    }

    /// One focal point per commune, the other CCWC members spread over the communes.
    fn ccwc(&mut self) {
        let communes = self.geo.communes.clone();
        if communes.is_empty() {
            return;
        }
        let mut members = vec![0usize; communes.len()];
        for _ in 0..CCWC_WORKERS.saturating_sub(communes.len()) {
            members[self.rng.below(communes.len())] += 1;
        }
        let member_titles = ["Commune Councillor", "Commune Councillor", "Village Chief", "Deputy Village Chief"];
        for (c, &count) in communes.iter().zip(&members) {
            let post = self.post(None, WorkerRole::CcwcFocalPoint, &["Focal Point for Women and Children"], &c.code);
            // A focal point often served as an ordinary member first.
            let earlier = if self.transfer() {
                Some(self.post(None, WorkerRole::CcwcMember, &["Commune Councillor"], &c.code))
            } else {
                None
            };
            let education = self.edu_para_social_worker();
            self.add(Job {
                cadre: Cadre::ParaSocialWorker,
                sector: Sector::Government,
                post,
                education,
                female: 850,
                email: 50,
                earlier,
            });
            for k in 0..count {
                let post = if k == 0 {
                    self.post(None, WorkerRole::CcwcMember, &["Commune Chief, CCWC Chair"], &c.code)
                } else {
                    self.post(None, WorkerRole::CcwcMember, &member_titles, &c.code)
                };
                let earlier = if self.transfer() {
                    Some(self.post(None, WorkerRole::CcwcMember, &["Village Assistant"], &c.code))
                } else {
                    None
                };
                let education = self.edu_para_social_worker();
                self.add(Job {
                    cadre: Cadre::ParaSocialWorker,
                    sector: Sector::Government,
                    post,
                    education,
                    female: 350,
                    email: 30,
                    earlier,
                });
            }
        }
    }

    /// Police, teachers and health staff in charge of child protection, then
    /// officials of national committees and working groups.
    fn allied(&mut self) {
        if self.geo.districts.is_empty() {
            return;
        }
        let roles = [WorkerRole::AlliedPolice, WorkerRole::AlliedTeacher, WorkerRole::AlliedHealth];
        for i in 0..ALLIED_WORKERS {
            let role = roles[self.rng.weighted(&[40, 35, 25])];
            let national = i >= ALLIED_LOCAL;
            let (workplace, titles): (String, &[&str]) = if national {
                let titles: &[&str] = if i < ALLIED_LOCAL + ALLIED_COMMITTEES {
                    &["Official, national committee on child protection"]
                } else {
                    &["Official, working group for children"]
                };
                (self.national_workplace(), titles)
            } else {
                let d = self.geo.districts[self.rng.below(self.geo.districts.len())];
                let communes = self.geo.communes_of.get(d.code.as_str()).cloned().unwrap_or_default();
                match role {
                    WorkerRole::AlliedPolice => (d.code.clone(), &["Police Officer in charge of Child Protection"]),
                    WorkerRole::AlliedTeacher if !communes.is_empty() => {
                        let c = self.geo.communes[*self.rng.pick(&communes)].code.clone();
                        (c, &["Teacher, Child Protection Focal Point"])
                    }
                    WorkerRole::AlliedTeacher => (d.code.clone(), &["Teacher, Child Protection Focal Point"]),
                    _ => (d.code.clone(), &["Health Officer, Child Protection Focal Point"]),
                }
            };
            let post = self.post(None, role, titles, &workplace);
            let earlier = if self.transfer() {
                let d = self.geo.districts[self.rng.below(self.geo.districts.len())].code.clone();
                Some(self.post(None, role, &[], &d))
            } else {
                None
            };
            let education = self.edu_allied(national);
            let female = match role {
                WorkerRole::AlliedPolice => 200,
                _ => 550,
            };
            self.add(Job {
                cadre: Cadre::Allied,
                sector: Sector::Government,
                post,
                education,
                female,
                email: 300,
                earlier,
            });
        }
    }
}

/// Generates the demo data set. `units` is the full admin-unit list (country,
/// provinces, districts, communes, villages) as
/// [`parse_admin_units`](crate::admin::parse_admin_units) returns it.
/// Worker dates are relative to `today` and never after it.
pub fn generate(units: &[AdminUnit], today: NaiveDate) -> DemoDataSet {
    let Some(geo) = Geo::new(units) else {
        return DemoDataSet { orgs: Vec::new(), workers: Vec::new() };
    };
    let mut orgs = Vec::new();
    orgs.push(org(
        MOSVY_KEY.into(),
        MOSVY_NAME_EN.into(),
        Some(MOSVY_NAME_KM.into()),
        OrgKind::Ministry,
        &geo.country.code,
    ));
    for (key, en, km) in DEPARTMENTS {
        orgs.push(org(
            key.to_string(),
            en.to_string(),
            Some(km.to_string()),
            OrgKind::MinistryDepartment,
            &geo.country.code,
        ));
    }
    orgs.push(org(
        NISA_KEY.into(),
        "National Institute of Social Affairs".into(),
        Some("វិទ្យាស្ថានជាតិសង្គមកិច្ច".into()),
        OrgKind::TrainingInstitute,
        &geo.capital.code,
    ));
    for p in &geo.provinces {
        orgs.push(org(
            dosvy_key(&p.code),
            format!("{} {DOSVY_NAME_EN}", p.name_en),
            Some(format!("{DOSVY_NAME_KM} {}", province_km_full(p))),
            OrgKind::ProvincialDepartment,
            &p.code,
        ));
    }
    for d in &geo.districts {
        let province = geo.provinces.iter().find(|p| Some(p.code.as_str()) == d.province_code.as_deref());
        let (province_en, province_km) = match province {
            Some(p) => (format!(", {}", p.name_en), format!(" {}", province_km_full(p))),
            None => (String::new(), String::new()),
        };
        orgs.push(org(
            district_office_key(&d.code),
            format!("{OFFICE_NAME_EN}, {}{province_en}", d.name_en),
            Some(format!("{OFFICE_NAME_KM} {}{province_km}", d.name_km)),
            OrgKind::DistrictOffice,
            &d.code,
        ));
    }

    let mut gen = Gen {
        rng: Rng::new(1),
        today,
        geo,
        national_ids: BTreeSet::new(),
        emails: BTreeSet::new(),
        ngo_homes: Vec::new(),
        ngo_sizes: Vec::new(),
        workers: Vec::new(),
    };
    let ngos = gen.ngo_orgs();
    orgs.extend(ngos);
    for o in &mut orgs {
        o.draft.phone = Some(gen.phone());
    }
    gen.mosvy();
    gen.dosvy();
    gen.district_offices();
    gen.ngo_workers();
    gen.ccwc();
    gen.allied();
    DemoDataSet { orgs, workers: gen.workers }
}

#[cfg(test)]
mod tests;
