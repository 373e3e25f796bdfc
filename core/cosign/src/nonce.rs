//! Hedged nonce and share generation.
//!
//! Every secret scalar is derived as `SM3(tag || fresh 32 random bytes || secret || context ||
//! counter)`, rejection-sampled into `[1, n-1]`. A broken RNG therefore still yields distinct
//! nonces for distinct (share, message) pairs, and a good RNG makes the output uniform.

use crate::CosignError;
use crate::hash::tagged_hash;
use sm2::elliptic_curve::PrimeField;
use sm2::{FieldBytes, Scalar};
use zeroize::Zeroize;

/// Fill a buffer from the operating system's RNG.
pub(crate) fn os_random() -> Result<[u8; 32], CosignError> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).map_err(|_| CosignError::Rng)?;
    Ok(buf)
}

/// 32 fresh bytes from an injected random number generator (the operating system's in
/// production, a seeded one in tests).
pub(crate) fn fresh_from<R: rand_core::TryCryptoRng + ?Sized>(
    rng: &mut R,
) -> Result<[u8; 32], CosignError> {
    let mut buf = [0u8; 32];
    rng.try_fill_bytes(&mut buf).map_err(|_| CosignError::Rng)?;
    Ok(buf)
}

/// Derive a non-zero scalar from fresh randomness, an optional secret and public context.
pub(crate) fn hedged_scalar(
    tag: &str,
    secret: Option<&Scalar>,
    context: &[u8],
) -> Result<Scalar, CosignError> {
    Ok(hedged_scalar_with(os_random()?, tag, secret, context))
}

/// [`hedged_scalar`] with the fresh bytes given (drawn from an injected generator); they are
/// wiped here.
pub(crate) fn hedged_scalar_with(
    mut fresh: [u8; 32],
    tag: &str,
    secret: Option<&Scalar>,
    context: &[u8],
) -> Scalar {
    let mut secret_bytes: [u8; 32] = secret.map(|s| s.to_repr().into()).unwrap_or([0u8; 32]);
    let mut counter: u32 = 0;
    let result = loop {
        let mut candidate = tagged_hash(
            tag,
            &[&fresh, &secret_bytes, context, &counter.to_be_bytes()],
        );
        let s: Option<Scalar> = Scalar::from_repr(FieldBytes::from(candidate)).into();
        candidate.zeroize();
        if let Some(s) = s {
            if !bool::from(s.is_zero()) {
                break s;
            }
        }
        counter = counter.wrapping_add(1);
    };
    fresh.zeroize();
    secret_bytes.zeroize();
    result
}
