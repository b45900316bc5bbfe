//! `GET /openapi.json` and the HTTP surface it promises.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::base_url;

/// Every `METHOD /path` the contract (docs/api.md) names, queries dropped.
fn contract_operations() -> BTreeSet<(String, String)> {
    let contract = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md"))
        .expect("docs/api.md");
    let mut found = BTreeSet::new();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        for (at, _) in contract.match_indices(&format!("{method} /")) {
            let path: String = contract[at + method.len() + 1..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '`' | '?' | ')' | '|'))
                .collect();
            found.insert((method.to_lowercase(), path));
        }
    }
    found
}

pub async fn lists_every_operation_of_the_contract() {
    let resp = reqwest::get(format!("{}/openapi.json", base_url()))
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc: Value = resp.json().await.expect("the document is JSON");
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "OpenAPI {version}");

    let operations = contract_operations();
    assert!(
        operations.len() >= 20,
        "docs/api.md should name every operation: {operations:?}"
    );
    for (method, path) in &operations {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is in docs/api.md but not in /openapi.json"
        );
    }
}

pub async fn unknown_methods_are_405_not_get() {
    for path in ["/health", "/openapi.json", "/api/v1/me"] {
        let resp = reqwest::Client::new()
            .request(
                reqwest::Method::from_bytes(b"QUERY").unwrap(),
                format!("{}{path}", base_url()),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 405, "QUERY {path}");
        assert_eq!(resp.headers()["allow"], "GET");
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
    }
}

pub async fn optional_fields_are_absent_not_null() {
    let api = crate::client::Api::new();
    let username = crate::unique("nullname");
    let body = |display_name: Value| serde_json::json!({"username": username, "password": crate::client::PASSWORD, "display_name": display_name});
    let resp = api.post("/api/v1/auth/register", &body(Value::Null)).await;
    assert_eq!(resp.status(), 400, "display_name: null is a wrong type");
    let resp = api
        .post("/api/v1/auth/register", &body("Nully".into()))
        .await;
    assert_eq!(resp.status(), 201);
}
