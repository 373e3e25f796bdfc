//! `inkseal sign` and `inkseal verify`.

use clap::Args;
use inkseal_ink::{Pad, Point, Stroke};
use inkseal_pdf::appearance::{AppearanceSpec, InkStrokes};
use inkseal_pdf::changes::ModificationLevel;
use inkseal_pdf::sign::{Certification, Placement, SignOptions};
use inkseal_pdf::signer::LocalSigner;
use inkseal_pdf::verify::{Verdict, VerifyOptions, verify};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `inkseal sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    /// PDF to sign.
    input: PathBuf,
    /// Where to write the signed PDF (written atomically).
    output: PathBuf,
    #[command(flatten)]
    signer: LocalKeyArgs,
    /// Page for a visible signature (1-based).
    #[arg(long)]
    page: Option<u32>,
    /// Rectangle `x,y,w,h` in points from the page's bottom-left.
    #[arg(long, requires = "page")]
    rect: Option<String>,
    /// Place the signature right after this text (e.g. "借款人（签字）：").
    #[arg(long, conflicts_with = "rect")]
    keyword: Option<String>,
    /// Signature box `w,h` in points for --keyword.
    #[arg(long, default_value = "150,50")]
    size: String,
    /// Sign an existing, empty signature field by name.
    #[arg(long, conflicts_with_all = ["page", "rect"])]
    field: Option<String>,
    /// Name for a new signature field.
    #[arg(long)]
    field_name: Option<String>,
    /// Handwriting strokes (JSON: {"width":W,"height":H,"strokes":[[[x,y],...],...]}).
    #[arg(long)]
    ink: Option<PathBuf>,
    /// A PNG or JPEG of the handwriting (instead of --ink).
    #[arg(long, conflicts_with = "ink")]
    image: Option<PathBuf>,
    /// Text under the handwriting (default: the certificate's common name and the time).
    #[arg(long)]
    label: Option<String>,
    /// The font the label is drawn from as outlines (default: $INKSEAL_SEAL_FONT, else
    /// Debian's fonts-wqy-microhei). Needed only for a visible signature.
    #[arg(long)]
    label_font: Option<PathBuf>,
    /// Make it a certification signature (DocMDP P=2: form filling and signing allowed).
    #[arg(long)]
    certify: bool,
    /// Add a new visible field to a document certified with DocMDP P=2 anyway: its
    /// certification permits signing only the fields it left (use --field), so this breaks
    /// it, and validators will say so.
    #[arg(long)]
    allow_breaking_certification: bool,
    /// PAdES level: B-B (the signature alone) or B-T (with a signature time-stamp from
    /// --timestamp). B-T is the default when --timestamp is given.
    #[arg(long, value_enum)]
    level: Option<Level>,
    /// An RFC 3161 time-stamping authority's URL (e.g. `https://host:8440/v1/tsa`, or any
    /// public TSA) for the signature time-stamp (PAdES B-T) and, for B-LTA, the document
    /// time-stamp.
    #[arg(long)]
    timestamp: Option<String>,
    /// B-LT/B-LTA: trust anchors (PEM, every certificate in each file) for the paths of the
    /// signer and the TSA whose revocation data goes into the DSS.
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// B-LT/B-LTA: an OCSP responder (e.g. `https://host:8440/v1/ocsp`) for every certificate
    /// no --revocation file covers. Without it, each certificate's own (authorityInfoAccess).
    #[arg(long)]
    ocsp: Option<String>,
    /// B-LT/B-LTA: revocation data gathered elsewhere (a DER OCSP response or CRL), repeatable.
    #[arg(long)]
    revocation: Vec<PathBuf>,
    /// `/Reason`.
    #[arg(long)]
    reason: Option<String>,
    /// `/Location`.
    #[arg(long)]
    location: Option<String>,
}

/// The file at `path`, refused when it is larger than `limit` bytes (read no further).
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut data = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if data.len() as u64 > limit {
        return Err(format!("{}: larger than {limit} bytes", path.display()));
    }
    Ok(data)
}

