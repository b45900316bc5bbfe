//! Fan-out scenarios: senders publish timestamped messages, receivers
//! measure latency and count lost, duplicated and out-of-order deliveries.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::client::{connect, Rx, Tx};

/// What a scenario asks for.
#[derive(Clone, Copy)]
pub struct Shape {
    pub senders: usize,
    pub receivers: usize,
    pub per_sender: usize,
    /// Messages per second per sender; `None`: as fast as acks allow.
    pub rate: Option<f64>,
}

/// Where the sockets go.
#[derive(Clone)]
pub enum Target {
    /// edgechat: the room's socket URL, and a token per socket.
    Edgechat { url: String, tokens: Vec<String> },
    /// The floor: any socket joins its one room.
    Floor { url: String },
}

/// One run's numbers.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub deliveries: u64,
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub server_cpu_us: u64,
}

/// Messages in flight per sender when sending as fast as acks allow.
const WINDOW: usize = 32;

fn body(sender: usize, n: usize, t0: Instant) -> String {
    let t = t0.elapsed().as_micros();
    let mut b = format!("b {sender} {n} {t} ");
    while b.len() < 100 {
        b.push('x');
    }
    b
}

/// `(sender, n, sent_at_us)` from a delivered body.
fn parse(body: &str) -> Option<(usize, usize, u128)> {
    let mut it = body.split(' ');
    (it.next()? == "b").then_some(())?;
    Some((
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    ))
}

/// The body of a delivery frame, or `None` for other frames.
fn delivered(target: &Target, text: &str) -> Option<String> {
    match target {
        Target::Floor { .. } => Some(text.to_owned()),
        Target::Edgechat { .. } => {
            let v: Value = serde_json::from_str(text).ok()?;
            (v["type"] == "message").then(|| v["message"]["body"].as_str().map(str::to_owned))?
        }
    }
}

fn is_own_ack(target: &Target, text: &str, me: usize) -> bool {
    match target {
        Target::Floor { .. } => parse(text).is_some_and(|(s, _, _)| s == me),
        Target::Edgechat { .. } => text.contains("\"type\":\"ack\""),
    }
}

async fn open(target: &Target, index: usize) -> (Tx, Rx) {
    match target {
        Target::Floor { url } => connect(url, None).await,
        Target::Edgechat { url, tokens } => connect(url, Some(&tokens[index])).await,
    }
}

async fn send(target: &Target, tx: &mut Tx, sender: usize, n: usize, t0: Instant) {
    let b = body(sender, n, t0);
    let frame = match target {
        Target::Floor { .. } => b,
        Target::Edgechat { .. } => {
            json!({"type": "send", "client_id": format!("s{sender}-{n}"), "body": b}).to_string()
        }
    };
    tx.send(Message::text(frame)).await.expect("send");
}

async fn run_sender(target: Target, mut tx: Tx, mut rx: Rx, me: usize, shape: Shape, t0: Instant) {
    let (mut sent, mut acked) = (0usize, 0usize);
    let window = if shape.rate.is_some() {
        usize::MAX
    } else {
        WINDOW
    };
    while acked < shape.per_sender {
        while sent < shape.per_sender && sent - acked < window {
            if let Some(rate) = shape.rate {
                let due = Duration::from_secs_f64(sent as f64 / rate);
                if t0.elapsed() < due {
                    break;
                }
            }
            send(&target, &mut tx, me, sent, t0).await;
            sent += 1;
        }
        let wait = Duration::from_millis(if shape.rate.is_some() { 2 } else { 1000 });
        match tokio::time::timeout(wait, rx.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if is_own_ack(&target, &t, me) => acked += 1,
            Ok(None | Some(Err(_))) => break,
            _ => {}
        }
    }
    // Keep reading until the run ends, so the server never blocks on us.
    tokio::spawn(async move { while rx.next().await.is_some() {} });
}

struct Seen {
    hist: Histogram<u64>,
    got: Vec<Vec<u32>>,
    out_of_order: u64,
}

async fn run_receiver(target: Target, mut rx: Rx, shape: Shape, t0: Instant) -> Seen {
    let mut seen = Seen {
        hist: Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram"),
        got: vec![vec![0; shape.per_sender]; shape.senders],
        out_of_order: 0,
    };
    let mut last = vec![None::<usize>; shape.senders];
    let expected = shape.senders * shape.per_sender;
    let mut count = 0;
    while count < expected {
        let next = tokio::time::timeout(Duration::from_secs(10), rx.next()).await;
        let Ok(Some(Ok(Message::Text(text)))) = next else {
            if matches!(next, Err(_) | Ok(None | Some(Err(_)))) {
                break; // idle or closed: the rest is lost
            }
            continue;
        };
        let Some((s, n, sent_us)) = delivered(&target, &text).as_deref().and_then(parse) else {
            continue;
        };
        if s >= shape.senders || n >= shape.per_sender {
            continue;
        }
        let now = t0.elapsed().as_micros();
        let _ = seen
            .hist
            .record((now.saturating_sub(sent_us)).max(1) as u64);
        seen.got[s][n] += 1;
        if last[s].is_some_and(|l| n < l) {
            seen.out_of_order += 1;
        }
        last[s] = Some(n);
        count += 1;
    }
    seen
}

/// Runs one scenario; `cpu` reads the server's CPU time in µs.
pub async fn run(target: &Target, shape: Shape, cpu: impl Fn() -> u64) -> Outcome {
    let mut receivers = Vec::new();
    for i in 0..shape.receivers {
        receivers.push(open(target, i).await.1);
    }
    let mut senders = Vec::new();
    for s in 0..shape.senders {
        senders.push(open(target, shape.receivers + s).await);
    }
    // Let welcome and presence frames settle before the clock starts.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cpu_before = cpu();
    let t0 = Instant::now();
    let recv_tasks: Vec<_> = receivers
        .into_iter()
        .map(|rx| tokio::spawn(run_receiver(target.clone(), rx, shape, t0)))
        .collect();
    let send_tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(s, (tx, rx))| tokio::spawn(run_sender(target.clone(), tx, rx, s, shape, t0)))
        .collect();
    for t in send_tasks {
        t.await.expect("sender");
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram");
    let mut out = Outcome::default();
    for t in recv_tasks {
        let seen = t.await.expect("receiver");
        hist.add(&seen.hist).expect("merge");
        out.out_of_order += seen.out_of_order;
        for per_sender in &seen.got {
            for &c in per_sender {
                match c {
                    0 => out.lost += 1,
                    1 => {}
                    c => out.duplicated += u64::from(c - 1),
                }
            }
        }
    }
    let elapsed = t0.elapsed();
    out.server_cpu_us = cpu().saturating_sub(cpu_before);
    out.deliveries = hist.len();
    // Time to the last delivery: the slowest receiver's end bounds it.
    out.per_sec = out.deliveries as f64 / elapsed.as_secs_f64();
    out.p50_ms = hist.value_at_quantile(0.5) as f64 / 1000.0;
    out.p99_ms = hist.value_at_quantile(0.99) as f64 / 1000.0;
    out.max_ms = hist.max() as f64 / 1000.0;
    out
}
