//! `authd admin …`: what the operator at the host does before any console
//! exists — the first admin (`grant USERNAME admin`), other roles, and
//! unlocking an account (the console cannot unlock its own operator). It
//! reads the daemon's own config (file, environment, flags), applies the
//! migrations, changes MySQL with an audit entry (actor `authd admin`,
//! address `local`) and ends the account's sessions through Redis, as the
//! console would.

use crate::config::Config;
use crate::store::admin::Who;
use crate::store::db::Db;
use authd_wire::ops::Permission;
use clap::Subcommand;
use throng_core::config::DaemonArgs;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Roles and locks, from the host.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The OpenID provider's registered applications.
    #[command(subcommand)]
    Client(crate::client_cli::ClientCommand),
    /// The OpenID provider's signing keys.
    #[command(subcommand)]
    Keys(crate::client_cli::KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Gives USERNAME the role ROLE (e.g. `admin`).
    Grant { username: String, role: String },
    /// Takes the role ROLE from USERNAME.
    Revoke { username: String, role: String },
    /// Defines (or redefines) a role made of permissions.
    Role {
        name: String,
        /// What the role is for.
        #[arg(long, default_value = "")]
        description: String,
        /// A permission the role holds (repeatable): users.read,
        /// users.lock, sessions.revoke, roles.grant, audit.read,
        /// insight.read.
        #[arg(long = "permission")]
        permissions: Vec<String>,
    },
    /// Lists the roles and their permissions.
    Roles,
    /// Unlocks USERNAME.
    Unlock { username: String },
}

const OPERATOR: Who<'static> = Who {
    id: None,
    name: "authd admin",
    ip: "local",
};

pub fn run(args: &DaemonArgs, command: Command) -> Result<(), String> {
    let command = match command {
        Command::Admin(command) => command,
        Command::Client(command) => return crate::client_cli::run_client(args, command),
        Command::Keys(command) => return crate::client_cli::run_keys(args, command),
    };
    let cfg: Config = args.load("authd").map_err(|e| e.to_string())?;
    let db = Db::connect(&cfg.mysql.url, 1, 2).map_err(|e| format!("mysql: {e}"))?;
    db.migrate().map_err(|e| format!("migrations: {e}"))?;
    match command {
        AdminCommand::Grant { username, role } => set_role(&cfg, &db, &username, &role, true),
        AdminCommand::Revoke { username, role } => set_role(&cfg, &db, &username, &role, false),
        AdminCommand::Role {
            name,
            description,
            permissions,
        } => {
            if crate::validate::username(&name).is_err() {
                return Err(format!(
                    "{name:?}: a role name is 1–64 letters, digits, . _ -"
                ));
            }
            if let Some(bad) = permissions
                .iter()
                .find(|p| Permission::from_name(p).is_none())
            {
                let known: Vec<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
                return Err(format!(
                    "no permission {bad:?}; there are: {}",
                    known.join(", ")
                ));
            }
            let builtin = db
                .roles()
                .map_err(|e| e.to_string())?
                .into_iter()
                .any(|r| r.name == name && r.builtin);
            if builtin {
                return Err(format!("{name} is built in and keeps its permissions"));
            }
            let refs: Vec<&str> = permissions.iter().map(String::as_str).collect();
            db.define_role(&OPERATOR, &name, &description, &refs)
                .map_err(|e| e.to_string())?;
            println!("role {name}: {}", refs.join(" "));
            Ok(())
        }
        AdminCommand::Roles => {
            for r in db.roles().map_err(|e| e.to_string())? {
                println!(
                    "{:<12} {:<9} {:<60} {}",
                    r.name,
                    if r.builtin { "built-in" } else { "defined" },
                    r.permissions.join(" "),
                    r.description
                );
            }
            Ok(())
        }
        AdminCommand::Unlock { username } => {
            let user = db
                .user_by_name(&username)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no account {username:?}"))?;
            db.set_locked(&OPERATOR, user.id, &user.username, false)
                .map_err(|e| e.to_string())?;
            forget(&cfg, &user)?;
            if !cache(&cfg)?.set_lock(&user.uuid, false) {
                return Err("redis: the account's lock key could not be removed".into());
            }
            println!("{} unlocked", user.username);
            Ok(())
        }
    }
}

fn set_role(cfg: &Config, db: &Db, username: &str, role: &str, grant: bool) -> Result<(), String> {
    if !db.role_exists(role).map_err(|e| e.to_string())? {
        return Err(format!("no role {role:?} (authd admin roles lists them)"));
    }
    let user = db
        .user_by_name(username)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no account {username:?}"))?;
    let changed = db
        .set_role(&OPERATOR, user.id, &user.username, role, grant)
        .map_err(|e| e.to_string())?;
    // Privileges change with a new session: the account's end now.
    forget(cfg, &user)?;
    end_sessions(cfg, db, &user)?;
    println!(
        "{} {} {role}{}",
        user.username,
        if grant { "has" } else { "no longer has" },
        if changed { "" } else { " (no change)" }
    );
    Ok(())
}

fn cache(cfg: &Config) -> Result<crate::store::cache::Cache, String> {
    let target = crate::store::cache::Cache::target(&cfg.redis.url, cfg.redis.cluster)
        .map_err(|e| format!("redis.url: invalid ({:?})", e.kind()))?;
    Ok(crate::store::cache::Cache::new(
        target,
        &cfg.redis.prefix,
        std::sync::Arc::default(),
    ))
}

/// Drops the cached copy of the account, so its next sign-in reads its
/// roles and lock from MySQL.
fn forget(cfg: &Config, user: &crate::store::User) -> Result<(), String> {
    if cache(cfg)?.forget_user(user, false) {
        Ok(())
    } else {
        Err("redis: the account's cached copy could not be dropped".into())
    }
}

/// Ends every session of the account as the workers do: the account's
/// mark in Redis, its fallback sessions deleted.
fn end_sessions(cfg: &Config, db: &Db, user: &crate::store::User) -> Result<(), String> {
    let max_age = cfg.sessions.max_age.as_secs();
    if !cache(cfg)?.mark_sessions_ended(&user.uuid, crate::records::now_ms(), max_age) {
        return Err("redis: the account's sessions could not be ended".into());
    }
    db.delete_user_sessions(user.id).map_err(|e| e.to_string())
}
