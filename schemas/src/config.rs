//! The configuration file (TOML). Every section is optional, every default is the one of docs/configuration.md, and an unknown key
//! is an error so a typo never silently falls back to a default.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};
use std::path::Path;
use thiserror::Error;

mod access;
mod live;
mod scram;
mod screens;
mod sql;

pub use access::{AccessConfig, KioskToken};
pub use live::LiveConfig;
pub use scram::{MIN_ITERATIONS, SCRAM_PREFIX, ScramVerifier};
pub use screens::{
    MAX_PLAYLIST_BOARDS, MAX_TICKER_CHARS, PlaylistItem, ScreenConfig, validate_screens,
};
pub use sql::{MIN_PASSWORD_CHARS, SqlAuth, SqlConfig, SqlUser};

/// A problem with the configuration file.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped keys.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message, naming the key.
        message: String,
    },
    /// The values parse but do not make sense together.
    #[error("config: {0}")]
    Invalid(String),
}

/// The whole configuration. Later sections (Kafka, server, SQL) join this same file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// IANA time zone of the local calendar days and months (default `Asia/Shanghai`).
    #[serde(deserialize_with = "zone")]
    pub timezone: Tz,
    /// First day of the assessment (default 2016-06-01): the first day of a month.
    #[serde(deserialize_with = "date")]
    pub assessment_start: NaiveDate,
    /// Last day of the assessment, inclusive (default 2016-12-31): the last day of a month.
    #[serde(deserialize_with = "date")]
    pub assessment_end: NaiveDate,
    /// Days after a month's end before late events stop correcting it (default 3).
    pub grace_days: u32,
    /// Login days in a month that make a user active (default 20).
    pub active_login_days: u32,
    /// How far a partition's watermark trails the latest `occurred_at` that moved it, in seconds (default
    /// 300).
    pub watermark_delay_secs: u64,
    /// How far one event may move its partition's watermark ahead on its own, in seconds (default 21600,
    /// six hours). An event further ahead is counted but moves the watermark only once
    /// `watermark_confirmations` events in a row on its partition are that far ahead too.
    pub max_watermark_jump_secs: u64,
    /// Events in a row, each beyond `max_watermark_jump_secs` ahead of their partition's watermark, that
    /// confirm a new time for it (default 3).
    pub watermark_confirmations: u32,
    /// Monthly per-user targets of the proportional indicators.
    pub targets: Targets,
    /// Points of the proportional and capped indicators.
    pub weights: Weights,
    /// Points by rank or rate for the ranked indicators.
    pub tiers: Tiers,
    /// Money rewards (docs/scoring.md#rewards).
    pub rewards: Rewards,
    /// Where the live pipeline reads events (`[kafka]`).
    pub kafka: KafkaConfig,
    /// The live pipeline's HTTP server and state directory (`[server]`).
    pub server: ServerConfig,
    /// Tokens of the API and the screens (`[access]`).
    pub access: AccessConfig,
    /// Websocket pushes to the screens (`[live]`).
    pub live: LiveConfig,
    /// The data team's read-only SQL (`[sql]`).
    pub sql: SqlConfig,
    /// Wall screens managed from the server (`[[screens]]`).
    pub screens: Vec<ScreenConfig>,
}

/// The `[kafka]` section: the activity topic and how the pipeline reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap servers, `host:port[,host:port…]` (default `localhost:9092`).
    pub brokers: String,
    /// The activity topic (default `activity`).
    pub topic: String,
    /// The consumer group its offsets are committed to, for lag monitoring only (default `leaderboard`).
    pub group: String,
    /// The dead-letter topic (default `<topic>.dlq`).
    pub dlq_topic: Option<String>,
    /// Partitions of the topics when the pipeline has to create them (default 3).
    pub partitions: u32,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "localhost:9092".into(),
            topic: "activity".into(),
            group: "leaderboard".into(),
            dlq_topic: None,
            partitions: 3,
        }
    }
}

