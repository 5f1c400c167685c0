//! massd, the massive-connection counter servers, client fleet, ops console
//! and launcher. Not built yet: its issue fills this crate.
