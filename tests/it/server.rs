//! Starts and stops the `wrangler dev` the tests run against.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The secret the test server signs tokens with, so tests can mint their own.
pub const JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

/// Hubs of users whose name starts with this answer pushes late…
pub const SLOW_HUB_PREFIX: &str = "slowhub";
/// …by this many milliseconds.
pub const SLOW_HUB_MS: u64 = 10_000;

/// Rooms whose name starts with this lose a share of their D1 batches…
pub const FAULTY_ROOM_PREFIX: &str = "faulty";
/// …this many percent.
pub const FAULTY_PERCENT: u32 = 30;

const HEALTH_TIMEOUT: Duration = Duration::from_secs(90);

/// A running `wrangler dev` with its own fresh state; stopped on drop.
pub struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
    persist: PathBuf,
    extra_vars: Vec<String>,
    state: TempDir,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wrangler(state: &Path) -> Command {
    let mut cmd = Command::new(root().join("node_modules/.bin/wrangler"));
    cmd.current_dir(root())
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", state.join("config"));
    cmd
}

/// The configuration of the test server, as `NAME:value` pairs.
fn vars(port: u16) -> Vec<String> {
    vec![
        format!("JWT_SECRET:{JWT_SECRET}"),
        // The browser tests load the client from this server, so its own
        // origin must be allowed to open sockets.
        format!(
            "ALLOWED_ORIGINS:http://127.0.0.1:8787,http://localhost:8787,http://127.0.0.1:{port}"
        ),
        "LIMIT_AUTH_PER_MINUTE:10".to_owned(),
        "LIMIT_MSG_BURST:10".to_owned(),
        "LIMIT_MSG_PER_SECOND:5".to_owned(),
        // Local-development faults for the resilience tests.
        format!("DEV_FAULT_SLOW_HUB_MS:{SLOW_HUB_MS}"),
        format!("DEV_FAULT_SLOW_HUB_PREFIX:{SLOW_HUB_PREFIX}"),
        format!("DEV_FAULT_D1_FAIL_PERCENT:{FAULTY_PERCENT}"),
        format!("DEV_FAULT_D1_ROOM_PREFIX:{FAULTY_ROOM_PREFIX}"),
    ]
}

impl Server {
    /// Applies the migrations to a fresh state directory, starts the server
    /// and waits for `/health`.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Like [`Server::start`], with `NAME:value` vars that override the
    /// test configuration.
    pub async fn start_with(extra_vars: &[String]) -> Self {
        let index = root().join("build/index.js");
        assert!(
            index.exists(),
            "{} is missing: run `make build` (or `make it`) first",
            index.display()
        );
        let state = tempfile::tempdir().expect("temp dir");
        let persist = state.path().join("state");
        let log = state.path().join("wrangler.log");

        let migrate = wrangler(state.path())
            .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
            .arg(&persist)
            .output()
            .expect("run wrangler d1 migrations apply");
        assert!(
            migrate.status.success(),
            "migrations failed:\n{}{}",
            String::from_utf8_lossy(&migrate.stdout),
            String::from_utf8_lossy(&migrate.stderr)
        );

        let port = free_port();
        let child = spawn(state.path(), &persist, &log, port, extra_vars);
        let mut server = Self {
            child,
            port,
            log,
            persist,
            extra_vars: extra_vars.to_vec(),
            state,
        };
        server.wait_healthy().await;
        server
    }

    /// Kills the runtime at once (`kill -9` of wrangler and workerd): no
    /// request finishes, nothing is flushed.
    pub fn crash(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port and persisted state.
    pub async fn restart(&mut self) {
        self.child = spawn(
            self.state.path(),
            &self.persist,
            &self.log,
            self.port,
            &self.extra_vars,
        );
        self.wait_healthy().await;
    }
}

/// Starts `wrangler dev` on `port` over `persist`, appending its output to `log`.
fn spawn(state: &Path, persist: &Path, log: &Path, port: u16, extra_vars: &[String]) -> Child {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    let mut cmd = wrangler(state);
    cmd.args([
        "dev",
        "--ip",
        "127.0.0.1",
        "--show-interactive-dev-session=false",
    ])
    .args(["--port", &port.to_string()])
    .args(["--inspector-port", &free_port().to_string()])
    .arg("--persist-to")
    .arg(persist)
    .stdin(Stdio::null())
    .stdout(log_file.try_clone().expect("log file"))
    .stderr(log_file);
    // Every var is given here, so a developer's .dev.vars cannot change the tests.
    for var in vars(port).iter().chain(extra_vars) {
        cmd.args(["--var", var]);
    }
    // Its own process group, so stopping it also stops workerd.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.spawn().expect("spawn wrangler dev")
}

impl Server {
    async fn wait_healthy(&mut self) {
        let started = Instant::now();
        let url = format!("{}/health", self.base_url());
        let http = reqwest::Client::new();
        loop {
            if let Ok(r) = http.get(&url).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                self.print_log();
                panic!("wrangler dev exited early with {status}");
            }
            if started.elapsed() > HEALTH_TIMEOUT {
                self.print_log();
                panic!("no healthy server after {HEALTH_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Prints the server's output, for a failed run.
    pub fn print_log(&self) {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        eprintln!(
            "===== wrangler dev log ({}) =====\n{log}\n===== end of log =====",
            self.log.display()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Whatever is left of the group (workerd children included) goes now.
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
