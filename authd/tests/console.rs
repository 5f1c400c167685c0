//! Roles, the console's operations and the audit log, through a real
//! authd: every `admin_*` operation refused to an account without its
//! permission (one by one, for a plain account and for `support`), the
//! first admin from `authd admin grant`, sessions ending when privileges
//! change, locks, and an audit log the database will not let anyone edit.

mod common;

use authd_wire::ops::*;
use authd_wire::{Refusal, Status};
use common::*;
use mysql::prelude::Queryable;

const PW: &str = "hunter2hunter2";

fn actor(token: &str) -> Actor {
    Actor {
        token: token.into(),
        ip: "198.51.100.7".into(),
    }
}

/// Every console operation, as `token` would send it about `user`.
fn every_admin_call(c: &mut Client, token: &str, user: [u8; 16]) -> Vec<(&'static str, Status)> {
    let a = || actor(token);
    vec![
        (
            "admin_overview",
            c.call(&AdminOverview { actor: a() }).status(),
        ),
        (
            "admin_find_users",
            c.call(&AdminFindUsers {
                actor: a(),
                query: "al".into(),
            })
            .status(),
        ),
        (
            "admin_user",
            c.call(&AdminUser { actor: a(), user }).status(),
        ),
        (
            "admin_lock",
            c.call(&AdminLock {
                actor: a(),
                user,
                locked: true,
            })
            .status(),
        ),
        (
            "admin_end_sessions",
            c.call(&AdminEndSessions {
                actor: a(),
                user,
                session: 0,
            })
            .status(),
        ),
        (
            "admin_set_role",
            c.call(&AdminSetRole {
                actor: a(),
                user,
                role: "admin".into(),
                grant: true,
            })
            .status(),
        ),
        (
            "admin_audit",
            c.call(&AdminAudit {
                actor: a(),
                before: 0,
            })
            .status(),
        ),
        (
            "admin_insight",
            c.call(&AdminInsight {
                actor: a(),
                hours: 24,
                hour: 0,
            })
            .status(),
        ),
    ]
}

#[test]
fn every_admin_operation_is_refused_without_its_permission() {
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    let alice = c.sign_up("alice", "Alice", PW).unwrap().user;
    c.sign_up("sam", "Sam", PW).unwrap();
    let token = c.token("alice", PW);

    // A plain account: every one of them `forbidden`, and nothing changed.
    for (op, status) in every_admin_call(&mut c, &token, alice) {
        assert_eq!(status, Status::Forbidden, "{op} for a plain account");
    }
    assert!(c.validate(&token).is_ok(), "a refused lock locked nothing");
    // No session at all: `no_session`, for each.
    for (op, status) in every_admin_call(&mut c, "r.00000000000000000000000000000000", alice) {
        assert_eq!(status, Status::NoSession, "{op} without a session");
    }

    // `support` reads, locks and ends sessions; it grants nothing and reads
    // neither the audit log nor the analysis.
    admin(&stores, &["grant", "sam", "support"]);
    let sam = c.token("sam", PW);
    let by_op: std::collections::HashMap<_, _> =
        every_admin_call(&mut c, &sam, alice).into_iter().collect();
    for op in [
        "admin_overview",
        "admin_find_users",
        "admin_user",
        "admin_lock",
        "admin_end_sessions",
    ] {
        assert_eq!(by_op[op], Status::Ok, "{op} for support");
    }
    for op in ["admin_set_role", "admin_audit", "admin_insight"] {
        assert_eq!(by_op[op], Status::Forbidden, "{op} for support");
    }
    // Its lock took: alice's session is over and she cannot sign in.
    assert_eq!(c.validate(&token).status(), Status::NoSession);
    assert_eq!(c.sign_in("alice", PW).status(), Status::AccountLocked);
}

