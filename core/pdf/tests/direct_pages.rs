//! Pages written directly in a /Pages node's /Kids (no object of their own), as some writers
//! make them: inkseal lists them, signs on them (giving the page an object of its own in the
//! signature's revision), verifies the result, and its change analysis allows exactly that
//! rewrite of the page tree node after an earlier signature while reporting anything else.

use inkseal_pdf::changes::Changes;
use inkseal_pdf::object::{Object, ObjectId};
use inkseal_pdf::pages::{PageLocation, pages};
use inkseal_pdf::sign::{Placement, SignOptions, sign};
use inkseal_pdf::signer::LocalSigner;
use inkseal_pdf::testing::direct_kid_pdf;
use inkseal_pdf::verify::{Verdict, VerificationReport, VerifyOptions, verify};
use inkseal_pdf::writer::IncrementalUpdate;
use inkseal_pdf::{Document, Limits};

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

fn signed(input: &[u8], field: &str, placement: Placement) -> Vec<u8> {
    let mut o = SignOptions::new(now());
    o.field_name = Some(field.into());
    o.placement = placement;
    let tail = sign(input, &o, &signer(field)).expect("sign");
    [input, tail.as_slice()].concat()
}

fn on_page(page: u32) -> Placement {
    Placement::Rect {
        page,
        rect: [300.0, 100.0, 150.0, 60.0],
    }
}

fn report(data: &[u8]) -> VerificationReport {
    verify(data, &VerifyOptions::default()).expect("verifies")
}

/// The page tree node's /Kids entry 0 in the newest revision.
fn first_kid(data: &[u8]) -> Object {
    let doc = Document::load(data, &Limits::default()).expect("load");
    let node = doc
        .dict(&Object::Reference(ObjectId(2, 0)), "pages")
        .expect("node");
    match node.get(b"Kids") {
        Some(Object::Array(kids)) => kids[0].clone(),
        other => panic!("kids: {other:?}"),
    }
}

#[test]
fn direct_kids_are_listed_with_their_place_in_the_tree() {
    let data = direct_kid_pdf();
    let doc = Document::load(&data, &Limits::default()).expect("load");
    let all = pages(&doc).expect("pages");
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[0].location,
        PageLocation::Direct {
            parent: ObjectId(2, 0),
            index: 0
        }
    );
    assert_eq!(all[0].id(), None);
    assert_eq!(
        all[0].crop_box,
        [0.0, 0.0, 595.0, 842.0],
        "inherited MediaBox"
    );
    assert_eq!(all[1].location, PageLocation::Object(ObjectId(3, 0)));
    let hits = inkseal_pdf::text::find_text(&doc, &all[0], "First page").expect("search");
    assert_eq!(hits.len(), 1);
}

#[test]
fn signatures_on_a_direct_kid_give_it_an_object_and_verify() {
    for (what, placement) in [
        ("visible", on_page(1)),
        ("invisible", Placement::Invisible),
        (
            "keyword",
            Placement::Keyword {
                text: "First page".into(),
                page: None,
                size: [100.0, 40.0],
            },
        ),
    ] {
        let out = signed(&direct_kid_pdf(), "Borrower", placement);
        let r = report(&out);
        assert_eq!(r.signatures.len(), 1, "{what}");
        let s = &r.signatures[0];
        assert_eq!(s.verdict(), Verdict::Valid, "{what}: {s:#?}");
        assert_eq!(s.changes, Some(Changes::None), "{what}");
        if what != "invisible" {
            assert_eq!(s.pages, vec![1], "{what}: the widget is on the first page");
        }
        // The page got an object of its own, naming its parent and showing the widget.
        let Object::Reference(page_id) = first_kid(&out) else {
            panic!("{what}: the direct kid was not given an object");
        };
        let doc = Document::load(&out, &Limits::default()).expect("load");
        let page = doc.dict(&Object::Reference(page_id), "page").expect("page");
        assert_eq!(
            page.get(b"Parent"),
            Some(&Object::Reference(ObjectId(2, 0)))
        );
        assert!(matches!(page.get(b"Annots"), Some(Object::Array(a)) if a.len() == 1));
        assert_eq!(pages(&doc).expect("pages").len(), 2);
    }
}

#[test]
fn a_signature_on_a_direct_kid_after_another_signature_keeps_it_valid() {
    // The first signer signs on the second page (an object of its own): the first page stays
    // a direct kid in the signed revision; the second signs on it.
    let first = signed(&direct_kid_pdf(), "Lender", on_page(2));
    assert!(matches!(first_kid(&first), Object::Dictionary(_)));
    let second = signed(&first, "Borrower", on_page(1));
    assert!(matches!(first_kid(&second), Object::Reference(_)));
    let r = report(&second);
    assert_eq!(r.signatures.len(), 2);
    for s in &r.signatures {
        assert_eq!(s.verdict(), Verdict::Valid, "{s:#?}");
    }
    assert_eq!(r.signatures[0].changes, Some(Changes::SignaturesAndForms));
    assert_eq!(r.signatures[1].pages, vec![1]);
}

