//! Certification rules and the known PDF signature attacks, against inkseal's verifier.

use inkseal_pdf::changes::{Changes, ModificationLevel};
use inkseal_pdf::object::{Object, Stream};
use inkseal_pdf::sign::{Certification, Placement, SignOptions, sign};
use inkseal_pdf::signer::LocalSigner;
use inkseal_pdf::verify::{Coverage, VerifyOptions, verify};
use inkseal_pdf::writer::IncrementalUpdate;
use inkseal_pdf::{Document, Limits, PdfError};
use std::path::Path;

fn shared(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

fn now() -> u64 {
    1_790_000_000
}

/// An SM2 signer with an end-entity certificate from a fresh root, made with inkseal's CA code.
fn signer(name: &str) -> LocalSigner {
    use sm2::dsa::signature::Signer as _;
    use sm2::pkcs8::DecodePrivateKey as _;
    let ca = inkseal_pki::CaKey::generate();
    let ca_cert = inkseal_pki::self_signed_ca(&ca, "Test Root", 30, now()).expect("root");
    let key = inkseal_pki::CaKey::generate();
    let der = key.to_pkcs8_der().expect("pkcs8");
    let secret = sm2::SecretKey::from_pkcs8_der(&der).expect("secret");
    let sk = sm2::dsa::SigningKey::new(inkseal_cosign::DEFAULT_SIGNER_ID, &secret).expect("sk");
    let tbs = inkseal_pki::csr_to_be_signed(key.public_key(), name).expect("tbs");
    let sig: sm2::dsa::Signature = sk.sign(&tbs);
    let csr = inkseal_pki::verify_csr(&inkseal_pki::assemble_csr(&tbs, &sig).expect("csr"))
        .expect("verified");
    let cert =
        inkseal_pki::issue_certificate(&ca, &ca_cert, &csr, &[7; 16], 30, now()).expect("issue");
    LocalSigner::from_der(&der, vec![cert]).expect("signer")
}

fn sign_with(
    input: &[u8],
    s: &LocalSigner,
    field: &str,
    certify: Option<Certification>,
) -> Vec<u8> {
    let mut o = SignOptions::new(now());
    o.field_name = Some(field.into());
    o.placement = Placement::Rect {
        page: 1,
        rect: [50.0, 50.0, 120.0, 40.0],
    };
    o.certify = certify;
    let tail = sign(input, &o, s).expect("sign");
    [input, tail.as_slice()].concat()
}

fn fixture() -> Vec<u8> {
    std::fs::read(shared("fixtures/e-policy-zh.pdf")).expect("fixture")
}

/// Append a revision made by `edit` (the attacker's incremental update).
fn append(data: &[u8], edit: impl FnOnce(&Document<'_>, &mut IncrementalUpdate)) -> Vec<u8> {
    let doc = Document::load(data, &Limits::default()).expect("load");
    let mut update = IncrementalUpdate::new(&doc);
    edit(&doc, &mut update);
    let written = update.write(&doc);
    [data, written.bytes.as_slice()].concat()
}

fn first_page(doc: &Document<'_>) -> inkseal_pdf::pages::PageRef {
    inkseal_pdf::pages::pages(doc).expect("pages").remove(0)
}

#[test]
fn certified_policy_allows_a_later_signature_but_not_content_changes() {
    let insurer = signer("Insurer Seal");
    let holder = signer("Policy Holder");
    // The insurer certifies (P=2) and leaves an empty field for the holder.
    let mut o = SignOptions::new(now());
    o.field_name = Some("Insurer".into());
    o.placement = Placement::Rect {
        page: 1,
        rect: [50.0, 50.0, 120.0, 40.0],
    };
    o.certify = Some(Certification::FormFillingAndSigning);
    o.empty_fields = vec![inkseal_pdf::sign::EmptyField {
        name: "Holder".into(),
        page: 1,
        rect: [200.0, 50.0, 120.0, 40.0],
    }];
    let certified = [fixture(), sign(&fixture(), &o, &insurer).expect("certify")].concat();

    // P=2 permits signing that field, not adding a visible one: refused, naming the field.
    let mut new_field = SignOptions::new(now());
    new_field.field_name = Some("Elsewhere".into());
    new_field.placement = Placement::Rect {
        page: 1,
        rect: [350.0, 50.0, 120.0, 40.0],
    };
    match sign(&certified, &new_field, &holder) {
        Err(PdfError::CertifiedFieldsOnly { empty_fields }) => assert_eq!(empty_fields, "Holder"),
        other => panic!("a new visible field after P=2: {other:?}"),
    }
    // Asked to break the certification, it signs; the certification then reports the field.
    new_field.allow_breaking_certification = true;
    let broken = [
        certified.as_slice(),
        &sign(&certified, &new_field, &holder).expect("signs when allowed"),
    ]
    .concat();
    let report = verify(&broken, &VerifyOptions::default()).expect("verify");
    let cert_sig = report
        .signatures
        .iter()
        .find(|s| s.field == "Insurer")
        .expect("insurer");
    assert!(
        cert_sig
            .problems
            .iter()
            .any(|p| p.contains("'Elsewhere'") && p.contains("P=2")),
        "{cert_sig:#?}"
    );
    assert!(!report.all_ok());
    // An invisible approval signature is still allowed, as pyHanko allows it.
    let invisible = [
        certified.as_slice(),
        &sign(&certified, &SignOptions::new(now()), &holder).expect("invisible"),
    ]
    .concat();
    assert!(
        verify(&invisible, &VerifyOptions::default())
            .expect("verify")
            .all_ok()
    );

    let mut fill = SignOptions::new(now());
    fill.placement = Placement::Field("Holder".into());
    let both = [
        certified.as_slice(),
        &sign(&certified, &fill, &holder).expect("sign the holder's field"),
    ]
    .concat();
    let report = verify(&both, &VerifyOptions::default()).expect("verify");
    assert_eq!(report.signatures.len(), 2);
    let cert_sig = report
        .signatures
        .iter()
        .find(|s| s.field == "Insurer")
        .expect("insurer");
    assert_eq!(cert_sig.certification, Some(2));
    assert_eq!(cert_sig.changes, Some(Changes::SignaturesAndForms));
    assert_eq!(
        cert_sig.modification_level,
        Some(ModificationLevel::FormFilling)
    );
    assert!(
        cert_sig
            .level_decided_by
            .as_deref()
            .is_some_and(|w| w.contains("signature field 'Holder' signed")),
        "{cert_sig:#?}"
    );
    assert!(report.all_ok(), "{report:#?}");

    // Now someone rewrites the page content after both signatures.
    let altered = append(&both, |doc, u| {
        let page = first_page(doc);
        let content = u.allocate();
        u.put(
            content,
            &Object::Stream(Stream {
                dict: Default::default(),
                data: b"BT /F1 24 Tf 100 700 Td (PREMIUM WAIVED) Tj ET".to_vec(),
            }),
        );
        let mut dict = page.dict.clone();
        dict.set(b"Contents", Object::Reference(content));
        u.put(
            page.id().expect("an indirect page"),
            &Object::Dictionary(dict),
        );
    });
    let report = verify(&altered, &VerifyOptions::default()).expect("verify");
    assert!(!report.all_ok());
    for s in &report.signatures {
        assert!(matches!(s.changes, Some(Changes::Other(_))), "{s:#?}");
        assert_eq!(s.modification_level, Some(ModificationLevel::Other));
        assert!(
            s.level_decided_by
                .as_deref()
                .is_some_and(|w| w.starts_with("object ") && w.contains("/Contents changed")),
            "{s:#?}"
        );
        assert!(!s.is_ok());
        assert!(
            s.problems
                .iter()
                .any(|p| p.contains("page entry /Contents changed")),
            "{:?}",
            s.problems
        );
    }
}

#[test]
fn a_no_changes_certification_refuses_further_signatures() {
    let certified = sign_with(
        &fixture(),
        &signer("Seal"),
        "Seal",
        Some(Certification::NoChanges),
    );
    let mut o = SignOptions::new(now());
    o.field_name = Some("Late".into());
    assert_eq!(
        sign(&certified, &o, &signer("Late")).expect_err("locked"),
        PdfError::Locked
    );
    // A certification must come first.
    let once = sign_with(&fixture(), &signer("A"), "A", None);
    let mut o = SignOptions::new(now());
    o.certify = Some(Certification::FormFillingAndSigning);
    assert!(matches!(
        sign(&once, &o, &signer("B")),
        Err(PdfError::Field(..))
    ));
}

#[test]
fn shadow_attack_swapping_resources_is_reported() {
    // The signed revision carries an unused form XObject; a later revision points the page at it.
    let base = append(&fixture(), |_, u| {
        let hidden = u.allocate();
        u.put(
            hidden,
            &Object::Stream(Stream {
                dict: Default::default(),
                data: b"0 0 m 100 100 l S".to_vec(),
            }),
        );
    });
    let signed = sign_with(&base, &signer("Signer"), "S1", None);
    assert!(
        verify(&signed, &VerifyOptions::default())
            .expect("verify")
            .all_ok()
    );
    let revealed = append(&signed, |doc, u| {
        let page = first_page(doc);
        let mut dict = page.dict.clone();
        dict.set(b"Resources", Object::Dictionary(Default::default()));
        u.put(
            page.id().expect("an indirect page"),
            &Object::Dictionary(dict),
        );
    });
    let report = verify(&revealed, &VerifyOptions::default()).expect("verify");
    assert!(!report.all_ok());
    let problems = report.signatures[0].problems.join("; ");
    assert!(problems.contains("/Resources"), "{problems}");
}

#[test]
fn signature_wrapping_and_universal_forgery_are_named() {
    let signed = sign_with(&fixture(), &signer("Signer"), "S1", None);
    let doc = Document::load(&signed, &Limits::default()).expect("load");
    let field = inkseal_pdf::fields::signature_fields(&doc)
        .expect("fields")
        .remove(0);
    let sig_id = field.value.expect("signature reference");
    let sig = doc
        .dict(&Object::Reference(sig_id), "sig")
        .expect("sig dict");
    drop(doc);

    // Wrapping: the same /ByteRange and /Contents re-declared in a new revision, so the gap in
    // the signed bytes is no longer this dictionary's /Contents.
    let wrapped = append(&signed, |_, u| {
        u.put(sig_id, &Object::Dictionary(sig.clone()))
    });
    let report = verify(&wrapped, &VerifyOptions::default()).expect("verify");
    assert!(!report.all_ok());
    assert!(
        report.signatures[0]
            .problems
            .iter()
            .any(|p| p.contains("signature wrapping")),
        "{:?}",
        report.signatures[0].problems
    );

    // Universal forgery: /Contents removed, or /ByteRange malformed.
    for key in [&b"Contents"[..], b"ByteRange"] {
        let mut forged_dict = sig.clone();
        forged_dict.remove(key);
        let forged = append(&signed, |_, u| {
            u.put(sig_id, &Object::Dictionary(forged_dict))
        });
        let report = verify(&forged, &VerifyOptions::default()).expect("verify");
        assert!(!report.all_ok());
        assert!(
            report.signatures[0]
                .problems
                .iter()
                .any(|p| p.contains("universal signature forgery")),
            "{:?}",
            report.signatures[0].problems
        );
    }
}

#[test]
fn incremental_saving_after_the_signature_is_reported_and_coverage_is_exact() {
    let signed = sign_with(&fixture(), &signer("Signer"), "S1", None);
    let report = verify(&signed, &VerifyOptions::default()).expect("verify");
    assert_eq!(report.signatures[0].coverage, Some(Coverage::WholeFile));
    // Appending raw bytes (not a revision) leaves a tail no signature covers.
    let mut tail = signed.clone();
    tail.extend_from_slice(b"\n% appended garbage that is not a revision\n");
    match verify(&tail, &VerifyOptions::default()) {
        Ok(r) => assert!(!r.all_ok(), "{r:#?}"),
        Err(e) => panic!("a trailing comment should still load: {e}"),
    }
}

#[test]
fn coverage_anomalies_from_the_corpus_fail() {
    let dir = shared("corpus/pyhanko-test-pdfs/coverage-anomalies");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".pdf") || name == "base.pdf" {
            continue;
        }
        let data = std::fs::read(entry.path()).expect("read");
        if let Ok(report) = verify(&data, &VerifyOptions::default()) {
            assert!(!report.all_ok(), "{name} must not verify: {report:#?}");
        }
        checked += 1;
    }
    assert!(checked >= 4, "coverage anomalies present: {checked}");
}

