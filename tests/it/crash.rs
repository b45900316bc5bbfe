//! Crashes: mid-stream the runtime is killed with `kill -9` and started again
//! on the same persisted state. Every client reconnects with `after_seq` and
//! re-sends what was not acknowledged, with the same `client_id`. Afterwards
//! every acknowledged message is in history exactly once, seqs are
//! contiguous, and every client saw every message once, in the same order.
//!
//! `make test` runs a short version (2 crashes, 300 messages); `make chaos`
//! sets `CHAOS_CRASHES` and `CHAOS_MESSAGES` for the long one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::{try_connect_at, Api, Socket, TestUser};
use crate::messages::{assert_one_order, history, Refused};
use crate::server::Server;
use crate::unique;

const SENDERS: usize = 10;
/// Sends a client keeps unacknowledged at once.
const WINDOW: usize = 8;

/// The run's size, from the environment (defaults: the short version).
struct Plan {
    crashes: usize,
    each: usize,
}

impl Plan {
    fn from_env() -> Self {
        let read = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Self {
            crashes: read("CHAOS_CRASHES", 2),
            each: read("CHAOS_MESSAGES", 300).div_ceil(SENDERS),
        }
    }

    fn total(&self) -> usize {
        self.each * SENDERS
    }

    /// Long enough for the run on a busy 2-core machine, short enough to fail.
    fn deadline(&self) -> Instant {
        let crashes = u32::try_from(self.crashes).expect("a sane number of crashes");
        let total = u64::try_from(self.total()).expect("a sane number of messages");
        Instant::now()
            + Duration::from_mins(1)
            + Duration::from_secs(45) * crashes
            + Duration::from_millis(10 * total)
    }
}

/// What one client did and saw.
struct Outcome {
    /// `client_id` → acknowledged seq.
    acks: BTreeMap<String, u64>,
    /// Every message seen, as (`seq`, `client_id`), in arrival order.
    seen: Vec<(u64, String)>,
    /// Sockets opened after the first.
    reconnects: usize,
    /// Sends repeated on a new socket because the old one ended unacked.
    resent: usize,
    /// Of those, the ones stored before the crash (the replay brought them
    /// back before the repeat was acked): the ack was lost, not the message.
    stored_unacked: usize,
}

pub async fn kill_9_mid_stream_loses_nothing() {
    let plan = Plan::from_env();
    let mut server = Server::start_with(&[
        // Only the crashes refuse anything here.
        "LIMIT_MSG_BURST:1000".to_owned(),
        "LIMIT_MSG_PER_SECOND:1000".to_owned(),
    ])
    .await;
    let base = server.base_url();
    let mut users = Vec::new();
    for i in 0..SENDERS {
        users.push(TestUser::new_with(Api::at(&base), &format!("k{i}x")).await);
    }
    let room = users[0]
        .create_room_named(&unique("crash "), "public")
        .await;
    for u in &users[1..] {
        u.join_room(&room).await;
    }

    let acked = Arc::new(AtomicUsize::new(0));
    let deadline = plan.deadline();
    let tasks: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let ids: Vec<String> = (0..plan.each).map(|j| format!("k{i}-{j}")).collect();
            let (token, base, room) = (u.token().to_owned(), base.clone(), room.clone());
            let (acked, total) = (acked.clone(), plan.total());
            tokio::spawn(
                async move { client(&base, &token, &room, ids, total, &acked, deadline).await },
            )
        })
        .collect();

    // Crash at evenly spread points of the stream, each a little off.
    let mut jitter = Jitter::new();
    for round in 1..=plan.crashes {
        let at = plan.total() * round / (plan.crashes + 1) + jitter.below(plan.each);
        while acked.load(Ordering::Relaxed) < at.min(plan.total() - 1) {
            assert!(Instant::now() < deadline, "stalled before crash {round}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.crash();
        tokio::time::sleep(Duration::from_millis(jitter.below(500) as u64)).await;
        server.restart().await;
    }

    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("client task"));
    }
    let stored = history(&users[0], &room).await;
    let (lost, duplicated) = check(&outcomes, &stored, plan.total());
    let reconnects: usize = outcomes.iter().map(|o| o.reconnects).sum();
    let resent: usize = outcomes.iter().map(|o| o.resent).sum();
    let stored_unacked: usize = outcomes.iter().map(|o| o.stored_unacked).sum();
    eprintln!(
        "crash run: {} messages, {} crashes survived, {reconnects} reconnects, \
         {resent} sends repeated ({stored_unacked} of them stored before the crash, \
         their ack lost), {lost} lost, {duplicated} duplicated",
        plan.total(),
        plan.crashes
    );
    drop(server);
}

