//! The ops endpoint of a server process (what the original's omclient
//! talked to, minus its unauthenticated remote `stop`): bound to loopback
//! only, every request carries the admin token. One JSON request per line;
//! answers are one JSON line, except `dump`, which streams its entries as
//! text lines between a JSON header and a JSON trailer so a truncated dump
//! is always detectable.
//!
//! A connection must show the token before it holds anything: its first
//! line is read within [`FIRST_LINE_WITHIN`] by a short-lived greeter
//! (at most [`MAX_GREETERS`] at once), and only a request with the right
//! token takes one of the [`MAX_SESSIONS`] session slots. Silent or
//! token-less connections therefore cost a greeter for two seconds at
//! most and never lock the console out.

use super::service::{AdminAsk, Entry};
use super::stats::{self, AllStats};
use crate::admin_wire::ThreadReport;
use crate::admin_wire::{AdminRequest, ProcessReport, MAX_REQUEST_LINE};
use crossbeam_channel::bounded;
use serde_json::json;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use throng_core::handoff::ReplySender;
use throng_core::node_token::same;
use throng_core::server::ShutdownTrigger;

/// Admin sessions (connections that showed the token) served at once.
const MAX_SESSIONS: usize = 8;
/// Connections waiting to show the token, at once; more are refused.
const MAX_GREETERS: usize = 64;
/// How long a connection has to send its first line, in all.
const FIRST_LINE_WITHIN: Duration = Duration::from_secs(2);
/// How long an authenticated session may sit idle between requests.
const SESSION_IDLE: Duration = Duration::from_secs(300);

/// The stream an admin connection reads from: until `deadline` is lifted,
/// every read waits only for what is left of it, so a first line trickled
/// a byte at a time still ends at the deadline.
struct Paced {
    stream: TcpStream,
    deadline: Option<Instant>,
}

impl Read for Paced {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let wait = match self.deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no request in time",
                    ));
                }
                left
            }
            None => SESSION_IDLE,
        };
        self.stream.set_read_timeout(Some(wait))?;
        self.stream.read(buf)
    }
}

/// A counted slot, given back on drop.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(count: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        if count.fetch_add(1, Ordering::AcqRel) >= max {
            count.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot(count.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Everything the endpoint reads to answer.
pub struct AdminState {
    pub token: String,
    pub node_id: String,
    pub listen: Vec<SocketAddr>,
    pub config_toml: String,
    pub stats: AllStats,
    pub reactors: Arc<Mutex<Vec<ReplySender<AdminAsk>>>>,
    pub trigger: ShutdownTrigger,
    pub started: Instant,
    pub rss_baseline: u64,
}

/// Binds the endpoint (loopback only) and serves it on its own thread.
pub fn spawn(listen: SocketAddr, state: AdminState) -> io::Result<SocketAddr> {
    if !listen.ip().is_loopback() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("admin endpoint {listen} must be a loopback address"),
        ));
    }
    let listener = TcpListener::bind(listen)?;
    let local = listener.local_addr()?;
    let state = Arc::new(state);
    let sessions = Arc::new(AtomicUsize::new(0));
    let greeters = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("admin".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let Some(greeter) = Slot::take(&greeters, MAX_GREETERS) else {
                    let _ = refuse_busy(stream);
                    continue;
                };
                let (state, sessions) = (state.clone(), sessions.clone());
                let _ = std::thread::Builder::new()
                    .name("admin-session".into())
                    .spawn(move || {
                        if let Err(e) = serve(stream, &state, greeter, &sessions) {
                            log::debug!("admin session ended: {e}");
                        }
                    });
            }
        })?;
    Ok(local)
}

fn refuse_busy(mut stream: TcpStream) -> io::Result<()> {
    let line = json!({"ok": false, "error": "too many admin sessions"});
    writeln!(stream, "{line}")
}

/// Parses one request line as `serve` reads it: at most
/// [`MAX_REQUEST_LINE`] bytes (the line ending included; `serve` reads one
/// byte more so it can tell), then one JSON [`AdminRequest`], trailing
/// whitespace ignored.
///
/// The error is the text the endpoint answers, as
/// `{"ok": false, "error": ...}`, before it closes the session. The admin
/// token is not checked here: that needs the server's state, and `serve`
/// does it next. This is the whole of what a client's bytes reach before
/// the token check, and the `admin_line` fuzz target (`massd/fuzz`) calls it.
pub fn parse_request(line: &str) -> Result<AdminRequest, String> {
    if line.len() > MAX_REQUEST_LINE {
        return Err("request line too long".to_owned());
    }
    serde_json::from_str(line.trim_end()).map_err(|e| format!("bad request: {e}"))
}

