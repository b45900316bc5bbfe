//! Messages: total order under concurrency, idempotent sends, durable acks,
//! resume, rate limits, edits and deletes, presence, read positions.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{Socket, TestUser};
use crate::room_socket::room_with;

/// All of a room's history, oldest first, paged through the API.
pub async fn history(user: &TestUser, room: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = user
            .call(
                Method::GET,
                &format!("/api/v1/rooms/{room}/messages?after={after}&limit=100"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let batch = page["messages"].as_array().unwrap().clone();
        if let Some(last) = batch.last() {
            after = last["seq"].as_u64().unwrap();
        }
        all.extend(batch);
        if page["has_more"] == false {
            return all;
        }
    }
}

/// Sends `client_ids` over `socket`, re-sending (same `client_id`) whatever
/// is refused as rate limited or not stored, while recording every
/// `message` frame; returns once all are acked and `expect_total` messages
/// were seen.
pub async fn chat(socket: &mut Socket, client_ids: &[String], expect_total: usize) -> Chat {
    let mut acks = BTreeMap::new();
    let mut seen = Vec::new();
    let mut not_stored = 0;
    let mut retry: Vec<(Instant, String)> = client_ids
        .iter()
        .map(|c| (Instant::now(), c.clone()))
        .collect();
    let deadline = Instant::now() + Duration::from_mins(1);
    while acks.len() < client_ids.len() || seen.len() < expect_total {
        assert!(
            Instant::now() < deadline,
            "stalled: {} acks, {} seen",
            acks.len(),
            seen.len()
        );
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = retry.into_iter().partition(|(at, _)| *at <= now);
        retry = later;
        for (_, cid) in due {
            socket.say(&cid, &format!("body of {cid}")).await;
        }
        let Some(frame) = socket.next_frame_within(Duration::from_millis(50)).await else {
            continue;
        };
        match frame["type"].as_str() {
            Some("ack") => {
                let cid = frame["client_id"].as_str().unwrap().to_owned();
                let seq = frame["seq"].as_u64().unwrap();
                if let Some(old) = acks.insert(cid, seq) {
                    assert_eq!(old, seq, "a repeat is acked with the same seq");
                }
            }
            Some("message") => {
                let m = &frame["message"];
                seen.push((
                    m["seq"].as_u64().unwrap(),
                    m["client_id"].as_str().unwrap().to_owned(),
                ));
            }
            Some("error") => {
                let refused = Refused::from_frame(&frame);
                not_stored += usize::from(refused.not_stored);
                retry.push((Instant::now() + refused.wait, refused.client_id));
            }
            Some("presence" | "typing") => {}
            other => panic!("unexpected frame {other:?}: {frame}"),
        }
    }
    Chat {
        acks,
        seen,
        not_stored,
    }
}

/// Every user joins `room` and sends `each` messages at once (client ids
/// `u<user>-m<n>`), each hearing all of everyone's; what each one saw.
pub async fn chat_together(users: &[TestUser], room: &str, each: usize) -> Vec<Chat> {
    let mut sockets = Vec::new();
    for u in users {
        sockets.push(u.join(room).await.0);
    }
    let total = users.len() * each;
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, mut socket)| {
            tokio::spawn(async move {
                let ids: Vec<String> = (0..each).map(|j| format!("u{i}-m{j}")).collect();
                chat(&mut socket, &ids, total).await
            })
        })
        .collect();
    let mut chats = Vec::new();
    for t in tasks {
        chats.push(t.await.expect("client task"));
    }
    chats
}

/// Every client saw messages 1..=`total` exactly once, in order, all in the
/// same order, and history holds exactly 1..=`total`.
pub fn assert_one_order(orders: &[Vec<(u64, String)>], stored: &[Value], total: usize) {
    let expected: Vec<u64> = (1..=total as u64).collect();
    for seen in orders {
        assert_eq!(
            seen.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            expected,
            "every client saw 1..={total} once, in order"
        );
        assert_eq!(seen, &orders[0], "every client saw the same order");
    }
    assert_eq!(
        stored
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        expected,
        "history is 1..={total}"
    );
}