#[test]
fn the_first_admin_comes_from_the_command_and_privileges_change_with_a_new_session() {
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    c.sign_up("boss", "Boss", PW).unwrap();
    let alice = c.sign_up("alice", "Alice", PW).unwrap().user;
    let before = c.token("boss", PW);
    assert_eq!(c.validate(&before).unwrap().permissions, 0);
    assert_eq!(
        c.call(&AdminOverview {
            actor: actor(&before)
        })
        .status(),
        Status::Forbidden
    );

    let said = admin(&stores, &["grant", "boss", "admin"]);
    assert!(said.contains("boss has admin"), "{said}");
    // The grant ended the session it found: privileges come with a new one.
    assert_eq!(c.validate(&before).status(), Status::NoSession);
    let boss = c.token("boss", PW);
    let profile = c.validate(&boss).unwrap();
    for p in Permission::ALL {
        assert!(p.in_bits(profile.permissions), "{} missing", p.name());
    }
    let console = c
        .call(&AdminOverview {
            actor: actor(&boss),
        })
        .unwrap();
    assert!(console.permissions.contains(&"roles.grant".to_owned()));
    assert!(console
        .roles
        .iter()
        .any(|r| r.name == "support" && r.builtin));

    // Granting through the console ends the target's sessions too.
    let alice_token = c.token("alice", PW);
    c.call(&AdminSetRole {
        actor: actor(&boss),
        user: alice,
        role: "support".into(),
        grant: true,
    })
    .unwrap();
    assert_eq!(c.validate(&alice_token).status(), Status::NoSession);
    let detail = c
        .call(&AdminUser {
            actor: actor(&boss),
            user: alice,
        })
        .unwrap();
    assert_eq!(detail.roles, vec!["support".to_owned()]);
    assert_eq!(
        c.call(&AdminSetRole {
            actor: actor(&boss),
            user: alice,
            role: "emperor".into(),
            grant: true,
        })
        .status(),
        Status::UnknownRole
    );

    // A role defined on the host holds exactly what it was given.
    admin(&stores, &["role", "auditor", "--permission", "audit.read"]);
    assert!(
        !admin_cli(&stores, &["role", "admin", "--permission", "audit.read"])
            .status
            .success()
    );
    assert!(
        !admin_cli(&stores, &["role", "x", "--permission", "everything"])
            .status
            .success()
    );

    // The audit log: who, what, on whom, from where, newest first.
    let audit = c
        .call(&AdminAudit {
            actor: actor(&boss),
            before: 0,
        })
        .unwrap();
    let lines: Vec<String> = audit
        .entries
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e.actor, e.action, e.target, e.detail, e.ip
            )
        })
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l == "boss role.grant alice support 198.51.100.7"),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "authd admin role.grant boss admin local"),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("boss user.view alice")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("authd admin role.define")),
        "{lines:#?}"
    );
}

