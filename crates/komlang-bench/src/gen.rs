//! Synthetic worker files of any size, written as they are generated
//! (constant memory), deterministic for a seed.
//!
//! Every person is invented. Names are drawn from common Khmer family and
//! given names (with their usual Latin spellings), a third of them with a
//! second given name; workplaces are Cambodia's communes; the cadre, role,
//! sector and employer go together as in the registry. A small share of the
//! rows are duplicates on purpose: an earlier row repeated (same national
//! ID), or an earlier person written differently (Khmer with a zero-width
//! space, a Latin vowel changed, no national ID), so that the import's
//! duplicate detection has work to do; about 1% have no date of birth.

use std::io::Write;

use chrono::{Duration, NaiveDate};

/// Columns of a generated file (the import recognizes them by these codes).
pub const COLUMNS: &[&str] = &[
    "name_km",
    "name_latin",
    "sex",
    "date_of_birth",
    "national_id",
    "phone",
    "email",
    "cadre",
    "role",
    "sector",
    "org_registration_no",
    "position_title",
    "workplace_code",
    "status",
    "start_date",
    "end_date",
    "education_level",
    "education_field",
];

/// Number of NGOs the generated workers may work for ([`write_orgs`]).
pub const NGOS: usize = 40;

// The demo data set's common Khmer names (Khmer, Latin), so generated files read like real ones.
use komlang_core::demo::{FAMILY_NAMES as FAMILY, FEMALE_NAMES as FEMALE, MALE_NAMES as MALE};

/// (cadre, role, sector, weight, NGO employer).
const JOBS: &[(&str, &str, &str, u32, bool)] = &[
    ("para_social_worker", "ccwc_focal_point", "government", 40, false),
    ("para_social_worker", "ccwc_member", "volunteer", 15, false),
    ("para_professional", "district_social_worker", "government", 8, false),
    ("para_professional", "district_officer", "government", 5, false),
    ("professional_social_worker", "dosvy_case_management_officer", "government", 3, false),
    ("para_professional", "dosvy_officer", "government", 5, false),
    ("para_professional", "ngo_case_worker", "ngo", 12, true),
    ("professional_social_worker", "ngo_social_worker", "ngo", 6, true),
    ("professional_social_worker", "ngo_manager", "ngo", 2, true),
    ("allied_worker", "allied_teacher", "government", 2, false),
    ("allied_worker", "allied_health", "government", 2, false),
];

const POSITIONS: &[&str] = &["Officer", "Deputy chief", "Chief of office", "Case worker", "Coordinator"];
const LEVELS: &[&str] = &["upper_secondary", "tvc2", "associate", "bachelor", "master"];
const PHONE_PREFIXES: &[&str] = &["012", "011", "017", "092", "097", "077", "088", "015"];

/// splitmix64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x4b6f_6d6c_616e_6721)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn permille(&mut self, p: u64) -> bool {
        self.next_u64() % 1000 < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// What [`write_workers`] wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenSummary {
    pub rows: u64,
    pub repeated: u64,
    pub respelled: u64,
    pub without_dob: u64,
}

/// The `i`-th national ID: 9 digits, all different for `i` below 10^9.
fn national_id(i: u64) -> String {
    // 387,420,489 (3^18) is coprime with 10^9: i -> i * k mod 10^9 is a permutation.
    format!("{:09}", (i.wrapping_mul(387_420_489) + 123_456_789) % 1_000_000_000)
}

fn vowel_variant(s: &str) -> String {
    // "Chea" -> "Chia", "Sok" -> "Suk": a different Latin spelling of one name.
    let mut out = String::with_capacity(s.len());
    let mut changed = false;
    for c in s.chars() {
        let d = match c {
            'e' if !changed => 'i',
            'o' if !changed => 'u',
            'a' if !changed => 'e',
            c => c,
        };
        changed |= d != c;
        out.push(d);
    }
    out
}

