//! Independent validators for the signed PDFs the project makes.
//!
//! Each function runs a real external tool that shares no code with inkseal: BouncyCastle
//! (through `tests/validators/PdfSigCheck.java`), pyHanko, poppler's `pdfsig` and qpdf. A
//! missing tool is a test failure naming the package to install, never a skip: a validator
//! that silently does not run proves nothing. `scripts/install-validators.sh` installs them all.
//!
//! What each one can judge: BouncyCastle checks ECDSA P-256 and SM2-with-SM3 signatures and
//! the chain to given roots; pyHanko and pdfsig know no SM2 or SM3, so for SM2 signatures
//! only BouncyCastle (and qpdf, for the file structure) give a verdict.

use serde_json::Value;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const INSTALL_HINT: &str = "(scripts/install-validators.sh installs every validator)";
/// The Java validators' classpath: BouncyCastle, and PDFBox 2 for `MakePdfboxSample`.
const BC_JARS: [(&str, &str); 6] = [
    ("/usr/share/java/bcprov.jar", "libbcprov-java"),
    ("/usr/share/java/bcpkix.jar", "libbcpkix-java"),
    ("/usr/share/java/bcutil.jar", "libbcutil-java"),
    ("/usr/share/java/pdfbox2.jar", "libpdfbox2-java"),
    ("/usr/share/java/fontbox2.jar", "libpdfbox2-java"),
    ("/usr/share/java/commons-logging.jar", "libpdfbox2-java"),
];

/// Runs `cmd`, failing the test with the package to install when the program is missing.
fn run(cmd: &mut Command, package: &str) -> Output {
    let program = cmd.get_program().to_string_lossy().into_owned();
    match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            panic!("`{program}` not found: install {package} {INSTALL_HINT}")
        }
        Err(e) => panic!("cannot run `{program}`: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------------------------
// BouncyCastle

/// One signature dictionary as judged by `PdfSigCheck` (BouncyCastle).
#[derive(Debug, Clone, PartialEq)]
pub struct BcSignature {
    /// Order of the `/ByteRange` in the file, from 0.
    pub index: u64,
    /// The `/ByteRange` array, when it could be parsed.
    pub byte_range: Option<[u64; 4]>,
    /// Whether the signed ranges reach the end of the file (the latest revision).
    pub covers_whole_file: bool,
    /// "SHA-256", "SM3", or the digest OID when it is neither.
    pub digest_algorithm: Option<String>,
    /// "ECDSA-with-SHA256", "SM2-with-SM3", or the signature OID when it is neither.
    pub signature_algorithm: Option<String>,
    /// The CMS signature and its message-digest attribute verify over the byte ranges.
    pub signature_valid: bool,
    /// Whether the signer chains to a trust anchor; `None` when none was given.
    pub chain_trusted: Option<bool>,
    /// The signer certificate's subject DN.
    pub signer: Option<String>,
    /// Why the signature is invalid or untrusted, if it is.
    pub error: Option<String>,
    /// The signature time-stamp: `TimeStampToken.validate` passed and its imprint is the digest
    /// of the signature value (`None` when the signature has no time-stamp).
    pub timestamp_valid: Option<bool>,
    /// The time-stamp's genTime, milliseconds since the Unix epoch.
    pub timestamp_time_ms: Option<u64>,
    /// Why the time-stamp is not valid.
    pub timestamp_error: Option<String>,
    /// This `/ByteRange` belongs to a document time-stamp (checked as a time-stamp token whose
    /// imprint is the digest of the byte ranges).
    pub document_timestamp: bool,
}

/// Everything `PdfSigCheck` said about a file.
#[derive(Debug, Clone)]
pub struct BcReport {
    /// One entry per signature dictionary, in file order.
    pub signatures: Vec<BcSignature>,
    /// 0: every signature valid (and trusted, when anchors were given); 1: not so, or no
    /// signature at all; 2: unreadable input.
    pub exit_code: i32,
    /// The raw JSON lines.
    pub stdout: String,
    /// Diagnostics, e.g. "no /ByteRange found".
    pub stderr: String,
}

impl BcReport {
    /// At least one signature, and all of them valid (and trusted, if anchors were given).
    pub fn all_valid(&self) -> bool {
        self.exit_code == 0 && !self.signatures.is_empty()
    }
}

/// Checks every signature in `pdf` with BouncyCastle, and the chain to `trust_anchors`
/// (PEM files) when any are given.
pub fn bouncycastle_check(pdf: &Path, trust_anchors: &[&Path]) -> BcReport {
    let out = run(
        java_command("PdfSigCheck").arg(pdf).args(trust_anchors),
        "openjdk-17-jdk-headless",
    );
    let stdout = text(&out.stdout);
    let signatures = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(v) => bc_signature(&v),
            Err(e) => panic!("PdfSigCheck printed a line that is not JSON ({e}): {l}"),
        })
        .collect();
    BcReport {
        signatures,
        exit_code: out.status.code().unwrap_or(-1),
        stdout,
        stderr: text(&out.stderr),
    }
}

