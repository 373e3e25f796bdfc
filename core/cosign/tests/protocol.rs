//! Two-party protocol behaviour through the public API: honest runs and a malicious server.

use inkseal_cosign::sm2::dsa::signature::Verifier;
use inkseal_cosign::sm2::dsa::{Signature, VerifyingKey};
use inkseal_cosign::{
    ClientKeyShare, ClientKeygen, CosignError, DEFAULT_SIGNER_ID, HexPoint, HexScalar,
    KeygenRequest, NonceCommitment, ServerKeyShare, SignRequest, SignResponse, decode_message,
};
use proptest::prelude::*;

fn enroll(id: &str) -> (ClientKeyShare, ServerKeyShare) {
    let (keygen, request) = ClientKeygen::start(id).expect("start");
    let (server, response) = ServerKeyShare::keygen(&request).expect("server keygen");
    let client = keygen.finish(&response).expect("client finish");
    assert_eq!(client.public_key(), server.public_key());
    (client, server)
}

fn cosign(client: &ClientKeyShare, server: &ServerKeyShare, msg: &[u8]) -> Signature {
    let e = client.digest(msg);
    let (session, request) = client.start_sign(&e).expect("start sign");
    let response = server.cosign(&request).expect("cosign");
    session.finish(&response).expect("finish")
}

