//! The traits the app (or a vendor SDK wrapped by the app) implements to do the camera and
//! microphone work, and the data they return.
//!
//! The traits are synchronous and object safe, and require `Send + Sync` so that the binding
//! layer can hold them as `Arc<dyn ...>` callback objects (UniFFI callback interfaces). A hook
//! blocks until the user has finished (or cancelled); the SDK calls it from a worker thread,
//! never the UI thread.
//!
//! Errors: [`HookError::Cancelled`] when the user backs out, [`HookError::Unavailable`] when
//! the capability is missing (no camera, permission refused, vendor SDK not installed),
//! [`HookError::Failed`] otherwise. The binding layer maps an unexpected foreign exception
//! thrown by the hook to `Failed` with its message.
//!
//! What a hook returns is checked against the limits below before anything else is done with
//! it ([`LivenessCapture::check_limits`], ...).

use crate::challenge::LivenessChallenge;
use crate::id_card::IdCardFields;
use crate::quality::FaceBox;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Most frames a liveness capture may return.
pub const MAX_FRAMES: usize = 16;
/// Largest vendor package accepted from a hook: 4 MiB.
pub const MAX_VENDOR_PACKAGE_BYTES: usize = 4 * 1024 * 1024;
/// Most client events a liveness capture may return.
pub const MAX_EVENTS: usize = 256;
/// Longest event kind, in bytes.
pub const MAX_EVENT_KIND_BYTES: usize = 64;
/// Longest event detail, in bytes.
pub const MAX_EVENT_DETAIL_BYTES: usize = 1024;
/// Longest vendor name or reference, in bytes.
pub const MAX_VENDOR_FIELD_BYTES: usize = 256;
/// Largest intent recording accepted: 64 MiB.
pub const MAX_MEDIA_BYTES: usize = 64 * 1024 * 1024;
/// Longest intent statement, in bytes.
pub const MAX_STATEMENT_BYTES: usize = 1024;

/// Why a hook did not deliver.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// The user cancelled.
    #[error("cancelled by the user")]
    Cancelled,
    /// The capability is not available on this device.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The capture failed (including an exception thrown by foreign code).
    #[error("failed: {0}")]
    Failed(String),
}

/// Face liveness: show the challenge's actions, film the user, run the vendor's liveness SDK.
pub trait FaceLivenessHook: Send + Sync {
    /// Capture for `challenge`. The vendor package must bind `challenge.nonce_hex`.
    fn capture(&self, challenge: &LivenessChallenge) -> Result<LivenessCapture, HookError>;
}

/// ID card: photograph front and back and read the fields (OCR or NFC).
pub trait IdCardHook: Send + Sync {
    /// Capture the card.
    fn capture(&self) -> Result<IdCardCapture, HookError>;
}

/// Intent recording (意愿录音/录像): the user reads a statement aloud on camera or microphone.
pub trait IntentRecordingHook: Send + Sync {
    /// Show `statement`, record the user reading it.
    fn record(&self, statement: &str) -> Result<IntentRecording, HookError>;
}

/// One camera frame.
#[derive(Clone, PartialEq, Eq)]
pub struct CapturedFrame {
    /// The encoded frame (JPEG or PNG).
    pub image: Vec<u8>,
    /// Where the face is, if the hook detected it.
    pub face_box: Option<FaceBox>,
    /// When it was taken, milliseconds since the Unix epoch.
    pub at_ms: u64,
}

impl fmt::Debug for CapturedFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapturedFrame")
            .field("image_bytes", &self.image.len())
            .field("face_box", &self.face_box)
            .field("at_ms", &self.at_ms)
            .finish()
    }
}

/// Something that happened during the capture, as the app or vendor SDK reports it (action
/// prompts, detected actions, retries). Recorded in the manifest and sent to the server.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientEvent {
    /// When, milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Short kind (`"prompt"`, `"action_detected"`, ...), at most 64 bytes.
    pub kind: String,
    /// Free text, at most 1024 bytes.
    pub detail: String,
}

/// What a [`FaceLivenessHook`] returns.
#[derive(Clone, PartialEq, Eq)]
pub struct LivenessCapture {
    /// The frames the vendor's package refers to, in capture order (1 to [`MAX_FRAMES`]).
    pub frames: Vec<CapturedFrame>,
    /// The liveness vendor (`"inkseal-test-vendor"`, `"tencent-faceid"`, ...).
    pub vendor_name: String,
    /// The vendor's reference of this capture (its session or order id).
    pub vendor_reference: String,
    /// The vendor SDK's opaque result package, checked by the server's vendor adapter.
    pub vendor_package: Vec<u8>,
    /// What happened during the capture.
    pub events: Vec<ClientEvent>,
}

impl fmt::Debug for LivenessCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LivenessCapture")
            .field("frames", &self.frames)
            .field("vendor_name", &self.vendor_name)
            .field("vendor_reference", &self.vendor_reference)
            .field("vendor_package_bytes", &self.vendor_package.len())
            .field("events", &self.events.len())
            .finish()
    }
}

