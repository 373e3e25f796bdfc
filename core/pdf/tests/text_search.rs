//! Finding where a keyword is drawn: the fixtures (cross-checked with poppler), exact positions
//! in synthetic content streams, and robustness against hostile content.

use inkseal_pdf::filters::deflate;
use inkseal_pdf::pages::{PageRef, pages};
use inkseal_pdf::text::{TextChar, TextHit, find_text, page_text};
use inkseal_pdf::{Document, Limits, PdfError};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures")
        .join(name)
}

fn load(data: &[u8]) -> (Document<'_>, Vec<PageRef>) {
    let doc = Document::load(data, &Limits::default()).expect("loads");
    let pages = pages(&doc).expect("pages");
    (doc, pages)
}

fn hits(doc: &Document<'_>, page: &PageRef, needle: &str) -> Vec<TextHit> {
    find_text(doc, page, needle).expect("content readable")
}

/// The one hit of `needle`, checked to be a plausible box for its characters on the page.
fn single_plausible_hit(doc: &Document<'_>, page: &PageRef, needle: &str) -> TextHit {
    let found = hits(doc, page, needle);
    assert_eq!(found.len(), 1, "{needle} found once: {found:?}");
    let hit = found[0].clone();
    let [x0, y0, x1, y1] = hit.rect;
    let b = page.crop_box;
    assert!(
        x0 >= b[0] && y0 >= b[1] && x1 <= b[2] && y1 <= b[3],
        "{needle} {:?} inside the page {b:?}",
        hit.rect
    );
    let n = needle.chars().count() as f64;
    assert!(
        (6.0..=30.0).contains(&hit.font_size),
        "{needle}: font size {}",
        hit.font_size
    );
    let (w, h) = (x1 - x0, y1 - y0);
    assert!(
        w > 0.7 * n * hit.font_size && w < 1.3 * n * hit.font_size,
        "{needle}: width {w} for {n} characters of {}",
        hit.font_size
    );
    assert!(
        h > 0.5 * hit.font_size && h < 2.0 * hit.font_size,
        "{needle}: height {h}"
    );
    hit
}

const LOAN_KEYWORDS: [&str; 3] = [
    "借款人（签字）：",
    "贷款经办人（签字）：",
    "贷款人（盖章）：",
];

#[test]
fn loan_contract_signature_page_keywords() {
    let data = std::fs::read(fixture("loan-contract-zh.pdf")).expect("fixture");
    let (doc, pages) = load(&data);
    let page = &pages[2];
    let found: Vec<TextHit> = LOAN_KEYWORDS
        .iter()
        .map(|k| single_plausible_hit(&doc, page, k))
        .collect();
    for pair in found.windows(2) {
        assert!(pair[0].rect[1] > pair[1].rect[3], "top to bottom: {pair:?}");
    }
    for hit in &found {
        assert!(
            (hit.rect[0] - found[0].rect[0]).abs() <= 2.0,
            "same left edge: {found:?}"
        );
    }
    // Below the heading.
    let heading = single_plausible_hit(&doc, page, "签署页");
    assert!(heading.rect[1] > found[0].rect[3]);

    // Not on this page, or not at all.
    assert!(hits(&doc, page, "保险人（签章）：").is_empty());
    assert!(hits(&doc, page, "借款人（盖章）：").is_empty());
    assert!(hits(&doc, &pages[0], "贷款经办人（签字）：").is_empty());

    // `借款人` alone: only the borrower's line (`贷款人` shares `款人`, not `借款人`).
    let borrower = hits(&doc, page, "借款人");
    assert_eq!(borrower.len(), 1, "{borrower:?}");
    assert!((borrower[0].rect[0] - found[0].rect[0]).abs() < 0.01);
    assert!((borrower[0].rect[1] - found[0].rect[1]).abs() < 0.01);
    assert!(borrower[0].rect[2] < found[0].rect[2]);
    let kuan_ren = hits(&doc, page, "款人");
    assert_eq!(kuan_ren.len(), 2, "借款人 and 贷款人: {kuan_ren:?}");

    // ASCII punctuation and extra spaces in the needle match the full-width text.
    assert_eq!(hits(&doc, page, "借款人 (签字):"), vec![found[0].clone()]);
}

