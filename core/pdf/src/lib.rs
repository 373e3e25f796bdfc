//! PDF signing for inkseal: incremental updates, PAdES (CMS) signatures with SM2 or P-256,
//! visible handwritten appearances, and verification of signed PDFs.
//!
//! Everything here is bytes in, bytes out: no I/O beyond what the caller hands over, no async.
//! Signing is two-phase so that a remote signer (the two-party co-signing client) fits:
//! [`sign::prepare`] appends the new revision with a placeholder and returns the bytes to be
//! signed; [`sign::PreparedSignature::finish`] embeds the signature. A synchronous
//! [`signer::Signer`] (a local key) can do both in one call.

mod cbc_pkcs7;
pub mod cms;
pub mod crypt;
pub mod document;
pub mod error;
pub mod filters;
pub mod object;
pub mod pages;
pub mod parser;
pub mod signer;
pub mod xref;

pub use document::Document;
pub use error::{Limits, PdfError};
pub mod appearance;
pub mod changes;
pub mod cjk_font;
pub mod fields;
pub mod ink_binding;
pub mod ltv;
pub mod mdp;
pub mod outline;
pub(crate) mod path;
pub mod report;
#[cfg(feature = "seals")]
pub mod seal;
pub mod sign;
pub mod stamp;
#[doc(hidden)]
pub mod testing;
pub mod text;
pub mod tsp;
pub mod verify;
pub mod writer;
