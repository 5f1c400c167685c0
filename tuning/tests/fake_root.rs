//! `tune` against fake `/proc` trees with known values: check's verdicts
//! (missing knobs, short and ample values, an old kernel that still has
//! tcp_tw_recycle), apply and revert round-tripping exactly, refusal without
//! root, and the shipped profiles: equal to their plans, and free of
//! removed or dangerous knobs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tuning::apply::{self, ApplyError};
use tuning::check::{self, Status};
use tuning::live::Live;
use tuning::plan;
use tuning::profile::Profile;
use tuning::role::Role;

/// A fake root with the given sysctls, a process limit and a uid.
fn fake_root(
    knobs: &[(&str, &str)],
    nofile: (u64, u64),
    uid: u32,
    cap_sys_resource: bool,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in knobs {
        let path = throng_core::sysctl::path_of(dir.path(), name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("{value}\n")).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("proc/self")).unwrap();
    std::fs::write(
        dir.path().join("proc/self/limits"),
        format!(
            "Limit                     Soft Limit           Hard Limit           Units\n\
             Max open files            {}                 {}                files\n",
            nofile.0, nofile.1
        ),
    )
    .unwrap();
    let caps = if cap_sys_resource {
        "000001ffffffffff"
    } else {
        "0000000000000000"
    };
    std::fs::write(
        dir.path().join("proc/self/status"),
        format!("Name:\ttune\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nCapEff:\t{caps}\n"),
    )
    .unwrap();
    dir
}

/// Every file under `root` with its contents, for exact before/after checks.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    "(dir)".into(),
                );
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read_to_string(&path).unwrap(),
                );
            }
        }
    }
    out
}

fn mass() -> Profile {
    plan::plan(Role::Mass, &Role::Mass.default_target())
}

fn status_of(rows: &[check::Row], knob: &str) -> Status {
    rows.iter()
        .find(|r| r.knob == knob)
        .unwrap_or_else(|| panic!("no row {knob}"))
        .status
}

const TYPICAL: &[(&str, &str)] = &[
    ("fs.nr_open", "1048576"),
    ("fs.file-max", "9223372036854775807"),
    ("net.core.somaxconn", "4096"),
    ("net.ipv4.tcp_max_syn_backlog", "2048"),
    ("net.ipv4.tcp_syncookies", "1"),
    ("net.core.netdev_max_backlog", "1000"),
    ("net.ipv4.ip_local_port_range", "32768\t60999"),
    ("net.ipv4.tcp_tw_reuse", "2"),
    ("net.ipv4.tcp_max_tw_buckets", "131072"),
    ("net.ipv4.tcp_mem", "287898\t383867\t575796"),
    ("net.ipv4.ip_local_reserved_ports", ""),
    ("net.ipv4.tcp_max_orphans", "131072"),
    ("net.ipv4.tcp_child_ehash_entries", "0"),
];

#[test]
fn check_reports_short_ample_and_absent_knobs() {
    let root = fake_root(TYPICAL, (1024, 1_048_576), 1000, false);
    let rows = check::check(&mass(), &Live::new(root.path()));
    assert_eq!(
        status_of(&rows, "fs.file-max"),
        Status::Ok,
        "above wanted is fine"
    );
    assert_eq!(status_of(&rows, "net.core.somaxconn"), Status::Short);
    assert_eq!(
        status_of(&rows, "net.ipv4.ip_local_port_range"),
        Status::Short
    );
    assert_eq!(
        status_of(&rows, "net.ipv4.tcp_tw_reuse"),
        Status::Short,
        "exact 1, not 2"
    );
    assert_eq!(
        status_of(&rows, "net.netfilter.nf_conntrack_max"),
        Status::Absent,
        "conntrack not loaded is not a failure"
    );
    assert_eq!(
        status_of(&rows, "nofile (RLIMIT_NOFILE)"),
        Status::Short,
        "hard limit allows it"
    );
    assert_eq!(check::exit_code(&rows), 1);
    assert!(
        rows.iter().all(|r| r.knob != "net.ipv4.tcp_tw_recycle"),
        "a modern kernel has none"
    );
}

#[test]
fn an_old_kernel_with_tcp_tw_recycle_on_is_dangerous() {
    let mut knobs = TYPICAL.to_vec();
    knobs.push(("net.ipv4.tcp_tw_recycle", "1"));
    let root = fake_root(&knobs, (1024, 1024), 0, false);
    let rows = check::check(&mass(), &Live::new(root.path()));
    assert_eq!(
        status_of(&rows, "net.ipv4.tcp_tw_recycle"),
        Status::Dangerous
    );
    knobs.pop();
    knobs.push(("net.ipv4.tcp_tw_recycle", "0"));
    let root = fake_root(&knobs, (1024, 1024), 0, false);
    let rows = check::check(&mass(), &Live::new(root.path()));
    assert_eq!(status_of(&rows, "net.ipv4.tcp_tw_recycle"), Status::Ok);
}