#[test]
fn e_policy_keywords() {
    let data = std::fs::read(fixture("e-policy-zh.pdf")).expect("fixture");
    let (doc, pages) = load(&data);
    let page = &pages[0];
    let holder = single_plausible_hit(&doc, page, "投保人（签字）：");
    let insurer = single_plausible_hit(&doc, page, "保险人（签章）：");
    assert!(holder.rect[1] > insurer.rect[3], "policy-holder first");
    assert!(hits(&doc, page, "借款人（签字）：").is_empty());
    assert!(
        hits(&doc, page, "投保人").len() > 1,
        "also in the body text"
    );
}

/// `(x0, y_bottom)` of the first word starting with `prefix` in `pdftotext -bbox-layout`
/// output, converted to PDF user space (poppler's y axis points down).
fn poppler_word(html: &str, prefix: &str) -> Option<(f64, f64)> {
    let height: f64 = attr(html.split("<page ").nth(1)?, "height")?;
    let word = html.split("<word ").skip(1).find(|w| {
        w.split_once('>')
            .is_some_and(|(_, t)| t.starts_with(prefix))
    })?;
    Some((attr(word, "xMin")?, height - attr(word, "yMax")?))
}

fn attr(tag: &str, name: &str) -> Option<f64> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    tag[start..].split('"').next()?.parse().ok()
}