/// Writes `rows` synthetic workers as CSV (UTF-8, header row of [`COLUMNS`])
/// working in the given communes, employed (NGO rows) by `MOI-1` .. `MOI-40`.
pub fn write_workers<W: Write>(out: W, rows: u64, communes: &[String], seed: u64) -> anyhow::Result<GenSummary> {
    let mut w = csv::WriterBuilder::new().buffer_capacity(1 << 16).from_writer(out);
    w.write_record(COLUMNS)?;
    let mut rng = Rng::new(seed);
    let mut s = GenSummary::default();
    // The last rows written, for the duplicates made on purpose.
    let mut recent: Vec<Vec<String>> = Vec::with_capacity(1024);
    let epoch = NaiveDate::from_ymd_opt(1960, 1, 1).expect("date");
    let weights: u32 = JOBS.iter().map(|j| j.3).sum();
    // Nothing after this day (validation refuses future dates).
    let last = NaiveDate::from_ymd_opt(2025, 12, 31).expect("date");
    for i in 0..rows {
        if !recent.is_empty() && rng.permille(5) {
            // The same worker again (same national ID, same everything).
            let r = recent[rng.below(recent.len())].clone();
            w.write_record(&r)?;
            s.repeated += 1;
            s.rows += 1;
            continue;
        }
        if !recent.is_empty() && rng.permille(3) {
            // The same person written differently: Khmer with a zero-width
            // space, one Latin vowel changed, no national ID.
            let mut r = recent[rng.below(recent.len())].clone();
            if !r[3].is_empty() {
                r[0] = r[0].replacen(' ', " \u{200B}", 1);
                r[1] = vowel_variant(&r[1]);
                r[4].clear();
                w.write_record(&r)?;
                s.respelled += 1;
                s.rows += 1;
                continue;
            }
        }
        let female = rng.permille(550);
        let (fk, fl) = *rng.pick(FAMILY);
        let names = if female { FEMALE } else { MALE };
        let (gk, gl) = *rng.pick(names);
        let (mut km, mut latin) = (format!("{fk} {gk}"), format!("{fl} {gl}"));
        if rng.permille(330) {
            let (hk, hl) = *rng.pick(names);
            km.push_str(hk);
            latin.push(' ');
            latin.push_str(hl);
        }
        let dob = epoch + Duration::days(rng.below(45 * 365) as i64);
        let dob_text = if rng.permille(10) {
            s.without_dob += 1;
            String::new()
        } else if rng.permille(100) {
            dob.format("%d/%m/%Y").to_string()
        } else {
            dob.to_string()
        };
        let mut r = rng.next_u64() as u32 % weights;
        let job = JOBS
            .iter()
            .find(|j| {
                if r < j.3 {
                    true
                } else {
                    r -= j.3;
                    false
                }
            })
            .unwrap_or(&JOBS[0]);
        let start = dob + Duration::days(18 * 365 + rng.below(10 * 365) as i64);
        let start = start.min(NaiveDate::from_ymd_opt(2023, 12, 31).expect("date"));
        let (status, end) = match rng.below(100) {
            0..=89 => ("active", String::new()),
            90..=93 => ("on_leave", String::new()),
            94..=96 => ("left", (start + Duration::days(400)).min(last).to_string()),
            97..=98 => ("retired", (start + Duration::days(800)).min(last).to_string()),
            _ => ("transferred", (start + Duration::days(200)).min(last).to_string()),
        };
        let phone = if rng.permille(700) {
            format!("{} {:03} {:03}", rng.pick(PHONE_PREFIXES), rng.below(1000), rng.below(1000))
        } else {
            String::new()
        };
        let email =
            if rng.permille(100) { format!("{}.{}{i}@example.org", gl, fl).to_lowercase() } else { String::new() };
        let rec = vec![
            km,
            latin,
            if female { "female" } else { "male" }.to_string(),
            dob_text,
            if rng.permille(900) { national_id(i) } else { String::new() },
            phone,
            email,
            job.0.to_string(),
            job.1.to_string(),
            job.2.to_string(),
            if job.4 { format!("MOI-{}", 1 + rng.below(NGOS)) } else { String::new() },
            if rng.permille(300) { rng.pick(POSITIONS).to_string() } else { String::new() },
            rng.pick(communes).clone(),
            status.to_string(),
            if rng.permille(850) { start.to_string() } else { String::new() },
            end,
            if rng.permille(600) { rng.pick(LEVELS).to_string() } else { String::new() },
            if rng.permille(400) { "social_work".to_string() } else { String::new() },
        ];
        w.write_record(&rec)?;
        if recent.len() < 1024 {
            recent.push(rec);
        } else {
            let k = rng.below(1024);
            recent[k] = rec;
        }
        s.rows += 1;
    }
    w.flush()?;
    Ok(s)
}

/// Writes the NGOs the generated workers work for.
pub fn write_orgs<W: Write>(out: W, provinces: &[String]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["name_en", "name_km", "kind", "registration_no", "admin_code"])?;
    for n in 1..=NGOS {
        let province = &provinces[n % provinces.len()];
        w.write_record([
            format!("Synthetic NGO {n}"),
            format!("អង្គការ {n}"),
            "ngo".to_string(),
            format!("MOI-{n}"),
            province.clone(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_ids_are_distinct() {
        let ids: std::collections::HashSet<String> = (0..100_000).map(national_id).collect();
        assert_eq!(ids.len(), 100_000);
    }

    #[test]
    fn same_seed_same_file() {
        let communes = vec!["010201".to_string(), "120101".to_string()];
        let mut a = Vec::new();
        let mut b = Vec::new();
        let sa = write_workers(&mut a, 2000, &communes, 7).unwrap();
        write_workers(&mut b, 2000, &communes, 7).unwrap();
        assert_eq!(a, b);
        assert_eq!(sa.rows, 2000);
        assert!(sa.repeated > 0 && sa.respelled > 0);
        let text = String::from_utf8(a).unwrap();
        assert_eq!(text.lines().count(), 2001);
    }
}
