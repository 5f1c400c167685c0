//! `massd ctl`, the ops console (the original's omclient): one-shot
//! subcommands or an interactive prompt, talking to the admin endpoint of
//! every server process of the fleet (from the launcher's state file, or
//! `--admin` addresses) with the admin token.

use crate::admin_wire::{AdminRequest, ProcessReport};
use crate::config::Config;
use crate::token_file;
use crate::topology::State;
use clap::{Parser, Subcommand};
use serde_json::Value;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Subcommand)]
pub enum CtlCommand {
    /// Connections, updates/s and memory, per process and per thread.
    Stats,
    /// The key → count data, a page at a time or all of it to a file.
    Dump {
        /// First entry (in key order) of the page.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Entries per process on the page.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Write every entry of every process here instead (`key server count
        /// open|closed` lines).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The effective configuration of each process.
    Config,
    /// Stop every server process gracefully.
    Shutdown,
}

/// The interactive prompt's grammar: the same subcommands plus help/quit.
#[derive(Debug, Parser)]
#[command(name = "", no_binary_name = true, disable_help_subcommand = true)]
struct PromptLine {
    #[command(subcommand)]
    command: PromptCommand,
}

#[derive(Debug, Subcommand)]
enum PromptCommand {
    #[command(flatten)]
    Ctl(CtlCommand),
    /// List the commands.
    Help,
    /// Leave the console.
    Quit,
}

#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}: {1}")]
    Endpoint(SocketAddr, String),
}

/// The admin endpoints to talk to.
pub fn endpoints(config: &Config, given: &[SocketAddr]) -> Vec<SocketAddr> {
    if !given.is_empty() {
        return given.to_vec();
    }
    match State::load(config) {
        Ok(Some(state)) => state.admin_endpoints(),
        _ => vec![config.admin.listen],
    }
}

pub fn run(
    config: &Config,
    given: &[SocketAddr],
    command: Option<CtlCommand>,
) -> Result<(), CtlError> {
    // The token travels in clear: only to this host's endpoints.
    if let Some(far) = given.iter().find(|a| !a.ip().is_loopback()) {
        return Err(CtlError::Endpoint(
            *far,
            "admin endpoints listen on loopback only; run the console on that host".into(),
        ));
    }
    let token = token_file::read(config)?;
    let targets = endpoints(config, given);
    let console = Console { token, targets };
    match command {
        Some(c) => console.execute(&c, &mut io::stdout().lock()),
        None => console.interactive(),
    }
}

struct Console {
    token: String,
    targets: Vec<SocketAddr>,
}

const HELP: &str = "commands:
  stats                               connections, updates/s, memory per process and thread
  dump [--offset N] [--limit N]       a page of key -> count, in key order
  dump --out FILE                     every entry of every process to FILE
  config                              the effective config of each process
  shutdown                            stop every server process gracefully
  help                                this list
  quit                                leave";