#[test]
fn a_hard_limit_nobody_here_may_raise_is_blocked_not_short() {
    let root = fake_root(TYPICAL, (20_000, 20_000), 0, false);
    let profile = mass();
    let live = Live::new(root.path());
    apply::apply(&profile, &live, false).unwrap();
    let rows = check::check(&profile, &live);
    let nofile = rows.iter().find(|r| r.knob.starts_with("nofile")).unwrap();
    assert_eq!(nofile.status, Status::Blocked);
    assert!(
        nofile.note.contains("cannot be raised here"),
        "{}",
        nofile.note
    );
    assert_eq!(
        check::exit_code(&rows),
        3,
        "everything else passed after apply"
    );
    let with_cap = fake_root(TYPICAL, (20_000, 20_000), 0, true);
    let rows = check::check(&profile, &Live::new(with_cap.path()));
    assert_eq!(status_of(&rows, "nofile (RLIMIT_NOFILE)"), Status::Short);
}

#[test]
fn apply_then_revert_round_trips_exactly() {
    let mut knobs = TYPICAL.to_vec();
    knobs.push(("net.netfilter.nf_conntrack_max", "262144"));
    let root = fake_root(&knobs, (20_000, 20_000), 0, false);
    // An admin's own file at one of the paths must come back too.
    let own = root
        .path()
        .join("etc/security/limits.d/60-throng-mass.conf");
    std::fs::create_dir_all(own.parent().unwrap()).unwrap();
    std::fs::write(&own, "# the admin's own\n").unwrap();
    let before = snapshot(root.path());
    let live = Live::new(root.path());
    let profile = mass();

    let dry = apply::apply(&profile, &live, true).unwrap();
    assert!(!dry.is_empty());
    assert_eq!(snapshot(root.path()), before, "--dry-run changes nothing");

    let changes = apply::apply(&profile, &live, false).unwrap();
    let text = apply::describe(&changes);
    assert!(text.contains("net.core.somaxconn: 4096 -> 32768"), "{text}");
    assert!(
        text.contains(&format!(
            "net.ipv4.ip_local_reserved_ports:  -> {}",
            tuning::ports::sysctl_value()
        )),
        "{text}"
    );
    assert!(
        text.contains("net.ipv4.ip_local_port_range: 32768 60999 -> 1024 65535"),
        "{text}"
    );
    assert!(
        !text.contains("fs.file-max"),
        "never lowers a larger value: {text}"
    );
    let rows = check::check(&profile, &live);
    assert!(
        rows.iter()
            .all(|r| matches!(r.status, Status::Ok | Status::Blocked)),
        "{}",
        check::table(&rows)
    );
    assert!(root
        .path()
        .join("etc/sysctl.d/60-throng-mass.conf")
        .is_file());
    assert!(root
        .path()
        .join("etc/systemd/system/massd.service.d/60-throng-limits.conf")
        .is_file());
    assert!(
        apply::apply(&profile, &live, false).unwrap().is_empty(),
        "a second apply changes nothing"
    );

    let reverted = apply::revert(&live, false).unwrap();
    assert!(!reverted.is_empty());
    assert_eq!(
        snapshot(root.path()),
        before,
        "revert restores every value and file"
    );
    assert!(matches!(
        apply::revert(&live, false),
        Err(ApplyError::NothingToRevert(_))
    ));
}

#[test]
fn without_root_apply_says_so_and_changes_nothing() {
    let root = fake_root(TYPICAL, (1024, 1024), 1000, false);
    let before = snapshot(root.path());
    let err = apply::apply(&mass(), &Live::new(root.path()), false).unwrap_err();
    assert!(err.to_string().contains("needs root"), "{err}");
    assert_eq!(snapshot(root.path()), before);
}

#[test]
fn a_dangerous_profile_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.conf");
    std::fs::write(
        &file,
        "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_syncookies = 0\n",
    )
    .unwrap();
    let profile = Profile::load(&file).unwrap();
    let root = fake_root(TYPICAL, (1024, 1024), 0, false);
    let err = apply::apply(&profile, &Live::new(root.path()), false).unwrap_err();
    assert!(matches!(err, ApplyError::Dangerous(_)), "{err}");
}

fn shipped(role: Role) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("profiles")
        .join(role.name())
}

#[test]
fn shipped_profiles_are_their_plans() {
    for role in Role::ALL {
        let planned = plan::plan(role, &role.default_target());
        for file in planned.render() {
            let path = shipped(role).join(&file.profile_path);
            let on_disk = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                on_disk,
                file.text,
                "{} differs from `tune plan --role {role} --out tuning/profiles/{role}`",
                path.display()
            );
        }
        let loaded = Profile::load(&shipped(role)).unwrap();
        assert_eq!(loaded.role, Some(role));
        assert_eq!(loaded.nofile, planned.nofile);
        let names = |p: &Profile| {
            p.knobs
                .iter()
                .map(|k| (k.name.clone(), k.value.clone(), k.rule))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&loaded), names(&planned));
    }
}

#[test]
fn no_shipped_profile_carries_a_removed_or_dangerous_knob() {
    for role in Role::ALL {
        let profile = Profile::load(&shipped(role)).unwrap();
        assert_eq!(profile.problems(), Vec::<String>::new(), "{role}");
        let text =
            std::fs::read_to_string(shipped(role).join(format!("sysctl.d/60-throng-{role}.conf")))
                .unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            assert!(!line.contains("tcp_tw_recycle"), "{role}: {line}");
            assert!(
                !line.replace(' ', "").contains("tcp_syncookies=0"),
                "{role}: {line}"
            );
        }
        let nofile = profile.nofile.unwrap();
        let nr_open: u64 = profile.knob("fs.nr_open").unwrap().value.parse().unwrap();
        assert!(
            nr_open >= nofile,
            "{role}: fs.nr_open {nr_open} < nofile {nofile}"
        );
    }
}
