//! Just enough of the edgechat API to set a room up, and sockets.

use std::sync::atomic::{AtomicU32, Ordering};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
pub type Tx = SplitSink<Ws, Message>;
pub type Rx = SplitStream<Ws>;

static IP: AtomicU32 = AtomicU32::new(1);

/// A registered user: its id and access token.
#[derive(Clone)]
pub struct User {
    pub token: String,
}

async fn post(http: &reqwest::Client, url: &str, token: Option<&str>, body: &Value) -> Value {
    let n = IP.fetch_add(1, Ordering::Relaxed);
    let mut req = http
        .post(url)
        .header(
            "cf-connecting-ip",
            format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255),
        )
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    assert!(resp.status().is_success(), "{url}: {}", resp.status());
    resp.json().await.expect("json")
}

/// Registers `n` users named after `prefix`.
pub async fn users(base: &str, prefix: &str, n: usize) -> Vec<User> {
    let http = reqwest::Client::new();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let body = json!({"username": format!("{prefix}{i}"), "password": "benchmark password"});
        let session = post(&http, &format!("{base}/api/v1/auth/register"), None, &body).await;
        out.push(User {
            token: session["access_token"].as_str().expect("token").to_owned(),
        });
    }
    out
}

/// A public room created by `owner` and joined by `members`; its id.
pub async fn room(base: &str, owner: &User, members: &[User], name: &str) -> String {
    let http = reqwest::Client::new();
    let room = post(
        &http,
        &format!("{base}/api/v1/rooms"),
        Some(&owner.token),
        &json!({"name": name, "visibility": "public"}),
    )
    .await;
    let id = room["id"].as_str().expect("room id").to_owned();
    for m in members {
        post(
            &http,
            &format!("{base}/api/v1/rooms/{id}/join"),
            Some(&m.token),
            &json!({}),
        )
        .await;
    }
    id
}

/// Opens a socket at `url`, with a bearer token when given.
pub async fn connect(url: &str, token: Option<&str>) -> (Tx, Rx) {
    let mut req = url.into_client_request().expect("url");
    if let Some(t) = token {
        req.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {t}")).expect("header"),
        );
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("socket");
    ws.split()
}
