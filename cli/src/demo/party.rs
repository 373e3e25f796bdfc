//! The people at the tablet: enrollment by a backend ticket, handwriting, and a co-signed,
//! time-stamped PAdES signature (B-T: the server's TSA time-stamps the co-signature, one
//! round trip after it), optionally bound to fresh liveness evidence of the very document.
//! The backend brings the finished document to B-LTA once every party has signed.

use super::backend::Backend;
use super::err;
use inkseal_capture::FileHooks;
use inkseal_ink::record::encrypt::InstitutionSecret;
use inkseal_ink::{Pad, Point, QualityRules};
use inkseal_pdf::sign::SignOptions;
use inkseal_sdk::{CaptureHookSet, CaptureRequest, CosignClient, InkPad, Pin, SealedHandwriting};
use std::path::Path;
use std::sync::Arc;

/// Capture hooks reading the sample ID card and face frames the demo writes into `dir`.
pub(super) fn capture_hooks(dir: &Path) -> Result<CaptureHookSet, String> {
    FileHooks::write_sample(dir).map_err(err)?;
    let files = Arc::new(FileHooks::new(dir));
    Ok(CaptureHookSet {
        id_card: Some(files.clone()),
        liveness: files,
        intent: None,
    })
}

/// An enrollment ticket from the backend: `(ticket, ticket id)`.
pub(super) async fn ticket(
    backend: &Backend,
    user_id: &str,
    certificate_name: &str,
    id_number: Option<String>,
) -> Result<(String, String), String> {
    let mut body = serde_json::json!({
        "user_id": user_id,
        "certificate_name": certificate_name,
    });
    if let Some(id) = id_number {
        body["id_number"] = serde_json::Value::String(id);
    }
    let ticket = backend
        .json(reqwest::Method::POST, "/v1/admin/tickets", Some(body))
        .await?;
    Ok((
        ticket["ticket"].as_str().ok_or("no ticket")?.to_owned(),
        ticket["ticket_id"].as_str().unwrap_or_default().to_owned(),
    ))
}

/// A signature written on a 600 x 240 pad: `strokes` strokes whose shape `style` varies,
/// points arriving in batches as from the touch screen.
fn write_signature(pad: &mut InkPad, strokes: u32, style: f32) -> Result<(), String> {
    for k in 0..strokes {
        pad.begin_stroke();
        let points: Vec<Point> = (0..80u32)
            .map(|i| {
                let s = i as f32 / 80.0;
                let x = 60.0
                    + 480.0 / strokes as f32 * k as f32
                    + 110.0 * s
                    + 14.0 * (s * 16.0 * style).sin();
                let y = 120.0 + 65.0 * (s * 6.5 * style + k as f32).cos();
                Point::new(x, y, k * 1100 + i * 9).with_pressure(0.55 + 0.3 * (s * 4.0).sin())
            })
            .collect();
        for batch in points.chunks(6) {
            pad.add_points(batch).map_err(err)?;
        }
        pad.end_stroke();
    }
    Ok(())
}

/// Handwriting written on the tablet and sealed to the bank: the sealed record (for the
/// signature) and a PNG of the ink.
pub(super) struct Written {
    pub(super) sealed: SealedHandwriting,
    pub(super) png: Vec<u8>,
    pub(super) points: usize,
    pub(super) duration_ms: u64,
}

pub(super) fn handwriting(
    bank: &InstitutionSecret,
    strokes: u32,
    style: f32,
) -> Result<Written, String> {
    let mut pad = InkPad::new(Pad {
        width: 600.0,
        height: 240.0,
        dpi: 160.0,
    })
    .map_err(err)?;
    write_signature(&mut pad, strokes, style)?;
    let written = pad
        .finish(
            &QualityRules::default(),
            "inkseal demo pad",
            1_790_000_000_000,
        )
        .map_err(err)?;
    let sealed = written.seal_for(&bank.public_key()).map_err(err)?;
    Ok(Written {
        png: pad.to_png(480, [15, 30, 120]).map_err(err)?,
        points: written.quality().points,
        duration_ms: u64::from(written.quality().duration_ms),
        sealed,
    })
}

/// What a co-signature is bound to.
pub(super) enum Binding<'a> {
    /// Fresh liveness evidence of the prepared document, captured through `hooks_dir`.
    Liveness { hooks_dir: &'a Path },
    /// Nothing beyond the PIN and the device key (a key whose policy needs no liveness).
    PinOnly,
}

/// A co-signed B-T signature of `input`: prepare on the tablet, bind evidence if asked,
/// co-sign, then the signature time-stamp in one more round trip. Returns the bytes to append
/// and the evidence manifest head (when liveness was captured).
pub(super) async fn cosign_time_stamped(
    client: &CosignClient,
    key: &str,
    pin: &Pin,
    input: &[u8],
    options: &SignOptions,
    binding: Binding<'_>,
) -> Result<(Vec<u8>, Option<[u8; 32]>), String> {
    let mut options = options.clone();
    options.time_stamped = true;
    let prepared = client.prepare_pdf(key, input, &options).map_err(err)?;
    let head = match binding {
        Binding::Liveness { hooks_dir } => Some(
            client
                .capture_evidence(
                    key,
                    capture_hooks(hooks_dir)?,
                    CaptureRequest {
                        documents: vec![prepared.document_digest()],
                        ..Default::default()
                    },
                )
                .await
                .map_err(err)?
                .head,
        ),
        Binding::PinOnly => None,
    };
    let tail = client
        .sign_prepared_pdf(pin, &prepared, head)
        .await
        .map_err(err)?;
    Ok((tail, head))
}
