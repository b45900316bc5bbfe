//! Notifications: who is told, the live stream, the list, unread counts,
//! and rooms that never wait for a slow hub.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{try_connect, Socket, TestUser};
use crate::room_socket::room_with;
use crate::server::{SLOW_HUB_MS, SLOW_HUB_PREFIX};

/// How soon a notification must arrive on the stream.
const WITHIN: Duration = Duration::from_secs(3);

async fn hub(user: &TestUser) -> Socket {
    let auth = format!("Bearer {}", user.token());
    try_connect("/api/v1/notifications/ws", &[("authorization", &auth)])
        .await
        .unwrap_or_else(|e| panic!("hub socket refused: {e:?}"))
}

/// The next `notification` frame within `wait`, skipping `unread` frames.
async fn next_notification(hub: &mut Socket, wait: Duration) -> Value {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = hub
            .next_frame_within(left)
            .await
            .unwrap_or_else(|| panic!("no notification within {wait:?}"));
        if frame["type"] == "notification" {
            return frame["notification"].clone();
        }
        assert_eq!(frame["type"], "unread", "{frame}");
    }
}

async fn list(user: &TestUser, query: &str) -> Vec<Value> {
    let (status, page) = user
        .call(Method::GET, &format!("/api/v1/notifications{query}"), None)
        .await;
    assert_eq!(status, 200, "{page}");
    page["notifications"].as_array().unwrap().clone()
}

async fn post(user: &TestUser, room: &str, body: &str) -> Value {
    post_with(
        user,
        room,
        json!({"client_id": crate::unique("n"), "body": body}),
    )
    .await
}

async fn post_with(user: &TestUser, room: &str, body: Value) -> Value {
    let (status, m) = user
        .call(
            Method::POST,
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&body),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    m
}

