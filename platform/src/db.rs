//! PostgreSQL: one connection per function instance, shared by every statement of an invocation.
//!
//! A Lambda instance serves one invocation at a time, so a pool would only hold idle connections open against
//! the database's limit. Instead each instance keeps a single connection: opened when first needed, kept across
//! warm invocations, and replaced when it breaks (the earlier system's `CONN_MAX_AGE`, without the age).
//!
//! The connection is shared, not lent: [`Database::connection`] hands out a cheap [`Connection`] (a reference to
//! the open client), as many at once as the work needs, and tokio-postgres pipelines their statements on the one
//! socket — two reads of one request overlap. Only a [`Transaction`] takes the client for itself, from its `BEGIN`
//! until its commit or rollback, so that no other statement lands inside it; statements asked for meanwhile wait
//! for it to end. Work inside a transaction therefore goes through the transaction, not through a connection.
//!
//! Every statement goes through [`Connection`] or [`Transaction`], which count it for the request's summary and
//! prepare it once per connection: a warm instance sends each statement as one Bind/Execute round trip, without
//! parsing and planning it again.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Mutex, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard};
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement};

use crate::config::DEPENDENCY_TIMEOUT;
use crate::telemetry;

/// Why a database call failed, split by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The server cannot be reached or the connection broke: the caller answers 503 and tries later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The statement itself failed (constraint, syntax, …).
    #[error("database error: {}", server_message(.0))]
    Query(#[from] tokio_postgres::Error),
    /// The URL or TLS settings are wrong: a deploy mistake, reported at start-up.
    #[error("database configuration: {0}")]
    Config(String),
}

/// The server's own words (`relation "posts" does not exist`), where tokio-postgres alone says "db error".
fn server_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

impl DbError {
    /// The SQLSTATE of a failed statement, e.g. `23505` for a unique violation.
    pub fn code(&self) -> Option<&str> {
        match self {
            DbError::Query(e) => e.code().map(|c| c.code()),
            _ => None,
        }
    }

    /// An outage (closed connection, I/O failure) is `Unavailable`; anything else — a server error, or a fault of
    /// ours such as a missing row or a type mismatch — is `Query`, answered as a 500 rather than as a retryable 503.
    fn from_connection(e: tokio_postgres::Error) -> Self {
        let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
        if e.is_closed() || io { DbError::Unavailable(e.to_string()) } else { DbError::Query(e) }
    }
}

/// The instance's database handle: cheap to keep, connects lazily.
pub struct Database {
    config: tokio_postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// The open connection, if any. Locked only to look at it or to replace it, never while a statement runs.
    current: Mutex<Option<Arc<Open>>>,
}

/// An open connection and the statements prepared on it.
struct Open {
    /// Read-locked for each statement, write-locked by a transaction for its whole length.
    client: Arc<RwLock<Client>>,
    statements: std::sync::Mutex<HashMap<String, Statement>>,
    /// Set when the connection's task ends (the server closed it, the network broke): the next caller reconnects.
    closed: Arc<AtomicBool>,
}

/// Statements kept per connection; past this the cache starts over (only constant SQL is expected here).
const MAX_PREPARED: usize = 256;

impl Database {
    /// Parses the URL and prepares TLS; does not connect.
    pub fn new(url: &str, extra_ca_file: Option<&str>) -> Result<Self, DbError> {
        let config = url.parse().map_err(|e| DbError::Config(format!("DATABASE_URL: {e}")))?;
        Self::with_config(config, extra_ca_file)
    }

    /// Prepares TLS for connection settings already made (from a secret: [`settings_from_secret`]).
    pub fn with_config(mut config: tokio_postgres::Config, extra_ca_file: Option<&str>) -> Result<Self, DbError> {
        config.connect_timeout(DEPENDENCY_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name(telemetry::function_name());
        }
        let tls = match config.get_ssl_mode() {
            SslMode::Disable => None,
            _ => Some(rustls_connector(extra_ca_file)?),
        };
        Ok(Self { config, tls, current: Mutex::new(None) })
    }

