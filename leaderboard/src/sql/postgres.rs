//! The Postgres wire protocol: `psql -h HOST -p 5433 -U analyst leaderboard` and any Postgres client.
//!
//! Logins check the password of an account of `[[sql.users]]` by SCRAM-SHA-256 (or MD5 where an account
//! asks for it, module `auth`), over TLS when `sql.tls_cert` is set, under the startup timeout, the caps and
//! the failed-login delay of the `login` module. Every statement passes the
//! read-only [`guard`] first (after datafusion-postgres's rewriting, kept from losing what the client
//! wrote: `as_written`); queries run through
//! [`SqlEngine`] under its memory limit and timeout, on its threads. SET of client
//! session settings, SHOW of server variables and transaction control are answered by datafusion-postgres's
//! hooks. Results of the extended protocol come in the formats the client binds (text or binary). A cancel
//! request stops the query whose rows are streaming (`until_cancelled`).

mod as_written;
mod auth;
mod login;
mod scram;

use super::guard::{self, Allowed};
use super::report::Excerpt;
use super::{Limit, SqlEngine, SqlError, verify_read_only};
use arrow_pg::datatypes::{arrow_schema_to_pg_fields, encode_recordbatch};
use as_written::{ParserAsWritten, SimpleAsWritten};
use async_trait::async_trait;
use auth::{Accounts, PasswordCheck};
use datafusion::arrow::array::RecordBatch;
use datafusion::common::DFSchema;
use datafusion::common::ParamValues;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{EmptyRelation, LogicalPlan};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::DfSessionService;
use datafusion_postgres::arrow_pg;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::hooks::{HookClient, QueryHook};
use datafusion_postgres::pgwire;
use futures_util::Sink;
use futures_util::StreamExt;
use login::{Admission, Decision, Gate, Login, Ticket};
use pgwire::api::ClientPortalStore;
use pgwire::api::auth::DefaultServerParameterProvider;
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{DataRowEncoder, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ConnectionHandle, ConnectionManager, ErrorHandler, PgWireServerHandlers,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::data::FORMAT_CODE_BINARY;
use schemas::SqlConfig;
pub use scram::verifier_of;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// Binds `config.listen` and serves the Postgres protocol until `shutdown`, to at most
/// `config.max_connections` logged-in clients and `config.max_pending_connections` logging in (the
/// rules are in `login`).
///
/// Connections are handled on the calling runtime, so a query that keeps the query threads busy does not
/// stop other clients from logging in or hearing that the server is busy; the queries themselves run on
/// the query threads ([`SqlEngine::execute_plan`]).
pub async fn serve(
    engine: Arc<SqlEngine>,
    config: &SqlConfig,
    shutdown: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let listen = &config.listen;
    let addr: SocketAddr = listen.parse().map_err(|_| {
        anyhow::anyhow!(
            "sql.listen must be an IP address and port (like 127.0.0.1:5433), got {listen:?}"
        )
    })?;
    // "postgresql": the ALPN protocol of PostgreSQL 17's direct TLS (sslnegotiation=direct).
    let tls = crate::tls::acceptor_for(
        config.tls_cert.as_deref(),
        config.tls_key.as_deref(),
        &[b"postgresql"],
    )?;
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let front = Arc::new(FrontEnd::new(engine, config));
    let admission = Arc::new(Admission::new(config));
    tokio::spawn(async move {
        while let Some((socket, peer)) =
            crate::accept::accept_until(&listener, &shutdown, "postgres").await
        {
            let ticket = admission.enter(peer);
            let (login, decided) = Login::new(admission.clone());
            let session = Session {
                front: front.clone(),
                login,
            };
            tokio::spawn(serve_connection(
                socket,
                tls.clone(),
                peer,
                session,
                (ticket, decided),
                admission.clone(),
            ));
        }
    });
    Ok(bound)
}

/// Serves one connection (over TLS when the client asks for it and `tls` is set): its login within the
/// startup timeout (unless a newer connection evicts it), then its session under its place of
/// `sql.max_connections`.
async fn serve_connection(
    socket: TcpStream,
    tls: Option<TlsAcceptor>,
    peer: SocketAddr,
    session: Session,
    (ticket, decided): (Ticket, oneshot::Receiver<Decision>),
    admission: Arc<Admission>,
) {
    let connection = pgwire::tokio::process_socket(socket, tls, session);
    tokio::pin!(connection);
    let decision = tokio::select! {
        biased;
        decision = tokio::time::timeout(admission.startup_timeout, decided) => decision,
        () = ticket.evicted.cancelled() => Ok(Ok(Decision::Refused)),
        ended = &mut connection => {
            admission.leave(&ticket);
            if let Err(e) = ended {
                tracing::debug!(%peer, error = %e, "postgres connection ended before logging in");
            }
            return;
        }
    };
    admission.leave(&ticket);
    match decision {
        Ok(Ok(Decision::Admitted(place))) => {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "postgres connection ended with an error");
            }
            drop(place);
        }
        // Told why (or evicted, which was logged): closed by dropping the connection.
        Ok(Ok(Decision::Refused) | Err(_)) => {}
        Err(_) => {
            crate::metrics::record_sql_unauthenticated_closed("startup_timeout");
            tracing::warn!(
                %peer,
                startup_timeout_secs = admission.startup_timeout.as_secs(),
                "closed a postgres connection that did not log in within sql.startup_timeout_secs"
            );
        }
    }
}

