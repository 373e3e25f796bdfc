//! The phone's precomputed-table verifier agrees with the `sm2` crate's verifier.

use inkseal_cosign::sm2::dsa::signature::hazmat::PrehashSigner;
use inkseal_cosign::sm2::dsa::{Signature, SigningKey};
use inkseal_cosign::sm2::elliptic_curve::ops::Reduce;
use inkseal_cosign::sm2::{FieldBytes, NonZeroScalar, PublicKey, Scalar};
use inkseal_cosign::{DEFAULT_SIGNER_ID, PrecomputedVerifier, verify_digest};
use proptest::prelude::*;

fn key(seed: &[u8; 32]) -> Option<(SigningKey, PublicKey)> {
    let sk = SigningKey::from_slice(DEFAULT_SIGNER_ID, seed).ok()?;
    let pk = PublicKey::from_affine(*sk.verifying_key().as_affine()).ok()?;
    Some((sk, pk))
}

fn agree(pk: &PublicKey, v: &PrecomputedVerifier, e: &[u8; 32], sig: &Signature) -> bool {
    verify_digest(pk, e, sig).is_ok() == v.verify(e, sig).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn agrees_on_valid_and_tampered_signatures(
        seed in any::<[u8; 32]>(),
        e in any::<[u8; 32]>(),
        flip in 0usize..64,
        other_e in any::<[u8; 32]>(),
    ) {
        let Some((sk, pk)) = key(&seed) else { return Ok(()) };
        let v = PrecomputedVerifier::new(&pk);
        let sig: Signature = sk.sign_prehash(&e).expect("sign");
        prop_assert!(v.verify(&e, &sig).is_ok());
        prop_assert!(agree(&pk, &v, &e, &sig));
        prop_assert!(agree(&pk, &v, &other_e, &sig));
        let mut bytes = sig.to_bytes();
        bytes[flip] ^= 1;
        if let Ok(bad) = Signature::from_slice(&bytes) {
            prop_assert!(v.verify(&e, &bad).is_err());
            prop_assert!(agree(&pk, &v, &e, &bad));
        }
        // A signature by another key.
        let mut seed2 = seed;
        seed2[0] ^= 0x80;
        if let Some((sk2, _)) = key(&seed2) {
            let sig2: Signature = sk2.sign_prehash(&e).expect("sign");
            prop_assert!(v.verify(&e, &sig2).is_err());
        }
    }
}

#[test]
fn rejects_the_point_at_infinity_like_the_sm2_crate() {
    // r = e and s = -r d / (1 + d) make [s]G + [r + s]P the identity.
    let d = Scalar::from(0x1234_5678_9abc_u64);
    let nz = NonZeroScalar::new(d).expect("non-zero");
    let pk = PublicKey::from_secret_scalar(&nz);
    let e = [7u8; 32];
    let r = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(e));
    let s = -(r * d) * (d + Scalar::ONE).invert().expect("invertible");
    let sig = Signature::from_scalars(r, s).expect("sig");
    let v = PrecomputedVerifier::new(&pk);
    assert!(v.verify(&e, &sig).is_err());
    assert!(verify_digest(&pk, &e, &sig).is_err());
}
