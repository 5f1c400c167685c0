//! SIGTERM/SIGINT handling: the first signal starts a graceful shutdown
//! (stop accepting, drain within the deadline, exit 0); a second one means
//! the operator is out of patience and the process exits at once.

use crate::server::ShutdownTrigger;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::io;

/// Starts a thread that turns SIGTERM/SIGINT into `trigger.shutdown()`.
/// `on_shutdown` runs first (to stop the daemon's own workers and timers).
pub fn on_signals(
    trigger: ShutdownTrigger,
    on_shutdown: impl Fn() + Send + 'static,
) -> io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut seen = 0;
            for signal in signals.forever() {
                seen += 1;
                let name = if signal == SIGTERM {
                    "SIGTERM"
                } else {
                    "SIGINT"
                };
                if seen == 1 {
                    log::info!("{name}: shutting down gracefully (send again to exit at once)");
                    on_shutdown();
                    trigger.shutdown();
                } else {
                    log::warn!("{name} again: exiting without draining");
                    std::process::exit(130);
                }
            }
        })?;
    Ok(())
}