#[test]
fn positions_agree_with_poppler() {
    let cases = [
        ("loan-contract-zh.pdf", 3, LOAN_KEYWORDS.as_slice()),
        (
            "e-policy-zh.pdf",
            1,
            ["投保人（签字）：", "保险人（签章）："].as_slice(),
        ),
    ];
    for (name, page_no, keywords) in cases {
        let path = fixture(name);
        let out = tempfile::tempdir().expect("tempdir");
        let html = out.path().join("bbox.html");
        let status = std::process::Command::new("pdftotext")
            .args(["-bbox-layout", "-f", &page_no.to_string(), "-l"])
            .arg(page_no.to_string())
            .arg(&path)
            .arg(&html)
            .status();
        let Ok(status) = status else {
            eprintln!("pdftotext (poppler-utils) is not installed; skipping the cross-check");
            return;
        };
        assert!(status.success(), "pdftotext ran");
        let html = std::fs::read_to_string(&html).expect("pdftotext output");
        let data = std::fs::read(&path).expect("fixture");
        let (doc, pages) = load(&data);
        let chars = page_text(&doc, &pages[page_no - 1]).expect("text");
        for keyword in keywords {
            let (px, py) = poppler_word(&html, keyword).expect("poppler finds the keyword");
            let ours = hits(&doc, &pages[page_no - 1], keyword);
            let [x0, y0, ..] = ours[0].rect;
            // Our first glyph is where the hit starts.
            let first = chars
                .iter()
                .find(|c| (c.rect[0] - x0).abs() < 1e-9 && (c.rect[1] - y0).abs() < 1e-9)
                .expect("first glyph");
            assert_eq!(first.ch, keyword.chars().next().unwrap_or_default());
            assert!(
                (x0 - px).abs() <= 3.0 && (y0 - py).abs() <= 3.0,
                "{name} {keyword}: ours ({x0}, {y0}), poppler ({px}, {py})"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Synthetic PDFs

/// A PDF from object bodies (object n is `bodies[n - 1]`); object 1 must be the catalog.
fn build_pdf(bodies: &[Vec<u8>]) -> Vec<u8> {
    inkseal_pdf::writer::classic_file(bodies, "/Root 1 0 R")
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<<{dict} /Length {}>>\nstream\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

/// Objects 1..=9: catalog, page tree (with the inherited resources), fonts, a form. Pages are
/// added from object 10 on, each followed by its content stream.
fn synthetic_pdf(contents: &[Vec<u8>]) -> Vec<u8> {
    // Helvetica-like widths for 32..=90: 500 except space 278, A 667, V 667.
    let widths: Vec<String> = (32..=90)
        .map(|c| match c {
            32 => "278",
            65 | 86 => "667",
            _ => "500",
        })
        .map(String::from)
        .collect();
    let kids: Vec<String> = (0..contents.len())
        .map(|i| format!("{} 0 R", 10 + 2 * i))
        .collect();
    let mut bodies: Vec<Vec<u8>> = vec![
        b"<</Type /Catalog /Pages 2 0 R>>".to_vec(),
        format!(
            "<</Type /Pages /Kids [{}] /Count {} /MediaBox [0 0 612 792] \
             /Resources <</Font <</F1 3 0 R /F2 4 0 R>> /XObject <</Fm1 8 0 R>>>>>>",
            kids.join(" "),
            contents.len()
        )
        .into_bytes(),
        format!(
            "<</Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 32 /LastChar 90 \
             /Widths [{}] /Encoding /WinAnsiEncoding>>",
            widths.join(" ")
        )
        .into_bytes(),
        b"<</Type /Font /Subtype /Type0 /BaseFont /Song /Encoding /Identity-H \
          /DescendantFonts [5 0 R] /ToUnicode 6 0 R>>"
            .to_vec(),
        b"<</Type /Font /Subtype /CIDFontType2 /BaseFont /Song \
          /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>> \
          /DW 1000 /W [1 [900] 2 3 1000]>>"
            .to_vec(),
        stream(
            "",
            b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
              1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
              1 beginbfchar <0001> <501F> endbfchar\n\
              1 beginbfrange <0002> <0003> [<6B3E> <4EBA>] endbfrange\n\
              endcmap end end",
        ),
        b"null".to_vec(),
        stream(
            "/Type /XObject /Subtype /Form /BBox [0 0 100 100] /Matrix [1 0 0 1 100 100]",
            b"BT /F1 20 Tf 0 0 Td (Z) Tj ET",
        ),
        b"null".to_vec(),
    ];
    for (i, content) in contents.iter().enumerate() {
        bodies.push(
            format!("<</Type /Page /Parent 2 0 R /Contents {} 0 R>>", 11 + 2 * i).into_bytes(),
        );
        bodies.push(stream("", content));
    }
    build_pdf(&bodies)
}

fn assert_rect(c: &TextChar, want: [f64; 4]) {
    for (got, want) in c.rect.iter().zip(want) {
        assert!(
            (got - want).abs() < 1e-6,
            "{:?}: {:?} != {want:?}",
            c.ch,
            c.rect
        );
    }
}

#[test]
fn exact_positions_in_synthetic_content() {
    let data = synthetic_pdf(&[
        // 1: a scaled Tm, TJ kerning.
        b"BT /F1 10 Tf 2 0 0 2 100 200 Tm [(A) 120 (V)] TJ ET".to_vec(),
        // 2: cm, Tc, Tw (applies to the space), Tz, Ts; q/Q restores.
        b"q 1 0 0 1 10 20 cm BT /F1 10 Tf 3 Tc 5 Tw 50 Tz 2 Ts 0 0 Td (A V) Tj ET Q \
          BT /F1 10 Tf 0 0 Td (A) Tj ET"
            .to_vec(),
        // 3: Type0 Identity-H, /W both forms, ToUnicode, rotated 90 degrees.
        b"BT /F2 12 Tf 0 1 -1 0 300 400 Tm <000100020003> Tj ET".to_vec(),
        // 4: a form XObject under a scaled CTM; TL, T*, ', \", TD; an inline image.
        b"q 0.5 0 0 0.5 0 0 cm /Fm1 Do Q \
          BI /W 5 /H 1 /BPC 8 /CS /G ID  EI ( EI \
          BT /F1 10 Tf 14 TL 100 700 Td (B) Tj T* (C) Tj (D) ' 1 2 (E) \" 0 -20 TD (F) Tj ET"
            .to_vec(),
    ]);
    let (doc, pages) = load(&data);
    assert_eq!(pages.len(), 4);

    let chars = page_text(&doc, &pages[0]).expect("page 1");
    assert_eq!(chars.len(), 2);
    // A: 0.667 * 10 * 2 wide; V starts after A's advance (13.34) less the kerning (2.4).
    assert_rect(&chars[0], [100.0, 196.0, 113.34, 216.0]);
    assert_rect(&chars[1], [110.94, 196.0, 124.28, 216.0]);
    assert!((chars[0].font_size - 20.0).abs() < 1e-9);
    let hit = &hits(&doc, &pages[0], "AV")[0];
    assert_eq!(hit.rect, [100.0, 196.0, chars[1].rect[2], 216.0]);
    assert!((hit.font_size - 20.0).abs() < 1e-9);

    let chars = page_text(&doc, &pages[1]).expect("page 2");
    let s: String = chars.iter().map(|c| c.ch).collect();
    assert_eq!(s, "A VA");
    // Th = 0.5: A is 3.335 wide and advances (6.67 + 3) * 0.5; the space (2.78 + 3 + 5) * 0.5.
    assert_rect(&chars[0], [10.0, 20.0, 13.335, 30.0]);
    assert_rect(&chars[1], [14.835, 20.0, 16.225, 30.0]);
    assert_rect(&chars[2], [20.225, 20.0, 23.56, 30.0]);
    // After Q: no cm, no Tz, no rise (text state parameters are part of the graphics state).
    assert_rect(&chars[3], [0.0, -2.0, 6.67, 8.0]);
    assert_eq!(hits(&doc, &pages[1], "AV").len(), 1, "the space is ignored");

    let chars = page_text(&doc, &pages[2]).expect("page 3");
    let s: String = chars.iter().map(|c| c.ch).collect();
    assert_eq!(s, "借款人");
    assert_rect(&chars[0], [290.4, 400.0, 302.4, 410.8]);
    assert_rect(&chars[1], [290.4, 410.8, 302.4, 422.8]);
    assert_rect(&chars[2], [290.4, 422.8, 302.4, 434.8]);
    let hit = &hits(&doc, &pages[2], "借款人")[0];
    for (got, want) in hit.rect.iter().zip([290.4, 400.0, 302.4, 434.8]) {
        assert!((got - want).abs() < 1e-6, "{:?}", hit.rect);
    }
    assert!((hit.font_size - 12.0).abs() < 1e-9);

    let chars = page_text(&doc, &pages[3]).expect("page 4");
    let s: String = chars.iter().map(|c| c.ch).collect();
    assert_eq!(s, "ZBCDEF");
    // The form: Matrix then CTM = [0.5 0 0 0.5 50 50]; Z is 0.5 * 20 * 0.5 wide.
    assert_rect(&chars[0], [50.0, 48.0, 55.0, 58.0]);
    assert!((chars[0].font_size - 10.0).abs() < 1e-9);
    let baselines: Vec<f64> = chars[1..].iter().map(|c| c.rect[1] + 2.0).collect();
    for (got, want) in baselines.iter().zip([700.0, 686.0, 672.0, 658.0, 638.0]) {
        assert!((got - want).abs() < 1e-9, "{baselines:?}");
    }
    assert!(chars[1..].iter().all(|c| (c.rect[0] - 100.0).abs() < 1e-9));
}

#[test]
fn contents_arrays_missing_and_broken_content() {
    let compressed = deflate(b"BT /F1 10 Tf 10 10 Td");
    let mut bodies: Vec<Vec<u8>> = vec![
        b"<</Type /Catalog /Pages 2 0 R>>".to_vec(),
        b"<</Type /Pages /Kids [3 0 R 4 0 R 5 0 R 6 0 R] /Count 4 /MediaBox [0 0 200 200]>>"
            .to_vec(),
        // 3: two streams, the first compressed, joined with a newline.
        b"<</Type /Page /Parent 2 0 R /Contents [7 0 R 8 0 R] \
          /Resources <</Font <</F1 <</Type /Font /Subtype /Type1 /BaseFont /Courier>>>>>>>>"
            .to_vec(),
        // 4: no content.
        b"<</Type /Page /Parent 2 0 R>>".to_vec(),
        // 5: only an undecodable stream.
        b"<</Type /Page /Parent 2 0 R /Contents 9 0 R>>".to_vec(),
        // 6: an undecodable stream and a readable one.
        b"<</Type /Page /Parent 2 0 R /Contents [9 0 R 8 0 R]>>".to_vec(),
    ];
    let mut first = b"<</Filter /FlateDecode".to_vec();
    first.extend_from_slice(format!(" /Length {}>>\nstream\n", compressed.len()).as_bytes());
    first.extend_from_slice(&compressed);
    first.extend_from_slice(b"\nendstream");
    bodies.push(first);
    bodies.push(stream("", b"(Hi) Tj ET"));
    bodies.push(stream("/Filter /LZWDecode", b"\x80\x0b\x60\x50"));
    let data = build_pdf(&bodies);
    let (doc, pages) = load(&data);

    let found = hits(&doc, &pages[0], "Hi");
    assert_eq!(found.len(), 1);
    // Courier without /Widths: 500 per glyph.
    assert_eq!(found[0].rect, [10.0, 8.0, 20.0, 18.0]);
    assert!(hits(&doc, &pages[1], "Hi").is_empty());
    assert!(matches!(
        find_text(&doc, &pages[2], "Hi"),
        Err(PdfError::UnsupportedFilter(_))
    ));
    // Text shown before any Tf still yields characters, nothing panics.
    assert_eq!(hits(&doc, &pages[3], "Hi").len(), 1);
}

#[test]
fn hostile_nesting_and_repetition_stay_bounded() {
    let mut content = Vec::new();
    content.extend_from_slice(&b"q ".repeat(100_000));
    content.extend_from_slice(&b"Q ".repeat(200_000));
    content.extend_from_slice(&b"[".repeat(10_000));
    content.extend_from_slice(b" BT /F1 10 Tf (ok) Tj ET ");
    content.extend_from_slice(&b"/Fm1 Do ".repeat(20_000));
    let data = synthetic_pdf(&[content]);
    let (doc, pages) = load(&data);
    let chars = page_text(&doc, &pages[0]).expect("text");
    assert!(chars.len() >= 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_as_content_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let data = synthetic_pdf(&[bytes]);
        let (doc, pages) = load(&data);
        let _ = page_text(&doc, &pages[0]);
        let _ = find_text(&doc, &pages[0], "借款人");
    }

    #[test]
    fn operator_soup_never_panics(tokens in proptest::collection::vec(prop::sample::select(vec![
        "q", "Q", "cm", "BT", "ET", "Tf", "Tj", "TJ", "'", "\"", "Td", "TD", "Tm", "T*", "TL",
        "Tc", "Tw", "Tz", "Ts", "Do", "BI", "ID", "EI", "/F1", "/F2", "/Fm1", "/Nope", "0", "1",
        "-3.5", "1e308", "99999999999999999999", "12", "(AV)", "<0001>", "<00010002>", "[", "]",
        "<<", ">>", "(", ")", "-", ".", "%", "\n", "R", "1 0 R",
    ]), 0..200)) {
        let content = tokens.join(" ").into_bytes();
        let data = synthetic_pdf(&[content]);
        let (doc, pages) = load(&data);
        if let Ok(chars) = page_text(&doc, &pages[0]) {
            for c in &chars {
                prop_assert!(c.rect.iter().all(|v| v.is_finite()));
                prop_assert!(c.rect[0] <= c.rect[2] && c.rect[1] <= c.rect[3]);
            }
        }
        let _ = find_text(&doc, &pages[0], "AV");
    }
}

#[test]
fn the_corpus_does_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no corpus at {}", dir.display());
        return;
    };
    let mut files = Vec::new();
    let mut dirs = vec![entries];
    while let Some(entries) = dirs.pop() {
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                if let Ok(sub) = std::fs::read_dir(&p) {
                    dirs.push(sub);
                }
            } else if p.extension().is_some_and(|e| e == "pdf") {
                files.push(p);
            }
        }
    }
    let (mut pages_read, mut chars_read) = (0usize, 0usize);
    for f in &files {
        let data = std::fs::read(f).expect("read");
        let Ok(doc) = Document::load(&data, &Limits::default()) else {
            continue;
        };
        let Ok(all) = pages(&doc) else {
            continue;
        };
        for page in all.iter().take(3) {
            if let Ok(chars) = page_text(&doc, page) {
                pages_read += 1;
                chars_read += chars.len();
            }
        }
    }
    eprintln!("corpus: {pages_read} pages, {chars_read} characters");
    assert!(pages_read > 0);
}