impl KafkaConfig {
    /// The dead-letter topic: `dlq_topic` or `<topic>.dlq`.
    pub fn dead_letter_topic(&self) -> String {
        self.dlq_topic
            .clone()
            .unwrap_or_else(|| format!("{}.dlq", self.topic))
    }
}

/// The `[server]` section: where the pipeline listens and keeps its checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// The organisation file (CSV, docs/operations.md#organisation-file); `--org` overrides it.
    pub org: Option<std::path::PathBuf>,
    /// HTTP listen address (default `127.0.0.1:8080`).
    pub listen: String,
    /// Directory of the checkpoint (default `state`).
    pub state_dir: std::path::PathBuf,
    /// Seconds between checkpoints (default 5).
    pub checkpoint_interval_secs: u64,
    /// Most messages in one micro-batch (default 20000).
    pub max_batch: usize,
    /// Longest wait, in milliseconds, between a message arriving and its batch being processed (default 20).
    pub linger_ms: u64,
    /// Seconds a connection has to send a request's whole header, from opening and from the previous
    /// response when kept alive (default 10); a silent, half-sent or idle connection is then closed.
    /// Websockets are not subject to it once open.
    pub header_timeout_secs: u64,
    /// Most HTTP connections open at once, websockets included (default 4096; keep it under the process's
    /// open-file limit). Up to 64 more are answered and closed (`/health` as usual, anything else 503);
    /// beyond those a connection is closed at once.
    pub max_connections: usize,
    /// Most HTTP connections open at once from one client address (default 512), so one client cannot
    /// take every place; the connections over it are answered like those over `max_connections`. Raise it
    /// when many screens share one address (a proxy, an office behind NAT).
    pub max_connections_per_address: usize,
    /// PEM certificate chain for HTTPS; with `tls_key` the HTTP listener speaks only HTTPS (and `wss://`).
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of `tls_cert` (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<std::path::PathBuf>,
}

/// Checks that a section gives both of `tls_cert` and `tls_key` or neither.
pub(crate) fn validate_tls_pair(
    section: &str,
    cert: Option<&std::path::Path>,
    key: Option<&std::path::Path>,
) -> Result<(), String> {
    if cert.is_some() != key.is_some() {
        return Err(format!(
            "{section}.tls_cert and {section}.tls_key go together: give both or neither"
        ));
    }
    Ok(())
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            org: None,
            listen: "127.0.0.1:8080".into(),
            state_dir: "state".into(),
            checkpoint_interval_secs: 5,
            max_batch: 20_000,
            linger_ms: 20,
            header_timeout_secs: 10,
            max_connections: 4_096,
            max_connections_per_address: 512,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl ServerConfig {
    /// Checks the HTTP connection limits and the TLS files.
    fn validate_connections(&self) -> Result<(), String> {
        validate_tls_pair("server", self.tls_cert.as_deref(), self.tls_key.as_deref())?;
        if !(1..=300).contains(&self.header_timeout_secs) {
            return Err(format!(
                "server.header_timeout_secs must be 1..=300, got {}",
                self.header_timeout_secs
            ));
        }
        if !(1..=100_000).contains(&self.max_connections) {
            return Err(format!(
                "server.max_connections must be 1..=100000, got {}",
                self.max_connections
            ));
        }
        if !(1..=self.max_connections).contains(&self.max_connections_per_address) {
            return Err(format!(
                "server.max_connections_per_address must be 1..=server.max_connections ({}), got {}",
                self.max_connections, self.max_connections_per_address
            ));
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            timezone: chrono_tz::Asia::Shanghai,
            assessment_start: NaiveDate::from_ymd_opt(2016, 6, 1).expect("valid"),
            assessment_end: NaiveDate::from_ymd_opt(2016, 12, 31).expect("valid"),
            grace_days: 3,
            active_login_days: 20,
            watermark_delay_secs: 300,
            max_watermark_jump_secs: 6 * 3600,
            watermark_confirmations: 3,
            targets: Targets::default(),
            weights: Weights::default(),
            tiers: Tiers::default(),
            rewards: Rewards::default(),
            kafka: KafkaConfig::default(),
            server: ServerConfig::default(),
            access: AccessConfig::default(),
            live: LiveConfig::default(),
            sql: SqlConfig::default(),
            screens: Vec::new(),
        }
    }
}

/// Monthly per-user targets: reaching the target earns the indicator's full weight.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Targets {
    /// Quotes per user per month (default 200: about nine a working day; docs/configuration.md#targets).
    pub quotes_per_user: f64,
    /// Proposals per user per month (default 65: about one in three quotes).
    pub proposals_per_user: f64,
    /// Deal premium per user per month, in yuan (default 130000: about 35 car policies).
    pub deal_premium_per_user: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Self {
            quotes_per_user: 200.0,
            proposals_per_user: 65.0,
            deal_premium_per_user: 130_000.0,
        }
    }
}

