//! authd's two stores: MySQL/MariaDB ([`db`]) holds the truth, Redis
//! ([`cache`]) holds the cache, sessions, codes, counters and node loads.

pub mod cache;
pub mod db;
pub mod migrate;
pub mod replicas;
pub mod user;

pub use user::User;
