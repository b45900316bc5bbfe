//! Reads the configuration from the Worker's environment.

use edgechat_core::config::Config;
use worker::Env;

use crate::errors::{ApiError, ApiResult};

/// The configuration, or a logged 500 naming the bad setting.
pub fn load(env: &Env) -> ApiResult<Config> {
    Config::from_env(|name| {
        // Secrets and plain vars are both strings on `env`.
        env.secret(name)
            .map(|s| s.to_string())
            .or_else(|_| env.var(name).map(|v| v.to_string()))
            .ok()
    })
    .map_err(|e| ApiError::Misconfigured(e.0))
}
