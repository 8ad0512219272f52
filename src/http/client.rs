//! The pooled HTTP client of one destination.

use std::time::Duration;

use super::driver::Client;

use super::{answer, tls};
use crate::config::{Timeouts, TlsOptions};
use crate::error::{Error, ErrorKind, Result};

/// Builds the pooled client of one destination. Its default timeout is the read/write timeout:
/// it bounds the wait for the answer's head and each read of the body, so a download may take
/// as long as it keeps moving.
///
/// TLS: the CA file (read here, so a bad one fails the open) is trusted besides reqwest's roots
/// (webpki's and the system's, which honour `SSL_CERT_FILE`); pins replace the root check with
/// [`tls::pinned_config`]. Verification is never turned off.
pub(crate) fn build(timeouts: &Timeouts, tls_options: &TlsOptions) -> Result<Client> {
    let mut builder = reqwest::Client::builder();
    if let Some(path) = &tls_options.ca_file {
        for cert in tls::read_ca_file(path)? {
            let cert = reqwest::Certificate::from_der(&cert).map_err(|e| {
                Error::invalid_url(format!(
                    "option '{}' ({}): {}",
                    crate::config::keys::CA_FILE,
                    path.display(),
                    answer::cause_chain(&e)
                ))
            })?;
            builder = builder.add_root_certificate(cert);
        }
    }
    if !tls_options.fingerprints.is_empty() {
        builder = builder.use_preconfigured_tls(tls::pinned_config(&tls_options.fingerprints)?);
    }
    let builder = builder
        .connect_timeout(timeouts.short)
        .tcp_keepalive(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_user_timeout(timeouts.read_write)
        // Keystone and Swift never answer with a redirect; following one could carry the
        // password or the token to another host, so a 3xx comes back as an error instead.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("libopenstack_dest/", env!("CARGO_PKG_VERSION")));
    Client::build(builder, timeouts.read_write).map_err(|e| {
        Error::new(
            ErrorKind::Network,
            format!(
                "could not set up the HTTP client: {}",
                answer::cause_chain(&e)
            ),
        )
    })
}
