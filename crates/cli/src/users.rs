//! `wangge user …`, `wangge token create`, `wangge audit verify`: operations for the first admin
//! and the IT team. Passwords come from a file or standard input, never from the command line.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use wangge_domain::{NewPassword, Role, Username};
use wangge_services::ServiceError;
use wangge_services::identity::Identity;
use wangge_store::Store;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from --password-file or standard input.
    Add {
        #[arg(long)]
        username: String,
        /// grid_worker, community_staff, subdistrict_manager, district_manager, admin,
        /// security_officer or auditor.
        #[arg(long)]
        role: String,
        /// Area code(s) of the user's scope; repeat or separate with commas.
        #[arg(long = "area", value_delimiter = ',', required = true)]
        areas: Vec<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// List users with their roles, areas and state.
    List,
    /// Disable a user: they can no longer sign in, and their sessions and tokens end.
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Lift a lockout after failed sign-ins before it runs out.
    Unlock {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Issue an API token for a user; it is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        username: String,
        /// Lifetime such as 30d, 12h or 90m.
        #[arg(long, default_value = "30d")]
        expires: String,
        #[arg(long, default_value = "integration")]
        name: String,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit hash chain and every key custody chain; exits non-zero naming the
    /// first broken row of each.
    Verify,
}

fn read_password(file: Option<&PathBuf>) -> Result<String> {
    let raw = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => {
            if std::io::stdin().is_terminal() {
                eprint!("Password (input is visible; prefer --password-file): ");
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line
        }
    };
    Ok(raw.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .with_context(|| format!("not a duration: {s}"))?;
    let secs = match unit {
        "d" => n * 86_400,
        "h" => n * 3_600,
        "m" => n * 60,
        _ => bail!("duration needs a unit d, h or m: {s}"),
    };
    if secs == 0 {
        bail!("duration must be positive");
    }
    Ok(Duration::from_secs(secs))
}

fn explain(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Invalid(problems) => anyhow::anyhow!(
            "{}",
            problems
                .iter()
                .map(|p| format!("{}: {} / {}", p.field, p.message_zh, p.message_en))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        ServiceError::Conflict { message_en, .. } => anyhow::anyhow!(message_en),
        ServiceError::NotFound => anyhow::anyhow!("no such user"),
        other => other.into(),
    }
}

pub async fn user(store: Store, cmd: UserCommand) -> Result<()> {
    let identity = Identity::new(store.clone());
    match cmd {
        UserCommand::Add {
            username,
            role,
            areas,
            display_name,
            password_file,
        } => {
            let username =
                Username::parse(&username).map_err(|e| anyhow::anyhow!(e.message_en()))?;
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!(e.message_en()))?;
            let password = read_password(password_file.as_ref())?;
            let password =
                NewPassword::parse(&password).map_err(|e| anyhow::anyhow!(e.message_en()))?;
            let display = display_name.unwrap_or_else(|| username.as_str().to_owned());
            let user = identity
                .create_user("cli", &username, &display, role, &areas, &password)
                .await
                .map_err(explain)?;
            println!(
                "Created {} ({}) with scope {}.",
                user.username.as_str(),
                role.as_str(),
                areas.join(", ")
            );
        }
        UserCommand::List => {
            println!("{:<20} {:<20} {:<9} areas", "username", "role", "state");
            for u in store.users().await? {
                let state = if u.disabled_at.is_some() {
                    "disabled"
                } else if u
                    .locked_until
                    .is_some_and(|t| t > time::OffsetDateTime::now_utc())
                {
                    "locked"
                } else {
                    "active"
                };
                println!(
                    "{:<20} {:<20} {:<9} {}",
                    u.username.as_str(),
                    u.role.as_str(),
                    state,
                    u.area_codes.join(" ")
                );
            }
        }
        UserCommand::Disable { username } => {
            let username =
                Username::parse(&username).map_err(|e| anyhow::anyhow!(e.message_en()))?;
            identity
                .disable_user("cli", &username)
                .await
                .map_err(explain)?;
            println!(
                "Disabled {}; their sessions and tokens have ended.",
                username.as_str()
            );
        }
        UserCommand::Unlock { username } => {
            let username =
                Username::parse(&username).map_err(|e| anyhow::anyhow!(e.message_en()))?;
            identity
                .unlock_user("cli", &username)
                .await
                .map_err(explain)?;
            println!("Unlocked {}.", username.as_str());
        }
    }
    Ok(())
}

pub async fn token(store: Store, cmd: TokenCommand) -> Result<()> {
    let TokenCommand::Create {
        username,
        expires,
        name,
    } = cmd;
    let username = Username::parse(&username).map_err(|e| anyhow::anyhow!(e.message_en()))?;
    let valid_for = parse_duration(&expires)?;
    let (secret, until) = Identity::new(store)
        .create_token("cli", &username, &name, valid_for)
        .await
        .map_err(explain)?;
    eprintln!(
        "Token for {} valid until {until}; it is shown only now:",
        username.as_str()
    );
    println!("{secret}");
    Ok(())
}

pub async fn audit(store: Store, cmd: AuditCommand) -> Result<()> {
    let AuditCommand::Verify = cmd;
    let check = store.verify_audit().await?;
    let mut broken = false;
    match check.first_broken {
        None => println!(
            "Audit trail intact: {} events, hash chain verified.",
            check.checked
        ),
        Some((id, why)) => {
            broken = true;
            println!(
                "Audit trail BROKEN at event {id}: {why} ({} events before it verified).",
                check.checked
            );
        }
    }
    // The key custody chains are held to the same standard: one line per broken chain.
    let chains = store.verify_custody_chains().await?;
    if chains.is_empty() {
        println!("Key custody chains intact.");
    }
    for b in &chains {
        broken = true;
        match b.seq {
            Some(seq) => println!(
                "Key custody chain of entrustment {} BROKEN at event {seq}: {}.",
                b.entrustment_id, b.problem
            ),
            None => println!(
                "Key custody chain of entrustment {} BROKEN: {}.",
                b.entrustment_id, b.problem
            ),
        }
    }
    if broken {
        std::process::exit(2);
    }
    Ok(())
}
