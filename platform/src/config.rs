//! Configuration: one typed struct, read from the environment once at start-up.
//!
//! Every variable is checked before the function starts serving, and a bad start names *every* missing or
//! malformed variable at once, so a deploy with three mistakes costs one round trip, not three. Local defaults
//! are not written here: they live in `infra/local.env`, the one documented file of local settings.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Everything a function needs to know about its surroundings.
#[derive(Clone)]
pub struct Config {
    /// Where the PostgreSQL connection settings come from: a URL, or a Secrets Manager secret.
    pub database: DatabaseSource,
    /// Extra PEM bundle of certificate authorities for PostgreSQL TLS (e.g. the RDS bundle); optional.
    pub database_ca_file: Option<String>,
    pub redis_url: String,
    /// Prefix of every key this project writes to Redis, so it can share a server and clear only its own keys.
    pub cache_key_prefix: String,
    /// Origins allowed by CORS; empty means no cross-origin access.
    pub cors_allowed_origins: Vec<String>,
    /// Largest request body a route accepts (413 beyond it).
    pub max_body_bytes: usize,
    /// Queue URL of each job kind.
    pub queues: QueueUrls,
    /// The S3 bucket that holds media.
    pub media_bucket: String,
    /// Where clients read processed media and Open Graph images (`<base>/<key>`): a CDN in front of the bucket,
    /// or the bucket itself. Defaults to the bucket's S3 address.
    pub media_base_url: String,
    /// Sender address of every mail.
    pub mail_from: String,
    /// Who receives the contact form's messages (the site's admins); may be empty until one is configured.
    pub admin_emails: Vec<String>,
    /// The EventBridge bus routes publish domain events to.
    pub event_bus_name: String,
    /// Where users reach the site; links in mails (password reset) start with it.
    pub public_base_url: String,
    /// Identity settings: the bot token, how old a Telegram sign-in may be, session lifetime, admins.
    pub identity: IdentityConfig,
    /// The Telegram bot: where its Bot API is, the webhook's secret, the Mini App it opens.
    pub telegram: TelegramConfig,
    /// Outbound webhooks: how long the first retry waits, and which URLs may be registered.
    pub webhooks: WebhookConfig,
    /// The AWS region (`AWS_REGION`, which Lambda sets; default `us-east-1`).
    pub aws_region: String,
    /// The S3 endpoint clients upload to when it is not AWS's (`AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`):
    /// the local endpoint. The Mini App's page policy allows uploads there.
    pub s3_endpoint_url: Option<String>,
    /// The CloudWatch namespace of the metrics lines (`METRICS_NAMESPACE`, the stack's name; default `quiz`).
    pub metrics_namespace: String,
    /// What the operations functions need to find the stack's queues and job functions.
    pub operations: OperationsConfig,
}

/// Where the PostgreSQL connection settings come from.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseSource {
    /// `DATABASE_URL`, as local runs, the tests and `sam local` give it; `sslmode=require` (or `prefer`) turns on
    /// TLS with rustls.
    Url(String),
    /// `DATABASE_SECRET_ARN`: a Secrets Manager secret, read once at start-up, so the password is never in the
    /// function's environment (which anyone allowed to read the function's configuration sees). Its JSON holds
    /// `url`, or the keys RDS writes (`username`, `password`, `host`, `port`, `dbname`), then always over TLS;
    /// `DATABASE_HOST` (RDS Proxy's endpoint) replaces the secret's host.
    Secret { arn: String, host: Option<String> },
}

impl fmt::Debug for DatabaseSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The URL may hold a password: never print it.
            DatabaseSource::Url(_) => f.write_str("Url(<redacted>)"),
            DatabaseSource::Secret { arn, host } => {
                f.debug_struct("Secret").field("arn", arn).field("host", host).finish()
            }
        }
    }
}