/// Every certificate (DER) in the PEM files `paths`: the trust anchors of a verification.
pub(crate) fn read_trust_anchors(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, String> {
    let mut anchors = Vec::new();
    for t in paths {
        let pem = std::fs::read(t).map_err(|e| format!("trust anchor {}: {e}", t.display()))?;
        let ders = inkseal_pdf::signer::parse_certificate_chain(&pem)
            .map_err(|e| format!("trust anchor {}: {e}", t.display()))?;
        anchors.extend(ders);
    }
    Ok(anchors)
}

/// A local signing key and its certificates (`--key`, `--cert`, `--chain`).
#[derive(Args, Debug)]
pub struct LocalKeyArgs {
    /// Private key (PEM, PKCS#8 or SEC1; SM2 or P-256).
    #[arg(long)]
    key: PathBuf,
    /// Signer certificate (PEM).
    #[arg(long)]
    cert: PathBuf,
    /// Intermediate certificates (PEM), in order.
    #[arg(long)]
    chain: Vec<PathBuf>,
}

impl LocalKeyArgs {
    /// The signer these files make.
    pub(crate) fn signer(&self) -> Result<LocalSigner, String> {
        LocalSigner::from_pem_files(&self.key, &self.cert, &self.chain).map_err(|e| e.to_string())
    }
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `2026-11-24 10:30 UTC` from a PDF date.
pub(crate) fn human_time(unix: u64) -> String {
    let d = inkseal_pdf::sign::pdf_date(unix);
    let n = |a: usize, b: usize| d.get(a..b).unwrap_or("");
    format!(
        "{}-{}-{} {}:{} UTC",
        n(2, 6),
        n(6, 8),
        n(8, 10),
        n(10, 12),
        n(12, 14)
    )
}

fn parse_numbers(s: &str, count: usize, what: &str) -> Result<Vec<f64>, String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("{what}, got {s:?}"))?;
    if v.len() == count {
        Ok(v)
    } else {
        Err(format!("{what}, got {s:?}"))
    }
}

pub(crate) fn parse_rect(s: &str) -> Result<[f64; 4], String> {
    let v = parse_numbers(s, 4, "--rect must be x,y,w,h numbers")?;
    Ok([v[0], v[1], v[2], v[3]])
}

