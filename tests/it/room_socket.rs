//! The room socket: welcome, ordered broadcast, isolation, bad frames, hibernation.

use std::time::Duration;

use serde_json::{json, Value};

use crate::base_url;
use crate::client::{try_connect, TestUser};

/// A public room created by the first user and joined by the others.
pub async fn room_with(users: &[&TestUser]) -> String {
    let room = users[0].create_room("public").await;
    for u in &users[1..] {
        u.join_room(&room).await;
    }
    room
}

/// Asserts an `ack` for `client_id` and returns its seq.
async fn acked(socket: &mut crate::client::Socket, client_id: &str) -> u64 {
    let ack = socket.next_of("ack").await;
    assert_eq!(ack["client_id"], client_id, "ack: {ack}");
    ack["seq"].as_u64().expect("ack seq")
}

fn message_of(frame: &Value) -> &Value {
    assert_eq!(frame["type"], "message", "frame: {frame}");
    &frame["message"]
}

pub async fn plain_get_is_426() {
    let resp = reqwest::get(format!("{}/api/v1/rooms/r1/ws", base_url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 426);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "upgrade_required");
}

pub async fn two_clients_chat_and_other_rooms_hear_nothing() {
    let (ann_user, bob_user, eve_user) = (
        TestUser::new("ann").await,
        TestUser::new("bob").await,
        TestUser::new("eve").await,
    );
    let room = room_with(&[&ann_user, &bob_user]).await;
    let elsewhere = room_with(&[&eve_user]).await;
    let (mut ann, welcome) = ann_user.join(&room).await;
    assert_eq!(welcome["last_seq"], 0);
    assert_eq!(welcome["me"]["username"], ann_user.username.as_str());
    assert_eq!(welcome["me"]["id"], ann_user.id());
    let (mut bob, _) = bob_user.join(&room).await;
    let (mut eve, _) = eve_user.join(&elsewhere).await;

    ann.say("a1", "  hello bob ").await;
    let seq1 = acked(&mut ann, "a1").await;
    let at_ann = ann.next_of("message").await;
    let at_bob = bob.next_of("message").await;
    assert_eq!(at_ann, at_bob);
    let m = message_of(&at_bob);
    assert_eq!(
        (m["seq"].as_u64(), m["body"].as_str()),
        (Some(seq1), Some("hello bob"))
    );
    assert_eq!(m["author"]["username"], ann_user.username.as_str());
    assert_eq!(m["client_id"], "a1");
    assert_eq!(m["room_id"], room.as_str());
    assert_eq!(m["deleted"], false);
    assert!(m["created_at"].as_str().unwrap().ends_with('Z'));

    bob.say("b1", "hi ann").await;
    let seq2 = acked(&mut bob, "b1").await;
    assert_eq!(seq2, seq1 + 1);
    let m = ann.next_of("message").await;
    assert_eq!(message_of(&m)["body"], "hi ann");
    assert_eq!(message_of(&m)["seq"], seq2);

    // The other room saw nothing and its numbering is its own.
    while let Some(f) = eve.next_frame_within(Duration::from_millis(500)).await {
        assert_eq!(f["type"], "presence", "only her own presence: {f}");
    }
    eve.say("e1", "anyone?").await;
    assert_eq!(acked(&mut eve, "e1").await, 1);
}

pub async fn welcome_lists_who_is_online() {
    let (ann, bob) = (TestUser::new("ann").await, TestUser::new("bob").await);
    let room = room_with(&[&ann, &bob]).await;
    let (_ann1, _) = ann.join(&room).await;
    let (_ann2, _) = ann.join(&room).await;
    let (_bob, welcome) = bob.join(&room).await;
    let names: Vec<&str> = welcome["online"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [ann.username.as_str(), bob.username.as_str()],
        "users, not connections, caller included"
    );
    assert_eq!(
        welcome["online_count"], 2,
        "users, not connections: {welcome}"
    );
}

pub async fn forged_identity_header_is_ignored() {
    let mallory = TestUser::new("mallory").await;
    let room = room_with(&[&mallory]).await;
    let forged = r#"{"id":"root","username":"root","display_name":"root","created_at_ms":0}"#;
    let auth = format!("Bearer {}", mallory.token());
    let mut socket = try_connect(
        &format!("/api/v1/rooms/{room}/ws"),
        &[
            ("authorization", auth.as_str()),
            ("x-edgechat-identity", forged),
            ("x-edgechat-room", "other"),
        ],
    )
    .await
    .unwrap_or_else(|e| panic!("refused: {e:?}"));
    let welcome = socket.next_frame().await;
    assert_eq!(welcome["me"]["username"], mallory.username.as_str());
    assert_eq!(welcome["room"]["id"], room.as_str());
}