/// The stack as `queue-inspect` sees it; only that function is given these, so they are optional here and
/// refused by it when missing.
#[derive(Clone, Debug)]
pub struct OperationsConfig {
    /// The prefix of every queue name of the stack (`QUEUE_NAME_PREFIX`, `<stack>-`).
    pub queue_name_prefix: Option<String>,
    /// The functions that run jobs (`JOB_FUNCTIONS`, comma-separated), which `ping` invokes.
    pub job_functions: Vec<String>,
}

/// Outbound webhooks' settings.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// The wait before a failed delivery's first retry; each later one waits twice as long (default 30 s).
    pub retry_base: Duration,
    /// Only loopback URLs may be registered (local development and CI), instead of only HTTPS URLs elsewhere.
    pub loopback_only: bool,
}

/// What the bot needs besides its token (which is in [`IdentityConfig`]).
#[derive(Clone)]
pub struct TelegramConfig {
    /// The Bot API's address (default `https://api.telegram.org`); tests point it at a stand-in on loopback.
    pub api_base_url: String,
    /// What Telegram sends in `X-Telegram-Bot-Api-Secret-Token` with every update (`setWebhook`'s
    /// `secret_token`): 1–256 of `A-Z a-z 0-9 _ -`. Never logged.
    pub webhook_secret: String,
    /// The Mini App the `/start` button opens (default `<PUBLIC_BASE_URL>/app/`).
    pub mini_app_url: String,
    /// The webhook's public URL, for `setWebhook`; only the operation that registers it needs it.
    pub webhook_url: Option<String>,
}

impl fmt::Debug for TelegramConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramConfig")
            .field("api_base_url", &self.api_base_url)
            .field("webhook_secret", &"<redacted>")
            .field("mini_app_url", &self.mini_app_url)
            .field("webhook_url", &self.webhook_url)
            .finish()
    }
}

/// What sign-in needs to know.
#[derive(Clone)]
pub struct IdentityConfig {
    /// The Telegram bot token: the key of both Telegram sign-in checks. Never logged.
    pub telegram_bot_token: String,
    /// An `auth_date` older than this is refused (default 24 h).
    pub telegram_auth_max_age: Duration,
    /// How long a session lives after sign-in (default 30 days).
    pub session_ttl: Duration,
    /// Telegram ids that are administrators whatever the database says.
    pub admin_telegram_ids: Vec<i64>,
    /// The key of every hash of a client address or an account we keep (limits, the blog's once-a-day views):
    /// with a secret key, a stored hash of an IPv4 address cannot be reversed by trying all four billion. At
    /// least 32 characters. Never logged.
    pub client_hash_key: String,
}

impl fmt::Debug for IdentityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("telegram_bot_token", &"<redacted>")
            .field("telegram_auth_max_age", &self.telegram_auth_max_age)
            .field("session_ttl", &self.session_ttl)
            .field("admin_telegram_ids", &self.admin_telegram_ids)
            .field("client_hash_key", &"<redacted>")
            .finish()
    }
}

/// Queue URL of each job kind. Adding a job kind adds a field here, so a missing URL stops the start.
#[derive(Clone, Debug)]
pub struct QueueUrls {
    pub debug: String,
    pub mail: String,
    /// Publishing one translation of a task to its Telegram channel.
    pub telegram_publish: String,
    /// Importing a question bank an admin sent the bot as a document.
    pub telegram_import: String,
    /// Delivering outbound webhooks (the `quiz.published` events, and retries).
    pub webhooks: String,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The database URL may hold a password: never print it.
        f.debug_struct("Config")
            .field("database", &self.database)
            .field("redis_url", &"<redacted>")
            .field("cache_key_prefix", &self.cache_key_prefix)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("queues", &self.queues)
            .field("media_bucket", &self.media_bucket)
            .field("media_base_url", &self.media_base_url)
            .field("mail_from", &self.mail_from)
            .field("admin_emails", &self.admin_emails)
            .field("event_bus_name", &self.event_bus_name)
            .field("public_base_url", &self.public_base_url)
            .field("identity", &self.identity)
            .field("telegram", &self.telegram)
            .field("webhooks", &self.webhooks)
            .finish()
    }
}

