//! Helpers shared by the integration tests.
pub mod fake;
pub mod real;
