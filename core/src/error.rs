//! The stable machine names of every error the API reports.

use serde::Serialize;

/// A stable, `snake_case` error name, shared by HTTP problem documents and
/// WebSocket `error` frames (API.md, "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request breaks a rule of the contract (length, range, format).
    InvalidRequest,
    /// A socket frame is not JSON, is binary, or misses or mistypes a field.
    InvalidFrame,
    /// A socket frame names a `type` the server does not know.
    UnknownType,
    /// No valid credentials were presented.
    Unauthorized,
    /// The caller is known but may not do this.
    Forbidden,
    /// The room is public but the caller is not a member of it.
    NotAMember,
    /// The thing does not exist, or the caller may not know that it exists.
    NotFound,
    /// The path exists but not with this method.
    MethodNotAllowed,
    /// The request conflicts with the current state.
    Conflict,
    /// A body or frame is over the size limit.
    PayloadTooLarge,
    /// Too many requests; the answer says when to retry.
    RateLimited,
    /// A WebSocket endpoint was called without an upgrade.
    UpgradeRequired,
    /// Something failed on the server; nothing internal is revealed.
    Internal,
}

impl ErrorCode {
    /// The machine name as it appears on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidFrame => "invalid_frame",
            Self::UnknownType => "unknown_type",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotAMember => "not_a_member",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited => "rate_limited",
            Self::UpgradeRequired => "upgrade_required",
            Self::Internal => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn wire_name_matches_serde() {
        for code in [
            ErrorCode::InvalidRequest,
            ErrorCode::InvalidFrame,
            ErrorCode::UnknownType,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotAMember,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Conflict,
            ErrorCode::PayloadTooLarge,
            ErrorCode::RateLimited,
            ErrorCode::UpgradeRequired,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
