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
        let data = std::fs::read(file).expect("read");
        let Ok(ours) = verify(&data, &VerifyOptions::default()) else {
            continue;
        };
        if ours.signatures.is_empty() {
            continue;
        }
        let theirs = pyhanko_validate_with_roots(file, &[]);
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
                    rel.clone(),
                    s.field.clone(),
                    "not listed by pyHanko".into(),
                ));
                continue;
            };
            compared += 1;
            let intact = s.digest_valid && s.signature_valid;
            if t.error.is_none() && intact != t.sound {
                disagreements.insert((
                    rel.clone(),
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
                    rel.clone(),
                    s.field.clone(),
                    format!("changes: inkseal {a}, pyHanko {b}"),
                ));
            }
        }
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