/// Reads a stroke file: `{"width": W, "height": H, "dpi": D?, "strokes": [[[x, y, t_ms?,
/// pressure?], ...], ...]}` in pad units (origin top-left). Points without a time are spaced
/// 8 ms apart; without a pressure they are drawn at mid pressure.
fn read_ink(path: &PathBuf) -> Result<InkStrokes, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if text.len() > 8 << 20 {
        return Err(format!("{}: stroke file larger than 8 MiB", path.display()));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let num = |v: &serde_json::Value| v.as_f64().map(|f| f as f32);
    let pad = Pad {
        width: num(&v["width"]).ok_or("stroke file needs a numeric \"width\"")?,
        height: num(&v["height"]).ok_or("stroke file needs a numeric \"height\"")?,
        dpi: num(&v["dpi"]).unwrap_or(160.0),
    };
    pad.validate().map_err(|e| e.to_string())?;
    let mut clock = 0u32;
    let strokes = v["strokes"]
        .as_array()
        .ok_or("stroke file needs a \"strokes\" array")?
        .iter()
        .map(|s| {
            let points = s
                .as_array()
                .ok_or("each stroke is an array of [x, y, t_ms?, pressure?] points")?
                .iter()
                .map(|p| {
                    let (Some(x), Some(y)) = (num(&p[0]), num(&p[1])) else {
                        return Err("each point starts with x, y");
                    };
                    clock = p[2].as_u64().map_or(clock.saturating_add(8), |t| {
                        u32::try_from(t).unwrap_or(u32::MAX)
                    });
                    Ok(Point::new(x, y, clock).with_pressure(num(&p[3]).unwrap_or(0.5)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Stroke { points })
        })
        .collect::<Result<Vec<_>, &str>>()?;
    Ok(InkStrokes { pad, strokes })
}

/// A PAdES baseline level `inkseal sign` produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    /// B-B: the signature alone; its time is only the signer's claim (`/M`).
    #[value(name = "B-B")]
    BB,
    /// B-T: with a signature time-stamp token from a TSA.
    #[value(name = "B-T")]
    BT,
    /// B-LT: B-T, then the certificates and revocation data of the signer's and the TSA's
    /// paths in the DSS.
    #[value(name = "B-LT")]
    BLt,
    /// B-LTA: B-LT, then a document time-stamp over it all.
    #[value(name = "B-LTA")]
    BLta,
}

pub fn sign(args: SignArgs) -> Result<(), String> {
    let signer = args.signer.signer()?;
    let level = args.level.unwrap_or(if args.timestamp.is_some() {
        Level::BT
    } else {
        Level::BB
    });
    let tsa_url = match (level, &args.timestamp) {
        (Level::BB, None) => None,
        (Level::BB, Some(_)) => return Err("--timestamp makes a B-T signature, not B-B".into()),
        (_, None) => return Err("--level B-T, B-LT and B-LTA need --timestamp URL".into()),
        (_, Some(url)) => Some(url.clone()),
    };
    if matches!(level, Level::BLt | Level::BLta) && args.trust.is_empty() {
        return Err(
            "--level B-LT and B-LTA need --trust (the roots of the signer and the TSA)".into(),
        );
    }
    let long_term = LongTerm {
        archive: level == Level::BLta,
        trust: args.trust.clone(),
        ocsp: args.ocsp.clone(),
        revocation: args.revocation.clone(),
    };
    let time = now();
    let mut options = SignOptions::new(time);
    options.time_stamped = tsa_url.is_some();
    options.field_name = args.field_name;
    options.reason = args.reason;
    options.location = args.location;
    options.placement = match (args.field, args.page, args.rect) {
        (Some(f), _, _) => Placement::Field(f),
        (None, page, None) if args.keyword.is_some() => {
            let [w, h, ..] = parse_numbers(&args.size, 2, "--size must be w,h")?[..] else {
                return Err("--size must be w,h".into());
            };
            Placement::Keyword {
                text: args.keyword.unwrap_or_default(),
                page,
                size: [w, h],
            }
        }
        (None, Some(page), Some(rect)) => Placement::Rect {
            page,
            rect: parse_rect(&rect)?,
        },
        _ => Placement::Invisible,
    };
    if args.certify {
        options.certify = Some(Certification::FormFillingAndSigning);
    }
    options.allow_breaking_certification = args.allow_breaking_certification;
    let name = signer.common_name().unwrap_or_default();
    options.signer_name = Some(name.clone()).filter(|n| !n.is_empty());
    options.appearance = AppearanceSpec {
        ink: args.ink.as_ref().map(read_ink).transpose()?,
        image: args
            .image
            .as_ref()
            .map(|p| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display())))
            .transpose()?,
        ..Default::default()
    };
    if !matches!(options.placement, Placement::Invisible) {
        options.appearance.label = vec![args.label.unwrap_or(name), human_time(time)];
        options.appearance.label_font = Some(crate::fonts::label_font(args.label_font.as_deref())?);
    }
    match tsa_url {
        None => inkseal_pdf::sign::sign_file(&args.input, &args.output, &options, &signer)
            .map_err(|e| e.to_string())?,
        Some(url) => {
            let long_term = matches!(level, Level::BLt | Level::BLta).then_some(&long_term);
            sign_time_stamped(
                &args.input,
                &args.output,
                &options,
                &signer,
                &url,
                long_term,
            )?
        }
    }
    println!(
        "signed {} -> {}",
        args.input.display(),
        args.output.display()
    );
    Ok(())
}

/// Sign with a signature time-stamp from the TSA at `url` (PAdES B-T), writing atomically.
/// What B-LT and B-LTA add after the signature time-stamp.
struct LongTerm {
    archive: bool,
    trust: Vec<PathBuf>,
    ocsp: Option<String>,
    revocation: Vec<PathBuf>,
}

fn sign_time_stamped(
    input: &std::path::Path,
    output: &std::path::Path,
    options: &SignOptions,
    signer: &LocalSigner,
    url: &str,
    long_term: Option<&LongTerm>,
) -> Result<(), String> {
    use inkseal_pdf::signer::Signer as _;
    let data = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let prepared = inkseal_pdf::sign::prepare(
        &data,
        options,
        signer.algorithm(),
        signer.certificate_chain(),
    )
    .map_err(|e| e.to_string())?;
    let signature = signer
        .sign(prepared.to_be_signed())
        .map_err(|e| e.to_string())?;
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| format!("random generator: {e}"))?;
    let step = prepared
        .await_time_stamp(&signature, &nonce)
        .map_err(|e| e.to_string())?;
    let reply = fetch_time_stamp(url, step.request_der().map_err(|e| e.to_string())?)?;
    let tail = step
        .finish(&reply)
        .map_err(|e| format!("time-stamp from {url}: {e}"))?;
    let extra = match long_term {
        None => Vec::new(),
        Some(lt) => add_long_term(&[data.as_slice(), &tail].concat(), lt, url)?,
    };
    inkseal_pdf::sign::write_atomically(output, &[&data, &tail, &extra]).map_err(|e| e.to_string())
}

