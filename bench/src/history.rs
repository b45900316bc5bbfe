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
    /// 1k and 10k, one run of 50.
    pub fn new(quick: bool) -> Self {
        if quick {
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
        }
    }
}

/// The latencies of one series of pages, in ms.
#[derive(Clone, Copy, Debug, Default)]
struct Series {
    p50: f64,
    p99: f64,
    cpu_us: f64,
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

/// One page; its latency. Panics on anything but a full page ending where
/// it must.
async fn page(http: &reqwest::Client, url: &str, token: &str, last: u64) -> Duration {
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
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    let messages = v["messages"].as_array().expect("messages");
    assert_eq!(messages.len() as u64, PAGE, "{url}: a short page");
    assert_eq!(
        messages.last().and_then(|m| m["seq"].as_u64()),
        Some(last),
        "{url}: the wrong page"
    );
    took
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Where a series reads, and as whom.
struct Room<'a> {
    base: &'a str,
    id: &'a str,
    size: u64,
    token: &'a str,
}

/// `plan.requests` timed pages after `plan.warmup` untimed ones; `deep`
/// asks for pages before seqs spread over the middle half of the room.
async fn series(
    server: &Server,
    http: &reqwest::Client,
    room: &Room<'_>,
    deep: bool,
    plan: Plan,
) -> Series {
    let Room {
        base,
        id: room,
        size,
        token,
    } = *room;
    let target = |j: usize| {
        if deep {
            let before = size / 4 + (j as u64 * 7919) % (size / 2) + 1;
            (
                format!("{base}/api/v1/rooms/{room}/messages?before={before}&limit={PAGE}"),
                before - 1,
            )
        } else {
            (
                format!("{base}/api/v1/rooms/{room}/messages?limit={PAGE}"),
                size,
            )
        }
    };
    for j in 0..plan.warmup {
        let (url, last) = target(j);
        page(http, &url, token, last).await;
    }
    let cpu = server.cpu_micros();
    let mut ms = Vec::with_capacity(plan.requests);
    for j in 0..plan.requests {
        let (url, last) = target(plan.warmup + j);
        ms.push(page(http, &url, token, last).await.as_secs_f64() * 1000.0);
    }
    let cpu_us = server.cpu_micros().saturating_sub(cpu) as f64 / plan.requests as f64;
    ms.sort_by(f64::total_cmp);
    Series {
        p50: quantile(&ms, 0.5),
        p99: quantile(&ms, 0.99),
        cpu_us,
    }
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

    // The first page of each room loads it: it copies the whole room from D1.
    let http = reqwest::Client::new();
    for (id, r) in &mut rooms {
        let url = format!("{}/api/v1/rooms/{id}/messages?limit={PAGE}", base(server));
        r.warm = page(&http, &url, &owner.token, r.size).await;
        eprintln!("S4: room of {} warm after {:.1?}", r.size, r.warm);
    }
    for run in 0..plan.runs {
        for (id, r) in &mut rooms {
            let b = base(server);
            let room = Room {
                base: &b,
                id,
                size: r.size,
                token: &owner.token,
            };
            let newest = series(server, &http, &room, false, plan).await;
            let deep = series(server, &http, &room, true, plan).await;
            eprintln!(
                "S4 run {run}: {} messages: newest {newest:?}, deep {deep:?}",
                r.size
            );
            r.newest.push(newest);
            r.deep.push(deep);
        }
    }
    // A cold start once the copies are complete: only the check against D1.
    server.restart();
    let http = reqwest::Client::new();
    for (id, r) in &mut rooms {
        let url = format!("{}/api/v1/rooms/{id}/messages?limit={PAGE}", base(server));
        r.cold = page(&http, &url, &owner.token, r.size).await;
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
         Then, {} run(s) over the same rooms, each {} untimed then {} timed sequential \
         `GET /api/v1/rooms/{{id}}/messages?limit=50` per series: *newest* (no cursor) and \
         *deep* (`before=` a different seq in the middle half of the room each time); figures are \
         the median over the runs. Cold page: the first page after another restart, once the \
         room's copy is complete.\n",
        overhead.as_secs_f64(),
        plan.runs,
        plan.warmup,
        plan.requests
    );
    let _ = writeln!(
        out,
        "| messages | fill s | warm-up s | cold page ms | newest p50 ms | newest p99 ms | deep p50 ms | deep p99 ms | server CPU µs/page |\n\
         |---|---|---|---|---|---|---|---|---|"
    );
    let mut p50s = Vec::new();
    for (_, r) in rooms {
        let m = |v: &[Series], f: fn(&Series) -> f64| median(v.iter().map(f).collect());
        let (n50, n99) = (m(&r.newest, |s| s.p50), m(&r.newest, |s| s.p99));
        let (d50, d99) = (m(&r.deep, |s| s.p50), m(&r.deep, |s| s.p99));
        let cpu = median(r.newest.iter().chain(&r.deep).map(|s| s.cpu_us).collect());
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {:.1} | {n50:.2} | {n99:.2} | {d50:.2} | {d99:.2} | {cpu:.0} |",
            human(r.size),
            r.fill.as_secs_f64(),
            r.warm.as_secs_f64(),
            r.cold.as_secs_f64() * 1000.0,
        );
        p50s.push((n50, d50));
    }
    if let (Some(small), Some(big)) = (p50s.first(), p50s.last()) {
        let (rn, rd) = (big.0 / small.0, big.1 / small.1);
        let verdict = |r: f64| if r <= 1.2 { "met" } else { "missed" };
        let _ = writeln!(
            out,
            "\np50 at {} / p50 at {}: newest page {rn:.2}× ({}), deep page {rd:.2}× ({}); target ≤ 1.2×.\n",
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