#[test]
fn the_signed_corpus_never_panics_the_verifier() {
    let dir = shared("corpus/pyhanko-test-pdfs");
    for entry in std::fs::read_dir(&dir).expect("corpus").flatten() {
        if entry.path().extension().is_some_and(|e| e == "pdf") {
            let data = std::fs::read(entry.path()).expect("read");
            let _ = verify(&data, &VerifyOptions::default());
        }
    }
}

/// A PAdES B-LT/LTA file whose later revisions update the document security store, keeping
/// its arrays and /VRI in objects of their own (pyHanko's `pades-lta-dss-indirect-arrs-test`
/// files): every signature stays valid, as pyHanko judges them. An update that puts something
/// else into the DSS, or anything but references into one of its arrays, is still reported.
#[test]
fn dss_updates_are_allowed_and_nothing_else_rides_along() {
    let corpus = |name: &str| {
        std::fs::read(shared(&format!("corpus/pyhanko-test-pdfs/{name}"))).expect("corpus file")
    };
    for name in [
        "pades-lta-dss-indirect-arrs-test.pdf",
        "pades-lta-dss-indirect-arrs-test-2.pdf",
    ] {
        let report = verify(&corpus(name), &VerifyOptions::default()).expect("verify");
        assert!(report.signatures.len() >= 2, "{name}");
        for s in &report.signatures {
            assert!(
                matches!(s.changes, Some(Changes::None | Changes::SignaturesAndForms)),
                "{name} {}: {:?}",
                s.field,
                s.changes
            );
            assert!(
                s.problems.is_empty(),
                "{name} {}: {:?}",
                s.field,
                s.problems
            );
        }
    }

    let data = corpus("pades-lta-dss-indirect-arrs-test.pdf");
    let dss_of = |doc: &Document<'_>| {
        let (_, catalog) = doc.catalog().expect("catalog");
        let id = catalog
            .get(b"DSS")
            .and_then(Object::as_ref_id)
            .expect("an indirect DSS");
        let Object::Dictionary(dss) = doc.resolve(&Object::Reference(id)).expect("dss") else {
            panic!("DSS is not a dictionary");
        };
        (id, dss)
    };
    // The DSS gains an entry of another kind.
    let smuggled = append(&data, |doc, u| {
        let (id, mut dss) = dss_of(doc);
        dss.set(b"OpenAction", Object::Integer(1));
        u.put(id, &Object::Dictionary(dss));
    });
    // The DSS's own /Certs array gets something that is not a reference.
    let not_a_reference = append(&data, |doc, u| {
        let (_, dss) = dss_of(doc);
        let certs = dss
            .get(b"Certs")
            .and_then(Object::as_ref_id)
            .expect("indirect /Certs");
        let Object::Array(mut list) = doc.resolve(&Object::Reference(certs)).expect("certs") else {
            panic!("/Certs is not an array");
        };
        list.push(Object::Integer(7));
        u.put(certs, &Object::Array(list));
    });
    // A DSS update as pyHanko makes it: a new certificate array.
    let honest = append(&data, |doc, u| {
        let (id, mut dss) = dss_of(doc);
        let certs = dss.get(b"Certs").cloned().expect("certs");
        let Object::Array(list) = doc.resolve(&certs).expect("certs") else {
            panic!("/Certs is not an array");
        };
        let fresh = u.allocate();
        u.put(fresh, &Object::Array(list));
        dss.set(b"Certs", Object::Reference(fresh));
        u.put(id, &Object::Dictionary(dss));
    });
    let first = |bytes: &[u8]| {
        verify(bytes, &VerifyOptions::default())
            .expect("verify")
            .signatures
            .into_iter()
            .find(|s| s.field == "Sig1")
            .expect("Sig1")
    };
    assert_eq!(first(&honest).changes, Some(Changes::SignaturesAndForms));
    for (what, bytes) in [
        ("smuggled", &smuggled),
        ("not a reference", &not_a_reference),
    ] {
        assert!(
            matches!(first(bytes).changes, Some(Changes::Other(_))),
            "{what}: {:?}",
            first(bytes).changes
        );
    }
}