/// Maximum points of each indicator scored in proportion or capped.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    /// 人均报价次数 (default 15).
    pub quotes_per_user: f64,
    /// 人均投保次数 (default 15).
    pub proposals_per_user: f64,
    /// 人均成交保费 (default 10).
    pub deal_premium_per_user: f64,
    /// 保单清分工作: the cap on the manual score (default 10).
    pub clearing_score: f64,
    /// 续保管理指数 (default 10).
    pub renewal_index: f64,
    /// 销售任务执行率 (default 10).
    pub task_execution_rate: f64,
    /// 用户活跃率 (default 10).
    pub active_user_rate: f64,
    /// 系统推广日常管理: one point per accepted report up to this cap (default 5).
    pub reports_accepted: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            quotes_per_user: 15.0,
            proposals_per_user: 15.0,
            deal_premium_per_user: 10.0,
            clearing_score: 10.0,
            renewal_index: 10.0,
            task_execution_rate: 10.0,
            active_user_rate: 10.0,
            reports_accepted: 5.0,
        }
    }
}

/// Points for ranks `..=max_rank` (after the tiers before it).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankTier {
    /// The worst rank of the tier.
    pub max_rank: u32,
    /// The points.
    pub points: f64,
}

/// Points for a rate at or above `min_rate`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateTier {
    /// The least rate of the tier, 0..=1.
    pub min_rate: f64,
    /// The points.
    pub points: f64,
}

/// Tiered scoring of the ranked and threshold indicators.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tiers {
    /// 人均移动端报价量 by rank (default 1–3 → 6, 4–8 → 3).
    pub mobile_quotes_per_user: Vec<RankTier>,
    /// 人均移动支付金额 by rank (default 1–5 → 5, 6–10 → 3, 11–15 → 1).
    pub mobile_payment_per_user: Vec<RankTier>,
    /// 微信绑定率 by rate (default 100 % → 4, ≥ 90 % → 2).
    pub wechat_binding_rate: Vec<RateTier>,
}

impl Default for Tiers {
    fn default() -> Self {
        let rank = |max_rank, points| RankTier { max_rank, points };
        Self {
            mobile_quotes_per_user: vec![rank(3, 6.0), rank(8, 3.0)],
            mobile_payment_per_user: vec![rank(5, 5.0), rank(10, 3.0), rank(15, 1.0)],
            wechat_binding_rate: vec![
                RateTier {
                    min_rate: 1.0,
                    points: 4.0,
                },
                RateTier {
                    min_rate: 0.9,
                    points: 2.0,
                },
            ],
        }
    }
}

/// A prize given to `places` branches.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prize {
    /// How many branches get it.
    pub places: u32,
    /// Yuan per branch.
    pub yuan: f64,
}

/// Money rewards (docs/scoring.md#rewards).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rewards {
    /// Annual branch prizes in rank order (default 1 × 2000, 2 × 1600, 3 × 1200).
    pub branch_prizes: Vec<Prize>,
    /// Monthly total that earns the branch's specialists a bonus (default 90).
    pub specialist_min_total: f64,
    /// The specialist bonus per qualifying month, in yuan (default 300).
    pub specialist_yuan: f64,
    /// The salesperson reward per qualifying policy, in yuan (default 5).
    pub policy_yuan: f64,
}

