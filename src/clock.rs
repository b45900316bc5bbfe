//! The only place the Worker reads the clock and the random generator.

use edgechat_core::Timestamp;

use crate::errors::{ApiError, ApiResult};

/// Now, from the runtime's clock.
pub fn now() -> Timestamp {
    Timestamp(worker::Date::now().as_millis() as i64)
}

/// `N` bytes from the runtime's cryptographic generator.
pub fn random<const N: usize>() -> ApiResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| ApiError::Internal(worker::Error::RustError(format!("getrandom: {e}"))))?;
    Ok(bytes)
}

/// A fresh random UUID.
pub fn new_id() -> ApiResult<String> {
    Ok(edgechat_core::ids::uuid_v4(random()?))
}
