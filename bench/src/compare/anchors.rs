//! The servers `bench compare` starts for itself and stops when done: the
//! core ping server, two massd servers (one reactor thread, like Redis, and
//! one per core), a third on the original scenario's ten ports, a
//! redis-server with a random password fed through stdin, and an nginx
//! (its config generated) and a hyper server (`hyper-anchor`) that both
//! serve exactly the bytes webd answers to `GET /login`. webd itself is
//! the stack's (`make up`).

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PING: &str = "127.0.0.1:17070";
pub const PING_ONE: &str = "127.0.0.1:17071";
pub const MASSD: &str = "127.0.0.1:17677";
pub const MASSD_PER_CORE: &str = "127.0.0.1:17678";
pub const REDIS: &str = "127.0.0.1:17380";
pub const NGINX: &str = "127.0.0.1:17080";
pub const HYPER: &str = "127.0.0.1:17081";
pub const WEBD: &str = "127.0.0.1:9090";
/// The original's scenario (ten ports of its own, 29101-29110), served by
/// one massd process with one reactor per core; bench/original.sh runs
/// the ten-process form beside it.
pub const ORIGINAL_CONFIG: &str = "bench/mass/original.toml";
const ORIGINAL_ADMIN: &str = "127.0.0.1:29200";

/// Everything started; dropping it stops everything.
pub struct Anchors {
    children: Vec<Child>,
    nginx_conf: Option<PathBuf>,
    pub redis_password: String,
    pub nginx_version: String,
    pub redis_version: String,
}

impl Drop for Anchors {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(conf) = &self.nginx_conf {
            let prefix = conf.parent().unwrap_or(Path::new("."));
            let _ = Command::new("nginx")
                .arg("-c")
                .arg(conf)
                .arg("-p")
                .arg(prefix)
                .args(["-s", "stop"])
                .output();
        }
    }
}

fn wait_listening(addr: &str, what: &str) -> Result<(), String> {
    let addr: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{what} did not listen on {addr} within 15 s"))
}

fn version(program: &str, arg: &str) -> String {
    Command::new(program)
        .arg(arg)
        .output()
        .map(|o| {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            text.lines().next().unwrap_or("").trim().to_owned()
        })
        .unwrap_or_else(|_| "not installed".into())
}

/// The body webd answers to `GET /login`.
pub fn fetch_login_page() -> Result<Vec<u8>, String> {
    let mut s = TcpStream::connect(WEBD)
        .map_err(|e| format!("webd is not up at {WEBD} ({e}): run `make up` first"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET /login HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    s.read_to_end(&mut all).map_err(|e| e.to_string())?;
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("webd's answer has no head")?;
    let head = String::from_utf8_lossy(&all[..end]);
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "webd answered GET /login with {}",
            head.lines().next().unwrap_or("")
        ));
    }
    Ok(all[end + 4..].to_vec())
}

fn spawn(cmd: &mut Command, log: &Path) -> Result<Child, String> {
    let file = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    cmd.stdout(file)
        .stderr(err)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("{:?}: {e}", cmd.get_program()))
}

/// Starts every anchor; `work` is where configs and logs go.
pub fn start(bin: &Path, work: &Path) -> Result<Anchors, String> {
    fs::create_dir_all(work.join("nginx/logs")).map_err(|e| e.to_string())?;
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    let mut anchors = Anchors {
        children: Vec::new(),
        nginx_conf: None,
        redis_password: hex::encode(bytes),
        nginx_version: version("nginx", "-v"),
        redis_version: version("redis-server", "--version"),
    };
    let bench = bin.join("bench");
    let massd = bin.join("massd");
    anchors.children.push(spawn(
        Command::new(&bench).args(["serve-ping", "--listen", PING]),
        &work.join("ping.log"),
    )?);
    // One reactor thread, as redis-server has one.
    anchors.children.push(spawn(
        Command::new(&bench).args(["serve-ping", "--listen", PING_ONE, "--threads", "1"]),
        &work.join("ping-one.log"),
    )?);
    for (listen, threads, admin) in [(MASSD, "1", "17690"), (MASSD_PER_CORE, "0", "17691")] {
        anchors.children.push(spawn(
            Command::new(&massd).args([
                "serve",
                "--config",
                "deploy/config/mass.toml",
                "--set",
                "log_switch=false",
                "--set",
                &format!("reactor.listen=[\"{listen}\"]"),
                "--threads",
                threads,
                "--set",
                &format!("admin.listen=\"127.0.0.1:{admin}\""),
                "--set",
                "admin.token=\"bench-compare\"",
                "--set",
                "client_num_per_host=1000",
            ]),
            &work.join(format!("massd-{admin}.log")),
        )?);
    }
    anchors.children.push(spawn(
        Command::new(&massd).args(["serve", "--config", ORIGINAL_CONFIG, "--threads", "0"]),
        &work.join("massd-original.log"),
    )?);
    // Redis reads its password from stdin: never on a command line.
    let mut redis = Command::new("redis-server")
        .args(["-", "--bind", "127.0.0.1", "--port", "17380", "--save", ""])
        .args([
            "--appendonly",
            "no",
            "--maxclients",
            "19000",
            "--tcp-backlog",
            "4096",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("redis-server: {e} (install it: deploy/deps.sh stores)"))?;
    redis
        .stdin
        .take()
        .ok_or("no stdin for redis-server")?
        .write_all(format!("requirepass {}\n", anchors.redis_password).as_bytes())
        .map_err(|e| e.to_string())?;
    anchors.children.push(redis);

    let page = fetch_login_page()?;
    fs::write(work.join("nginx/login.html"), &page).map_err(|e| e.to_string())?;
    let nginx = work.join("nginx");
    let conf = nginx.join("nginx.conf");
    fs::write(
        &conf,
        format!(
            "worker_processes auto;\npid {n}/nginx.pid;\nerror_log {n}/logs/error.log warn;\n\
             events {{ worker_connections 20000; }}\nworker_rlimit_nofile 20000;\n\
             http {{\n    access_log off;\n    keepalive_requests 10000000;\n    server {{\n        \
             listen {NGINX} reuseport backlog=4096;\n        location = /login {{\n            \
             default_type \"text/html; charset=utf-8\";\n            alias {n}/login.html;\n        }}\n    }}\n}}\n",
            n = nginx.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let out = Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(&nginx)
        .output()
        .map_err(|e| format!("nginx: {e} (install it: deploy/deps.sh bench)"))?;
    if !out.status.success() {
        return Err(format!(
            "nginx did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    anchors.nginx_conf = Some(conf);
    let hyper_listen = HYPER.to_string();
    let page_path = work.join("nginx/login.html");
    anchors.children.push(spawn(
        Command::new(bin.join("hyper-anchor")).args([
            "--listen".as_ref(),
            hyper_listen.as_ref(),
            "--page".as_ref(),
            page_path.as_os_str(),
        ]),
        &work.join("hyper.log"),
    )?);
    for (addr, what) in [
        (PING, "the ping server"),
        (PING_ONE, "the ping server (1 reactor)"),
        (HYPER, "the hyper anchor"),
        (MASSD, "massd"),
        (MASSD_PER_CORE, "massd (per core)"),
        // Its admin port: a probe of a counter port would leave a key.
        (ORIGINAL_ADMIN, "massd (the original's scenario)"),
        (REDIS, "redis-server"),
        (NGINX, "nginx"),
    ] {
        wait_listening(addr, what)?;
    }
    Ok(anchors)
}
