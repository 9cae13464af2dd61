//! `komlang`: the Komlang server and its administration commands.
//!
//! Exit codes: 0 on success, 1 when something failed (database unreachable,
//! refused operation...), 2 on bad input (unknown role, duplicate username...).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use komlang_core::{FieldError, UserRole, ValidationErrors};
use komlang_store::{Store, StoreError, DEMO_ACCOUNTS, DEMO_PASSWORD};
use tracing_subscriber::EnvFilter;

mod accounts;
mod backup;
mod caseload;
mod framework;
mod hiring;
mod performance;
mod planning;
mod training;
mod transfer;

#[derive(Parser, Debug)]
#[command(name = "komlang", version, about = "Komlang: HR registry of Cambodia's social service workforce")]
struct Cli {
    /// Database URL: sqlite://FILE (created when missing) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "KOMLANG_DATABASE_URL", default_value = "sqlite://komlang.db")]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Brings the database schema up to date and loads Cambodia's administrative units when there are none.
    Migrate,
    /// Loads the synthetic demo data set and one account per role (once), then exits or, with --serve, serves.
    Demo {
        /// Serve the web application after loading.
        #[arg(long)]
        serve: bool,
        #[command(flatten)]
        web: WebArgs,
    },
    /// Serves the web application and the JSON API.
    Serve {
        #[command(flatten)]
        web: WebArgs,
    },
    /// Manages accounts: create, list, set a password, disable, enable, sign out everywhere.
    User {
        #[command(subcommand)]
        command: accounts::UserCommand,
    },
    /// Manages API tokens: issue (with a label and an expiry), list, revoke.
    Token {
        #[command(subcommand)]
        command: accounts::TokenCommand,
    },
    /// Manages administrative units.
    AdminUnits {
        #[command(subcommand)]
        command: AdminUnitsCommand,
    },
    /// Writes a backup of the whole instance (every record, its history, accounts, ids) while
    /// the server runs: one consistent moment, checked on restore (docs/backup.md).
    Backup(backup::BackupArgs),
    /// Restores a backup into an empty database of either engine (SQLite or PostgreSQL),
    /// checking the whole file first; --check only checks the file.
    Restore(backup::RestoreArgs),
    /// Imports workers, organizations or population figures from a CSV or XLSX file.
    Import {
        #[command(subcommand)]
        command: transfer::ImportCommand,
    },
    /// Exports workers or organizations to a CSV or XLSX file.
    Export {
        #[command(subcommand)]
        command: transfer::ExportCommand,
    },
    /// Manages the national competency framework's versions.
    Framework {
        #[command(subcommand)]
        command: framework::FrameworkCommand,
    },
    /// Prints the coverage of a staffing norm: every unit of a level with workers in post, the norm and the gap.
    Coverage(planning::CoverageArgs),
    /// Prints a prioritized deployment plan (default: the whole gap of the investment-case norm) as JSON.
    Plan(planning::PlanArgs),
    /// Prints the establishment: approved, filled and vacant posts of every unit of a level in a year.
    Establishment(planning::EstablishmentArgs),
    /// Prints the recruitment need of every unit of a level in a year: vacant posts plus the
    /// filled ones expected to fall vacant (retirement, incapacity, death) (docs/recruitment.md).
    RecruitmentNeed(planning::NeedArgs),
    /// Recruitment rounds: list them, print one's ranked candidates, import candidates (docs/hiring.md).
    RecruitmentRounds {
        #[command(subcommand)]
        command: hiring::RoundCommand,
    },
    /// Manages the versions of each role's job description (the key functions appraisals rate).
    JobDescriptions {
        #[command(subcommand)]
        command: performance::JobCommand,
    },
    /// Prints who is due an appraisal, overdue or has open corrective actions: the figures of
    /// every unit of a level, or with --list the workers (docs/performance.md).
    Appraisals(performance::AppraisalArgs),
    /// Training and licensing: licences about to expire, certificate verification, exports, licensing rules.
    Training {
        #[command(subcommand)]
        command: training::TrainingCommand,
    },
    /// Caseloads from Primero and OSCaR: import a case list, link the systems' users to workers.
    Caseload {
        #[command(subcommand)]
        command: caseload::CaseloadCommand,
    },
}

