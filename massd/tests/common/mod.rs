//! What every massd test needs: free loopback ports, a config file in a
//! temporary run directory, and real `massd` processes that are killed when
//! the test ends, pass or fail.

#![allow(dead_code, unused_imports)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const TOKEN: &str = "admin-token-for-tests";

pub fn massd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_massd"))
}

/// `n` ports free right now on 127.0.0.1, consecutive ones when `run` is
/// asked (the admin ports of a fleet are `base + index`).
pub fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    held.iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// A base port with `n` free ports after it.
pub fn free_range(n: u16) -> u16 {
    'search: for _ in 0..50 {
        let base = free_ports(1)[0];
        if base > 60_000 {
            continue;
        }
        let mut held = Vec::new();
        for p in base..base + n {
            match TcpListener::bind(("127.0.0.1", p)) {
                Ok(l) => held.push(l),
                Err(_) => continue 'search,
            }
        }
        return base;
    }
    panic!("no free port range");
}

/// A temporary fleet directory with its `mass.toml`.
pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub ports: Vec<u16>,
    pub admin: u16,
    children: Vec<Child>,
}

impl Fleet {
    /// A config with `ports` server ports, an admin base port and `extra`
    /// TOML lines on top.
    pub fn new(ports: usize, extra: &str) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let ports = free_ports(ports);
        let admin = free_range(4);
        let list: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
        let text = format!(
            "server_port_list = [{}]\nrun_dir = \"{}\"\n{extra}\n[admin]\nlisten = \"127.0.0.1:{admin}\"\ntoken = \"{TOKEN}\"\n",
            list.join(", "),
            dir.path().join("run").display()
        );
        std::fs::write(dir.path().join("mass.toml"), text).unwrap();
        Fleet {
            dir,
            ports,
            admin,
            children: Vec::new(),
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("mass.toml")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn addr(&self, i: usize) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.ports[i]))
    }

    pub fn admin_addr(&self, index: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.admin + index))
    }

    /// `massd <sub> --config <this fleet's file> <args…>`.
    pub fn cmd(&self, sub: &str, args: &[&str]) -> Command {
        let mut c = massd();
        c.arg(sub).arg("--config").arg(self.config()).args(args);
        c
    }

    /// Starts a server process and waits for its "listening" line.
    pub fn serve(&mut self, args: &[&str]) -> usize {
        let mut child = self
            .cmd("serve", args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("listening"), "server did not start: {line:?}");
        self.children.push(child);
        self.children.len() - 1
    }

    pub fn child(&mut self, i: usize) -> &mut Child {
        &mut self.children[i]
    }

    /// Runs a command to the end.
    pub fn run(&self, sub: &str, args: &[&str]) -> Output {
        self.cmd(sub, args).output().unwrap()
    }

    /// `massd ctl --admin <endpoint> <args…>`, which must succeed.
    pub fn ctl(&self, index: u16, args: &[&str]) -> String {
        let admin = self.admin_addr(index).to_string();
        let mut all = vec!["--admin", admin.as_str()];
        all.extend_from_slice(args);
        let out = self.run("ctl", &all);
        assert!(
            out.status.success(),
            "ctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = massd()
            .arg("stop")
            .arg("--config")
            .arg(self.config())
            .output();
    }
}

/// The client summary printed with `--json`.
pub fn summary(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "no JSON summary ({e}): stdout {text:?} stderr {:?}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub use throng_testkit::eventually;

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}
