//! TLS for the HTTP and Postgres listeners (rustls with the ring provider): a certificate chain and its
//! key, read from PEM files at start.

use anyhow::{Context, anyhow};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;

/// The acceptor of a section's `tls_cert` and `tls_key` (given together, as the configuration checks), or
/// `None` when it has neither: see [`acceptor`].
pub fn acceptor_for(
    cert: Option<&Path>,
    key: Option<&Path>,
    alpn: &[&[u8]],
) -> anyhow::Result<Option<TlsAcceptor>> {
    match (cert, key) {
        (Some(cert), Some(key)) => acceptor(cert, key, alpn).map(Some),
        _ => Ok(None),
    }
}

/// An acceptor for the certificate chain in `cert` and its private key in `key` (PEM: PKCS#8, PKCS#1 or
/// SEC1), offering the ALPN protocols `alpn` (`http/1.1`; `postgresql` for the Postgres port).
pub fn acceptor(cert: &Path, key: &Path, alpn: &[&[u8]]) -> anyhow::Result<TlsAcceptor> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the TLS certificate chain {}", cert.display()))?;
    if chain.is_empty() {
        return Err(anyhow!(
            "the TLS certificate file {} holds no certificate",
            cert.display()
        ));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the TLS private key {}", key.display()))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .with_context(|| {
            format!(
                "the TLS key {} does not go with the certificate {}",
                key.display(),
                cert.display()
            )
        })?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(TlsAcceptor::from(Arc::new(config)))
}
