//! `massd launch` and `massd stop` (the original's startup program): start
//! this host's server processes, wait until each listens, then start the
//! client processes; keep pid files and a state file in the run directory
//! so `stop` and `ctl` find exactly what was started.

use crate::admin_probe::{self, Owner};
use crate::config::Config;
use crate::token_file;
use crate::topology::{admin_addr, is_local, Launched, State};

use std::fs;
use std::io;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use throng_core::config::DaemonArgs;

/// Whether `pid` is alive and still a massd process (not a reused pid).
fn is_massd(pid: u32) -> bool {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| {
            c.split(|b| *b == 0)
                .next()
                .is_some_and(|exe| exe.ends_with(b"massd"))
        })
        .unwrap_or(false)
        && !fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
}

/// The flags a child gets so it reads the same config as the launcher.
/// `--set` overrides travel in [`LAUNCH_SET`] instead: they may carry
/// secrets, and a command line is readable by every local user.
fn forwarded(args: &DaemonArgs) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = &args.config {
        out.push("--config".into());
        out.push(c.display().to_string());
    }
    if let Some(level) = &args.log_level {
        out.push("--log-level".into());
        out.push(level.clone());
    }
    out
}

/// The environment variable (one override per line) through which the
/// launcher hands its `--set` flags to the processes it starts.
pub const LAUNCH_SET: &str = "MASSD_LAUNCH_SET";

fn spawn(exe: &Path, args: &[String], set: &[String], log: &Path) -> io::Result<Child> {
    let file = fs::File::create(log)?;
    Command::new(exe)
        .args(args)
        .env(LAUNCH_SET, set.join("\n"))
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        // Its own process group: a Ctrl-C at the launcher's terminal does
        // not reach the fleet; `massd stop` does.
        .process_group(0)
        .spawn()
}

