//! S5: many sockets join one room (presence on), then idle while the room
//! hibernates; how long seating takes, whether every socket is held, and
//! what each costs the server in memory.
//!
//! Registering users over HTTP costs an Argon2id hash each, so the users,
//! the room and the memberships are written straight into the local D1
//! before the server starts, and access tokens are signed here with the
//! server's `JWT_SECRET`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use edgechat_core::auth::jwt::{self, Claims, Keys, SigningKey};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::client::Tx;
use crate::server::{process_cpu, root, Server};

/// Written by hand from measurements outside this tool; kept with its output.
const NOTES: &str = r"What the run shows:
- The load generator connects past wrangler's dev proxy, straight to the
  `workerd` that runs edgechat (its port is found among the server's
  processes). Through the proxy, an earlier run lost every socket at about
  3,300: the proxy holds about six open files per client socket, and this
  container's hard limit of 20,000 open files per process cannot be raised
  (`make bench` asks for 65,536 and falls back to the hard limit).
- Seating is bound by the server's one core: while seating, the processes
  pinned to it used about as much CPU as the time it took (edgechat's
  `workerd`, wrangler's `node` and wrangler's other `workerd` together; see
  the table). Only edgechat's `workerd` serves the sockets; the local dev
  tooling takes the rest. Each upgrade verifies a token and reads the user
  and the membership from the local D1 before the room accepts it.
- Presence stays bounded: past 100 users online each socket gets one small
  count-only frame a second, and a welcome names at most 100 users (about
  14 KB) whatever the room's size.
- Memory per socket is measured while the room is awake, just after the
  last welcome.
";

/// Seconds allowed to seat everyone.
const TARGET_SECS: u64 = 60;
/// Seating stops being waited for after this many seconds.
const GIVE_UP_SECS: u64 = 180;
/// Idle time after seating; the room hibernates after about 10 s.
const IDLE_SECS: u64 = 20;
/// Upgrades in flight at once.
const CONCURRENCY: usize = 64;
const ROOM_ID: &str = "00000000-0000-4000-8000-00000000005e";

fn user_id(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

/// SQL writing `n` users, one public room and their memberships.
fn seed(n: usize) -> String {
    let last = n - 1;
    let series =
        format!("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})");
    format!(
        "{series} INSERT INTO users (id, username, display_name, password_hash, created_at) \
         SELECT printf('00000000-0000-4000-8000-%012d', i), printf('seat%05d', i), \
         printf('Seat %d', i), 'none: nobody logs in', 1700000000000 FROM n; \
         INSERT INTO rooms (id, name, name_folded, topic, kind, visibility, created_at) \
         VALUES ('{ROOM_ID}', 'S5 seating', 's5 seating', '', 'room', 'public', 1700000000000); \
         {series} INSERT INTO memberships (room_id, user_id, role, joined_at) \
         SELECT '{ROOM_ID}', printf('00000000-0000-4000-8000-%012d', i), \
         CASE WHEN i = 0 THEN 'owner' ELSE 'member' END, 1700000000000 FROM n;"
    )
}

/// What every socket's reader saw after its `welcome`.
#[derive(Default)]
struct Seen {
    presence: AtomicUsize,
    presence_bytes: AtomicUsize,
    pongs: AtomicUsize,
    gone: AtomicUsize,
}

struct Seat {
    tx: Tx,
    at: Duration,
    welcome_bytes: usize,
    online_count: u64,
    online_listed: usize,
}

async fn seat(url: String, token: String, start: Instant, seen: Arc<Seen>) -> Result<Seat, String> {
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?,
    );
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (tx, mut rx) = ws.split();
    let text = match rx.next().await {
        Some(Ok(Message::Text(t))) => t,
        other => return Err(format!("first frame: {other:?}")),
    };
    let at = start.elapsed();
    let welcome: serde_json::Value =
        serde_json::from_str(text.as_str()).map_err(|e| e.to_string())?;
    if welcome["type"] != "welcome" {
        return Err(format!("first frame: {text}"));
    }
    tokio::spawn(async move {
        while let Some(frame) = rx.next().await {
            match frame {
                Ok(Message::Text(t)) if t.starts_with(r#"{"type":"presence""#) => {
                    seen.presence.fetch_add(1, Ordering::Relaxed);
                    seen.presence_bytes.fetch_add(t.len(), Ordering::Relaxed);
                }
                Ok(Message::Text(t)) if t.as_str() == r#"{"type":"pong"}"# => {
                    seen.pongs.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        seen.gone.fetch_add(1, Ordering::Relaxed);
    });
    Ok(Seat {
        tx,
        at,
        welcome_bytes: text.len(),
        online_count: welcome["online_count"].as_u64().unwrap_or(0),
        online_listed: welcome["online"].as_array().map_or(0, Vec::len),
    })
}

/// One process of the server: name, RSS (KiB), CPU (µs), open fds.
#[derive(Clone)]
struct Proc {
    name: String,
    rss_kb: u64,
    cpu_us: u64,
    fds: usize,
    max_fds: String,
}

fn procs(group: u32) -> BTreeMap<u32, Proc> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let Some((pgrp, cpu_us)) = process_cpu(&stat) else {
            continue;
        };
        if pgrp != group {
            continue;
        }
        let name = stat
            .split_once('(')
            .and_then(|(_, r)| r.rsplit_once(')'))
            .map_or_else(String::new, |(n, _)| n.to_owned());
        let status = std::fs::read_to_string(e.path().join("status")).unwrap_or_default();
        let rss_kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        let fds = std::fs::read_dir(e.path().join("fd")).map_or(0, Iterator::count);
        out.insert(
            pid,
            Proc {
                name,
                rss_kb,
                cpu_us,
                fds,
                max_fds: open_files_limit(&e.path().join("limits")),
            },
        );
    }
    out
}

