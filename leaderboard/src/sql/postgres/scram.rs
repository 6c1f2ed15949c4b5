//! The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) against a stored verifier: the client proves it
//! knows the password without sending it, and the server proves it holds the verifier. Channel binding
//! (SCRAM-SHA-256-PLUS) is not offered, so a client's `y` flag is accepted and `p=` refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use schemas::ScramVerifier;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The mechanism named in the server's SASL offer.
pub const MECHANISM: &str = "SCRAM-SHA-256";

/// Why an exchange failed.
#[derive(Debug, PartialEq, Eq)]
pub enum ScramError {
    /// A message does not follow the protocol; the text says how.
    Malformed(String),
    /// The client's proof does not match the verifier: a wrong password.
    WrongProof,
}

/// The verifier of `password`, salted at random (as `leaderboard sql-password` and PostgreSQL make them).
pub fn verifier_of(password: &str) -> ScramVerifier {
    let made = postgres_protocol::password::scram_sha_256(password.as_bytes());
    ScramVerifier::parse(&made).expect("postgres-protocol makes well-formed verifiers")
}

/// An exchange after the server's first message, waiting for the client's final one.
pub struct Exchange {
    verifier: ScramVerifier,
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

/// Answers the client's first message (`n,,n=user,r=nonce`) with the server's (`r=…,s=salt,i=iterations`,
/// the verifier's). The user name of the message is ignored (libpq sends it empty): the startup message's
/// counts.
pub fn server_first(
    verifier: ScramVerifier,
    client_first: &[u8],
) -> Result<(String, Exchange), ScramError> {
    let text = utf8(client_first)?;
    let (gs2_header, client_first_bare) = split_gs2_header(text)?;
    if client_first_bare.starts_with("m=") {
        return Err(malformed("mandatory extensions are not supported"));
    }
    let client_nonce = attribute(client_first_bare, 'r')
        .ok_or_else(|| malformed("the client's first message has no nonce (r=)"))?;
    if client_nonce.is_empty() || !client_nonce.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(malformed("the client's nonce must be printable characters"));
    }
    let server_nonce = STANDARD.encode(rand::random::<[u8; 18]>());
    let nonce = format!("{client_nonce}{server_nonce}");
    let server_first = format!(
        "r={nonce},s={},i={}",
        STANDARD.encode(&verifier.salt),
        verifier.iterations
    );
    let exchange = Exchange {
        verifier,
        gs2_header: gs2_header.to_owned(),
        client_first_bare: client_first_bare.to_owned(),
        server_first: server_first.clone(),
        nonce,
    };
    Ok((server_first, exchange))
}

impl Exchange {
    /// Checks the client's final message (`c=…,r=…,p=proof`); returns the server's final one (`v=…`).
    pub fn finish(&self, client_final: &[u8]) -> Result<String, ScramError> {
        let text = utf8(client_final)?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or_else(|| malformed("the client's final message has no proof (p=)"))?;
        let binding = attribute(without_proof, 'c')
            .ok_or_else(|| malformed("the client's final message has no channel binding (c=)"))?;
        if binding != STANDARD.encode(&self.gs2_header) {
            return Err(malformed(
                "the channel binding does not match the first message",
            ));
        }
        if attribute(without_proof, 'r') != Some(self.nonce.as_str()) {
            return Err(malformed("the nonce does not match the server's"));
        }
        let proof: [u8; 32] = STANDARD
            .decode(proof)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| malformed("the proof must be 32 bytes of base64"))?;
        let auth_message = format!(
            "{},{},{without_proof}",
            self.client_first_bare, self.server_first
        );
        let client_signature = hmac(&self.verifier.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof
            .iter()
            .zip(client_signature)
            .map(|(p, s)| p ^ s)
            .collect();
        let stored_key = Sha256::digest(&client_key);
        if !bool::from(stored_key.as_slice().ct_eq(&self.verifier.stored_key)) {
            return Err(ScramError::WrongProof);
        }
        let server_signature = hmac(&self.verifier.server_key, auth_message.as_bytes());
        Ok(format!("v={}", STANDARD.encode(server_signature)))
    }
}

