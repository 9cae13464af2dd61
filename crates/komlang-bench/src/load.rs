//! `komlang-bench load`: a registry of `--rows` workers served by `komlang
//! serve`, driven by `--clients` concurrent clients for `--seconds`, with the
//! requests people make most (searches, filtered lists, profiles, the home
//! page, coverage, a few edits); next to the searches, the engine's own
//! indexed query for the same terms (the ceiling). See BENCHMARKS.md.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;

use crate::{loadavg, machine, run_ok, setup};

#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    #[command(flatten)]
    common: crate::Common,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// How long the clients run, per engine.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Use the database a previous run built (`DIR/load-ROWS.db`, PostgreSQL database
    /// `komlang_load_ROWS`) when it holds the workers; build it otherwise.
    #[arg(long)]
    reuse: bool,
    /// Port `komlang serve` listens on (127.0.0.1).
    #[arg(long, default_value_t = 18_080)]
    port: u16,
    /// The requests: `full`, what people do (searches, lists, profiles, the home page,
    /// coverage, edits), `search`, searches and profiles only (the search aims), or
    /// `reports`, the establishment, supervision, cost and retention reports (on posts,
    /// ranks, supervisors and reasons for leaving the bench adds to the registry), or
    /// `performance`, appraisals due by unit and their lists, a worker's appraisals,
    /// re-assignment hints and a recruitment round's ranking (on appraisals, case lists and
    /// a round the bench adds).
    #[arg(long, value_enum, default_value_t = Mix::Full)]
    mix: Mix,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mix {
    Full,
    Search,
    Reports,
    Performance,
}

impl Mix {
    fn weights(self) -> &'static [(Kind, u32)] {
        match self {
            Mix::Full => MIX,
            Mix::Search => SEARCH_MIX,
            Mix::Reports => REPORTS_MIX,
            Mix::Performance => PERFORMANCE_MIX,
        }
    }
}

/// The kinds of requests, with their share of the mix (out of the sum of the weights).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    SearchLatin,
    SearchKhmer,
    SearchShort,
    ListFiltered,
    Profile,
    Home,
    CoverageProvince,
    CoverageDistrict,
    CoverageCommune,
    Patch,
    Establishment,
    EstablishmentPast,
    Supervision,
    WorkforceCost,
    Turnover,
    Survival,
    AppraisalsProvince,
    AppraisalsDistrict,
    AppraisalsOverdue,
    WorkerAppraisals,
    Reassignment,
    ReassignmentProvince,
    Round,
}

const MIX: &[(Kind, u32)] = &[
    (Kind::SearchLatin, 20),
    (Kind::SearchKhmer, 10),
    (Kind::SearchShort, 5),
    (Kind::ListFiltered, 15),
    (Kind::Profile, 30),
    (Kind::Home, 5),
    (Kind::CoverageProvince, 3),
    (Kind::CoverageDistrict, 3),
    (Kind::CoverageCommune, 2),
    (Kind::Patch, 2),
];

/// `--mix search`: the searches in the proportions of the full mix, and profiles (the point
/// lookup the searches' latency is compared with).
const SEARCH_MIX: &[(Kind, u32)] =
    &[(Kind::SearchLatin, 40), (Kind::SearchKhmer, 20), (Kind::SearchShort, 10), (Kind::Profile, 30)];

/// `--mix reports`: the reports of posts, supervision, costs and retention, with the home page
/// and profiles beside them (what else is asked meanwhile).
const REPORTS_MIX: &[(Kind, u32)] = &[
    (Kind::Establishment, 10),
    (Kind::EstablishmentPast, 5),
    (Kind::Supervision, 10),
    (Kind::WorkforceCost, 10),
    (Kind::Turnover, 10),
    (Kind::Survival, 5),
    (Kind::Home, 10),
    (Kind::Profile, 40),
];