/// Checks a CRL (DER file) against a CA certificate (DER file) with BouncyCastle
/// (`core/pki/tests/CrlCheck.java`): exit code and its `key: value` report.
pub fn bouncycastle_crl_check(ca_der: &Path, crl_der: &Path) -> (i32, String) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/pki/tests/CrlCheck.java");
    let out = run(
        Command::new("java")
            .arg("-cp")
            .arg(bc_classpath())
            .arg(source)
            .arg(ca_der)
            .arg(crl_der),
        "openjdk-17-jdk-headless",
    );
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

fn bc_signature(v: &Value) -> BcSignature {
    let s = |k: &str| v[k].as_str().map(str::to_owned);
    let byte_range = v["byte_range"].as_array().and_then(|a| {
        let n: Vec<u64> = a.iter().filter_map(Value::as_u64).collect();
        <[u64; 4]>::try_from(n).ok()
    });
    BcSignature {
        index: v["index"].as_u64().unwrap_or(u64::MAX),
        byte_range,
        covers_whole_file: v["covers_whole_file"].as_bool().unwrap_or(false),
        digest_algorithm: s("digest_algorithm"),
        signature_algorithm: s("signature_algorithm"),
        signature_valid: v["signature_valid"].as_bool().unwrap_or(false),
        chain_trusted: v["chain_trusted"].as_bool(),
        signer: s("signer"),
        error: s("error"),
        timestamp_valid: v["timestamp_valid"].as_bool(),
        timestamp_time_ms: v["timestamp_time_ms"].as_u64(),
        timestamp_error: s("timestamp_error"),
        document_timestamp: v["document_timestamp"].as_bool().unwrap_or(false),
    }
}

/// The files written by [`make_sm2_sample`] (or [`make_bc_p256_sample`]).
#[derive(Debug, Clone)]
pub struct Sm2Sample {
    /// A one-page PDF with one SM2-with-SM3 (or P-256) detached CMS signature, DER.
    pub pdf: PathBuf,
    /// The same PDF with the same signature as BouncyCastle's `getEncoded()` writes it: BER,
    /// indefinite lengths (what PDFBox- and iText-based signers embed).
    pub pdf_ber: PathBuf,
    /// The SM2 root that issued the signer certificate.
    pub ca_pem: PathBuf,
    /// The SM2 signer certificate.
    pub signer_pem: PathBuf,
}

/// Makes an SM2-signed sample PDF in `dir` with BouncyCastle (`MakeSm2Sample.java`): SM2
/// signatures made by an implementation other than inkseal's, to test the validators on.
pub fn make_sm2_sample(dir: &Path) -> Sm2Sample {
    make_bc_sample(dir, "sm2")
}

/// [`make_sm2_sample`] with an ECDSA P-256 CA and signer.
pub fn make_bc_p256_sample(dir: &Path) -> Sm2Sample {
    make_bc_sample(dir, "p256")
}

fn make_bc_sample(dir: &Path, curve: &str) -> Sm2Sample {
    let out = run(
        java_command("MakeSm2Sample").arg(dir).arg(curve),
        "openjdk-17-jdk-headless",
    );
    assert!(
        out.status.success(),
        "MakeSm2Sample failed: {}",
        text(&out.stderr)
    );
    Sm2Sample {
        pdf: dir.join(format!("{curve}-signed.pdf")),
        pdf_ber: dir.join(format!("{curve}-signed-ber.pdf")),
        ca_pem: dir.join(format!("{curve}-ca.pem")),
        signer_pem: dir.join(format!("{curve}-signer.pem")),
    }
}

/// A PDF signed by Apache PDFBox 2 with a BouncyCastle CMS (`MakePdfboxSample.java`).
#[derive(Debug, Clone)]
pub struct PdfboxSample {
    /// `input` with PDFBox's incremental update holding one SM2 (or P-256) signature, BER.
    pub pdf: PathBuf,
    /// The root that issued the signer certificate.
    pub ca_pem: PathBuf,
    /// The signer certificate.
    pub signer_pem: PathBuf,
}

/// Has PDFBox sign `input` into `dir` with a fresh SM2 (`"sm2"`) or P-256 (`"p256"`) CA and
/// signer: what many e-signing products (PDFBox or iText with BouncyCastle) write.
pub fn make_pdfbox_sample(dir: &Path, input: &Path, curve: &str) -> PdfboxSample {
    let out = run(
        java_command("MakePdfboxSample")
            .arg(dir)
            .arg(input)
            .arg(curve),
        "openjdk-17-jdk-headless",
    );
    assert!(
        out.status.success(),
        "MakePdfboxSample failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    PdfboxSample {
        pdf: dir.join(format!("pdfbox-{curve}-signed.pdf")),
        ca_pem: dir.join(format!("pdfbox-{curve}-ca.pem")),
        signer_pem: dir.join(format!("pdfbox-{curve}-signer.pem")),
    }
}

/// What BouncyCastle's `TimeStampToken.validate` says of a token (DER file) under the TSA
/// certificate (DER file).
#[derive(Debug, Clone)]
pub struct BcTimeStamp {
    /// Whether `validate` passed.
    pub valid: bool,
    /// genTime, milliseconds since the Unix epoch.
    pub gen_time_ms: u64,
    /// The serial number, lower-case hex without leading zeros.
    pub serial: String,
    /// The policy OID.
    pub policy: String,
    /// The imprint's hash algorithm OID.
    pub imprint_algorithm: String,
    /// The imprint, lower-case hex.
    pub imprint: String,
    /// BouncyCastle's exception, when not valid.
    pub error: Option<String>,
}