/// Splits `n,,rest` (or `y,,` or with an `a=` authorisation identity) into the GS2 header and the rest.
fn split_gs2_header(text: &str) -> Result<(&str, &str), ScramError> {
    let flag_end = text
        .find(',')
        .ok_or_else(|| malformed("the client's first message has no GS2 header"))?;
    match &text[..flag_end] {
        "n" | "y" => {}
        flag if flag.starts_with("p=") => {
            return Err(malformed(
                "channel binding (SCRAM-SHA-256-PLUS) is not offered; connect with \
                 channel_binding=prefer or disable",
            ));
        }
        _ => return Err(malformed("the GS2 channel-binding flag must be n, y or p=")),
    }
    let header_end = text[flag_end + 1..]
        .find(',')
        .map(|i| flag_end + 1 + i + 1)
        .ok_or_else(|| malformed("the client's first message has no GS2 header"))?;
    Ok(text.split_at(header_end))
}

/// The value of the attribute `name=` in a comma-separated SCRAM message.
fn attribute(message: &str, name: char) -> Option<&str> {
    message.split(',').find_map(|part| {
        let mut chars = part.chars();
        (chars.next() == Some(name) && chars.next() == Some('=')).then(|| &part[2..])
    })
}

/// HMAC-SHA-256 of `message` under `key`.
pub fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn utf8(bytes: &[u8]) -> Result<&str, ScramError> {
    std::str::from_utf8(bytes).map_err(|_| malformed("a SCRAM message must be UTF-8"))
}

fn malformed(why: &str) -> ScramError {
    ScramError::Malformed(why.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};

    /// Runs a whole exchange with postgres-protocol's client (the one of tokio-postgres) typing `typed`.
    fn log_in(verifier: &ScramVerifier, typed: &str) -> Result<(), ScramError> {
        let mut client = ScramSha256::new(typed.as_bytes(), ChannelBinding::unsupported());
        let (first, exchange) = server_first(verifier.clone(), client.message())?;
        client
            .update(first.as_bytes())
            .expect("a valid server-first");
        let last = exchange.finish(client.message())?;
        client
            .finish(last.as_bytes())
            .expect("the client accepts the server's signature");
        Ok(())
    }

    #[test]
    fn the_right_password_logs_in_and_the_server_proves_it_holds_the_verifier() {
        let verifier = verifier_of("analyst-pass");
        assert_eq!(verifier.iterations, 4096);
        log_in(&verifier, "analyst-pass").unwrap();
        // The verifier printed and parsed back still checks the same password.
        let reparsed = ScramVerifier::parse(&verifier.to_string()).unwrap();
        log_in(&reparsed, "analyst-pass").unwrap();
    }

    #[test]
    fn a_wrong_password_is_a_wrong_proof() {
        let verifier = verifier_of("analyst-pass");
        assert_eq!(
            log_in(&verifier, "analyst-pasS"),
            Err(ScramError::WrongProof)
        );
        assert_eq!(
            log_in(&verifier_of("another-one"), "analyst-pass"),
            Err(ScramError::WrongProof)
        );
    }

    #[test]
    fn malformed_messages_are_refused_with_a_reason() {
        let verifier = verifier_of("analyst-pass");
        for (first, says) in [
            ("n=,r=abc", "GS2"),
            ("p=tls-server-end-point,,n=,r=abc", "not offered"),
            ("n,,n=,s=abc", "no nonce"),
            ("n,,m=ext,n=,r=abc", "mandatory extensions"),
        ] {
            match server_first(verifier.clone(), first.as_bytes()) {
                Err(ScramError::Malformed(why)) => assert!(why.contains(says), "{first}: {why}"),
                _ => panic!("{first} was accepted"),
            }
        }
        let (first, exchange) = server_first(verifier, b"y,,n=,r=client").unwrap();
        let nonce = attribute(&first, 'r').unwrap();
        let binding = STANDARD.encode("y,,");
        for (last, says) in [
            (format!("c={binding},r={nonce}"), "no proof"),
            (
                format!("c=biws,r={nonce},p=AAAA"),
                "channel binding does not match",
            ),
            (
                format!("c={binding},r=other,p=AAAA"),
                "nonce does not match",
            ),
            (format!("c={binding},r={nonce},p=AAAA"), "32 bytes"),
        ] {
            match exchange.finish(last.as_bytes()) {
                Err(ScramError::Malformed(why)) => assert!(why.contains(says), "{last}: {why}"),
                other => panic!("{last}: {other:?}"),
            }
        }
        let forged = STANDARD.encode([0u8; 32]);
        assert_eq!(
            exchange.finish(format!("c={binding},r={nonce},p={forged}").as_bytes()),
            Err(ScramError::WrongProof)
        );
    }
}
