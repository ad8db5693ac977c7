//! One TLS stack for the whole binary: rustls with ring. The AWS SDK gets an
//! explicit ring-based client and reqwest (Consul, ServiceNow) uses rustls'
//! process-wide provider, installed here; aws-lc is never built.

/// Installs ring as rustls' process-wide crypto provider. Idempotent: `main`
/// calls it first, and every client constructor calls it again so the library
/// works without `main` (tests, embedding).
pub fn install() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
