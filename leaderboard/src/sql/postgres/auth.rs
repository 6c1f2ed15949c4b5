//! The password check of a Postgres login: SCRAM-SHA-256 against each account's verifier, or MD5 for an
//! account configured with `auth = "md5"`; with `sql.require_tls`, only over TLS.
//!
//! An unknown user is offered SCRAM with a salt derived from its name, as a known one would be, so user
//! names cannot be probed; its proof never matches. (An `md5` account is offered MD5, which tells that it
//! exists; verifiers with other than 4096 iterations stand out from unknown users the same way.)

use super::scram::{self, Exchange, ScramError};
use datafusion_postgres::pgwire;
use futures_util::{Sink, SinkExt};
use pgwire::api::auth::md5pass::hash_md5_password;
use pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::{
    ClientInfo, ConnectionHandle, ConnectionManager, PgWireConnectionState, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::{Authentication, PasswordMessageFamily};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use schemas::{ScramVerifier, SqlAuth, SqlUser};
use std::fmt::Debug;
use std::sync::{Arc, LazyLock, Mutex};
use subtle::ConstantTimeEq;

/// Process ids and cancel keys of the sessions, the ids counted across connections.
static SESSION_KEYS: LazyLock<RandomPidSecretKeyGenerator> =
    LazyLock::new(RandomPidSecretKeyGenerator::default);

/// One account, ready to be checked.
struct Account {
    name: String,
    secret: Secret,
}

/// What an account's password is checked against.
enum Secret {
    /// A SCRAM-SHA-256 verifier (made from a clear-text password once, at start).
    Scram(ScramVerifier),
    /// The clear-text password of an `auth = "md5"` account.
    Md5(String),
}

impl Secret {
    /// The bytes unknown users' salts are derived from.
    fn key_material(&self) -> &[u8] {
        match self {
            Secret::Scram(verifier) => &verifier.server_key,
            Secret::Md5(password) => password.as_bytes(),
        }
    }
}

/// The accounts of `[[sql.users]]`.
pub struct Accounts {
    accounts: Vec<Account>,
    /// The key unknown users' salts are derived with: from the accounts' secrets, so an unknown user's salt
    /// is the same after a restart, as a real account's is.
    mock_key: [u8; 32],
}

impl Accounts {
    /// The accounts of `users` (validated by the configuration).
    pub fn new(users: &[SqlUser]) -> Self {
        let accounts: Vec<Account> = users
            .iter()
            .map(|user| Account {
                name: user.name.clone(),
                secret: match user.auth {
                    SqlAuth::Md5 => Secret::Md5(user.password.clone()),
                    SqlAuth::ScramSha256 => Secret::Scram(
                        user.scram_verifier()
                            .unwrap_or_else(|| scram::verifier_of(&user.password)),
                    ),
                },
            })
            .collect();
        let secrets: Vec<u8> = accounts
            .iter()
            .flat_map(|a| a.secret.key_material().iter().copied())
            .collect();
        Self {
            mock_key: scram::hmac(b"leaderboard unknown-user salts", &secrets),
            accounts,
        }
    }

    /// The account named `user`, compared in constant time.
    fn find(&self, user: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| bool::from(a.name.as_bytes().ct_eq(user.as_bytes())))
    }

    /// A verifier for a user that does not exist: its salt is the same at every attempt, its keys match no
    /// password.
    fn mock_verifier(&self, user: &str) -> ScramVerifier {
        ScramVerifier {
            iterations: schemas::MIN_ITERATIONS,
            salt: scram::hmac(&self.mock_key, user.as_bytes())[..16].to_vec(),
            stored_key: rand::random(),
            server_key: rand::random(),
        }
    }
}

/// Where one connection's login stands.
enum Step {
    /// Waiting for the startup message.
    Start,
    /// MD5 challenge sent: the expected answer.
    Md5(String),
    /// SCRAM offered: the verifier to check against.
    ScramOffered(ScramVerifier),
    /// The server's first SCRAM message sent.
    ScramChallenged(Box<Exchange>),
    /// Logged in, or refused.
    Over,
}

/// The startup handler of one connection.
pub struct PasswordCheck {
    accounts: Arc<Accounts>,
    parameters: Arc<DefaultServerParameterProvider>,
    connections: Arc<ConnectionManager>,
    require_tls: bool,
    step: Mutex<Step>,
}

impl PasswordCheck {
    /// A login against `accounts`, registered with `connections` (for cancel requests) once logged in.
    pub fn new(
        accounts: Arc<Accounts>,
        parameters: Arc<DefaultServerParameterProvider>,
        connections: Arc<ConnectionManager>,
        require_tls: bool,
    ) -> Self {
        Self {
            accounts,
            parameters,
            connections,
            require_tls,
            step: Mutex::new(Step::Start),
        }
    }

    fn take_step(&self) -> Step {
        std::mem::replace(
            &mut self.step.lock().unwrap_or_else(|p| p.into_inner()),
            Step::Over,
        )
    }

    fn set_step(&self, step: Step) {
        *self.step.lock().unwrap_or_else(|p| p.into_inner()) = step;
    }
}

