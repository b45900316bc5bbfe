//! `make bench`: starts edgechat and the floor, each pinned to core 0,
//! drives both from this process (pinned to core 1 by `make bench`) over
//! real sockets with the real protocol, and writes `docs/benchmarks.md`.
//!
//! `--quick` runs each scenario once at a tenth of its size, as a smoke test.
//! `--only S4` (or `--only S1,S4`) runs only those scenarios; without
//! `--quick` their sections then replace theirs in `docs/benchmarks.md`
//! and every other section stays as it was. `--s4-sizes 1000,50000`
//! replaces S4's room sizes (to look at one size; the report says which).

// Host-side tool: the clock works here.
#![allow(clippy::disallowed_methods)]

mod client;
mod fanout;
mod history;
mod seating;
mod server;

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use fanout::{Outcome, Shape, Target};
use server::{root, Server};

/// Written by hand from measurements outside this tool; kept with its output.
const NOTES: &str = r"## Where edgechat stands against the targets

- Throughput holds at the offered rates (S2, S3: 98–100 % of the floor's
  deliveries, nothing lost, duplicated or out of order), but latency and the
  closed-loop rate (S1) are far from the targets. Each section's profile
  line is the room's own timing of its D1 batches: edgechat acknowledges
  and broadcasts only after a message is in D1, so every delivery waits for
  one batch commit (p50 6–19 ms here, p99 38–89 ms, outliers of several
  hundred ms), which the floor, storing nothing, never pays. Group commit
  keeps the rate up (up to 33 writes per batch) but not the latency. The
  commit is not the whole gap: in S2 a batch takes 6 ms at p50 while a
  delivery takes 23 ms, and edgechat spends about three times the floor's
  server CPU per delivery (S1, S2) with frames about three times larger;
  where that CPU goes inside the local runtime and its dev proxy is not
  yet broken down.
- S4: a page costs the same in a room of a million messages as in one of a
  thousand. The room's own copy answers both kinds of page with one range
  scan on its `seq` key, and the Worker asks D1 only for the caller and the
  room (primary-key lookups). Most of a page's time is the local runtime's
  cost per request: `GET /api/v1/rooms/{id}`, which makes the same two D1
  lookups and no call to the Durable Object, takes 70–85 % of a page's
  time and server CPU.
- A room whose messages are in D1 but not in its own copy (here: filled
  behind its back) copies them when it loads, 500 per D1 round trip: about
  5–10 s for 100k messages and 45–80 s for 1M, during which its first
  request waits. The copy is kept page by page, so a load that stops part
  way resumes where it stopped. Requests that arrive while a load runs start
  a load of their own, copying the same rows again (same result, more work);
  only a room whose copy is far behind would notice.
- The local runtime sometimes stops serving requests on open connections,
  with every process idle, until a new connection arrives: S4 runs without a
  heartbeat sat for about four minutes at the start of the 1M room's load,
  and once in the middle of the timed pages. S4 therefore opens a new
  connection to `GET /health` once a second from the warm-up on, and counts
  the requests slower than 0.5 s. The outliers above 2 s in S1–S3 may be
  the same effect; not checked.
- S5 seats all 10,000 sockets and holds them through hibernation, but
  takes about twice the 60 s allowed. Seating is CPU-bound on the server's
  one core, and the local dev tooling (wrangler's `node` and its proxy
  `workerd`) burns a large share of that core even though the sockets
  bypass the proxy; edgechat's own `workerd` spent about 5 ms of CPU per
  seated socket, presence frames to everyone included. Bytes per join no
  longer grow with the room: `welcome` names at most 100 users plus
  `online_count`, and rooms over 100 online get one count-only presence
  frame a second.
- Acknowledging after the room's own storage instead of after D1 was tried
  (an outbox copied to D1 behind the acks): with `storage.sync()` as the
  group-commit point, one quick run gave S2 p50 30 ms / p99 159 ms and S3
  p50 1,030 ms; relying on the runtime's output gate alone gave S2 p50
  6.6 ms / p99 122 ms but S3 fell to 556 deliveries/s with p50 62 s. On the
  local runtime a durable write of the room's own storage costs about what
  a D1 batch does (local D1 is the same kind of SQLite-backed object), so
  latency under load stays bound by the storage flush either way; the
  change was not kept.
