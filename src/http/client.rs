//! The pooled HTTP client of one destination.

use std::time::Duration;

use super::driver::Client;

use super::answer;
use crate::config::Timeouts;
use crate::error::{Error, ErrorKind, Result};

/// Builds the pooled client of one destination. Its default timeout is the read/write timeout:
/// it bounds the wait for the answer's head and each read of the body, so a download may take
/// as long as it keeps moving.
pub(crate) fn build(timeouts: &Timeouts) -> Result<Client> {
    let builder = reqwest::Client::builder()
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
