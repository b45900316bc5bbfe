//! The Worker's one error type, mapped once onto problem+json answers.

use edgechat_core::auth::rate_limit::retry_after_secs;
use edgechat_core::problem::Problem;
use edgechat_core::ErrorCode;
use worker::{Headers, Response};

/// Everything a route can answer instead of success.
#[derive(Debug)]
pub enum ApiError {
    /// A 4xx the client can act on.
    Client {
        /// HTTP status.
        status: u16,
        /// Machine name.
        code: ErrorCode,
        /// Safe, specific explanation.
        detail: String,
        /// Extra header (`Allow` on 405, `Retry-After` on 429).
        header: Option<(&'static str, String)>,
    },
    /// The deployment is misconfigured: logged with the reason, answered as a bare 500.
    Misconfigured(String),
    /// A failure of the runtime or a binding: logged, answered as a bare 500.
    Internal(worker::Error),
}

impl ApiError {
    /// A 4xx answer.
    pub fn client(status: u16, code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::Client {
            status,
            code,
            detail: detail.into(),
            header: None,
        }
    }

    /// 400 `invalid_request`.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::client(400, ErrorCode::InvalidRequest, detail)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::client(401, ErrorCode::Unauthorized, detail)
    }

    /// 403 `forbidden`.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::client(403, ErrorCode::Forbidden, detail)
    }

    /// 404 `not_found`.
    pub fn not_found() -> Self {
        Self::client(404, ErrorCode::NotFound, "no such resource")
    }

    /// 405 with the `Allow` header.
    pub fn method_not_allowed(allowed: &'static str) -> Self {
        Self::Client {
            status: 405,
            code: ErrorCode::MethodNotAllowed,
            detail: format!("this path accepts {allowed}"),
            header: Some(("allow", allowed.to_owned())),
        }
    }

    /// 429 with `Retry-After` in whole seconds.
    pub fn rate_limited(retry_after_ms: u64) -> Self {
        let secs = retry_after_secs(retry_after_ms);
        Self::Client {
            status: 429,
            code: ErrorCode::RateLimited,
            detail: format!("retry in {secs} s"),
            header: Some(("retry-after", secs.to_string())),
        }
    }

    /// The problem+json response. Internal errors are logged here and never
    /// described to the client.
    pub fn into_response(self) -> Response {
        let (problem, header) = match self {
            Self::Client {
                status,
                code,
                detail,
                header,
            } => (Problem::new(status, code, detail), header),
            Self::Misconfigured(reason) => {
                worker::console_error!("configuration error: {reason}");
                (internal(), None)
            }
            Self::Internal(e) => {
                worker::console_error!("internal error: {e}");
                (internal(), None)
            }
        };
        let headers = Headers::new();
        let _ = headers.set("content-type", "application/problem+json");
        if let Some((name, value)) = header {
            let _ = headers.set(name, &value);
        }
        Response::builder()
            .with_status(problem.status)
            .with_headers(headers)
            .fixed(problem.to_json().into_bytes())
    }
}

fn internal() -> Problem {
    Problem::new(500, ErrorCode::Internal, "something went wrong on our side")
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        Self::Internal(e)
    }
}

/// What every route returns.
pub type ApiResult<T = Response> = Result<T, ApiError>;