/// What every connection shares.
struct FrontEnd {
    service: Arc<DfSessionService>,
    accounts: Arc<Accounts>,
    require_tls: bool,
    parameters: Arc<DefaultServerParameterProvider>,
    connections: Arc<ConnectionManager>,
}

impl FrontEnd {
    fn new(engine: Arc<SqlEngine>, config: &SqlConfig) -> Self {
        let ctx = Arc::new(engine.context().clone());
        let hooks: Vec<Arc<dyn QueryHook>> = vec![
            Arc::new(ReadOnly { engine }),
            Arc::new(SetShowHook),
            Arc::new(TransactionStatementHook),
        ];
        let mut parameters = DefaultServerParameterProvider::default();
        parameters.default_transaction_read_only = true;
        parameters.server_version = super::pg_compat::server_version();
        Self {
            service: Arc::new(DfSessionService::new_with_hooks(ctx, hooks)),
            accounts: Arc::new(Accounts::new(&config.users)),
            require_tls: config.require_tls,
            parameters: Arc::new(parameters),
            connections: Arc::new(ConnectionManager::new()),
        }
    }
}

/// The handlers of one connection.
struct Session {
    front: Arc<FrontEnd>,
    login: Arc<Login>,
}

impl PgWireServerHandlers for Session {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        Arc::new(SimpleAsWritten(self.front.service.clone()))
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        Arc::new(ResultFormats(self.front.service.clone()))
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        let front = &self.front;
        Arc::new(Gate {
            inner: PasswordCheck::new(
                front.accounts.clone(),
                front.parameters.clone(),
                front.connections.clone(),
                front.require_tls,
            ),
            login: self.login.clone(),
        })
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(BoundedMessages)
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        Arc::new(DefaultCancelHandler::new(self.front.connections.clone()))
    }
}

/// Cuts every error message to [`schemas::MAX_MESSAGE_CHARS`] before it is sent: a parser's message may
/// quote the statement whole.
struct BoundedMessages;

impl ErrorHandler for BoundedMessages {
    fn on_error<C: ClientInfo>(&self, _client: &C, error: &mut PgWireError) {
        let taken = std::mem::replace(error, PgWireError::UserNameRequired);
        let mut info = ErrorInfo::from(taken);
        info.message = schemas::bounded_message(std::mem::take(&mut info.message));
        info.detail = info.detail.take().map(schemas::bounded_message);
        *error = PgWireError::UserError(Box::new(info));
    }
}

/// Why a query's rows stopped coming.
enum Stopped {
    Failed(datafusion::error::DataFusionError),
    Cancelled,
}

/// The rows of `stream` until a cancel request for `connection` arrives, which ends them with
/// [`Stopped::Cancelled`] and drops the query (so it stops on the query threads).
///
/// pgwire listens for a connection's cancel requests only until the query handler returns its response,
/// and a query here runs while its rows stream, so the stream takes over the connection's cancel signal on
/// its first poll, when pgwire has stopped listening (the next query takes it back).
fn until_cancelled(
    stream: SendableRecordBatchStream,
    connection: Option<Arc<ConnectionHandle>>,
) -> impl futures_util::Stream<Item = Result<RecordBatch, Stopped>> + Send {
    let cancelled = Box::pin(async move {
        let requested = match connection {
            Some(connection) => connection.start_query().await.await.is_ok(),
            None => false,
        };
        // A signal replaced or gone is no cancel request.
        if !requested {
            std::future::pending::<()>().await;
        }
    });
    futures_util::stream::unfold(Some((stream, cancelled)), |state| async move {
        let (mut stream, mut cancelled) = state?;
        tokio::select! {
            biased;
            () = &mut cancelled => Some((Err(Stopped::Cancelled), None)),
            next = stream.next() => {
                let item = next?.map_err(Stopped::Failed);
                Some((item, Some((stream, cancelled))))
            }
        }
    })
}

/// datafusion-postgres's extended-protocol handler, telling [`ReadOnly`] the result formats the client
/// bound (its hooks are not given the portal): clients such as tokio-postgres, asyncpg and Npgsql ask for
/// binary results and cannot read text ones. Its parser reads the SQL [`as_written`], as the simple
/// protocol's handler does.
struct ResultFormats(Arc<DfSessionService>);

