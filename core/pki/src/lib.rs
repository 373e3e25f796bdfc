//! Certificates for joint keys.