fn tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// Waits until the admin endpoint `admin` answers as `child` (its pid),
/// or fails: the child exited, the endpoint is
/// answered by another process, or 20 s passed.
fn wait_answering(child: &mut Child, admin: SocketAddr, log: &Path) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait()? {
            return Err(io::Error::other(format!(
                "{} exited ({status}) before listening:\n{}",
                log.display(),
                tail(log)
            )));
        }
        match admin_probe::owner(admin) {
            Owner::Pid(pid) if pid == child.id() => return Ok(()),
            Owner::Pid(pid) => {
                return Err(io::Error::other(format!(
                    "admin endpoint {admin} is answered by massd pid {pid}, not by the server \
                     just started (pid {}): another fleet holds these ports (its `massd stop`, \
                     or give this config ports of its own). Its log:\n{}",
                    child.id(),
                    tail(log)
                )))
            }
            Owner::Stranger(why) => {
                return Err(io::Error::other(format!(
                    "admin endpoint {admin} is answered by another program ({why}), not by the \
                     server just started (pid {}): give this config ports of its own. Its log:\n{}",
                    child.id(),
                    tail(log)
                )))
            }
            Owner::Nobody => {}
        }
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "{} did not listen within 20 s:\n{}",
                log.display(),
                tail(log)
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts the fleet of this host.
pub fn launch(config: &Config, args: &DaemonArgs, with_clients: bool) -> io::Result<()> {
    config.validate().map_err(io::Error::other)?;
    if let Some(state) = State::load(config)? {
        if state.processes.iter().any(|p| is_massd(p.pid)) {
            return Err(io::Error::other(format!(
                "a fleet is already running from {} (`massd stop` first)",
                config.run_dir.display()
            )));
        }
    }
    let logs = config.run_dir.join("logs");
    let pids = config.run_dir.join("pids");
    fs::create_dir_all(&logs)?;
    fs::create_dir_all(&pids)?;
    token_file::admin_token(config)?;
    let exe = std::env::current_exe()?;
    let base = forwarded(args);
    let local: Vec<_> = config
        .server_ip_list
        .iter()
        .filter(|ip| is_local(**ip))
        .collect();
    let mut state = State {
        processes: Vec::new(),
    };
    let mut children: Vec<Child> = Vec::new();
    let result = (|| -> io::Result<()> {
        if local.is_empty() {
            println!("no address of server_ip_list is local: starting no servers here");
        }
        let mut index: u16 = 0;
        for &port in &config.server_port_list {
            for k in 0..config.server.processes_per_port {
                if local.is_empty() {
                    continue;
                }
                let name = format!("server-{port}-{k}");
                let log = logs.join(format!("{name}.log"));
                let mut argv = vec!["serve".to_owned()];
                argv.extend(base.iter().cloned());
                argv.extend([
                    "--port".into(),
                    port.to_string(),
                    "--index".into(),
                    index.to_string(),
                ]);
                let admin = admin_addr(config, index)?;
                let child = spawn(&exe, &argv, &args.set, &log)?;
                state.processes.push(Launched {
                    role: "server".into(),
                    name,
                    pid: child.id(),
                    admin: Some(admin),
                    log: log.clone(),
                });
                children.push(child);
                state.save(config)?;
                // The admin endpoint opens after the counter ports are
                // bound; probing the counter ports would leave zero-count
                // keys in the server's table.
                let child = children.last_mut().expect("pushed above");
                wait_answering(child, admin, &log)?;
                index += 1;
            }
        }
        if with_clients && config.client_num_per_host > 0 {
            let n = config.client.processes;
            for k in 0..n {
                let name = format!("client-{k}");
                let log = logs.join(format!("{name}.log"));
                let mut argv = vec!["client".to_owned()];
                argv.extend(base.iter().cloned());
                argv.extend(["--share".into(), format!("{k}/{n}")]);
                let child = spawn(&exe, &argv, &args.set, &log)?;
                state.processes.push(Launched {
                    role: "client".into(),
                    name,
                    pid: child.id(),
                    admin: None,
                    log: log.clone(),
                });
                children.push(child);
                state.save(config)?;
                std::thread::sleep(Duration::from_millis(100));
                let child = children.last_mut().expect("pushed above");
                if let Some(status) = child.try_wait()? {
                    return Err(io::Error::other(format!(
                        "{} exited ({status}) at start:\n{}",
                        log.display(),
                        tail(&log)
                    )));
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        for mut c in children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = fs::remove_file(State::path(config));
        return Err(e);
    }
    for p in &state.processes {
        fs::write(pids.join(format!("{}.pid", p.name)), format!("{}\n", p.pid))?;
    }
    state.save(config)?;
    let servers = state
        .processes
        .iter()
        .filter(|p| p.role == "server")
        .count();
    let clients = state.processes.len() - servers;
    println!(
        "massd: started {servers} server and {clients} client process(es); logs in {}, pids in {}",
        logs.display(),
        pids.display()
    );
    println!("massd: `massd ctl stats` to watch, `massd stop` to stop");
    Ok(())
}

#[allow(unsafe_code)] // kill(2); see the SAFETY comment
fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) takes any pid and signal number and touches no memory
    // of ours; the pid was checked to be a live massd process just before.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

fn wait_gone(pids: &[u32], within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let alive: Vec<u32> = pids.iter().copied().filter(|p| is_massd(*p)).collect();
        if alive.is_empty() || Instant::now() > deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the fleet: clients first (so they print their summaries), then
/// servers, each by SIGTERM and, past the deadline, SIGKILL.
pub fn stop(config: &Config) -> io::Result<()> {
    let Some(state) = State::load(config)? else {
        println!("massd: nothing to stop in {}", config.run_dir.display());
        return Ok(());
    };
    for role in ["client", "server"] {
        let pids: Vec<u32> = state
            .processes
            .iter()
            .filter(|p| p.role == role && is_massd(p.pid))
            .map(|p| p.pid)
            .collect();
        for &pid in &pids {
            signal(pid, libc::SIGTERM);
        }
        let grace = config.reactor.drain_timeout + Duration::from_secs(5);
        for pid in wait_gone(&pids, grace) {
            eprintln!("massd: {role} {pid} ignored SIGTERM for {grace:?}; killing it");
            signal(pid, libc::SIGKILL);
        }
        if !pids.is_empty() {
            println!("massd: stopped {} {role} process(es)", pids.len());
        }
    }
    let _ = fs::remove_dir_all(config.run_dir.join("pids"));
    fs::remove_file(config.run_dir.join("state.json"))?;
    Ok(())
}
