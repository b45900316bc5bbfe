//! Starts a `wrangler dev` pinned to one core and reads its CPU time.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A running server with fresh state; stopped on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    _state: TempDir,
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
        let wrangler = root().join("node_modules/.bin/wrangler");
        let state = tempfile::tempdir().expect("temp dir");
        let persist = state.path().join("state");
        let env = |c: &mut Command| {
            c.current_dir(dir)
                .env("WRANGLER_SEND_METRICS", "false")
                .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
                .env("CI", "true")
                .env("NO_COLOR", "1");
        };
        if migrate {
            let mut m = Command::new(&wrangler);
            env(&mut m);
            let out = m
                .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
                .arg(&persist)
                .output()
                .expect("migrations");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for sql in seed {
            let mut m = Command::new(&wrangler);
            env(&mut m);
            let out = m
                .args(["d1", "execute", "DB", "--local", "--persist-to"])
                .arg(&persist)
                .args(["--command", sql])
                .output()
                .expect("seed");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let port = free_port();
        let log = File::create(state.path().join("wrangler.log")).expect("log");
        let mut cmd = Command::new("taskset");
        env(&mut cmd);
        cmd.args(["-c", cpu])
            .arg(&wrangler)
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
            .arg(&persist)
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
        let server = Self {
            child,
            port,
            _state: state,
        };
        server.wait_healthy();
        server
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

    /// The process group of the server's processes.
    pub fn group(&self) -> u32 {
        self.child.id()
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
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