/// Appends a revision rewriting the page tree node with its first kid replaced by `kid`
/// (made from the direct page dictionary), plus any objects `more` adds.
fn rewrite_first_kid(
    data: &[u8],
    kid: impl FnOnce(&mut IncrementalUpdate, inkseal_pdf::object::Dictionary) -> Object,
) -> Vec<u8> {
    let doc = Document::load(data, &Limits::default()).expect("load");
    let mut update = IncrementalUpdate::new(&doc);
    let mut node = doc
        .dict(&Object::Reference(ObjectId(2, 0)), "pages")
        .expect("node");
    let Some(Object::Array(mut kids)) = node.get(b"Kids").cloned() else {
        panic!("kids");
    };
    let Object::Dictionary(page) = kids[0].clone() else {
        panic!("a direct kid");
    };
    kids[0] = kid(&mut update, page);
    node.set(b"Kids", Object::Array(kids));
    update.put(ObjectId(2, 0), &Object::Dictionary(node));
    let written = update.write(&doc);
    [data, written.bytes.as_slice()].concat()
}

#[test]
fn other_rewrites_of_a_direct_kid_after_a_signature_are_reported() {
    let first = signed(&direct_kid_pdf(), "Lender", on_page(2));
    // The page given an object of its own, but with other content: a shadow attack.
    let swapped = rewrite_first_kid(&first, |update, mut page| {
        let content = update.allocate();
        update.put(
            content,
            &Object::Stream(inkseal_pdf::object::Stream {
                dict: inkseal_pdf::object::Dictionary::new(),
                data: b"BT /F1 12 Tf 72 720 Td (Other text) Tj ET".to_vec(),
            }),
        );
        page.set(b"Contents", Object::Reference(content));
        let id = update.allocate();
        update.put(id, &Object::Dictionary(page));
        Object::Reference(id)
    });
    let s = &report(&swapped).signatures[0];
    assert_eq!(s.verdict(), Verdict::Invalid);
    match &s.changes {
        Some(Changes::Other(why)) => assert!(
            why.iter().any(|w| w.contains("/Contents changed")),
            "{why:?}"
        ),
        other => panic!("{other:?}"),
    }
    // Rewritten in place with an annotation that is no signature widget.
    let annotated = rewrite_first_kid(&first, |update, mut page| {
        let note = update.allocate();
        update.put(
            note,
            &Object::Dictionary(
                inkseal_pdf::object::Dictionary::new()
                    .with(b"Type", Object::name("Annot"))
                    .with(b"Subtype", Object::name("Text"))
                    .with(b"Contents", Object::string("paid")),
            ),
        );
        page.set(b"Annots", Object::Array(vec![Object::Reference(note)]));
        Object::Dictionary(page)
    });
    let s = &report(&annotated).signatures[0];
    assert!(
        matches!(&s.changes, Some(Changes::Other(why)) if why.iter().any(|w| w.contains("not a signature field"))),
        "{:?}",
        s.changes
    );
    // The same page moved to an object of its own unchanged is harmless.
    let moved = rewrite_first_kid(&first, |update, page| {
        let id = update.allocate();
        update.put(id, &Object::Dictionary(page));
        Object::Reference(id)
    });
    let s = &report(&moved).signatures[0];
    assert_eq!(s.changes, Some(Changes::SignaturesAndForms), "{s:#?}");
}

/// A paging seal puts a widget on every page: the direct kid gets its object, the other page
/// its widget, and the seal verifies as shown on both.
#[test]
fn a_paging_seal_spans_a_direct_kid_and_an_indirect_page() {
    let mut o = SignOptions::new(now());
    o.field_name = Some("Seal".into());
    o.placement = Placement::Invisible;
    o.paging_seal = Some(inkseal_pdf::sign::PagingSeal {
        appearance: inkseal_pdf::appearance::AppearanceSpec::default(),
        size: [80.0, 80.0],
        center_y: None,
    });
    let input = direct_kid_pdf();
    let tail = sign(&input, &o, &signer("Seal")).expect("sign");
    let out = [input.as_slice(), &tail].concat();
    let r = report(&out);
    let s = &r.signatures[0];
    assert_eq!(s.verdict(), Verdict::Valid, "{s:#?}");
    assert_eq!(s.pages, vec![1, 2]);
    assert!(matches!(first_kid(&out), Object::Reference(_)));
}
