//! The inkseal co-signing server.
pub mod vault;