#[derive(Args, Debug)]
struct WebArgs {
    /// Address to listen on.
    #[arg(long, env = "KOMLANG_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Mark session cookies Secure (when served over HTTPS).
    #[arg(long)]
    secure_cookies: bool,
    /// Behind one trusted reverse proxy: take the client address from the X-Forwarded-For
    /// entry the proxy added (the right-most). Same as `--proxy-hops 1`.
    #[arg(long)]
    trust_proxy: bool,
    /// Behind N trusted reverse proxies (e.g. a load balancer and nginx: 2): the client
    /// address is the N-th X-Forwarded-For entry from the right.
    #[arg(long, env = "KOMLANG_PROXY_HOPS", value_name = "N")]
    proxy_hops: Option<u8>,
    /// Requests a minute one client address may make to the public pages and API
    /// (/verify, /register, /api/v1/public/…), counted across every app server; 0: no limit.
    #[arg(long, env = "KOMLANG_PUBLIC_RATE_LIMIT", value_name = "N", default_value_t = 120)]
    public_rate_limit: u32,
    /// On SIGTERM or SIGINT the server stops accepting connections and lets the requests in
    /// flight finish for up to this long (30s, 2m, …), then closes the database and exits.
    #[arg(long, env = "KOMLANG_SHUTDOWN_GRACE", value_name = "DURATION", default_value = "30s",
          value_parser = humantime::parse_duration)]
    shutdown_grace: Duration,
    /// Refuse (428) an API change of a versioned record (a worker, an organization, an
    /// assessment, a training record, a licence) sent without `If-Match`: once the API's clients
    /// send the version they read, nobody's change is overwritten unseen.
    #[arg(long, env = "KOMLANG_REQUIRE_IF_MATCH")]
    require_if_match: bool,
    /// Serve Prometheus metrics at /metrics, to a scraper that sends the metrics token
    /// (`Authorization: Bearer TOKEN`).
    #[arg(long, requires = "metrics_token")]
    metrics: bool,
    /// The token /metrics asks for (16 characters or more). Prefer the environment variable:
    /// a command line is visible to every user of the machine.
    #[arg(long, env = "KOMLANG_METRICS_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
}

#[derive(Subcommand, Debug)]
enum AdminUnitsCommand {
    /// Loads another country's units from a directory with country.csv and *Province*, *District*,
    /// *Commune* and optionally *Village* CSV files. Refused when units are already loaded.
    Load {
        #[arg(long)]
        dir: PathBuf,
    },
}

/// Input the user must correct; exits with code 2.
#[derive(Debug)]
pub(crate) struct BadInput(pub(crate) Vec<FieldError>);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid input:")?;
        for e in &self.0 {
            write!(f, "\n  {}: {} ({})", e.field, e.code, explain(e))?;
        }
        Ok(())
    }
}

impl std::error::Error for BadInput {}

fn bad(field: &str, code: &str) -> anyhow::Error {
    BadInput(vec![FieldError::new(field, code)]).into()
}

/// A readable English explanation of a field error.
fn explain(e: &FieldError) -> String {
    let p = |k: &str| e.params.get(k).cloned().unwrap_or_default();
    match (e.field.as_str(), e.code.as_str()) {
        (_, "invalid_username") => "use 3 to 64 characters: lowercase letters, digits, '.', '_' or '-'".into(),
        (_, "duplicate_username") => "an account with this username already exists".into(),
        (_, "unknown_user") => "no account has this username".into(),
        (_, "unknown_token") => "this account has no token with this id (see `komlang token list`)".into(),
        (_, "cannot_disable_self") => "an account cannot disable itself".into(),
        (_, "last_national_admin") => {
            "this is the last active national administrator: enable or create another one first".into()
        }
        (_, "invalid_expiry") => format!("`{}` is not an expiry: use 90d, 12w or YYYY-MM-DD", p("value")),
        (_, "expiry_in_past") => "the expiry must lie in the future".into(),
        ("metrics_token", "too_short") => {
            format!("the metrics token needs at least {} characters (e.g. `openssl rand -hex 32`)", p("min"))
        }
        ("metrics_token", "required") => "--metrics needs --metrics-token or KOMLANG_METRICS_TOKEN".into(),
        (_, "password_too_short") => format!("the password must have at least {} characters", p("min")),
        ("role", "unknown_role") => format!("the role must be one of: {}", UserRole::codes().join(", ")),
        (_, "unknown_admin_unit") => format!("no administrative unit has the code `{}`", p("value")),
        (_, "wrong_scope_level") => format!("this role needs the code of a {} as --scope", p("level")),
        ("scope", "required") => format!("this role needs --scope with the code of a {}", p("level")),
        (_, "national_role_has_no_scope") => "national roles cover the whole country: leave out --scope".into(),
        ("org", "required") => "this role needs --org with an organization id".into(),
        ("worker", "required") => "this role needs --worker with a worker id".into(),
        (_, "unknown_organization") => "no organization has this id".into(),
        (_, "unknown_worker") => "no worker has this id".into(),
        (_, "invalid_file") => p("message"),
        (_, "missing_required_column") => {
            "the file has no column for this field (see docs/import.md for the headers recognized)".into()
        }
        (_, "duplicate_column") => "two columns of the file feed this field".into(),
        ("column", "invalid_format") => {
            format!("{} (write --column FIELD=HEADER; see docs/caseloads.md)", p("message"))
        }
        (_, "unknown_column") => format!("the file has no column named `{}`", p("column")),
        ("source", "invalid_choice") => "use primero or oscar".into(),
        (_, "column_count_mismatch") => "the mapping does not fit the file's columns".into(),
        ("mapping", "unknown_mapping") => "no column mapping is saved under this name".into(),
        ("duplicates", "invalid_choice") => "use skip, merge or keepboth".into(),
        ("format", "invalid_choice") => "use csv or xlsx".into(),
        ("status", "invalid_choice") => "use applied, active, rejected, suspended, lapsed or revoked".into(),
        (_, "invalid_choice") => "not one of the accepted codes".into(),
        (_, "invalid_date") => format!("`{}` is not a date; use YYYY-MM-DD", p("value")),
        (_, "out_of_range") => format!("must be between {} and {}", p("min"), p("max")),
        (_, "not_a_certificate_number") => {
            format!("`{}` is not a certificate number (C-XXXX-XXXX-XXXX-K; the last symbol is a check)", p("value"))
        }
        (_, "unknown_certificate") => format!("no certificate has the number `{}`", p("value")),
        ("out", "required") => "an XLSX file needs --out FILE".into(),
        (_, "required") => "this value is required".into(),
        _ => e.code.replace('_', " "),
    }
}

