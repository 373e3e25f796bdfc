//! PDF signing options and verification.

use crate::errors::{HookError, InksealError};
use crate::ink::SealedInk;
use inkseal_pdf::outline::{self, OutlineError, TextOutliner};
use inkseal_pdf::sign::{Placement, SignOptions};
use inkseal_pdf::verify::{Coverage, SignatureReport, VerifyOptions, verify};
use std::sync::Arc;

/// Where the signature goes on the page.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum SignaturePlacement {
    /// No visible widget.
    Invisible,
    /// A rectangle on a page, in PDF points (1/72 inch) from the page's bottom-left corner.
    Rect {
        /// 1-based page number.
        page: u32,
        /// Left edge.
        x: f64,
        /// Bottom edge.
        y: f64,
        /// Width.
        width: f64,
        /// Height.
        height: f64,
    },
    /// Right after the first occurrence of `text` (e.g. `借款人（签字）：`), vertically centred
    /// on its line; `page` limits the search to one page.
    Keyword {
        /// The text to find (whitespace and full-width/ASCII punctuation differences ignored).
        text: String,
        /// Only this 1-based page, or every page in order.
        page: Option<u32>,
        /// Width of the signature box in points.
        width: f64,
        /// Height of the signature box in points.
        height: f64,
    },
    /// An existing, unsigned signature field of the document, by its full name.
    Field {
        /// The field's fully qualified name.
        name: String,
    },
}

impl From<SignaturePlacement> for Placement {
    fn from(p: SignaturePlacement) -> Self {
        match p {
            SignaturePlacement::Invisible => Placement::Invisible,
            SignaturePlacement::Rect {
                page,
                x,
                y,
                width,
                height,
            } => Placement::Rect {
                page,
                rect: [x, y, width, height],
            },
            SignaturePlacement::Keyword {
                text,
                page,
                width,
                height,
            } => Placement::Keyword {
                text,
                page,
                size: [width, height],
            },
            SignaturePlacement::Field { name } => Placement::Field(name),
        }
    }
}

/// One piece of a text outline, in ems (1.0 = the font size), the origin on the baseline where
/// the text starts, **y pointing up** (Android's `Path` and Java's AWT point down: negate y).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Enum)]
pub enum OutlineSegment {
    /// Start a new contour.
    MoveTo {
        /// x in ems.
        x: f64,
        /// y in ems, up.
        y: f64,
    },
    /// A straight line.
    LineTo {
        /// x in ems.
        x: f64,
        /// y in ems, up.
        y: f64,
    },
    /// A quadratic Bézier through a control point.
    QuadTo {
        /// Control point x.
        x1: f64,
        /// Control point y.
        y1: f64,
        /// End x.
        x: f64,
        /// End y.
        y: f64,
    },
    /// A cubic Bézier through two control points.
    CubicTo {
        /// First control point x.
        x1: f64,
        /// First control point y.
        y1: f64,
        /// Second control point x.
        x2: f64,
        /// Second control point y.
        y2: f64,
        /// End x.
        x: f64,
        /// End y.
        y: f64,
    },
    /// Close the contour.
    Close,
}

/// A line of text as filled contours (nonzero winding) and its advance width, in ems.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TextOutline {
    /// The advance width of the whole line, in ems.
    pub advance: f64,
    /// The contours.
    pub segments: Vec<OutlineSegment>,
}

/// The app's font engine, which draws the label under a handwritten signature (signer name,
/// date) as outlines: Android `Paint.getTextPath`, iOS `CTFontCreatePathForGlyph`, the JVM's
/// `Font.createGlyphVector(...).getOutline()`. The PDF then holds paths, not text in a font
/// the reader may lack, so every viewer shows the same label (and the file can be PDF/A).
/// Called on the signing thread; the library checks what it returns (finite, bounded, at
/// most 100,000 segments).
#[uniffi::export(with_foreign)]
pub trait LabelFont: Send + Sync {
    /// `text` set as one line, or `null` when the font cannot draw all of it.
    fn outline(&self, text: String) -> Result<Option<TextOutline>, HookError>;
}

