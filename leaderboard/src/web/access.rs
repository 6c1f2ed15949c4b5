//! Who may do what: the kiosk and admin tokens of the `[access]` section.
//!
//! A token comes as `Authorization: Bearer …` or, for wall screens and websockets (which cannot set
//! headers), as `?token=…`. With no token configured the server listens on localhost only and every local
//! caller is an administrator.

use crate::live::boards::{Board, BoardKey};
use crate::web::error::ApiError;
use crate::web::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use schemas::{AccessConfig, Organisation};
use subtle::ConstantTimeEq;

/// What a caller may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Everything, including writing clearing scores.
    Admin,
    /// Reading, and when `branch` is set only that branch's people.
    Kiosk {
        /// The one branch whose people the token may see.
        branch: Option<String>,
        /// The token's label, for the list of screens.
        label: Option<String>,
    },
}

impl Grant {
    /// The branch the caller is limited to, if any.
    pub fn branch(&self) -> Option<&str> {
        match self {
            Grant::Kiosk { branch, .. } => branch.as_deref(),
            Grant::Admin => None,
        }
    }

    /// The people filter to use for a request asking for `requested`: the token's own branch when it has
    /// one (and an error when another is asked for).
    pub fn people_of(&self, requested: Option<String>) -> Result<Option<String>, ApiError> {
        match (self.branch(), requested) {
            (None, requested) => Ok(requested),
            (Some(own), None) => Ok(Some(own.to_string())),
            (Some(own), Some(requested)) if requested == own => Ok(Some(requested)),
            (Some(own), Some(requested)) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("this token shows branch {own}'s people only, not {requested}'s"),
            )),
        }
    }

    /// The board key a request for `board` (with the `branch` filter asked for) may see: the people boards
    /// are narrowed to the token's branch, and the filter is checked against the organisation.
    pub fn board_key(
        &self,
        board: Board,
        branch: Option<String>,
        org: &Organisation,
    ) -> Result<BoardKey, ApiError> {
        let branch = if board.ranks_people() {
            self.people_of(branch)?
        } else {
            branch
        };
        BoardKey::new(board, branch, org).map_err(ApiError::bad_request)
    }

    /// The label of the caller's kiosk token.
    pub fn label(&self) -> Option<&str> {
        match self {
            Grant::Kiosk { label, .. } => label.as_deref(),
            Grant::Admin => None,
        }
    }

    /// An error unless the caller is an administrator.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Grant::Admin => Ok(()),
            Grant::Kiosk { .. } => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this needs the admin token; kiosk tokens are read-only",
            )),
        }
    }
}

/// The grant of `token` under `access`.
pub fn grant(access: &AccessConfig, token: Option<&str>) -> Result<Grant, ApiError> {
    if !access.has_tokens() {
        return Ok(Grant::Admin);
    }
    let Some(token) = token else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a token is required: send Authorization: Bearer <token> or add ?token=<token>",
        ));
    };
    let matches = |known: &str| bool::from(known.as_bytes().ct_eq(token.as_bytes()));
    if access.admin_token.as_deref().is_some_and(matches) {
        return Ok(Grant::Admin);
    }
    access
        .kiosk
        .iter()
        .find(|k| matches(&k.token))
        .map(|k| Grant::Kiosk {
            branch: k.branch.clone(),
            label: k.label.clone(),
        })
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unknown token"))
}

/// The token of a request: the bearer header first, then the `token` query parameter.
fn token_of(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        // The scheme's name is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are `Bearer`.
        let (scheme, token) = value.to_str().ok()?.trim_start().split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("Bearer")
            .then(|| token.trim().to_string());
    }
    #[derive(serde::Deserialize)]
    struct TokenParam {
        token: Option<String>,
    }
    axum::extract::Query::<TokenParam>::try_from_uri(&parts.uri)
        .ok()?
        .0
        .token
}

impl FromRequestParts<AppState> for Grant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        grant(&state.live.config().access, token_of(parts).as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemas::KioskToken;

    fn access() -> AccessConfig {
        AccessConfig {
            admin_token: Some("admin-0123456789abcdef".into()),
            kiosk: vec![KioskToken {
                token: "kiosk-0123456789abcdef".into(),
                branch: Some("zd".into()),
                label: None,
            }],
        }
    }

    #[test]
    fn tokens_grant_what_they_say_and_nothing_else() {
        let access = access();
        assert_eq!(
            grant(&access, Some("admin-0123456789abcdef")).unwrap(),
            Grant::Admin
        );
        let kiosk = grant(&access, Some("kiosk-0123456789abcdef")).unwrap();
        assert_eq!(kiosk.branch(), Some("zd"));
        assert!(kiosk.require_admin().is_err());
        assert_eq!(kiosk.people_of(None).unwrap().as_deref(), Some("zd"));
        assert!(kiosk.people_of(Some("bs".into())).is_err());
        assert!(grant(&access, Some("kiosk-0123456789abcdeX")).is_err());
        assert!(grant(&access, None).is_err());
        // No tokens configured: localhost only, every caller is an administrator.
        assert_eq!(grant(&AccessConfig::default(), None).unwrap(), Grant::Admin);
    }

    #[test]
    fn the_token_comes_from_the_header_or_the_query() {
        let request = axum::http::Request::get("/ws?board=x&token=a%2Db+c")
            .body(())
            .unwrap();
        assert_eq!(token_of(&request.into_parts().0).as_deref(), Some("a-b c"));
        let request = axum::http::Request::get("/api")
            .header("authorization", "Bearer abc")
            .body(())
            .unwrap();
        assert_eq!(token_of(&request.into_parts().0).as_deref(), Some("abc"));
        for (header, token) in [
            ("bearer abc", Some("abc")),
            ("BEARER  abc ", Some("abc")),
            ("Basic abc", None),
            ("Bearerabc", None),
            ("Bearer", None),
        ] {
            let request = axum::http::Request::get("/api?token=from-the-query")
                .header("authorization", header)
                .body(())
                .unwrap();
            assert_eq!(
                token_of(&request.into_parts().0).as_deref(),
                token,
                "{header}"
            );
        }
    }
}