/// Why the configuration could not be read: one entry per bad variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: BTreeMap<String, String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration ({} variable(s)): ", self.problems.len())?;
        let list: Vec<String> = self.problems.iter().map(|(k, v)| format!("{k} {v}")).collect();
        f.write_str(&list.join("; "))
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads from any lookup, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut env = Reader { lookup: &lookup, problems: BTreeMap::new() };
        let config = Config {
            database: env.database(),
            database_ca_file: env.optional("DATABASE_CA_FILE"),
            redis_url: env.required("REDIS_URL"),
            cache_key_prefix: env.optional("CACHE_KEY_PREFIX").unwrap_or_else(|| "quiz:".into()),
            cors_allowed_origins: env
                .optional("CORS_ALLOWED_ORIGINS")
                .map(|list| list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
                .unwrap_or_default(),
            max_body_bytes: env.parsed_or("MAX_BODY_BYTES", 1024 * 1024),
            queues: QueueUrls {
                debug: env.required("DEBUG_QUEUE_URL"),
                mail: env.required("MAIL_QUEUE_URL"),
                telegram_publish: env.required("TELEGRAM_PUBLISH_QUEUE_URL"),
                telegram_import: env.required("TELEGRAM_IMPORT_QUEUE_URL"),
                webhooks: env.required("WEBHOOK_QUEUE_URL"),
            },
            media_bucket: env.required("MEDIA_BUCKET"),
            media_base_url: env
                .optional("MEDIA_BASE_URL")
                .unwrap_or_else(|| {
                    format!("https://{}.s3.amazonaws.com", lookup("MEDIA_BUCKET").unwrap_or_default().trim())
                })
                .trim_end_matches('/')
                .to_string(),
            mail_from: env.optional("MAIL_FROM").unwrap_or_else(|| "no-reply@quiz.local".into()),
            admin_emails: env.list_of("ADMIN_EMAILS"),
            event_bus_name: env.required("EVENT_BUS_NAME"),
            public_base_url: env.required("PUBLIC_BASE_URL").trim_end_matches('/').to_string(),
            identity: IdentityConfig {
                telegram_bot_token: env.required("TELEGRAM_BOT_TOKEN"),
                telegram_auth_max_age: Duration::from_secs(env.parsed_or("TELEGRAM_AUTH_MAX_AGE_SECONDS", 24 * 3600)),
                session_ttl: Duration::from_secs(env.parsed_or("SESSION_TTL_SECONDS", 30 * 24 * 3600)),
                admin_telegram_ids: env.list_of("ADMIN_TELEGRAM_IDS"),
                client_hash_key: env.required("CLIENT_HASH_KEY"),
            },
            telegram: TelegramConfig {
                api_base_url: env
                    .optional("TELEGRAM_API_BASE_URL")
                    .unwrap_or_else(|| "https://api.telegram.org".into())
                    .trim_end_matches('/')
                    .to_string(),
                webhook_secret: env.required("TELEGRAM_WEBHOOK_SECRET"),
                mini_app_url: env.optional("MINI_APP_URL").unwrap_or_else(|| {
                    format!("{}/app/", lookup("PUBLIC_BASE_URL").unwrap_or_default().trim().trim_end_matches('/'))
                }),
                webhook_url: env.optional("TELEGRAM_WEBHOOK_URL"),
            },
            webhooks: WebhookConfig {
                retry_base: Duration::from_secs(env.parsed_or("WEBHOOK_RETRY_BASE_SECONDS", 30)),
                loopback_only: env.parsed_or("WEBHOOK_LOOPBACK_ONLY", false),
            },
            aws_region: env.optional("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            s3_endpoint_url: env.optional("AWS_ENDPOINT_URL_S3").or_else(|| env.optional("AWS_ENDPOINT_URL")),
            metrics_namespace: env
                .optional("METRICS_NAMESPACE")
                .unwrap_or_else(|| crate::telemetry::DEFAULT_METRICS_NAMESPACE.into()),
            operations: OperationsConfig {
                queue_name_prefix: env.optional("QUEUE_NAME_PREFIX"),
                job_functions: env.list_of("JOB_FUNCTIONS"),
            },
        };
        if let DatabaseSource::Url(url) = &config.database {
            env.check_url("DATABASE_URL", url, &["postgres", "postgresql"]);
        }
        env.check_url("REDIS_URL", &config.redis_url, &["redis", "rediss"]);
        env.check_url("DEBUG_QUEUE_URL", &config.queues.debug, &["http", "https"]);
        env.check_url("MAIL_QUEUE_URL", &config.queues.mail, &["http", "https"]);
        env.check_url("PUBLIC_BASE_URL", &config.public_base_url, &["http", "https"]);
        env.check_url("MEDIA_BASE_URL", &config.media_base_url, &["http", "https"]);
        env.check_url("TELEGRAM_PUBLISH_QUEUE_URL", &config.queues.telegram_publish, &["http", "https"]);
        env.check_url("TELEGRAM_IMPORT_QUEUE_URL", &config.queues.telegram_import, &["http", "https"]);
        env.check_url("WEBHOOK_QUEUE_URL", &config.queues.webhooks, &["http", "https"]);
        env.check_url("TELEGRAM_API_BASE_URL", &config.telegram.api_base_url, &["http", "https"]);
        env.check_url("MINI_APP_URL", &config.telegram.mini_app_url, &["https", "http"]);
        if let Some(url) = &config.telegram.webhook_url {
            env.check_url("TELEGRAM_WEBHOOK_URL", url, &["https", "http"]);
        }
        let secret = &config.telegram.webhook_secret;
        let well_formed =
            secret.len() <= 256 && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !secret.is_empty() && !well_formed {
            env.problems.insert(
                "TELEGRAM_WEBHOOK_SECRET".into(),
                "is malformed: Telegram accepts 1-256 of A-Z, a-z, 0-9, _ and -".into(),
            );
        }
        // `123456:ABC…`: a token of any other shape is a deploy mistake, caught before the first sign-in fails.
        let token = &config.identity.telegram_bot_token;
        if !token.is_empty()
            && !token.split_once(':').is_some_and(|(id, rest)| id.parse::<u64>().is_ok() && rest.len() >= 20)
        {
            env.problems.insert(
                "TELEGRAM_BOT_TOKEN".into(),
                "is malformed: expected <bot id>:<secret> as BotFather gives it".into(),
            );
        }
        let key = &config.identity.client_hash_key;
        if !key.is_empty() && key.chars().count() < 32 {
            env.problems
                .insert("CLIENT_HASH_KEY".into(), "is too short: at least 32 characters of a random secret".into());
        }
        if env.problems.is_empty() { Ok(config) } else { Err(ConfigError { problems: env.problems }) }
    }
}