/// The client metadata key under which [`ResultFormats`] leaves the portal's result format codes.
const RESULT_FORMATS_KEY: &str = "leaderboard.result_formats";

#[async_trait]
impl ExtendedQueryHandler for ResultFormats {
    type Statement = <DfSessionService as ExtendedQueryHandler>::Statement;
    type QueryParser = ParserAsWritten;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        Arc::new(ParserAsWritten(self.0.query_parser()))
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        client.metadata_mut().insert(
            RESULT_FORMATS_KEY.to_owned(),
            format_codes(&portal.result_column_format),
        );
        ExtendedQueryHandler::do_query(self.0.as_ref(), client, portal, max_rows).await
    }
}

/// A result format as the codes of a Bind message, comma-separated ("" for all text).
fn format_codes(format: &Format) -> String {
    match format {
        Format::UnifiedText => String::new(),
        Format::UnifiedBinary => FORMAT_CODE_BINARY.to_string(),
        Format::Individual(codes) => codes
            .iter()
            .map(i16::to_string)
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The result format [`ResultFormats`] left in the client's metadata; text when there is none.
fn bound_format(client: &dyn HookClient) -> Format {
    let codes: Vec<i16> = client
        .metadata()
        .get(RESULT_FORMATS_KEY)
        .map(|codes| codes.split(',').filter_map(|c| c.parse().ok()).collect())
        .unwrap_or_default();
    match codes.as_slice() {
        [] => Format::UnifiedText,
        [code] => Format::from(*code),
        _ => Format::Individual(codes),
    }
}

/// The guard and the limits in front of datafusion-postgres.
struct ReadOnly {
    engine: Arc<SqlEngine>,
}

impl ReadOnly {
    /// Refuses what the guard forbids, runs a query with the plan `plan` makes, and leaves SHOW and session
    /// statements to datafusion-postgres (`None`).
    async fn answer(
        &self,
        statement: &Statement,
        plan: impl Future<Output = Result<LogicalPlan, SqlError>>,
        client: &dyn HookClient,
        format: Format,
    ) -> Option<PgWireResult<Response>> {
        match guard::check(statement) {
            Err(message) => Some(Err(pg_error(SqlError::Forbidden(message)))),
            Ok(Allowed::Query) => Some(match plan.await {
                Ok(plan) => {
                    self.run(plan, &Excerpt::of(statement), client, &format)
                        .await
                }
                Err(e) => Err(pg_error(e)),
            }),
            Ok(Allowed::Transaction) => Some(Ok(Response::Execution(Tag::new("SET")))),
            Ok(Allowed::ShowVariable) => show_server_setting(statement, client),
            Ok(Allowed::Session) => None,
        }
    }

    /// Runs `plan` (of the statement `excerpt` starts) and streams its rows in `format`.
    async fn run(
        &self,
        plan: LogicalPlan,
        excerpt: &Excerpt,
        client: &dyn HookClient,
        format: &Format,
    ) -> PgWireResult<Response> {
        let stream = self
            .engine
            .execute_plan(plan, excerpt)
            .await
            .map_err(pg_error)?;
        // Counted once the rows are all out, have failed, or the client has left: a query that fails while
        // its rows stream is counted with its error, not as "ok".
        let mut tally = OutcomeTally::new("internal");
        let options = Arc::new(pgwire::types::format::FormatOptions::from_client_metadata(
            client.metadata(),
        ));
        let fields = Arc::new(arrow_schema_to_pg_fields(
            stream.schema().as_ref(),
            format,
            Some(options),
        )?);
        tally.set("ok");
        let connection = client
            .session_extensions()
            .get::<Arc<ConnectionHandle>>()
            .map(|handle| Arc::clone(&*handle));
        let row_fields = fields.clone();
        let rows = until_cancelled(stream, connection)
            .map(move |batch| {
                let rows: Box<dyn Iterator<Item = PgWireResult<_>> + Send + Sync> = match batch {
                    Ok(batch) => encode_recordbatch(row_fields.clone(), batch),
                    Err(Stopped::Failed(e)) => {
                        let e = SqlError::from_datafusion(e);
                        tally.set(e.outcome());
                        Box::new(std::iter::once(Err(to_pg_error(e))))
                    }
                    Err(Stopped::Cancelled) => {
                        tally.set("cancelled");
                        Box::new(std::iter::once(Err(PgWireError::QueryCanceled)))
                    }
                };
                futures_util::stream::iter(rows)
            })
            .flatten();
        Ok(Response::Query(QueryResponse::new(fields, rows)))
    }
}

#[async_trait]
impl QueryHook for ReadOnly {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        let plan = self.engine.plan(
            DFStatement::Statement(Box::new(statement.clone())),
            login(client.metadata()),
        );
        self.answer(statement, plan, client, Format::UnifiedText)
            .await
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _ctx: &SessionContext,
        client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        match guard::check(statement) {
            Err(message) => Some(Err(pg_error(SqlError::Forbidden(message)))),
            // Planned under the query limits, not on this connection's thread.
            Ok(Allowed::Query) => Some(
                self.engine
                    .plan(
                        DFStatement::Statement(Box::new(statement.clone())),
                        login(client.metadata()),
                    )
                    .await
                    .map_err(pg_error),
            ),
            // Answered at execution by [`ReadOnly::answer`]; a plan of no columns describes it.
            Ok(Allowed::Transaction) => Some(Ok(LogicalPlan::EmptyRelation(EmptyRelation {
                produce_one_row: false,
                schema: Arc::new(DFSchema::empty()),
            }))),
            Ok(Allowed::ShowVariable | Allowed::Session) => None,
        }
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        plan: &LogicalPlan,
        params: &ParamValues,
        _ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        let bound = async {
            let plan = plan
                .clone()
                .replace_params_with_values(params)
                .map_err(SqlError::from_datafusion)?;
            verify_read_only(&plan)?;
            Ok(plan)
        };
        let format = bound_format(client);
        self.answer(statement, bound, client, format).await
    }
}

/// `SHOW name` of a server setting the session has not set ([`super::pg_compat::setting`]: `timezone`,
/// `server_version`, …), answered as PostgreSQL does; `None` leaves the others to datafusion-postgres,
/// which answers what the session set and a few more.
fn show_server_setting(
    statement: &Statement,
    client: &dyn HookClient,
) -> Option<PgWireResult<Response>> {
    let Statement::ShowVariable { variable } = statement else {
        return None;
    };
    let words: Vec<String> = variable.iter().map(|v| v.value.to_lowercase()).collect();
    let name = match words.join(" ").as_str() {
        "time zone" => "timezone".to_string(),
        name => name.to_string(),
    };
    if client.metadata().contains_key(&name) {
        return None;
    }
    let value = super::pg_compat::setting(&name)?;
    // PostgreSQL heads the column with the setting's own spelling.
    let column = match name.as_str() {
        "timezone" => "TimeZone",
        "datestyle" => "DateStyle",
        name => name,
    };
    let fields = Arc::new(vec![FieldInfo::new(
        column.to_string(),
        None,
        None,
        pgwire::api::Type::TEXT,
        pgwire::api::results::FieldFormat::Text,
    )]);
    let mut row = DataRowEncoder::new(fields.clone());
    let answer = row
        .encode_field(&Some(value))
        .map(|()| row.take_row())
        .map(|row| {
            Response::Query(QueryResponse::new(
                fields,
                futures_util::stream::once(async move { Ok(row) }),
            ))
        });
    Some(answer)
}

/// The user a client logged in as, from its startup `metadata`.
fn login(metadata: &std::collections::HashMap<String, String>) -> &str {
    metadata
        .get(pgwire::api::METADATA_USER)
        .map_or(super::pg_rewrite::NO_LOGIN, String::as_str)
}

/// Records a query's outcome in `leaderboard_sql_queries_total` when dropped.
struct OutcomeTally {
    outcome: &'static str,
}

impl OutcomeTally {
    fn new(outcome: &'static str) -> Self {
        Self { outcome }
    }

    /// The outcome to record (a method, so a closure that calls it owns the whole tally).
    fn set(&mut self, outcome: &'static str) {
        self.outcome = outcome;
    }
}

impl Drop for OutcomeTally {
    fn drop(&mut self) {
        crate::metrics::record_sql("postgres", self.outcome);
    }
}

/// A Postgres error with the SQLSTATE of its kind, for a query that failed before its rows: counted in
/// `leaderboard_sql_queries_total` here.
fn pg_error(e: SqlError) -> PgWireError {
    crate::metrics::record_sql("postgres", e.outcome());
    to_pg_error(e)
}

/// A Postgres error with the SQLSTATE of its kind.
fn to_pg_error(e: SqlError) -> PgWireError {
    let code = match &e {
        SqlError::Forbidden(_) => "25006", // read_only_sql_transaction
        SqlError::Invalid(_) => "42000",   // syntax_error_or_access_rule_violation
        SqlError::Limit(Limit::Time, _) => "57014", // query_canceled
        SqlError::Limit(Limit::Size, _) => "54001", // statement_too_complex
        SqlError::Limit(Limit::Memory | Limit::Rows, _) => "53200", // out_of_memory
        SqlError::Busy(_) => "53000",      // insufficient_resources
        SqlError::Internal(_) => "XX000",
    };
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_owned(),
        code.to_owned(),
        e.to_string(),
    )))
}