/// `--mix performance`: appraisals due by unit and the lists behind them, a worker's
/// appraisals, re-assignment hints, a recruitment round with its ranking, with the home page and
/// profiles beside them.
const PERFORMANCE_MIX: &[(Kind, u32)] = &[
    (Kind::AppraisalsProvince, 10),
    (Kind::AppraisalsDistrict, 5),
    (Kind::AppraisalsOverdue, 10),
    (Kind::WorkerAppraisals, 20),
    (Kind::Reassignment, 3),
    (Kind::ReassignmentProvince, 3),
    (Kind::Round, 5),
    (Kind::Home, 5),
    (Kind::Profile, 40),
];

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::SearchLatin => "search `q`, Latin, 3-6 letters",
            Kind::SearchKhmer => "search `q`, Khmer name",
            Kind::SearchShort => "search `q`, 1-2 letters",
            Kind::ListFiltered => "list, province + cadre",
            Kind::Profile => "GET /api/v1/workers/{id}",
            Kind::Home => "home page GET /",
            Kind::CoverageProvince => "coverage, provinces",
            Kind::CoverageDistrict => "coverage, districts",
            Kind::CoverageCommune => "coverage, communes",
            Kind::Patch => "PATCH /api/v1/workers/{id}",
            Kind::Establishment => "establishment, provinces, this year",
            Kind::EstablishmentPast => "establishment, provinces, 2024",
            Kind::Supervision => "supervision summary, provinces",
            Kind::WorkforceCost => "workforce cost, provinces",
            Kind::Turnover => "turnover by province, 2025",
            Kind::Survival => "survival of starters",
            Kind::AppraisalsProvince => "appraisals due, provinces",
            Kind::AppraisalsDistrict => "appraisals due, districts of a province",
            Kind::AppraisalsOverdue => "overdue appraisals of a province (list)",
            Kind::WorkerAppraisals => "GET /api/v1/workers/{id}/appraisals",
            Kind::Reassignment => "re-assignment hints, districts",
            Kind::ReassignmentProvince => "re-assignment hints, communes of a province",
            Kind::Round => "recruitment round (candidates ranked)",
        }
    }
}

/// What the requests are made of: workers drawn from the registry.
struct Sample {
    ids: Vec<i64>,
    latin: Vec<String>,
    khmer: Vec<String>,
    provinces: Vec<String>,
}

/// Cadres of the generated workers.
const CADRES: &[&str] = &["para_social_worker", "para_professional", "professional_social_worker", "allied_worker"];

impl Sample {
    /// A search term of a kind: part of a Latin name (3 to 6 letters, or 1 to 2), or a Khmer name.
    fn term(&self, kind: Kind, rng: &mut StdRng) -> String {
        match kind {
            Kind::SearchKhmer => self.khmer[rng.gen_range(0..self.khmer.len())].clone(),
            _ => {
                let word: Vec<char> = self.latin[rng.gen_range(0..self.latin.len())].chars().collect();
                let (lo, hi) = if kind == Kind::SearchShort { (1, 2) } else { (3, 6) };
                let len = rng.gen_range(lo..=hi).min(word.len());
                let start = rng.gen_range(0..=word.len() - len);
                word[start..start + len].iter().collect::<String>().to_lowercase()
            }
        }
    }

    fn province(&self, rng: &mut StdRng) -> &str {
        &self.provinces[rng.gen_range(0..self.provinces.len())]
    }

    fn path(&self, kind: Kind, rng: &mut StdRng) -> (reqwest::Method, String) {
        let id = self.ids[rng.gen_range(0..self.ids.len())];
        let get = reqwest::Method::GET;
        match kind {
            Kind::SearchLatin | Kind::SearchKhmer | Kind::SearchShort => {
                (get, format!("/api/v1/workers?q={}", encode(&self.term(kind, rng))))
            }
            Kind::ListFiltered => (
                get,
                format!(
                    "/api/v1/workers?province={}&cadre={}",
                    self.provinces[rng.gen_range(0..self.provinces.len())],
                    CADRES[rng.gen_range(0..CADRES.len())]
                ),
            ),
            Kind::Profile => (get, format!("/api/v1/workers/{id}")),
            Kind::Home => (get, "/".into()),
            Kind::CoverageProvince => (get, "/api/v1/planning/coverage?level=province".into()),
            Kind::CoverageDistrict => (get, "/api/v1/planning/coverage?level=district".into()),
            Kind::CoverageCommune => (get, "/api/v1/planning/coverage?level=commune".into()),
            Kind::Patch => (reqwest::Method::PATCH, format!("/api/v1/workers/{id}")),
            Kind::Establishment => (get, "/api/v1/establishment?level=province".into()),
            Kind::EstablishmentPast => (get, "/api/v1/establishment?level=province&year=2024".into()),
            Kind::Supervision => (get, "/api/v1/supervision/summary?level=province".into()),
            Kind::WorkforceCost => (get, "/api/v1/costs/workforce?level=province&currency=USD".into()),
            Kind::Turnover => (get, "/api/v1/retention/turnover?year=2025&by=province".into()),
            Kind::Survival => (get, "/api/v1/retention/survival".into()),
            Kind::AppraisalsProvince => (get, "/api/v1/appraisals/summary?level=province".into()),
            Kind::AppraisalsDistrict => {
                (get, format!("/api/v1/appraisals/summary?level=district&parent={}", self.province(rng)))
            }
            Kind::AppraisalsOverdue => (get, format!("/api/v1/appraisals/lists/overdue?unit={}", self.province(rng))),
            Kind::WorkerAppraisals => (get, format!("/api/v1/workers/{id}/appraisals")),
            Kind::Reassignment => (get, "/api/v1/caseloads/reassignment?level=district".into()),
            Kind::ReassignmentProvince => {
                (get, format!("/api/v1/caseloads/reassignment?level=commune&parent={}", self.province(rng)))
            }
            Kind::Round => (get, format!("/api/v1/recruitment/rounds/{BENCH_ROUND}")),
        }
    }
}

