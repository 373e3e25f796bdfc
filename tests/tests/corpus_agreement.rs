//! inkseal and pyHanko over every signed PDF of `../shared/corpus` (files nobody on the team
//! wrote): per signature, both must say the same about whether it is intact (digest and
//! signature) and how far the later revisions go, in pyHanko's named levels (nothing; long-term
//! maintenance only: DSS, document time-stamps; form filling and signing; anything else). Where they differ on purpose the case is listed in
//! [`EXCEPTIONS`] with the reason (and in ARCHITECTURE.md); the test fails when a listed case
//! starts agreeing too, so the list stays true.

use inkseal_pdf::changes::ModificationLevel;
use inkseal_pdf::verify::{Coverage, Verdict, VerifyOptions, verify};
use inkseal_tests::validators::{Modifications, pyhanko_validate_with_roots};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// (file relative to the corpus, field, what differs, why). Kept in step with
/// ARCHITECTURE.md ("Where inkseal and pyHanko judge differently").
const EXCEPTIONS: &[(&str, &str, &str, &str)] = &[
    (
        "pyhanko-test-pdfs/coverage-anomalies/one-byterange.pdf",
        "Sig1",
        "intact: inkseal false, pyHanko true",
        "a /ByteRange of one range is not the two ranges around /Contents ISO 32000 requires; \
         inkseal refuses it unread (universal signature forgery), pyHanko digests it",
    ),
    (
        "pyhanko-test-pdfs/coverage-anomalies/one-byterange.pdf",
        "Sig1",
        "changes: inkseal unknown, pyHanko other",
        "the same file: refused before the change analysis",
    ),
    (
        "pyhanko-test-pdfs/ed448-disallowed-hash.pdf",
        "Sig1",
        "intact: inkseal false, pyHanko true",
        "Ed448 has no maintained RustCrypto verifier: CANNOT CHECK, never valid",
    ),
    (
        "pyhanko-test-pdfs/ed448-shake256-nolen.pdf",
        "Sig1",
        "intact: inkseal false, pyHanko true",
        "Ed448 with SHAKE256: CANNOT CHECK, never valid",
    ),
    (
        "pyhanko-test-pdfs/sig-no-signed-attrs.pdf",
        "Sig1",
        "intact: inkseal false, pyHanko true",
        "PAdES (ETSI EN 319 142-1) requires signed attributes (signing-certificate-v2 binds the \
         signer); inkseal refuses a SignerInfo without them, pyHanko checks the bare signature",
    ),
    (
        "pyhanko-test-pdfs/form-update-ap-indirect-sneaky-trailer.pdf",
        "Sig1",
        "changes: inkseal form filling, pyHanko other",
        "the signed field's old /AP object, also hung under a private trailer key, is left as \
         it was and the field gets a new /AP: nothing else changes; pyHanko refuses any \
         update that touches a path to a shared object",
    ),
    (
        "pyhanko-test-pdfs/form-update-no-override-appearance-stream-ap-indirect-sneaky.pdf",
        "Sig1",
        "changes: inkseal form filling, pyHanko other",
        "as above, the shared /AP object hung under a private catalog key",
    ),
    (
        "pyhanko-test-pdfs/form-update-override-appearance-stream-ap-indirect.pdf",
        "Sig1",
        "changes: inkseal other, pyHanko form filling",
        "an existing appearance stream rewritten in place: pyHanko allows it when only the \
         filled field uses it; inkseal does not count references and reports every rewritten \
         stream (stricter)",
    ),
    (
        "pyhanko-test-pdfs/form-update-override-appearance-stream.pdf",
        "Sig1",
        "changes: inkseal other, pyHanko form filling",
        "as above",
    ),
    (
        "pyhanko-test-pdfs/separate-annots-kids-indir.pdf",
        "Sig1",
        "changes: inkseal other, pyHanko form filling",
        "the added widget has no /Parent (ISO 32000 requires it of a field's kids) and is \
         named only by the new field's indirect /Kids array; inkseal does not guess whose it is",
    ),
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

fn pdfs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            pdfs(&path, out);
        } else if path.extension().is_some_and(|e| e == "pdf") {
            out.push(path);
        }
    }
}

/// The modification level in the words both sides share (pyHanko's `ModificationLevel`).
fn level_of_ours(level: Option<ModificationLevel>) -> &'static str {
    match level {
        None => "unknown",
        Some(ModificationLevel::None) => "untouched",
        Some(ModificationLevel::LtaUpdates) => "lta updates",
        Some(ModificationLevel::FormFilling) => "form filling",
        Some(ModificationLevel::Other) => "other",
    }
}

fn level_of_pyhanko(modifications: &Option<Modifications>) -> &'static str {
    match modifications {
        None => "unknown",
        Some(Modifications::Untouched) => "untouched",
        Some(Modifications::LtaUpdates) => "lta updates",
        Some(Modifications::FormFilling) => "form filling",
        Some(Modifications::Other(_)) => "other",
    }
}