/// The DSS revision (and, for B-LTA, the document time-stamp) for the signed `pdf`: every
/// certificate on the signer's and the TSA's paths to `--trust`, and revocation data for each
/// link from the `--revocation` files or, where none covers it, from `--ocsp` or else the OCSP
/// responder the certificate names (which must say good).
fn add_long_term(pdf: &[u8], lt: &LongTerm, tsa_url: &str) -> Result<Vec<u8>, String> {
    use inkseal_pdf::ltv::{
        ValidationData, add_dss, prepare_document_time_stamp, validation_needs,
    };
    let limits = inkseal_pdf::Limits::default();
    let mut anchors = Vec::new();
    for t in &lt.trust {
        let pem = std::fs::read(t).map_err(|e| format!("{}: {e}", t.display()))?;
        anchors.extend(
            inkseal_pdf::signer::parse_certificate_chain(&pem)
                .map_err(|e| format!("{}: {e}", t.display()))?,
        );
    }
    let paths = validation_needs(pdf, &anchors, &limits).map_err(|e| e.to_string())?;
    let mut data = ValidationData::default();
    for file in &lt.revocation {
        let der = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        if inkseal_pki::parse_ocsp_response(&der).is_ok() {
            data.ocsp_responses.push(der);
        } else if <x509_cert::crl::CertificateList as der::Decode>::from_der(&der).is_ok() {
            data.crls.push(der);
        } else {
            return Err(format!(
                "{}: neither a DER OCSP response nor a DER CRL",
                file.display()
            ));
        }
    }
    for path in &paths {
        // add_dss writes each certificate once.
        data.certificates.extend(path.certificates.iter().cloned());
        for (cert, issuer) in path.revocation_pairs() {
            if covered(&data, cert, issuer) {
                continue;
            }
            let named = inkseal_pki::certificate_ocsp_url(cert).map_err(|e| e.to_string())?;
            let url = lt.ocsp.clone().or(named).ok_or_else(|| {
                format!(
                    "{}: no revocation data for a certificate on its path, and it names no OCSP \
                     responder; give --ocsp URL or --revocation FILE",
                    path.context
                )
            })?;
            data.ocsp_responses.push(fetch_ocsp(&url, cert, issuer)?);
        }
    }
    let dss = add_dss(pdf, &data, &limits).map_err(|e| e.to_string())?;
    if !lt.archive {
        return Ok(dss);
    }
    let with_dss = [pdf, dss.as_slice()].concat();
    let suite = inkseal_pdf::cms::SignatureAlgorithm::EcdsaP256Sha256;
    let prepared =
        prepare_document_time_stamp(&with_dss, suite, None, &limits).map_err(|e| e.to_string())?;
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| format!("random generator: {e}"))?;
    let request = prepared
        .time_stamp_request(&nonce)
        .map_err(|e| e.to_string())?;
    let reply = fetch_time_stamp(tsa_url, request.to_der().map_err(|e| e.to_string())?)?;
    let token = inkseal_pdf::tsp::check_reply(&request, &reply)
        .map_err(|e| format!("document time-stamp from {tsa_url}: {e}"))?;
    let archive = prepared.finish(&token).map_err(|e| e.to_string())?;
    Ok([dss, archive].concat())
}

/// Whether the revocation data already holds an OCSP status for `cert`, or a CRL from its
/// issuer.
fn covered(data: &inkseal_pdf::ltv::ValidationData, cert: &[u8], issuer: &[u8]) -> bool {
    let by_ocsp = data.ocsp_responses.iter().any(|der| {
        inkseal_pki::parse_ocsp_response(der).is_ok_and(|r| r.status_of(cert, issuer).is_some())
    });
    let issuer_name = <x509_cert::Certificate as der::Decode>::from_der(issuer)
        .map(|c| c.tbs_certificate().subject().clone());
    let by_crl = data.crls.iter().any(|der| {
        <x509_cert::crl::CertificateList as der::Decode>::from_der(der).is_ok_and(|crl| {
            issuer_name
                .as_ref()
                .is_ok_and(|n| crl.tbs_cert_list.issuer == *n)
        })
    });
    by_ocsp || by_crl
}

