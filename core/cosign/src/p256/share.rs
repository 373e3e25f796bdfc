//! The stored key shares of both parties.

use super::P256CosignError;
use super::wire::{decode, encode, non_identity, parameters, phone_index, server_index};
use dkls23_core::protocols::{Party, PartyIndex};
use zeroize::Zeroizing;

type Curve = ::p256::NistP256;

/// Kind byte of a stored phone share.
const KIND_PHONE_SHARE: u8 = 0x51;
/// Kind byte of a stored server share.
const KIND_SERVER_SHARE: u8 = 0x52;
/// Stored shares measure about 52.5 KB; twice that is the limit.
pub const MAX_SHARE_BYTES: usize = 106_000;

/// One party's DKLs23 state after key generation: its polynomial point, zero-share seeds and
/// the base-OT / multiplication setup with the other party, plus the joint public key.
pub(crate) struct Share {
    pub(crate) party: Party<Curve>,
    pub(crate) public_key: ::p256::PublicKey,
}

impl Share {
    /// Checks a `Party` that came out of key generation or out of storage.
    pub(crate) fn from_party(
        party: Party<Curve>,
        us: PartyIndex,
        them: PartyIndex,
        what: &'static str,
    ) -> Result<Self, P256CosignError> {
        let expected = parameters();
        if party.party_index != us
            || party.parameters.threshold != expected.threshold
            || party.parameters.share_count != expected.share_count
            || !party.mul_senders.contains_key(&them)
            || !party.mul_receivers.contains_key(&them)
            || party.mul_senders.len() != 1
            || party.mul_receivers.len() != 1
        {
            return Err(P256CosignError::Malformed(what));
        }
        non_identity(&party.pk, what)?;
        let public_key = ::p256::PublicKey::from_affine(party.pk)
            .map_err(|_| P256CosignError::Malformed(what))?;
        Ok(Share { party, public_key })
    }
}

macro_rules! share_type {
    ($name:ident, $kind:expr, $us:expr, $them:expr, $what:literal, $doc:literal) => {
        #[doc = $doc]
        ///
        /// It holds secrets: it is wiped when dropped (the library's `Party` zeroizes itself),
        /// its `Debug` output shows only the public key, and [`Self::to_bytes`] returns a buffer
        /// that wipes itself. Store it encrypted.
        pub struct $name(pub(crate) Share);

        impl $name {
            /// The joint public key (the same on both sides).
            pub fn public_key(&self) -> &::p256::PublicKey {
                &self.0.public_key
            }

            /// Serializes the share for storage: `[version][kind][postcard(Party)]`.
            pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, P256CosignError> {
                encode($kind, &self.0.party, $what)
            }

            /// Reads a stored share, refusing another version, the other party's share, other
            /// parameters than 2-of-2, and a missing multiplication setup.
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, P256CosignError> {
                let party: Party<Curve> = decode(bytes, $kind, MAX_SHARE_BYTES, $what)?;
                Share::from_party(party, $us, $them, $what).map($name)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                use ::p256::elliptic_curve::sec1::ToSec1Point;
                f.debug_struct(stringify!($name))
                    .field(
                        "public_key",
                        &hex::encode(self.0.public_key.to_sec1_point(true).as_bytes()),
                    )
                    .finish_non_exhaustive()
            }
        }
    };
}

share_type!(
    PhoneShare,
    KIND_PHONE_SHARE,
    phone_index(),
    server_index(),
    "phone share",
    "The phone's share of a two-party P-256 key (party 1)."
);
share_type!(
    ServerShare,
    KIND_SERVER_SHARE,
    server_index(),
    phone_index(),
    "server share",
    "The server's share of a two-party P-256 key (party 2)."
);