/// The soft "Max open files" in a `/proc/*/limits` file.
fn open_files_limit(path: &std::path::Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3).map(str::to_owned))
        .unwrap_or_default()
}

fn rss_of(ps: &BTreeMap<u32, Proc>, name: &str) -> u64 {
    ps.values()
        .filter(|p| p.name == name)
        .map(|p| p.rss_kb)
        .sum()
}

fn thousands(n: usize) -> String {
    if n >= 1000 {
        format!("{},{:03}", n / 1000, n % 1000)
    } else {
        n.to_string()
    }
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// The port on which the server's own `workerd` serves edgechat, behind
/// wrangler's dev proxy: the listening port of a process of the server's
/// group, other than the proxy's, that answers `/health` with 200.
async fn direct_port(server: &Server) -> Option<u16> {
    let ours = procs(server.group());
    let listing = std::process::Command::new("ss")
        .args(["-ltnpH"])
        .output()
        .ok()?;
    // (port, pid) of every listening socket of the server's processes.
    let listening: Vec<(u16, u32)> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter_map(|line| {
            let port = line
                .split_whitespace()
                .nth(3)?
                .rsplit_once(':')?
                .1
                .parse()
                .ok()?;
            let pid = line.split("pid=").nth(1)?.split(',').next()?.parse().ok()?;
            ours.contains_key(&pid).then_some((port, pid))
        })
        .collect();
    let proxy = listening.iter().find(|(port, _)| *port == server.port)?.1;
    let http = reqwest::Client::new();
    for (port, pid) in listening {
        if pid == proxy {
            continue;
        }
        let health = http
            .get(format!("http://127.0.0.1:{port}/health"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if health.is_ok_and(|r| r.status().is_success()) {
            return Some(port);
        }
    }
    None
}

/// Runs S5 with `n` sockets on a server of its own; its report section.
#[allow(clippy::too_many_lines)]
pub async fn section(quick: bool) -> String {
    let n = if quick { 500 } else { 10_000 };
    let vars = [
        format!("JWT_SECRET:{}", crate::JWT_SECRET),
        "ALLOWED_ORIGINS:http://127.0.0.1".to_owned(),
    ];
    let server = Server::start_seeded(&root(), "0", &vars, true, &[seed(n)]);
    // Past wrangler's dev proxy, which runs out of open files near 3,300
    // sockets here, straight to the runtime that serves edgechat.
    let direct = direct_port(&server).await;
    let port = direct.unwrap_or(server.port);
    let url = format!("ws://127.0.0.1:{port}/api/v1/rooms/{ROOM_ID}/ws");
    let keys = Keys {
        current: SigningKey::new(crate::JWT_SECRET.as_bytes()).expect("a long enough secret"),
        previous: None,
    };
    let now_secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let tokens: Vec<String> = (0..n)
        .map(|i| {
            jwt::sign(
                &Claims::new(&user_id(i), &format!("s5-{i}"), now_secs),
                &keys,
            )
        })
        .collect();
    let bench_fds = open_files_limit(std::path::Path::new("/proc/self/limits"));
    eprintln!("S5: {n} sockets to {url} (this process may open {bench_fds} files)");

    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = procs(server.group());
    let own_before = crate::server::own_cpu_micros();
    let seen = Arc::new(Seen::default());
    let start = Instant::now();
    let mut pending = futures_util::stream::iter(tokens.into_iter().map(|t| {
        let (url, seen) = (url.clone(), seen.clone());
        async move {
            tokio::time::timeout(Duration::from_secs(30), seat(url, t, start, seen))
                .await
                .unwrap_or_else(|_| Err("no welcome within 30 s".into()))
        }
    }))
    .buffer_unordered(CONCURRENCY);
    let (mut seats, mut failed, mut first_error) = (Vec::with_capacity(n), 0, None);
    let give_up = tokio::time::Instant::now() + Duration::from_secs(GIVE_UP_SECS);
    let mut next_report = Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(give_up, pending.next()).await {
            Ok(Some(Ok(s))) => seats.push(s),
            Ok(Some(Err(e))) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
            Ok(None) | Err(_) => break,
        }
        if start.elapsed() >= next_report {
            eprintln!("S5: {} seated after {:?}", seats.len(), start.elapsed());
            next_report += Duration::from_secs(10);
        }
    }
    drop(pending);
    let seated = seats.len();
    let last_at = seats.iter().map(|s| s.at).max().unwrap_or_default();
    let in_target = seats
        .iter()
        .filter(|s| s.at <= Duration::from_secs(TARGET_SECS))
        .count();
    let mut times: Vec<f64> = seats.iter().map(|s| s.at.as_secs_f64()).collect();
    times.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        times
            .get(((times.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0.0)
    };
    let own_busy = (crate::server::own_cpu_micros() - own_before) as f64 / 1e6;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = procs(server.group());
    let presence_seating = seen.presence.load(Ordering::Relaxed);
    let presence_bytes = seen.presence_bytes.load(Ordering::Relaxed);
    eprintln!(
        "S5: {seated} seated ({failed} failed, first error {first_error:?}); idling {IDLE_SECS} s"
    );

    tokio::time::sleep(Duration::from_secs(IDLE_SECS)).await;
    let idle = procs(server.group());
    let gone_idle = seen.gone.load(Ordering::Relaxed);
    let ping = Message::Text(r#"{"type":"ping"}"#.into());
    let ping_start = Instant::now();
    let mut ping_failed = 0;
    for s in &mut seats {
        if s.tx.send(ping.clone()).await.is_err() {
            ping_failed += 1;
        }
    }
    let expected = seated - ping_failed;
    while seen.pongs.load(Ordering::Relaxed) < expected && ping_start.elapsed().as_secs() < 30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pongs = seen.pongs.load(Ordering::Relaxed);
    let pong_secs = ping_start.elapsed().as_secs_f64();
    let held = seated - gone_idle;

    let worker_delta = rss_of(&after, "workerd").saturating_sub(rss_of(&before, "workerd"));
    let node_delta = rss_of(&after, "node").saturating_sub(rss_of(&before, "node"));
    let per_socket_kb = worker_delta as f64 / seated.max(1) as f64;
    let welcome_max = seats.iter().map(|s| s.welcome_bytes).max().unwrap_or(0);
    let listed_max = seats.iter().map(|s| s.online_listed).max().unwrap_or(0);
    let count_max = seats.iter().map(|s| s.online_count).max().unwrap_or(0);
    drop(seats);
    drop(server);

    let mut r = String::new();
    let _ = writeln!(
        r,
        "## S5 — {} sockets join one room (presence on), then idle, hibernated\n\n\
         Target: all seated in ≤ {TARGET_SECS} s; all held; memory per socket reported.\n",
        thousands(n)
    );
    let _ = writeln!(
        r,
        "| sockets | seated | seated in {TARGET_SECS} s | all seated after | p50 / p90 seated at | failed | held after {IDLE_SECS} s idle | pong after idle | server memory / socket |\n\
         |---|---|---|---|---|---|---|---|---|"
    );
    let all = if seated == n {
        format!("{:.1} s", last_at.as_secs_f64())
    } else {
        format!("not all ({seated} by {GIVE_UP_SECS} s)")
    };
    let _ = writeln!(
        r,
        "| {n} | {seated} | {in_target} | {all} | {:.1} s / {:.1} s | {failed} | {held} | {pongs} in {pong_secs:.1} s | {per_socket_kb:.1} KiB |\n",
        quantile(0.5),
        quantile(0.9),
    );
    let met = seated == n && last_at <= Duration::from_secs(TARGET_SECS) && held == n && pongs == n;
    let verdict = if met {
        format!(
            "met: all {n} seated in {:.1} s ({:.0} % of the {TARGET_SECS} s allowed), all held",
            last_at.as_secs_f64(),
            100.0 * last_at.as_secs_f64() / TARGET_SECS as f64
        )
    } else if seated == n {
        format!(
            "missed: all {n} seated after {:.1} s ({:+.1} s against the target), {held} held, {pongs} answered a ping",
            last_at.as_secs_f64(),
            last_at.as_secs_f64() - TARGET_SECS as f64
        )
    } else {
        format!(
            "missed: {in_target} of {n} seated in {TARGET_SECS} s, {seated} by {GIVE_UP_SECS} s; first failure: {}",
            first_error.as_deref().unwrap_or("none")
        )
    };
    let _ = writeln!(r, "Target {verdict}.\n");
    let via = if direct.is_some() {
        "straight to the port on which edgechat's own `workerd` listens (found among the \
         server's processes), past wrangler's dev proxy"
    } else {
        "through the port `wrangler dev` listens on, that is through wrangler's dev proxy \
         (the runtime's own port was not found)"
    };
    let _ = writeln!(
        r,
        "Memory per socket is the growth of the `workerd` processes' resident memory \
         from before the first connection to just after the last welcome, over the sockets seated \
         ({} MiB in all; wrangler's `node` grew {:.1} MiB). Users, the room and memberships were \
         written into the local D1 with SQL and tokens signed by the load generator, so no \
         Argon2id runs; each upgrade still verifies its token and reads the user and the \
         membership from D1. Sockets are opened {CONCURRENCY} at a time, without `Origin`, \
         {via}. \
         Welcome frames were at most {welcome_max} B (at most {listed_max} users listed, \
         `online_count` up to {count_max}); sockets got {presence_seating} presence frames \
         while seating ({:.1} MiB, {:.0} B per frame). Load generator CPU while seating: \
         {own_busy:.1} s; it may open {bench_fds} files.\n",
        format_args!("{:.1}", mib(worker_delta)),
        mib(node_delta),
        presence_bytes as f64 / 1_048_576.0,
        presence_bytes as f64 / presence_seating.max(1) as f64,
    );
    let _ = writeln!(
        r,
        "| server process | open files (limit) seated | RSS before | RSS seated | RSS after idle | CPU while seating |\n|---|---|---|---|---|---|"
    );
    for (pid, p) in &after {
        let b = before.get(pid);
        let i = idle.get(pid);
        let cpu = p.cpu_us.saturating_sub(b.map_or(0, |b| b.cpu_us)) as f64 / 1e6;
        let _ = writeln!(
            r,
            "| {} ({pid}) | {} ({}) | {:.0} MiB | {:.0} MiB | {:.0} MiB | {cpu:.1} s |",
            p.name,
            p.fds,
            p.max_fds,
            mib(b.map_or(0, |b| b.rss_kb)),
            mib(p.rss_kb),
            mib(i.map_or(0, |i| i.rss_kb)),
        );
    }
    for (pid, b) in &before {
        if !after.contains_key(pid) {
            let _ = writeln!(
                r,
                "| {} ({pid}) | exited while seating | {:.0} MiB | — | — | — |",
                b.name,
                mib(b.rss_kb),
            );
        }
    }
    r.push('\n');
    r.push_str(NOTES);
    r.push('\n');
    r
}
