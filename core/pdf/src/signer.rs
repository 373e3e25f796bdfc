//! Signers.