/// Ask the OCSP responder at `url` about `cert` (issued by `issuer`); it must answer good for
/// it and echo the nonce.
fn fetch_ocsp(url: &str, cert: &[u8], issuer: &[u8]) -> Result<Vec<u8>, String> {
    use inkseal_pki::{CertId, CertIdHash, CertificateStatus};
    let id =
        CertId::for_certificate(cert, issuer, CertIdHash::Sha256).map_err(|e| e.to_string())?;
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| format!("random generator: {e}"))?;
    let request = inkseal_pki::ocsp_request(&[id], Some(&nonce)).map_err(|e| e.to_string())?;
    let der = post_der(url, "application/ocsp-request", request, 64 * 1024)?;
    let response =
        inkseal_pki::parse_ocsp_response(&der).map_err(|e| format!("OCSP from {url}: {e}"))?;
    if !response
        .nonce
        .as_deref()
        .is_some_and(|n| n.ends_with(&nonce))
    {
        return Err(format!(
            "OCSP from {url}: the response does not carry our nonce"
        ));
    }
    match response.status_of(cert, issuer).map(|s| s.status) {
        Some(CertificateStatus::Good) => Ok(der),
        Some(CertificateStatus::Revoked { at_unix, .. }) => Err(format!(
            "OCSP from {url}: a certificate on the path was revoked at {} (Unix)",
            at_unix
        )),
        _ => Err(format!(
            "OCSP from {url}: no good status for a certificate on the path"
        )),
    }
}

/// POST an RFC 3161 request (`application/timestamp-query`) and read the reply, at most
/// [`inkseal_pdf::tsp::MAX_REPLY_BYTES`], within 30 seconds.
fn fetch_time_stamp(url: &str, request: Vec<u8>) -> Result<Vec<u8>, String> {
    post_der(
        url,
        "application/timestamp-query",
        request,
        inkseal_pdf::tsp::MAX_REPLY_BYTES,
    )
}

/// POST `body` as `content_type` and read a 200 answer of at most `limit` bytes, within 30
/// seconds.
fn post_der(url: &str, content_type: &str, body: Vec<u8>, limit: usize) -> Result<Vec<u8>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        let mut response = client
            .post(url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("request to {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered HTTP {}", response.status()));
        }
        let mut answer = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading the reply from {url}: {e}"))?
        {
            if answer.len() + chunk.len() > limit {
                return Err(format!("the reply from {url} is larger than {limit} bytes"));
            }
            answer.extend_from_slice(&chunk);
        }
        Ok(answer)
    })
}

/// Options of `inkseal verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// PDF to verify.
    file: PathBuf,
    /// Trust anchor certificates (PEM, every certificate in each file); chains are judged only
    /// when given.
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// Print JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