    /// The instance's connection, opening (or re-opening) it when needed. Any number may be held at once.
    pub async fn connection(&self) -> Result<Connection, DbError> {
        let mut current = self.current.lock().await;
        if let Some(open) = current.as_ref().filter(|open| !open.closed.load(Ordering::Acquire)) {
            return Ok(Connection { open: open.clone() });
        }
        let closed = Arc::new(AtomicBool::new(false));
        let client = self.connect(closed.clone()).await?;
        let open = Arc::new(Open { client: Arc::new(RwLock::new(client)), statements: Default::default(), closed });
        *current = Some(open.clone());
        Ok(Connection { open })
    }

    async fn connect(&self, closed: Arc<AtomicBool>) -> Result<Client, DbError> {
        let connect = async {
            match &self.tls {
                None => {
                    let (client, conn) = self.config.connect(NoTls).await?;
                    tokio::spawn(drive(conn, closed));
                    Ok(client)
                }
                Some(tls) => {
                    let (client, conn) = self.config.connect(tls.clone()).await?;
                    tokio::spawn(drive(conn, closed));
                    Ok(client)
                }
            }
        };
        match tokio::time::timeout(DEPENDENCY_TIMEOUT, connect).await {
            Ok(result) => result.map_err(DbError::from_connection),
            Err(_) => Err(DbError::Unavailable(format!("no connection within {DEPENDENCY_TIMEOUT:?}"))),
        }
    }
}

/// Runs the connection until it ends, then marks it closed so that the next caller opens a new one.
async fn drive<F: std::future::Future<Output = Result<(), tokio_postgres::Error>>>(conn: F, closed: Arc<AtomicBool>) {
    if let Err(e) = conn.await {
        tracing::warn!(error = %e, "database connection closed; the next request opens a new one");
    }
    closed.store(true, Ordering::Release);
}

/// The connection settings in a database secret's JSON: `{"url": "postgres://…"}`, used as it is, or the keys
/// RDS and Secrets Manager write for a database (`username`, `password`, `host`, `port`, `dbname`; `port` a
/// number or a string), which always connect over TLS and whose host `host` (RDS Proxy's endpoint) replaces.
/// The values are set one by one, never pasted into a URL, so a generated password needs no escaping.
pub fn settings_from_secret(json: &str, host: Option<&str>) -> Result<tokio_postgres::Config, DbError> {
    let bad = |why: &str| DbError::Config(format!("DATABASE_SECRET_ARN: the secret {why}"));
    let fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|_| bad("is not a JSON object"))?;
    let text = |key: &str| fields.get(key).and_then(serde_json::Value::as_str).filter(|v| !v.is_empty());
    if let Some(url) = text("url") {
        return url.parse().map_err(|e| bad(&format!("has a malformed url: {e}")));
    }
    let port = match fields.get("port") {
        None => Some(5432),
        Some(serde_json::Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    };
    let mut config = tokio_postgres::Config::new();
    config
        .user(text("username").ok_or_else(|| bad("has neither url nor username"))?)
        .password(text("password").ok_or_else(|| bad("has no password"))?)
        .host(host.or_else(|| text("host")).ok_or_else(|| bad("has no host"))?)
        .port(port.ok_or_else(|| bad("has a malformed port"))?)
        .ssl_mode(SslMode::Require);
    if let Some(dbname) = text("dbname") {
        config.dbname(dbname);
    }
    Ok(config)
}

