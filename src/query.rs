//! Query-string parameters.

use std::collections::HashMap;

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
                .map_err(|_| ApiError::invalid(format!("{name} must be a non-negative integer")))
        })
        .transpose()
}
