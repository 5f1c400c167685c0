//! The chaos report as a table for people (`--json` prints the report
//! itself): the run, one line per event, the books, the massd fleet.

use super::{Fleet, Report};

/// The report as a table for people.
pub fn print(report: &Report) {
    println!(
        "chaos: {:.0} s, {} requests, {} failed",
        report.duration_s, report.requests, report.failed
    );
    println!(
        "{:<8} {:<10} {:>7} {:>16} {:>14}  stores",
        "event", "killed", "failed", "error window ms", "back to 90% ms"
    );
    for e in &report.events {
        println!(
            "{:<8} {:<10} {:>7} {:>16} {:>14}  {}",
            e.kind,
            e.target,
            e.failed,
            e.error_window_ms.map_or("-".into(), |v| v.to_string()),
            e.recovered_ms.map_or("never".into(), |v| v.to_string()),
            e.stores.join("; ")
        );
    }
    println!(
        "sign-ups acknowledged {}, missing per node {:?}; nicknames {}, wrong per node {:?}; \
         sessions checked after the Redis failover {}, lost {}",
        report.signups_acknowledged,
        report.signups_missing,
        report.nicknames_acknowledged,
        report.nicknames_wrong,
        report.sessions_checked,
        report.sessions_lost
    );
    match &report.fleet {
        Some(Fleet {
            connections,
            totals: t,
        }) => println!(
            "massd fleet: {connections} connections, {} updates, {} lost, {} doubled, {} disconnects, \
             {} reconnects, {} connect failures, {} errors, {} unanswered",
            t.updates,
            t.lost,
            t.doubled,
            t.disconnects,
            t.reconnects,
            t.connect_failures,
            t.errors,
            t.unanswered
        ),
        None => println!("massd fleet: no summary"),
    }
}