/// Run `TstCheck` (BouncyCastle `TimeStampToken.validate`) on `token` with `tsa_cert`.
pub fn bouncycastle_tst_check(token: &Path, tsa_cert: &Path) -> BcTimeStamp {
    let (v, success) = java_json("TstCheck", &[token, tsa_cert]);
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    BcTimeStamp {
        valid: v["valid"].as_bool() == Some(true) && success,
        gen_time_ms: v["gen_time_ms"].as_u64().unwrap_or_default(),
        serial: s("serial"),
        policy: s("policy"),
        imprint_algorithm: s("imprint_algorithm"),
        imprint: s("imprint"),
        error: v["error"].as_str().map(str::to_owned),
    }
}

/// An attached CMS SignedData (a signed transaction) as judged by `CmsCheck` (BouncyCastle
/// `SignerInformation.verify` and the signer certificate against the CA).
#[derive(Debug, Clone)]
pub struct BcCms {
    /// Whether the signature, the content's digest and the certificate all hold.
    pub valid: bool,
    /// The signer certificate's subject.
    pub signer: String,
    /// The encapsulated content type OID.
    pub content_type: String,
    /// The encapsulated content.
    pub content: Vec<u8>,
    /// The signing-time attribute, milliseconds since the Unix epoch.
    pub signing_time_ms: Option<u64>,
    /// The SignerInfo's signature algorithm OID.
    pub signature_algorithm: String,
    /// BouncyCastle's exception, when not valid.
    pub error: Option<String>,
}

/// Run `CmsCheck` on the DER SignedData `cms` with the issuing CA `ca_cert` (DER file).
pub fn bouncycastle_cms_check(cms: &Path, ca_cert: &Path) -> BcCms {
    let (v, success) = java_json("CmsCheck", &[cms, ca_cert]);
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    BcCms {
        valid: v["valid"].as_bool() == Some(true) && success,
        signer: s("signer"),
        content_type: s("content_type"),
        content: hex::decode(s("content_hex")).unwrap_or_default(),
        signing_time_ms: v["signing_time_ms"].as_u64(),
        signature_algorithm: s("signature_algorithm"),
        error: v["error"].as_str().map(str::to_owned),
    }
}

/// What BouncyCastle (`EnvelopeCheck open`) made of an envelope.
#[derive(Debug, Clone)]
pub struct BcEnvelope {
    /// Whether it opened.
    pub ok: bool,
    /// The decrypted content.
    pub content: Vec<u8>,
    /// The content-encryption algorithm OID.
    pub content_cipher: String,
    /// The recipient's key-encryption algorithm OID.
    pub key_encryption: String,
    /// BouncyCastle's exception, when it did not open.
    pub error: Option<String>,
}

/// Open the envelope `envelope` (DER or BER) with BouncyCastle, as the recipient `cert` (PEM)
/// with `key` (PEM): `JceKeyAgreeEnvelopedRecipient` for P-256, SM2Engine and SM4 wired from
/// BC primitives for SM2 (`tests/validators/EnvelopeCheck.java`).
pub fn bouncycastle_envelope_open(envelope: &Path, key: &Path, cert: &Path) -> BcEnvelope {
    let (v, success) = java_json("EnvelopeCheck", &[Path::new("open"), envelope, key, cert]);
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    BcEnvelope {
        ok: v["ok"].as_bool() == Some(true) && success,
        content: hex::decode(s("content_hex")).unwrap_or_default(),
        content_cipher: s("content_cipher"),
        key_encryption: s("key_encryption"),
        error: v["error"].as_str().map(str::to_owned),
    }
}

/// Seal `input` to the certificates `certs` (PEM) with BouncyCastle's CMSEnvelopedDataGenerator
/// into `out` (BER): ECDH sha256kdf with AES-256 wrap for P-256 recipients, SM2 key transport
/// for SM2 ones; SM4-CBC content if all are SM2, else AES-256-CBC. Panics if BC fails.
pub fn bouncycastle_envelope_seal(out: &Path, input: &Path, certs: &[&Path]) {
    let mut args = vec![Path::new("seal"), out, input];
    args.extend_from_slice(certs);
    let (v, success) = java_json("EnvelopeCheck", &args);
    assert!(
        success && v["ok"] == true,
        "BouncyCastle could not seal: {v}"
    );
}

/// Run a Java validator that prints one JSON object: the object, and whether it exited 0.
fn java_json(main_class: &str, args: &[&Path]) -> (Value, bool) {
    let out = run(
        java_command(main_class).args(args),
        "openjdk-17-jdk-headless",
    );
    let stdout = text(&out.stdout);
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{main_class} printed no JSON ({e}): {stdout}\n{}",
            text(&out.stderr)
        )
    });
    (v, out.status.success())
}

fn java_command(main_class: &str) -> Command {
    let mut cmd = Command::new("java");
    cmd.arg("-cp")
        .arg(format!("{}:{}", bc_classpath(), java_classes().display()))
        .arg(main_class);
    cmd
}

