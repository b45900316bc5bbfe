//! Starts a `wrangler dev` pinned to one core and reads its CPU time.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A running server with fresh state; stopped on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    dir: PathBuf,
    cpu: String,
    vars: Vec<String>,
    persist: PathBuf,
    state: TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn wrangler(dir: &Path) -> Command {
    let mut c = Command::new(root().join("node_modules/.bin/wrangler"));
    c.current_dir(dir)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("CI", "true")
        .env("NO_COLOR", "1");
    c
}

/// Runs `wrangler d1 <args> --local` against the state in `persist`.
fn d1(dir: &Path, persist: &Path, args: &[&str]) {
    let out = wrangler(dir)
        .arg("d1")
        .args(args)
        .args(["--local", "--persist-to"])
        .arg(persist)
        .output()
        .expect("wrangler d1");
    assert!(
        out.status.success(),
        "wrangler d1 {}: {}{}",
        args.first().unwrap_or(&""),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Server {
    /// Starts `wrangler dev` for the config in `dir` on `cpu`, with `vars`,
    /// after applying D1 migrations when `migrate`.
    pub fn start(dir: &Path, cpu: &str, vars: &[String], migrate: bool) -> Self {
        Self::start_seeded(dir, cpu, vars, migrate, &[])
    }

    /// As [`Server::start`], then runs each of `seed` (SQL) against the local
    /// D1 before the server starts.
    pub fn start_seeded(
        dir: &Path,
        cpu: &str,
        vars: &[String],
        migrate: bool,
        seed: &[String],
    ) -> Self {
        let state = tempfile::tempdir().expect("temp dir");
        let persist = state.path().join("state");
        if migrate {
            d1(dir, &persist, &["migrations", "apply", "DB"]);
        }
        for sql in seed {
            d1(dir, &persist, &["execute", "DB", "--yes", "--command", sql]);
        }
        let (child, port) = spawn(dir, cpu, vars, &persist, state.path());
        let server = Self {
            child,
            port,
            dir: dir.to_owned(),
            cpu: cpu.to_owned(),
            vars: vars.to_vec(),
            persist,
            state,
        };
        server.wait_healthy();
        server
    }

    /// Stops the server, runs `f` (nothing has the state open meanwhile)
    /// and starts the server again on the same state.
    pub fn stopped(&mut self, f: impl FnOnce(&Self)) {
        self.stop();
        f(self);
        self.restart();
    }

    /// Runs the SQL file `sql` against the local D1 of a stopped server;
    /// how long that took, `wrangler`'s own start included.
    pub fn d1_file(&self, sql: &Path) -> Duration {
        let started = Instant::now();
        let file = sql.to_string_lossy();
        d1(
            &self.dir,
            &self.persist,
            &["execute", "DB", "--yes", "--file", &file],
        );
        started.elapsed()
    }

    /// Stops the server and starts it again on the same state (every
    /// Durable Object starts cold).
    pub fn restart(&mut self) {
        self.stop();
        let (child, port) = spawn(
            &self.dir,
            &self.cpu,
            &self.vars,
            &self.persist,
            self.state.path(),
        );
        self.child = child;
        self.port = port;
        self.wait_healthy();
    }

    /// How many bytes the server has logged so far.
    pub fn log_len(&self) -> u64 {
        std::fs::metadata(self.state.path().join("wrangler.log")).map_or(0, |m| m.len())
    }

    /// What the server logged after the first `from` bytes.
    pub fn log_from(&self, from: u64) -> String {
        let all = std::fs::read(self.state.path().join("wrangler.log")).unwrap_or_default();
        let from = usize::try_from(from).unwrap_or(usize::MAX).min(all.len());
        String::from_utf8_lossy(&all[from..]).into_owned()
    }

    /// The process group of the server's processes.
    pub fn group(&self) -> u32 {
        self.child.id()
    }

    fn stop(&mut self) {
        if self.child.try_wait().is_ok_and(|s| s.is_some()) {
            return;
        }
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }

    fn wait_healthy(&self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_mins(2) {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                let out = Command::new("curl")
                    .args(["-sf", &format!("http://127.0.0.1:{}/health", self.port)])
                    .output();
                if out.is_ok_and(|o| o.status.success()) {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("server on {} never became healthy", self.port);
    }

    /// CPU time (user + system) of every process of the server, in µs.
    pub fn cpu_micros(&self) -> u64 {
        let group = self.child.id();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return 0;
        };
        dir.flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter_map(|stat| process_cpu(&stat))
            .filter(|(pgrp, _)| *pgrp == group)
            .map(|(_, us)| us)
            .sum()
    }
}

/// CPU time of this process in µs, to tell whether the load generator saturated.
pub fn own_cpu_micros() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| process_cpu(&s))
        .map_or(0, |(_, us)| us)
}

/// The process group and CPU time (user + system, µs) in a `/proc/*/stat` line.
pub fn process_cpu(stat: &str) -> Option<(u32, u64)> {
    // The fields after the command name, which may hold spaces:
    // [0] state, [2] process group, [11] utime, [12] stime, in 1/100 s.
    let (_, rest) = stat.rsplit_once(')')?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some((f.get(2)?.parse().ok()?, ticks * 10_000))
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Spawns `wrangler dev` in its own process group; the child and its port.
fn spawn(dir: &Path, cpu: &str, vars: &[String], persist: &Path, logs: &Path) -> (Child, u16) {
    let port = free_port();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logs.join("wrangler.log"))
        .expect("log");
    let mut cmd = Command::new("taskset");
    cmd.current_dir(dir)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("CI", "true")
        .env("NO_COLOR", "1");
    cmd.args(["-c", cpu])
        .arg(root().join("node_modules/.bin/wrangler"))
        .args([
            "dev",
            "--ip",
            "127.0.0.1",
            "--show-interactive-dev-session=false",
        ])
        .args([
            "--port",
            &port.to_string(),
            "--inspector-port",
            &free_port().to_string(),
        ])
        .arg("--persist-to")
        .arg(persist)
        .args(["--log-level", "warn"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log);
    for v in vars {
        cmd.args(["--var", v]);
    }
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd
        .spawn()
        .expect("spawn wrangler dev (is taskset installed?)");
    (child, port)
}
