//! The `[sql]` section: the data team's read-only SQL over the Postgres wire protocol and HTTP.

use super::scram::ScramVerifier;
use serde::Deserialize;

/// Where the Postgres-protocol listener binds, who may log in, and the limits every query runs under.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqlConfig {
    /// Postgres wire listen address (default `127.0.0.1:5433`). The port opens only when users are
    /// configured.
    pub listen: String,
    /// The accounts of `psql` and other Postgres clients (password authentication).
    pub users: Vec<SqlUser>,
    /// Most memory one query may use for sorts, joins and aggregations, in MiB (default 512); a query that
    /// needs more fails with a message instead of spilling or starving the pipeline.
    pub memory_limit_mb: u64,
    /// Longest a query may run, in seconds (default 30).
    pub timeout_secs: u64,
    /// Threads that run queries, at a lower scheduling priority than the pipeline (default 2).
    pub threads: usize,
    /// Most rows one HTTP answer carries (default 100000); ask for fewer with LIMIT.
    pub max_http_rows: usize,
    /// Most queries running at once, over HTTP and Postgres together (default 4); one more is refused
    /// with a message. Together with `memory_limit_mb` this bounds the memory SQL can take.
    pub max_concurrent_queries: usize,
    /// Most Postgres connections open at once (default 32); one more is refused at login.
    pub max_connections: usize,
    /// Seconds a Postgres connection has to log in (default 10); one that has not is closed.
    pub startup_timeout_secs: u64,
    /// Most Postgres connections logging in at once (default 16), counted apart from `max_connections`;
    /// one more closes the one that has been logging in longest.
    pub max_pending_connections: usize,
    /// Heaviest statement planned (default 1000000): a statement weighs the sum, over its expressions, of
    /// how deeply each is nested (a chain `a OR b OR …` of n terms about 2n², an IN list of n values about
    /// 2n). Planning time and memory grow with the weight, so a heavier statement is refused before
    /// planning.
    pub max_expression_weight: u64,
    /// PEM certificate chain for TLS on the Postgres port (`sslmode=require`, `verify-full`).
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of `tls_cert` (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<std::path::PathBuf>,
    /// Refuse Postgres clients that do not ask for TLS (default false; needs `tls_cert`).
    pub require_tls: bool,
}

/// One account of the Postgres listener.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlUser {
    /// The user name (`psql -U NAME`).
    pub name: String,
    /// The password in clear text, or its SCRAM-SHA-256 verifier
    /// (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, as `leaderboard sql-password` prints
    /// it and PostgreSQL stores it), so the configuration need not hold the password.
    pub password: String,
    /// How the password is checked at login (default SCRAM-SHA-256).
    #[serde(default)]
    pub auth: SqlAuth,
}

/// A Postgres password exchange, named as in PostgreSQL's `pg_hba.conf`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum SqlAuth {
    /// SCRAM-SHA-256 (RFC 7677), PostgreSQL's default since version 14: the password never crosses the
    /// network and the server proves it knows the verifier.
    #[default]
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
    /// MD5 challenge and response, for clients too old for SCRAM; needs the password in clear text.
    #[serde(rename = "md5")]
    Md5,
}

impl SqlUser {
    /// The SCRAM verifier the password is given as, if it is one (checked by [`SqlConfig::validate`]).
    pub fn scram_verifier(&self) -> Option<ScramVerifier> {
        ScramVerifier::is_verifier(&self.password)
            .then(|| ScramVerifier::parse(&self.password))
            .and_then(Result::ok)
    }
}

impl Default for SqlConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:5433".into(),
            users: Vec::new(),
            memory_limit_mb: 512,
            timeout_secs: 30,
            threads: 2,
            max_http_rows: 100_000,
            max_concurrent_queries: 4,
            max_connections: 32,
            startup_timeout_secs: 10,
            max_pending_connections: 16,
            max_expression_weight: 1_000_000,
            tls_cert: None,
            tls_key: None,
            require_tls: false,
        }
    }
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

impl SqlConfig {
    /// Checks limits and accounts.
    pub fn validate(&self) -> Result<(), String> {
        if self.memory_limit_mb < 16 || self.timeout_secs == 0 || self.max_http_rows == 0 {
            return Err(format!(
                "sql.memory_limit_mb must be at least 16 and sql.timeout_secs and sql.max_http_rows at \
                 least 1, got {}, {} and {}",
                self.memory_limit_mb, self.timeout_secs, self.max_http_rows
            ));
        }
        if !(1..=64).contains(&self.threads) {
            return Err(format!("sql.threads must be 1..=64, got {}", self.threads));
        }
        if !(1..=256).contains(&self.max_concurrent_queries) {
            return Err(format!(
                "sql.max_concurrent_queries must be 1..=256, got {}",
                self.max_concurrent_queries
            ));
        }
        if !(1..=10_000).contains(&self.max_connections) {
            return Err(format!(
                "sql.max_connections must be 1..=10000, got {}",
                self.max_connections
            ));
        }
        if !(1..=300).contains(&self.startup_timeout_secs) {
            return Err(format!(
                "sql.startup_timeout_secs must be 1..=300, got {}",
                self.startup_timeout_secs
            ));
        }
        if !(1..=1_000).contains(&self.max_pending_connections) {
            return Err(format!(
                "sql.max_pending_connections must be 1..=1000, got {}",
                self.max_pending_connections
            ));
        }
        if self.max_expression_weight == 0 {
            return Err("sql.max_expression_weight must be at least 1, got 0".into());
        }
        super::validate_tls_pair("sql", self.tls_cert.as_deref(), self.tls_key.as_deref())?;
        if self.require_tls && self.tls_cert.is_none() {
            return Err("sql.require_tls needs sql.tls_cert and sql.tls_key".into());
        }
        let mut seen = std::collections::HashSet::new();
        for user in &self.users {
            if user.name.is_empty() || !seen.insert(&user.name) {
                return Err(format!(
                    "sql.users: the name {:?} is empty or given twice",
                    user.name
                ));
            }
            if ScramVerifier::is_verifier(&user.password) {
                ScramVerifier::parse(&user.password)
                    .map_err(|e| format!("sql.users: the password of {}: {e}", user.name))?;
                if user.auth == SqlAuth::Md5 {
                    return Err(format!(
                        "sql.users: {} has auth = \"md5\", which needs the password in clear text, \
                         not a SCRAM verifier",
                        user.name
                    ));
                }
            } else if user.password.chars().count() < MIN_PASSWORD_CHARS {
                return Err(format!(
                    "sql.users: the password of {} must be at least {MIN_PASSWORD_CHARS} characters",
                    user.name
                ));
            }
        }
        Ok(())
    }
}
