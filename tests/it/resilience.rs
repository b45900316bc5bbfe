//! Nothing acknowledged is lost, nothing is duplicated: under storage
//! faults, hibernation and abrupt clients.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::client::{Api, TestUser};
use crate::messages::{assert_one_order, chat_together, history};
use crate::server::{Server, FAULTY_ROOM_PREFIX};
use crate::unique;

pub async fn storage_faults_still_exactly_once() {
    // A share of this room's D1 batches fail, half of them after
    // committing with the answer lost. Senders retry what is not acked.
    const SENDERS: usize = 5;
    const EACH: usize = 30;
    let mut users = Vec::new();
    for i in 0..SENDERS {
        users.push(TestUser::new(&format!("f{i}x")).await);
    }
    let room = users[0]
        .create_room_named(&unique(&format!("{FAULTY_ROOM_PREFIX} ")), "public")
        .await;
    for u in &users[1..] {
        u.join_room(&room).await;
    }
    let mut orders = Vec::new();
    let mut acked = BTreeSet::new();
    let mut not_stored = 0;
    for chat in chat_together(&users, &room, EACH).await {
        acked.extend(chat.acks.into_keys());
        orders.push(chat.seen);
        not_stored += chat.not_stored;
    }
    assert!(not_stored > 0, "the injected faults refused some sends");
    let stored = history(&users[0], &room).await;
    assert_one_order(&orders, &stored, SENDERS * EACH);
    let stored_ids: BTreeSet<String> = stored
        .iter()
        .map(|m| m["client_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        stored_ids, acked,
        "every acked message stored once, nothing else"
    );
}

pub async fn abrupt_clients_leave_the_room_working() {
    let (ann, bob, carol) = (
        TestUser::new("ann").await,
        TestUser::new("bob").await,
        TestUser::new("carol").await,
    );
    let room = crate::room_socket::room_with(&[&ann, &bob, &carol]).await;
    let (mut a, _) = ann.join(&room).await;
    let (b, _) = bob.join(&room).await;
    let listed = |p: &serde_json::Value, list: &str| {
        p[list]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == bob.id())
    };
    while !listed(&a.next_of("presence").await, "joined") {}
    // Bob vanishes without a close frame; Carol never reads.
    drop(b);
    let (_never_reads, _) = carol.join(&room).await;
    for i in 0..10 {
        a.say(&format!("a{i}"), "still here").await;
    }
    // Every send is acked, and Bob's leaving is noticed and announced (the
    // presence frame may come before, between or after the acks).
    let (mut acks, mut bob_left) = (0, false);
    while acks < 10 || !bob_left {
        let f = a.next_frame().await;
        match f["type"].as_str() {
            Some("ack") => {
                assert_eq!(f["client_id"], format!("a{acks}"));
                acks += 1;
            }
            Some("presence") => bob_left |= listed(&f, "left"),
            _ => {}
        }
    }
    a.send_json(&json!({"type": "ping"})).await;
    assert_eq!(a.next_of("pong").await["type"], "pong");
}

pub async fn a_client_that_never_reads_is_closed() {
    // Low limits on a server of its own: a socket more than 100 frames
    // behind and silent for over 3 s is closed (3 s, not less: on a busy
    // machine a ping can wait a second in the room's queue).
    const SENT: usize = 1200;
    let server = Server::start_with(&[
        "LIMIT_SOCKET_BACKLOG_FRAMES:100".to_owned(),
        "LIMIT_SOCKET_SILENCE_SECONDS:3".to_owned(),
        "LIMIT_MSG_BURST:1000".to_owned(),
        "LIMIT_MSG_PER_SECOND:1000".to_owned(),
    ])
    .await;
    let base = server.base_url();
    let (ann, bob, carol) = (
        TestUser::new_with(Api::at(&base), "ann").await,
        TestUser::new_with(Api::at(&base), "bob").await,
        TestUser::new_with(Api::at(&base), "carol").await,
    );
    let room = ann.create_room("public").await;
    bob.join_room(&room).await;
    carol.join_room(&room).await;
    let (mut never_reads, _) = bob.join(&room).await;
    let (mut c, _) = carol.join(&room).await;
    let (mut a, _) = ann.join(&room).await;
    let bob_id = bob.id().to_owned();

    // Carol only listens, and pings every 200 ms: she stays.
    let listener = tokio::spawn(async move {
        let (mut messages, mut bob_left) = (0, false);
        let mut ping_at = Instant::now();
        while messages < SENT || !bob_left {
            if Instant::now() >= ping_at {
                c.send_json(&json!({"type": "ping"})).await;
                ping_at = Instant::now() + Duration::from_millis(200);
            }
            let Some(f) = c.next_frame_within(Duration::from_millis(50)).await else {
                continue;
            };
            match f["type"].as_str() {
                Some("message") => messages += 1,
                Some("presence") => {
                    bob_left |= f["left"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|u| u["id"] == bob_id);
                }
                _ => {}
            }
        }
    });
    // Ann sends for about six seconds, 20 every 100 ms.
    let mut acks = 0;
    for burst in 0..SENT / 20 {
        for i in 0..20 {
            a.say(&format!("m{burst}-{i}"), "a message nobody minds missing")
                .await;
        }
        let tick = Instant::now() + Duration::from_millis(100);
        while let Some(f) = a
            .next_frame_within(tick.saturating_duration_since(Instant::now()))
            .await
        {
            acks += usize::from(f["type"] == "ack");
        }
    }
    while acks < SENT {
        let f = a.next_frame().await;
        assert_ne!(f["type"], "error", "{f}");
        acks += usize::from(f["type"] == "ack");
    }
    listener
        .await
        .expect("carol heard everything and saw Bob go");

    // Bob was closed partway: what was queued for him stopped growing.
    let (frames, code) = never_reads.frames_until_close().await;
    let got = frames.iter().filter(|f| f["type"] == "message").count();
    assert_eq!(code, Some(4408), "closed as not reading");
    assert!(
        got < SENT,
        "the room stopped sending to Bob ({got} of {SENT})"
    );
    // The room goes on.
    a.say("after", "still going").await;
    assert_eq!(a.next_of("ack").await["client_id"], "after");
    drop(server);
}
