//! `komlang framework`: the versions of the national competency framework.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Subcommand;
use komlang_core::competency::{parse_framework, FrameworkError};
use komlang_core::FieldError;
use komlang_store::{system_principal, StoreError};

use crate::{open, store_err, BadInput};

#[derive(Subcommand, Debug)]
pub enum FrameworkCommand {
    /// Loads a revised version of the competency framework from a JSON file (the shape of
    /// data/competency-framework/mosvy-2019.json; see docs/competencies.md) and makes it current.
    /// Assessments made against older versions keep pointing to them.
    Load {
        /// The framework file (JSON).
        file: PathBuf,
    },
    /// Lists the framework versions loaded, the current one first.
    List,
}

/// Every problem of a framework file, as input to correct (exit code 2).
fn refused(file: &Path, e: &FrameworkError) -> anyhow::Error {
    let message = |m: String| FieldError::new("file", "invalid_file").with("message", m);
    let errors = match e {
        FrameworkError::Syntax { .. } => vec![message(format!("{}: {e}", file.display()))],
        FrameworkError::Invalid(problems) => {
            let mut v = vec![message(format!("{}: {} problem(s), nothing was loaded", file.display(), problems.len()))];
            v.extend(problems.iter().map(|p| message(p.to_string())));
            v
        }
    };
    BadInput(errors).into()
}

pub async fn run(url: &str, command: FrameworkCommand) -> Result<()> {
    let store = open(url).await?;
    match command {
        FrameworkCommand::Load { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                BadInput(vec![
                    FieldError::new("file", "invalid_file").with("message", format!("{}: {e}", file.display()))
                ])
            })?;
            let fw = parse_framework(&text).map_err(|e| refused(&file, &e))?;
            let v = match store.load_competency_framework(&system_principal("cli"), &fw).await {
                Err(StoreError::Conflict(m)) => {
                    return Err(BadInput(vec![FieldError::new("file", "invalid_file").with("message", m)]).into())
                }
                r => r.map_err(store_err)?,
            };
            println!(
                "Loaded competency framework {} ({} competencies, {} indicators); it is now the current version.",
                v.version, v.competencies, v.indicators
            );
        }
        FrameworkCommand::List => {
            let versions = store.framework_versions().await?;
            let rows: Vec<[String; 6]> = versions
                .iter()
                .map(|v| {
                    [
                        v.version.clone(),
                        if v.current { "yes".into() } else { String::new() },
                        v.competencies.to_string(),
                        v.indicators.to_string(),
                        format!("{} by {}", v.loaded_at, v.loaded_by),
                        v.title_en.clone(),
                    ]
                })
                .collect();
            let headers = ["VERSION", "CURRENT", "COMPETENCIES", "INDICATORS", "LOADED", "TITLE"];
            let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
            for r in &rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |cells: Vec<&str>| {
                let parts: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
                println!("{}", parts.join("  ").trim_end());
            };
            line(headers.to_vec());
            for r in &rows {
                line(r.iter().map(String::as_str).collect());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{Cli, Command};

    #[test]
    fn framework_commands_parse() {
        let c = Cli::try_parse_from(["komlang", "framework", "load", "revised.json", "--db", "sqlite://x.db"]).unwrap();
        assert!(
            matches!(c.command, Command::Framework { command: FrameworkCommand::Load { ref file } } if file == Path::new("revised.json"))
        );
        let c = Cli::try_parse_from(["komlang", "framework", "list"]).unwrap();
        assert!(matches!(c.command, Command::Framework { command: FrameworkCommand::List }));
        assert!(Cli::try_parse_from(["komlang", "framework", "load"]).is_err());
    }

    #[test]
    fn every_problem_of_a_refused_file_is_reported() {
        let mut f = komlang_core::competency::bundled();
        f.areas[0].competencies[0].name_km.clear();
        f.areas[0].competencies[1].code = "values.01".into();
        let e = FrameworkError::Invalid(komlang_core::competency::check_framework(&f));
        let text = refused(Path::new("f.json"), &e).to_string();
        assert!(text.contains("f.json: 5 problem(s), nothing was loaded"), "{text}");
        assert!(text.contains("values.01: name_km is empty"), "{text}");
        assert!(text.contains("code \"values.01\" is used more than once"), "{text}");
    }
}
