//! The deployment's configuration: secrets and limits from the environment.
//!
//! Parsed on every request from the bindings (a handful of strings), so a
//! bad value is reported clearly instead of crashing the Worker.

use std::fmt;

use crate::auth::jwt::{Keys, SigningKey, MIN_SECRET_BYTES};

/// Every setting the Worker reads.
#[derive(Debug, Clone)]
pub struct Config {
    /// Keys for access tokens.
    pub keys: Keys,
    /// Origins allowed to open sockets (comma-separated, exact).
    pub allowed_origins: String,
    /// Register + login attempts per minute, per client IP and per username.
    pub auth_per_minute: u32,
    /// Message token bucket: burst size.
    pub msg_burst: u32,
    /// Message token bucket: refill per second.
    pub msg_per_second: u32,
}

/// A setting is missing or unusable; the text names it for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u32,
) -> Result<u32, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ConfigError(format!("{name} must be a whole number, not {v:?}"))),
    }
}

fn key(name: &str, secret: &str) -> Result<SigningKey, ConfigError> {
    SigningKey::new(secret.as_bytes()).map_err(|_| {
        ConfigError(format!(
            "{name} must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"
        ))
    })
}

impl Config {
    /// Reads the settings through `get` (an environment lookup).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = get("JWT_SECRET").ok_or_else(|| {
            ConfigError("JWT_SECRET is not set (`wrangler secret put JWT_SECRET`)".into())
        })?;
        let previous = match get("JWT_SECRET_PREVIOUS").filter(|s| !s.is_empty()) {
            Some(p) => Some(key("JWT_SECRET_PREVIOUS", &p)?),
            None => None,
        };
        Ok(Self {
            keys: Keys {
                current: key("JWT_SECRET", &secret)?,
                previous,
            },
            allowed_origins: get("ALLOWED_ORIGINS").unwrap_or_default(),
            auth_per_minute: number(&get, "LIMIT_AUTH_PER_MINUTE", 10)?,
            msg_burst: number(&get, "LIMIT_MSG_BURST", 10)?,
            msg_per_second: number(&get, "LIMIT_MSG_PER_SECOND", 5)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults() {
        let c = Config::from_env(env(&[("JWT_SECRET", SECRET)])).unwrap();
        assert_eq!(
            (c.auth_per_minute, c.msg_burst, c.msg_per_second),
            (10, 10, 5)
        );
        assert!(c.keys.previous.is_none());
    }

    #[test]
    fn short_or_missing_secret_is_a_clear_error() {
        let err = Config::from_env(env(&[("JWT_SECRET", "short")])).unwrap_err();
        assert!(
            err.0.contains("JWT_SECRET must be at least 32 bytes"),
            "{err}"
        );
        let err = Config::from_env(env(&[])).unwrap_err();
        assert!(err.0.contains("JWT_SECRET is not set"));
        let err = Config::from_env(env(&[("JWT_SECRET", SECRET), ("JWT_SECRET_PREVIOUS", "x")]))
            .unwrap_err();
        assert!(err.0.contains("JWT_SECRET_PREVIOUS"));
    }

    #[test]
    fn limits_are_read() {
        let c = Config::from_env(env(&[
            ("JWT_SECRET", SECRET),
            ("LIMIT_AUTH_PER_MINUTE", "3"),
            ("LIMIT_MSG_BURST", " 20 "),
            ("ALLOWED_ORIGINS", "https://a"),
        ]))
        .unwrap();
        assert_eq!((c.auth_per_minute, c.msg_burst), (3, 20));
        assert_eq!(c.allowed_origins, "https://a");
        let err = Config::from_env(env(&[("JWT_SECRET", SECRET), ("LIMIT_MSG_BURST", "lots")]))
            .unwrap_err();
        assert!(err.0.contains("LIMIT_MSG_BURST"));
    }
}