fn bc_classpath() -> String {
    for (jar, package) in BC_JARS {
        assert!(
            Path::new(jar).exists(),
            "BouncyCastle jar {jar} is missing: install {package} {INSTALL_HINT}"
        );
    }
    BC_JARS.map(|(jar, _)| jar).join(":")
}

/// Compiles the Java validators once per process. The classes go to a directory named after
/// a hash of the sources, so test binaries running at once share one build and an edited
/// source is rebuilt; each build is made aside and renamed into place, so none sees half of one.
fn java_classes() -> &'static Path {
    static CLASSES: OnceLock<PathBuf> = OnceLock::new();
    CLASSES.get_or_init(|| {
        let src_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("validators");
        let sources = [
            "PdfSigCheck.java",
            "MakeSm2Sample.java",
            "MakePdfboxSample.java",
            "TstCheck.java",
            "CmsCheck.java",
            "EnvelopeCheck.java",
        ]
        .map(|f| src_dir.join(f));
        let mut hasher = DefaultHasher::new();
        for src in &sources {
            match std::fs::read(src) {
                Ok(bytes) => bytes.hash(&mut hasher),
                Err(e) => panic!("cannot read {}: {e}", src.display()),
            }
        }
        let root = target_tmpdir().join("validators-java");
        let classes = root.join(format!("classes-{:016x}", hasher.finish()));
        if classes.is_dir() {
            return classes;
        }
        let build = root.join(format!("build-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&build);
        std::fs::create_dir_all(&build).expect("create the javac output directory");
        let out = run(
            Command::new("javac")
                .args(["-encoding", "UTF-8", "-cp", &bc_classpath(), "-d"])
                .arg(&build)
                .args(&sources),
            "openjdk-17-jdk-headless",
        );
        assert!(
            out.status.success(),
            "javac failed on the Java validators:\n{}",
            text(&out.stderr)
        );
        // Losing the race to another process is fine: its classes come from the same sources.
        if std::fs::rename(&build, &classes).is_err() {
            let _ = std::fs::remove_dir_all(&build);
            assert!(classes.is_dir(), "cannot move the Java classes into place");
        }
        classes
    })
}

/// Cargo's `target/tmp`. `CARGO_TARGET_TMPDIR` is set only when compiling integration tests,
/// not this library, so it is found from the test binary, which lives in `target/<profile>/deps`.
fn target_tmpdir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("tmp")))
        .unwrap_or_else(std::env::temp_dir)
}

// ---------------------------------------------------------------------------------------------
// pyHanko

/// How far the file goes past what a signature covers, as pyHanko's difference analysis says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modifications {
    /// The signature covers the entire file.
    Untouched,
    /// Later revisions only maintain signatures (DSS, document timestamps).
    LtaUpdates,
    /// Later revisions only fill in forms and add signatures.
    FormFilling,
    /// Later revisions do more; pyHanko's text is kept.
    Other(String),
}

/// One signature as judged by `pyhanko sign validate --pretty-print`.
#[derive(Debug, Clone, PartialEq)]
pub struct PyhankoSignature {
    /// The signature field's name.
    pub field: String,
    /// The signer certificate's subject, in pyHanko's words.
    pub subject: Option<String>,
    /// "cryptographically sound": the digest matches and the signature verifies (pyHanko's
    /// "intact" and "valid" together; its pretty output does not tell them apart).
    pub sound: bool,
    /// The signer chains to the given root (`None` if pyHanko did not say).
    pub trusted: Option<bool>,
    /// The modification section, when pyHanko got that far.
    pub modifications: Option<Modifications>,
    /// pyHanko's bottom line: sound, trusted and no disallowed modifications.
    pub valid: bool,
    /// "An error occurred while validating this signature: ..." when pyHanko gave up.
    pub error: Option<String>,
    /// The signature time-stamp, when pyHanko found one.
    pub time_stamp: Option<PyhankoTimeStamp>,
}

/// What pyHanko says of a signature time-stamp token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyhankoTimeStamp {
    /// The time as pyHanko prints it (ISO 8601).
    pub time: String,
    /// "The timestamp token is cryptographically sound."
    pub sound: bool,
    /// "The TSA certificate is trusted."
    pub tsa_trusted: bool,
}

/// Everything `pyhanko sign validate` said about a file.
#[derive(Debug, Clone)]
pub struct PyhankoReport {
    /// One entry per signature field, in pyHanko's order.
    pub signatures: Vec<PyhankoSignature>,
    /// 0 when every signature's bottom line is valid (also for a file with no signature).
    pub exit_code: i32,
    /// The pretty-printed report.
    pub stdout: String,
    /// pyHanko's log and errors.
    pub stderr: String,
}

impl PyhankoReport {
    /// At least one signature, and all of them judged valid.
    pub fn all_valid(&self) -> bool {
        self.exit_code == 0
            && !self.signatures.is_empty()
            && self.signatures.iter().all(|s| s.valid)
    }
}

/// Validates every signature in `pdf` with pyHanko, trusting only `trust_root_pem`.
pub fn pyhanko_validate(pdf: &Path, trust_root_pem: &Path) -> PyhankoReport {
    pyhanko_validate_with_roots(pdf, &[trust_root_pem])
}

