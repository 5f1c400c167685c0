//! The tune binary. A placeholder that says so and fails, so nothing can
//! mistake it for a working tool.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("tune: not implemented yet (the tuning issue builds check, plan, apply and revert)");
    ExitCode::from(2)
}
