//! The `[access]` section: who may read the boards and who may write clearing scores.

use serde::Deserialize;

/// Tokens of the HTTP and websocket API. With none configured the server listens on localhost only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// The administrator's token: everything, including `POST /api/v1/clearing-scores`.
    pub admin_token: Option<String>,
    /// Read-only tokens for wall screens and managers.
    pub kiosk: Vec<KioskToken>,
}

/// A read-only token, optionally limited to one branch.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskToken {
    /// The secret a screen presents (`?token=` or `Authorization: Bearer`).
    pub token: String,
    /// When set, the token sees only this branch's people (branch rankings stay visible).
    pub branch: Option<String>,
    /// A name for the logs (for example the office the screen hangs in).
    pub label: Option<String>,
}

/// Shortest token accepted: long enough not to be guessed.
pub const MIN_TOKEN_CHARS: usize = 16;

impl AccessConfig {
    /// Returns true if and only if at least one token is configured.
    pub fn has_tokens(&self) -> bool {
        self.admin_token.is_some() || !self.kiosk.is_empty()
    }

    /// Checks token lengths and that no token is given twice.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        let all = self
            .admin_token
            .iter()
            .map(|t| ("access.admin_token", t))
            .chain(self.kiosk.iter().map(|k| ("access.kiosk.token", &k.token)));
        for (key, token) in all {
            if token.chars().count() < MIN_TOKEN_CHARS || token.chars().any(char::is_whitespace) {
                return Err(format!(
                    "{key} must be at least {MIN_TOKEN_CHARS} characters without spaces"
                ));
            }
            if !seen.insert(token) {
                return Err(format!("{key}: the same token is configured twice"));
            }
        }
        Ok(())
    }
}