/// A refused `send` that is safe to repeat with the same `client_id`:
/// rate limited (wait as told) or not stored (wait a moment).
pub struct Refused {
    /// The refused send's `client_id`.
    pub client_id: String,
    /// How long to wait before sending it again.
    pub wait: Duration,
    /// It was refused as not stored, not as rate limited.
    pub not_stored: bool,
}

impl Refused {
    /// Reads an `error` frame; panics on any other kind of error.
    pub fn from_frame(frame: &Value) -> Self {
        let (wait, not_stored) = match frame["code"].as_str() {
            Some("rate_limited") => (
                frame["retry_after_ms"]
                    .as_u64()
                    .expect("integer retry_after_ms"),
                false,
            ),
            Some("internal") => (50, true),
            _ => panic!("unexpected error {frame}"),
        };
        let client_id = frame["client_id"]
            .as_str()
            .expect("refused send names its client_id")
            .to_owned();
        Self {
            client_id,
            wait: Duration::from_millis(wait),
            not_stored,
        }
    }
}

/// What one chatting client saw.
pub struct Chat {
    /// `client_id` → acknowledged `seq`.
    pub acks: BTreeMap<String, u64>,
    /// Every `message` frame, as (`seq`, `client_id`), in arrival order.
    pub seen: Vec<(u64, String)>,
    /// Sends refused as not stored (and sent again).
    pub not_stored: usize,
}

pub async fn concurrent_senders_share_one_order() {
    const CLIENTS: usize = 20;
    const EACH: usize = 25;
    let mut users = Vec::new();
    for i in 0..CLIENTS {
        users.push(TestUser::new(&format!("c{i}u")).await);
    }
    let refs: Vec<&TestUser> = users.iter().collect();
    let room = room_with(&refs).await;
    let mut orders = Vec::new();
    let mut all_acks = BTreeMap::new();
    for chat in chat_together(&users, &room, EACH).await {
        all_acks.extend(chat.acks);
        orders.push(chat.seen);
    }
    let stored = history(&users[0], &room).await;
    assert_one_order(&orders, &stored, CLIENTS * EACH);
    for m in &stored {
        let cid = m["client_id"].as_str().unwrap();
        assert_eq!(
            all_acks.get(cid),
            m["seq"].as_u64().as_ref(),
            "acked seq is the stored seq"
        );
    }
}

pub async fn duplicate_client_ids_make_one_message() {
    let (ann, bob) = (TestUser::new("ann").await, TestUser::new("bob").await);
    let room = room_with(&[&ann, &bob]).await;
    let (mut a, _) = ann.join(&room).await;
    let (mut b, _) = bob.join(&room).await;
    a.say("dup", "once").await;
    a.say("dup", "twice, different body").await;
    let first = a.next_of("ack").await;
    assert_eq!(b.next_of("message").await["message"]["body"], "once");
    // The repeat is acked with the same seq and not broadcast again.
    let mut acks = vec![first];
    while acks.len() < 2 {
        let f = a.next_frame().await;
        if f["type"] == "ack" {
            acks.push(f);
        }
    }
    assert_eq!(acks[0]["seq"], acks[1]["seq"]);

    // Over HTTP: 201 then 200 with the original; the socket repeat matches too.
    let path = format!("/api/v1/rooms/{room}/messages");
    let body = json!({"client_id": "http-dup", "body": "via http"});
    let (s1, m1) = ann.call(Method::POST, &path, Some(&body)).await;
    let (s2, m2) = ann
        .call(
            Method::POST,
            &path,
            Some(&json!({"client_id": "http-dup", "body": "changed"})),
        )
        .await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(m1, m2, "the original message, even though the body differs");
    a.say("http-dup", "over the socket").await;
    assert_eq!(a.next_of("ack").await["seq"], m1["seq"]);
    // Bob saw exactly two messages: "once" and "via http".
    assert_eq!(b.next_of("message").await["message"]["body"], "via http");
    b.send_json(&json!({"type": "ping"})).await;
    assert_eq!(
        b.next_of("pong").await["type"],
        "pong",
        "no third message came first"
    );
    let stored = history(&ann, &room).await;
    assert_eq!(stored.len(), 2);
    // Another author may use the same client_id.
    let (s3, m3) = bob
        .call(
            Method::POST,
            &path,
            Some(&json!({"client_id": "http-dup", "body": "mine"})),
        )
        .await;
    assert_eq!((s3, m3["seq"].as_u64()), (201, Some(3)));
}

