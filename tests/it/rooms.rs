//! Rooms and memberships: create, list, search, join, members, DMs, and
//! private rooms that do not exist for outsiders.

use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{try_connect, TestUser};
use crate::unique;

fn ids(page: &Value) -> Vec<String> {
    page["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn create_and_get_a_room() {
    let ann = TestUser::new("ann").await;
    let (status, room) = ann
        .call(
            Method::POST,
            "/api/v1/rooms",
            Some(&json!({"name": "Café ☕", "topic": "beans", "visibility": "public"})),
        )
        .await;
    assert_eq!(status, 201, "{room}");
    assert_eq!(room["name"], "Café ☕");
    assert_eq!(room["topic"], "beans");
    assert_eq!(room["kind"], "room");
    assert_eq!(room["visibility"], "public");
    assert_eq!(room["member_count"], 1);
    assert_eq!(room["last_seq"], 0);
    assert_eq!(room["my_role"], "owner");
    assert!(room["created_at"].as_str().unwrap().ends_with('Z'));
    let id = room["id"].as_str().unwrap();
    let (status, got) = ann
        .call(Method::GET, &format!("/api/v1/rooms/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(got, room);
    // A stranger sees a public room, without a role.
    let bob = TestUser::new("bob").await;
    let (status, seen) = bob
        .call(Method::GET, &format!("/api/v1/rooms/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert!(seen.get("my_role").is_none());
}

pub async fn room_validation() {
    let ann = TestUser::new("ann").await;
    for body in [
        json!({"name": "", "visibility": "public"}),
        json!({"name": "x".repeat(65), "visibility": "public"}),
        json!({"name": "ok", "visibility": "secret"}),
        json!({"name": "ok"}),
        json!({"name": "ok", "visibility": "public", "topic": "t".repeat(257)}),
        json!({"name": "bell\u{7}", "visibility": "public"}),
        json!({"name": 5, "visibility": "public"}),
    ] {
        let (status, problem) = ann.call(Method::POST, "/api/v1/rooms", Some(&body)).await;
        assert_eq!(status, 400, "{body}: {problem}");
        assert_eq!(problem["code"], "invalid_request");
    }
    for q in [
        "limit=0",
        "limit=101",
        "limit=x",
        "scope=mine",
        "cursor=%21%21",
    ] {
        let (status, _) = ann
            .call(Method::GET, &format!("/api/v1/rooms?{q}"), None)
            .await;
        assert_eq!(status, 400, "{q}");
    }
    let status = ann.api.get("/api/v1/rooms", None).await.status();
    assert_eq!(status, 401, "lists need a token");
}

pub async fn lists_paginate_newest_first_and_search() {
    let ann = TestUser::new("lister").await;
    let tag = unique("tag");
    let mut created = Vec::new();
    for i in 0..5 {
        let (status, room) = ann
            .call(
                Method::POST,
                "/api/v1/rooms",
                Some(&json!({"name": format!("{tag} Nº{i}"), "visibility": "public"})),
            )
            .await;
        assert_eq!(status, 201);
        created.push(room["id"].as_str().unwrap().to_owned());
    }
    created.reverse(); // newest first
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/rooms?scope=joined&limit=2&cursor={c}"),
            None => "/api/v1/rooms?limit=2".to_owned(),
        };
        let (status, page) = ann.call(Method::GET, &path, None).await;
        assert_eq!(status, 200, "{page}");
        assert!(ids(&page).len() <= 2);
        for r in page["rooms"].as_array().unwrap() {
            assert_eq!(r["unread"], 0, "joined lists carry unread");
        }
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, created);

    // Case-insensitive substring search over public rooms.
    let (status, page) = TestUser::new("searcher")
        .await
        .call(
            Method::GET,
            &format!("/api/v1/rooms?scope=public&q={}", tag.to_uppercase()),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&page), created);
    assert!(page["next_cursor"].is_null());
    assert!(
        page["rooms"][0].get("unread").is_none(),
        "public lists carry no unread"
    );
}

pub async fn private_rooms_do_not_exist_for_outsiders() {
    let (owner, outsider) = (
        TestUser::new("owner").await,
        TestUser::new("outsider").await,
    );
    let room = owner.create_room("private").await;
    let base = format!("/api/v1/rooms/{room}");
    let checks: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, base.clone(), None),
        (Method::POST, format!("{base}/join"), None),
        (Method::GET, format!("{base}/messages"), None),
        (
            Method::POST,
            format!("{base}/messages"),
            Some(json!({"body": "hi", "client_id": "c"})),
        ),
        (
            Method::PATCH,
            format!("{base}/messages/1"),
            Some(json!({"body": "x"})),
        ),
        (Method::DELETE, format!("{base}/messages/1"), None),
        (
            Method::POST,
            format!("{base}/members"),
            Some(json!({"username": outsider.username})),
        ),
        (
            Method::DELETE,
            format!("{base}/members/{}", owner.id()),
            None,
        ),
        (
            Method::PATCH,
            format!("{base}/members/{}", owner.id()),
            Some(json!({"role": "admin"})),
        ),
    ];
    for (method, path, body) in checks {
        let (status, problem) = outsider.call(method.clone(), &path, body.as_ref()).await;
        assert_eq!(status, 404, "{method} {path}: {problem}");
        assert_eq!(problem["code"], "not_found");
    }
    let auth = format!("Bearer {}", outsider.token());
    let refused = try_connect(&format!("{base}/ws"), &[("authorization", &auth)]).await;
    assert_eq!(refused.err().map(|e| e.0), Some(404), "socket too");
    // Not in anyone's public list either.
    let (_, page) = outsider
        .call(Method::GET, "/api/v1/rooms?scope=public&limit=100", None)
        .await;
    assert!(!ids(&page).contains(&room));
}

