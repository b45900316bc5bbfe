//! Small clients for the API: HTTP with reqwest, sockets with tokio-tungstenite.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Response};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::base_url;

/// How long a test waits for a frame that must come.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// `ws://…` for an API path of the shared test server.
pub fn ws_url(path: &str) -> String {
    ws_url_at(base_url(), path)
}

/// `ws://…` for an API path of the server at `base`.
pub fn ws_url_at(base: &str, path: &str) -> String {
    format!("{}{path}", base.replacen("http", "ws", 1))
}

/// An open socket to the server.
pub struct Socket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Opens a socket at `path` with extra request headers; on refusal returns
/// the HTTP status and body.
pub async fn try_connect(path: &str, headers: &[(&str, &str)]) -> Result<Socket, (u16, String)> {
    try_connect_with_response(path, headers)
        .await
        .map(|(s, _)| s)
}

/// Like [`try_connect`], to the server at `base`.
pub async fn try_connect_at(
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Socket, (u16, String)> {
    request_socket(&ws_url_at(base, path), path, headers)
        .await
        .map(|(s, _)| s)
}

/// Like [`try_connect`], also returning the upgrade response's headers.
pub async fn try_connect_with_response(
    path: &str,
    headers: &[(&str, &str)],
) -> Result<(Socket, tokio_tungstenite::tungstenite::http::HeaderMap), (u16, String)> {
    request_socket(&ws_url(path), path, headers).await
}

async fn request_socket(
    url: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<(Socket, tokio_tungstenite::tungstenite::http::HeaderMap), (u16, String)> {
    let mut req = url.into_client_request().expect("valid ws url");
    for (name, value) in headers {
        req.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, resp)) => Ok((Socket { ws }, resp.headers().clone())),
        Err(WsError::Http(resp)) => Err(refusal(&resp)),
        // Not an HTTP answer (refused, reset): status 0.
        Err(e) => Err((0, format!("socket to {path} failed: {e}"))),
    }
}

fn refusal(resp: &Response<Option<Vec<u8>>>) -> (u16, String) {
    let body = resp
        .body()
        .as_ref()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    (resp.status().as_u16(), body)
}

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

/// An HTTP client that looks like its own client IP, so per-IP limits of
/// one test do not touch another (locally, workerd keeps a given
/// `CF-Connecting-IP`; in production Cloudflare sets it).
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// The client IP this client claims.
    pub ip: String,
    /// `http://127.0.0.1:<port>` of the server it talks to.
    pub base: String,
}

impl Api {
    /// A client of the shared test server with an IP no other test uses.
    pub fn new() -> Self {
        Self::at(base_url())
    }

    /// A client of the server at `base` with an IP no other test uses.
    pub fn at(base: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(1);
        let n = N.fetch_add(1, Ordering::Relaxed);
        Self {
            http: reqwest::Client::new(),
            ip: format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255),
            base: base.to_owned(),
        }
    }

    /// A request to an API path with this client's IP.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("cf-connecting-ip", &self.ip)
    }

    /// `POST` a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// `GET` with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.request(reqwest::Method::GET, path);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }
}

/// A registered user with a live session.
pub struct TestUser {
    /// The unique username.
    pub username: String,
    /// The `Session` the server answered.
    pub session: Value,
    /// This user's HTTP client (its own client IP).
    pub api: Api,
}

impl TestUser {
    /// Registers a fresh user whose name starts with `prefix`.
    pub async fn new(prefix: &str) -> Self {
        Self::new_with(Api::new(), prefix).await
    }

    /// Registers a fresh user through `api`.
    pub async fn new_with(api: Api, prefix: &str) -> Self {
        let username = crate::unique(prefix);
        let resp = api
            .post(
                "/api/v1/auth/register",
                &serde_json::json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(resp.status(), 201, "register {username}");
        let session: Value = resp.json().await.expect("session JSON");
        Self {
            username,
            session,
            api,
        }
    }

    /// A request with this user's bearer token.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.api.request(method, path).bearer_auth(self.token())
    }

    /// `METHOD path` with an optional JSON body; the status and the JSON answer.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self.request(method, path);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Creates a room (`"public"` or `"private"`) and returns its id.
    pub async fn create_room(&self, visibility: &str) -> String {
        self.create_room_named(&crate::unique("room "), visibility)
            .await
    }