#[test]
fn a_locked_account_cannot_sign_in_and_the_log_cannot_be_edited() {
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    c.sign_up("boss", "Boss", PW).unwrap();
    let alice = c.sign_up("alice", "Alice", PW).unwrap().user;
    admin(&stores, &["grant", "boss", "admin"]);
    let boss = c.token("boss", PW);
    let alice_token = c.token("alice", PW);
    let lock = |c: &mut Client, locked| {
        c.call(&AdminLock {
            actor: actor(&boss),
            user: alice,
            locked,
        })
    };
    // The cached copy of alice from before the lock, as a sign-in racing
    // the lock would write it back.
    let mut r = stores.redis();
    let cached_key = format!("{}u:n:alice", stores.prefix);
    let stale: Option<String> = redis::cmd("GET").arg(&cached_key).query(&mut r).unwrap();
    assert!(stale.is_some(), "alice is cached");
    lock(&mut c, true).unwrap();
    let _: () = redis::cmd("SET")
        .arg(&cached_key)
        .arg(stale.unwrap())
        .query(&mut r)
        .unwrap();
    assert_eq!(c.validate(&alice_token).status(), Status::NoSession);
    // The right password learns of the lock; a wrong one learns nothing.
    assert_eq!(c.sign_in("alice", PW).status(), Status::AccountLocked);
    assert_eq!(
        c.sign_in("alice", "wrong-password!").status(),
        Status::BadCredentials
    );
    let found = c
        .call(&AdminFindUsers {
            actor: actor(&boss),
            query: "ali".into(),
        })
        .unwrap();
    assert_eq!(found.users.len(), 1);
    assert!(found.users[0].locked);
    lock(&mut c, false).unwrap();
    assert!(c.sign_in("alice", PW).is_ok());
    admin(&stores, &["unlock", "alice"]);

    // Searches: too short is `invalid_query`; a uuid finds its account.
    assert_eq!(
        c.call(&AdminFindUsers {
            actor: actor(&boss),
            query: "a".into(),
        })
        .status(),
        Status::InvalidQuery
    );
    let by_uuid = c
        .call(&AdminFindUsers {
            actor: actor(&boss),
            query: hex::encode(alice),
        })
        .unwrap();
    assert_eq!(by_uuid.users[0].username, "alice");
    // A LIKE wildcard is a character, not a pattern.
    let wild: Result<FoundUsers, Refusal> = c.call(&AdminFindUsers {
        actor: actor(&boss),
        query: "%_".into(),
    });
    assert!(wild.unwrap().users.is_empty());

    // Append-only, whoever asks the database.
    let mut db = stores.mysql();
    let n: u64 = db
        .query_first("SELECT COUNT(*) FROM audit_log")
        .unwrap()
        .unwrap();
    assert!(n >= 3, "{n} entries");
    assert!(db
        .query_drop("UPDATE audit_log SET actor = 'nobody'")
        .is_err());
    assert!(db.query_drop("DELETE FROM audit_log").is_err());
    let after: u64 = db
        .query_first("SELECT COUNT(*) FROM audit_log")
        .unwrap()
        .unwrap();
    assert_eq!(after, n);
}

#[test]
fn nobody_acts_above_their_own_permissions() {
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    let boss = c.sign_up("boss", "Boss", PW).unwrap().user;
    let sam = c.sign_up("sam", "Sam", PW).unwrap().user;
    let gus = c.sign_up("gus", "Gus", PW).unwrap().user;
    admin(&stores, &["grant", "boss", "admin"]);
    admin(&stores, &["grant", "sam", "support"]);
    admin(&stores, &["role", "granter", "--permission", "roles.grant"]);
    admin(&stores, &["grant", "gus", "granter"]);
    let (boss_t, sam_t, gus_t) = (c.token("boss", PW), c.token("sam", PW), c.token("gus", PW));

    // Support cannot lock out, or end the sessions of, an admin.
    let lock = c.call(&AdminLock {
        actor: actor(&sam_t),
        user: boss,
        locked: true,
    });
    assert_eq!(lock.status(), Status::Forbidden);
    let end = c.call(&AdminEndSessions {
        actor: actor(&sam_t),
        user: boss,
        session: 0,
    });
    assert_eq!(end.status(), Status::Forbidden);
    assert!(c.validate(&boss_t).is_ok());
    // A holder of roles.grant alone cannot make itself (or anyone) admin…
    for target in [gus, sam] {
        let grant = c.call(&AdminSetRole {
            actor: actor(&gus_t),
            user: target,
            role: "admin".into(),
            grant: true,
        });
        assert_eq!(grant.status(), Status::Forbidden);
    }
    // …nor take support away from someone who holds more than it does.
    let revoke = c.call(&AdminSetRole {
        actor: actor(&gus_t),
        user: sam,
        role: "support".into(),
        grant: false,
    });
    assert_eq!(revoke.status(), Status::Forbidden);
    // What it holds it may give: its own role, to an account below it.
    c.sign_up("ned", "Ned", PW).unwrap();
    let ned = c
        .call(&AdminFindUsers {
            actor: actor(&boss_t),
            query: "ned".into(),
        })
        .unwrap()
        .users[0]
        .user;
    c.call(&AdminSetRole {
        actor: actor(&gus_t),
        user: ned,
        role: "granter".into(),
        grant: true,
    })
    .unwrap();
    // And the admin may do all of it.
    c.call(&AdminLock {
        actor: actor(&boss_t),
        user: sam,
        locked: true,
    })
    .unwrap();
}
