//! Accounts: register, login, me, refresh rotation and reuse, logout, limits.

use serde_json::{json, Value};

use crate::client::{Api, TestUser, PASSWORD};
use crate::{tokens, unique};

async fn status_and_body(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn refresh(api: &Api, token: &str) -> (u16, Value) {
    status_and_body(
        api.post("/api/v1/auth/refresh", &json!({"refresh_token": token}))
            .await,
    )
    .await
}

async fn login(api: &Api, username: &str, password: &str) -> (u16, Value) {
    status_and_body(
        api.post(
            "/api/v1/auth/login",
            &json!({"username": username, "password": password}),
        )
        .await,
    )
    .await
}

fn assert_session(s: &Value, username: &str) {
    assert_eq!(s["token_type"], "Bearer");
    assert_eq!(s["expires_in"], 900);
    assert!(s["access_token"].as_str().unwrap().split('.').count() == 3);
    assert_eq!(s["refresh_token"].as_str().unwrap().len(), 43);
    assert_eq!(s["user"]["username"], username);
    assert!(s["user"]["id"].is_string());
    assert!(s["user"]["created_at"].as_str().unwrap().ends_with('Z'));
}

pub async fn full_session_lifecycle() {
    let api = Api::new();
    let name = unique("Flow");
    let lower = name.to_lowercase();
    let resp = api
        .post(
            "/api/v1/auth/register",
            &json!({"username": name, "password": PASSWORD, "display_name": "Flo ✓"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let registered: Value = resp.json().await.unwrap();
    assert_session(&registered, &lower);
    assert_eq!(registered["user"]["display_name"], "Flo ✓");

    // me
    let access = registered["access_token"].as_str().unwrap();
    let (status, me) = status_and_body(api.get("/api/v1/me", Some(access)).await).await;
    assert_eq!(status, 200);
    assert_eq!(me, registered["user"]);

    // login is case-insensitive and starts a second, independent family
    let (status, logged_in) = login(&api, &name.to_uppercase(), PASSWORD).await;
    assert_eq!(status, 200, "{logged_in}");
    assert_session(&logged_in, &lower);
    let first = logged_in["refresh_token"].as_str().unwrap().to_owned();

    // refresh rotates
    let (status, rotated) = refresh(&api, &first).await;
    assert_eq!(status, 200, "{rotated}");
    assert_session(&rotated, &lower);
    let second = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let (status, _) = status_and_body(
        api.get("/api/v1/me", rotated["access_token"].as_str())
            .await,
    )
    .await;
    assert_eq!(status, 200);

    // presenting the spent token again revokes the whole family...
    let (status, problem) = refresh(&api, &first).await;
    assert_eq!(status, 401);
    assert_eq!(problem["code"], "unauthorized");
    // ...so the thief's (or owner's) newer token is dead too
    assert_eq!(refresh(&api, &second).await.0, 401);

    // the registration's family was untouched; logout ends it
    let reg_refresh = registered["refresh_token"].as_str().unwrap();
    let (status, again) = refresh(&api, reg_refresh).await;
    assert_eq!(status, 200);
    let live = again["refresh_token"].as_str().unwrap();
    let resp = api
        .post("/api/v1/auth/logout", &json!({"refresh_token": live}))
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(refresh(&api, live).await.0, 401);

    // logout answers 204 for unknown tokens too, and needs no access token
    let resp = api
        .post(
            "/api/v1/auth/logout",
            &json!({"refresh_token": "never-issued"}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(refresh(&api, "never-issued").await.0, 401);
}

pub async fn register_validation_rules() {
    let mut api = Api::new();
    // A fresh valid name per case, so no per-username window fills up.
    let ok_name = || unique("valid");
    let cases: Vec<(Value, u16)> = vec![
        (json!({"username": "ab", "password": PASSWORD}), 400),
        (
            json!({"username": "a".repeat(33), "password": PASSWORD}),
            400,
        ),
        (json!({"username": "has space", "password": PASSWORD}), 400),
        (json!({"username": "ünïcode", "password": PASSWORD}), 400),
        (json!({"username": ok_name(), "password": "1234567"}), 400),
        (
            json!({"username": ok_name(), "password": "p".repeat(257)}),
            400,
        ),
        (
            json!({"username": ok_name(), "password": PASSWORD, "display_name": ""}),
            400,
        ),
        (
            json!({"username": ok_name(), "password": PASSWORD, "display_name": "x".repeat(65)}),
            400,
        ),
        (
            json!({"username": ok_name(), "password": PASSWORD, "display_name": "bell\u{7}"}),
            400,
        ),
        (
            json!({"username": ok_name(), "password": PASSWORD, "display_name": "rtl\u{202E}"}),
            400,
        ),
        (json!({"username": ok_name()}), 400),
        (json!({"password": PASSWORD}), 400),
        (json!({"username": 42, "password": PASSWORD}), 400),
        (json!({"username": ok_name(), "password": ["x"]}), 400),
        (json!([1, 2]), 400),
    ];
    // Spread over several client IPs: this test is about validation, not limits.
    for (i, (body, status)) in cases.iter().enumerate() {
        if i % 8 == 7 {
            api = Api::new();
        }
        let resp = api.post("/api/v1/auth/register", body).await;
        assert_eq!(resp.status().as_u16(), *status, "for {body}");
        let problem: Value = resp.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_request", "for {body}");
    }
}

pub async fn malformed_bodies_are_4xx() {
    let api = Api::new();
    let raw = |body: Vec<u8>| {
        api.request(reqwest::Method::POST, "/api/v1/auth/register")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (body, status) in [
        (b"{not json".to_vec(), 400),
        (b"".to_vec(), 400),
        (vec![b'"', 0xff, 0xfe, b'"'], 400),
        (
            br#"{"username":"lone\ud800x","password":"correct horse"}"#.to_vec(),
            400,
        ),
        (vec![b' '; 65 * 1024], 413),
    ] {
        let resp = raw(body.clone()).await.unwrap();
        assert_eq!(
            resp.status().as_u16(),
            status,
            "for {:?}",
            &body[..body.len().min(40)]
        );
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
    }
}

pub async fn taken_username_is_409_case_insensitively() {
    let user = TestUser::new("taken").await;
    let resp = Api::new()
        .post(
            "/api/v1/auth/register",
            &json!({"username": user.username.to_uppercase(), "password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 409);
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(problem["code"], "conflict");
    // display_name defaulted to the username
    assert_eq!(user.session["user"]["display_name"], user.username.as_str());
}

pub async fn unknown_user_and_wrong_password_answer_the_same() {
    let user = TestUser::new("known").await;
    let (s1, b1) = login(&Api::new(), &user.username, "wrong password!").await;
    let (s2, b2) = login(&Api::new(), &unique("nobody"), "wrong password!").await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(b1, b2, "identical problem documents");
}

pub async fn login_limit_per_ip() {
    let api = Api::new();
    for i in 0..10 {
        let (status, _) = login(&api, &unique(&format!("ghost{i}")), "whatever-pw").await;
        assert_eq!(status, 401, "attempt {}", i + 1);
    }
    let resp = api
        .post(
            "/api/v1/auth/login",
            &json!({"username": unique("ghost"), "password": "whatever-pw"}),
        )
        .await;
    assert_eq!(resp.status(), 429, "the 11th attempt within a minute");
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(problem["code"], "rate_limited");
    // Registering from that IP is limited too: the budget is shared.
    let resp = api
        .post(
            "/api/v1/auth/register",
            &json!({"username": unique("late"), "password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 429);
}

pub async fn login_limit_per_username() {
    // The registration was the first attempt for this name; each login comes
    // from a new IP, so only the per-username window can trip.
    let user = TestUser::new("popular").await;
    for i in 2..=10 {
        let (status, _) = login(&Api::new(), &user.username, PASSWORD).await;
        assert_eq!(status, 200, "attempt {i}");
    }
    let resp = Api::new()
        .post(
            "/api/v1/auth/login",
            &json!({"username": user.username, "password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 429, "the 11th attempt for one username");
    assert!(resp.headers().contains_key("retry-after"));
}

pub async fn me_refuses_bad_tokens() {
    let user = TestUser::new("target").await;
    let api = Api::new();
    assert_eq!(api.get("/api/v1/me", None).await.status(), 401);
    let ok = tokens::valid(user.id());
    assert_eq!(api.get("/api/v1/me", Some(&ok)).await.status(), 200);
    for (what, token) in tokens::attacks(user.id()) {
        let resp = api.get("/api/v1/me", Some(&token)).await;
        assert_eq!(resp.status(), 401, "{what}");
        let problem: Value = resp.json().await.unwrap();
        assert_eq!(problem["code"], "unauthorized", "{what}");
    }
    let resp = api
        .request(reqwest::Method::GET, "/api/v1/me")
        .header("authorization", format!("Basic {}", user.token()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