/// Reads a `KEY=VALUE` settings file such as `infra/local.env` (blank lines and `#` comments skipped); a
/// variable set in the process environment wins over the file, as it does for the functions themselves.
pub fn read_settings_file(path: &std::path::Path) -> std::io::Result<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let key = k.trim().to_string();
            let value = std::env::var(&key).unwrap_or_else(|_| v.trim().to_string());
            (key, value)
        })
        .collect())
}

/// Timeouts shared by every client; the earlier system's 5 s, in one place.
pub const DEPENDENCY_TIMEOUT: Duration = Duration::from_secs(5);

struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    problems: BTreeMap<String, String>,
}

impl Reader<'_> {
    fn optional(&mut self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    fn required(&mut self, name: &str) -> String {
        self.optional(name).unwrap_or_else(|| {
            self.problems.insert(name.into(), "is missing".into());
            String::new()
        })
    }

    /// `DATABASE_URL` when it is set, else `DATABASE_SECRET_ARN` (with `DATABASE_HOST`); one of them is needed.
    fn database(&mut self) -> DatabaseSource {
        if let Some(url) = self.optional("DATABASE_URL") {
            return DatabaseSource::Url(url);
        }
        match self.optional("DATABASE_SECRET_ARN") {
            Some(arn) => DatabaseSource::Secret { arn, host: self.optional("DATABASE_HOST") },
            None => {
                self.problems.insert(
                    "DATABASE_URL".into(),
                    "is missing (or DATABASE_SECRET_ARN, a Secrets Manager secret that holds it)".into(),
                );
                DatabaseSource::Url(String::new())
            }
        }
    }

    fn parsed_or<T: FromStr>(&mut self, name: &str, default: T) -> T {
        match self.optional(name) {
            None => default,
            Some(raw) => raw.trim().parse().unwrap_or_else(|_| {
                self.problems.insert(name.into(), format!("is malformed: {raw:?} is not a valid value"));
                default
            }),
        }
    }

    /// A comma-separated list; any unparsable item is a problem.
    fn list_of<T: FromStr>(&mut self, name: &str) -> Vec<T> {
        let Some(raw) = self.optional(name) else { return Vec::new() };
        let items: Result<Vec<T>, _> =
            raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::parse).collect();
        items.unwrap_or_else(|_| {
            self.problems.insert(name.into(), format!("is malformed: {raw:?} is not a comma-separated list of values"));
            Vec::new()
        })
    }

    fn check_url(&mut self, name: &str, value: &str, schemes: &[&str]) {
        if value.is_empty() || self.problems.contains_key(name) {
            return;
        }
        let scheme = value.split_once("://").map(|(s, _)| s);
        if !scheme.is_some_and(|s| schemes.contains(&s)) {
            self.problems.insert(name.into(), format!("is malformed: expected a {} URL", schemes.join("/")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn complete() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("DATABASE_URL", "postgres://quiz@127.0.0.1:5432/quiz"),
            ("REDIS_URL", "redis://127.0.0.1:6379/0"),
            ("DEBUG_QUEUE_URL", "http://127.0.0.1:5000/123456789012/quiz-debug"),
            ("MEDIA_BUCKET", "quiz-media"),
            ("MAIL_QUEUE_URL", "http://127.0.0.1:5000/123456789012/quiz-mail"),
            ("PUBLIC_BASE_URL", "https://quiz.example/"),
            ("TELEGRAM_BOT_TOKEN", "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
            ("EVENT_BUS_NAME", "quiz-events"),
            ("TELEGRAM_PUBLISH_QUEUE_URL", "http://127.0.0.1:5000/123456789012/quiz-telegram-publish"),
            ("TELEGRAM_IMPORT_QUEUE_URL", "http://127.0.0.1:5000/123456789012/quiz-telegram-import"),
            ("TELEGRAM_WEBHOOK_SECRET", "local-webhook-secret"),
            ("WEBHOOK_QUEUE_URL", "http://127.0.0.1:5000/123456789012/quiz-webhooks"),
            ("CLIENT_HASH_KEY", "test-client-hash-key-0123456789abcdef"),
        ])
    }

    fn read(vars: &HashMap<&str, &str>) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| vars.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn a_complete_environment_gives_a_config_with_defaults_for_optional_variables() {
        let config = read(&complete()).expect("valid");
        assert_eq!(config.max_body_bytes, 1024 * 1024);
        assert_eq!(config.cache_key_prefix, "quiz:");
        assert!(config.cors_allowed_origins.is_empty());
        assert_eq!(config.public_base_url, "https://quiz.example");
        assert_eq!(config.identity.telegram_auth_max_age, Duration::from_secs(86400));
        assert!(config.identity.admin_telegram_ids.is_empty());
        assert_eq!(config.telegram.api_base_url, "https://api.telegram.org");
        assert_eq!(config.telegram.mini_app_url, "https://quiz.example/app/");
    }

    #[test]
    fn a_webhook_secret_telegram_would_refuse_is_named() {
        let mut vars = complete();
        vars.insert("TELEGRAM_WEBHOOK_SECRET", "has spaces!");
        assert!(read(&vars).unwrap_err().problems.contains_key("TELEGRAM_WEBHOOK_SECRET"));
    }

    #[test]
    fn admin_ids_are_a_list_and_a_bad_token_is_named() {
        let mut vars = complete();
        vars.insert("ADMIN_TELEGRAM_IDS", "1, 42");
        assert_eq!(read(&vars).unwrap().identity.admin_telegram_ids, [1, 42]);
        vars.insert("ADMIN_TELEGRAM_IDS", "1,me");
        vars.insert("TELEGRAM_BOT_TOKEN", "not-a-token");
        let err = read(&vars).unwrap_err();
        assert!(err.problems.contains_key("ADMIN_TELEGRAM_IDS"));
        assert!(err.problems.contains_key("TELEGRAM_BOT_TOKEN"));
    }

    #[test]
    fn every_missing_and_malformed_variable_is_named_at_once() {
        let mut vars = complete();
        vars.remove("DATABASE_URL");
        vars.remove("MEDIA_BUCKET");
        vars.insert("MAX_BODY_BYTES", "lots");
        vars.insert("REDIS_URL", "http://not-redis");
        let err = read(&vars).unwrap_err();
        let names: Vec<&str> = err.problems.keys().map(String::as_str).collect();
        assert_eq!(names, ["DATABASE_URL", "MAX_BODY_BYTES", "MEDIA_BUCKET", "REDIS_URL"]);
        let text = err.to_string();
        assert!(text.contains("DATABASE_URL is missing"), "{text}");
        assert!(text.contains("MAX_BODY_BYTES is malformed"), "{text}");
    }

    #[test]
    fn a_client_hash_key_shorter_than_32_characters_is_named() {
        let mut vars = complete();
        vars.insert("CLIENT_HASH_KEY", "short");
        assert_eq!(
            read(&vars).unwrap_err().problems["CLIENT_HASH_KEY"],
            "is too short: at least 32 characters of a random secret"
        );
    }

    #[test]
    fn blank_values_count_as_missing() {
        let mut vars = complete();
        vars.insert("DEBUG_QUEUE_URL", "  ");
        let err = read(&vars).unwrap_err();
        assert_eq!(err.problems.get("DEBUG_QUEUE_URL").map(String::as_str), Some("is missing"));
    }

    #[test]
    fn cors_origins_are_split_and_trimmed() {
        let mut vars = complete();
        vars.insert("CORS_ALLOWED_ORIGINS", "https://a.example, https://b.example,");
        assert_eq!(read(&vars).unwrap().cors_allowed_origins, ["https://a.example", "https://b.example"]);
    }

    #[test]
    fn debug_output_never_shows_the_database_url_or_the_bot_token() {
        let config = read(&complete()).unwrap();
        assert!(!format!("{config:?}").contains("127.0.0.1:5432"));
        assert!(!format!("{config:?}").contains("AAHdqTcv"));
        assert!(!format!("{config:?}").contains("local-webhook-secret"));
        assert!(!format!("{config:?}").contains("test-client-hash-key"));
    }

    #[test]
    fn the_database_comes_from_its_url_or_else_from_a_secret_and_one_of_them_is_needed() {
        let mut vars = complete();
        vars.insert("DATABASE_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db");
        assert!(matches!(read(&vars).unwrap().database, DatabaseSource::Url(_)), "a URL wins (local runs)");
        vars.remove("DATABASE_URL");
        vars.insert("DATABASE_HOST", "quiz.proxy-abc.us-east-1.rds.amazonaws.com");
        assert_eq!(
            read(&vars).unwrap().database,
            DatabaseSource::Secret {
                arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db".into(),
                host: Some("quiz.proxy-abc.us-east-1.rds.amazonaws.com".into()),
            }
        );
        vars.remove("DATABASE_SECRET_ARN");
        let err = read(&vars).unwrap_err();
        assert!(err.problems["DATABASE_URL"].contains("DATABASE_SECRET_ARN"), "{err}");
    }
}