/// [`pyhanko_validate`] trusting every root in `trust_roots_pem` (e.g. the signer's root and
/// the time-stamping authority's).
pub fn pyhanko_validate_with_roots(pdf: &Path, trust_roots_pem: &[&Path]) -> PyhankoReport {
    pyhanko_validate_args(pdf, trust_roots_pem, &[])
}

/// [`pyhanko_validate_with_roots`] where revocation services the certificates name cannot
/// be reached (`--soft-revocation-check`: a failed fetch does not count; revocation data in
/// the file is [`pyhanko_lta_validate`]'s to judge).
pub fn pyhanko_validate_offline(pdf: &Path, trust_roots_pem: &[&Path]) -> PyhankoReport {
    pyhanko_validate_args(pdf, trust_roots_pem, &["--soft-revocation-check"])
}

fn pyhanko_validate_args(pdf: &Path, trust_roots_pem: &[&Path], args: &[&str]) -> PyhankoReport {
    let mut cmd = Command::new("pyhanko");
    cmd.args(["sign", "validate", "--pretty-print", "--trust-replace"]);
    cmd.args(args);
    for root in trust_roots_pem {
        cmd.arg("--trust").arg(root);
    }
    let out = run(cmd.arg(pdf), "the pip package pyhanko-cli");
    let stdout = text(&out.stdout);
    PyhankoReport {
        signatures: parse_pyhanko(&stdout),
        exit_code: out.status.code().unwrap_or(-1),
        stdout,
        stderr: text(&out.stderr),
    }
}

/// One signature as pyHanko's long-term validation (ETSI EN 319 102-1 §5.6.3, offline) judged
/// it (`tests/validators/pyhanko_lta.py`).
#[derive(Debug, Clone, PartialEq)]
pub struct PyhankoAdes {
    /// The signature field.
    pub field: String,
    /// PASSED, INDETERMINATE or FAILED.
    pub indication: String,
    /// The AdES sub-indication, e.g. `NO_POE`, when not passed.
    pub subindication: Option<String>,
    /// Passed: indication PASSED and pyHanko's bottom line valid (the bottom line alone can
    /// say valid beside INDETERMINATE/NO_POE).
    pub valid: bool,
    /// Why not, when not.
    pub failure: Option<String>,
    /// The time of the oldest document time-stamp after the signature, if one was used
    /// ([`AdesProcess::LongTerm`]).
    pub oldest_evidence_record: Option<String>,
}

/// Which ETSI EN 319 102-1 validation process pyHanko runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdesProcess {
    /// §5.6.3, long-term availability and integrity (PAdES B-LTA: document time-stamps as
    /// proof of existence, past validation).
    LongTerm,
    /// §5.5, signatures with time, with the DSS's revocation data (what B-LT proves now).
    WithTime,
}

/// PAdES validation of every signature in `pdf` by pyHanko's library, offline (revocation
/// data from the file only, and required for every certificate that declares where its
/// status lives), trusting `trust_roots_pem`, at `at` (ISO 8601; now when `None`).
/// Returns the judgements and pyHanko's log.
pub fn pyhanko_ades_validate(
    pdf: &Path,
    trust_roots_pem: &[&Path],
    at: Option<&str>,
    process: AdesProcess,
) -> (Vec<PyhankoAdes>, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("validators/pyhanko_lta.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(pdf);
    if let Some(at) = at {
        cmd.args(["--at", at]);
    }
    if process == AdesProcess::WithTime {
        cmd.arg("--with-time");
    }
    cmd.args(trust_roots_pem);
    let out = run(&mut cmd, "python3 with the pip package pyhanko-cli");
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "pyhanko_lta.py failed:\n{stderr}");
    let field = |v: &Value, k: &str| v[k].as_str().map(str::to_owned);
    let judged = stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("pyhanko_lta.py printed {l:?}: {e}"));
            PyhankoAdes {
                field: field(&v, "field").unwrap_or_default(),
                indication: field(&v, "indication").unwrap_or_default(),
                subindication: field(&v, "subindication"),
                valid: v["bottom_line"].as_bool().unwrap_or(false)
                    && v["indication"].as_str() == Some("PASSED"),
                failure: field(&v, "failure"),
                oldest_evidence_record: field(&v, "oldest_evidence_record"),
            }
        })
        .collect();
    (judged, stderr)
}

/// Splits the report at its "Field N: NAME" headers (each framed by lines of '=').
fn parse_pyhanko(stdout: &str) -> Vec<PyhankoSignature> {
    let lines: Vec<&str> = stdout.lines().collect();
    let mut starts = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let framed = i > 0
            && lines[i - 1].starts_with("===")
            && lines.get(i + 1).is_some_and(|l| l.starts_with("==="));
        if framed && line.starts_with("Field ") {
            starts.push(i);
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let end = starts.get(n + 1).map_or(lines.len(), |&next| next - 1);
            let field = lines[start].split_once(": ").map_or("", |(_, f)| f);
            pyhanko_signature(field, &lines[start + 2..end])
        })
        .collect()
}

