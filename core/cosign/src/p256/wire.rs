//! The framing shared by every P-256 co-signing message and stored value:
//! `[version byte][kind byte][postcard body]`, with a size limit checked before decoding
//! and no trailing bytes allowed.

use super::P256CosignError;
use dkls23_core::protocols::PartyIndex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

/// The version byte of every message and stored value of this module.
pub const P256_WIRE_VERSION: u8 = 1;

/// Encodes `body` behind the version and kind bytes. The buffer is wiped when dropped, since
/// some bodies (key-generation fragments, shares, kept phase data) are secret.
pub(crate) fn encode<T: Serialize>(
    kind: u8,
    body: &T,
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, P256CosignError> {
    postcard::to_extend(body, vec![P256_WIRE_VERSION, kind])
        .map(Zeroizing::new)
        .map_err(|_| P256CosignError::Malformed(what))
}

/// Decodes a value framed by [`encode`], refusing more than `max` bytes, another version or
/// kind, and trailing bytes.
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    kind: u8,
    max: usize,
    what: &'static str,
) -> Result<T, P256CosignError> {
    if bytes.len() > max {
        return Err(P256CosignError::TooLarge {
            what,
            len: bytes.len(),
            max,
        });
    }
    match bytes {
        [P256_WIRE_VERSION, k, body @ ..] if *k == kind => {
            let (value, rest) =
                postcard::take_from_bytes(body).map_err(|_| P256CosignError::Malformed(what))?;
            if rest.is_empty() {
                Ok(value)
            } else {
                Err(P256CosignError::Malformed(what))
            }
        }
        _ => Err(P256CosignError::Malformed(what)),
    }
}

/// The phone is party 1.
pub(crate) fn phone_index() -> PartyIndex {
    match PartyIndex::new(1) {
        Ok(i) => i,
        Err(_) => unreachable!("1 is a valid party index"),
    }
}

/// The server is party 2.
pub(crate) fn server_index() -> PartyIndex {
    match PartyIndex::new(2) {
        Ok(i) => i,
        Err(_) => unreachable!("2 is a valid party index"),
    }
}

/// 2-of-2.
pub(crate) fn parameters() -> dkls23_core::protocols::Parameters {
    match dkls23_core::protocols::Parameters::new(2, 2) {
        Ok(p) => p,
        Err(_) => unreachable!("2-of-2 are valid parameters"),
    }
}

/// Refuses the identity point where the protocol needs a real one.
pub(crate) fn non_identity(
    point: &::p256::AffinePoint,
    what: &'static str,
) -> Result<(), P256CosignError> {
    if bool::from(point.is_identity()) {
        Err(P256CosignError::Malformed(what))
    } else {
        Ok(())
    }
}

/// Checks a point-to-point message's routing fields.
pub(crate) fn routed(
    parties: &dkls23_core::protocols::PartiesMessage,
    sender: PartyIndex,
    receiver: PartyIndex,
    what: &'static str,
) -> Result<(), P256CosignError> {
    if parties.sender == sender && parties.receiver == receiver {
        Ok(())
    } else {
        Err(P256CosignError::Malformed(what))
    }
}

/// Fills a 32-byte value from the caller's RNG.
pub(crate) fn random32<R: rand_core::TryCryptoRng + ?Sized>(
    rng: &mut R,
) -> Result<[u8; 32], P256CosignError> {
    let mut out = [0u8; 32];
    rng.try_fill_bytes(&mut out)
        .map_err(|_| P256CosignError::Rng)?;
    Ok(out)
}

/// SHA-256 of the message bytes: what ECDSA-with-SHA256 signs.
pub(crate) fn sha256(message: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(message).into()
}
