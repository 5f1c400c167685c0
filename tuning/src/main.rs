//! The tune binary: parses flags and runs the library.

use clap::Parser;

fn main() {
    std::process::exit(tuning::cli::run(tuning::cli::Cli::parse()));
}
