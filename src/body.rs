//! Reading JSON request bodies: size-limited, and every way a body can be
//! wrong is a 4xx.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use worker::Request;

use crate::errors::{ApiError, ApiResult};
use edgechat_core::model::MAX_SEQ;
use edgechat_core::ErrorCode;

/// The largest request body accepted (64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Parses the body as `T`. Oversize is 413; invalid UTF-8, malformed JSON,
/// lone surrogates and wrong types are 400.
pub async fn json<T: DeserializeOwned>(req: &mut Request) -> ApiResult<T> {
    let too_large = || {
        ApiError::client(
            413,
            ErrorCode::PayloadTooLarge,
            format!("bodies are limited to {MAX_BODY_BYTES} bytes"),
        )
    };
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|_| ApiError::invalid("the body could not be read"))?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    if bytes.is_empty() {
        return Err(ApiError::invalid("a JSON body is required"));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::invalid("the body is not valid UTF-8"))?;
    serde_json::from_str(text).map_err(|e| ApiError::invalid(format!("invalid JSON body: {e}")))
}

/// For optional body fields, with `#[serde(default, deserialize_with = "body::present")]`:
/// an absent field is `None`, while `null` is refused like any other wrong
/// type, as the contract (`field?`) and the OpenAPI schema describe it.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// For an optional `seq` field (`reply_to`): absent is `None`; otherwise
/// an integer from 0 to 2^53 − 1, written as `7` or `7.0` (JSON does not
/// tell them apart); anything else is refused.
pub fn present_seq<'de, D>(deserializer: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    let n = serde_json::Number::deserialize(deserializer)?;
    let value = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= MAX_SEQ as f64)
            .map(|f| f as u64)
    });
    match value {
        Some(v) if v <= MAX_SEQ => Ok(Some(v)),
        _ => Err(serde::de::Error::custom(format!(
            "expected an integer from 0 to {MAX_SEQ}, not {n}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::present")]
        topic: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    struct Reply {
        #[serde(default, deserialize_with = "super::present_seq")]
        reply_to: Option<u64>,
    }

    #[test]
    fn seqs_are_exact_integers() {
        let parse = |s: &str| serde_json::from_str::<Reply>(s).map(|b| b.reply_to);
        assert_eq!(parse("{}").unwrap(), None);
        assert_eq!(parse(r#"{"reply_to":7}"#).unwrap(), Some(7));
        assert_eq!(parse(r#"{"reply_to":7.0}"#).unwrap(), Some(7));
        assert_eq!(
            parse(r#"{"reply_to":9007199254740991}"#).unwrap(),
            Some(super::MAX_SEQ)
        );
        for bad in ["null", "7.5", "-1", "9007199254740992", "1e300", "\"7\""] {
            assert!(parse(&format!(r#"{{"reply_to":{bad}}}"#)).is_err(), "{bad}");
        }
    }

    #[test]
    fn optional_fields_may_be_absent_but_not_null() {
        let parse = |s: &str| serde_json::from_str::<Body>(s).map(|b| b.topic);
        assert_eq!(parse("{}").unwrap(), None);
        assert_eq!(parse(r#"{"topic":"x"}"#).unwrap(), Some("x".into()));
        assert!(parse(r#"{"topic":null}"#).is_err());
        assert!(parse(r#"{"topic":5}"#).is_err());
    }
}