#[async_trait::async_trait]
impl StartupHandler for PasswordCheck {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // Known once the startup message is saved: for the answers to the messages after it.
        let user = user_of(client);
        match (self.take_step(), message) {
            (Step::Start, PgWireFrontendMessage::Startup(startup)) => {
                protocol_negotiation(client, &startup).await?;
                save_startup_parameters_to_metadata(client, &startup);
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                if self.require_tls && !client.is_secure() {
                    return Err(refusal(
                        "28000", // invalid_authorization_specification
                        "this server accepts only TLS connections (sql.require_tls): connect with \
                         sslmode=require or sslmode=verify-full",
                    ));
                }
                let user = user_of(client);
                let account = self.accounts.find(&user);
                if let Some(Account {
                    name,
                    secret: Secret::Md5(password),
                }) = account
                {
                    let salt: [u8; 4] = rand::random();
                    self.set_step(Step::Md5(hash_md5_password(name, password, &salt)));
                    return send(client, Authentication::MD5Password(salt.to_vec())).await;
                }
                let verifier = match account {
                    Some(Account {
                        secret: Secret::Scram(verifier),
                        ..
                    }) => verifier.clone(),
                    _ => self.accounts.mock_verifier(&user),
                };
                self.set_step(Step::ScramOffered(verifier));
                send(client, Authentication::SASL(vec![scram::MECHANISM.into()])).await
            }
            (Step::Md5(expected), PgWireFrontendMessage::PasswordMessageFamily(message)) => {
                let answer = message.into_password()?.password;
                if bool::from(answer.as_bytes().ct_eq(expected.as_bytes())) {
                    self.log_in(client).await
                } else {
                    Err(wrong_password(&user))
                }
            }
            (
                Step::ScramOffered(verifier),
                PgWireFrontendMessage::PasswordMessageFamily(message),
            ) => {
                let (mechanism, data) = sasl_initial_response(message)?;
                if mechanism != scram::MECHANISM {
                    return Err(refusal(
                        "28000",
                        &format!(
                            "this account logs in with {}; the client answered with {:?} (a client \
                             too old for SCRAM needs an account with auth = \"md5\")",
                            scram::MECHANISM,
                            schemas::excerpt(&mechanism)
                        ),
                    ));
                }
                let (server_first, exchange) =
                    scram::server_first(verifier, &data).map_err(|e| scram_error(e, &user))?;
                self.set_step(Step::ScramChallenged(Box::new(exchange)));
                send(client, Authentication::SASLContinue(server_first.into())).await
            }
            (
                Step::ScramChallenged(exchange),
                PgWireFrontendMessage::PasswordMessageFamily(message),
            ) => {
                let last = message.into_sasl_response()?;
                let server_final = exchange
                    .finish(&last.data)
                    .map_err(|e| scram_error(e, &user))?;
                send(client, Authentication::SASLFinal(server_final.into())).await?;
                self.log_in(client).await
            }
            (Step::Over, _) => Ok(()),
            (_, _) => Err(refusal(
                "08P01", // protocol_violation
                "unexpected message during login",
            )),
        }
    }
}

impl PasswordCheck {
    /// Completes a login: the key for cancel requests, the server's parameters, ready for queries.
    async fn log_in<C>(&self, client: &mut C) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (pid, secret_key) = SESSION_KEYS.generate(client);
        client.set_pid_and_secret_key(pid, secret_key.clone());
        let (handle, guard) = self.connections.register(pid, secret_key);
        client
            .session_extensions()
            .insert::<Arc<ConnectionHandle>>(handle);
        client.session_extensions().insert(guard);
        finish_authentication(client, self.parameters.as_ref()).await
    }
}

/// The user name of the startup message ("" before it).
fn user_of(client: &impl ClientInfo) -> String {
    client.metadata().get("user").cloned().unwrap_or_default()
}

/// The mechanism and data of a SASLInitialResponse as the connection decoded it (raw), read with bounds
/// checks (pgwire's own decoder panics on a short or lying length).
fn sasl_initial_response(message: PasswordMessageFamily) -> PgWireResult<(String, Vec<u8>)> {
    let malformed = || PgWireError::InvalidScramMessage("malformed SASLInitialResponse".into());
    let PasswordMessageFamily::Raw(body) = message else {
        return Err(malformed());
    };
    let nul = body.iter().position(|&b| b == 0).ok_or_else(malformed)?;
    let mechanism = String::from_utf8_lossy(&body[..nul]).into_owned();
    let rest = &body[nul + 1..];
    let length: [u8; 4] = rest
        .get(..4)
        .and_then(|l| l.try_into().ok())
        .ok_or_else(malformed)?;
    let data = match i32::from_be_bytes(length) {
        -1 => Vec::new(),
        n => usize::try_from(n)
            .ok()
            .and_then(|n| rest.get(4..4 + n))
            .ok_or_else(malformed)?
            .to_vec(),
    };
    Ok((mechanism, data))
}

async fn send<C>(client: &mut C, authentication: Authentication) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    client
        .send(PgWireBackendMessage::Authentication(authentication))
        .await?;
    Ok(())
}

fn scram_error(error: ScramError, user: &str) -> PgWireError {
    match error {
        ScramError::WrongProof => wrong_password(user),
        ScramError::Malformed(why) => PgWireError::InvalidScramMessage(why),
    }
}

/// PostgreSQL's answer to a wrong password or an unknown user (the same for both).
fn wrong_password(user: &str) -> PgWireError {
    refusal(
        "28P01", // invalid_password
        &format!(
            "password authentication failed for user \"{}\"",
            schemas::excerpt(user)
        ),
    )
}

fn refusal(code: &str, message: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        code.into(),
        message.into(),
    )))
}
