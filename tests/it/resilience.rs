//! Nothing acknowledged is lost, nothing is duplicated: under storage
//! faults, hibernation and abrupt clients.

use std::collections::BTreeSet;

use serde_json::json;

use crate::client::TestUser;
use crate::messages::{chat_together, history};
use crate::server::FAULTY_ROOM_PREFIX;
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
    let expected: Vec<u64> = (1..=(SENDERS * EACH) as u64).collect();
    for seen in &orders {
        assert_eq!(
            seen.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            expected,
            "each message seen exactly once, in order"
        );
        assert_eq!(seen, &orders[0]);
    }
    let stored = history(&users[0], &room).await;
    assert_eq!(
        stored
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        expected
    );
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