impl Default for Rewards {
    fn default() -> Self {
        let prize = |places, yuan| Prize { places, yuan };
        Self {
            branch_prizes: vec![prize(1, 2000.0), prize(2, 1600.0), prize(3, 1200.0)],
            specialist_min_total: 90.0,
            specialist_yuan: 300.0,
            policy_yuan: 5.0,
        }
    }
}

fn zone<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
    let name = String::deserialize(d)?;
    name.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown IANA time zone {name:?} (e.g. \"Asia/Shanghai\")"
        ))
    })
}

fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    /// A date written as a TOML date or as a string.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum DateInput {
        Native(toml::value::Datetime),
        Text(String),
    }
    let text = match DateInput::deserialize(d)? {
        DateInput::Native(dt) => dt.to_string(),
        DateInput::Text(text) => text,
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
        serde::de::Error::custom(format!("expected a date as YYYY-MM-DD, got {text:?}"))
    })
}

impl Config {
    /// The `occurred_at` bounds of this assessment with the pipeline clock at `now`.
    pub fn time_bounds(&self, now: crate::EpochMillis) -> crate::TimeBounds {
        let calendar = crate::LocalCalendar::new(self.timezone);
        crate::TimeBounds::new(calendar.start_of(self.assessment_start), now)
    }

    /// Parses TOML text; `origin` names the source in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.into(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// The file at `path`, or the defaults without one.
    pub fn from_file_or_default(path: Option<&Path>) -> Result<Self, ConfigError> {
        path.map_or_else(|| Ok(Self::default()), Self::from_file)
    }