/// Checks the run's promises, after counting what was lost (acked but not
/// in history at its seq) and duplicated (a `client_id` stored twice).
fn check(outcomes: &[Outcome], stored: &[Value], total: usize) -> (usize, usize) {
    let stored_ids: BTreeMap<&str, u64> = stored
        .iter()
        .map(|m| (m["client_id"].as_str().unwrap(), m["seq"].as_u64().unwrap()))
        .collect();
    let acks: BTreeMap<&str, u64> = outcomes
        .iter()
        .flat_map(|o| o.acks.iter().map(|(c, s)| (c.as_str(), *s)))
        .collect();
    let lost = acks
        .iter()
        .filter(|(c, s)| stored_ids.get(*c) != Some(s))
        .count();
    let duplicated = stored.len() - stored_ids.len();
    assert_eq!(
        (lost, duplicated),
        (0, 0),
        "nothing lost, nothing duplicated"
    );
    assert_eq!(acks.len(), total, "every message was acked in the end");
    let orders: Vec<_> = outcomes.iter().map(|o| o.seen.clone()).collect();
    assert_one_order(&orders, stored, total);
    (lost, duplicated)
}

/// Sends `ids` with at most [`WINDOW`] unacknowledged, reconnecting with
/// `after_seq` whenever the socket ends and re-sending what is unacked,
/// until all are acked and `total` messages were seen.
async fn client(
    base: &str,
    token: &str,
    room: &str,
    ids: Vec<String>,
    total: usize,
    acked: &AtomicUsize,
    deadline: Instant,
) -> Outcome {
    let mut out = Outcome {
        acks: BTreeMap::new(),
        seen: Vec::new(),
        reconnects: 0,
        resent: 0,
        stored_unacked: 0,
    };
    let mut resent = BTreeSet::new();
    let mut next = 0;
    let mut unacked: BTreeSet<String> = BTreeSet::new();
    let mut connections = 0;
    while out.acks.len() < ids.len() || out.seen.len() < total {
        assert!(
            Instant::now() < deadline,
            "client stalled: {} acks, {} seen",
            out.acks.len(),
            out.seen.len()
        );
        let Some(mut socket) = connect(base, token, room, out.seen.last().map_or(0, |s| s.0)).await
        else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        connections += 1;
        out.reconnects = connections - 1;
        // Whatever was in flight when the last socket ended goes again.
        out.resent += unacked.len();
        resent.extend(unacked.iter().cloned());
        let mut retry: Vec<(Instant, String)> = unacked
            .iter()
            .map(|c| (Instant::now(), c.clone()))
            .collect();
        'socket: while out.acks.len() < ids.len() || out.seen.len() < total {
            assert!(
                Instant::now() < deadline,
                "client stalled: {} acks, {} seen",
                out.acks.len(),
                out.seen.len()
            );
            while unacked.len() < WINDOW && next < ids.len() {
                unacked.insert(ids[next].clone());
                retry.push((Instant::now(), ids[next].clone()));
                next += 1;
            }
            let now = Instant::now();
            let (due, later): (Vec<_>, Vec<_>) = retry.into_iter().partition(|(at, _)| *at <= now);
            retry = later;
            for (_, cid) in due {
                if !socket.try_say(&cid, &format!("body of {cid}")).await {
                    break 'socket;
                }
            }
            let frame = match socket.poll_frame(Duration::from_millis(50)).await {
                Ok(Some(frame)) => frame,
                Ok(None) => continue,
                Err(_) => break 'socket,
            };
            match frame["type"].as_str() {
                Some("ack") => {
                    let cid = frame["client_id"].as_str().unwrap().to_owned();
                    let seq = frame["seq"].as_u64().unwrap();
                    unacked.remove(&cid);
                    if resent.remove(&cid) && out.seen.iter().any(|(_, c)| *c == cid) {
                        out.stored_unacked += 1;
                    }
                    match out.acks.insert(cid, seq) {
                        Some(old) => assert_eq!(old, seq, "a repeat is acked with the same seq"),
                        None => {
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Some("message") => {
                    let m = &frame["message"];
                    let seq = m["seq"].as_u64().unwrap();
                    let last = out.seen.last().map_or(0, |s| s.0);
                    assert_eq!(seq, last + 1, "no gap, no duplicate: {frame}");
                    out.seen
                        .push((seq, m["client_id"].as_str().unwrap().to_owned()));
                }
                Some("error") => {
                    // Not stored (the crash cut the storage call short) or
                    // rate limited: safe to send again with the same client_id.
                    let refused = Refused::from_frame(&frame);
                    retry.push((Instant::now() + refused.wait, refused.client_id));
                }
                Some("presence" | "typing" | "pong") => {}
                other => panic!("unexpected frame {other:?}: {frame}"),
            }
        }
    }
    out
}

/// The room's socket, resuming after `after_seq`, once its `welcome` came;
/// `None` while the server is down or restarting.
async fn connect(base: &str, token: &str, room: &str, after_seq: u64) -> Option<Socket> {
    let auth = format!("Bearer {token}");
    let path = format!("/api/v1/rooms/{room}/ws?after_seq={after_seq}");
    let mut socket = try_connect_at(base, &path, &[("authorization", &auth)])
        .await
        .ok()?;
    let welcome = socket.poll_frame(Duration::from_secs(10)).await.ok()??;
    assert_eq!(welcome["type"], "welcome", "first frame: {welcome}");
    Some(socket)
}

/// A small xorshift, seeded from the clock: where each crash lands varies
/// from run to run (the seed is printed when a run fails).
struct Jitter(u64);

impl Jitter {
    fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        eprintln!("crash run: jitter seed {seed}");
        Self(seed)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}