";

const JWT_SECRET: &str = "benchmark-secret-0123456789abcdef0123456789";

struct Scenario {
    id: &'static str,
    what: &'static str,
    target: &'static str,
    shape: Shape,
}

fn scenarios(scale: usize) -> Vec<Scenario> {
    vec![
        Scenario {
            id: "S1",
            what: "1 sender → 10 receivers, 2,000 messages of ~100 B, as fast as acks allow",
            target: "delivered/s ≥ 90 % of the floor's",
            shape: Shape {
                senders: 1,
                receivers: 10,
                per_sender: 2000 / scale,
                rate: None,
            },
        },
        Scenario {
            id: "S2",
            what: "1 sender → 100 receivers at 50 msg/s, 1,000 messages",
            target: "p99 ≤ 1.5 × the floor's; 0 lost",
            shape: Shape {
                senders: 1,
                receivers: 100,
                per_sender: 1000 / scale,
                rate: Some(50.0),
            },
        },
        Scenario {
            id: "S3",
            what: "10 senders × 20 msg/s → 100 receivers, 500 each",
            target: "p99 ≤ 2 × the floor's; 0 lost",
            shape: Shape {
                senders: 10,
                receivers: 100,
                per_sender: 500 / scale,
                rate: Some(20.0),
            },
        },
    ]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn summarize(runs: &[Outcome]) -> Outcome {
    let m = |f: fn(&Outcome) -> f64| median(runs.iter().map(f).collect());
    Outcome {
        deliveries: m(|o| o.deliveries as f64) as u64,
        per_sec: m(|o| o.per_sec),
        p50_ms: m(|o| o.p50_ms),
        p99_ms: m(|o| o.p99_ms),
        max_ms: m(|o| o.max_ms),
        lost: runs.iter().map(|o| o.lost).max().unwrap_or(0),
        duplicated: runs.iter().map(|o| o.duplicated).max().unwrap_or(0),
        out_of_order: runs.iter().map(|o| o.out_of_order).max().unwrap_or(0),
        server_cpu_us: m(|o| o.server_cpu_us as f64) as u64,
    }
}

fn sh(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Runs one fan-out scenario `runs` times on both targets; its report section.
async fn fanout_section(
    sc: &Scenario,
    runs: usize,
    users: &[client::User],
    edgechat: &Server,
    floor: &Server,
) -> String {
    let mut report = String::new();
    let base = format!("http://127.0.0.1:{}", edgechat.port);
    let mut ours = Vec::new();
    let mut base_runs = Vec::new();
    let mut batches = Vec::new();
    let gen_before = (server::own_cpu_micros(), Instant::now());
    for run in 0..runs {
        let owner = &users[0];
        let room = client::room(&base, owner, &users[1..], &format!("{} run {run}", sc.id)).await;
        let url = format!("ws://127.0.0.1:{}/api/v1/rooms/{room}/ws", edgechat.port);
        let tokens = users[1..].iter().map(|u| u.token.clone()).collect();
        let target = Target::Edgechat { url, tokens };
        let logged = edgechat.log_len();
        ours.push(fanout::run(&target, sc.shape, || edgechat.cpu_micros()).await);
        batches.extend(d1_batches(&edgechat.log_from(logged)));
        let target = Target::Floor {
            url: format!("ws://127.0.0.1:{}/ws", floor.port),
        };
        base_runs.push(fanout::run(&target, sc.shape, || floor.cpu_micros()).await);
        eprintln!(
            "{} run {run}: edgechat {:?}\n   floor {:?}",
            sc.id,
            ours.last(),
            base_runs.last()
        );
    }
    let gen_busy = (server::own_cpu_micros() - gen_before.0) as f64
        / gen_before.1.elapsed().as_micros() as f64;
    let (e, f) = (summarize(&ours), summarize(&base_runs));
    let _ = writeln!(
        report,
        "## {} — {}\n\nTarget: {}.\n",
        sc.id, sc.what, sc.target
    );
    let _ = writeln!(
            report,
            "| | deliveries/s | p50 ms | p99 ms | max ms | lost | duplicated | out of order | server CPU µs/delivery |\n|---|---|---|---|---|---|---|---|---|"
        );
    for (name, o) in [("edgechat", &e), ("floor", &f)] {
        let per = o.server_cpu_us as f64 / o.deliveries.max(1) as f64;
        let _ = writeln!(
            report,
            "| {name} | {:.0} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {per:.1} |",
            o.per_sec, o.p50_ms, o.p99_ms, o.max_ms, o.lost, o.duplicated, o.out_of_order
        );
    }
    let _ = writeln!(
            report,
            "\nedgechat / floor: deliveries/s {:.0} %, p99 {:.2}×. Load generator busy {:.0} % of its core{}.\n",
            100.0 * e.per_sec / f.per_sec.max(1.0),
            e.p99_ms / f.p99_ms.max(0.001),
            100.0 * gen_busy,
            if gen_busy > 0.9 { " (saturated: the figures are a lower bound)" } else { "" }
        );
    report.push_str(&batch_profile(&mut batches));
    report
}

/// (writes, ms) of each D1 batch the room reported in `log`.
fn d1_batches(log: &str) -> Vec<(u32, u32)> {
    log.lines()
        .filter_map(|l| {
            let rest = l.split("edgechat-timing d1-batch writes=").nth(1)?;
            let (writes, ms) = rest.split_once(" ms=")?;
            let ms = ms.split(|c: char| !c.is_ascii_digit()).next()?;
            Some((writes.parse().ok()?, ms.parse().ok()?))
        })
        .collect()
}

/// Where an ack's time goes: the room's D1 batches during edgechat's runs.
fn batch_profile(batches: &mut [(u32, u32)]) -> String {
    if batches.is_empty() {
        return String::new();
    }
    batches.sort_by_key(|b| b.1);
    let n = batches.len();
    let at = |q: f64| batches[((n as f64 * q).ceil() as usize).clamp(1, n) - 1].1;
    let writes: u32 = batches.iter().map(|b| b.0).sum();
    format!(
        "Profile, from the room's own timing: {n} D1 batches in edgechat's runs, {:.1} writes \
         per batch; a batch took p50 {} ms, p99 {} ms, max {} ms from call to answer. Every ack \
         waits for its batch, so this is a floor under edgechat's latency that the floor \
         (which stores nothing) does not pay.\n\n",
        f64::from(writes) / n as f64,
        at(0.5),
        at(0.99),
        at(1.0),
    )
}

/// The scenario ids given to `--only`, upper-cased; empty: all of them.
fn only() -> Vec<String> {
    let args: Vec<String> = std::env::args().collect();
    let mut ids = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let list = match a.strip_prefix("--only") {
            Some("") => args.get(i + 1).map_or("", String::as_str),
            Some(rest) => rest.strip_prefix('=').unwrap_or(""),
            None => continue,
        };
        ids.extend(
            list.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_uppercase),
        );
    }
    ids
}