fn vendor_field_ok(s: &str) -> bool {
    !s.trim().is_empty() && s.len() <= MAX_VENDOR_FIELD_BYTES && !s.chars().any(char::is_control)
}

/// Check event limits; shared with the submission's checks.
pub(crate) fn check_events(events: &[ClientEvent]) -> Result<(), String> {
    if events.len() > MAX_EVENTS {
        return Err(format!("{} events, at most {MAX_EVENTS}", events.len()));
    }
    for (i, e) in events.iter().enumerate() {
        if e.kind.is_empty() || e.kind.len() > MAX_EVENT_KIND_BYTES {
            return Err(format!(
                "event {i}: kind must be 1-{MAX_EVENT_KIND_BYTES} bytes"
            ));
        }
        if e.detail.len() > MAX_EVENT_DETAIL_BYTES {
            return Err(format!(
                "event {i}: detail longer than {MAX_EVENT_DETAIL_BYTES} bytes"
            ));
        }
    }
    Ok(())
}

impl LivenessCapture {
    /// Refuse a capture that breaks the limits: 1 to [`MAX_FRAMES`] frames, no frame larger
    /// than `max_frame_bytes`, a non-empty vendor package of at most
    /// [`MAX_VENDOR_PACKAGE_BYTES`], a vendor name and reference of 1-256 bytes without control
    /// characters, at most [`MAX_EVENTS`] events of bounded size.
    pub fn check_limits(&self, max_frame_bytes: u64) -> Result<(), String> {
        if self.frames.is_empty() {
            return Err("no frames".into());
        }
        if self.frames.len() > MAX_FRAMES {
            return Err(format!(
                "{} frames, at most {MAX_FRAMES}",
                self.frames.len()
            ));
        }
        if let Some(i) = self
            .frames
            .iter()
            .position(|f| f.image.len() as u64 > max_frame_bytes)
        {
            return Err(format!("frame {i} is larger than {max_frame_bytes} bytes"));
        }
        if self.vendor_package.is_empty() || self.vendor_package.len() > MAX_VENDOR_PACKAGE_BYTES {
            return Err(format!(
                "vendor package must be 1-{MAX_VENDOR_PACKAGE_BYTES} bytes"
            ));
        }
        if !vendor_field_ok(&self.vendor_name) || !vendor_field_ok(&self.vendor_reference) {
            return Err(
                "vendor name and reference must be 1-256 bytes without control characters".into(),
            );
        }
        check_events(&self.events)
    }
}

/// What an [`IdCardHook`] returns.
#[derive(Clone, PartialEq, Eq)]
pub struct IdCardCapture {
    /// Photo of the front (portrait side), JPEG or PNG.
    pub front: Vec<u8>,
    /// Photo of the back (emblem side), JPEG or PNG.
    pub back: Vec<u8>,
    /// The fields read from the card.
    pub fields: IdCardFields,
}

impl fmt::Debug for IdCardCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdCardCapture")
            .field("front_bytes", &self.front.len())
            .field("back_bytes", &self.back.len())
            .field("fields", &self.fields)
            .finish()
    }
}

/// What an [`IntentRecordingHook`] returns.
#[derive(Clone, PartialEq, Eq)]
pub struct IntentRecording {
    /// The recording (audio or video), at most [`MAX_MEDIA_BYTES`].
    pub media: Vec<u8>,
    /// Its MIME type (`"video/mp4"`, `"audio/wav"`, ...).
    pub media_type: String,
    /// The statement that was shown (must equal the one asked for).
    pub statement: String,
    /// Start, milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// End, milliseconds since the Unix epoch.
    pub ended_at_ms: u64,
}

impl fmt::Debug for IntentRecording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntentRecording")
            .field("media_bytes", &self.media.len())
            .field("media_type", &self.media_type)
            .field("statement", &self.statement)
            .field("started_at_ms", &self.started_at_ms)
            .field("ended_at_ms", &self.ended_at_ms)
            .finish()
    }
}

impl IntentRecording {
    /// Refuse a recording that is empty or larger than [`MAX_MEDIA_BYTES`], whose media type is
    /// not `type/subtype` (ASCII, at most 100 bytes), whose statement differs from `asked`, or
    /// whose end is not after its start.
    pub fn check(&self, asked: &str) -> Result<(), String> {
        if self.media.is_empty() || self.media.len() > MAX_MEDIA_BYTES {
            return Err(format!("media must be 1-{MAX_MEDIA_BYTES} bytes"));
        }
        let mt = &self.media_type;
        let well_formed = mt.len() <= 100
            && mt.split_once('/').is_some_and(|(t, s)| {
                let ok = |p: &str| {
                    !p.is_empty()
                        && p.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-' | b'_')
                        })
                };
                ok(t) && ok(s)
            });
        if !well_formed {
            return Err("media type is not type/subtype".into());
        }
        if self.statement != asked {
            return Err("the statement recorded is not the one asked for".into());
        }
        if self.ended_at_ms <= self.started_at_ms {
            return Err("recording ends before it starts".into());
        }
        Ok(())
    }
}
