//! The `[[screens]]` sections: wall screens managed from the server, each with its playlist.

use serde::{Deserialize, Serialize};

/// Longest ticker line, in characters.
pub const MAX_TICKER_CHARS: usize = 200;

/// Longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 100;

/// Most boards in one playlist (a screen follows them all at once).
pub const MAX_PLAYLIST_BOARDS: usize = 8;

/// A wall screen managed from the server: which boards it shows for how long, in which language, for
/// which branch, with which ticker line. A screen finds its playlist by `/screen?screen=NAME` or by the
/// kiosk token in its URL, and follows changes without a visit to the TV.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenConfig {
    /// The screen's name in URLs and in `GET /api/v1/screens`: letters, digits, `-` and `_`.
    pub name: String,
    /// What people call it, for example the office and the wall (`张店支公司 大厅`).
    #[serde(default)]
    pub label: Option<String>,
    /// The kiosk token of `[[access.kiosk]]` the screen's URL carries: a screen whose URL names no screen
    /// is found by it. Never shown by the API.
    #[serde(default, skip_serializing)]
    pub token: Option<String>,
    /// `zh` or `en`; the URL's `lang` when absent.
    #[serde(default)]
    pub lang: Option<String>,
    /// The branch whose people the people boards show; the city's when absent.
    #[serde(default)]
    pub branch: Option<String>,
    /// A line shown along the bottom of the screen.
    #[serde(default)]
    pub ticker: Option<String>,
    /// The boards in the order shown, each for its seconds.
    pub boards: Vec<PlaylistItem>,
}

/// One board of a playlist.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlaylistItem {
    /// The board's name (`branch_mobile_quotes`, …).
    pub board: String,
    /// Seconds on screen each turn (5 to 3600; default 20).
    #[serde(default = "default_seconds")]
    pub seconds: u32,
}

fn default_seconds() -> u32 {
    20
}

impl ScreenConfig {
    /// Checks what can be checked without the boards and the organisation: the name, the language, the
    /// ticker's length, the number of boards and their seconds.
    pub fn validate(&self) -> Result<(), String> {
        let name = &self.name;
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "a screen's name must be 1 to 64 letters, digits, '-' or '_', not {:?}",
                crate::excerpt(name)
            ));
        }
        if self
            .label
            .as_ref()
            .is_some_and(|l| l.chars().count() > MAX_LABEL_CHARS)
        {
            return Err(format!(
                "screen {name}: the label is longer than {MAX_LABEL_CHARS} characters"
            ));
        }
        if let Some(lang) = &self.lang
            && lang != "zh"
            && lang != "en"
        {
            return Err(format!(
                "screen {name}: lang must be \"zh\" or \"en\", got {:?}",
                crate::excerpt(lang)
            ));
        }
        if self
            .ticker
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_TICKER_CHARS)
        {
            return Err(format!(
                "screen {name}: the ticker is longer than {MAX_TICKER_CHARS} characters"
            ));
        }
        if self.boards.is_empty() || self.boards.len() > MAX_PLAYLIST_BOARDS {
            return Err(format!(
                "screen {name}: a playlist has 1 to {MAX_PLAYLIST_BOARDS} boards, got {}",
                self.boards.len()
            ));
        }
        if let Some(item) = self
            .boards
            .iter()
            .find(|item| !(5..=3600).contains(&item.seconds))
        {
            return Err(format!(
                "screen {name}: {} seconds for {:?}; each board shows 5 to 3600 seconds",
                item.seconds,
                crate::excerpt(&item.board)
            ));
        }
        Ok(())
    }
}

/// Checks every screen, that names are distinct, and that each screen's token is a kiosk token of
/// `access` (when tokens are configured) limited to no branch or to the screen's.
pub fn validate_screens(
    screens: &[ScreenConfig],
    access: &crate::AccessConfig,
) -> Result<(), String> {
    let mut names = std::collections::HashSet::new();
    for screen in screens {
        screen.validate()?;
        if !names.insert(&screen.name) {
            return Err(format!("screen {}: the name is used twice", screen.name));
        }
        let Some(token) = &screen.token else { continue };
        if !access.has_tokens() {
            continue;
        }
        let Some(kiosk) = access.kiosk.iter().find(|k| &k.token == token) else {
            return Err(format!(
                "screen {}: its token is not one of [[access.kiosk]]",
                screen.name
            ));
        };
        if let Some(own) = &kiosk.branch
            && screen.branch.as_ref() != Some(own)
        {
            return Err(format!(
                "screen {}: its token sees branch {own}'s people only; set branch = \"{own}\"",
                screen.name
            ));
        }
    }
    Ok(())
}