    /// Creates a room called `name` and returns its id.
    pub async fn create_room_named(&self, name: &str, visibility: &str) -> String {
        let (status, room) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/rooms",
                Some(&serde_json::json!({"name": name, "visibility": visibility})),
            )
            .await;
        assert_eq!(status, 201, "create room: {room}");
        room["id"].as_str().expect("room id").to_owned()
    }

    /// Joins a public room.
    pub async fn join_room(&self, room_id: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/rooms/{room_id}/join"),
                None,
            )
            .await;
        assert_eq!(status, 200, "join {room_id}: {body}");
    }

    /// The access token.
    pub fn token(&self) -> &str {
        self.session["access_token"].as_str().expect("access token")
    }

    /// The user id.
    pub fn id(&self) -> &str {
        self.session["user"]["id"].as_str().expect("user id")
    }

    /// Opens the socket of `room` and reads its `welcome` frame.
    pub async fn join(&self, room: &str) -> (Socket, Value) {
        let auth = format!("Bearer {}", self.token());
        let mut socket = try_connect_at(
            &self.api.base,
            &format!("/api/v1/rooms/{room}/ws"),
            &[("authorization", &auth)],
        )
        .await
        .unwrap_or_else(|(status, body)| {
            panic!("join {room} as {}: {status} {body}", self.username)
        });
        let welcome = socket.next_frame().await;
        assert_eq!(welcome["type"], "welcome", "first frame: {welcome}");
        (socket, welcome)
    }
}

impl Socket {
    /// Sends a JSON frame.
    pub async fn send_json(&mut self, frame: &Value) {
        self.send_text(&frame.to_string()).await;
    }

    /// Sends a text frame as it is.
    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::text(text))
            .await
            .expect("send text frame");
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws
            .send(Message::binary(bytes))
            .await
            .expect("send binary frame");
    }

    /// Sends a `send` frame.
    pub async fn say(&mut self, client_id: &str, body: &str) {
        assert!(self.try_say(client_id, body).await, "send text frame");
    }

    /// The next JSON text frame; panics if none comes within [`FRAME_TIMEOUT`].
    pub async fn next_frame(&mut self) -> Value {
        self.next_frame_within(FRAME_TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("no frame within {FRAME_TIMEOUT:?}"))
    }

    /// The next JSON text frame, or `None` if none comes within `wait`.
    pub async fn next_frame_within(&mut self, wait: Duration) -> Option<Value> {
        self.poll_frame(wait)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The next JSON text frame, `Ok(None)` if none comes within `wait`, or
    /// why the socket ended.
    pub async fn poll_frame(&mut self, wait: Duration) -> Result<Option<Value>, String> {
        loop {
            let msg = match tokio::time::timeout(wait, self.ws.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err("socket closed by the server".to_owned()),
                Ok(Some(Err(e))) => return Err(format!("socket failed: {e}")),
                Ok(Some(Ok(msg))) => msg,
            };
            match msg {
                Message::Text(text) => {
                    return Ok(Some(
                        serde_json::from_str(&text).expect("server frames are JSON"),
                    ))
                }
                Message::Close(frame) => {
                    return Err(format!("socket closed by the server: {frame:?}"))
                }
                _ => {}
            }
        }
    }

    /// Sends a `send` frame; false when the socket is gone.
    pub async fn try_say(&mut self, client_id: &str, body: &str) -> bool {
        let frame = serde_json::json!({"type": "send", "client_id": client_id, "body": body});
        self.ws.send(Message::text(frame.to_string())).await.is_ok()
    }

    /// The close code the server ends the socket with, skipping other frames.
    pub async fn next_close(&mut self) -> Option<u16> {
        self.frames_until_close().await.1
    }

    /// The next frame of type `kind`, skipping frames of other types
    /// (presence, typing, other messages) but never an unexpected `error`.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next_frame().await;
            if frame["type"] == kind {
                return frame;
            }
            assert_ne!(
                frame["type"], "error",
                "expected a {kind} frame, got {frame}"
            );
        }
    }

    /// Every JSON frame until the server closes the socket, and its close
    /// code; panics if that takes longer than [`FRAME_TIMEOUT`] per frame.
    pub async fn frames_until_close(&mut self) -> (Vec<Value>, Option<u16>) {
        let mut frames = Vec::new();
        loop {
            let next = tokio::time::timeout(FRAME_TIMEOUT, self.ws.next())
                .await
                .expect("a frame or the close in time");
            match next {
                None | Some(Err(_)) => return (frames, None),
                Some(Ok(Message::Close(frame))) => {
                    return (frames, frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(Message::Text(text))) => {
                    frames.push(serde_json::from_str(&text).expect("server frames are JSON"));
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// Closes the socket with a normal close frame.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