/// Room sizes for S4 from `--s4-sizes 1000,50000`, to look at one size.
fn s4_sizes() -> Option<&'static [u64]> {
    let args: Vec<String> = std::env::args().collect();
    let list = args
        .iter()
        .position(|a| a == "--s4-sizes")
        .and_then(|i| args.get(i + 1))?;
    let sizes: Vec<u64> = list.split(',').filter_map(|s| s.parse().ok()).collect();
    (!sizes.is_empty()).then(|| &*Vec::leak(sizes))
}

/// The key of a report section: its heading up to " — " (`S1`, `Size`, …).
fn key(chunk: &str) -> &str {
    let heading = chunk.lines().next().unwrap_or("");
    let heading = heading.strip_prefix("## ").unwrap_or(heading);
    heading.split(" — ").next().unwrap_or(heading).trim()
}

/// The number of a scenario key (`S4` → 4).
fn scenario_number(key: &str) -> Option<u32> {
    key.strip_prefix('S')?.parse().ok()
}

/// `existing` with the sections in `fresh` (by key) replaced or inserted in
/// scenario order, and the closing notes replaced by `notes`.
fn merge(existing: &str, fresh: &[(String, String)], notes: &str) -> String {
    let mut chunks: Vec<String> = Vec::new();
    for line in existing.split_inclusive('\n') {
        if line.starts_with("## ") || chunks.is_empty() {
            chunks.push(String::new());
        }
        if let Some(last) = chunks.last_mut() {
            last.push_str(line);
        }
    }
    for (id, text) in fresh {
        if let Some(c) = chunks.iter_mut().skip(1).find(|c| key(c) == id) {
            c.clone_from(text);
            continue;
        }
        let n = scenario_number(id).unwrap_or(u32::MAX);
        let at = chunks
            .iter()
            .skip(1)
            .position(|c| scenario_number(key(c)).is_none_or(|m| m > n))
            .map_or(chunks.len(), |p| p + 1);
        chunks.insert(at, text.clone());
    }
    let notes_key = key(notes).to_owned();
    match chunks.iter_mut().skip(1).find(|c| key(c) == notes_key) {
        Some(c) => notes.clone_into(c),
        None => chunks.push(notes.to_owned()),
    }
    chunks.concat()
}

