//! Discovery and the error shape of unknown paths.

use serde_json::Value;

use crate::base_url;

async fn get(path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", base_url()))
        .await
        .expect("request")
}

async fn assert_problem(resp: reqwest::Response, status: u16, code: &str) {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = resp.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code);
    assert!(body["type"].as_str().unwrap().starts_with("/problems/"));
    assert!(body["title"].is_string() && body["detail"].is_string());
}

pub async fn health_answers_ok() {
    let resp = get("/health").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}

pub async fn unknown_api_path_is_problem_404() {
    assert_problem(get("/api/v1/no-such-thing").await, 404, "not_found").await;
    assert_problem(get("/api/v1/rooms/r/ws/extra").await, 404, "not_found").await;
}

pub async fn wrong_method_is_problem_405() {
    let resp = reqwest::Client::new()
        .post(format!("{}/health", base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["allow"], "GET");
    assert_problem(resp, 405, "method_not_allowed").await;
}

pub async fn static_client_is_served() {
    let resp = get("/").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(resp.text().await.unwrap().contains("edgechat"));
}