pub async fn public_rooms_need_membership_to_write() {
    let (owner, visitor) = (TestUser::new("owner").await, TestUser::new("visitor").await);
    let room = owner.create_room("public").await;
    let base = format!("/api/v1/rooms/{room}");
    let (status, _) = visitor
        .call(Method::GET, &format!("{base}/messages"), None)
        .await;
    assert_eq!(status, 200, "public history is readable");
    let (status, problem) = visitor
        .call(
            Method::POST,
            &format!("{base}/messages"),
            Some(&json!({"body": "hi", "client_id": "c"})),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("not_a_member"))
    );
    let auth = format!("Bearer {}", visitor.token());
    let refused = try_connect(&format!("{base}/ws"), &[("authorization", &auth)]).await;
    assert_eq!(refused.err().map(|e| e.0), Some(403));
    // Join (idempotent), then writing works.
    for _ in 0..2 {
        let (status, joined) = visitor
            .call(Method::POST, &format!("{base}/join"), None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(joined["my_role"], "member");
        assert_eq!(joined["member_count"], 2);
    }
    let (status, _) = visitor
        .call(
            Method::POST,
            &format!("{base}/messages"),
            Some(&json!({"body": "hi", "client_id": "c"})),
        )
        .await;
    assert_eq!(status, 201);
}

