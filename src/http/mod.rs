//! HTTP for Keystone and Swift: the pooled client ([`client`]) driven from blocking code
//! ([`driver`]), the one retry loop
//! ([`retry`]) and the one mapping of transport failures and answers to errors ([`answer`]).
//! The Swift request path built on them is `swift::request`.

pub(crate) mod answer;
pub(crate) mod client;
pub(crate) mod driver;
pub(crate) mod retry;
pub(crate) mod tls;

pub(crate) use retry::{with_retries, TryError};
