//! `leaderboard sql-password`: the SCRAM-SHA-256 verifier of a password, to put in `[[sql.users]]` instead
//! of the password itself.

use anyhow::{Context, Result, bail};
use std::io::BufRead;

/// Reads a password from the first line of stdin and prints its verifier, salted at random.
pub fn sql_password() -> Result<()> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']);
    let chars = password.chars().count();
    if chars < schemas::MIN_PASSWORD_CHARS {
        bail!(
            "the password must be at least {} characters, got {chars}",
            schemas::MIN_PASSWORD_CHARS
        );
    }
    println!("{}", crate::sql::postgres::verifier_of(password));
    Ok(())
}
