//! S4: history pages in rooms of very different sizes.
//!
//! Rooms are filled straight into D1 with SQL (a recursive CTE), not
//! through the room: a million messages through the socket path would take
//! hours. The rows are what the room itself would have written: contiguous
//! `seq`s from 1, unique `client_id`s, members as authors, ~100 B bodies.
//! The room's Durable Object serves pages from its own copy of the
//! messages, which it reconciles from D1 when it loads; for a room filled
//! behind its back that first load copies everything, so it is measured on
//! its own (the warm-up) and kept out of the page latencies.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::{self, User};
use crate::server::Server;

/// Members of each room (the owner included); the authors cycle through them.
pub const MEMBERS: usize = 10;
/// A request slower than this is counted as a stall.
const SLOW: Duration = Duration::from_millis(500);
/// Messages per page, as the scenario asks.
const PAGE: u64 = 50;
/// Rows per INSERT statement of a fill.
const CHUNK: u64 = 100_000;
const FILLER: &str = "the quick brown fox jumps over the lazy dog while everyone \
                      argues about lunch, the release date, the build and whose turn it is to \
                      water the office plants this week";

/// What S4 measures.
#[derive(Clone, Copy)]
pub struct Plan {
    pub sizes: &'static [u64],
    pub runs: usize,
    /// Untimed requests before each timed series.
    pub warmup: usize,
    /// Timed requests per series.
    pub requests: usize,
}

impl Plan {
    /// 1k, 100k and 1M messages, 3 runs of 200 pages per series; `quick`:
    /// 1k and 10k, one run of 50. `sizes` replaces the room sizes.
    pub fn new(quick: bool, sizes: Option<&'static [u64]>) -> Self {
        let plan = if quick {
            Self {
                sizes: &[1000, 10_000],
                runs: 1,
                warmup: 10,
                requests: 50,
            }
        } else {
            Self {
                sizes: &[1000, 100_000, 1_000_000],
                runs: 3,
                warmup: 20,
                requests: 200,
            }
        };
        Self {
            sizes: sizes.unwrap_or(plan.sizes),
            ..plan
        }
    }
}

/// The latencies of one series of pages, in ms.
#[derive(Clone, Copy, Debug, Default)]
struct Series {
    p50: f64,
    p99: f64,
    cpu_us: f64,
    /// Requests slower than `SLOW`.
    slow: usize,
}

/// One room's numbers.
#[derive(Debug, Default)]
struct Sized {
    size: u64,
    fill: Duration,
    warm: Duration,
    cold: Duration,
    newest: Vec<Series>,
    deep: Vec<Series>,
    control: Vec<Series>,
}

fn fill_sql(room: &str, index: usize, size: u64, now_ms: i64) -> String {
    let mut sql = String::new();
    let mut lo = 1;
    while lo <= size {
        let hi = (lo + CHUNK - 1).min(size);
        let _ = writeln!(
            sql,
            "WITH RECURSIVE n(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM n WHERE i < {hi}), \
             a(k, id) AS (SELECT row_number() OVER (ORDER BY user_id) - 1, user_id \
               FROM memberships WHERE room_id = '{room}') \
             INSERT INTO messages (room_id, seq, id, client_id, author_id, body, created_at) \
             SELECT '{room}', i, printf('%08x-0000-4000-8000-%012x', {index}, i), 'fill-' || i, a.id, \
               substr('m' || i || ' ' || substr('{FILLER}', 1 + i % 37), 1, 100), \
               {now_ms} - ({size} - i) * 1000 \
             FROM n JOIN a ON a.k = i % {MEMBERS};"
        );
        lo = hi + 1;
    }
    let _ = writeln!(
        sql,
        "UPDATE rooms SET last_seq = {size} WHERE id = '{room}';"
    );
    sql
}

