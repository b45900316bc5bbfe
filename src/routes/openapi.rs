//! `GET /openapi.json`: the OpenAPI 3.1 description of the HTTP API.

use worker::{Headers, Response};

use crate::errors::ApiResult;

/// The document, compiled in so a build always serves its own contract.
pub const DOCUMENT: &str = include_str!("../../docs/openapi.json");

pub fn get() -> ApiResult {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    Ok(Response::builder()
        .with_headers(headers)
        .fixed(DOCUMENT.as_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::DOCUMENT;
    use crate::router::{route, Route};
    use serde_json::Value;

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).expect("docs/openapi.json is JSON")
    }

    /// A concrete path for a templated one.
    fn concrete(template: &str) -> String {
        template
            .replace("{room_id}", "r1")
            .replace("{user_id}", "u1")
            .replace("{seq}", "1")
    }

    #[test]
    fn is_openapi_3_1_with_bearer_auth() {
        let doc = document();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
    }

    #[test]
    fn documents_every_route() {
        let doc = document();
        let paths = doc["paths"].as_object().unwrap();
        for (method, path) in [
            ("get", "/health"),
            ("get", "/openapi.json"),
            ("post", "/api/v1/auth/register"),
            ("post", "/api/v1/auth/login"),
            ("post", "/api/v1/auth/refresh"),
            ("post", "/api/v1/auth/logout"),
            ("get", "/api/v1/me"),
            ("post", "/api/v1/rooms"),
            ("get", "/api/v1/rooms"),
            ("get", "/api/v1/rooms/{room_id}"),
            ("post", "/api/v1/rooms/{room_id}/join"),
            ("post", "/api/v1/rooms/{room_id}/members"),
            ("delete", "/api/v1/rooms/{room_id}/members/{user_id}"),
            ("patch", "/api/v1/rooms/{room_id}/members/{user_id}"),
            ("post", "/api/v1/dms"),
            ("get", "/api/v1/rooms/{room_id}/messages"),
            ("post", "/api/v1/rooms/{room_id}/messages"),
            ("patch", "/api/v1/rooms/{room_id}/messages/{seq}"),
            ("delete", "/api/v1/rooms/{room_id}/messages/{seq}"),
            ("get", "/api/v1/rooms/{room_id}/ws"),
            ("get", "/api/v1/notifications"),
            ("post", "/api/v1/notifications/read"),
            ("get", "/api/v1/notifications/ws"),
        ] {
            assert!(
                paths.get(path).and_then(|p| p.get(method)).is_some(),
                "{method} {path} is not documented"
            );
            let routed = route(&method.to_uppercase(), &concrete(path));
            assert!(
                !matches!(routed, Route::NotFound | Route::MethodNotAllowed(_)),
                "{method} {path} is documented but not routed"
            );
        }
    }

    #[test]
    fn no_documented_operation_is_refused_with_405() {
        // A documented path may not be implemented yet (404), but a path the
        // router knows must take every method the document gives it.
        let doc = document();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if method == "parameters" {
                    continue;
                }
                let routed = route(&method.to_uppercase(), &concrete(path));
                assert!(
                    !matches!(routed, Route::MethodNotAllowed(_)),
                    "{method} {path}: documented, but the router answers 405"
                );
            }
        }
    }

    #[test]
    fn every_operation_has_an_id_and_problem_errors() {
        let doc = document();
        let responses = &doc["components"]["responses"];
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if method == "parameters" {
                    continue;
                }
                assert!(
                    op["operationId"].is_string(),
                    "{method} {path}: no operationId"
                );
                for (status, answer) in op["responses"].as_object().unwrap() {
                    if !status.starts_with('4') && !status.starts_with('5') {
                        continue;
                    }
                    let name = answer["$ref"]
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/responses/"))
                        .unwrap_or_else(|| {
                            panic!("{method} {path} {status}: not a shared response")
                        });
                    assert!(
                        responses[name]["content"]["application/problem+json"].is_object(),
                        "{name} is not problem+json"
                    );
                }
            }
        }
    }
}
