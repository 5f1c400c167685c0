//! An idle authd uses no CPU: after each kind of entry its background
//! threads are told (a sign-in's record, a session ended, every session of
//! an account ended, including endings that close nothing), they sleep
//! until there is work. A thread that waits for a deadline already past
//! spins a core for ever, unseen by any answer; only its CPU time shows it.

mod common;

use authd_wire::ops::*;
use common::*;
use std::time::Duration;
use throng_testkit::process::{cpu_ticks, ticks_per_second};

const PW: &str = "hunter2hunter2";

/// Something done through the client, then left to settle.
type Step<'a> = Box<dyn Fn(&mut Client) + 'a>;

/// CPU ticks authd uses over `span`, left alone.
fn idle_ticks(authd: &Authd, span: Duration) -> u64 {
    let pid = authd.child.id();
    let before = cpu_ticks(pid);
    std::thread::sleep(span);
    cpu_ticks(pid) - before
}

#[test]
fn authd_sleeps_once_its_work_is_done() {
    let stores = stores();
    // The history writer adds its sums every 200 ms here (common), so
    // every deadline it keeps falls within the wait below.
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    c.sign_up("sam", "Sam", PW).unwrap();
    let bob = c.sign_up("bob", "Bob", PW).unwrap().user;
    admin(&stores, &["grant", "sam", "support"]);
    let sam = c.token("sam", PW);
    let actor = || Actor {
        token: sam.as_str().into(),
        ip: "198.51.100.7".into(),
    };
    let span = Duration::from_secs(2);
    // Half a core over the span is far above idle (a few ticks) and far
    // below a spinning thread (a whole core).
    let limit = ticks_per_second() * span.as_secs() / 2;

    // The kinds of entry, each then left to settle: the sign-ins above
    // (their records and analysis sums), every session of an account that
    // has none ended (closes no index row: nothing to add), one session
    // ended on purpose.
    let steps: [(&str, Step); 3] = [
        ("sign-ins", Box::new(|_| {})),
        (
            "ending every session of an account with none",
            Box::new(|c| {
                c.call(&AdminEndSessions {
                    actor: actor(),
                    user: bob,
                    session: 0,
                })
                .unwrap();
            }),
        ),
        (
            "a log-out",
            Box::new(|c| {
                let t = c.token("bob", PW);
                c.call(&Logout { token: t.into() }).unwrap();
            }),
        ),
    ];
    for (what, step) in steps {
        step(&mut c);
        std::thread::sleep(Duration::from_secs(1));
        let used = idle_ticks(&authd, span);
        assert!(
            used < limit,
            "after {what}, idle authd used {used} ticks in {span:?} (limit {limit})"
        );
    }
}