/// S6 (one login's CPU on the server) and the size of the wasm, when wanted.
async fn login_and_size(
    edgechat: &Server,
    wanted: &impl Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let mut sections = Vec::new();
    if wanted("S6") {
        // S6: one login's CPU on the server (the Argon2id hash dominates).
        let base = format!("http://127.0.0.1:{}", edgechat.port);
        let http = reqwest::Client::new();
        let before = edgechat.cpu_micros();
        let logins = 10;
        for i in 0..logins {
            let _ = http
                .post(format!("{base}/api/v1/auth/login"))
                .header("cf-connecting-ip", format!("10.200.0.{i}"))
                .json(&serde_json::json!({"username": format!("bench{i}"), "password": "benchmark password"}))
                .send()
                .await;
        }
        let login_ms = (edgechat.cpu_micros() - before) as f64 / f64::from(logins) / 1000.0;
        sections.push((
            "S6".into(),
            format!("## S6 — one login\n\nServer CPU per login (Argon2id m=19 MiB, t=2, p=1, in wasm): {login_ms:.0} ms.\n\n"),
        ));
    }
    if wanted("SIZE") {
        let wasm = root().join("build/index_bg.wasm");
        let gz = sh(&format!("gzip -c {} | wc -c", wasm.display()));
        let raw = std::fs::metadata(&wasm).map_or(0, |m| m.len());
        sections.push((
            "Size".into(),
            format!(
                "## Size\n\n`build/index_bg.wasm`: {raw} bytes, {gz} bytes gzipped (target ≤ 450 KB).\n\n"
            ),
        ));
    }
    sections
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let only = only();
    let wanted = |id: &str| only.is_empty() || only.iter().any(|o| o == id);
    let (scale, runs) = if quick { (10, 1) } else { (1, 3) };
    let fanouts: Vec<Scenario> = scenarios(scale)
        .into_iter()
        .filter(|s| wanted(s.id))
        .collect();
    let vars: Vec<String> = [
        format!("JWT_SECRET:{JWT_SECRET}"),
        "LIMIT_AUTH_PER_MINUTE:1000000".into(),
        "LIMIT_MSG_BURST:1000000".into(),
        "LIMIT_MSG_PER_SECOND:1000000".into(),
        "ALLOWED_ORIGINS:http://127.0.0.1".into(),
        // The room logs each D1 batch's time: the profile of S1–S3.
        "DEV_TIMINGS:1".into(),
    ]
    .into();
    let mut edgechat = Server::start(&root(), "0", &vars, true);
    let floor =
        (!fanouts.is_empty()).then(|| Server::start(&root().join("bench/floor"), "0", &[], false));
    let base = format!("http://127.0.0.1:{}", edgechat.port);
    eprintln!(
        "edgechat on {base}, floor on {:?}",
        floor.as_ref().map(|f| f.port)
    );

    // Each fan-out socket is its own user; S4's rooms and S6's logins need ten.
    let needed = fanouts
        .iter()
        .map(|s| s.shape.senders + s.shape.receivers + 1)
        .fold(history::MEMBERS.max(10), usize::max);
    let users = client::users(&base, "bench", needed).await;
    let mut sections: Vec<(String, String)> = Vec::new();
    let machine = format!(
        "{} — {} cores, {}",
        sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
        sh("nproc --all"),
        sh("uname -sr")
    );
    let date = sh("date -u +%Y-%m-%d");
    let mut report = String::new();
    let _ = writeln!(report, "# Benchmarks\n");
    let _ = writeln!(
        report,
        "Produced by `make bench` on {date} ({machine}). Server (`wrangler dev`, workerd, local D1) \
         pinned to core 0, load generator to core 1. Each figure is the median of {runs} run(s); \
         lost/duplicated/out-of-order are the worst run. Latency is send → delivery on one \
         process clock. The floor is `bench/floor`: one Durable Object that only rebroadcasts.\n",
    );
    if let Some(floor) = &floor {
        for sc in &fanouts {
            let text = fanout_section(sc, runs, &users, &edgechat, floor).await;
            sections.push((sc.id.to_owned(), text));
        }
    }

    if wanted("S4") {
        let plan = history::Plan::new(quick, s4_sizes());
        let text = history::section(&mut edgechat, &users, plan).await;
        sections.push(("S4".into(), text));
    }
    if wanted("S5") {
        sections.push(("S5".into(), seating::section(quick).await));
    }

    sections.extend(login_and_size(&edgechat, &wanted).await);

    let docs = root().join("docs/benchmarks.md");
    let out = if quick {
        root().join("target/benchmarks-quick.md")
    } else {
        docs.clone()
    };
    let text = if quick || only.is_empty() {
        for (_, s) in &sections {
            report.push_str(s);
        }
        report.push_str(NOTES);
        report
    } else {
        // Only some scenarios ran: the other sections keep their figures.
        let existing = std::fs::read_to_string(&docs).unwrap_or(report);
        let stamped: Vec<(String, String)> = sections
            .into_iter()
            .map(|(id, s)| {
                let note = format!(
                    "_This section alone was measured on {date} ({machine}) with \
                     `make bench ONLY={}`; the other sections are from the run described at the top._\n\n",
                    only.join(",")
                );
                (id, s + &note)
            })
            .collect();
        merge(&existing, &stamped, NOTES)
    };
    std::fs::write(&out, text).expect("write report");
    eprintln!("wrote {}", out.display());
}