fn pyhanko_signature(field: &str, body: &[&str]) -> PyhankoSignature {
    let has = |s: &str| body.iter().any(|l| l.trim() == s);
    let trusted = if has("The signer's certificate is trusted.") {
        Some(true)
    } else if has("The signer's certificate is untrusted.")
        || has("The signer's certificate is revoked.")
    {
        Some(false)
    } else {
        None
    };
    let modifications = section(body, "Modifications").map(|m| {
        if m.contains("covers the entire file") {
            Modifications::Untouched
        } else if m.contains("relate to signature maintenance") {
            Modifications::LtaUpdates
        } else if m.contains("relate to signing and form filling") {
            Modifications::FormFilling
        } else {
            Modifications::Other(m)
        }
    });
    PyhankoSignature {
        field: field.to_owned(),
        subject: body
            .iter()
            .find_map(|l| l.strip_prefix("Certificate subject: "))
            .map(|s| s.trim_matches('"').to_owned()),
        sound: has("The signature is cryptographically sound."),
        trusted,
        modifications,
        valid: has("The signature is judged VALID."),
        error: body
            .iter()
            .find(|l| l.starts_with("An error occurred while validating"))
            .map(|l| (*l).to_owned()),
        time_stamp: body
            .iter()
            .find_map(|l| l.strip_prefix("Signature timestamp token: "))
            .map(|time| PyhankoTimeStamp {
                time: time.trim().to_owned(),
                sound: has("The timestamp token is cryptographically sound."),
                tsa_trusted: has("The TSA certificate is trusted."),
            }),
    }
}

/// The text under a "Title\n-----" heading, up to the next heading.
fn section(body: &[&str], title: &str) -> Option<String> {
    let start = body
        .windows(2)
        .position(|w| w[0] == title && w[1].starts_with("---"))?;
    let rest = &body[start + 2..];
    let end = rest
        .windows(2)
        .position(|w| !w[0].is_empty() && w[1].starts_with("---") && w[1].chars().all(|c| c == '-'))
        .unwrap_or(rest.len());
    Some(rest[..end].join("\n").trim().to_owned())
}

/// Signs `input` into `output` with pyHanko as a PAdES B-B signature in field `field`
/// (created on page 1 with no appearance when the document lacks it).
pub fn pyhanko_sign(input: &Path, output: &Path, key_pem: &Path, cert_pem: &Path, field: &str) {
    pyhanko_sign_with(input, output, key_pem, cert_pem, field, &[]);
}