fn rustls_connector(extra_ca_file: Option<&str>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, DbError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = crate::tls::default_roots();
    if let Some(path) = extra_ca_file {
        for cert in
            CertificateDer::pem_file_iter(path).map_err(|e| DbError::Config(format!("DATABASE_CA_FILE: {e}")))?
        {
            let cert = cert.map_err(|e| DbError::Config(format!("DATABASE_CA_FILE: {e}")))?;
            roots.add(cert).map_err(|e| DbError::Config(format!("DATABASE_CA_FILE: {e}")))?;
        }
    }
    let config = crate::tls::client_config(roots).map_err(|e| DbError::Config(e.to_string()))?;
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// A share of the instance's connection. Cheap to clone; statements of several shares run concurrently.
#[derive(Clone)]
pub struct Connection {
    open: Arc<Open>,
}

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

/// The prepared form of `sql` on this connection, preparing it on first use.
async fn prepared<C: tokio_postgres::GenericClient>(
    client: &C,
    cache: &std::sync::Mutex<HashMap<String, Statement>>,
    sql: &str,
) -> Result<Statement, DbError> {
    if let Some(statement) = cache.lock().ok().and_then(|c| c.get(sql).cloned()) {
        return Ok(statement);
    }
    let statement = client.prepare(sql).await.map_err(DbError::from_connection)?;
    if let Ok(mut c) = cache.lock() {
        if c.len() >= MAX_PREPARED {
            c.clear();
        }
        c.insert(sql.to_string(), statement.clone());
    }
    Ok(statement)
}

/// A migration that changes what a prepared statement returns makes Postgres refuse it ("cached plan must not
/// change result type"): forget the prepared statements so the next request prepares them afresh.
fn forget_stale<T>(
    cache: &std::sync::Mutex<HashMap<String, Statement>>,
    result: Result<T, tokio_postgres::Error>,
) -> Result<T, DbError> {
    result.map_err(|e| {
        if e.code().is_some_and(|c| c.code() == "0A000" || c.code() == "26000") {
            if let Ok(mut c) = cache.lock() {
                c.clear();
            }
        }
        DbError::from_connection(e)
    })
}

/// The four statement calls, counted and prepared, for [`Connection`] and [`Transaction`]: each type's `client()`
/// gives the client the statement runs on (a shared read of it, or the transaction's own).
macro_rules! counted_statements {
    () => {
        pub async fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, DbError> {
            telemetry::count_sql_statement();
            let client = self.client().await;
            let statement = prepared(&*client, &self.open.statements, sql).await?;
            forget_stale(&self.open.statements, client.query(&statement, params).await)
        }

        pub async fn query_one(&self, sql: &str, params: Params<'_>) -> Result<Row, DbError> {
            telemetry::count_sql_statement();
            let client = self.client().await;
            let statement = prepared(&*client, &self.open.statements, sql).await?;
            forget_stale(&self.open.statements, client.query_one(&statement, params).await)
        }

        pub async fn query_opt(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>, DbError> {
            telemetry::count_sql_statement();
            let client = self.client().await;
            let statement = prepared(&*client, &self.open.statements, sql).await?;
            forget_stale(&self.open.statements, client.query_opt(&statement, params).await)
        }

        pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, DbError> {
            telemetry::count_sql_statement();
            let client = self.client().await;
            let statement = prepared(&*client, &self.open.statements, sql).await?;
            forget_stale(&self.open.statements, client.execute(&statement, params).await)
        }
    };
}

impl Connection {
    /// The client for one statement: shared with every other statement not inside a transaction.
    async fn client(&self) -> RwLockReadGuard<'_, Client> {
        self.open.client.read().await
    }

    counted_statements!();

    /// Starts a transaction, which has the connection to itself until it ends: it rolls back unless
    /// [`Transaction::commit`] is called.
    pub async fn transaction(&self) -> Result<Transaction, DbError> {
        telemetry::count_sql_statement();
        let client = self.exclusive().await;
        client.batch_execute("BEGIN").await.map_err(DbError::from_connection)?;
        Ok(Transaction { client: Some(client), open: self.open.clone() })
    }

    /// The client itself, to nobody else until dropped.
    async fn exclusive(&self) -> OwnedRwLockWriteGuard<Client> {
        self.open.client.clone().write_owned().await
    }
}

/// A transaction on the instance's connection, which it holds alone until it ends. Every statement is counted.
///
/// Dropped without [`commit`](Transaction::commit) (an error returned half-way), it rolls back before the
/// connection is shared again.
pub struct Transaction {
    /// `None` once committed.
    client: Option<OwnedRwLockWriteGuard<Client>>,
    open: Arc<Open>,
}

impl Transaction {
    async fn client(&self) -> &Client {
        self.client.as_deref().expect("a transaction is open until commit, which consumes it")
    }

    counted_statements!();

    /// Statements in one text, without parameters (the simple query protocol): a migration's file.
    pub async fn batch_execute(&self, sql: &str) -> Result<(), DbError> {
        telemetry::count_sql_statement();
        self.client().await.batch_execute(sql).await.map_err(DbError::from_connection)
    }

    pub async fn commit(mut self) -> Result<(), DbError> {
        telemetry::count_sql_statement();
        let client = self.client.take().expect("a transaction is open until commit, which consumes it");
        let result = client.batch_execute("COMMIT").await;
        // A COMMIT that failed (the connection broke) leaves nothing open on the server: no rollback follows.
        result.map_err(DbError::from_connection)
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        // The rollback is sent before the client is shared again: the task keeps the exclusive guard until it is
        // done. Without a runtime (it is shutting down) nothing more will be sent on this connection anyway; it is
        // marked closed so that nothing does.
        let closed = self.open.closed.clone();
        let rollback = async move {
            if let Err(e) = client.batch_execute("ROLLBACK").await {
                tracing::warn!(error = %e, "rollback failed; the connection is replaced");
                closed.store(true, Ordering::Release);
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(rollback)),
            Err(_) => self.open.closed.store(true, Ordering::Release),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_postgres::config::Host;

    #[test]
    fn a_secret_of_rds_keys_gives_tls_settings_and_the_proxy_replaces_its_host() {
        let json = r#"{"username":"quiz","password":"p@ss:/word?","engine":"postgres","host":"db.x.rds.amazonaws.com","port":5432,"dbname":"quiz"}"#;
        let direct = settings_from_secret(json, None).unwrap();
        assert_eq!(direct.get_hosts(), [Host::Tcp("db.x.rds.amazonaws.com".into())]);
        assert_eq!(
            (direct.get_ports(), direct.get_user(), direct.get_dbname()),
            (&[5432][..], Some("quiz"), Some("quiz"))
        );
        assert_eq!(direct.get_password(), Some(&b"p@ss:/word?"[..]), "taken as it is, no URL escaping");
        assert_eq!(direct.get_ssl_mode(), SslMode::Require);
        let proxied = settings_from_secret(json, Some("quiz.proxy-1.rds.amazonaws.com")).unwrap();
        assert_eq!(proxied.get_hosts(), [Host::Tcp("quiz.proxy-1.rds.amazonaws.com".into())]);
        let string_port = settings_from_secret(r#"{"username":"u","password":"p","host":"h","port":"6432"}"#, None);
        assert_eq!(string_port.unwrap().get_ports(), [6432]);
    }

    #[test]
    fn a_secret_with_a_url_is_used_as_it_is_and_a_bad_secret_says_what_is_wrong() {
        let url = settings_from_secret(r#"{"url":"postgres://quiz@127.0.0.1:55432/quiz"}"#, None).unwrap();
        assert_eq!((url.get_ports(), url.get_ssl_mode()), (&[55432][..], SslMode::Prefer));
        for (json, says) in [
            ("not json", "is not a JSON object"),
            (r#"{"password":"p","host":"h"}"#, "neither url nor username"),
            (r#"{"username":"u","host":"h"}"#, "no password"),
            (r#"{"username":"u","password":"p"}"#, "no host"),
            (r#"{"username":"u","password":"p","host":"h","port":70000}"#, "malformed port"),
            (r#"{"url":"mysql://x"}"#, "malformed url"),
        ] {
            let err = settings_from_secret(json, None).unwrap_err().to_string();
            assert!(err.contains(says) && err.contains("DATABASE_SECRET_ARN"), "{json}: {err}");
        }
    }
}
