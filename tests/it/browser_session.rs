//! Browser sessions: the refresh token lives in an `HttpOnly` cookie, never
//! in the JSON; it rotates, logout clears it, and a cross-site form cannot
//! drive any of it.

use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{json, Value};

use crate::client::{Api, PASSWORD};
use crate::{base_url, unique};

const NAME: &str = "__Secure-edgechat_refresh";

/// What one answer said: status, `Set-Cookie` values, JSON body.
struct Answer {
    status: u16,
    set_cookies: Vec<String>,
    body: Value,
}

impl Answer {
    async fn from(resp: reqwest::Response) -> Self {
        let status = resp.status().as_u16();
        let set_cookies = cookies_of(resp.headers());
        let body = resp.json().await.unwrap_or(Value::Null);
        Self {
            status,
            set_cookies,
            body,
        }
    }

    /// The single session cookie this answer sets: its value and attributes.
    fn session_cookie(&self) -> (String, Vec<String>) {
        let ours: Vec<&String> = self
            .set_cookies
            .iter()
            .filter(|c| c.starts_with(&format!("{NAME}=")))
            .collect();
        assert_eq!(
            ours.len(),
            1,
            "one session cookie in {:?}",
            self.set_cookies
        );
        let mut parts = ours[0].split(';').map(|p| p.trim().to_owned());
        let first = parts.next().expect("name=value");
        let value = first[NAME.len() + 1..].to_owned();
        (value, parts.collect())
    }
}

fn cookies_of(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii cookie").to_owned())
        .collect()
}

/// `POST /api/v1/auth/session/{action}` the way the browser client sends it.
async fn call(api: &Api, action: &str, cookie: Option<&str>, body: Option<&Value>) -> Answer {
    let mut req = api
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/auth/session/{action}"),
        )
        .header(CONTENT_TYPE, "application/json")
        .header("origin", base_url());
    if let Some(c) = cookie {
        req = req.header(COOKIE, format!("other=1; {NAME}={c}"));
    }
    req = req.body(body.map_or_else(|| "{}".to_owned(), Value::to_string));
    Answer::from(req.send().await.expect("request")).await
}

async fn me_status(api: &Api, access: &Value) -> u16 {
    api.get("/api/v1/me", access.as_str())
        .await
        .status()
        .as_u16()
}

fn assert_browser_session(a: &Answer, status: u16, username: &str) -> String {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["user"]["username"], username);
    assert_eq!(a.body["token_type"], "Bearer");
    assert_eq!(a.body["expires_in"], 900);
    assert!(a.body["access_token"].is_string());
    assert!(
        a.body.get("refresh_token").is_none(),
        "the refresh token stays out of the JSON: {}",
        a.body
    );
    let (value, attrs) = a.session_cookie();
    assert_eq!(value.len(), 43, "a refresh token: {value}");
    for want in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/api/v1/auth",
        "Max-Age=2592000",
    ] {
        assert!(attrs.iter().any(|a| a == want), "{want} in {attrs:?}");
    }
    value
}

fn assert_cleared(a: &Answer) {
    let (value, attrs) = a.session_cookie();
    assert!(value.is_empty(), "cleared: {value}");
    assert!(attrs.iter().any(|a| a == "Max-Age=0"), "{attrs:?}");
    assert!(attrs.iter().any(|a| a == "Path=/api/v1/auth"), "{attrs:?}");
}

pub async fn cookie_session_registers_rotates_and_detects_reuse() {
    let api = Api::new();
    let name = unique("cookie");
    let creds = json!({"username": name, "password": PASSWORD, "display_name": "Cookie"});
    let registered = call(&api, "register", None, Some(&creds)).await;
    let first = assert_browser_session(&registered, 201, &name);
    assert_eq!(me_status(&api, &registered.body["access_token"]).await, 200);

    let rotated = call(&api, "refresh", Some(&first), None).await;
    let second = assert_browser_session(&rotated, 200, &name);
    assert_ne!(first, second, "the refresh token rotates");
    assert_eq!(me_status(&api, &rotated.body["access_token"]).await, 200);

    // The spent one is refused and revokes the family: the newest one too.
    let reused = call(&api, "refresh", Some(&first), None).await;
    assert_eq!(reused.status, 401, "{}", reused.body);
    assert_eq!(reused.body["code"], "unauthorized");
    assert_cleared(&reused);
    let after = call(&api, "refresh", Some(&second), None).await;
    assert_eq!(after.status, 401);

    // The plain API is unchanged: login still answers the refresh token in JSON.
    let plain = api
        .post(
            "/api/v1/auth/login",
            &json!({"username": name, "password": PASSWORD}),
        )
        .await;
    assert_eq!(plain.status(), 200);
    assert!(cookies_of(plain.headers()).is_empty());
    let body: Value = plain.json().await.unwrap();
    assert!(body["refresh_token"].is_string());
}

