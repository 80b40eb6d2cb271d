//! PostgreSQL: one connection per function instance.
//!
//! A Lambda instance serves one invocation at a time, so a pool would only hold idle connections open against
//! the database's limit. Instead each instance keeps a single connection: opened when first needed, kept across
//! warm invocations, and replaced when it breaks (the earlier system's `CONN_MAX_AGE`, without the age).
//! Every statement goes through [`Connection`] or [`Transaction`], which count it for the request's summary and
//! prepare it once per connection: a warm instance sends each statement as one Bind/Execute round trip, without
//! parsing and planning it again.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard};
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
    client: Mutex<Option<Open>>,
}

/// An open connection and the statements prepared on it.
struct Open {
    client: Client,
    statements: std::sync::Mutex<HashMap<String, Statement>>,
}

/// How long a caller waits for the instance's one connection before giving up. Far above any statement's
/// run time: reaching it means the connection is held by work that is waiting for it itself.
pub const CONNECTION_WAIT: Duration = Duration::from_secs(10);

/// Statements kept per connection; past this the cache starts over (only constant SQL is expected here).
const MAX_PREPARED: usize = 256;

impl Database {
    /// Parses the URL and prepares TLS; does not connect.
    pub fn new(url: &str, extra_ca_file: Option<&str>) -> Result<Self, DbError> {
        let mut config: tokio_postgres::Config =
            url.parse().map_err(|e| DbError::Config(format!("DATABASE_URL: {e}")))?;
        config.connect_timeout(DEPENDENCY_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name(telemetry::function_name());
        }
        let tls = match config.get_ssl_mode() {
            SslMode::Disable => None,
            _ => Some(rustls_connector(extra_ca_file)?),
        };
        Ok(Self { config, tls, client: Mutex::new(None) })
    }

    /// The instance's connection, opening (or re-opening) it when needed.
    ///
    /// There is one per instance. Work that asks for it while its own task still holds it would wait forever;
    /// instead, after [`CONNECTION_WAIT`] the wait ends in an error that says so (a 503 for a route, a retry for
    /// a job), and the log line names the likely cause.
    pub async fn connection(&self) -> Result<Connection<'_>, DbError> {
        let Ok(mut guard) = tokio::time::timeout(CONNECTION_WAIT, self.client.lock()).await else {
            tracing::error!(
                wait = ?CONNECTION_WAIT,
                "the instance's database connection stayed taken: is it asked for while already held (drop the first \
                 Connection, or pass it down)?"
            );
            return Err(DbError::Unavailable(format!(
                "the instance's connection stayed taken for {CONNECTION_WAIT:?}"
            )));
        };
        if guard.as_ref().is_none_or(|open| open.client.is_closed()) {
            *guard = Some(Open { client: self.connect().await?, statements: Default::default() });
        }
        Ok(Connection { guard })
    }

    async fn connect(&self) -> Result<Client, DbError> {
        let connect = async {
            match &self.tls {
                None => {
                    let (client, conn) = self.config.connect(NoTls).await?;
                    tokio::spawn(drive(conn));
                    Ok(client)
                }
                Some(tls) => {
                    let (client, conn) = self.config.connect(tls.clone()).await?;
                    tokio::spawn(drive(conn));
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

async fn drive<F: std::future::Future<Output = Result<(), tokio_postgres::Error>>>(conn: F) {
    if let Err(e) = conn.await {
        tracing::warn!(error = %e, "database connection closed; the next request opens a new one");
    }
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

/// The instance's connection, held for the length of one piece of work. Every statement is counted.
pub struct Connection<'a> {
    guard: MutexGuard<'a, Option<Open>>,
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

macro_rules! counted_statements {
    () => {
        pub async fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, DbError> {
            telemetry::count_sql_statement();
            let statement = prepared(self.sql_client(), self.statement_cache(), sql).await?;
            let result = self.sql_client().query(&statement, params).await;
            forget_stale(self.statement_cache(), result)
        }

        pub async fn query_one(&self, sql: &str, params: Params<'_>) -> Result<Row, DbError> {
            telemetry::count_sql_statement();
            let statement = prepared(self.sql_client(), self.statement_cache(), sql).await?;
            let result = self.sql_client().query_one(&statement, params).await;
            forget_stale(self.statement_cache(), result)
        }

        pub async fn query_opt(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>, DbError> {
            telemetry::count_sql_statement();
            let statement = prepared(self.sql_client(), self.statement_cache(), sql).await?;
            let result = self.sql_client().query_opt(&statement, params).await;
            forget_stale(self.statement_cache(), result)
        }

        pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, DbError> {
            telemetry::count_sql_statement();
            let statement = prepared(self.sql_client(), self.statement_cache(), sql).await?;
            let result = self.sql_client().execute(&statement, params).await;
            forget_stale(self.statement_cache(), result)
        }
    };
}

impl Connection<'_> {
    fn open(&self) -> &Open {
        self.guard.as_ref().expect("a Connection always holds an open client")
    }

    /// The client itself, for what needs `&mut` (refinery's migration runner).
    pub fn client_mut(&mut self) -> &mut Client {
        &mut self.guard.as_mut().expect("a Connection always holds an open client").client
    }

    fn sql_client(&self) -> &Client {
        &self.open().client
    }

    fn statement_cache(&self) -> &std::sync::Mutex<HashMap<String, Statement>> {
        &self.open().statements
    }

    counted_statements!();

    /// Starts a transaction; it rolls back unless [`Transaction::commit`] is called.
    pub async fn transaction(&mut self) -> Result<Transaction<'_>, DbError> {
        telemetry::count_sql_statement();
        let open = self.guard.as_mut().expect("a Connection always holds an open client");
        let tx = open.client.transaction().await.map_err(DbError::from_connection)?;
        Ok(Transaction { tx, statements: &open.statements })
    }
}

/// A transaction on the instance's connection. Every statement is counted.
pub struct Transaction<'a> {
    tx: tokio_postgres::Transaction<'a>,
    statements: &'a std::sync::Mutex<HashMap<String, Statement>>,
}

impl<'a> Transaction<'a> {
    fn sql_client(&self) -> &tokio_postgres::Transaction<'a> {
        &self.tx
    }

    fn statement_cache(&self) -> &std::sync::Mutex<HashMap<String, Statement>> {
        self.statements
    }

    counted_statements!();

    pub async fn commit(self) -> Result<(), DbError> {
        telemetry::count_sql_statement();
        self.tx.commit().await.map_err(DbError::from_connection)
    }
}