/// Compare inkseal's and pyHanko's verdicts on every signature of `file` (named `rel` in the
/// findings): how many were compared, and the disagreements as (file, field, what).
fn compare(
    file: &Path,
    rel: &str,
    disagreements: &mut BTreeSet<(String, String, String)>,
) -> usize {
    let data = std::fs::read(file).expect("read");
    let Ok(ours) = verify(&data, &VerifyOptions::default()) else {
        return 0;
    };
    if ours.signatures.is_empty() {
        return 0;
    }
    let theirs = pyhanko_validate_with_roots(file, &[]);
    let mut compared = 0;
    // `pyhanko sign validate` reports signatures; document time-stamps are compared with
    // pyHanko's long-term validation in pades_lta.rs.
    for s in ours.signatures.iter().filter(|s| !s.document_time_stamp) {
        let both_refuse = theirs.signatures.is_empty()
            && theirs.exit_code != 0
            && s.verdict() == Verdict::Invalid;
        if both_refuse {
            continue;
        }
        let Some(t) = theirs.signatures.iter().find(|t| t.field == s.field) else {
            disagreements.insert((
                rel.to_owned(),
                s.field.clone(),
                "not listed by pyHanko".into(),
            ));
            continue;
        };
        compared += 1;
        let intact = s.digest_valid && s.signature_valid;
        if t.error.is_none() && intact != t.sound {
            disagreements.insert((
                rel.to_owned(),
                s.field.clone(),
                format!("intact: inkseal {intact}, pyHanko {}", t.sound),
            ));
        }
        // A signature that does not end at a revision boundary leaves bytes uncovered:
        // pyHanko calls that a modification of its own.
        let a = if s.coverage == Some(Coverage::Partial) {
            "other"
        } else {
            level_of_ours(s.modification_level)
        };
        let b = level_of_pyhanko(&t.modifications);
        if t.error.is_none() && b != "unknown" && a != b {
            disagreements.insert((
                rel.to_owned(),
                s.field.clone(),
                format!("changes: inkseal {a}, pyHanko {b}"),
            ));
        }
    }
    compared
}

#[test]
fn inkseal_and_pyhanko_agree_on_every_signed_pdf_of_the_corpus() {
    let root = corpus();
    let mut files = Vec::new();
    pdfs(&root, &mut files);
    let mut compared = 0;
    let mut disagreements = BTreeSet::new();
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .expect("under the corpus")
            .display()
            .to_string();
        compared += compare(file, &rel, &mut disagreements);
    }
    assert!(compared >= 30, "only {compared} signatures compared");
    let expected: BTreeSet<(String, String, String)> = EXCEPTIONS
        .iter()
        .map(|(f, field, what, _)| ((*f).to_owned(), (*field).to_owned(), (*what).to_owned()))
        .collect();
    assert_eq!(
        disagreements, expected,
        "inkseal and pyHanko disagree (or a listed case now agrees): {compared} signatures compared"
    );
}

/// The same comparison over what inkseal itself writes in this run: one signature; a second
/// after it; a certification with pre-created fields, then each party filling its own; an
/// inkseal signature after a pyHanko one; a visible signature added after an approval. No
/// exceptions: inkseal and pyHanko must agree on every signature.
#[test]
fn inkseal_and_pyhanko_agree_on_what_inkseal_signs() {
    use inkseal_pdf::sign::{Certification, EmptyField, Placement, SignOptions, sign_file};
    use inkseal_pdf::signer::LocalSigner;
    use inkseal_tests::fixture;
    use inkseal_tests::validators::{openssl_p256_pki, pyhanko_sign};

    let dir = tempfile::tempdir().expect("tempdir");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let signer = |name: &str| {
        let pki = openssl_p256_pki(dir.path(), name);
        (
            LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer"),
            pki,
        )
    };
    let visible = |field: &str, y: f64| {
        let mut o = SignOptions::new(now);
        o.field_name = Some(field.into());
        o.placement = Placement::Rect {
            page: 1,
            rect: [300.0, y, 160.0, 60.0],
        };
        o
    };
    let contract = fixture("loan-contract-zh.pdf");
    let (lender, lender_pki) = signer("lender");
    let (borrower, _) = signer("borrower");
    let mut outputs = Vec::new();

    let one = dir.path().join("one.pdf");
    sign_file(&contract, &one, &visible("Lender", 100.0), &lender).expect("one");
    outputs.push(one.clone());
    let two = dir.path().join("two.pdf");
    sign_file(&one, &two, &visible("Borrower", 200.0), &borrower).expect("two");
    outputs.push(two);

    let mut certify = visible("Lender", 100.0);
    certify.certify = Some(Certification::FormFillingAndSigning);
    certify.empty_fields = vec![EmptyField {
        name: "Borrower".into(),
        page: 1,
        rect: [300.0, 200.0, 160.0, 60.0],
    }];
    let certified = dir.path().join("certified.pdf");
    sign_file(&contract, &certified, &certify, &lender).expect("certify");
    outputs.push(certified.clone());
    let mut fill = SignOptions::new(now);
    fill.placement = Placement::Field("Borrower".into());
    let filled = dir.path().join("certified-filled.pdf");
    sign_file(&certified, &filled, &fill, &borrower).expect("fill");
    outputs.push(filled);

    let theirs_first = dir.path().join("pyhanko-first.pdf");
    pyhanko_sign(
        &contract,
        &theirs_first,
        &lender_pki.signer_key,
        &lender_pki.signer_pem,
        "Counterparty",
    );
    let ours_after = dir.path().join("pyhanko-then-inkseal.pdf");
    sign_file(
        &theirs_first,
        &ours_after,
        &visible("Borrower", 200.0),
        &borrower,
    )
    .expect("after pyHanko");
    outputs.push(ours_after);

    let mut compared = 0;
    let mut disagreements = BTreeSet::new();
    for file in &outputs {
        let rel = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        compared += compare(file, &rel, &mut disagreements);
    }
    assert_eq!(
        compared, 8,
        "the eight signatures of the five files compared"
    );
    assert!(
        disagreements.is_empty(),
        "inkseal and pyHanko disagree on inkseal's own outputs: {disagreements:#?}"
    );
}
