//! The bench binary: parses flags and runs the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match bench::run(bench::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}