pub async fn members_roles_kick_and_leave() {
    let (owner, bob, carol) = (
        TestUser::new("owner").await,
        TestUser::new("bob").await,
        TestUser::new("carol").await,
    );
    let room = owner.create_room("private").await;
    let base = format!("/api/v1/rooms/{room}");
    let add = |who: &TestUser| json!({"username": who.username.to_uppercase()});
    let (status, member) = owner
        .call(Method::POST, &format!("{base}/members"), Some(&add(&bob)))
        .await;
    assert_eq!(status, 201, "{member}");
    assert_eq!(
        (member["user"]["id"].as_str(), member["role"].as_str()),
        (Some(bob.id()), Some("member"))
    );
    let (status, _) = owner
        .call(Method::POST, &format!("{base}/members"), Some(&add(&bob)))
        .await;
    assert_eq!(status, 200, "adding twice is idempotent");
    let (status, problem) = owner
        .call(
            Method::POST,
            &format!("{base}/members"),
            Some(&json!({"username": unique("ghost")})),
        )
        .await;
    assert_eq!(status, 404, "{problem}");
    // A member may not add people; an admin may.
    let (status, _) = bob
        .call(Method::POST, &format!("{base}/members"), Some(&add(&carol)))
        .await;
    assert_eq!(status, 403);
    let (status, promoted) = owner
        .call(
            Method::PATCH,
            &format!("{base}/members/{}", bob.id()),
            Some(&json!({"role": "admin"})),
        )
        .await;
    assert_eq!((status, promoted["role"].as_str()), (200, Some("admin")));
    let (status, _) = bob
        .call(Method::POST, &format!("{base}/members"), Some(&add(&carol)))
        .await;
    assert_eq!(status, 201);

    // Carol's socket is closed with 4403 when the admin kicks her.
    let (mut socket, _) = carol.join(&room).await;
    let (status, _) = bob
        .call(
            Method::DELETE,
            &format!("{base}/members/{}", carol.id()),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(socket.next_close().await, Some(4403));
    let (status, _) = carol.call(Method::GET, &base, None).await;
    assert_eq!(status, 404, "the private room is gone for her");

    // The owner cannot leave while others remain; hands over, then may.
    let (status, problem) = owner
        .call(
            Method::DELETE,
            &format!("{base}/members/{}", owner.id()),
            None,
        )
        .await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("conflict")));
    let (status, _) = owner
        .call(
            Method::PATCH,
            &format!("{base}/members/{}", bob.id()),
            Some(&json!({"role": "owner"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, room_now) = owner.call(Method::GET, &base, None).await;
    assert_eq!(room_now["my_role"], "admin");
    let (status, _) = owner
        .call(
            Method::DELETE,
            &format!("{base}/members/{}", owner.id()),
            None,
        )
        .await;
    assert_eq!(status, 204, "leaving");
    let (_, left) = bob.call(Method::GET, &base, None).await;
    assert_eq!(
        (left["my_role"].as_str(), left["member_count"].as_u64()),
        (Some("owner"), Some(1))
    );
}

pub async fn dms_are_one_room_per_pair() {
    let (ann, bob) = (TestUser::new("ann").await, TestUser::new("bob").await);
    let (status, dm) = ann
        .call(
            Method::POST,
            "/api/v1/dms",
            Some(&json!({"username": bob.username})),
        )
        .await;
    assert_eq!(status, 201, "{dm}");
    assert_eq!(
        (
            dm["kind"].as_str(),
            dm["visibility"].as_str(),
            dm["name"].as_str()
        ),
        (Some("dm"), Some("private"), Some(""))
    );
    assert_eq!(dm["member_count"], 2);
    let (status, again) = ann
        .call(
            Method::POST,
            "/api/v1/dms",
            Some(&json!({"username": bob.username})),
        )
        .await;
    assert_eq!((status, &again["id"]), (200, &dm["id"]));
    let (status, theirs) = bob
        .call(
            Method::POST,
            "/api/v1/dms",
            Some(&json!({"username": ann.username})),
        )
        .await;
    assert_eq!(
        (status, &theirs["id"]),
        (200, &dm["id"]),
        "same room whichever side asks"
    );
    let (status, _) = ann
        .call(
            Method::POST,
            "/api/v1/dms",
            Some(&json!({"username": ann.username})),
        )
        .await;
    assert_eq!(status, 400, "no DM with yourself");
    let (status, _) = ann
        .call(
            Method::POST,
            "/api/v1/dms",
            Some(&json!({"username": unique("nobody")})),
        )
        .await;
    assert_eq!(status, 404);
    // The DM shows in both joined lists; a third user cannot see or join it.
    let (_, list) = bob.call(Method::GET, "/api/v1/rooms", None).await;
    assert!(ids(&list).contains(&dm["id"].as_str().unwrap().to_owned()));
    let carol = TestUser::new("carol").await;
    let id = dm["id"].as_str().unwrap();
    let (status, _) = carol
        .call(Method::POST, &format!("/api/v1/rooms/{id}/join"), None)
        .await;
    assert_eq!(status, 404);
}