fn add_one(s: &HexScalar) -> HexScalar {
    let mut b = s.0;
    for i in (0..32).rev() {
        let (v, carry) = b[i].overflowing_add(1);
        b[i] = v;
        if !carry {
            break;
        }
    }
    HexScalar(b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_shares_sign_what_the_sm2_crate_verifies(msg in proptest::collection::vec(any::<u8>(), 0..512)) {
        let (client, server) = enroll("prop-key");
        let sig = cosign(&client, &server, &msg);
        let vk = VerifyingKey::new(DEFAULT_SIGNER_ID, *client.public_key()).expect("vk");
        prop_assert!(vk.verify(&msg, &sig).is_ok());
        // And not some other message.
        let mut other = msg.clone();
        other.push(1);
        prop_assert!(vk.verify(&other, &sig).is_err());
    }
}

#[test]
fn nonces_are_fresh_for_the_same_message() {
    let (client, server) = enroll("fresh");
    let a = cosign(&client, &server, b"same");
    let b = cosign(&client, &server, b"same");
    assert_ne!(a.r_bytes(), b.r_bytes());
}

#[test]
fn share_round_trips_through_parts() {
    let (client, server) = enroll("parts");
    let secret = client.secret_bytes();
    let restored =
        ClientKeyShare::from_parts("parts", &secret, &client.public_key().to_sec1_bytes())
            .expect("restore");
    let sig = cosign(&restored, &server, b"after restore");
    let vk = VerifyingKey::new(DEFAULT_SIGNER_ID, *client.public_key()).expect("vk");
    vk.verify(b"after restore", &sig).expect("verifies");
    assert!(!format!("{restored:?}").contains(&hex::encode(&secret[..])));
}

fn signing_round(
    client: &ClientKeyShare,
    server: &ServerKeyShare,
    msg: &[u8],
) -> (inkseal_cosign::SignSession, SignRequest, SignResponse) {
    let e = client.digest(msg);
    let (session, request) = client.start_sign(&e).expect("start");
    let response = server.cosign(&request).expect("cosign");
    (session, request, response)
}

#[test]
fn tampered_s1_is_rejected() {
    let (client, server) = enroll("tamper-s1");
    let (session, _, mut response) = signing_round(&client, &server, b"m");
    response.s1 = add_one(&response.s1);
    assert_eq!(
        session.finish(&response),
        Err(CosignError::SignatureCheckFailed)
    );
}

#[test]
fn tampered_r_is_rejected() {
    let (client, server) = enroll("tamper-r");
    let (session, _, mut response) = signing_round(&client, &server, b"m");
    response.r = add_one(&response.r);
    assert_eq!(
        session.finish(&response),
        Err(CosignError::SignatureCheckFailed)
    );
}

#[test]
fn zero_or_out_of_range_scalars_are_rejected() {
    let (client, server) = enroll("ranges");
    let (session, _, mut response) = signing_round(&client, &server, b"m");
    response.s1 = HexScalar([0u8; 32]);
    assert_eq!(
        session.finish(&response),
        Err(CosignError::InvalidScalar("s1"))
    );
    let (session, _, mut response) = signing_round(&client, &server, b"m");
    response.r = HexScalar([0xff; 32]);
    assert_eq!(
        session.finish(&response),
        Err(CosignError::InvalidScalar("r"))
    );
}

#[test]
fn server_signing_another_digest_is_rejected() {
    let (client, server) = enroll("swap-e");
    let (session, mut request, _) = signing_round(&client, &server, b"what the user saw");
    request.e = HexScalar(client.digest(b"what the server wants"));
    let response = server.cosign(&request).expect("cosign");
    assert_eq!(
        session.finish(&response),
        Err(CosignError::SignatureCheckFailed)
    );
}

#[test]
fn replayed_response_is_rejected() {
    let (client, server) = enroll("replay");
    let (_, _, old_response) = signing_round(&client, &server, b"same message");
    let (session, _, _) = signing_round(&client, &server, b"same message");
    assert_eq!(
        session.finish(&old_response),
        Err(CosignError::SignatureCheckFailed)
    );
}

#[test]
fn server_keygen_with_bad_points_or_proofs_is_rejected() {
    let (_, request) = ClientKeygen::start("bad-keygen").expect("start");
    // Proof replayed into another enrollment.
    let mut moved = request.clone();
    moved.enrollment_id = "other".into();
    assert_eq!(
        ServerKeyShare::keygen(&moved).err(),
        Some(CosignError::ProofInvalid("p1"))
    );
    // Off-curve point: flip a bit of x.
    let mut off = request.clone();
    off.p1.0[10] ^= 1;
    assert!(ServerKeyShare::keygen(&off).is_err());
    // Identity is not accepted as P1.
    let mut ident = request.clone();
    ident.p1 = HexPoint(vec![0]);
    assert_eq!(
        ServerKeyShare::keygen(&ident).err(),
        Some(CosignError::InvalidPoint("p1"))
    );
}

#[test]
fn client_rejects_a_dishonest_keygen_response() {
    let (keygen, request) = ClientKeygen::start("bad-server").expect("start");
    let (_, response) = ServerKeyShare::keygen(&request).expect("keygen");
    // A joint key the server cannot back with P2.
    let (_, other) = ServerKeyShare::keygen(&request).expect("keygen");
    let mut lying = response.clone();
    lying.public_key = other.public_key.clone();
    assert_eq!(
        keygen.finish(&lying).err(),
        Some(CosignError::JointKeyMismatch)
    );

    let (keygen, request) = ClientKeygen::start("bad-server2").expect("start");
    let (_, response) = ServerKeyShare::keygen(&request).expect("keygen");
    let mut forged = response.clone();
    forged.p2 = other.p2.clone(); // proof was for another P2 / enrollment
    assert_eq!(
        keygen.finish(&forged).err(),
        Some(CosignError::ProofInvalid("p2"))
    );

    let (keygen, request) = ClientKeygen::start("bad-server3").expect("start");
    let (_, response) = ServerKeyShare::keygen(&request).expect("keygen");
    let mut ident = response.clone();
    ident.public_key = HexPoint(vec![0]);
    assert_eq!(
        keygen.finish(&ident).err(),
        Some(CosignError::InvalidPoint("public_key"))
    );
}

#[test]
fn server_rejects_bad_nonce_points_of_both_versions() {
    let (client, server) = enroll("bad-q1");
    let e = [7u8; 32];
    for (request, field) in [
        (client.start_sign(&e).expect("start").1, "x1"),
        (client.start_sign_v1(&e).expect("start").1, "q1"),
    ] {
        let with_point = |bytes: Vec<u8>| {
            let mut r = request.clone();
            r.nonce = match r.nonce {
                NonceCommitment::Q1(_) => NonceCommitment::Q1(HexPoint(bytes)),
                NonceCommitment::X1(_) => NonceCommitment::X1(HexPoint(bytes)),
            };
            r
        };
        let mut off_curve = request.nonce.point_bytes().to_vec();
        off_curve[5] ^= 0x40;
        assert_eq!(
            server.cosign(&with_point(off_curve)).err(),
            Some(CosignError::InvalidPoint(field))
        );
        assert_eq!(
            server.cosign(&with_point(vec![0])).err(),
            Some(CosignError::InvalidPoint(field))
        );
    }
}

#[test]
fn version_1_rounds_from_older_phones_still_sign() {
    let (client, server) = enroll("v1-phone");
    let e = client.digest(b"signed by an older app");
    let (session, request) = client.start_sign_v1(&e).expect("start");
    assert_eq!(request.nonce.version(), 1);
    let json = serde_json::to_value(&request).expect("json");
    assert_eq!(json["v"], 1);
    assert!(json.get("q1").is_some() && json.get("x1").is_none());
    let response = server.cosign(&request).expect("cosign");
    assert_eq!(response.v, 1, "the answer echoes the round's version");
    let sig = session.finish(&response).expect("verifies");
    let vk = VerifyingKey::new(DEFAULT_SIGNER_ID, *client.public_key()).expect("vk");
    vk.verify(b"signed by an older app", &sig)
        .expect("a valid SM2 signature");
}

#[test]
fn version_2_rounds_carry_x1_and_answers_must_echo_the_version() {
    let (client, server) = enroll("v2-phone");
    let (session, request, mut response) = signing_round(&client, &server, b"m");
    let json = serde_json::to_value(&request).expect("json");
    assert_eq!(json["v"], 2);
    assert!(json.get("x1").is_some() && json.get("q1").is_none());
    assert_eq!(response.v, 2);
    response.v = 1;
    assert_eq!(
        session.finish(&response),
        Err(CosignError::UnsupportedVersion(1))
    );
}

#[test]
fn sign_requests_parse_one_point_per_version() {
    let (client, _) = enroll("wire");
    let (_, request) = client.start_sign(&[9u8; 32]).expect("start");
    let good = serde_json::to_value(&request).expect("json");
    let back: SignRequest =
        decode_message(&serde_json::to_vec(&good).expect("json")).expect("decode");
    assert_eq!(back, request);
    let refused = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        edit(&mut v);
        decode_message::<SignRequest>(&serde_json::to_vec(&v).expect("json")).err()
    };
    // Version 1 with only x1, version 2 with both points, version 3.
    for bad in [
        refused(&|v| v["v"] = 1.into()),
        refused(&|v| v["q1"] = v["x1"].clone()),
        refused(&|v| v["v"] = 3.into()),
        refused(&|v| {
            v.as_object_mut().expect("object").remove("x1");
        }),
    ] {
        assert!(matches!(bad, Some(CosignError::Decode(_))), "{bad:?}");
    }
}