/// Refused by the access rules for the account given with `--as`; exits with code 3.
#[derive(Debug)]
struct NotAllowed;

impl std::fmt::Display for NotAllowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not allowed for this account (see docs/access.md)")
    }
}

impl std::error::Error for NotAllowed {}

/// Turns the store's "your input is wrong" errors into [`BadInput`], refusals into [`NotAllowed`].
fn store_err(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Invalid(ValidationErrors { errors }) => BadInput(errors).into(),
        StoreError::Forbidden => NotAllowed.into(),
        other => anyhow::Error::new(other),
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let rest = &url[scheme_end..];
    let host_end = rest.find('/').unwrap_or(rest.len());
    match rest[..host_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!("{}{}:***{}", &url[..scheme_end], &rest[..colon], &rest[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

async fn open(url: &str) -> Result<Store> {
    Store::open(url).await.with_context(|| format!("cannot open the database {}", redact(url)))
}

/// The server's options from the command line.
fn web_config(web: &WebArgs) -> Result<komlang_web::WebConfig> {
    let metrics_token = match (&web.metrics, &web.metrics_token) {
        (true, Some(t)) => Some(komlang_web::MetricsToken::new(t).ok_or_else(|| {
            BadInput(vec![FieldError::new("metrics_token", "too_short")
                .with("min", komlang_web::MetricsToken::MIN_LEN.to_string())])
        })?),
        (true, None) => return Err(bad("metrics_token", "required")),
        (false, Some(_)) => {
            tracing::warn!("metrics are off: give --metrics to serve them");
            None
        }
        (false, None) => None,
    };
    Ok(komlang_web::WebConfig {
        secure_cookies: web.secure_cookies,
        proxy_hops: web.proxy_hops.unwrap_or(u8::from(web.trust_proxy)),
        public_requests_per_minute: web.public_rate_limit,
        metrics_token,
        shutdown_grace: web.shutdown_grace,
        require_if_match: web.require_if_match,
        ..Default::default()
    })
}

async fn run(cli: Cli) -> Result<()> {
    let url = cli.db.as_str();
    match cli.command {
        Command::Migrate => {
            let store = open(url).await?;
            println!("Database schema is up to date ({}).", redact(url));
            let r = store.ensure_reference_data().await.context("cannot load the reference data")?;
            if r.units_loaded > 0 {
                println!("Loaded {} administrative units of Cambodia.", r.units_loaded);
            } else {
                println!("Administrative units already loaded ({}).", store.admin_unit_count().await?);
            }
            if r.framework_loaded {
                println!("Loaded the national competency framework (MoSVY 2019).");
            }
        }
        Command::Demo { serve: then_serve, web } => {
            // Checked before anything is loaded.
            let cfg = then_serve.then(|| web_config(&web)).transpose()?;
            let store = open(url).await?;
            let today = chrono::Local::now().date_naive();
            let s = store.load_demo(today).await.context("cannot load the demo data")?;
            if s.already_loaded {
                println!(
                    "Demo data already loaded ({} organizations, {} synthetic workers); nothing changed.",
                    s.organizations, s.workers
                );
            } else {
                println!("Demo data loaded: {} organizations, {} synthetic workers.", s.organizations, s.workers);
            }
            if !s.accounts.is_empty() {
                println!("Demo accounts (password: {DEMO_PASSWORD}):");
                for (username, role) in &s.accounts {
                    let about = DEMO_ACCOUNTS.iter().find(|a| a.0 == username).map(|a| a.2).unwrap_or("");
                    println!("  {username:<12} {role:<20} {about}");
                }
            }
            if let Some(cfg) = cfg {
                komlang_web::serve(store, web.listen, cfg).await?;
            }
        }
        Command::Serve { web } => {
            let cfg = web_config(&web)?;
            let store = open(url).await?;
            let r = store.ensure_reference_data().await.context("cannot load the reference data")?;
            if r.units_loaded > 0 {
                tracing::info!(loaded = r.units_loaded, "loaded Cambodia's administrative units");
            }
            if r.framework_loaded {
                tracing::info!("loaded the national competency framework (MoSVY 2019)");
            }
            komlang_web::serve(store, web.listen, cfg).await?;
        }
        Command::User { command } => accounts::user_command(url, command).await?,
        Command::Token { command } => accounts::token_command(url, command).await?,
        Command::AdminUnits { command: AdminUnitsCommand::Load { dir } } => {
            let store = open(url).await?;
            let existing = store.admin_unit_count().await?;
            if existing > 0 {
                anyhow::bail!(
                    "administrative units are already loaded ({existing}); load another country's units into a new database"
                );
            }
            let parsed = komlang_store::load_admin_dir(&dir)
                .map_err(|e| BadInput(vec![FieldError::new("dir", "invalid_file").with("message", e.to_string())]))?;
            for s in &parsed.skipped {
                eprintln!("warning: skipped {s}");
            }
            let n = store.load_admin_units(&parsed.units).await.map_err(store_err)?;
            println!("Loaded {n} administrative units from {} ({} rows skipped).", dir.display(), parsed.skipped.len());
        }
        Command::Backup(args) => backup::backup(url, args).await?,
        Command::Restore(args) => backup::restore(url, args).await?,
        Command::Import { command } => transfer::import(url, command).await?,
        Command::Export { command } => transfer::export(url, command).await?,
        Command::Framework { command } => framework::run(url, command).await?,
        Command::Coverage(args) => planning::coverage(url, args).await?,
        Command::Plan(args) => planning::plan(url, args).await?,
        Command::Establishment(args) => planning::establishment(url, args).await?,
        Command::RecruitmentNeed(args) => planning::recruitment_need(url, args).await?,
        Command::JobDescriptions { command } => performance::jobs(url, command).await?,
        Command::RecruitmentRounds { command } => hiring::run(url, command).await?,
        Command::Appraisals(args) => performance::appraisals(url, args).await?,
        Command::Training { command } => training::run(url, command).await?,
        Command::Caseload { command } => caseload::run(url, command).await?,
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(b) = e.downcast_ref::<BadInput>() {
                eprintln!("error: {b}");
                ExitCode::from(2)
            } else if e.downcast_ref::<NotAllowed>().is_some() {
                eprintln!("error: {e}");
                ExitCode::from(3)
            } else {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://postgres@127.0.0.1/db"), "postgres://postgres@127.0.0.1/db");
        assert_eq!(redact("sqlite://komlang.db"), "sqlite://komlang.db");
    }

    #[test]
    fn cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let c = Cli::try_parse_from(["komlang", "demo", "--serve", "--db", "sqlite://x.db"]).unwrap();
        assert_eq!(c.db, "sqlite://x.db");
        assert!(matches!(c.command, Command::Demo { serve: true, .. }));
    }

    #[test]
    fn serve_options() {
        let web = |args: &[&str]| match Cli::try_parse_from([&["komlang", "serve"], args].concat()) {
            Ok(Cli { command: Command::Serve { web }, .. }) => Ok(web),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e.kind()),
        };
        let w = web(&[]).unwrap();
        assert_eq!(w.shutdown_grace, Duration::from_secs(30));
        assert!(!w.metrics);
        let w = web(&["--shutdown-grace", "2m"]).unwrap();
        assert_eq!(w.shutdown_grace, Duration::from_secs(120));
        assert_eq!(web(&["--shutdown-grace", "soon"]).unwrap_err(), clap::error::ErrorKind::ValueValidation);
        assert_eq!(web(&["--metrics"]).unwrap_err(), clap::error::ErrorKind::MissingRequiredArgument);
        let w = web(&["--metrics", "--metrics-token", "0123456789abcdef"]).unwrap();
        assert!(web_config(&w).unwrap().metrics_token.is_some());
        let w = web(&["--metrics", "--metrics-token", "short"]).unwrap();
        let e = web_config(&w).unwrap_err();
        assert!(e.downcast_ref::<BadInput>().is_some_and(|b| b.0[0].code == "too_short"), "{e}");
        let w = web(&["--metrics-token", "0123456789abcdef"]).unwrap();
        assert!(web_config(&w).unwrap().metrics_token.is_none(), "metrics without --metrics");
    }
}