#[cfg(test)]
mod tests {
    const DOC: &str = "# Benchmarks\n\nhead\n\n## S1 — a\n\none\n\n## S6 — login\n\nsix\n\n\
                       ## Size\n\nbytes\n\n## Where edgechat stands against the targets\n\nold\n";

    #[test]
    fn reads_the_rooms_batch_timings() {
        let log = "x\n[wrangler] edgechat-timing d1-batch writes=3 ms=17\u{1b}[0m\n\
                   edgechat-timing d1-batch writes=1 ms=9\nother\n";
        let mut b = super::d1_batches(log);
        assert_eq!(b, vec![(3, 17), (1, 9)]);
        let text = super::batch_profile(&mut b);
        assert!(text.contains("2 D1 batches"), "{text}");
        assert!(text.contains("2.0 writes"), "{text}");
        assert!(text.contains("p50 9 ms, p99 17 ms, max 17 ms"), "{text}");
    }

    #[test]
    fn merge_inserts_in_order_and_replaces_notes() {
        let notes = "## Where edgechat stands against the targets\n\nnew\n";
        let s4 = ("S4".to_owned(), "## S4 — pages\n\nfour\n\n".to_owned());
        let out = super::merge(DOC, &[s4], notes);
        assert_eq!(
            out,
            "# Benchmarks\n\nhead\n\n## S1 — a\n\none\n\n## S4 — pages\n\nfour\n\n\
             ## S6 — login\n\nsix\n\n## Size\n\nbytes\n\n{notes}"
                .replace("{notes}", notes)
        );
        let again = ("S4".to_owned(), "## S4 — pages\n\nfive\n\n".to_owned());
        let twice = super::merge(&out, &[again], notes);
        assert_eq!(twice, out.replace("four", "five"));
    }

    #[test]
    fn merge_replaces_a_scenario() {
        let s1 = ("S1".to_owned(), "## S1 — a\n\nuno\n\n".to_owned());
        let out = super::merge(
            DOC,
            &[s1],
            "## Where edgechat stands against the targets\n\nold\n",
        );
        assert_eq!(out, DOC.replace("one", "uno"));
    }
}
