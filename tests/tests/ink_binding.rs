//! The sealed handwriting record is embedded, bound to the signature and its document, and
//! moving or swapping it is detected.

use inkseal_ink::record::encrypt::{InstitutionSecret, Scheme, open, seal_for_institution};
use inkseal_ink::record::format::{BiometricRecord, RecordPoint, decode, encode};
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::ink_binding::binding_attribute;
use inkseal_pdf::object::Object;
use inkseal_pdf::sign::{Placement, SignOptions, sign};
use inkseal_pdf::signer::LocalSigner;
use inkseal_pdf::verify::{VerifyOptions, verify};
use inkseal_pdf::writer::IncrementalUpdate;
use inkseal_pdf::{Document, Limits};
use inkseal_tests::validators::bouncycastle_check;
use inkseal_tests::{fixture, sm2_pki};

fn record() -> BiometricRecord {
    BiometricRecord {
        pad_width: 800,
        pad_height: 300,
        dpi: 160,
        device: "PAD-9 tablet".into(),
        captured_at_ms: 1_790_000_000_000,
        strokes: vec![
            (0..200)
                .map(|i| RecordPoint {
                    x: 10.0 + i as f32 * 3.0,
                    y: 150.0 + (i as f32 / 10.0).sin() * 60.0,
                    t_ms: i * 8,
                    pressure: 0.5,
                    tilt: None,
                    azimuth: None,
                })
                .collect(),
        ],
    }
}

fn options(ink_record: Option<Vec<u8>>) -> SignOptions {
    let mut o = SignOptions::new(1_790_000_000);
    o.placement = Placement::Rect {
        page: 1,
        rect: [330.0, 90.0, 200.0, 80.0],
    };
    o.ink_record = ink_record;
    o
}

#[test]
fn the_record_is_embedded_bound_and_recoverable_by_the_institution() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = sm2_pki(dir.path(), "投保人");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let institution = InstitutionSecret::generate(Scheme::Sm2).expect("institution key");
    let sealed = seal_for_institution(
        &encode(&record()).expect("encode"),
        &institution.public_key(),
    )
    .expect("seal");
    let input = std::fs::read(fixture("e-policy-zh.pdf")).expect("read");
    let tail = sign(&input, &options(Some(sealed.clone())), &signer).expect("sign");
    let signed = [input.as_slice(), tail.as_slice()].concat();

    let report = verify(&signed, &VerifyOptions::default()).expect("verify");
    assert_eq!(report.signatures[0].ink_binding, Some(true), "{report:#?}");
    assert!(report.all_ok(), "{report:#?}");
    let out = dir.path().join("bound.pdf");
    std::fs::write(&out, &signed).expect("write");
    let bc = bouncycastle_check(&out, &[&pki.ca_pem]);
    assert!(
        bc.all_valid(),
        "an extra signed attribute keeps the CMS standard: {}",
        bc.stdout
    );

    // The institution finds the record in the PDF and reads the handwriting back.
    let doc = Document::load(&signed, &Limits::default()).expect("load");
    let field = inkseal_pdf::fields::signature_fields(&doc)
        .expect("fields")
        .remove(0);
    let sig = doc
        .dict(&Object::Reference(field.value.expect("sig")), "sig")
        .expect("sig");
    let embedded = inkseal_pdf::ink_binding::embedded_record(&doc, &doc.xref_at(0), &sig)
        .expect("the record is in the signature dictionary");
    assert_eq!(embedded, sealed);
    let plain = open(&embedded, &institution).expect("institution opens it");
    assert_eq!(decode(&plain).expect("decode").strokes[0].len(), 200);
}

#[test]
fn swapping_or_lifting_the_record_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = sm2_pki(dir.path(), "signer");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let institution = InstitutionSecret::generate(Scheme::P256Ecies).expect("institution key");
    let sealed = seal_for_institution(
        &encode(&record()).expect("encode"),
        &institution.public_key(),
    )
    .expect("seal");
    let contract = std::fs::read(fixture("loan-contract-zh.pdf")).expect("read");
    let policy = std::fs::read(fixture("e-policy-zh.pdf")).expect("read");

    // Swapped later: a new revision replaces the embedded record.
    let tail = sign(&policy, &options(Some(sealed.clone())), &signer).expect("sign");
    let signed = [policy.as_slice(), tail.as_slice()].concat();
    let doc = Document::load(&signed, &Limits::default()).expect("load");
    let field = inkseal_pdf::fields::signature_fields(&doc)
        .expect("fields")
        .remove(0);
    let sig = doc
        .dict(&Object::Reference(field.value.expect("sig")), "sig")
        .expect("sig");
    let mut update = IncrementalUpdate::new(&doc);
    let other = seal_for_institution(b"someone else's handwriting", &institution.public_key())
        .expect("seal");
    let mut swapped_sig = sig.clone();
    swapped_sig.set(
        inkseal_pdf::ink_binding::RECORD_KEY,
        Object::String(other, true),
    );
    update.put(field.value.expect("sig"), &Object::Dictionary(swapped_sig));
    let swapped = [signed.as_slice(), update.write(&doc).bytes.as_slice()].concat();
    let report = verify(&swapped, &VerifyOptions::default()).expect("verify");
    assert!(!report.all_ok(), "{report:#?}");

    // Lifted: the contract's signature carries the policy's binding but not its record.
    let mut lifted = options(None);
    lifted.extra_attributes =
        vec![binding_attribute(&sealed, SignatureAlgorithm::Sm2Sm3, &policy).expect("attribute")];
    let tail = sign(&contract, &lifted, &signer).expect("sign");
    let report = verify(
        &[contract.as_slice(), tail.as_slice()].concat(),
        &VerifyOptions::default(),
    )
    .expect("verify");
    assert_eq!(report.signatures[0].ink_binding, Some(false));
    assert!(!report.all_ok());
}
