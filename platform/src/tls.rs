//! TLS for the clients this project builds itself (PostgreSQL, the Bot API): rustls with the same crypto
//! provider as the AWS SDK's client (`platform::aws`: ring), chosen explicitly, so no client depends on which
//! provider happens to be the process default, and the Mozilla roots of `webpki-roots`.

use std::sync::Arc;

/// The Mozilla root certificates.
pub fn default_roots() -> rustls::RootCertStore {
    rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}

/// A client configuration trusting `roots`.
pub fn client_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
