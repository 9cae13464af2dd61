//! `komlang-bench`: how fast `komlang import workers` loads a big file, and
//! how much memory it takes, on SQLite and PostgreSQL, next to the engines'
//! own bulk loads of the same rows (`sqlite3 .import`, `psql \copy`); and,
//! with `komlang-bench load`, how `komlang serve` answers many clients on a
//! big registry (`load.rs`).
//!
//! ```sh
//! cargo build --release -p komlang -p komlang-bench
//! target/release/komlang-bench --rows 1000000          # the import bench
//! target/release/komlang-bench load --rows 1000000     # the load bench
//! ```
//!
//! The import runs as a child process (`komlang import workers FILE`,
//! validation and duplicate detection on, as a user runs it); its wall time
//! and peak resident memory (`ru_maxrss` from `wait4`) are measured. The
//! numbers are printed as a table; see BENCHMARKS.md for recorded runs.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a developer's benchmark tool, run on generated files")]

mod gen;
mod load;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use komlang_core::AdminLevel;

#[derive(Parser, Debug)]
#[command(
    name = "komlang-bench",
    about = "Benchmarks of komlang: the bulk import against the engines' own bulk loads (the default), \
             and `load`: the server under many clients",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    #[command(flatten)]
    import: Args,
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// The import benchmark (also what `komlang-bench` without a subcommand runs).
    Import(Args),
    /// Builds (or reuses) a registry of --rows workers on each engine, serves it with
    /// `komlang serve` and drives it with --clients concurrent clients for --seconds.
    Load(load::LoadArgs),
}

/// What both benchmarks take: the registry's size, the engines, where they work.
#[derive(clap::Args, Debug)]
pub struct Common {
    /// Rows in the generated worker file (workers in the registry).
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Engines to run: sqlite, postgres or both.
    #[arg(long, default_value = "sqlite,postgres", value_delimiter = ',')]
    engines: Vec<String>,
    /// Working directory (generated files, SQLite databases, logs).
    #[arg(long, default_value = "target/bench")]
    dir: PathBuf,
    /// PostgreSQL server on which the bench's databases are created.
    #[arg(long, env = "KOMLANG_TEST_PG_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
    /// The komlang binary to run (default: the one next to this program).
    #[arg(long)]
    komlang: Option<PathBuf>,
    /// Seed of the generator (and of the load bench's request mix).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl Common {
    /// The working directory, created when missing, as an absolute path.
    fn workdir(&self) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        Ok(std::fs::canonicalize(&self.dir)?)
    }
}

#[derive(clap::Args, Debug)]
struct Args {
    #[command(flatten)]
    common: Common,
    /// Only write the files (workers-ROWS.csv and orgs.csv) and stop.
    #[arg(long)]
    generate_only: bool,
    /// Keep the databases afterwards.
    #[arg(long)]
    keep: bool,
}

/// One measured run of a process.
struct Run {
    seconds: f64,
    peak_rss_kb: i64,
    exit: i32,
    /// One-minute load average before and after (other work on the machine).
    load: (f64, f64),
}

fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// Runs a command to its end; its wall time and peak RSS (`wait4`).
fn measure(cmd: &mut Command) -> Result<Run> {
    let load_before = loadavg();
    let started = Instant::now();
    let child = cmd.spawn().with_context(|| format!("cannot start {cmd:?}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, filled by wait4 for the child we started.
    #[allow(unsafe_code, reason = "wait4 is the only way to read the child's peak memory")]
    let (r, usage) = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        (libc::wait4(pid, &mut status, 0, &mut usage), usage)
    };
    let seconds = started.elapsed().as_secs_f64();
    if r != pid {
        bail!("wait4 failed for {cmd:?}: {}", std::io::Error::last_os_error());
    }
    let exit = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    Ok(Run { seconds, peak_rss_kb: usage.ru_maxrss, exit, load: (load_before, loadavg()) })
}

fn run_ok(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().with_context(|| format!("cannot start {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

struct Row {
    engine: &'static str,
    method: String,
    rows: u64,
    run: Run,
    note: String,
}

fn komlang_bin(komlang: Option<&PathBuf>) -> Result<PathBuf> {
    let bin = match komlang {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("komlang"),
    };
    if !bin.exists() {
        bail!("{} not found: build it first (cargo build --release -p komlang)", bin.display());
    }
    Ok(bin)
}

/// The last line of an import log: "N worker rows: A added, ...".
fn summary_line(log: &Path) -> String {
    std::fs::read_to_string(log)
        .ok()
        .and_then(|t| t.lines().rev().find(|l| l.contains(" worker rows: ")).map(str::to_string))
        .unwrap_or_else(|| "(no summary)".into())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string()))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{:.1} GiB RAM", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    format!("{cores} cores ({cpu}), {mem}")
}

fn import_workers(bin: &Path, url: &str, file: &Path, log: &Path) -> Result<Run> {
    let out = File::create(log)?;
    let err = out.try_clone()?;
    measure(
        Command::new(bin)
            .args(["import", "workers"])
            .arg(file)
            .args(["--db", url])
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err)),
    )
}

