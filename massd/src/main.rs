//! The massd binary: parses flags and runs the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    massd::run(massd::Cli::parse())
}
