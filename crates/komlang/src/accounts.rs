//! `komlang user` and `komlang token`: accounts (create, list, set a password, disable,
//! enable, sign out everywhere) and API tokens (issue with a label and an expiry, list,
//! revoke). Every change is audited, under the name `cli`.

use anyhow::Result;
use clap::Subcommand;
use komlang_core::expiry::parse_expiry;
use komlang_core::{NonBlank, UserRole};
use komlang_store::{system_principal, NewToken, NewUser, Store, StoreError, UserRow};

use crate::{bad, open, store_err, BadInput};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Creates an account.
    Add {
        #[arg(long)]
        username: String,
        /// At least 8 characters.
        #[arg(long)]
        password: String,
        /// national-admin, national-viewer, provincial-officer, district-officer, org-hr-manager or worker.
        #[arg(long)]
        role: String,
        /// Admin unit code the account is limited to (a province for provincial-officer, a district for district-officer).
        #[arg(long)]
        scope: Option<String>,
        /// Organization id (required for org-hr-manager).
        #[arg(long)]
        org: Option<i64>,
        /// Worker id (required for worker).
        #[arg(long)]
        worker: Option<i64>,
    },
    /// Sets an account's password and signs it out everywhere (every session ends).
    SetPassword {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
    },
    /// Lists the accounts: role, scope, organization, worker, disabled or not, last sign-in.
    List,
    /// Disables an account: it cannot sign in, its sessions end at once, its tokens are refused.
    /// The last active national administrator cannot be disabled.
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Enables a disabled account again (its unrevoked, unexpired tokens work again).
    Enable {
        #[arg(long)]
        username: String,
    },
    /// Signs an account out everywhere: every session of it ends.
    EndSessions {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issues an API token to an account and prints it (only on stdout, only once: only its
    /// SHA-256 is kept).
    Create {
        #[arg(long)]
        username: String,
        /// What the token is for (shown in lists).
        #[arg(long)]
        label: Option<String>,
        /// Lifetime: days (90d) or weeks (12w). Without it (or --expires) the token works until revoked.
        #[arg(long, conflicts_with = "expires")]
        expires_in: Option<String>,
        /// Last day: the token stops working at 00:00 UTC of this date (YYYY-MM-DD).
        #[arg(long)]
        expires: Option<String>,
    },
    /// Lists an account's tokens (never their secret): id, prefix, label, created, last used, expiry, state.
    List {
        #[arg(long)]
        username: String,
    },
    /// Revokes one token of an account (--id, from `token list`) or all of them (--all).
    Revoke {
        #[arg(long)]
        username: String,
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        id: Option<i64>,
        #[arg(long)]
        all: bool,
    },
}

/// The account named, or exit code 2.
async fn user(store: &Store, username: &str) -> Result<UserRow> {
    store.user_by_name(username.trim()).await?.ok_or_else(|| bad("username", "unknown_user"))
}

pub async fn user_command(url: &str, command: UserCommand) -> Result<()> {
    let store = open(url).await?;
    let actor = system_principal("cli");
    match command {
        UserCommand::Add { username, password, role, scope, org, worker } => {
            let role = UserRole::parse(&role).ok_or_else(|| bad("role", "unknown_role"))?;
            let u = NewUser {
                username: username.trim().to_string(),
                password,
                role,
                scope_code: scope.non_blank().map(String::from),
                org_id: org,
                worker_id: worker,
            };
            let row = store.create_user(&actor, &u).await.map_err(store_err)?;
            println!("Created account {} ({}).", row.username, row.role);
        }
        UserCommand::SetPassword { username, password } => {
            let ended = match store.change_password(&actor, &username, &password, None).await {
                Err(StoreError::NotFound) => return Err(bad("username", "unknown_user")),
                r => r.map_err(store_err)?,
            };
            println!("Password of {username} changed; {ended} session(s) ended.");
        }
        UserCommand::List => {
            let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
            let rows: Vec<Vec<String>> = store
                .list_users()
                .await?
                .into_iter()
                .map(|u| {
                    vec![
                        u.username,
                        u.role.code().to_string(),
                        opt(u.scope_code),
                        opt(u.org_id.map(|v| v.to_string())),
                        opt(u.worker_id.map(|v| v.to_string())),
                        if u.active { "active" } else { "disabled" }.to_string(),
                        opt(u.last_login_at),
                    ]
                })
                .collect();
            print_table(&["USERNAME", "ROLE", "SCOPE", "ORG", "WORKER", "STATUS", "LAST SIGN-IN"], &rows);
        }
        UserCommand::Disable { username } => {
            let u = user(&store, &username).await?;
            store.set_active(&actor, u.id, false).await.map_err(store_err)?;
            println!("Account {} disabled; its sessions ended and its tokens are refused.", u.username);
        }
        UserCommand::Enable { username } => {
            let u = user(&store, &username).await?;
            store.set_active(&actor, u.id, true).await.map_err(store_err)?;
            println!("Account {} enabled.", u.username);
        }
        UserCommand::EndSessions { username } => {
            let u = user(&store, &username).await?;
            let n = store.end_sessions(&actor, u.id, None).await.map_err(store_err)?;
            println!("{n} session(s) of {} ended.", u.username);
        }
    }
    Ok(())
}

pub async fn token_command(url: &str, command: TokenCommand) -> Result<()> {
    let store = open(url).await?;
    let actor = system_principal("cli");
    match command {
        TokenCommand::Create { username, label, expires_in, expires } => {
            let u = user(&store, &username).await?;
            let (field, text) = match (&expires_in, &expires) {
                (Some(t), _) => ("expires_in", Some(t)),
                (None, t) => ("expires", t.as_ref()),
            };
            let expires_at = match text.non_blank() {
                None => None,
                Some(t) => Some(parse_expiry(field, t, chrono::Utc::now()).map_err(|e| BadInput(vec![e]))?),
            };
            let t = NewToken { label: label.non_blank().map(String::from), expires_at };
            let issued = store.issue_token(&actor, u.id, &t).await.map_err(store_err)?;
            println!("{}", issued.token);
        }
        TokenCommand::List { username } => {
            let u = user(&store, &username).await?;
            let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
            let rows: Vec<Vec<String>> = store
                .tokens_of(&actor, u.id)
                .await
                .map_err(store_err)?
                .into_iter()
                .map(|t| {
                    vec![
                        t.id.to_string(),
                        opt(t.prefix),
                        opt(t.label),
                        t.created_at,
                        opt(t.last_used_at),
                        opt(t.expires_at),
                        t.state.code().to_string(),
                    ]
                })
                .collect();
            print_table(&["ID", "PREFIX", "LABEL", "CREATED", "LAST USED", "EXPIRES", "STATE"], &rows);
        }
        TokenCommand::Revoke { username, id, all } => {
            let u = user(&store, &username).await?;
            match (id, all) {
                (_, true) => {
                    let n = store.revoke_all_tokens(&actor, u.id).await.map_err(store_err)?;
                    println!("{n} token(s) of {} revoked.", u.username);
                }
                (Some(id), false) => {
                    match store.revoke_token(&actor, u.id, id).await {
                        Err(StoreError::NotFound) => return Err(bad("id", "unknown_token")),
                        r => r.map_err(store_err)?,
                    };
                    println!("Token {id} of {} revoked.", u.username);
                }
                (None, false) => return Err(bad("id", "required")),
            }
        }
    }
    Ok(())
}

fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}