/// Exit 0 when every signature is valid and followed only by allowed changes, 1 when any
/// check fails, 2 when the file cannot be read as a PDF, 3 when nothing failed but some
/// signature uses an algorithm inkseal cannot check (RSA, P-384, Ed25519...).
pub fn verify_cmd(args: VerifyArgs) -> ExitCode {
    let anchors = match read_trust_anchors(&args.trust) {
        Ok(anchors) => anchors,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let data = match std::fs::read(&args.file) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let options = VerifyOptions {
        trust_anchors: anchors,
        at_unix: Some(now()),
        ..Default::default()
    };
    let report = match verify(&data, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    if args.json {
        let sigs: Vec<serde_json::Value> = report
            .signatures
            .iter()
            .map(|s| {
                serde_json::json!({
                    "field": s.field,
                    "pages": s.pages,
                    "ok": s.is_ok(),
                    "verdict": match s.verdict() {
                        Verdict::Valid => "valid",
                        Verdict::CannotCheck => "cannot_check",
                        Verdict::Invalid => "invalid",
                    },
                    "cannot_check": s.cannot_check,
                    "byte_range": s.byte_range,
                    "coverage": s.coverage.map(|c| format!("{c:?}")),
                    "revision": s.revision,
                    "signing_time": s.signing_time,
                    "sub_filter": s.sub_filter,
                    "algorithm": s.algorithm,
                    "signer": s.signer,
                    "digest_valid": s.digest_valid,
                    "signature_valid": s.signature_valid,
                    "trusted": s.trusted,
                    "chain_checked_at": s.chain_checked_at,
                    "document_time_stamp": s.document_time_stamp,
                    "revocation": s.revocation.as_ref().map(|r| serde_json::json!({
                        "at_unix": r.at_unix,
                        "ltv": r.ltv,
                        "missing": r.missing,
                    })),
                    "time_stamp": s.time_stamp.as_ref().map(|t| serde_json::json!({
                        "time_unix_millis": t.time_unix_millis,
                        "time": human_time(t.time_unix_millis / 1000),
                        "tsa": t.tsa,
                        "valid": t.valid,
                        "trusted": t.trusted,
                    })),
                    "certification_level": s.certification,
                    "changes_after": s.changes.as_ref().map(|c| format!("{c:?}")),
                    "modification_level": s.modification_level.map(|l| l.name()),
                    "level_decided_by": s.level_decided_by,
                    "weak_algorithm": s.weak_algorithm,
                    "problems": s.problems,
                    "advice": s.advice(),
                })
            })
            .collect();
        let out = serde_json::json!({
            "file": args.file.display().to_string(),
            "revisions": report.revisions,
            "all_ok": report.all_ok(),
            "signatures": sigs,
        });
        println!("{out:#}");
    } else {
        println!(
            "{}: {} signature(s), {} revision(s)",
            args.file.display(),
            report.signatures.len(),
            report.revisions
        );
        for s in &report.signatures {
            println!(
                "- {} [{}] signer: {}; signed {}; {}",
                s.field,
                match s.verdict() {
                    Verdict::Valid => "VALID",
                    Verdict::CannotCheck => "CANNOT CHECK",
                    Verdict::Invalid => "INVALID",
                },
                s.signer.as_deref().unwrap_or("?"),
                s.signing_time.as_deref().unwrap_or("?"),
                match s.trusted {
                    Some(true) => "chain trusted",
                    Some(false) => "chain NOT trusted",
                    None => "chain not checked (no --trust)",
                }
            );
            if s.pages.len() > 1 {
                println!("  shown on pages {:?}", s.pages);
            }
            println!(
                "  covers: {:?} of revision {}; after it: {}",
                s.coverage,
                s.revision.unwrap_or(0),
                match &s.changes {
                    Some(inkseal_pdf::changes::Changes::None) => "nothing".to_string(),
                    Some(inkseal_pdf::changes::Changes::SignaturesAndForms) =>
                        "only signatures and form fields".to_string(),
                    Some(inkseal_pdf::changes::Changes::Other(_)) => "OTHER CHANGES".to_string(),
                    None => "unknown".to_string(),
                }
            );
            if let Some(level) = s
                .modification_level
                .filter(|l| *l != ModificationLevel::None)
            {
                println!(
                    "  modification level: {}{}",
                    level.name(),
                    s.level_decided_by
                        .as_deref()
                        .map(|why| format!(" (decided by {why})"))
                        .unwrap_or_default()
                );
            }
            if let Some(t) = &s.time_stamp {
                println!(
                    "  time-stamped {} by {} ({})",
                    human_time(t.time_unix_millis / 1000),
                    t.tsa,
                    match (t.valid, t.trusted) {
                        (false, _) => "INVALID",
                        (true, Some(true)) => "valid, TSA trusted",
                        (true, Some(false)) => "valid, TSA NOT trusted",
                        (true, None) => "valid, TSA not checked",
                    }
                );
            }
            if let Some(what) = &s.cannot_check {
                println!(
                    "  cannot check: {what}; the signed bytes are {}",
                    if s.digest_valid {
                        "intact"
                    } else {
                        "not known to be intact"
                    }
                );
            }
            for p in &s.problems {
                println!("  problem: {p}");
            }
            if let Some(advice) = s.advice() {
                println!("  what to do: {advice}");
            }
        }
        if report.signatures.is_empty() {
            println!("no signatures found");
        }
    }
    let verdicts: Vec<Verdict> = report.signatures.iter().map(|s| s.verdict()).collect();
    if report.all_ok() {
        ExitCode::SUCCESS
    } else if !verdicts.is_empty()
        && !verdicts.contains(&Verdict::Invalid)
        && verdicts.contains(&Verdict::CannotCheck)
    {
        ExitCode::from(3)
    } else {
        ExitCode::from(1)
    }
}