pub async fn mention_arrives_on_the_stream() {
    let (ann, bob) = (TestUser::new("ann").await, TestUser::new("bob").await);
    let room = room_with(&[&ann, &bob]).await;
    let mut h = hub(&bob).await;
    let m = post(
        &ann,
        &room,
        &format!("hey @{} look.", bob.username.to_uppercase()),
    )
    .await;
    let n = next_notification(&mut h, WITHIN).await;
    assert_eq!(n["kind"], "mention");
    assert_eq!(
        (n["room_id"].as_str(), &n["seq"]),
        (Some(room.as_str()), &m["seq"])
    );
    assert_eq!(n["from"]["id"], ann.id());
    assert!(n["from"]["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(n["read"], false);
    assert!(n["preview"].as_str().unwrap().starts_with("hey @"));
}

pub async fn every_open_stream_gets_it() {
    let (ann, bob) = (TestUser::new("ann").await, TestUser::new("bob").await);
    let room = room_with(&[&ann, &bob]).await;
    let (mut tab1, mut tab2) = (hub(&bob).await, hub(&bob).await);
    post(&ann, &room, &format!("@{}", bob.username)).await;
    let (a, b) = (
        next_notification(&mut tab1, WITHIN).await,
        next_notification(&mut tab2, WITHIN).await,
    );
    assert_eq!(a, b);
}

pub async fn dms_and_replies_notify() {
    let (ann, bob) = (TestUser::new("ann").await, TestUser::new("bob").await);
    let (status, dm) = ann
        .call(
            Method::POST,
            "/api/v1/dms",
            Some(&json!({"username": bob.username})),
        )
        .await;
    assert_eq!(status, 201);
    let dm = dm["id"].as_str().unwrap().to_owned();
    let mut h = hub(&bob).await;
    // A DM that also mentions the other party is one notification: dm.
    let m = post(&ann, &dm, &format!("psst @{}", bob.username)).await;
    let n = next_notification(&mut h, WITHIN).await;
    assert_eq!((n["kind"].as_str(), &n["seq"]), (Some("dm"), &m["seq"]));
    let for_that = list(&bob, "")
        .await
        .into_iter()
        .filter(|x| x["seq"] == m["seq"])
        .count();
    assert_eq!(for_that, 1);

    // A reply tells the author of the replied message.
    let room = room_with(&[&ann, &bob]).await;
    let original = post(&bob, &room, "what do you think?").await;
    post_with(
        &ann,
        &room,
        json!({"client_id": "r1", "body": "agreed", "reply_to": original["seq"]}),
    )
    .await;
    let n = next_notification(&mut h, WITHIN).await;
    assert_eq!(n["kind"], "reply");
    assert_eq!(n["room_id"], room.as_str());
}

pub async fn offline_mentions_wait_in_the_list() {
    let (ann, carol) = (TestUser::new("ann").await, TestUser::new("carol").await);
    let room = room_with(&[&ann, &carol]).await;
    let m = post(
        &ann,
        &room,
        &format!("@{} when you are back", carol.username),
    )
    .await;
    let unread = list(&carol, "?unread=true").await;
    assert_eq!(unread.len(), 1);
    assert_eq!(
        (unread[0]["kind"].as_str(), &unread[0]["seq"]),
        (Some("mention"), &m["seq"])
    );
    let id = unread[0]["id"].as_str().unwrap();
    // Unknown ids and other users' ids are ignored.
    let (status, _) = ann
        .call(
            Method::POST,
            "/api/v1/notifications/read",
            Some(&json!({"ids": [id, "nope"]})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        list(&carol, "?unread=true").await.len(),
        1,
        "ann cannot settle carol's"
    );
    let (status, _) = carol
        .call(
            Method::POST,
            "/api/v1/notifications/read",
            Some(&json!({"ids": [id]})),
        )
        .await;
    assert_eq!(status, 204);
    assert!(list(&carol, "?unread=true").await.is_empty());
    let all = list(&carol, "").await;
    assert_eq!((all.len(), all[0]["read"].as_bool()), (1, Some(true)));
    for bad in [
        json!({}),
        json!({"ids": "x"}),
        json!({"all": true, "ids": []}),
        json!({"all": "yes"}),
    ] {
        let (status, _) = carol
            .call(Method::POST, "/api/v1/notifications/read", Some(&bad))
            .await;
        assert_eq!(status, 400, "{bad}");
    }
    post(&ann, &room, &format!("@{} again", carol.username)).await;
    let (status, _) = carol
        .call(
            Method::POST,
            "/api/v1/notifications/read",
            Some(&json!({"all": true})),
        )
        .await;
    assert_eq!(status, 204);
    assert!(list(&carol, "?unread=true").await.is_empty());
}

pub async fn no_one_for_yourself_or_outsiders() {
    let (ann, bob, dave) = (
        TestUser::new("ann").await,
        TestUser::new("bob").await,
        TestUser::new("dave").await,
    );
    let room = room_with(&[&ann, &bob]).await;
    post(
        &ann,
        &room,
        &format!("@{} @{} a@{}.c", ann.username, dave.username, bob.username),
    )
    .await;
    assert!(list(&ann, "").await.is_empty(), "never yourself");
    assert!(list(&dave, "").await.is_empty(), "not a member");
    assert!(list(&bob, "").await.is_empty(), "not inside a word");
}

pub async fn list_pages_newest_first() {
    let (ann, bob) = (TestUser::new("ann").await, TestUser::new("bob").await);
    let room = room_with(&[&ann, &bob]).await;
    for i in 0..5 {
        post(&ann, &room, &format!("{i} @{}", bob.username)).await;
    }
    let mut seqs = Vec::new();
    let mut path = "/api/v1/notifications?limit=2".to_owned();
    loop {
        let (status, page) = bob.call(Method::GET, &path, None).await;
        assert_eq!(status, 200);
        seqs.extend(
            page["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["seq"].as_u64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/notifications?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seqs, [5, 4, 3, 2, 1]);
}

pub async fn unread_frames_follow_messages_and_reads() {
    let (ann, bob) = (TestUser::new("ann").await, TestUser::new("bob").await);
    let room = room_with(&[&ann, &bob]).await;
    let mut h = hub(&bob).await;
    for i in 0..3 {
        post(&ann, &room, &format!("news {i}")).await;
    }
    let count_for = |f: &Value| {
        (f["type"] == "unread" && f["room_id"] == room.as_str())
            .then(|| f["count"].as_u64().unwrap())
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline, "no unread frame reached 3");
        if let Some(f) = h.next_frame_within(Duration::from_millis(500)).await {
            if count_for(&f) == Some(3) {
                break;
            }
        }
    }
    let (mut socket, _) = bob.join(&room).await;
    socket.send_json(&json!({"type": "read", "seq": 2})).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline, "no unread frame after the read");
        if let Some(f) = h.next_frame_within(Duration::from_millis(500)).await {
            if count_for(&f) == Some(1) {
                break;
            }
        }
    }
    // A new stream starts with the current counts.
    let mut fresh = hub(&bob).await;
    let first = fresh.next_frame().await;
    assert_eq!((count_for(&first)), Some(1), "{first}");
}

pub async fn a_slow_hub_does_not_slow_the_room() {
    // The slow user's hub answers every push SLOW_HUB_MS late. If the room
    // waited for hubs, ten mentioning messages would take at least that
    // long to be acknowledged and delivered; they must not.
    let slow = TestUser::new(SLOW_HUB_PREFIX).await;
    let (ann, watcher) = (TestUser::new("ann").await, TestUser::new("watcher").await);
    let room = room_with(&[&ann, &watcher, &slow]).await;
    let mut slow_hub = hub(&slow).await;
    let (mut a, _) = ann.join(&room).await;
    let (mut w, _) = watcher.join(&room).await;
    let started = Instant::now();
    for i in 0..10 {
        a.say(&format!("s{i}"), &format!("@{} ping {i}", slow.username))
            .await;
    }
    for _ in 0..10 {
        a.next_of("ack").await;
    }
    for _ in 0..10 {
        w.next_of("message").await;
    }
    let fan_out = started.elapsed();
    assert!(
        fan_out < Duration::from_millis(SLOW_HUB_MS),
        "the room waited for the slow hub: {fan_out:?}"
    );
    // The pushes still arrive, late.
    let n = next_notification(&mut slow_hub, Duration::from_millis(SLOW_HUB_MS * 2)).await;
    assert_eq!(n["kind"], "mention");
    assert!(
        started.elapsed() >= Duration::from_millis(SLOW_HUB_MS),
        "the fault was in effect"
    );
}

pub async fn stream_needs_auth_and_an_allowed_origin() {
    let bob = TestUser::new("bob").await;
    let path = "/api/v1/notifications/ws";
    assert_eq!(try_connect(path, &[]).await.err().map(|e| e.0), Some(401));
    let auth = format!("Bearer {}", bob.token());
    let hostile = try_connect(
        path,
        &[("authorization", &auth), ("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(hostile.err().map(|e| e.0), Some(403));
    let mut ok = hub(&bob).await;
    ok.send_json(&json!({"type": "ping"})).await;
    assert_eq!(ok.next_of("pong").await["type"], "pong");
    ok.send_json(&json!({"type": "send", "client_id": "x", "body": "y"}))
        .await;
    assert_eq!(ok.next_frame().await["type"], "error");
}