fn setup(bin: &Path, url: &str, orgs: &Path) -> Result<()> {
    run_ok(Command::new(bin).args(["migrate", "--db", url]).env("RUST_LOG", "warn"))?;
    run_ok(Command::new(bin).args(["import", "organizations"]).arg(orgs).args(["--db", url]).env("RUST_LOG", "warn"))?;
    Ok(())
}

/// The import's writes done by the engine alone, set-based, from the CSV
/// loaded into a staging table: the same workers (one per national ID) with
/// search keys of the same make (the Latin name in lower case, the Khmer name,
/// the phone), the same indexes, four random 17-character keys a worker, an
/// opening posting and status each. No conversion, validation or comparison:
/// what the schema costs the engine, whatever the program in front of it. On
/// SQLite the indexes a big import takes off while it writes (`deferred`: their
/// `CREATE` texts) are taken off and created again the same way.
fn floor_script(engine: &str, file: &Path, deferred: &[String]) -> String {
    let cols = gen::COLUMNS.join(", ");
    let (load, rand, ignore, conflict) = match engine {
        "sqlite" => (
            format!(
                "PRAGMA cache_size = -{};\nPRAGMA temp_store = MEMORY;\nPRAGMA foreign_keys = OFF;\n\
                 CREATE TEMP TABLE raw ({cols});\n.import --csv --skip 1 {} raw\n",
                komlang_store::SQLITE_IMPORT_CACHE_KIB,
                file.display()
            ),
            "substr(hex(randomblob(8)), 1, 16)",
            "OR IGNORE ",
            "",
        ),
        _ => (
            format!(
                "CREATE TEMP TABLE raw ({});\n\\copy raw ({cols}) FROM '{}' WITH (FORMAT csv, HEADER true)\n",
                raw_columns(),
                file.display()
            ),
            "substr(md5(random()::text), 1, 16)",
            "",
            " ON CONFLICT DO NOTHING",
        ),
    };
    let nul = |c: &str| format!("NULLIF({c}, '')");
    let sep = if engine == "sqlite" { "char(1)" } else { "chr(1)" };
    let mut s = load;
    s.push_str("BEGIN;\n");
    // SQLite: the search index's entries written in rank order at the end, as a big import
    // writes them (`imports/worker_import/search_index.rs`).
    let search_entries = engine == "sqlite" && !deferred.is_empty();
    if search_entries {
        s.push_str("DROP TRIGGER workers_search_insert;\n");
    }
    for sql in deferred {
        if let Some(name) = sql.split_whitespace().skip_while(|w| *w != "INDEX").nth(1) {
            s.push_str(&format!("DROP INDEX {name};\n"));
        }
    }
    s.push_str(&format!(
        "INSERT {ignore}INTO workers (name_km, name_latin, sex, date_of_birth, national_id, phone, email, cadre, \
         role, sector, org_id, position_title, workplace_code, status, start_date, end_date, education_level, \
         education_field, created_at, updated_at, synthetic, status_latest, status_latest_on, search_key, \
         search_km) SELECT name_km, name_latin, sex, {}, {}, {}, {}, \
         cadre, role, sector, (SELECT id FROM organizations o WHERE o.registration_no = raw.org_registration_no), \
         {}, workplace_code, status, {}, {}, {}, {}, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 0, status, \
         COALESCE({}, {}, '2026-01-01'), lower(name_latin) || {sep} || name_km || {sep} || phone, name_km \
         FROM raw{conflict};\n",
        nul("date_of_birth"),
        nul("national_id"),
        nul("phone"),
        nul("email"),
        nul("position_title"),
        nul("start_date"),
        nul("end_date"),
        nul("education_level"),
        nul("education_field"),
        nul("end_date"),
        nul("start_date"),
    ));
    for kind in ["i", "k", "l", "d"] {
        let filter = if kind == "i" { " WHERE national_id IS NOT NULL" } else { "" };
        s.push_str(&format!(
            "INSERT INTO worker_dedup_keys (worker_id, key) SELECT id, '{kind}' || {rand} FROM workers{filter};\n"
        ));
    }
    s.push_str(
        "INSERT INTO postings (worker_id, org_id, role, position_title, workplace_code, start_date, end_date) \
         SELECT id, org_id, role, position_title, workplace_code, COALESCE(start_date, '2026-01-01'), end_date \
         FROM workers;\n\
         INSERT INTO status_changes (worker_id, status, effective_date, recorded_at, recorded_by) \
         SELECT id, status, COALESCE(end_date, start_date, '2026-01-01'), '2026-01-01T00:00:00Z', 'bench' FROM workers;\n",
    );
    if !deferred.is_empty() {
        // With the import's smaller cache by then (the staging table, a temporary one, keeps
        // the sorts in memory: `temp_store` cannot change in a transaction that uses it).
        s.push_str(&format!("PRAGMA cache_size = -{};\n", komlang_store::SQLITE_IMPORT_CACHE_KIB / 4));
    }
    for sql in deferred {
        s.push_str(&format!("{sql};\n"));
    }
    if search_entries {
        s.push_str(&format!(
            "INSERT INTO workers_search (rowid, search_key) SELECT {} AS r, search_key FROM workers \
             WHERE search_key IS NOT NULL ORDER BY r;\n",
            komlang_store::search_rank_sql("search_key", "id")
        ));
    }
    s.push_str("COMMIT;\n");
    s
}

