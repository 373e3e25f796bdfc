//! The signed metadata: `created`, `nonce`, `keyid` (and the fixed `alg`).

use crate::{ALGORITHM, COMPONENT_LIST, HttpSigError};

/// Shortest nonce accepted (characters): 16 base64url characters carry 96 bits.
pub const NONCE_MIN_LEN: usize = 16;
/// Longest nonce accepted (characters).
pub const NONCE_MAX_LEN: usize = 64;
/// Longest key id accepted (characters).
pub const KEYID_MAX_LEN: usize = 128;
/// Latest `created` accepted: 9999-12-31T23:59:59Z in seconds since the Unix epoch (12 digits,
/// well inside RFC 8941's 15-digit integers).
pub const MAX_CREATED: u64 = 253_402_300_799;

/// The signature parameters other than the fixed `alg`.
///
/// * `keyid`: 1..=[`KEYID_MAX_LEN`] characters of `[A-Za-z0-9_.:-]`: the device key's id;
/// * `created`: seconds since the Unix epoch, `0..=`[`MAX_CREATED`];
/// * `nonce`: [`NONCE_MIN_LEN`]..=[`NONCE_MAX_LEN`] characters of `[A-Za-z0-9_-]` (base64url
///   without padding fits), fresh for every request.
///
/// None of these characters needs escaping in a Structured Fields string, so the serialized
/// form is the value between double quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParams {
    keyid: String,
    created: u64,
    nonce: String,
}

impl SignatureParams {
    /// Checks each parameter (see the type's documentation).
    pub fn new(keyid: &str, created: u64, nonce: &str) -> Result<Self, HttpSigError> {
        check_keyid(keyid)?;
        check_created(created)?;
        check_nonce(nonce)?;
        Ok(Self {
            keyid: keyid.to_owned(),
            created,
            nonce: nonce.to_owned(),
        })
    }

    /// The device key's id.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// When the request was signed, in seconds since the Unix epoch (as claimed by the signer).
    pub fn created(&self) -> u64 {
        self.created
    }

    /// The request's nonce.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The `@signature-params` value this crate writes: the component list, then
    /// `created;nonce;keyid;alg`.
    pub(crate) fn serialize(&self) -> String {
        format!(
            r#"{COMPONENT_LIST};created={};nonce="{}";keyid="{}";alg="{ALGORITHM}""#,
            self.created, self.nonce, self.keyid
        )
    }
}

pub(crate) fn check_keyid(keyid: &str) -> Result<(), HttpSigError> {
    let ok = (1..=KEYID_MAX_LEN).contains(&keyid.len())
        && keyid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(HttpSigError::Malformed(format!(
            "keyid must be 1..={KEYID_MAX_LEN} characters of A-Z a-z 0-9 _ - . :"
        )))
    }
}

pub(crate) fn check_nonce(nonce: &str) -> Result<(), HttpSigError> {
    let ok = (NONCE_MIN_LEN..=NONCE_MAX_LEN).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(HttpSigError::Malformed(format!(
            "nonce must be {NONCE_MIN_LEN}..={NONCE_MAX_LEN} characters of A-Z a-z 0-9 _ -"
        )))
    }
}

pub(crate) fn check_created(created: u64) -> Result<(), HttpSigError> {
    if created <= MAX_CREATED {
        Ok(())
    } else {
        Err(HttpSigError::Malformed(format!(
            "created must be at most {MAX_CREATED}"
        )))
    }
}
