//! The massd binary. A placeholder that says so and fails, so nothing can
//! mistake it for a working server.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("massd: not implemented yet (the massd issue builds serve, client, ctl and launch)");
    ExitCode::from(2)
}