/// Serves one connection: the first line under the greeter's slot and
/// deadline; a session slot only once a request showed the token.
fn serve(
    stream: TcpStream,
    state: &AdminState,
    greeter: Slot,
    sessions: &Arc<AtomicUsize>,
) -> io::Result<()> {
    // A console that stops reading a dump must not hold a session forever.
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(Paced {
        stream: stream.try_clone()?,
        deadline: Some(Instant::now() + FIRST_LINE_WITHIN),
    });
    let mut out = BufWriter::new(stream);
    let stop_after = AtomicBool::new(false);
    let mut greeter = Some(greeter);
    let mut _session = None;
    loop {
        let mut line = String::new();
        let n = (&mut reader)
            .take(MAX_REQUEST_LINE as u64 + 1)
            .read_line(&mut line)?;
        if n == 0 {
            return Ok(());
        }
        let request = match parse_request(&line) {
            Ok(r) => r,
            Err(error) => {
                writeln!(out, "{}", json!({"ok": false, "error": error}))?;
                // Sessions are few: one that does not speak the protocol
                // (or sends a line over the limit) is not kept.
                return out.flush();
            }
        };
        // Which process answers here, without the token: the launcher
        // checks that the endpoint is its child's before it trusts it, and
        // must not hand its token to whoever else holds the port. A pid is
        // public in /proc anyway; one answer, then the connection closes.
        if request.cmd == "pid" {
            writeln!(out, "{}", json!({"ok": true, "pid": std::process::id()}))?;
            return out.flush();
        }
        if state.token.is_empty() || !same(&request.token, &state.token) {
            writeln!(out, "{}", json!({"ok": false, "error": "bad admin token"}))?;
            return out.flush();
        }
        if greeter.take().is_some() {
            match Slot::take(sessions, MAX_SESSIONS) {
                Some(slot) => _session = Some(slot),
                None => {
                    writeln!(
                        out,
                        "{}",
                        json!({"ok": false, "error": "too many admin sessions"})
                    )?;
                    return out.flush();
                }
            }
            reader.get_mut().deadline = None;
        }
        answer(&request, state, &mut out, &stop_after)?;
        out.flush()?;
        if stop_after.load(Ordering::Acquire) {
            state.trigger.shutdown();
            return Ok(());
        }
    }
}

fn answer(
    request: &AdminRequest,
    state: &AdminState,
    out: &mut impl Write,
    stop_after: &AtomicBool,
) -> io::Result<()> {
    match request.cmd.as_str() {
        "stats" => {
            let threads: Vec<ThreadReport> = stats::report(&state.stats);
            let process = ProcessReport {
                pid: std::process::id(),
                node_id: state.node_id.clone(),
                listen: state.listen.iter().map(|a| a.to_string()).collect(),
                rss_bytes: rss_bytes().unwrap_or(0),
                rss_baseline_bytes: state.rss_baseline,
                uptime_s: state.started.elapsed().as_secs(),
                connections: threads.iter().map(|t| t.connections).sum(),
                updates: threads.iter().map(|t| t.updates).sum(),
                updates_per_sec: threads.iter().map(|t| t.updates_per_sec).sum(),
                threads,
            };
            writeln!(out, "{}", json!({"ok": true, "stats": process}))
        }
        "config" => writeln!(out, "{}", json!({"ok": true, "config": state.config_toml})),
        "shutdown" => {
            stop_after.store(true, Ordering::Release);
            writeln!(out, "{}", json!({"ok": true, "stopping": state.node_id}))
        }
        "dump" => match gather(state) {
            Ok(entries) => {
                let start = request.offset.min(entries.len());
                let end = match request.limit {
                    Some(limit) => start.saturating_add(limit).min(entries.len()),
                    None => entries.len(),
                };
                let header = json!({"ok": true, "total": entries.len(), "offset": start, "count": end - start});
                writeln!(out, "{header}")?;
                for e in &entries[start..end] {
                    let open = if e.open { "open" } else { "closed" };
                    writeln!(out, "{} {} {} {open}", e.key, e.local, e.count)?;
                }
                writeln!(out, "{}", json!({"end": true, "count": end - start}))
            }
            Err(e) => writeln!(out, "{}", json!({"ok": false, "error": e})),
        },
        other => writeln!(
            out,
            "{}",
            json!({"ok": false, "error": format!("unknown command {other:?}; try stats, dump, config, shutdown")})
        ),
    }
}

/// Every reactor's counters, sorted by key.
fn gather(state: &AdminState) -> Result<Vec<Entry>, String> {
    let reactors = state
        .reactors
        .lock()
        .map_err(|_| "reactor list poisoned")?
        .clone();
    let mut waiting = Vec::with_capacity(reactors.len());
    for reactor in &reactors {
        let (tx, rx) = bounded(1);
        reactor
            .send(AdminAsk::Dump(tx))
            .map_err(|_| "a reactor's queue is full; try again".to_owned())?;
        waiting.push(rx);
    }
    let mut all = Vec::new();
    for rx in waiting {
        let part = rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "a reactor did not answer within 10 s".to_owned())?;
        all.extend(part);
    }
    all.sort_unstable();
    Ok(all)
}

/// This process's resident set size, from `/proc/self/status`.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_line_parses_and_its_faults_are_named() {
        let r = parse_request("{\"token\":\"t\",\"cmd\":\"dump\",\"limit\":3}\r\n").unwrap();
        assert_eq!((r.token.as_str(), r.cmd.as_str()), ("t", "dump"));
        assert_eq!((r.offset, r.limit), (0, Some(3)));
        let long = format!(
            "{{\"token\":\"{}\",\"cmd\":\"stats\"}}\n",
            "a".repeat(MAX_REQUEST_LINE)
        );
        assert_eq!(parse_request(&long).unwrap_err(), "request line too long");
        assert!(parse_request("stats\n")
            .unwrap_err()
            .starts_with("bad request: "));
        assert!(parse_request("{\"cmd\":\"stats\"}\n")
            .unwrap_err()
            .starts_with("bad request: "));
    }
}
