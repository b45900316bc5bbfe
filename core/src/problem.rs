//! RFC 9457 problem documents, the body of every 4xx/5xx answer.

use serde::Serialize;

use crate::ErrorCode;

/// `application/problem+json` body (API.md, "Errors").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `/problems/<code with dashes>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, fixed summary of the code.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The stable machine name.
    pub code: ErrorCode,
    /// What went wrong in this case; never internals.
    pub detail: String,
}

impl Problem {
    /// A problem document for `code` answered with `status`.
    #[must_use]
    pub fn new(status: u16, code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("/problems/{}", code.as_str().replace('_', "-")),
            title: title(code),
            status,
            code,
            detail: detail.into(),
        }
    }

    /// The document as JSON text.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The HTTP status for a refusal decided outside HTTP (by the room).
#[must_use]
pub fn status_of(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::InvalidRequest | ErrorCode::InvalidFrame | ErrorCode::UnknownType => 400,
        ErrorCode::Unauthorized => 401,
        ErrorCode::Forbidden | ErrorCode::NotAMember => 403,
        ErrorCode::NotFound => 404,
        ErrorCode::MethodNotAllowed => 405,
        ErrorCode::Conflict => 409,
        ErrorCode::PayloadTooLarge => 413,
        ErrorCode::UpgradeRequired => 426,
        ErrorCode::RateLimited => 429,
        // A room that could not store a write asks for a retry.
        ErrorCode::Internal => 503,
    }
}

fn title(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidRequest => "Invalid request",
        ErrorCode::InvalidFrame => "Invalid frame",
        ErrorCode::UnknownType => "Unknown frame type",
        ErrorCode::Unauthorized => "Unauthorized",
        ErrorCode::Forbidden => "Forbidden",
        ErrorCode::NotAMember => "Not a member",
        ErrorCode::NotFound => "Not found",
        ErrorCode::MethodNotAllowed => "Method not allowed",
        ErrorCode::Conflict => "Conflict",
        ErrorCode::PayloadTooLarge => "Payload too large",
        ErrorCode::RateLimited => "Too many requests",
        ErrorCode::UpgradeRequired => "Upgrade required",
        ErrorCode::Internal => "Internal error",
    }
}

#[cfg(test)]
mod tests {
    use super::Problem;
    use crate::ErrorCode;

    #[test]
    fn shape_matches_the_contract() {
        let p = Problem::new(429, ErrorCode::RateLimited, "retry in 12 s");
        let v: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "/problems/rate-limited", "title": "Too many requests",
                "status": 429, "code": "rate_limited", "detail": "retry in 12 s"})
        );
    }
}