/// The app's [`LabelFont`] as the core's outliner.
struct ForeignLabelFont(Arc<dyn LabelFont>);

impl std::fmt::Debug for ForeignLabelFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LabelFont(app)")
    }
}

impl TextOutliner for ForeignLabelFont {
    fn outline(&self, text: &str) -> Result<outline::TextOutline, OutlineError> {
        let drawn = self
            .0
            .outline(text.to_owned())
            .map_err(|e| OutlineError::Invalid(format!("the app's label font failed: {e}")))?
            .ok_or_else(|| OutlineError::Unsupported(text.to_owned()))?;
        if drawn.segments.len() > outline::MAX_OUTLINE_SEGMENTS {
            return Err(OutlineError::Invalid(format!(
                "{} segments, more than {}",
                drawn.segments.len(),
                outline::MAX_OUTLINE_SEGMENTS
            )));
        }
        let segments = drawn
            .segments
            .iter()
            .map(|s| match *s {
                OutlineSegment::MoveTo { x, y } => outline::OutlineSegment::MoveTo([x, y]),
                OutlineSegment::LineTo { x, y } => outline::OutlineSegment::LineTo([x, y]),
                OutlineSegment::QuadTo { x1, y1, x, y } => {
                    outline::OutlineSegment::QuadTo([x1, y1], [x, y])
                }
                OutlineSegment::CubicTo {
                    x1,
                    y1,
                    x2,
                    y2,
                    x,
                    y,
                } => outline::OutlineSegment::CubicTo([x1, y1], [x2, y2], [x, y]),
                OutlineSegment::Close => outline::OutlineSegment::Close,
            })
            .collect();
        outline::TextOutline::new(drawn.advance, segments)
    }
}

/// How to sign a PDF.
#[derive(Clone, uniffi::Record)]
pub struct PdfSignOptions {
    /// Name of the new signature field (default `Signature1`, `Signature2`...).
    #[uniffi(default = None)]
    pub field_name: Option<String>,
    /// Where the signature goes.
    pub placement: SignaturePlacement,
    /// `/Reason`, e.g. "借款合同签署".
    #[uniffi(default = None)]
    pub reason: Option<String>,
    /// `/Location`.
    #[uniffi(default = None)]
    pub location: Option<String>,
    /// Lines of text under the ink in the widget (signer name, date...); drawn by
    /// `label_font`, which a visible signature with a label needs.
    #[uniffi(default)]
    pub label_lines: Vec<String>,
    /// The app's font engine that draws `label_lines` as outlines.
    #[uniffi(default = None)]
    pub label_font: Option<Arc<dyn LabelFont>>,
    /// The handwritten signature to draw and to bind into the signature (from
    /// `Handwriting.sealForInstitution`).
    #[uniffi(default = None)]
    pub handwriting: Option<Arc<SealedInk>>,
    /// The head of fresh identity evidence (`EvidenceInfo.headHex`), required by keys whose
    /// policy demands a passed liveness check for every signature.
    #[uniffi(default = None)]
    pub evidence_head_hex: Option<String>,
    /// The PAdES baseline level: how much proof of time and validity goes into the file
    /// (`null`: [`PadesLevel::Basic`]).
    #[uniffi(default = None)]
    pub level: Option<PadesLevel>,
}

/// PAdES baseline levels (ETSI EN 319 142-1) a co-signed PDF can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum PadesLevel {
    /// B-B: the signature; its time is only the device's claim.
    #[default]
    Basic,
    /// B-T: plus a signature time-stamp from the server's time-stamping authority (one more
    /// round trip), so the signing time is the authority's.
    TimeStamped,
    /// B-LT: plus the certificates and the server's OCSP responses for the signer and the
    /// authority in the document's DSS (fetched in the time-stamp's round trip), so the
    /// signature can be validated offline after the certificates expire.
    LongTerm,
    /// B-LTA: plus a document time-stamp over it all (one more round trip: two after the
    /// co-signature in all), so the validation data is itself dated and protected.
    LongTermArchive,
}