impl Console {
    fn interactive(&self) -> Result<(), CtlError> {
        println!(
            "massd console for {} process(es); `help` lists the commands",
            self.targets.len()
        );
        let stdin = io::stdin();
        let mut out = io::stdout().lock();
        loop {
            write!(out, "massd> ")?;
            out.flush()?;
            let mut line = String::new();
            if stdin.lock().read_line(&mut line)? == 0 {
                return Ok(());
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.is_empty() {
                continue;
            }
            match PromptLine::try_parse_from(&words) {
                Ok(PromptLine {
                    command: PromptCommand::Help,
                }) => writeln!(out, "{HELP}")?,
                Ok(PromptLine {
                    command: PromptCommand::Quit,
                }) => return Ok(()),
                Ok(PromptLine {
                    command: PromptCommand::Ctl(c),
                }) => {
                    if let Err(e) = self.execute(&c, &mut out) {
                        writeln!(out, "error: {e}")?;
                    }
                }
                Err(e) => writeln!(out, "{}", e.to_string().trim_end())?,
            }
        }
    }

    fn execute(&self, command: &CtlCommand, out: &mut impl Write) -> Result<(), CtlError> {
        match command {
            CtlCommand::Stats => self.stats(out),
            CtlCommand::Config => self.each(out, |me, addr, out| {
                let v = me.simple(addr, "config")?;
                writeln!(out, "# {addr}\n{}", v["config"].as_str().unwrap_or(""))?;
                Ok(())
            }),
            CtlCommand::Shutdown => self.each(out, |me, addr, out| {
                let v = me.simple(addr, "shutdown")?;
                writeln!(
                    out,
                    "{addr}: stopping {}",
                    v["stopping"].as_str().unwrap_or("?")
                )?;
                Ok(())
            }),
            CtlCommand::Dump {
                offset,
                limit,
                out: None,
            } => {
                for &addr in &self.targets {
                    writeln!(out, "# {addr}")?;
                    let (total, n) = self.dump(addr, *offset, Some(*limit), out)?;
                    writeln!(out, "# {n} of {total} entries from offset {offset}")?;
                }
                Ok(())
            }
            CtlCommand::Dump {
                out: Some(path), ..
            } => {
                // A dead process must not cost the others' counters: each
                // live one's entries are written, the failures named, and
                // the first returned at the end. A dump cut off midway
                // leaves a partial block, so each goes through a buffer.
                let mut file = BufWriter::new(std::fs::File::create(path)?);
                let (mut all, mut answered) = (0, 0);
                let mut first = None;
                let mut block = Vec::new();
                for &addr in &self.targets {
                    block.clear();
                    match self.dump(addr, 0, None, &mut block) {
                        Ok((_, n)) => {
                            file.write_all(&block)?;
                            all += n;
                            answered += 1;
                        }
                        Err(e) => {
                            writeln!(out, "{addr}: {e}")?;
                            first.get_or_insert(e);
                        }
                    }
                }
                file.flush()?;
                writeln!(
                    out,
                    "wrote {all} entries from {answered} of {} process(es) to {}",
                    self.targets.len(),
                    path.display()
                )?;
                first.map_or(Ok(()), Err)
            }
        }
    }

    /// Runs `one` for every endpoint, going on past failures (one dead
    /// process must not hide or spare the others); the first error is
    /// returned at the end.
    fn each<W: Write>(
        &self,
        out: &mut W,
        one: impl Fn(&Self, SocketAddr, &mut W) -> Result<(), CtlError>,
    ) -> Result<(), CtlError> {
        let mut first = None;
        for &addr in &self.targets {
            if let Err(e) = one(self, addr, out) {
                writeln!(out, "{addr}: {e}")?;
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    fn report(&self, addr: SocketAddr) -> Result<ProcessReport, CtlError> {
        let v = self.simple(addr, "stats")?;
        serde_json::from_value(v["stats"].clone())
            .map_err(|e| CtlError::Endpoint(addr, format!("bad stats answer: {e}")))
    }

    /// Every process's report, asked all at once: a fleet of ~100 processes
    /// answers in about the time of its slowest one instead of the sum of
    /// all, and a dead process costs its own connect timeout only.
    fn reports(&self) -> Vec<(SocketAddr, Result<ProcessReport, CtlError>)> {
        std::thread::scope(|scope| {
            let asked: Vec<_> = self
                .targets
                .iter()
                .map(|&addr| (addr, scope.spawn(move || self.report(addr))))
                .collect();
            asked
                .into_iter()
                .map(|(addr, handle)| {
                    let answer = handle.join().unwrap_or_else(|_| {
                        Err(CtlError::Endpoint(addr, "the query thread panicked".into()))
                    });
                    (addr, answer)
                })
                .collect()
        })
    }

    fn stats(&self, out: &mut impl Write) -> Result<(), CtlError> {
        let answers = self.reports();
        writeln!(
            out,
            "{:<22} {:>8} {:<24} {:>9} {:>11} {:>10} {:>10}",
            "process", "pid", "node", "conns", "updates/s", "rss MiB", "B/conn"
        )?;
        // What the connections added to each idle process's RSS.
        let per_conn = |grown: u64, conns: u64| {
            grown
                .checked_div(conns)
                .map_or_else(|| "-".to_owned(), |b| b.to_string())
        };
        let (mut conns, mut rate, mut rss, mut grown, mut answered) = (0, 0, 0, 0, 0);
        let mut first = None;
        for (addr, answer) in answers {
            let report = match answer {
                Ok(r) => r,
                Err(e) => {
                    writeln!(out, "{addr}: {e}")?;
                    first.get_or_insert(e);
                    continue;
                }
            };
            let added = report.rss_bytes.saturating_sub(report.rss_baseline_bytes);
            writeln!(
                out,
                "{:<22} {:>8} {:<24} {:>9} {:>11} {:>10.1} {:>10}",
                addr.to_string(),
                report.pid,
                report.node_id,
                report.connections,
                report.updates_per_sec,
                report.rss_bytes as f64 / 1_048_576.0,
                per_conn(added, report.connections)
            )?;
            for t in &report.threads {
                writeln!(
                    out,
                    "  thread {:<3} conns {:>7}  updates/s {:>9}  updates {:>12}  closed keys {:>8}  evicted {:>6}  dropped {:>4}",
                    t.thread, t.connections, t.updates_per_sec, t.updates, t.closed_keys, t.evicted, t.dropped
                )?;
            }
            conns += report.connections;
            rate += report.updates_per_sec;
            rss += report.rss_bytes;
            grown += added;
            answered += 1;
        }
        writeln!(
            out,
            "{:<22} {:>8} {:<24} {:>9} {:>11} {:>10.1} {:>10}",
            "total",
            "-",
            // One word, so a script splitting the row on whitespace finds
            // the same columns as in a process's row.
            format!("{answered}/{}-answered", self.targets.len()),
            conns,
            rate,
            rss as f64 / 1_048_576.0,
            per_conn(grown, conns)
        )?;
        first.map_or(Ok(()), Err)
    }

    fn connect(
        &self,
        addr: SocketAddr,
        request: &AdminRequest,
    ) -> Result<BufReader<TcpStream>, CtlError> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(|e| {
            CtlError::Endpoint(addr, format!("cannot reach the admin endpoint: {e}"))
        })?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut writer = stream.try_clone()?;
        let line = serde_json::to_string(request).map_err(io::Error::other)?;
        writeln!(writer, "{line}")?;
        Ok(BufReader::new(stream))
    }

    fn request(&self, cmd: &str) -> AdminRequest {
        AdminRequest {
            token: self.token.clone(),
            cmd: cmd.to_owned(),
            offset: 0,
            limit: None,
        }
    }

    /// A one-line answer, checked for `ok`.
    fn simple(&self, addr: SocketAddr, cmd: &str) -> Result<Value, CtlError> {
        let mut reader = self.connect(addr, &self.request(cmd))?;
        let v = read_json(&mut reader, addr)?;
        if v["ok"] != Value::Bool(true) {
            return Err(CtlError::Endpoint(
                addr,
                v["error"].as_str().unwrap_or("refused").to_owned(),
            ));
        }
        Ok(v)
    }

    /// Streams a dump page into `out`; (total entries, entries written).
    fn dump(
        &self,
        addr: SocketAddr,
        offset: usize,
        limit: Option<usize>,
        out: &mut impl Write,
    ) -> Result<(u64, u64), CtlError> {
        let request = AdminRequest {
            offset,
            limit,
            ..self.request("dump")
        };
        let mut reader = self.connect(addr, &request)?;
        let header = read_json(&mut reader, addr)?;
        if header["ok"] != Value::Bool(true) {
            return Err(CtlError::Endpoint(
                addr,
                header["error"].as_str().unwrap_or("refused").to_owned(),
            ));
        }
        let count = header["count"].as_u64().unwrap_or(0);
        let total = header["total"].as_u64().unwrap_or(0);
        let mut line = String::new();
        for _ in 0..count {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Err(CtlError::Endpoint(addr, "the dump ended early".into()));
            }
            out.write_all(line.as_bytes())?;
        }
        let trailer = read_json(&mut reader, addr)?;
        if trailer["end"] != Value::Bool(true) || trailer["count"].as_u64() != Some(count) {
            return Err(CtlError::Endpoint(
                addr,
                "the dump's trailer does not match its header".into(),
            ));
        }
        Ok((total, count))
    }
}

fn read_json(reader: &mut BufReader<TcpStream>, addr: SocketAddr) -> Result<Value, CtlError> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(CtlError::Endpoint(
            addr,
            "the endpoint closed without answering".into(),
        ));
    }
    serde_json::from_str(&line).map_err(|e| CtlError::Endpoint(addr, format!("bad answer: {e}")))
}
