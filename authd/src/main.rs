//! The authd binary: parses flags and runs the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match authd::run(authd::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authd: {e}");
            ExitCode::FAILURE
        }
    }
}