pub async fn acked_means_in_history() {
    let ann = TestUser::new("ann").await;
    let room = room_with(&[&ann]).await;
    let (mut a, _) = ann.join(&room).await;
    for i in 0..5 {
        let cid = format!("ryw{i}");
        a.say(&cid, "read your write").await;
        let seq = a.next_of("ack").await["seq"].as_u64().unwrap();
        let (status, page) = ann
            .call(
                Method::GET,
                &format!("/api/v1/rooms/{room}/messages?limit=1"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            page["messages"][0]["seq"], seq,
            "the acked message is in history at once"
        );
        assert_eq!(page["messages"][0]["client_id"], cid.as_str());
    }
}

/// Posts `n` messages to `room` from `senders` in parallel over HTTP.
async fn post_many(senders: &[&TestUser], room: &str, n: usize, tag: &str) {
    let per = n.div_ceil(senders.len());
    let mut tasks = Vec::new();
    for (i, s) in senders.iter().enumerate() {
        let count = per.min(n - (i * per).min(n));
        let api = s.api.clone();
        let token = s.token().to_owned();
        let path = format!("/api/v1/rooms/{room}/messages");
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            for j in 0..count {
                let body = json!({"client_id": format!("{tag}-{i}-{j}"), "body": format!("{tag} {i}/{j}")});
                loop {
                    let resp = api
                        .request(Method::POST, &path)
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .expect("post");
                    match resp.status().as_u16() {
                        201 | 200 => break,
                        // Not stored (the store failed under load): the
                        // same client_id is safe to send again.
                        503 => tokio::time::sleep(Duration::from_millis(100)).await,
                        429 => {
                            let secs: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
                            tokio::time::sleep(Duration::from_millis(secs * 1000)).await;
                        }
                        other => panic!("post answered {other}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("sender");
    }
}

async fn resume_after_missing(missed: usize, senders: usize) {
    let reader = TestUser::new("reader").await;
    let live_writer = TestUser::new("live").await;
    let mut writers = Vec::new();
    for i in 0..senders {
        writers.push(TestUser::new(&format!("w{i}x")).await);
    }
    let mut all: Vec<&TestUser> = vec![&reader, &live_writer];
    all.extend(writers.iter());
    let room = room_with(&all).await;
    let writer_refs: Vec<&TestUser> = writers.iter().collect();
    post_many(&writer_refs, &room, 3, "before").await;
    let (socket, welcome) = reader.join(&room).await;
    let seen_up_to = welcome["last_seq"].as_u64().unwrap();
    drop(socket);
    post_many(&writer_refs, &room, missed, "away").await;

    // Reconnect while a writer keeps talking: the replay must join the
    // live traffic with no gap and no duplicate.
    let (mut live, _) = live_writer.join(&room).await;
    let auth = format!("Bearer {}", reader.token());
    let resume = async {
        let mut s = crate::client::try_connect(
            &format!("/api/v1/rooms/{room}/ws?after_seq={seen_up_to}"),
            &[("authorization", &auth)],
        )
        .await
        .expect("resume");
        assert_eq!(s.next_frame().await["type"], "welcome");
        s
    };
    let talk = async {
        for i in 0..5 {
            live.say(&format!("live{i}"), "during the replay").await;
            live.next_of("ack").await;
        }
    };
    let (mut s, ()) = tokio::join!(resume, talk);
    let expected_last = seen_up_to + missed as u64 + 5;
    let mut next = seen_up_to + 1;
    while next <= expected_last {
        let m = s.next_of("message").await;
        assert_eq!(m["message"]["seq"], next, "no gap, no duplicate");
        next += 1;
    }
    assert_eq!(
        s.next_frame_within(Duration::from_millis(300))
            .await
            .filter(|f| f["type"] == "message"),
        None
    );
}

pub async fn resume_after_30_missed() {
    resume_after_missing(30, 4).await;
}

pub async fn resume_after_1000_missed() {
    resume_after_missing(1000, 40).await;
}

pub async fn rate_limit_refuses_and_loses_nothing_acked() {
    let ann = TestUser::new("blaster").await;
    let room = room_with(&[&ann]).await;
    let (mut a, _) = ann.join(&room).await;
    for i in 0..30 {
        a.say(&format!("b{i}"), "fast").await;
    }
    let (mut acked, mut limited) = (HashSet::new(), 0);
    while acked.len() + limited < 30 {
        let f = a.next_frame().await;
        match f["type"].as_str() {
            Some("ack") => {
                acked.insert(f["client_id"].as_str().unwrap().to_owned());
            }
            Some("error") => {
                assert_eq!(f["code"], "rate_limited");
                assert!(f["retry_after_ms"].as_u64().is_some_and(|ms| ms > 0));
                assert!(f["client_id"].is_string());
                limited += 1;
            }
            _ => {}
        }
    }
    assert!(limited > 0, "30 sends at once exceed the burst of 10");
    assert!(acked.len() >= 10);
    let stored: HashSet<String> = history(&ann, &room)
        .await
        .iter()
        .map(|m| m["client_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stored, acked, "exactly the acked messages are stored");
    // HTTP uses the same bucket: sent at once, more than a burst meets 429
    // with Retry-After.
    let posts = (0..25).map(|i| {
        ann.request(Method::POST, &format!("/api/v1/rooms/{room}/messages"))
            .json(&json!({"client_id": format!("h{i}"), "body": "x"}))
            .send()
    });
    let answers = futures_util::future::join_all(posts).await;
    let limited: Vec<_> = answers
        .iter()
        .map(|r| r.as_ref().expect("post"))
        .filter(|r| r.status() == 429)
        .collect();
    assert!(
        !limited.is_empty(),
        "25 posts at once exceed the burst of 10"
    );
    assert!(limited
        .iter()
        .all(|r| r.headers().contains_key("retry-after")));
}

pub async fn edits_and_deletes_are_stored_and_broadcast() {
    let (owner, ann) = (TestUser::new("owner").await, TestUser::new("ann").await);
    let room = room_with(&[&owner, &ann]).await;
    let (mut o, _) = owner.join(&room).await;
    let (mut a, _) = ann.join(&room).await;
    a.say("e1", "frist").await;
    let seq = a.next_of("ack").await["seq"].as_u64().unwrap();
    o.next_of("message").await;

    a.send_json(&json!({"type": "edit", "seq": seq, "body": " first "}))
        .await;
    let edited = o.next_of("edited").await;
    assert_eq!(edited["message"]["body"], "first");
    assert!(edited["message"]["edited_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    let base = format!("/api/v1/rooms/{room}/messages");
    let (status, m) = ann
        .call(
            Method::PATCH,
            &format!("{base}/{seq}"),
            Some(&json!({"body": "first!"})),
        )
        .await;
    assert_eq!((status, m["body"].as_str()), (200, Some("first!")));
    assert_eq!(o.next_of("edited").await["message"]["body"], "first!");
    // Only the author edits; the owner may delete.
    let (status, _) = owner
        .call(
            Method::PATCH,
            &format!("{base}/{seq}"),
            Some(&json!({"body": "mine now"})),
        )
        .await;
    assert_eq!(status, 403);
    o.send_json(&json!({"type": "edit", "seq": seq, "body": "x"}))
        .await;
    assert_eq!(o.next_of("error").await["code"], "forbidden");
    let (status, _) = owner
        .call(Method::DELETE, &format!("{base}/{seq}"), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(a.next_of("deleted").await["seq"], seq);
    let (status, _) = ann
        .call(Method::DELETE, &format!("{base}/{seq}"), None)
        .await;
    assert_eq!(status, 204, "deleting twice");
    let (status, problem) = ann
        .call(
            Method::PATCH,
            &format!("{base}/{seq}"),
            Some(&json!({"body": "undo"})),
        )
        .await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("conflict")));
    let (status, _) = ann.call(Method::DELETE, &format!("{base}/999"), None).await;
    assert_eq!(status, 404);
    let stored = history(&ann, &room).await;
    assert_eq!(
        (stored[0]["deleted"].as_bool(), stored[0]["body"].as_str()),
        (Some(true), Some(""))
    );
    assert_eq!(stored[0]["seq"], seq, "a deleted message keeps its seq");
}

pub async fn presence_announces_joins_and_leaves() {
    let (ann, bob) = (TestUser::new("ann").await, TestUser::new("bob").await);
    let room = room_with(&[&ann, &bob]).await;
    let (mut a, _) = ann.join(&room).await;
    let (b, welcome) = bob.join(&room).await;
    assert_eq!(welcome["online"].as_array().unwrap().len(), 2);
    assert_eq!(welcome["online_count"], 2);
    let joined = loop {
        let p = a.next_of("presence").await;
        if p["joined"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == bob.id())
        {
            break p;
        }
    };
    assert!(joined["left"].is_array());
    assert_eq!(joined["online_count"], 2, "{joined}");
    assert!(
        joined.get("truncated").is_none(),
        "a small room names everyone"
    );
    b.close().await;
    let left = loop {
        let p = a.next_of("presence").await;
        if p["left"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == bob.id())
        {
            break p;
        }
    };
    assert_eq!(left["online_count"], 1, "{left}");
}

pub async fn read_frames_move_unread_counts() {
    let (ann, bob) = (TestUser::new("ann").await, TestUser::new("bob").await);
    let room = room_with(&[&ann, &bob]).await;
    post_many(&[&ann], &room, 5, "unread").await;
    let unread = |list: &Value| {
        list["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == room.as_str())
            .map(|r| r["unread"].as_u64().unwrap())
    };
    let (_, list) = bob.call(Method::GET, "/api/v1/rooms", None).await;
    assert_eq!(unread(&list), Some(5));
    let (mut b, _) = bob.join(&room).await;
    b.send_json(&json!({"type": "read", "seq": 3})).await;
    b.send_json(&json!({"type": "read", "seq": 2})).await; // never moves back
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, list) = bob.call(Method::GET, "/api/v1/rooms", None).await;
        if unread(&list) == Some(2) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "unread still {:?}",
            unread(&list)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn http_send_and_history_rules() {
    let ann = TestUser::new("ann").await;
    let room = room_with(&[&ann]).await;
    let path = format!("/api/v1/rooms/{room}/messages");
    for body in [
        json!({"client_id": "c", "body": 5}),
        json!({"body": "no id"}),
        json!({"client_id": "c"}),
        json!({"client_id": "c", "body": "   "}),
        json!({"client_id": "c", "body": "x".repeat(4001)}),
        json!({"client_id": "", "body": "x"}),
        json!({"client_id": "x".repeat(65), "body": "x"}),
        json!({"client_id": "c", "body": "x", "reply_to": 7}),
        json!({"client_id": "c", "body": "x", "reply_to": -1}),
    ] {
        let (status, problem) = ann.call(Method::POST, &path, Some(&body)).await;
        assert_eq!(status, 400, "{body}: {problem}");
    }
    post_many(&[&ann], &room, 7, "h").await;
    let (status, reply) = ann
        .call(
            Method::POST,
            &path,
            Some(&json!({"client_id": "re", "body": "answer", "reply_to": 2})),
        )
        .await;
    assert_eq!((status, reply["reply_to"].as_u64()), (201, Some(2)));

    let seqs = |v: &Value| {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    let (_, newest) = ann
        .call(Method::GET, &format!("{path}?limit=3"), None)
        .await;
    assert_eq!(
        (seqs(&newest), newest["has_more"].as_bool()),
        (vec![6, 7, 8], Some(true))
    );
    let (_, older) = ann
        .call(Method::GET, &format!("{path}?before=3"), None)
        .await;
    assert_eq!(
        (seqs(&older), older["has_more"].as_bool()),
        (vec![1, 2], Some(false))
    );
    let (_, newer) = ann
        .call(Method::GET, &format!("{path}?after=0&limit=5"), None)
        .await;
    assert_eq!(
        (seqs(&newer), newer["has_more"].as_bool()),
        (vec![1, 2, 3, 4, 5], Some(true))
    );
    let (_, tail) = ann
        .call(Method::GET, &format!("{path}?after=5"), None)
        .await;
    assert_eq!(
        (seqs(&tail), tail["has_more"].as_bool()),
        (vec![6, 7, 8], Some(false))
    );
    for bad in [
        "before=2&after=1",
        "before=-1",
        "after=x",
        "limit=0",
        "limit=101",
    ] {
        let (status, _) = ann.call(Method::GET, &format!("{path}?{bad}"), None).await;
        assert_eq!(status, 400, "{bad}");
    }
}
