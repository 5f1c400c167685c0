//! tuning: kernel and limits profiles per role and the `tune` tool. Not
//! built yet: its issue fills this crate.