fn raw_columns() -> String {
    gen::COLUMNS.iter().map(|c| format!("{c} TEXT")).collect::<Vec<_>>().join(", ")
}

/// The URL of database `name` on the server of `pg_url`.
fn pg_database_url(pg_url: &str, name: &str) -> String {
    let base = pg_url.split('?').next().unwrap_or(pg_url);
    match base.rfind('/') {
        Some(i) if i > base.find("://").map(|j| j + 2).unwrap_or(0) => format!("{}/{name}", &base[..i]),
        _ => format!("{base}/{name}"),
    }
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &userinfo[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Writes the worker file (`rows` rows) and the organizations' file.
fn generate(file: &Path, orgs: &Path, rows: u64, seed: u64) -> Result<gen::GenSummary> {
    let units = komlang_store::bundled_cambodia_units();
    let communes: Vec<String> =
        units.iter().filter(|u| u.level == AdminLevel::Commune).map(|u| u.code.clone()).collect();
    let provinces: Vec<String> =
        units.iter().filter(|u| u.level == AdminLevel::Province).map(|u| u.code.clone()).collect();
    let started = Instant::now();
    let g = gen::write_workers(BufWriter::with_capacity(1 << 20, File::create(file)?), rows, &communes, seed)?;
    gen::write_orgs(File::create(orgs)?, &provinces)?;
    let bytes = std::fs::metadata(file)?.len();
    println!(
        "Generated {} ({} rows, {:.1} MB) in {:.1} s: {} repeated rows, {} respelled, {} without date of birth.",
        file.display(),
        g.rows,
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        g.repeated,
        g.respelled,
        g.without_dob
    );
    Ok(g)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => import_bench(cli.import),
        Some(BenchCommand::Import(args)) => import_bench(args),
        Some(BenchCommand::Load(args)) => load::run(args),
    }
}

fn import_bench(args: Args) -> Result<()> {
    let dir = args.common.workdir()?;
    let file = dir.join(format!("workers-{}.csv", args.common.rows));
    let orgs = dir.join("orgs.csv");
    let g = generate(&file, &orgs, args.common.rows, args.common.seed)?;
    if args.generate_only {
        return Ok(());
    }
    let bin = komlang_bin(args.common.komlang.as_ref())?;
    let mut table: Vec<Row> = Vec::new();

    for engine in &args.common.engines {
        match engine.trim() {
            "sqlite" => {
                let db = dir.join("bench.db");
                let raw = dir.join("raw.db");
                for p in [&db, &raw] {
                    for suffix in ["", "-wal", "-shm", "-journal"] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
                    }
                }
                let url = format!("sqlite://{}", db.display());
                setup(&bin, &url, &orgs)?;
                println!("SQLite: importing with komlang...");
                let log = dir.join("import-sqlite.log");
                let run = import_workers(&bin, &url, &file, &log)?;
                let count = run_ok(Command::new("sqlite3").arg(&db).arg("SELECT COUNT(*) FROM workers"))?;
                table.push(Row {
                    engine: "SQLite",
                    method: "komlang import workers".into(),
                    rows: g.rows,
                    note: format!("{count} workers stored; {}", summary_line(&log)),
                    run,
                });
                println!("SQLite: sqlite3 .import...");
                let run = measure(
                    Command::new("sqlite3")
                        .arg(&raw)
                        .arg(format!("CREATE TABLE workers_raw ({});", raw_columns()))
                        .arg(format!(".import --csv --skip 1 {} workers_raw", file.display())),
                )?;
                let count = run_ok(Command::new("sqlite3").arg(&raw).arg("SELECT COUNT(*) FROM workers_raw"))?;
                table.push(Row {
                    engine: "SQLite",
                    method: "sqlite3 .import --csv".into(),
                    rows: g.rows,
                    note: format!("{count} rows stored; no validation, no index"),
                    run,
                });
                println!("SQLite: the same writes, set-based...");
                let floor = dir.join("floor.db");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", floor.display()));
                }
                let floor_url = format!("sqlite://{}", floor.display());
                setup(&bin, &floor_url, &orgs)?;
                let script = dir.join("floor-sqlite.sql");
                let names = komlang_store::DEFERRED_IMPORT_INDEXES.map(|n| format!("'{n}'")).join(", ");
                let deferred: Vec<String> = run_ok(Command::new("sqlite3").arg(&floor).arg(format!(
                    "SELECT replace(sql, char(10), ' ') FROM sqlite_master WHERE type = 'index' AND name IN ({names})"
                )))?
                .lines()
                .map(str::to_string)
                .filter(|l| !l.trim().is_empty())
                .collect();
                std::fs::write(&script, floor_script("sqlite", &file, &deferred))?;
                let run = measure(Command::new("sqlite3").arg(&floor).stdin(Stdio::from(File::open(&script)?)))?;
                let count = run_ok(Command::new("sqlite3").arg(&floor).arg("SELECT COUNT(*) FROM workers"))?;
                table.push(Row {
                    engine: "SQLite",
                    method: "sqlite3: the import's writes, set-based".into(),
                    rows: g.rows,
                    note: format!("{count} workers stored; same schema and indexes, no checks (engine floor)"),
                    run,
                });
                if !args.keep {
                    for p in [&db, &raw, &floor] {
                        for suffix in ["", "-wal", "-shm"] {
                            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
                        }
                    }
                }
            }
            "postgres" | "postgresql" => {
                let name = format!("komlang_bench_{}", std::process::id());
                run_ok(
                    Command::new("psql").arg(&args.common.pg_url).args(["-qtAc", &format!("CREATE DATABASE {name}")]),
                )?;
                let url = pg_database_url(&args.common.pg_url, &name);
                let result = (|| -> Result<()> {
                    setup(&bin, &url, &orgs)?;
                    println!("PostgreSQL: importing with komlang...");
                    let log = dir.join("import-postgres.log");
                    let run = import_workers(&bin, &url, &file, &log)?;
                    let count = run_ok(Command::new("psql").arg(&url).args(["-qtAc", "SELECT COUNT(*) FROM workers"]))?;
                    table.push(Row {
                        engine: "PostgreSQL",
                        method: "komlang import workers".into(),
                        rows: g.rows,
                        note: format!("{count} workers stored; {}", summary_line(&log)),
                        run,
                    });
                    println!("PostgreSQL: psql \\copy...");
                    run_ok(
                        Command::new("psql")
                            .arg(&url)
                            .args(["-qtAc", &format!("CREATE TABLE workers_raw ({})", raw_columns())]),
                    )?;
                    let run = measure(Command::new("psql").arg(&url).args([
                        "-qtAc",
                        &format!("\\copy workers_raw FROM '{}' WITH (FORMAT csv, HEADER true)", file.display()),
                    ]))?;
                    let count =
                        run_ok(Command::new("psql").arg(&url).args(["-qtAc", "SELECT COUNT(*) FROM workers_raw"]))?;
                    table.push(Row {
                        engine: "PostgreSQL",
                        method: "psql \\copy (COPY)".into(),
                        rows: g.rows,
                        note: format!("{count} rows stored; no validation, no index"),
                        run,
                    });
                    println!("PostgreSQL: the same writes, set-based...");
                    let floor_name = format!("{name}_floor");
                    run_ok(
                        Command::new("psql")
                            .arg(&args.common.pg_url)
                            .args(["-qtAc", &format!("CREATE DATABASE {floor_name}")]),
                    )?;
                    let floor_url = url.replace(&name, &floor_name);
                    let floor = (|| -> Result<Run> {
                        setup(&bin, &floor_url, &orgs)?;
                        let script = dir.join("floor-postgres.sql");
                        std::fs::write(&script, floor_script("postgres", &file, &[]))?;
                        let run = measure(
                            Command::new("psql")
                                .arg(&floor_url)
                                .args(["-q", "-v", "ON_ERROR_STOP=1", "-f"])
                                .arg(&script),
                        )?;
                        Ok(run)
                    })();
                    let count =
                        run_ok(Command::new("psql").arg(&floor_url).args(["-qtAc", "SELECT COUNT(*) FROM workers"]));
                    let _ = run_ok(
                        Command::new("psql")
                            .arg(&args.common.pg_url)
                            .args(["-qtAc", &format!("DROP DATABASE IF EXISTS {floor_name} WITH (FORCE)")]),
                    );
                    table.push(Row {
                        engine: "PostgreSQL",
                        method: "psql: the import's writes, set-based".into(),
                        rows: g.rows,
                        note: format!("{} workers stored; same schema and indexes, no checks (engine floor)", count?),
                        run: floor?,
                    });
                    Ok(())
                })();
                if !args.keep {
                    let _ = run_ok(
                        Command::new("psql")
                            .arg(&args.common.pg_url)
                            .args(["-qtAc", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")]),
                    );
                }
                result?;
            }
            other => bail!("unknown engine `{other}`: use sqlite or postgres"),
        }
    }

    println!();
    println!("Machine: {}", machine());
    let version = |cmd: &str, arg: &str| run_ok(Command::new(cmd).arg(arg)).unwrap_or_else(|_| "?".into());
    println!("sqlite3 {}; {}", version("sqlite3", "--version"), version("psql", "--version"));
    println!("Command: {}", std::env::args().collect::<Vec<_>>().join(" "));
    println!();
    println!("| engine | method | rows | seconds | rows/s | peak RSS (MB) | exit | load before/after | notes |");
    println!("|---|---|---:|---:|---:|---:|---:|---|---|");
    for r in &table {
        println!(
            "| {} | {} | {} | {:.1} | {:.0} | {:.0} | {} | {:.1} / {:.1} | {} |",
            r.engine,
            r.method,
            r.rows,
            r.run.seconds,
            r.rows as f64 / r.run.seconds,
            r.run.peak_rss_kb as f64 / 1024.0,
            r.run.exit,
            r.run.load.0,
            r.run.load.1,
            r.note
        );
    }
    println!();
    println!("Peak RSS is the measured process's own (ru_maxrss): for PostgreSQL, the server's memory is not in it.");
    Ok(())
}
