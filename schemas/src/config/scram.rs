//! SCRAM-SHA-256 verifiers in PostgreSQL's format (`pg_authid.rolpassword`):
//! `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64 each. A verifier lets the server
//! check a login without knowing the password.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::fmt;

/// The prefix of a SCRAM-SHA-256 verifier.
pub const SCRAM_PREFIX: &str = "SCRAM-SHA-256$";

/// Fewest PBKDF2 iterations accepted (RFC 7677's minimum).
pub const MIN_ITERATIONS: u32 = 4096;

/// A parsed SCRAM-SHA-256 verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    /// PBKDF2 iterations of the salted password.
    pub iterations: u32,
    /// The salt.
    pub salt: Vec<u8>,
    /// SHA-256 of the client key.
    pub stored_key: [u8; 32],
    /// The key the server signs its final message with.
    pub server_key: [u8; 32],
}

impl fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramVerifier")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl ScramVerifier {
    /// Whether `text` is meant as a verifier rather than a clear-text password.
    pub fn is_verifier(text: &str) -> bool {
        text.starts_with(SCRAM_PREFIX)
    }

    /// Parses `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let expected = "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (base64 each)";
        let rest = text
            .strip_prefix(SCRAM_PREFIX)
            .ok_or_else(|| format!("a SCRAM verifier starts with {SCRAM_PREFIX}"))?;
        let (cost, keys) = rest
            .split_once('$')
            .ok_or_else(|| format!("a SCRAM verifier is {expected}"))?;
        let (iterations, salt) = cost
            .split_once(':')
            .ok_or_else(|| format!("a SCRAM verifier is {expected}"))?;
        let (stored_key, server_key) = keys
            .split_once(':')
            .ok_or_else(|| format!("a SCRAM verifier is {expected}"))?;
        let iterations: u32 = iterations.parse().map_err(|_| {
            format!("the iterations of a SCRAM verifier must be a number, got {iterations:?}")
        })?;
        if iterations < MIN_ITERATIONS {
            return Err(format!(
                "a SCRAM verifier needs at least {MIN_ITERATIONS} iterations, got {iterations}"
            ));
        }
        let salt = decode(salt, "salt")?;
        if salt.is_empty() {
            return Err("the salt of a SCRAM verifier is empty".into());
        }
        Ok(Self {
            iterations,
            salt,
            stored_key: key(stored_key, "StoredKey")?,
            server_key: key(server_key, "ServerKey")?,
        })
    }
}

impl fmt::Display for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCRAM_PREFIX}{}:{}${}:{}",
            self.iterations,
            STANDARD.encode(&self.salt),
            STANDARD.encode(self.stored_key),
            STANDARD.encode(self.server_key)
        )
    }
}

fn decode(text: &str, what: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .map_err(|e| format!("the {what} of a SCRAM verifier is not base64: {e}"))
}

fn key(text: &str, what: &str) -> Result<[u8; 32], String> {
    decode(text, what)?.try_into().map_err(|bytes: Vec<u8>| {
        format!(
            "the {what} of a SCRAM verifier must be 32 bytes, got {}",
            bytes.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A verifier in PostgreSQL's format, with keys 0..=31 and 32..=63.
    const POSTGRES_MADE: &str = "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0MTIz$\
        AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

    #[test]
    fn a_verifier_parses_and_prints_back_the_same() {
        let parsed = ScramVerifier::parse(POSTGRES_MADE).unwrap();
        assert_eq!(parsed.iterations, 4096);
        assert_eq!(parsed.salt, b"saltsaltsalt123");
        assert_eq!(parsed.stored_key[31], 31);
        assert_eq!(parsed.server_key[0], 32);
        assert_eq!(parsed.to_string(), POSTGRES_MADE);
        assert!(
            !format!("{parsed:?}").contains("stored"),
            "keys stay out of logs"
        );
    }

    #[test]
    fn a_malformed_verifier_says_what_is_wrong() {
        for (text, says) in [
            (
                "SCRAM-SHA-256$4096:c2FsdA==",
                "is SCRAM-SHA-256$<iterations>",
            ),
            ("SCRAM-SHA-256$1000:c2FsdA==$AA==:AA==", "at least 4096"),
            ("SCRAM-SHA-256$many:c2FsdA==$AA==:AA==", "must be a number"),
            (
                "SCRAM-SHA-256$4096:!!$AA==:AA==",
                "salt of a SCRAM verifier is not base64",
            ),
            (
                "SCRAM-SHA-256$4096:c2FsdA==$AA==:AA==",
                "StoredKey of a SCRAM verifier must be 32",
            ),
        ] {
            let error = ScramVerifier::parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