pub async fn cookie_login_and_logout_clear_the_session() {
    let api = Api::new();
    let name = unique("cookiel");
    let creds = json!({"username": name, "password": PASSWORD});
    let resp = api.post("/api/v1/auth/register", &creds).await;
    assert_eq!(resp.status(), 201);

    let wrong = call(
        &api,
        "login",
        None,
        Some(&json!({"username": name, "password": "not the password"})),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.set_cookies.is_empty(), "{:?}", wrong.set_cookies);

    let logged_in = call(&api, "login", None, Some(&creds)).await;
    let token = assert_browser_session(&logged_in, 200, &name);

    let out = call(&api, "logout", Some(&token), None).await;
    assert_eq!(out.status, 204);
    assert_cleared(&out);
    let refused = call(&api, "refresh", Some(&token), None).await;
    assert_eq!(refused.status, 401, "logout revoked the session");

    // Without any cookie: logout still answers 204, refresh 401; both clear.
    let out = call(&api, "logout", None, None).await;
    assert_eq!(out.status, 204);
    assert_cleared(&out);
    let none = call(&api, "refresh", None, None).await;
    assert_eq!(none.status, 401);
    assert_cleared(&none);
    let garbage = call(&api, "refresh", Some("not-a-token"), None).await;
    assert_eq!(garbage.status, 401);
}

pub async fn cross_site_requests_cannot_use_the_cookie() {
    let api = Api::new();
    let name = unique("csrf");
    let creds = json!({"username": name, "password": PASSWORD});
    let token = assert_browser_session(
        &call(&api, "register", None, Some(&creds)).await,
        201,
        &name,
    );

    // What a hostile page can send without a preflight: a form (urlencoded,
    // multipart or text/plain, even with a JSON-looking body) or a body
    // with no type at all. None of them may rotate or end the session.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        for action in ["refresh", "logout", "login", "register"] {
            let mut req = api
                .request(
                    reqwest::Method::POST,
                    &format!("/api/v1/auth/session/{action}"),
                )
                .header(COOKIE, format!("{NAME}={token}"))
                .body(creds.to_string());
            if let Some(t) = content_type {
                req = req.header(CONTENT_TYPE, t);
            }
            let a = Answer::from(req.send().await.expect("request")).await;
            assert_eq!(a.status, 400, "{action} as {content_type:?}: {}", a.body);
            assert_eq!(a.body["code"], "invalid_request");
            assert!(a.set_cookies.is_empty(), "{action}: {:?}", a.set_cookies);
        }
    }

    // JSON from a foreign Origin (it would need a preflight that is never
    // granted, but refuse it outright too).
    for action in ["refresh", "logout", "login"] {
        let a = Answer::from(
            api.request(
                reqwest::Method::POST,
                &format!("/api/v1/auth/session/{action}"),
            )
            .header(CONTENT_TYPE, "application/json")
            .header("origin", "https://evil.example")
            .header(COOKIE, format!("{NAME}={token}"))
            .body(creds.to_string())
            .send()
            .await
            .expect("request"),
        )
        .await;
        assert_eq!(a.status, 403, "{action}: {}", a.body);
        assert!(a.set_cookies.is_empty());
    }

    // The session survived all of that and still rotates.
    let rotated = call(&api, "refresh", Some(&token), None).await;
    assert_browser_session(&rotated, 200, &name);

    // GET is not a way in either.
    let get = api.get("/api/v1/auth/session/refresh", None).await;
    assert_eq!(get.status(), 405);
}