/// One request; its latency. Panics on an error status, and for a page
/// (`last` given) on anything but a full page ending at `last`.
async fn get(http: &reqwest::Client, url: &str, token: &str, last: Option<u64>) -> Duration {
    let started = Instant::now();
    let resp = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let bytes = resp.bytes().await.expect("body");
    let took = started.elapsed();
    assert!(status.is_success(), "{url}: {status}");
    if let Some(last) = last {
        let v: Value = serde_json::from_slice(&bytes).expect("json");
        let messages = v["messages"].as_array().expect("messages");
        assert_eq!(messages.len() as u64, PAGE, "{url}: a short page");
        assert_eq!(
            messages.last().and_then(|m| m["seq"].as_u64()),
            Some(last),
            "{url}: the wrong page"
        );
    }
    took
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// What is asked of a room.
#[derive(Clone, Copy)]
enum Kind {
    /// The newest page (no cursor).
    Newest,
    /// A page before a seq in the middle half of the room, a different one
    /// each time.
    Deep,
    /// `GET /api/v1/rooms/{id}`: the same authentication and room check,
    /// no Durable Object; for scale.
    Room,
}

const KINDS: [Kind; 3] = [Kind::Newest, Kind::Deep, Kind::Room];

/// The URL of the `j`th request of `kind`, and the last seq of its page.
fn target(base: &str, room: &str, size: u64, kind: Kind, j: usize) -> (String, Option<u64>) {
    match kind {
        Kind::Newest => (
            format!("{base}/api/v1/rooms/{room}/messages?limit={PAGE}"),
            Some(size),
        ),
        Kind::Deep => {
            let before = size / 4 + (j as u64 * 7919) % (size / 2) + 1;
            (
                format!("{base}/api/v1/rooms/{room}/messages?before={before}&limit={PAGE}"),
                Some(before - 1),
            )
        }
        Kind::Room => (format!("{base}/api/v1/rooms/{room}"), None),
    }
}

/// One run: `plan.warmup` untimed then `plan.requests` timed rounds; in
/// each round every room gets one request of each kind, in turn, so a
/// change in the machine's load touches every size alike. The server's
/// CPU time is read after each request and counted to it. Per room, per
/// kind (in `KINDS` order).
async fn run(
    server: &Server,
    http: &reqwest::Client,
    rooms: &[(String, u64)],
    token: &str,
    plan: Plan,
) -> Vec<[Series; 3]> {
    let base = format!("http://127.0.0.1:{}", server.port);
    let cells = rooms.len() * KINDS.len();
    let mut ms = vec![Vec::with_capacity(plan.requests); cells];
    let mut cpu = vec![0u64; cells];
    let mut before = server.cpu_micros();
    for j in 0..plan.warmup + plan.requests {
        for (k, &kind) in KINDS.iter().enumerate() {
            for (r, (id, size)) in rooms.iter().enumerate() {
                let (url, last) = target(&base, id, *size, kind, j);
                let took = get(http, &url, token, last).await;
                let now = server.cpu_micros();
                if j >= plan.warmup {
                    let cell = r * KINDS.len() + k;
                    ms[cell].push(took.as_secs_f64() * 1000.0);
                    cpu[cell] += now.saturating_sub(before);
                }
                before = now;
            }
        }
    }
    let series = |cell: usize| {
        let mut v = ms[cell].clone();
        v.sort_by(f64::total_cmp);
        Series {
            p50: quantile(&v, 0.5),
            p99: quantile(&v, 0.99),
            cpu_us: cpu[cell] as f64 / v.len() as f64,
            slow: v
                .iter()
                .filter(|&&ms| ms > SLOW.as_secs_f64() * 1000.0)
                .count(),
        }
    };
    (0..rooms.len())
        .map(|r| [0, 1, 2].map(|k| series(r * KINDS.len() + k)))
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn human(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1000 && n % 1000 == 0 => format!("{}k", n / 1000),
        n => n.to_string(),
    }
}

/// Runs S4 on `server` (stopped and started again around the fills);
/// its report section.
pub async fn section(server: &mut Server, users: &[User], plan: Plan) -> String {
    let base = |s: &Server| format!("http://127.0.0.1:{}", s.port);
    let owner = &users[0];
    let mut rooms = Vec::new();
    for &size in plan.sizes {
        let name = format!("S4 {}", human(size));
        let id = client::room(&base(server), owner, &users[1..MEMBERS], &name).await;
        rooms.push((
            id,
            Sized {
                size,
                ..Sized::default()
            },
        ));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let files: Vec<_> = rooms
        .iter()
        .enumerate()
        .map(|(i, (id, r))| {
            let path = dir.path().join(format!("fill-{}.sql", r.size));
            std::fs::write(&path, fill_sql(id, i, r.size, now_ms)).expect("write fill");
            path
        })
        .collect();
    let noop = dir.path().join("noop.sql");
    std::fs::write(&noop, "SELECT 1;\n").expect("write noop");
    let mut overhead = Duration::ZERO;
    server.stopped(|s| {
        overhead = s.d1_file(&noop);
        for ((_, r), file) in rooms.iter_mut().zip(&files) {
            r.fill = s.d1_file(file);
            eprintln!("S4: filled {} messages in {:.1?}", r.size, r.fill);
        }
    });

    // The first page of each room loads it: it copies the whole room from
    // D1. From here on, a request on a new connection reaches the server
    // every second: without one, requests on open connections can stall
    // for minutes in the local runtime (see the notes in the report).
    let http = reqwest::Client::new();
    let health = format!("{}/health", base(server));
    let heartbeat = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            // A client of its own: a fresh connection each time.
            let _ = reqwest::Client::new().get(&health).send().await;
        }
    });
    for (id, r) in &mut rooms {
        let url = format!("{}/api/v1/rooms/{id}/messages?limit={PAGE}", base(server));
        r.warm = get(&http, &url, &owner.token, Some(r.size)).await;
        eprintln!("S4: room of {} warm after {:.1?}", r.size, r.warm);
    }
    let sizes: Vec<(String, u64)> = rooms.iter().map(|(id, r)| (id.clone(), r.size)).collect();
    for n in 0..plan.runs {
        let measured = run(server, &http, &sizes, &owner.token, plan).await;
        for ((_, r), [newest, deep, control]) in rooms.iter_mut().zip(measured) {
            eprintln!(
                "S4 run {n}: {} messages: newest {newest:?}, deep {deep:?}, room {control:?}",
                r.size
            );
            r.newest.push(newest);
            r.deep.push(deep);
            r.control.push(control);
        }
    }
    heartbeat.abort();
    // A cold start once the copies are complete: only the check against D1.
    server.restart();
    let http = reqwest::Client::new();
    for (id, r) in &mut rooms {
        let url = format!("{}/api/v1/rooms/{id}/messages?limit={PAGE}", base(server));
        r.cold = get(&http, &url, &owner.token, Some(r.size)).await;
    }
    report(&rooms, plan, overhead)
}