impl std::fmt::Debug for PdfSignOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfSignOptions")
            .field("field_name", &self.field_name)
            .field("placement", &self.placement)
            .field("reason", &self.reason)
            .field("location", &self.location)
            .field("label_lines", &self.label_lines)
            .field("label_font", &self.label_font.as_ref().map(|_| "app"))
            .field("handwriting", &self.handwriting)
            .field("evidence_head_hex", &self.evidence_head_hex)
            .field("level", &self.level)
            .finish()
    }
}

impl PdfSignOptions {
    /// The level asked for (B-B when none).
    pub(crate) fn level(&self) -> PadesLevel {
        self.level.unwrap_or_default()
    }

    /// The core's options, signed at `signing_time` (Unix seconds).
    pub(crate) fn to_sign_options(&self, signing_time: u64) -> SignOptions {
        let mut options = SignOptions::new(signing_time);
        options.field_name = self.field_name.clone();
        options.placement = self.placement.clone().into();
        options.reason = self.reason.clone();
        options.location = self.location.clone();
        options.appearance.label = self.label_lines.clone();
        options.appearance.label_font = self
            .label_font
            .clone()
            .map(|f| Arc::new(ForeignLabelFont(f)) as Arc<dyn TextOutliner>);
        options.time_stamped = self.level() != PadesLevel::Basic;
        if let Some(ink) = &self.handwriting {
            ink.inner.apply_to(&mut options);
        }
        options
    }
}

/// The verdict on one signature of a PDF.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SignatureVerification {
    /// The signature field's name.
    pub field: String,
    /// The signer certificate's subject, when it could be read.
    pub signer: Option<String>,
    /// The claimed signing time (`/M`), as written in the PDF.
    pub signing_time: Option<String>,
    /// Signature algorithm: `Sm2Sm3` or `EcdsaP256Sha256` for inkseal's own suites, else a name
    /// such as `RSA-2048 PKCS#1 v1.5 SHA-256`, `RSA-3072 PSS SHA-512`, `ECDSA-P384-SHA384` or
    /// `Ed25519`.
    pub algorithm: Option<String>,
    /// Digest and signature verify, the chain reaches a trust anchor (when anchors were
    /// given), only allowed changes follow, and no problem was found.
    pub valid: bool,
    /// The signature covers the whole file (nothing was appended after it).
    pub covers_whole_document: bool,
    /// Whether the chain reaches one of the trust anchors (`null` when none were given).
    pub trusted: Option<bool>,
    /// Whether an embedded handwriting record is bound to this signature and document
    /// (`null` when the signature carries none).
    pub ink_binding: Option<bool>,
    /// The signature time-stamp (PAdES B-T), when the signature carries one; for a document
    /// time-stamp, its token.
    pub time_stamp: Option<TimeStampVerification>,
    /// This entry is a document time-stamp (PAdES B-LTA), not a signature: `signer` is the
    /// time-stamping authority.
    pub document_time_stamp: bool,
    /// The signature uses an algorithm this library cannot check (RSA, ECDSA P-384,
    /// Ed25519, a SHA-384 digest...), named here. `valid` is then false although nothing was
    /// found wrong when `problems` is empty: check the signature with a validator that
    /// supports the algorithm rather than calling it forged.
    pub cannot_check: Option<String>,
    /// The signature uses a weak algorithm (SHA-1, an RSA key under 2048 bits), named here:
    /// `valid` is false whatever its maths says (it is also among the `problems`).
    pub weak_algorithm: Option<String>,
    /// What the operator should do about this signature, in words; the most serious finding
    /// decides (`null` when it is valid and its signer was checked against trust anchors).
    pub advice: Option<String>,
    /// How far the revisions after this signature go, in the levels pyHanko names (`null`
    /// when the changes could not be analysed).
    pub modification_level: Option<ModificationLevel>,
    /// The change that decided [`SignatureVerification::modification_level`], with its object
    /// (e.g. "object 12: signature field 'Borrower' signed"); `null` when nothing follows.
    pub level_decided_by: Option<String>,
    /// Every problem found, in words.
    pub problems: Vec<String>,
}