#[test]
fn decoding_enforces_limits_and_versions() {
    let (_, request) = ClientKeygen::start("decode").expect("start");
    let bytes = serde_json::to_vec(&request).expect("json");
    let back: KeygenRequest = decode_message(&bytes).expect("decode");
    assert_eq!(back, request);
    let huge = vec![b' '; inkseal_cosign::MAX_MESSAGE_BYTES + 1];
    assert!(matches!(
        decode_message::<KeygenRequest>(&huge),
        Err(CosignError::TooLarge(_))
    ));
    let mut v2 = serde_json::to_value(&request).expect("value");
    v2["v"] = 2.into();
    let v2 = serde_json::to_vec(&v2).expect("json");
    assert_eq!(
        decode_message::<KeygenRequest>(&v2).err(),
        Some(CosignError::UnsupportedVersion(2))
    );
    assert!(matches!(
        decode_message::<SignRequest>(b"{\"v\":1}"),
        Err(CosignError::Decode(_))
    ));
    assert!(matches!(
        decode_message::<SignRequest>(b"\xff\xfe"),
        Err(CosignError::Decode(_))
    ));
}

#[test]
fn sealable_share_round_trips_and_rejects_a_wrong_inverse() {
    let (client, server) = enroll("sealable");
    let bytes = server.sealable_bytes();
    let pk = client.public_key().to_sec1_bytes();
    let restored = ServerKeyShare::from_sealable(&bytes, &pk).expect("restore");
    let sig = cosign(&client, &restored, b"restored server share");
    let vk = VerifyingKey::new(DEFAULT_SIGNER_ID, *client.public_key()).expect("vk");
    vk.verify(b"restored server share", &sig).expect("verifies");
    let mut bad = *bytes;
    bad[63] ^= 1;
    assert_eq!(
        ServerKeyShare::from_sealable(&bad, &pk).err(),
        Some(CosignError::InvalidScalar("d2_inv"))
    );
}
