//! HTTP for Keystone and Swift: the pooled client ([`client`]) driven from blocking code
//! ([`driver`]), the one retry loop
//! ([`retry`]) and the one mapping of transport failures and answers to errors ([`answer`]).
//! The Swift request path built on them is `swift::request`.

/// Bytes moved at a time: read from an upload's source and handed to the connection, read from
/// an answer's body, buffered in front of a restored file. Bounds the memory of a transfer.
pub(crate) const CHUNK: usize = 256 * 1024;

pub(crate) mod answer;
pub(crate) mod client;
pub(crate) mod driver;
pub(crate) mod retry;
pub(crate) mod tls;

pub(crate) use retry::{with_retries, TryError};