    /// Checks the values against each other.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.assessment_end < self.assessment_start {
            return bad(format!(
                "assessment_end ({}) is before assessment_start ({})",
                self.assessment_end, self.assessment_start
            ));
        }
        // Every period is made of whole months, so a date inside a month would be silently widened.
        if self.assessment_start.day() != 1 {
            return bad(format!(
                "assessment_start must be the first day of a month (periods are whole months), got {}",
                self.assessment_start
            ));
        }
        if self
            .assessment_end
            .succ_opt()
            .is_some_and(|next| next.day() != 1)
        {
            return bad(format!(
                "assessment_end must be the last day of a month (periods are whole months), got {}",
                self.assessment_end
            ));
        }
        for (key, value) in [
            ("targets.quotes_per_user", self.targets.quotes_per_user),
            (
                "targets.proposals_per_user",
                self.targets.proposals_per_user,
            ),
            (
                "targets.deal_premium_per_user",
                self.targets.deal_premium_per_user,
            ),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return bad(format!("{key} must be a positive number, got {value}"));
            }
        }
        if !(1..=100).contains(&self.watermark_confirmations) {
            return bad(format!(
                "watermark_confirmations must be 1..=100, got {}",
                self.watermark_confirmations
            ));
        }
        if self.max_watermark_jump_secs > 366 * 86_400 {
            return bad(format!(
                "max_watermark_jump_secs must be at most a year (31622400), got {}",
                self.max_watermark_jump_secs
            ));
        }
        if self.active_login_days == 0 || self.active_login_days > 31 {
            return bad(format!(
                "active_login_days must be 1..=31, got {}",
                self.active_login_days
            ));
        }
        for (key, tiers) in [
            (
                "tiers.mobile_quotes_per_user",
                &self.tiers.mobile_quotes_per_user,
            ),
            (
                "tiers.mobile_payment_per_user",
                &self.tiers.mobile_payment_per_user,
            ),
        ] {
            if tiers.windows(2).any(|w| w[0].max_rank >= w[1].max_rank) {
                return bad(format!("{key} must list tiers by increasing max_rank"));
            }
            if tiers.iter().any(|t| t.max_rank == 0) {
                return bad(format!(
                    "{key}: ranks start at 1, so max_rank must be at least 1"
                ));
            }
        }
        if self
            .tiers
            .wechat_binding_rate
            .windows(2)
            .any(|w| w[0].min_rate <= w[1].min_rate)
        {
            return bad("tiers.wechat_binding_rate must list tiers by decreasing min_rate".into());
        }
        if self.kafka.topic.is_empty() || self.kafka.brokers.is_empty() {
            return bad("kafka.topic and kafka.brokers must not be empty".into());
        }
        if self.kafka.dead_letter_topic() == self.kafka.topic {
            return bad(format!(
                "kafka.dlq_topic must differ from kafka.topic ({:?}): rejected messages would loop",
                self.kafka.topic
            ));
        }
        if self.kafka.partitions == 0 {
            return bad("kafka.partitions must be at least 1".into());
        }
        if self.server.checkpoint_interval_secs == 0 || self.server.max_batch == 0 {
            return bad(
                "server.checkpoint_interval_secs and server.max_batch must be at least 1".into(),
            );
        }
        if self.server.linger_ms > 100 {
            return bad(format!(
                "server.linger_ms must be at most 100 (a waiting event is processed within 100 ms), got {}",
                self.server.linger_ms
            ));
        }
        self.server
            .validate_connections()
            .map_err(ConfigError::Invalid)?;
        self.access.validate().map_err(ConfigError::Invalid)?;
        self.live.validate().map_err(ConfigError::Invalid)?;
        self.sql.validate().map_err(ConfigError::Invalid)?;
        validate_screens(&self.screens, &self.access).map_err(ConfigError::Invalid)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_spec_defaults() {
        let c = Config::from_toml("", "test").unwrap();
        assert_eq!(c.timezone, chrono_tz::Asia::Shanghai);
        assert_eq!(c.assessment_start.to_string(), "2016-06-01");
        assert_eq!(c.grace_days, 3);
        assert_eq!(
            c.tiers.mobile_payment_per_user[2],
            RankTier {
                max_rank: 15,
                points: 1.0
            }
        );
    }

    #[test]
    fn sections_override_and_native_dates_work() {
        let c = Config::from_toml(
            "timezone = \"UTC\"\nassessment_start = 2016-07-01\n[targets]\nquotes_per_user = 12.5\n",
            "test",
        )
        .unwrap();
        assert_eq!(c.timezone, chrono_tz::UTC);
        assert_eq!(c.assessment_start.to_string(), "2016-07-01");
        assert_eq!(c.targets.quotes_per_user, 12.5);
        assert_eq!(c.targets.proposals_per_user, 65.0);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let e = Config::from_toml("[targets]\nquote_per_user = 3\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("quote_per_user"), "{e}");
        let e = Config::from_toml("timezone = \"Mars/Base\"\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("Mars/Base"), "{e}");
        let e = Config::from_toml("assessment_end = \"2016-01-01\"\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("before assessment_start"), "{e}");
        for (toml, expected) in [
            ("assessment_start = 2016-06-15\n", "first day of a month"),
            ("assessment_end = 2016-12-30\n", "last day of a month"),
        ] {
            let e = Config::from_toml(toml, "x.toml").unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
        }
        let c = Config::from_toml(
            "assessment_end = 2016-02-29\nassessment_start = 2016-01-01\n",
            "x.toml",
        );
        assert_eq!(c.unwrap().assessment_end.to_string(), "2016-02-29");
    }

    #[test]
    fn kafka_and_server_sections_have_defaults_and_refuse_a_looping_dead_letter_topic() {
        let config = Config::from_toml("[kafka]\ntopic = \"events\"\n", "t").unwrap();
        assert_eq!(config.kafka.dead_letter_topic(), "events.dlq");
        assert_eq!(config.server.checkpoint_interval_secs, 5);
        let err = Config::from_toml("[kafka]\ntopic = \"a\"\ndlq_topic = \"a\"\n", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("dlq_topic") && err.contains("loop"), "{err}");
        let err = Config::from_toml("[server]\nlinger_ms = 500\n", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("linger_ms"), "{err}");
    }

    #[test]
    fn access_tokens_must_be_long_and_distinct_and_live_limits_hold() {
        let ok = Config::from_toml(
            "[access]\nadmin_token = \"0123456789abcdef-admin\"\n[[access.kiosk]]\ntoken = \"0123456789abcdef-zd\"\nbranch = \"zd\"\n",
            "t",
        )
        .unwrap();
        assert!(ok.access.has_tokens());
        assert_eq!(ok.access.kiosk[0].branch.as_deref(), Some("zd"));
        assert!(!Config::default().access.has_tokens());
        let err = Config::from_toml("[access]\nadmin_token = \"short\"\n", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least 16"), "{err}");
        let err = Config::from_toml(
            "[access]\nadmin_token = \"0123456789abcdef\"\n[[access.kiosk]]\ntoken = \"0123456789abcdef\"\n",
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("twice"), "{err}");
        let err = Config::from_toml("[live]\ncelebrations_per_sec = 10\n", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("celebrations_per_sec"), "{err}");
        let err = Config::from_toml("[live]\npush_interval_ms = 5000\n", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("push_interval_ms"), "{err}");
    }

    #[test]
    fn sql_accounts_take_scram_verifiers_md5_only_with_a_clear_password_and_tls_files_in_pairs() {
        let verifier = "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0MTIz$\
            AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
        let ok = Config::from_toml(
            &format!(
                "[[sql.users]]\nname = \"a\"\npassword = \"{verifier}\"\n\
                 [[sql.users]]\nname = \"b\"\npassword = \"longenough\"\nauth = \"md5\"\n"
            ),
            "t",
        )
        .unwrap();
        assert_eq!(ok.sql.users[0].auth, SqlAuth::ScramSha256);
        assert_eq!(ok.sql.users[0].scram_verifier().unwrap().iterations, 4096);
        assert_eq!(ok.sql.users[1].auth, SqlAuth::Md5);
        assert!(ok.sql.users[1].scram_verifier().is_none());
        for (toml, says) in [
            (
                format!("[[sql.users]]\nname = \"a\"\npassword = \"{verifier}\"\nauth = \"md5\"\n"),
                "needs the password in clear text",
            ),
            (
                "[[sql.users]]\nname = \"a\"\npassword = \"SCRAM-SHA-256$4096:x\"\n".into(),
                "the password of a: a SCRAM verifier is",
            ),
            (
                "[[sql.users]]\nname = \"a\"\npassword = \"longenough\"\nauth = \"trust\"\n".into(),
                "unknown variant",
            ),
            (
                "[sql]\ntls_cert = \"c.pem\"\n".into(),
                "sql.tls_cert and sql.tls_key go together",
            ),
            (
                "[server]\ntls_key = \"k.pem\"\n".into(),
                "server.tls_cert and server.tls_key",
            ),
            (
                "[sql]\nrequire_tls = true\n".into(),
                "sql.require_tls needs sql.tls_cert",
            ),
        ] {
            let err = Config::from_toml(&toml, "t").unwrap_err().to_string();
            assert!(err.contains(says), "{toml}: {err}");
        }
    }

    #[test]
    fn sql_accounts_need_distinct_names_and_real_passwords() {
        let ok = Config::from_toml(
            "[sql]\nlisten = \"127.0.0.1:6543\"\n[[sql.users]]\nname = \"analyst\"\npassword = \"s3cret-pass\"\n",
            "t",
        )
        .unwrap();
        assert_eq!(ok.sql.users[0].name, "analyst");
        assert_eq!(ok.sql.timeout_secs, 30);
        let err = Config::from_toml("[[sql.users]]\nname = \"a\"\npassword = \"short\"\n", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least 8"), "{err}");
        let err = Config::from_toml(
            "[[sql.users]]\nname = \"a\"\npassword = \"longenough\"\n[[sql.users]]\nname = \"a\"\npassword = \"longenough2\"\n",
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("twice"), "{err}");
        let err = Config::from_toml("[sql]\nmemory_limit_mb = 1\n", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("memory_limit_mb"), "{err}");
        for zero in [
            "max_concurrent_queries",
            "max_connections",
            "max_expression_weight",
        ] {
            let err = Config::from_toml(&format!("[sql]\n{zero} = 0\n"), "t")
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("sql.{zero}")), "{err}");
        }
        assert_eq!(ok.sql.max_concurrent_queries, 4);
    }
}