/// A signature time-stamp as verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TimeStampVerification {
    /// The time the time-stamping authority vouches for, milliseconds since the Unix epoch:
    /// the trusted signing time (`/M` is only the device's claim).
    pub time_unix_millis: u64,
    /// The time-stamping authority's certificate subject.
    pub tsa: String,
    /// The token verifies and covers this signature.
    pub valid: bool,
    /// The authority chains to a trust anchor (`null` when none was given).
    pub trusted: Option<bool>,
}

impl From<&SignatureReport> for SignatureVerification {
    fn from(r: &SignatureReport) -> Self {
        SignatureVerification {
            field: r.field.clone(),
            signer: r.signer.clone(),
            signing_time: r.signing_time.clone(),
            algorithm: r.algorithm.clone(),
            valid: r.is_ok(),
            covers_whole_document: r.coverage == Some(Coverage::WholeFile),
            trusted: r.trusted,
            ink_binding: r.ink_binding,
            document_time_stamp: r.document_time_stamp,
            time_stamp: r.time_stamp.as_ref().map(|t| TimeStampVerification {
                time_unix_millis: t.time_unix_millis,
                tsa: t.tsa.clone(),
                valid: t.valid,
                trusted: t.trusted,
            }),
            cannot_check: r.cannot_check.clone(),
            weak_algorithm: r.weak_algorithm.clone(),
            advice: r.advice().map(str::to_owned),
            modification_level: r.modification_level.map(ModificationLevel::from),
            level_decided_by: r.level_decided_by.clone(),
            problems: r.problems.clone(),
        }
    }
}

/// How far the revisions after a signature go (the levels established validators name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ModificationLevel {
    /// Nothing follows: the signature covers the whole file.
    None,
    /// Only long-term validation data: the document security store, document time-stamps,
    /// metadata.
    LtaUpdates,
    /// Besides, form fields filled and signatures added.
    FormFilling,
    /// Anything else: content, pages or annotations changed after the signature.
    Other,
}

impl From<inkseal_pdf::changes::ModificationLevel> for ModificationLevel {
    fn from(level: inkseal_pdf::changes::ModificationLevel) -> Self {
        use inkseal_pdf::changes::ModificationLevel as L;
        match level {
            L::None => ModificationLevel::None,
            L::LtaUpdates => ModificationLevel::LtaUpdates,
            L::FormFilling => ModificationLevel::FormFilling,
            L::Other => ModificationLevel::Other,
        }
    }
}

/// The verdict on a PDF.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PdfVerification {
    /// One entry per signed signature field, oldest first.
    pub signatures: Vec<SignatureVerification>,
    /// Number of revisions in the file.
    pub revisions: u32,
    /// At least one signature, and every signature valid.
    pub all_valid: bool,
}

/// Largest PDF read for verification.
const MAX_PDF: u64 = 1 << 30;

pub(crate) fn read_pdf(path: &str) -> Result<Vec<u8>, InksealError> {
    let unreadable = |e: std::io::Error| InksealError::InvalidInput {
        detail: format!("{path}: {e}"),
    };
    let len = std::fs::metadata(path).map_err(unreadable)?.len();
    if len > MAX_PDF {
        return Err(InksealError::BadDocument {
            detail: format!("{path} is larger than {MAX_PDF} bytes"),
        });
    }
    std::fs::read(path).map_err(unreadable)
}

pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Verifies every signature of the PDF at `path`: coverage, digest, signature, certificate
/// chain (against `trust_anchor_pems`, PEM certificates; chains are not judged when empty, and
/// validity periods are checked at the current time), what changed afterwards, and the bound
/// handwriting. Reads the whole file: call it off the main thread.
#[uniffi::export]
pub fn verify_pdf(
    path: String,
    trust_anchor_pems: Vec<String>,
) -> Result<PdfVerification, InksealError> {
    let trust_anchors = trust_anchor_pems
        .iter()
        .map(|pem| {
            inkseal_pki::pem_to_der(pem)
                .map(|(_, der)| der)
                .map_err(|e| InksealError::InvalidInput {
                    detail: format!("trust anchor: {e}"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let data = read_pdf(&path)?;
    let options = VerifyOptions {
        trust_anchors,
        at_unix: Some(now_unix()),
        ..VerifyOptions::default()
    };
    let report = verify(&data, &options).map_err(|e| InksealError::BadDocument {
        detail: e.to_string(),
    })?;
    Ok(PdfVerification {
        signatures: report
            .signatures
            .iter()
            .map(SignatureVerification::from)
            .collect(),
        revisions: u32::try_from(report.revisions).unwrap_or(u32::MAX),
        all_valid: report.all_ok(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An Ed448-signed PDF (pyHanko's test file): the app is told the algorithm cannot be
    /// checked here, with no problem found, rather than a bare "not valid".
    #[test]
    fn signatures_this_library_cannot_check_say_so() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/corpus/pyhanko-test-pdfs/ed448-disallowed-hash.pdf");
        let report = verify_pdf(corpus.display().to_string(), vec![]).expect("verifies");
        assert_eq!(report.signatures.len(), 1);
        for s in &report.signatures {
            assert!(!s.valid);
            assert!(s.problems.is_empty(), "{s:?}");
            assert!(
                s.cannot_check
                    .as_deref()
                    .is_some_and(|w| w.contains("Ed448")),
                "{s:?}"
            );
        }
    }

    /// Signs `input` into `output` with pyHanko (P-256 key and certificate made by openssl in
    /// `dir`), hashing with `md`: a signature another signer made, as a phone receives it.
    fn pyhanko_signed(dir: &std::path::Path, md: &str) -> std::path::PathBuf {
        use std::process::Command;
        let (key, cert) = (dir.join("signer.key"), dir.join("signer.pem"));
        if !key.exists() {
            let out = Command::new("openssl")
                .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
                .args(["ec_paramgen_curve:P-256", "-nodes", "-days", "30"])
                .args(["-subj", "/CN=Counterparty/O=inkseal test", "-keyout"])
                .arg(&key)
                .arg("-out")
                .arg(&cert)
                .output()
                .expect("openssl runs (scripts/install-validators.sh)");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let input = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/loan-contract-zh.pdf"
        );
        let output = dir.join(format!("signed-{md}.pdf"));
        let script = "import sys\n\
            from pyhanko.sign import signers\n\
            from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter\n\
            inp, out, key, cert, md = sys.argv[1:6]\n\
            signer = signers.SimpleSigner.load(key, cert, key_passphrase=None)\n\
            meta = signers.PdfSignatureMetadata(field_name='Sig1', md_algorithm=md)\n\
            with open(inp, 'rb') as f, open(out, 'wb') as o:\n\
            \x20   signers.sign_pdf(IncrementalPdfFileWriter(f), meta, signer=signer, output=o)\n";
        let out = Command::new("python3")
            .args(["-c", script, input])
            .arg(&output)
            .arg(&key)
            .arg(&cert)
            .arg(md)
            .output()
            .expect("python3 with pyHanko runs (scripts/install-validators.sh)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        output
    }

    /// The verdict carries the core's advice and the weak algorithm, on signatures pyHanko
    /// made: a sound SHA-256 one (advice: give trust anchors), the same with a signed byte
    /// changed, and a SHA-1 one (refused as weak in the mobile build too: SHA-1 is refused
    /// when the container is read, before any algorithm feature matters).
    #[test]
    fn the_verdict_says_what_to_do_and_names_a_weak_algorithm() {
        let dir = tempfile::tempdir().expect("dir");
        let verdict = |path: &std::path::Path| {
            let report = verify_pdf(path.display().to_string(), vec![]).expect("verifies");
            assert_eq!(report.signatures.len(), 1, "{report:?}");
            report.signatures[0].clone()
        };

        let sound = pyhanko_signed(dir.path(), "sha256");
        let s = verdict(&sound);
        assert!(s.valid, "{s:?}");
        assert_eq!(s.weak_algorithm, None);
        // Nothing follows it: the level says so, and nothing decided it.
        assert_eq!(s.modification_level, Some(ModificationLevel::None));
        assert_eq!(s.level_decided_by, None);
        // A second signature after it: form filling, decided by the new field.
        let signer = inkseal_pdf::signer::LocalSigner::from_pem_files(
            &dir.path().join("signer.key"),
            &dir.path().join("signer.pem"),
            &[],
        )
        .expect("signer");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let mut options = inkseal_pdf::sign::SignOptions::new(now);
        options.field_name = Some("Second".into());
        let first = std::fs::read(&sound).expect("read");
        let appended = inkseal_pdf::sign::sign(&first, &options, &signer).expect("signs after");
        let twice = dir.path().join("twice.pdf");
        std::fs::write(&twice, [first.as_slice(), appended.as_slice()].concat()).expect("write");
        let report = verify_pdf(twice.display().to_string(), vec![]).expect("verifies");
        let earlier = &report.signatures[0];
        assert_eq!(
            earlier.modification_level,
            Some(ModificationLevel::FormFilling),
            "{earlier:?}"
        );
        assert!(
            earlier
                .level_decided_by
                .as_deref()
                .is_some_and(|d| d.contains("Second")),
            "{earlier:?}"
        );
        assert!(
            s.advice
                .as_deref()
                .is_some_and(|a| a.contains("give trust anchors")),
            "{s:?}"
        );

        let mut bytes = std::fs::read(&sound).expect("read");
        let at = bytes
            .windows(2)
            .position(|w| w == b"\n%")
            .expect("a comment line after the header")
            + 2;
        bytes[at] ^= 0x01;
        let tampered = dir.path().join("tampered.pdf");
        std::fs::write(&tampered, bytes).expect("write");
        let s = verdict(&tampered);
        assert!(!s.valid);
        assert_eq!(s.weak_algorithm, None);
        assert!(
            s.advice
                .as_deref()
                .is_some_and(|a| a.contains("changed after signing")),
            "{s:?}"
        );

        let s = verdict(&pyhanko_signed(dir.path(), "sha1"));
        assert!(!s.valid);
        assert!(
            s.weak_algorithm
                .as_deref()
                .is_some_and(|w| w.contains("SHA-1")),
            "{s:?}"
        );
        assert!(
            s.advice.as_deref().is_some_and(|a| a.contains("too weak")),
            "{s:?}"
        );
    }

    #[test]
    fn placements_convert() {
        let p: Placement = SignaturePlacement::Rect {
            page: 2,
            x: 1.0,
            y: 2.0,
            width: 3.0,
            height: 4.0,
        }
        .into();
        assert!(matches!(p, Placement::Rect { page: 2, rect } if rect == [1.0, 2.0, 3.0, 4.0]));
        let p: Placement = SignaturePlacement::Keyword {
            text: "借款人（签字）：".into(),
            page: None,
            width: 120.0,
            height: 48.0,
        }
        .into();
        assert!(
            matches!(p, Placement::Keyword { text, page: None, size } if text == "借款人（签字）：" && size == [120.0, 48.0])
        );
        assert!(matches!(
            Placement::from(SignaturePlacement::Invisible),
            Placement::Invisible
        ));
        assert!(
            matches!(Placement::from(SignaturePlacement::Field { name: "f".into() }), Placement::Field(n) if n == "f")
        );
    }

    /// A test font: a triangle per character; refuses '?', draws "nan" with a NaN, throws
    /// for "throw".
    pub(crate) struct Boxes;

    impl LabelFont for Boxes {
        fn outline(&self, text: String) -> Result<Option<TextOutline>, HookError> {
            match text.as_str() {
                "?" => return Ok(None),
                "throw" => {
                    return Err(HookError::Failed {
                        reason: "no".into(),
                    });
                }
                _ => {}
            }
            let y = if text == "nan" { f64::NAN } else { 0.7 };
            let mut segments = Vec::new();
            for i in 0..text.chars().count() {
                let x = i as f64;
                segments.push(OutlineSegment::MoveTo { x, y: 0.0 });
                segments.push(OutlineSegment::LineTo { x: x + 0.8, y });
                segments.push(OutlineSegment::Close);
            }
            Ok(Some(TextOutline {
                advance: text.chars().count() as f64,
                segments,
            }))
        }
    }

    #[test]
    fn options_carry_the_label_and_the_sealed_ink() {
        let options = PdfSignOptions {
            field_name: Some("borrower".into()),
            placement: SignaturePlacement::Invisible,
            reason: Some("loan".into()),
            location: Some("Shanghai".into()),
            label_lines: vec!["张三".into(), "2026-01-01".into()],
            label_font: Some(Arc::new(Boxes)),
            handwriting: None,
            evidence_head_hex: None,
            level: None,
        };
        let core = options.to_sign_options(1_790_000_000);
        assert_eq!(core.field_name.as_deref(), Some("borrower"));
        assert_eq!(core.reason.as_deref(), Some("loan"));
        assert_eq!(core.location.as_deref(), Some("Shanghai"));
        assert_eq!(core.appearance.label, vec!["张三", "2026-01-01"]);
        let font = core
            .appearance
            .label_font
            .expect("the app's font is passed on");
        let line = font.outline("张三").expect("drawn");
        assert_eq!(line.advance(), 2.0);
        assert_eq!(line.segments().len(), 6);
        let e = font.outline("?").expect_err("the app cannot draw it");
        assert_eq!(e, OutlineError::Unsupported("?".into()));
        let e = font.outline("nan").expect_err("a NaN from the app");
        assert!(e.to_string().contains("coordinate NaN"), "{e}");
        let e = font.outline("throw").expect_err("the app threw");
        assert!(
            e.to_string().contains("the app's label font failed: no"),
            "{e}"
        );
        assert_eq!(core.signing_time, 1_790_000_000);
        assert!(core.ink_record.is_none());
    }

    #[test]
    fn unreadable_and_unsigned_files_are_typed_errors() {
        assert!(matches!(
            verify_pdf("/nonexistent/x.pdf".into(), vec![]),
            Err(InksealError::InvalidInput { .. })
        ));
        assert!(matches!(
            verify_pdf("/nonexistent/x.pdf".into(), vec!["junk".into()]),
            Err(InksealError::InvalidInput { .. })
        ));
        let dir = tempfile::tempdir().expect("dir");
        let junk = dir.path().join("junk.pdf");
        std::fs::write(&junk, b"not a pdf").expect("write");
        assert!(matches!(
            verify_pdf(junk.display().to_string(), vec![]),
            Err(InksealError::BadDocument { .. })
        ));
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/loan-contract-zh.pdf"
        );
        let report = verify_pdf(fixture.into(), vec![]).expect("unsigned fixture verifies");
        assert!(report.signatures.is_empty());
        assert!(!report.all_valid);
    }
}