/// [`pyhanko_sign`] with more `addsig` options (e.g. `--timestamp-url URL`).
pub fn pyhanko_sign_with(
    input: &Path,
    output: &Path,
    key_pem: &Path,
    cert_pem: &Path,
    field: &str,
    addsig_options: &[&str],
) {
    let out = run(
        Command::new("pyhanko")
            .args(["sign", "addsig", "--use-pades", "--field", field])
            .args(addsig_options)
            .args(["pemder", "--no-pass", "--key"])
            .arg(key_pem)
            .arg("--cert")
            .arg(cert_pem)
            .arg(input)
            .arg(output),
        "the pip package pyhanko-cli",
    );
    assert!(
        out.status.success(),
        "pyhanko sign addsig failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// poppler's pdfsig

/// One signature as reported by `pdfsig`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PdfsigSignature {
    /// The signature field's name.
    pub field: Option<String>,
    /// The signer's full DN, in poppler's order.
    pub signer_dn: Option<String>,
    /// "SHA-256", or "unknown" for digests NSS does not know (SM3).
    pub hash_algorithm: Option<String>,
    /// The /SubFilter, e.g. "ETSI.CAdES.detached".
    pub signature_type: Option<String>,
    /// The signed ranges as poppler prints them: `[start, end)` pairs.
    pub signed_ranges: Vec<(u64, u64)>,
    /// "Total document signed" (true) or "Not total document signed" (false).
    pub total_document_signed: Option<bool>,
    /// The "Signature Validation:" text, e.g. "Signature is Valid." or "Digest Mismatch.".
    pub signature_validation: Option<String>,
    /// The "Certificate Validation:" text; pdfsig trusts only the NSS store, never our roots,
    /// so this is typically "Certificate issuer isn't Trusted.".
    pub certificate_validation: Option<String>,
}

impl PdfsigSignature {
    /// The cryptographic verdict, apart from any certificate trust.
    pub fn signature_valid(&self) -> bool {
        self.signature_validation.as_deref() == Some("Signature is Valid.")
    }
}

/// Everything `pdfsig` said about a file.
#[derive(Debug, Clone)]
pub struct PdfsigReport {
    /// One entry per signature, in pdfsig's order.
    pub signatures: Vec<PdfsigSignature>,
    /// 0 even for invalid signatures; 2 when the file has no signature.
    pub exit_code: i32,
    /// The raw report.
    pub stdout: String,
    /// Errors, e.g. "ERROR: Unrecognized Hash ID".
    pub stderr: String,
}

impl PdfsigReport {
    /// At least one signature, and all of them cryptographically valid (trust aside).
    pub fn all_signatures_valid(&self) -> bool {
        !self.signatures.is_empty() && self.signatures.iter().all(PdfsigSignature::signature_valid)
    }
}

/// Runs poppler's `pdfsig` on `pdf` (without online OCSP checks).
pub fn pdfsig(pdf: &Path) -> PdfsigReport {
    let out = run(
        Command::new("pdfsig").arg("-no-ocsp").arg(pdf),
        "poppler-utils",
    );
    let stdout = text(&out.stdout);
    let mut signatures: Vec<PdfsigSignature> = Vec::new();
    for line in stdout.lines() {
        if line.starts_with("Signature #") {
            signatures.push(PdfsigSignature::default());
            continue;
        }
        let (Some(sig), Some(item)) = (signatures.last_mut(), line.trim().strip_prefix("- "))
        else {
            continue;
        };
        let (key, value) = item.split_once(": ").unwrap_or((item, ""));
        let value = Some(value.to_owned());
        match key {
            "Signature Field Name" => sig.field = value,
            "Signer full Distinguished Name" => sig.signer_dn = value,
            "Signing Hash Algorithm" => sig.hash_algorithm = value,
            "Signature Type" => sig.signature_type = value,
            "Signed Ranges" => sig.signed_ranges = parse_ranges(item),
            "Total document signed" => sig.total_document_signed = Some(true),
            "Not total document signed" => sig.total_document_signed = Some(false),
            "Signature Validation" => sig.signature_validation = value,
            "Certificate Validation" => sig.certificate_validation = value,
            _ => {}
        }
    }
    PdfsigReport {
        signatures,
        exit_code: out.status.code().unwrap_or(-1),
        stdout,
        stderr: text(&out.stderr),
    }
}

/// "Signed Ranges: [0 - 59814], [64088 - 65272]" to [(0, 59814), (64088, 65272)].
fn parse_ranges(item: &str) -> Vec<(u64, u64)> {
    item.split('[')
        .skip(1)
        .filter_map(|r| {
            let (a, b) = r.split_once(']')?.0.split_once(" - ")?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// qpdf

/// Copies `src` to `dst` with page `page` (1-based) written directly in its parent's /Kids
/// instead of as an object of its own, as some writers do: qpdf rewrites the file in QDF form
/// (objects one per line group, streams uncompressed), the page dictionary replaces its
/// reference in /Kids, and `fix-qdf` recomputes the cross-reference table. The page's old
/// object stays in the file, outside the page tree (an /OpenAction or outline may still name
/// it).
pub fn with_direct_page_kid(src: &Path, dst: &Path, page: usize) {
    let qdf = dst.with_extension("qdf");
    let out = run(
        Command::new("qpdf")
            .args(["--qdf", "--object-streams=disable"])
            .arg(src)
            .arg(&qdf),
        "qpdf",
    );
    assert!(out.status.success(), "qpdf --qdf: {}", text(&out.stderr));
    let mut b = std::fs::read(&qdf).expect("read the QDF file");
    let find = |b: &[u8], needle: &[u8], from: usize| -> usize {
        from + memchr_find(&b[from..], needle)
            .unwrap_or_else(|| panic!("{:?} not in the QDF file", text(needle)))
    };
    // "%% Page N" comments the page's object, "M 0 obj" on the line after its original id.
    let marker = find(&b, format!("%% Page {page}\n").as_bytes(), 0);
    let obj = find(&b, b" 0 obj\n", marker);
    let line = b[..obj]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    let number = text(&b[line..obj]);
    let body = obj + b" 0 obj\n".len();
    let dict = b[body..find(&b, b"\nendobj\n", body)].to_vec();
    let kids = find(&b, b"/Kids [\n", 0);
    let entry_text = format!("    {number} 0 R\n");
    let entry = find(&b, entry_text.as_bytes(), kids);
    let mut replacement = dict;
    replacement.push(b'\n');
    b.splice(entry..entry + entry_text.len(), replacement);
    std::fs::write(&qdf, &b).expect("write the edited QDF file");
    let fixed = std::fs::File::create(dst).expect("create the output");
    let status = Command::new("fix-qdf")
        .stdin(std::fs::File::open(&qdf).expect("open the QDF file"))
        .stdout(fixed)
        .status()
        .expect("fix-qdf (qpdf) runs");
    assert!(status.success(), "fix-qdf failed");
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `qpdf --check`: Ok only when qpdf finds neither errors nor warnings (it exits 3 for
/// warnings, e.g. a repaired stream length, which callers should see as a failure).
pub fn qpdf_check(pdf: &Path) -> Result<(), String> {
    let out = run(Command::new("qpdf").arg("--check").arg(pdf), "qpdf");
    match out.status.code() {
        Some(0) => Ok(()),
        code => Err(format!(
            "qpdf --check exited {code:?}:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Test material

/// An ECDSA P-256 root and a signer it issued ([`openssl_p256_pki`]).
pub type P256Pki = OpensslPki;

/// A root and a signer it issued, made by the openssl command ([`openssl_pki`]).
#[derive(Debug, Clone)]
pub struct OpensslPki {
    /// The self-signed root.
    pub ca_pem: PathBuf,
    /// The signer's private key (unencrypted PEM).
    pub signer_key: PathBuf,
    /// The signer's certificate.
    pub signer_pem: PathBuf,
}

/// Makes a P-256 root named `name` and a signer certificate under it in `dir`, with openssl.
pub fn openssl_p256_pki(dir: &Path, name: &str) -> P256Pki {
    openssl_pki(dir, name, OpensslKey::P256)
}

/// A key type for [`openssl_pki`]: the CA and the signer get one each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpensslKey {
    /// ECDSA P-256, certificates signed with SHA-256.
    P256,
    /// ECDSA P-384, certificates signed with SHA-384.
    P384,
    /// ECDSA P-521, certificates signed with SHA-512.
    P521,
    /// RSA of this many bits, certificates signed with SHA-256 (PKCS#1 v1.5).
    Rsa(u32),
    /// Ed25519.
    Ed25519,
}

impl OpensslKey {
    fn genpkey_args(self) -> Vec<String> {
        let ec = |curve: &str| {
            vec![
                "-algorithm".into(),
                "EC".into(),
                "-pkeyopt".into(),
                format!("ec_paramgen_curve:{curve}"),
            ]
        };
        match self {
            OpensslKey::P256 => ec("P-256"),
            OpensslKey::P384 => ec("P-384"),
            OpensslKey::P521 => ec("P-521"),
            OpensslKey::Rsa(bits) => vec![
                "-algorithm".into(),
                "RSA".into(),
                "-pkeyopt".into(),
                format!("rsa_keygen_bits:{bits}"),
            ],
            OpensslKey::Ed25519 => vec!["-algorithm".into(), "ED25519".into()],
        }
    }

    /// The digest option for `req -x509` and `x509 -req` (none for Ed25519).
    fn digest_arg(self) -> Option<&'static str> {
        match self {
            OpensslKey::P256 | OpensslKey::Rsa(_) => Some("-sha256"),
            OpensslKey::P384 => Some("-sha384"),
            OpensslKey::P521 => Some("-sha512"),
            OpensslKey::Ed25519 => None,
        }
    }
}

/// Makes a root named `name` and a signer certificate under it in `dir`, with openssl, both
/// with keys of type `key`.
pub fn openssl_pki(dir: &Path, name: &str, key_type: OpensslKey) -> OpensslPki {
    let path = |f: &str| dir.join(format!("{name}-{f}"));
    let (ca_key, ca_pem) = (path("ca.key"), path("ca.pem"));
    let (key, csr, pem, ext) = (
        path("signer.key"),
        path("signer.csr"),
        path("signer.pem"),
        path("ext.cnf"),
    );
    std::fs::write(
        &ext,
        "[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n\
         subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )
    .expect("write the openssl extension file");
    let s = |p: &Path| p.to_str().expect("a UTF-8 path").to_owned();
    let openssl = |args: &[&str]| {
        let out = run(Command::new("openssl").args(args), "openssl");
        assert!(
            out.status.success(),
            "openssl {args:?} failed:\n{}",
            text(&out.stderr)
        );
    };
    let (ca_subj, signer_subj) = (
        format!("/CN={name} Test CA/O=inkseal"),
        format!("/CN={name} Test Signer/O=inkseal"),
    );
    let genpkey = |out: &Path| {
        let mut args = vec!["genpkey".to_owned()];
        args.extend(key_type.genpkey_args());
        args.extend(["-out".to_owned(), s(out)]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        openssl(&args);
    };
    let digest: Vec<&str> = key_type.digest_arg().into_iter().collect();
    genpkey(&ca_key);
    let (ca_key_s, ca_pem_s) = (s(&ca_key), s(&ca_pem));
    let mut root = vec!["req", "-x509", "-new", "-days", "30", "-key", &ca_key_s];
    root.extend(&digest);
    root.extend([
        "-subj",
        &ca_subj,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        &ca_pem_s,
    ]);
    openssl(&root);
    genpkey(&key);
    openssl(&[
        "req",
        "-new",
        "-key",
        &s(&key),
        "-subj",
        &signer_subj,
        "-out",
        &s(&csr),
    ]);
    let (csr_s, ext_s, pem_s) = (s(&csr), s(&ext), s(&pem));
    let mut issue = vec!["x509", "-req", "-days", "30", "-in", &csr_s];
    issue.extend(&digest);
    issue.extend([
        "-CA",
        &ca_pem_s,
        "-CAkey",
        &ca_key_s,
        "-CAcreateserial",
        "-extfile",
        &ext_s,
        "-extensions",
        "leaf",
        "-out",
        &pem_s,
    ]);
    openssl(&issue);
    OpensslPki {
        ca_pem,
        signer_key: key,
        signer_pem: pem,
    }
}

/// Copies `src` to `dst` with one bit flipped inside the first signed range: in the binary
/// comment on the line after `%PDF-x.y`, so every parser still reads the file and only the
/// signature check can notice.
pub fn tamper_signed_bytes(src: &Path, dst: &Path) {
    let mut bytes = std::fs::read(src).unwrap_or_else(|e| panic!("read {}: {e}", src.display()));
    let at = bytes
        .windows(2)
        .position(|w| w == b"\n%")
        .filter(|&i| i < 64)
        .unwrap_or_else(|| panic!("{} has no comment line after its header", src.display()))
        + 2;
    bytes[at] ^= 0x01;
    std::fs::write(dst, bytes).unwrap_or_else(|e| panic!("write {}: {e}", dst.display()));
}