pub async fn bad_frames_get_error_frames_and_socket_stays_open() {
    let ann_user = TestUser::new("ann").await;
    let room = room_with(&[&ann_user]).await;
    let (mut ann, _) = ann_user.join(&room).await;
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "invalid_frame"),
        (json!({"type": "shout"}).to_string(), "unknown_type"),
        (
            json!({"type": "send", "body": "x"}).to_string(),
            "invalid_frame",
        ),
        (
            json!({"type": "send", "client_id": "c", "body": 7}).to_string(),
            "invalid_frame",
        ),
        (
            json!({"type": "send", "client_id": "big", "body": "x".repeat(65 * 1024)}).to_string(),
            "payload_too_large",
        ),
        (
            json!({"type": "send", "client_id": "long", "body": "y".repeat(4001)}).to_string(),
            "invalid_request",
        ),
        (
            json!({"type": "send", "client_id": "blank", "body": " \n\t "}).to_string(),
            "invalid_request",
        ),
    ];
    for (text, code) in &cases {
        ann.send_text(text).await;
        let err = ann.next_of("error").await;
        assert_eq!(
            err["code"],
            *code,
            "for {}: {err}",
            &text[..text.len().min(60)]
        );
        assert!(err["message"].is_string());
    }
    ann.send_binary(vec![1, 2, 3]).await;
    assert_eq!(ann.next_of("error").await["code"], "invalid_frame");

    // A refused send names its client_id; the socket still works afterwards.
    ann.send_text(&json!({"type": "send", "client_id": "c9", "body": ""}).to_string())
        .await;
    assert_eq!(ann.next_of("error").await["client_id"], "c9");
    ann.send_json(&json!({"type": "ping"})).await;
    assert_eq!(ann.next_frame().await["type"], "pong");
    ann.say("ok", "still here").await;
    assert_eq!(acked(&mut ann, "ok").await, 1);
}

pub async fn typing_goes_to_others_only() {
    let (ann_user, bob_user) = (TestUser::new("ann").await, TestUser::new("bob").await);
    let room = room_with(&[&ann_user, &bob_user]).await;
    let (mut ann, _) = ann_user.join(&room).await;
    let (mut bob, _) = bob_user.join(&room).await;
    ann.send_json(&json!({"type": "typing"})).await;
    let typing = bob.next_of("typing").await;
    assert_eq!(typing["user"]["username"], ann_user.username.as_str());
    // Up to the pong, Ann hears no typing: not her own. (Presence frames
    // may come in between.)
    ann.send_json(&json!({"type": "ping"})).await;
    loop {
        let f = ann.next_frame().await;
        assert_ne!(f["type"], "typing", "the typist hears her own typing: {f}");
        if f["type"] == "pong" {
            break;
        }
    }
}

pub async fn ordering_survives_hibernation() {
    let (ann_user, bob_user, carol) = (
        TestUser::new("ann").await,
        TestUser::new("bob").await,
        TestUser::new("carol").await,
    );
    let room = room_with(&[&ann_user, &bob_user, &carol]).await;
    let (mut ann, _) = ann_user.join(&room).await;
    let (mut bob, _) = bob_user.join(&room).await;
    for i in 1..=3 {
        ann.say(&format!("before{i}"), &format!("before {i}")).await;
        assert_eq!(acked(&mut ann, &format!("before{i}")).await, i);
        assert_eq!(message_of(&ann.next_of("message").await)["seq"], i);
    }
    for i in 1..=3 {
        assert_eq!(message_of(&bob.next_of("message").await)["seq"], i);
    }
    // workerd hibernates an idle object after about 10 s; the sockets stay.
    tokio::time::sleep(Duration::from_secs(13)).await;
    bob.say("after", "after the nap").await;
    assert_eq!(acked(&mut bob, "after").await, 4);
    let m = ann.next_of("message").await;
    assert_eq!(message_of(&m)["seq"], 4);
    assert_eq!(message_of(&m)["body"], "after the nap");
    // A newcomer is welcomed with the continued numbering.
    let (_carol, welcome) = carol.join(&room).await;
    assert_eq!(welcome["last_seq"], 4);
}
