//! Loading PDFs written by others: the fixtures load, nothing in the corpus panics.

use inkseal_pdf::pages::pages;
use inkseal_pdf::{Document, Limits, PdfError};
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn pdfs_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read corpus dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            pdfs_under(&p, out);
        } else if p.extension().is_some_and(|e| e == "pdf") {
            out.push(p);
        }
    }
}

#[test]
fn fixtures_load_with_their_pages() {
    for (name, count) in [("loan-contract-zh.pdf", 3), ("e-policy-zh.pdf", 1)] {
        let data = std::fs::read(shared().join("fixtures").join(name)).expect("fixture");
        let doc = Document::load(&data, &Limits::default()).expect("loads");
        let pages = pages(&doc).expect("pages");
        assert_eq!(pages.len(), count, "{name}");
        assert!(pages[0].crop_box[2] > 500.0, "{name}: A4-ish width");
    }
}

#[test]
fn the_corpus_loads_or_fails_with_a_typed_error() {
    let mut files = Vec::new();
    pdfs_under(&shared().join("corpus"), &mut files);
    assert!(files.len() >= 100, "corpus present: {}", files.len());
    let (mut loaded, mut encrypted, mut rejected) = (0, 0, 0);
    for f in &files {
        let data = std::fs::read(f).expect("read");
        match Document::load(&data, &Limits::default()).and_then(|d| pages(&d).map(|p| p.len())) {
            Ok(_) => loaded += 1,
            Err(
                PdfError::PasswordRequired
                | PdfError::UnsupportedEncryption(_)
                | PdfError::BadEncryption(_),
            ) => encrypted += 1,
            Err(e) => {
                eprintln!(
                    "rejected {}: {e}",
                    f.file_name().unwrap_or_default().to_string_lossy()
                );
                rejected += 1
            }
        }
        let name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.contains("pubkey") {
            // The public-key security handler is not implemented: it says so.
            assert!(
                matches!(
                    Document::load(&data, &Limits::default()),
                    Err(PdfError::UnsupportedEncryption(_))
                ),
                "{name} is reported as using an unsupported handler"
            );
        } else if name.contains("aes256") || name.contains("rc4") {
            // pyHanko's encrypted test files have the user password "usersecret" (or a broken
            // encryption dictionary): never loaded as if they were plain.
            let result = Document::load(&data, &Limits::default());
            assert!(
                matches!(
                    result,
                    Err(PdfError::PasswordRequired | PdfError::BadEncryption(_))
                ),
                "{name} needs a password: {result:?}"
            );
        }
    }
    eprintln!("corpus: {loaded} loaded, {encrypted} encrypted, {rejected} rejected");
    assert!(
        loaded > files.len() / 2,
        "most of the corpus loads ({loaded}/{})",
        files.len()
    );
    assert!(encrypted > 0, "encrypted files are recognised");
}
