//! Known-answer tests.
//!
//! Provenance: GB/T 32918.5-2017 (SM2 part 5: parameter definitions), Annex A, the digital
//! signature example on the recommended 256-bit curve: private key d_A, signer ID
//! "1234567812345678", message "message digest", nonce k, and the resulting Z_A, e, r and s.

use crate::codec::{HexScalar, reduce_bytes};
use crate::hash::{DEFAULT_SIGNER_ID, message_digest, z_a};
use crate::{ClientKeyShare, ServerKeyShare, reference};
use sm2::dsa::signature::Verifier;
use sm2::elliptic_curve::PrimeField;
use sm2::elliptic_curve::group::Group as _;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::{FieldBytes, NonZeroScalar, ProjectivePoint, PublicKey, Scalar};

fn h32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).expect("test vector hex");
    out
}

const D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
const XA: &str = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020";
const YA: &str = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
const ZA: &str = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3";
const E: &str = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640";
const K: &str = "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21";
const R: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
const S: &str = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";
const MSG: &[u8] = b"message digest";

fn scalar(s: &str) -> Scalar {
    HexScalar(h32(s))
        .scalar("test")
        .expect("canonical test scalar")
}

fn public_key() -> PublicKey {
    let d = NonZeroScalar::new(scalar(D)).expect("non-zero d");
    PublicKey::from_secret_scalar(&d)
}

#[test]
fn annex_a_public_key_za_and_digest() {
    let p = public_key();
    let enc = p.to_sec1_point(false);
    assert_eq!(enc.x().expect("x").as_slice(), &h32(XA));
    assert_eq!(enc.y().expect("y").as_slice(), &h32(YA));
    assert_eq!(z_a(&p, DEFAULT_SIGNER_ID), Some(h32(ZA)));
    assert_eq!(message_digest(&p, MSG), h32(E));
}

#[test]
fn annex_a_plain_signer() {
    let sig = reference::sign_with_nonce(&scalar(D), &h32(E), &scalar(K))
        .expect("sign")
        .expect("non-degenerate");
    assert_eq!(sig.r_bytes().as_slice(), &h32(R));
    assert_eq!(sig.s_bytes().as_slice(), &h32(S));
    // The `sm2` crate agrees that the standard's signature verifies over the message.
    let vk = sm2::dsa::VerifyingKey::new(DEFAULT_SIGNER_ID, public_key()).expect("vk");
    vk.verify(MSG, &sig)
        .expect("sm2 crate verifies the Annex A signature");
}

#[test]
fn annex_a_through_two_shares() {
    let d = scalar(D);
    let k = scalar(K);
    let one_plus_d_inv = (Scalar::ONE + d).invert().expect("invertible");
    // Any non-zero d1 works; d2 completes the split so that d1 * d2 = (1 + d)^-1.
    for seed in [1u64, 7, 0xdead_beef] {
        let d1 = reduce_bytes(&crate::hash::tagged_hash("test d1", &[&seed.to_be_bytes()]));
        let d2 = one_plus_d_inv * d1.invert().expect("d1 != 0");
        let p_bytes = public_key().to_sec1_bytes();
        let client =
            ClientKeyShare::from_parts("annex-a", &d1.to_repr().into(), &p_bytes).expect("client");
        let server = ServerKeyShare::from_parts(&d2.to_repr().into(), &p_bytes).expect("server");
        // Split the standard's nonce: k = w2 + w1 * d2^-1.
        let w1 = reduce_bytes(&crate::hash::tagged_hash("test w1", &[&seed.to_be_bytes()]));
        let w2 = k - w1 * d2.invert().expect("d2 != 0");
        // Version 2: the phone sends X1 = w1 P2 and the server adds it to w2 G.
        let (session, request) = client.start_sign_with_nonce(&h32(E), w1);
        let crate::NonceCommitment::X1(x1) = &request.nonce else {
            panic!("phones send version 2 rounds");
        };
        let p2 = ProjectivePoint::mul_by_generator(&d2.invert().expect("d2 != 0"));
        assert_eq!(
            x1.point("x1").expect("x1").to_projective().to_affine(),
            (p2 * w1).to_affine(),
            "X1 = w1 P2"
        );
        let offset = x1.point("x1").expect("x1").to_projective();
        let response = server
            .cosign_with_nonce(&request.e.0, &offset, w2, 2)
            .expect("cosign")
            .expect("non-degenerate");
        assert_eq!(response.r.0, h32(R));
        let sig = session.finish(&response).expect("verifies");
        assert_eq!(sig.r_bytes().as_slice(), &h32(R));
        assert_eq!(sig.s_bytes().as_slice(), &h32(S));
        // Version 1: Q1 = w1 G, which the server multiplies by d2^-1; the same signature.
        let q1 = ProjectivePoint::mul_by_generator(&w1);
        let offset = q1 * d2.invert().expect("d2 != 0");
        let response = server
            .cosign_with_nonce(&h32(E), &offset, w2, 1)
            .expect("cosign")
            .expect("non-degenerate");
        assert_eq!(response.r.0, h32(R));
        assert_eq!(response.v, 1);
    }
}

#[test]
fn scalar_bytes_round_trip() {
    let s = scalar(K);
    assert_eq!(FieldBytes::from(s.to_repr()).as_slice(), &h32(K));
}