fn report(rooms: &[(String, Sized)], plan: Plan, overhead: Duration) -> String {
    let sizes: Vec<String> = plan.sizes.iter().map(|&s| human(s)).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## S4 — history page (50 messages) in a room of {} messages\n\n\
         Target: p50 at {} ≤ 1.2 × p50 at {}.\n",
        sizes.join(", "),
        sizes.last().map_or("", String::as_str),
        sizes.first().map_or("", String::as_str),
    );
    let _ = writeln!(
        out,
        "Each room is filled once, straight into the local D1 with SQL (`wrangler d1 execute \
         --local`, server stopped meanwhile; a recursive CTE inserts seqs 1…N by the room's {MEMBERS} \
         members, 100 B bodies). Fill is that command's time (wrangler's own start, {:.1} s \
         for `SELECT 1`, included). The server then starts again, and the first page of each room \
         loads its Durable Object, which copies the room from D1 into its own store (warm-up). \
         From then on, `GET /health` on a new connection reaches the server once a second (see \
         the notes below). \
         Then {} run(s) over the same rooms of {} untimed and {} timed rounds of sequential \
         requests; in each round every room gets, in turn, *newest* \
         (`GET /api/v1/rooms/{{id}}/messages?limit=50`), *deep* (the same with `before=` a \
         different seq in the middle half of the room each time) and, for scale, \
         `GET /api/v1/rooms/{{id}}` (the same authentication and room check in D1, no Durable \
         Object). Figures are the median over the runs; server CPU is read after each request and \
         counted to it. Cold page: the first page after another restart, once the room's copy is \
         complete.\n",
        overhead.as_secs_f64(),
        plan.runs,
        plan.warmup,
        plan.requests
    );
    let _ = writeln!(
        out,
        "| messages | fill s | warm-up s | cold page ms | newest p50 ms | newest p99 ms | deep p50 ms | deep p99 ms | server CPU µs/page | room GET p50 ms | room GET CPU µs |\n\
         |---|---|---|---|---|---|---|---|---|---|---|"
    );
    let mut p50s = Vec::new();
    for (_, r) in rooms {
        let m = |v: &[Series], f: fn(&Series) -> f64| median(v.iter().map(f).collect());
        let (n50, n99) = (m(&r.newest, |s| s.p50), m(&r.newest, |s| s.p99));
        let (d50, d99) = (m(&r.deep, |s| s.p50), m(&r.deep, |s| s.p99));
        let cpu = median(r.newest.iter().chain(&r.deep).map(|s| s.cpu_us).collect());
        let (c50, room_cpu) = (m(&r.control, |s| s.p50), m(&r.control, |s| s.cpu_us));
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {:.1} | {n50:.2} | {n99:.2} | {d50:.2} | {d99:.2} | {cpu:.0} | {c50:.2} | {room_cpu:.0} |",
            human(r.size),
            r.fill.as_secs_f64(),
            r.warm.as_secs_f64(),
            r.cold.as_secs_f64() * 1000.0,
        );
        p50s.push((n50, d50));
    }
    let slow: usize = rooms
        .iter()
        .flat_map(|(_, r)| r.newest.iter().chain(&r.deep).chain(&r.control))
        .map(|s| s.slow)
        .sum();
    let total = plan.runs * plan.requests * KINDS.len() * rooms.len();
    let _ = writeln!(
        out,
        "\nTimed requests slower than {} ms: {slow} of {total}.\n",
        SLOW.as_millis()
    );
    if let (Some(small), Some(big)) = (p50s.first(), p50s.last()) {
        let (rn, rd) = (big.0 / small.0, big.1 / small.1);
        let verdict = |r: f64| if r <= 1.2 { "met" } else { "missed" };
        let _ = writeln!(
            out,
            "p50 at {} / p50 at {}: newest page {rn:.2}× ({}), deep page {rd:.2}× ({}); target ≤ 1.2×.\n",
            sizes.last().map_or("", String::as_str),
            sizes.first().map_or("", String::as_str),
            verdict(rn),
            verdict(rd),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quantiles_pick_ranks() {
        let v: Vec<f64> = (1..=200).map(f64::from).collect();
        assert!((super::quantile(&v, 0.5) - 100.0).abs() < f64::EPSILON);
        assert!((super::quantile(&v, 0.99) - 198.0).abs() < f64::EPSILON);
    }

    #[test]
    fn fills_in_chunks() {
        let sql = super::fill_sql("r", 0, 250_000, 0);
        assert_eq!(sql.matches("INSERT INTO messages").count(), 3);
        assert!(sql.contains("SELECT 200001 UNION ALL"));
        assert!(sql.contains("WHERE i < 250000"));
    }
}