/// Percent-encoding of a query value.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One engine's database: its URL, and how long building it took (none when reused).
struct Db {
    url: String,
    built: Option<crate::Run>,
}

fn count_workers(engine: &str, url: &str, db_file: &Path) -> Option<u64> {
    let out = match engine {
        "sqlite" => run_ok(Command::new("sqlite3").arg(db_file).arg("SELECT COUNT(*) FROM workers")),
        _ => run_ok(Command::new("psql").arg(url).args(["-qtAc", "SELECT COUNT(*) FROM workers"])),
    };
    out.ok().and_then(|s| s.trim().parse().ok())
}

/// PostgreSQL's settings that most change these figures (memory for pages and for sorts), as
/// " (shared_buffers 128MB, work_mem 4MB)"; nothing for SQLite, whose settings are Komlang's.
fn pg_settings(engine: &str, url: &str) -> String {
    if engine == "sqlite" {
        return String::new();
    }
    let show = |name: &str| {
        run_ok(Command::new("psql").arg(url).args(["-qtAc", &format!("SHOW {name}")]))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "?".into())
    };
    format!(" (shared_buffers {}, work_mem {})", show("shared_buffers"), show("work_mem"))
}

/// Builds (or, with `--reuse`, finds) the engine's database of `--rows` workers:
/// the import bench's generated file imported with `komlang import workers`.
fn prepare(engine: &str, a: &LoadArgs, bin: &Path, dir: &Path) -> Result<Db> {
    let file = dir.join(format!("load-{}.db", a.common.rows));
    let name = format!("komlang_load_{}", a.common.rows);
    let url = match engine {
        "sqlite" => format!("sqlite://{}", file.display()),
        _ => crate::pg_database_url(&a.common.pg_url, &name),
    };
    // The import keeps 96.8% of the generated rows (the others are its duplicates).
    let enough = a.common.rows * 9 / 10;
    if a.reuse && count_workers(engine, &url, &file).is_some_and(|n| n >= enough) {
        println!("{engine}: reusing {}", crate::redact(&url));
        return Ok(Db { url, built: None });
    }
    match engine {
        "sqlite" => {
            for suffix in ["", "-wal", "-shm", "-journal", ".lock"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
        _ => {
            run_ok(
                Command::new("psql")
                    .arg(&a.common.pg_url)
                    .args(["-qtAc", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")]),
            )?;
            run_ok(Command::new("psql").arg(&a.common.pg_url).args(["-qtAc", &format!("CREATE DATABASE {name}")]))?;
        }
    }
    let csv = dir.join(format!("workers-{}.csv", a.common.rows));
    let orgs = dir.join("orgs.csv");
    crate::generate(&csv, &orgs, a.common.rows, a.common.seed)?;
    setup(bin, &url, &orgs)?;
    println!("{engine}: importing {} rows with komlang import workers...", a.common.rows);
    let log = dir.join(format!("load-import-{engine}.log"));
    let run = crate::import_workers(bin, &url, &csv, &log)?;
    if run.exit != 0 {
        bail!("the import failed: see {}", log.display());
    }
    println!(
        "{engine}: imported in {:.1} s ({:.0} rows/s, peak RSS {:.0} MB)",
        run.seconds,
        a.common.rows as f64 / run.seconds,
        run.peak_rss_kb as f64 / 1024.0
    );
    Ok(Db { url, built: Some(run) })
}

/// What the reports read beside the workers, added once to the bench's registry (when it has
/// no post yet), set-based: a post for every government worker in post, filled by their
/// current posting, and one vacant post for ten of them; a rank for each of them; a supervisor
/// for seven workers in eight (the eighth, by id); a reason for every separation.
async fn report_data(engine: &str, url: &str) -> Result<()> {
    let pool = connect(url).await?;
    let posts: i64 = sqlx::query("SELECT COUNT(*) FROM posts").fetch_one(&pool).await?.get(0);
    if posts > 0 {
        pool.close().await;
        return Ok(());
    }
    let started = Instant::now();
    let in_post = "w.sector = 'government' AND w.status IN ('active', 'on_leave')";
    let now = "'2026-01-01T00:00:00Z'";
    let statements = [
        format!(
            "INSERT INTO posts (id, admin_code, org_id, cadre, role, funding, approved_year, created_by, created_at) \
             SELECT pg.id, pg.workplace_code, pg.org_id, w.cadre, pg.role, CASE w.id % 4 WHEN 1 THEN 'subnational_budget' \
             WHEN 2 THEN 'development_partner' ELSE 'mosvy_payroll' END, 2010 + w.id % 15, 'bench', {now} \
             FROM postings pg JOIN workers w ON w.id = pg.worker_id WHERE pg.end_date IS NULL AND {in_post}"
        ),
        "UPDATE postings SET post_id = id WHERE id IN (SELECT id FROM posts)".to_string(),
        match engine {
            "sqlite" => "SELECT 1".to_string(),
            _ => "SELECT setval(pg_get_serial_sequence('posts', 'id'), (SELECT MAX(id) FROM posts))".to_string(),
        },
        "INSERT INTO posts (admin_code, org_id, cadre, role, funding, approved_year, created_by, created_at) \
         SELECT admin_code, org_id, cadre, role, funding, approved_year, created_by, created_at FROM posts WHERE id % 10 = 0"
            .to_string(),
        format!(
            "INSERT INTO worker_ranks (worker_id, grade, step, from_date, recorded_by, recorded_at) \
             SELECT w.id, CASE w.cadre WHEN 'professional_social_worker' THEN 'B' WHEN 'para_professional' THEN 'C' \
             ELSE 'D' END, 1 + w.id % 5, '2020-01-01', 'bench', {now} FROM workers w WHERE {in_post}"
        ),
        format!(
            "INSERT INTO supervision_assignments (supervisor_id, supervisee_id, dedicated, start_date, created_by, created_at) \
             SELECT s.id, w.id, 0, '2025-01-01', 'bench', {now} FROM workers w JOIN workers s ON s.id = w.id - w.id % 8 \
             WHERE w.id % 8 <> 0 AND {in_post}"
        ),
        "UPDATE status_changes SET reason = CASE id % 3 WHEN 0 THEN 'resigned' WHEN 1 THEN 'moved_to_ngo' \
         ELSE 'end_of_contract' END WHERE status IN ('left', 'retired', 'deceased', 'transferred')"
            .to_string(),
    ];
    for sql in &statements {
        sqlx::query(sql).execute(&pool).await.with_context(|| format!("bench report data: {sql}"))?;
    }
    // The planner's statistics of the tables just filled (PostgreSQL's autovacuum would come
    // to them later; until then the reports' plans are guesses).
    sqlx::query("ANALYZE").execute(&pool).await.context("bench report data: ANALYZE")?;
    let count = |t: &'static str| {
        let pool = &pool;
        async move { sqlx::query(&format!("SELECT COUNT(*) FROM {t}")).fetch_one(pool).await.map(|r| r.get::<i64, _>(0)) }
    };
    println!(
        "{engine}: report data added in {:.1} s: {} posts, {} ranks, {} supervision assignments",
        started.elapsed().as_secs_f64(),
        count("posts").await?,
        count("worker_ranks").await?,
        count("supervision_assignments").await?
    );
    pool.close().await;
    Ok(())
}

/// The recruitment round the bench adds (`--mix performance`).
const BENCH_ROUND: i64 = 900_001;

/// What the performance pages read, added once to the bench's registry (when it has no
/// appraisal yet) on top of [`report_data`]'s posts, set-based: a job description; a completed
/// appraisal for two active workers in three, their periods ending over the last two years (so
/// that some are due and some overdue), an open one for every ninth; a corrective action for
/// one appraised worker in forty, follow-ups spread around today; a Primero case list in which
/// one active worker in ten owns cases (45 open, against the default threshold of 25, in the districts whose code's fourth digit is 1
/// or 2, 2 elsewhere: loads far above and far below the threshold side by side); a national
/// round of 200 vacant posts (one in four requiring a competency) and about 2,000 candidates
/// from the registry, scored.
async fn performance_data(engine: &str, url: &str) -> Result<()> {
    let pool = connect(url).await?;
    let appraisals: i64 = sqlx::query("SELECT COUNT(*) FROM appraisals").fetch_one(&pool).await?.get(0);
    if appraisals > 0 {
        pool.close().await;
        return Ok(());
    }
    let started = Instant::now();
    let now = "'2026-01-01T00:00:00Z'";
    // A day `days` after 2024-12-01, as text (the engines' date arithmetic differs).
    let day = |days: &str| match engine {
        "sqlite" => format!("date('2024-12-01', '+' || ({days}) || ' days')"),
        _ => format!("to_char(DATE '2024-12-01' + ({days})::int, 'YYYY-MM-DD')"),
    };
    let numbers = |n: u32| {
        format!("(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) SELECT i FROM n)")
    };
    let statements = [
        format!(
            "INSERT INTO job_descriptions (id, role, version, title_en, title_km, loaded_by, loaded_at) \
             VALUES ({BENCH_ROUND}, 'bench', 1, 'Bench role', 'Bench role', 'bench', {now})"
        ),
        format!(
            "INSERT INTO job_functions (job_description_id, position, code, name_en, name_km, competencies) \
             SELECT {BENCH_ROUND}, i, 'f' || i, 'Function', 'Function', '' FROM {} f",
            numbers(4)
        ),
        format!(
            "INSERT INTO appraisals (worker_id, cycle, period_start, period_end, job_description_id, form, status, \
             overall, appraiser, completed_on, created_at, updated_at) \
             SELECT w.id, 'bench', '2024-01-01', {end}, {BENCH_ROUND}, 'formal', 'completed', 'meets', 'bench', {end}, \
             {now}, {now} FROM workers w WHERE w.status = 'active' AND w.id % 3 <> 0",
            end = day("w.id % 730")
        ),
        format!(
            "INSERT INTO appraisals (worker_id, cycle, period_start, period_end, job_description_id, form, status, \
             appraiser, created_at, updated_at) \
             SELECT w.id, 'bench-open', '2025-12-01', '2026-11-30', {BENCH_ROUND}, 'formal', 'open', 'bench', {now}, {now} \
             FROM workers w WHERE w.status = 'active' AND w.id % 9 = 0"
        ),
        format!(
            "INSERT INTO appraisal_actions (appraisal_id, kind, description, follow_up_on, created_by, created_at) \
             SELECT a.id, 'corrective', 'Bench follow-up', {}, 'bench', {now} FROM appraisals a \
             WHERE a.status = 'completed' AND a.worker_id % 40 = 1",
            day("500 + a.worker_id % 400")
        ),
        format!(
            "INSERT INTO caseload_snapshots (id, source, as_of, cases, open_cases, recorded_by, recorded_at) \
             VALUES ({BENCH_ROUND}, 'primero', '2026-11-30', 0, 0, 'bench', {now})"
        ),
        format!(
            "INSERT INTO case_owner_links (source, owner_key, owner, worker_id, linked_by, linked_at) \
             SELECT 'primero', 'bench' || w.id, 'bench' || w.id, w.id, 'bench', {now} FROM workers w \
             WHERE w.status = 'active' AND w.id % 10 = 0"
        ),
        format!(
            "INSERT INTO caseload_cases (snapshot_id, case_ref, status, owner, owner_key, admin_code, opened_on) \
             SELECT {BENCH_ROUND}, k.owner_key || '-' || n.i, 'open', k.owner, k.owner_key, w.workplace_code, '2026-06-01' \
             FROM case_owner_links k JOIN workers w ON w.id = k.worker_id CROSS JOIN {} n \
             WHERE n.i <= CASE WHEN substr(w.workplace_code, 4, 1) IN ('1', '2') THEN 45 ELSE 2 END",
            numbers(45)
        ),
        format!(
            "UPDATE caseload_snapshots SET cases = (SELECT COUNT(*) FROM caseload_cases WHERE snapshot_id = {BENCH_ROUND}), \
             open_cases = (SELECT COUNT(*) FROM caseload_cases WHERE snapshot_id = {BENCH_ROUND}) WHERE id = {BENCH_ROUND}"
        ),
        format!(
            "INSERT INTO recruitment_rounds (id, name, kind, opens_on, closes_on, status, exam_weight, interview_weight, \
             created_by, created_at) VALUES ({BENCH_ROUND}, 'Bench national round', 'national', '2026-11-01', '2026-12-31', \
             'open', 0.7, 0.3, 'bench', {now})"
        ),
        format!(
            "INSERT INTO round_posts (round_id, post_id, requirements) \
             SELECT {BENCH_ROUND}, p.id, CASE WHEN p.id % 4 = 0 \
             THEN '{{\"years_min\":1,\"competencies\":[{{\"code\":\"values.01\",\"level\":2}}]}}' \
             ELSE '{{\"years_min\":1}}' END FROM posts p \
             WHERE NOT EXISTS (SELECT 1 FROM postings g WHERE g.post_id = p.id AND g.end_date IS NULL) \
             ORDER BY p.id LIMIT 200"
        ),
        format!(
            "INSERT INTO candidates (round_id, worker_id, source, name_km, name_latin, sex, status, exam_score, \
             interview_score, applied_on, created_by, created_at) \
             SELECT {BENCH_ROUND}, w.id, 'registry', w.name_km, w.name_latin, w.sex, 'applied', 40 + w.id % 60, \
             50 + w.id % 50, '2026-11-15', 'bench', {now} FROM workers w WHERE w.status = 'active' AND w.id % 480 = 7"
        ),
    ];
    for sql in &statements {
        sqlx::query(sql).execute(&pool).await.with_context(|| format!("bench performance data: {sql}"))?;
    }
    sqlx::query("ANALYZE").execute(&pool).await.context("bench performance data: ANALYZE")?;
    let count = |t: &'static str| {
        let pool = &pool;
        async move { sqlx::query(&format!("SELECT COUNT(*) FROM {t}")).fetch_one(pool).await.map(|r| r.get::<i64, _>(0)) }
    };
    println!(
        "{engine}: performance data added in {:.1} s: {} appraisals, {} corrective actions, {} cases of {} owners, \
         {} round posts, {} candidates",
        started.elapsed().as_secs_f64(),
        count("appraisals").await?,
        count("appraisal_actions").await?,
        count("caseload_cases").await?,
        count("case_owner_links").await?,
        count("round_posts").await?,
        count("candidates").await?
    );
    pool.close().await;
    Ok(())
}

/// An account for the clients and its API token (`komlang user add`, `komlang token create`).
fn token(bin: &Path, url: &str) -> Result<(String, String)> {
    let (user, password) = ("loadbench".to_string(), "load-bench-password".to_string());
    // Already there when the database is reused: then its password is set again.
    if run_ok(Command::new(bin).args([
        "user",
        "add",
        "--username",
        &user,
        "--password",
        &password,
        "--role",
        "national-admin",
        "--db",
        url,
    ]))
    .is_err()
    {
        run_ok(Command::new(bin).args([
            "user",
            "set-password",
            "--username",
            &user,
            "--password",
            &password,
            "--db",
            url,
        ]))?;
    }
    let out =
        run_ok(Command::new(bin).args(["token", "create", "--username", &user, "--label", "load bench", "--db", url]))?;
    let token = out.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().to_string();
    Ok((token, password))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM: the server's graceful shutdown; then wait for it.
        #[allow(unsafe_code, reason = "sending SIGTERM to the child this program started")]
        // SAFETY: kill(2) on the pid of our own child.
        unsafe {
            libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.0.wait();
    }
}

fn serve(bin: &Path, url: &str, port: u16, log: &Path) -> Result<Server> {
    let out = std::fs::File::create(log)?;
    let child = Command::new(bin)
        .args(["serve", "--db", url, "--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::from(out.try_clone()?))
        .stderr(Stdio::from(out))
        .spawn()
        .context("cannot start komlang serve")?;
    Ok(Server(child))
}

/// Per kind: latencies (µs) of the answered requests, and the failures.
#[derive(Default)]
struct Tally {
    micros: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

/// One connection to the bench's database, whichever the engine.
async fn connect(url: &str) -> Result<sqlx::AnyPool> {
    sqlx::any::install_default_drivers();
    Ok(sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await?)
}

async fn sample(url: &str, provinces: Vec<String>) -> Result<Sample> {
    let pool = connect(url).await?;
    let rows: Vec<(i64, String, String)> =
        sqlx::query("SELECT id, name_latin, name_km FROM workers ORDER BY random() LIMIT 5000")
            .fetch_all(&pool)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    pool.close().await;
    if rows.is_empty() {
        bail!("no workers in the database");
    }
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    Ok(Sample {
        ids: rows.iter().map(|r| r.0).collect(),
        latin: rows.iter().flat_map(|r| words(&r.1)).collect(),
        khmer: rows.iter().flat_map(|r| words(&r.2)).collect(),
        provinces,
    })
}

/// Signs in through the login form (the home page is a page: it wants a session).
async fn sign_in(web: &reqwest::Client, base: &str, password: &str) -> Result<()> {
    let page = web.get(format!("{base}/login")).send().await?.text().await?;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("no CSRF token on the login page")?;
    let r = web
        .post(format!("{base}/login"))
        .form(&[("username", "loadbench"), ("password", password), ("csrf", csrf), ("next", "/")])
        .send()
        .await?;
    let body = r.text().await?;
    if body.contains("name=\"password\"") {
        bail!("sign-in refused");
    }
    Ok(())
}

struct Drive<'a> {
    base: String,
    token: String,
    password: &'a str,
    clients: usize,
    seconds: u64,
    seed: u64,
    mix: Mix,
}

async fn drive(d: &Drive<'_>, sample: Arc<Sample>) -> Result<(BTreeMap<Kind, Tally>, f64)> {
    let api = reqwest::Client::builder().pool_max_idle_per_host(d.clients).build()?;
    let web = reqwest::Client::builder().cookie_store(true).pool_max_idle_per_host(d.clients).build()?;
    sign_in(&web, &d.base, d.password).await?;
    let mix = d.mix.weights();
    let total: u32 = mix.iter().map(|m| m.1).sum();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(d.seconds);
    let mut tasks = Vec::new();
    for c in 0..d.clients {
        let (api, web, sample, base, token) =
            (api.clone(), web.clone(), sample.clone(), d.base.clone(), d.token.clone());
        let seed = d.seed.wrapping_mul(1000).wrapping_add(c as u64);
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut out: BTreeMap<Kind, Tally> = BTreeMap::new();
            let mut edits = 0u64;
            while Instant::now() < deadline {
                let mut pick = rng.gen_range(0..total);
                let kind = mix
                    .iter()
                    .find(|(_, w)| {
                        if pick < *w {
                            return true;
                        }
                        pick -= w;
                        false
                    })
                    .map(|m| m.0)
                    .unwrap_or(Kind::Profile);
                let (method, path) = sample.path(kind, &mut rng);
                let url = format!("{base}{path}");
                let req = match kind {
                    Kind::Home => web.get(url),
                    Kind::Patch => {
                        edits += 1;
                        api.request(method, url)
                            .bearer_auth(&token)
                            .json(&serde_json::json!({ "position_title": format!("Officer {c}-{edits}") }))
                    }
                    _ => api.request(method, url).bearer_auth(&token),
                };
                let t = Instant::now();
                let res = match req.send().await {
                    Ok(r) => {
                        let status = r.status();
                        match r.bytes().await {
                            Ok(_) if status.is_success() => Ok(()),
                            Ok(b) => Err(format!("{status}: {}", String::from_utf8_lossy(&b[..b.len().min(200)]))),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                let us = t.elapsed().as_micros() as u64;
                let tally = out.entry(kind).or_default();
                match res {
                    Ok(()) => tally.micros.push(us),
                    Err(e) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert(format!("{path}: {e}"));
                    }
                }
            }
            out
        }));
    }
    let mut all: BTreeMap<Kind, Tally> = BTreeMap::new();
    for t in tasks {
        for (k, v) in t.await? {
            let e = all.entry(k).or_default();
            e.micros.extend(v.micros);
            e.errors += v.errors;
            if e.first_error.is_none() {
                e.first_error = v.first_error;
            }
        }
    }
    Ok((all, started.elapsed().as_secs_f64()))
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// The engine's own indexed search for the same terms, on one connection, timed
/// directly (the matches counted up to the API's bound, and a first page): an FTS5 trigram index on a
/// temporary copy of the names (SQLite), a `pg_trgm` GIN index on a copy table
/// (PostgreSQL). What an index could give the search, whatever the program in front.
struct Ceiling {
    kind: Kind,
    micros: Vec<u64>,
    build_seconds: f64,
}

async fn ceiling(engine: &str, url: &str, terms: &[(Kind, Vec<String>)]) -> Result<Vec<Ceiling>> {
    // A copy of the names and its trigram index (what the engine's own substring search
    // reads), the table it is in, the column of its ids, and what removes it afterwards.
    let (build, table, id, cleanup): (&[&str], &str, &str, Option<&str>) = match engine {
        "sqlite" => (
            &[
                "CREATE VIRTUAL TABLE temp.bench_names USING fts5(names, tokenize = 'trigram')",
                "INSERT INTO temp.bench_names (rowid, names) SELECT id, lower(name_latin) || ' ' || name_km FROM main.workers",
            ],
            "temp.bench_names",
            "rowid",
            None,
        ),
        _ => (
            &[
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                "DROP TABLE IF EXISTS bench_names",
                "CREATE TABLE bench_names AS SELECT id, lower(name_latin) || ' ' || name_km AS names FROM workers",
                "CREATE INDEX ON bench_names USING gin (names gin_trgm_ops)",
                "ANALYZE bench_names",
            ],
            "bench_names",
            "id",
            Some("DROP TABLE bench_names"),
        ),
    };
    let pool = connect(url).await?;
    let t = Instant::now();
    for s in build {
        sqlx::query(s).execute(&pool).await?;
    }
    let build_seconds = t.elapsed().as_secs_f64();
    let count = format!("SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE names LIKE $1 LIMIT $2) c");
    let page = format!("SELECT {id} FROM {table} WHERE names LIKE $1 LIMIT 25");
    let mut out = Vec::new();
    for (kind, ts) in terms {
        let mut micros = Vec::new();
        for term in ts {
            let p = format!("%{}%", term.to_lowercase());
            let t = Instant::now();
            let _: i64 =
                sqlx::query_scalar(&count).bind(&p).bind(komlang_store::COUNT_LIMIT + 1).fetch_one(&pool).await?;
            let _ = sqlx::query(&page).bind(&p).fetch_all(&pool).await?;
            micros.push(t.elapsed().as_micros() as u64);
        }
        out.push(Ceiling { kind: *kind, micros, build_seconds });
    }
    if let Some(s) = cleanup {
        sqlx::query(s).execute(&pool).await?;
    }
    pool.close().await;
    Ok(out)
}

async fn wait_ready(base: &str, server: &mut Server) -> Result<()> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(300) {
        if let Some(status) = server.0.try_wait()? {
            bail!("komlang serve exited: {status}");
        }
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("komlang serve not ready after 300 s")
}

pub fn run(a: LoadArgs) -> Result<()> {
    let dir = a.common.workdir()?;
    let bin = crate::komlang_bin(a.common.komlang.as_ref())?;
    let units = komlang_store::bundled_cambodia_units();
    let provinces: Vec<String> =
        units.iter().filter(|u| u.level == komlang_core::AdminLevel::Province).map(|u| u.code.clone()).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut report = String::new();
    for engine in &a.common.engines {
        let engine = match engine.trim() {
            "sqlite" => "sqlite",
            "postgres" | "postgresql" => "postgres",
            other => bail!("unknown engine `{other}`: use sqlite or postgres"),
        };
        let db = prepare(engine, &a, &bin, &dir)?;
        if matches!(a.mix, Mix::Reports | Mix::Performance) {
            rt.block_on(report_data(engine, &db.url))?;
        }
        if a.mix == Mix::Performance {
            rt.block_on(performance_data(engine, &db.url))?;
        }
        let (token, password) = token(&bin, &db.url)?;
        let sample = Arc::new(rt.block_on(sample(&db.url, provinces.clone()))?);
        let log = dir.join(format!("load-serve-{engine}.log"));
        let mut server = serve(&bin, &db.url, a.port, &log)?;
        let base = format!("http://127.0.0.1:{}", a.port);
        rt.block_on(wait_ready(&base, &mut server))?;
        println!("{engine}: {} clients for {} s...", a.clients, a.seconds);
        let load_before = loadavg();
        let d = Drive {
            base,
            token,
            password: &password,
            clients: a.clients,
            seconds: a.seconds,
            seed: a.common.seed,
            mix: a.mix,
        };
        let (tallies, elapsed) = rt.block_on(drive(&d, sample.clone()))?;
        let load_after = loadavg();
        drop(server);
        // The ceiling, once the server is gone (nothing else on the database).
        let mut rng = StdRng::seed_from_u64(a.common.seed);
        let terms: Vec<(Kind, Vec<String>)> = [Kind::SearchLatin, Kind::SearchKhmer]
            .iter()
            .map(|k| (*k, (0..200).map(|_| sample.term(*k, &mut rng)).collect()))
            .collect();
        println!("{engine}: the engine's own indexed search...");
        let ceilings = rt.block_on(ceiling(engine, &db.url, &terms))?;

        let mut t = String::new();
        t.push_str(&format!(
            "\n### {}{} — {} workers{}, {} clients, mix `{:?}`, {:.0} s, load {:.1} / {:.1}\n\n",
            if engine == "sqlite" { "SQLite" } else { "PostgreSQL" },
            pg_settings(engine, &db.url),
            count_workers(engine, &db.url, &dir.join(format!("load-{}.db", a.common.rows))).unwrap_or(0),
            match &db.built {
                Some(r) => format!(" (built: import {:.1} s)", r.seconds),
                None => " (reused)".into(),
            },
            a.clients,
            a.mix,
            elapsed,
            load_before,
            load_after
        ));
        t.push_str("| request | count | req/s | p50 ms | p99 ms | errors | engine's indexed query (1 connection): p50 / p99 ms |\n");
        t.push_str("|---|---:|---:|---:|---:|---:|---|\n");
        let mut all = 0usize;
        for (kind, mut tally) in tallies {
            tally.micros.sort_unstable();
            all += tally.micros.len();
            let ceil = ceilings
                .iter()
                .find(|c| c.kind == kind)
                .map(|c| {
                    let mut m = c.micros.clone();
                    m.sort_unstable();
                    format!(
                        "{:.2} / {:.2} ({} terms; index built in {:.1} s)",
                        pct(&m, 0.5),
                        pct(&m, 0.99),
                        m.len(),
                        c.build_seconds
                    )
                })
                .unwrap_or_default();
            t.push_str(&format!(
                "| {} | {} | {:.1} | {:.1} | {:.1} | {} | {} |\n",
                kind.label(),
                tally.micros.len(),
                tally.micros.len() as f64 / elapsed,
                pct(&tally.micros, 0.5),
                pct(&tally.micros, 0.99),
                tally.errors,
                ceil
            ));
            if let Some(e) = tally.first_error {
                eprintln!("{engine}: first error of `{}`: {e}", kind.label());
            }
        }
        t.push_str(&format!("| **all** | {all} | {:.1} | | | | |\n", all as f64 / elapsed));
        println!("{t}");
        report.push_str(&t);
    }
    println!("\nMachine: {}", machine());
    println!("Command: {}", std::env::args().collect::<Vec<_>>().join(" "));
    println!("{report}");
    Ok(())
}
