//! Configuration loading: built-in defaults, then a TOML file, then
//! `THRONG_<DAEMON>_…` environment variables, then command-line flags — each
//! layer overriding the one before (a flag beats the environment, which
//! beats the file).
//!
//! Nested keys use `__` in the environment: `THRONG_WEBD_REACTOR__THREADS=4`
//! sets `reactor.threads` for webd. The daemon name in the prefix keeps one
//! daemon's variables from leaking into another's config. Unknown keys are an
//! error everywhere, so a typo is reported instead of silently ignored.

use crate::logging::LogConfig;
use crate::reactor::ReactorConfig;
use clap::Args;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("--set {0}: expected KEY=VALUE")]
    BadOverride(String),
    #[error("{0}")]
    Invalid(#[from] Box<figment::Error>),
}

/// The environment prefix of a daemon: `THRONG_WEBD_` for `webd`.
pub fn env_prefix(daemon: &str) -> String {
    format!("THRONG_{}_", daemon.to_uppercase())
}

/// Loads `T` from its defaults, an optional file, the environment and the
/// given `(dotted.key, value)` overrides.
pub fn load<T>(
    daemon: &str,
    file: Option<&Path>,
    overrides: &[(String, toml::Value)],
) -> Result<T, ConfigError>
where
    T: Serialize + DeserializeOwned + Default,
{
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(ConfigError::MissingFile(path.to_owned()));
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    figment = figment.merge(Env::prefixed(&env_prefix(daemon)).split("__"));
    for (key, value) in overrides {
        figment = figment.merge(Serialized::default(key, value));
    }
    figment
        .extract()
        .map_err(|e| ConfigError::Invalid(Box::new(e)))
}

/// The flags every daemon takes. Specific flags map onto config keys;
/// `--set` reaches any key.
#[derive(Debug, Clone, Default, Args)]
pub struct DaemonArgs {
    /// TOML config file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on (repeatable); replaces `reactor.listen`.
    #[arg(long, value_name = "ADDR")]
    pub listen: Vec<SocketAddr>,
    /// Reactor threads (0 = one per core); sets `reactor.threads`.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Log filter, e.g. `info` or `info,throng_core=debug`; sets `log.level`.
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Any setting, as dotted.key=value in TOML syntax (repeatable):
    /// `--set reactor.max_connections=50000`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print the effective configuration as TOML and exit.
    #[arg(long)]
    pub print_config: bool,
}

impl DaemonArgs {
    /// The flags as config overrides, in the order they apply.
    pub fn overrides(&self) -> Result<Vec<(String, toml::Value)>, ConfigError> {
        let mut out = Vec::new();
        if !self.listen.is_empty() {
            let list = self
                .listen
                .iter()
                .map(|a| toml::Value::String(a.to_string()));
            out.push((
                "reactor.listen".to_owned(),
                toml::Value::Array(list.collect()),
            ));
        }
        if let Some(threads) = self.threads {
            out.push((
                "reactor.threads".to_owned(),
                toml::Value::Integer(threads as i64),
            ));
        }
        if let Some(level) = &self.log_level {
            out.push(("log.level".to_owned(), toml::Value::String(level.clone())));
        }
        for item in &self.set {
            out.push(parse_override(item)?);
        }
        Ok(out)
    }

    /// Loads a daemon's config with these flags on top.
    pub fn load<T>(&self, daemon: &str) -> Result<T, ConfigError>
    where
        T: Serialize + DeserializeOwned + Default,
    {
        load(daemon, self.config.as_deref(), &self.overrides()?)
    }
}

/// `a.b=value`: the value in TOML syntax, or a bare string when it is not
/// valid TOML (`--set log.level=debug`).
fn parse_override(item: &str) -> Result<(String, toml::Value), ConfigError> {
    let (key, raw) = item
        .split_once('=')
        .ok_or_else(|| ConfigError::BadOverride(item.to_owned()))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(ConfigError::BadOverride(item.to_owned()));
    }
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    Ok((key.to_owned(), value))
}

/// The parts every daemon config has, so shared start-up code reaches them.
pub trait DaemonConfig: Serialize + DeserializeOwned + Default {
    fn reactor(&self) -> &ReactorConfig;
    fn log(&self) -> &LogConfig;
}

#[cfg(test)]
// figment's test jail returns its large error type by design.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Sample {
        name: String,
        reactor: ReactorConfig,
    }

    impl Default for Sample {
        fn default() -> Self {
            Sample {
                name: "default".into(),
                reactor: ReactorConfig::default(),
            }
        }
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "name = \"file\"\n[reactor]\nthreads = 3\nbacklog = 7\n",
            )?;
            jail.set_env("THRONG_SAMPLED_REACTOR__THREADS", "5");
            let args = DaemonArgs {
                config: Some("t.toml".into()),
                set: vec!["name=flag".into()],
                ..Default::default()
            };
            let cfg: Sample = args.load("sampled").map_err(|e| e.to_string())?;
            assert_eq!(cfg.name, "flag");
            assert_eq!(cfg.reactor.threads, 5, "env beats file");
            assert_eq!(cfg.reactor.backlog, 7, "file beats default");
            let args = DaemonArgs {
                threads: Some(9),
                ..args
            };
            let cfg: Sample = args.load("sampled").map_err(|e| e.to_string())?;
            assert_eq!(cfg.reactor.threads, 9, "flag beats env");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "nmae = \"typo\"\n")?;
            let r: Result<Sample, _> = load("x", Some(Path::new("t.toml")), &[]);
            assert!(r.unwrap_err().to_string().contains("nmae"));
            let r: Result<Sample, _> = load("x", Some(Path::new("absent.toml")), &[]);
            assert!(matches!(r, Err(ConfigError::MissingFile(_))));
            Ok(())
        });
    }

    #[test]
    fn overrides_parse_toml_values_or_fall_back_to_strings() {
        assert_eq!(
            parse_override("reactor.threads=4").unwrap(),
            ("reactor.threads".into(), toml::Value::Integer(4))
        );
        assert_eq!(
            parse_override("log.level=debug").unwrap().1,
            toml::Value::String("debug".into())
        );
        assert!(parse_override("novalue").is_err());
    }
}
