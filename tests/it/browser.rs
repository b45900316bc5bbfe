//! The web client: its security headers, and the browser tests
//! (`tests/browser/run.mjs`, playwright-core driving Debian's Chromium)
//! against this run's server.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::base_url;

/// The whole browser run, with room for a slow, shared machine.
const BROWSER_TIMEOUT: Duration = Duration::from_mins(5);

/// Where Debian's `chromium` package puts the browser.
const CHROMIUM: &str = "/usr/bin/chromium";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

async fn get(path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", base_url()))
        .await
        .expect("request")
}

pub async fn static_client_has_strict_csp() {
    let resp = get("/").await;
    assert_eq!(resp.status(), 200);
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .unwrap_or_else(|| panic!("{name} header on /"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let csp = header("content-security-policy");
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for want in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(directives.contains(&want), "{want} in {csp}");
    }
    assert!(!csp.contains("unsafe-"), "{csp}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");

    // The page needs nothing the policy forbids: no inline script or style.
    let html = resp.text().await.unwrap();
    assert!(html.contains("<title>edgechat</title>"));
    assert!(!html.contains("<style"), "inline <style>");
    assert!(!html.contains(" style="), "inline style attribute");
    for tag in html.split("<script").skip(1) {
        let open = &tag[..tag.find('>').expect("closed tag")];
        assert!(open.contains("src=\"/"), "inline <script{open}>");
    }
    let script = get("/js/main.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.headers().contains_key("content-security-policy"));
}

/// Runs `tests/browser/run.mjs`; panics with its output unless it passes
/// in time.
fn run_browser() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `make setup` installs Debian's chromium"
    );
    let shots = root().join("target/browser");
    let mut cmd = Command::new("node");
    cmd.current_dir(root())
        .arg("tests/browser/run.mjs")
        .arg(base_url())
        .arg("--screenshots")
        .arg(&shots)
        .env("CHROMIUM", CHROMIUM)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so a timeout also stops the browser.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let started = Instant::now();
    let mut child = cmd.spawn().expect("run node (is Node.js installed?)");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break Some(status);
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = format!(
        "{}{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    match status {
        Some(s) if s.success() => {}
        Some(s) => panic!("browser tests failed ({s}):\n{output}"),
        None => panic!("browser tests took over {BROWSER_TIMEOUT:?}:\n{output}"),
    }
}

/// Two people in two browser contexts: sign-up, rooms, chat both ways,
/// typing, presence, reply, edit, delete, DMs, invitations, reload, markup
/// shown as text, offline and back, a lost ack, keyboard-only use, and a
/// mention lighting up the other person's notification indicator.
pub async fn client_in_chromium() {
    // Off the async runtime; its panic is the test's.
    if let Err(e) = tokio::task::spawn_blocking(run_browser).await {
        std::panic::resume_unwind(e.into_panic());
    }
}
