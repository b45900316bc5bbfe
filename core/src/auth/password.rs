//! Password hashing with Argon2id at OWASP's parameters (m = 19 MiB, t = 2, p = 1).
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) that
//! carry their parameters, so the parameters can be raised later: a login
//! that verifies against older parameters asks for a rehash.
//!
//! Why not PBKDF2-HMAC-SHA256 at 600,000 iterations through `WebCrypto`:
//! measured on the local runtime it costs about 108 ms of CPU per hash,
//! against about 75 ms for Argon2id here in wasm, and it is not memory-hard;
//! the hosted runtime has also refused more than 100,000 PBKDF2 iterations
//! (workerd issue 1346).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::validate::Invalid;

/// Memory cost in KiB (19 MiB).
pub const M_COST_KIB: u32 = 19 * 1024;
/// Passes over memory.
pub const T_COST: u32 = 2;
/// Lanes.
pub const P_COST: u32 = 1;
/// Bytes of random salt the caller supplies.
pub const SALT_BYTES: usize = 16;

/// The hash of a password nobody knows, with the current parameters.
/// Logins for unknown usernames verify against it, so they cost the same
/// work as real ones and the timing does not reveal which names exist.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZWRnZWNoYXQtZHVtbXktcw$42fvl4j2F+/SuxPdiPb60ecsw3uJRQ4z1YYqvDFXGGo";

fn hasher() -> Argon2<'static> {
    let params =
        Params::new(M_COST_KIB, T_COST, P_COST, None).expect("the constant parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A password as the API accepts it: 8–256 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    /// Checks the length rule; the password is otherwise taken as given.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let n = raw.chars().take(257).count();
        if (8..=256).contains(&n) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid("password must be 8 to 256 characters".into()))
        }
    }

    /// The password's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Hashes `password` with the current parameters and `salt`.
///
/// # Panics
/// Never: the parameters are constants and a 16-byte salt is always valid.
#[must_use]
pub fn hash(password: &[u8], salt: &[u8; SALT_BYTES]) -> String {
    let salt = SaltString::encode_b64(salt).expect("16 bytes is a valid salt");
    hasher()
        .hash_password(password, &salt)
        .expect("hashing with valid parameters succeeds")
        .to_string()
}

/// What a verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password is right, and the hash uses the current parameters.
    Ok,
    /// The password is right, but the hash should be replaced by [`hash`].
    OkRehash,
    /// Wrong password, or a hash we cannot read.
    Wrong,
}

/// Checks `password` against a stored PHC string.
#[must_use]
pub fn verify(password: &[u8], phc: &str) -> Verdict {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Verdict::Wrong;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return Verdict::Wrong;
    };
    // Never spend more than the current cost on a stored hash, whatever it says.
    if params.m_cost() > M_COST_KIB * 4 || params.t_cost() > T_COST * 8 {
        return Verdict::Wrong;
    }
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return Verdict::Wrong;
    };
    let argon = Argon2::new(algorithm, Version::V0x13, params.clone());
    if argon.verify_password(password, &parsed).is_err() {
        return Verdict::Wrong;
    }
    let current = algorithm == Algorithm::Argon2id
        && params.m_cost() == M_COST_KIB
        && params.t_cost() == T_COST
        && params.p_cost() == P_COST;
    if current {
        Verdict::Ok
    } else {
        Verdict::OkRehash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let phc = hash(b"correct horse", &[3u8; SALT_BYTES]);
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(verify(b"correct horse", &phc), Verdict::Ok);
        assert_eq!(verify(b"correct horsf", &phc), Verdict::Wrong);
    }

    #[test]
    fn salts_differ_hashes_differ() {
        assert_ne!(
            hash(b"pw-pw-pw", &[1; SALT_BYTES]),
            hash(b"pw-pw-pw", &[2; SALT_BYTES])
        );
    }

    #[test]
    fn weaker_parameters_ask_for_rehash() {
        let params = Params::new(4096, 1, 1, None).unwrap();
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"old password", &SaltString::encode_b64(&[5; 16]).unwrap())
            .unwrap()
            .to_string();
        assert_eq!(verify(b"old password", &weak), Verdict::OkRehash);
        assert_eq!(verify(b"wrong", &weak), Verdict::Wrong);
    }

    #[test]
    fn garbage_and_abusive_hashes_are_wrong() {
        assert_eq!(verify(b"x", ""), Verdict::Wrong);
        assert_eq!(verify(b"x", "$argon2id$nonsense"), Verdict::Wrong);
        let huge = "$argon2id$v=19$m=4000000,t=2,p=1$ZWRnZWNoYXQtZHVtbXktc2FsdA$tKinnKsbS7CxJcp6v2yvqHGB5V2NHBNhm0qX2zTt5PY";
        assert_eq!(verify(b"x", huge), Verdict::Wrong);
    }

    #[test]
    fn dummy_hash_has_current_parameters() {
        // Recomputing it proves it is a real hash at today's cost.
        assert_eq!(
            hash(b"edgechat-dummy-password", b"edgechat-dummy-s"),
            DUMMY_HASH
        );
    }

    #[test]
    fn password_length_rule() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"é".repeat(256)).is_ok());
        assert!(Password::parse(&"é".repeat(257)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-pw").unwrap()),
            "Password(…)"
        );
    }
}
