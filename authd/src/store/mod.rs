//! authd's two stores: MySQL/MariaDB ([`db`]) holds the truth, Redis
//! ([`cache`]) holds the cache, sessions, codes, counters and node loads.
//! Beside the accounts ([`db`]), MySQL holds the history ([`history`]),
//! its rollups ([`rollup`], read by [`insight`]), what operators change
//! ([`admin`]), what the OpenID provider keeps ([`oidc`]) and the
//! identities at other providers linked to accounts ([`identities`]).

pub mod admin;
pub mod cache;
pub mod db;
pub mod history;
pub mod identities;
pub mod insight;
pub mod migrate;
pub mod oidc;
pub mod replicas;
pub mod rollup;
pub mod user;

pub use user::User;
