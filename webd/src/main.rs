//! The webd binary: parses flags and runs the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match webd::run(webd::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("webd: {e}");
            ExitCode::FAILURE
        }
    }
}
