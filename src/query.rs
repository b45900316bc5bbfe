//! Query-string parameters.

use std::collections::HashMap;

use edgechat_core::cursor::{self, Cursor};
use edgechat_core::model::MAX_SEQ;
use worker::Request;

use crate::errors::{ApiError, ApiResult};

/// The request's query parameters; a repeated name keeps its last value.
pub fn params(req: &Request) -> ApiResult<HashMap<String, String>> {
    Ok(req.url()?.query_pairs().into_owned().collect())
}

/// An optional non-negative integer parameter; anything else is 400.
pub fn seq(params: &HashMap<String, String>, name: &str) -> ApiResult<Option<u64>> {
    params
        .get(name)
        .map(|v| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_SEQ)
                .ok_or_else(|| {
                    ApiError::invalid(format!("{name} must be an integer from 0 to {MAX_SEQ}"))
                })
        })
        .transpose()
}

/// `limit` (1–100, default 50) and `cursor` of a list, as API.md defines them.
pub fn page(params: &HashMap<String, String>) -> ApiResult<(u32, Option<Cursor>)> {
    let limit = cursor::limit(params.get("limit").map(String::as_str), 50, 100)
        .map_err(ApiError::invalid)?;
    let after = match params.get("cursor").filter(|c| !c.is_empty()) {
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| ApiError::invalid("cursor is not valid"))?),
        None => None,
    };
    Ok((limit, after))
}
