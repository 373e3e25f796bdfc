//! Hooks that read a folder instead of a camera: for the demo, the tests and the desktop sample.
//!
//! Folder layout:
//!
//! ```text
//! face/                 liveness frames: *.jpg, *.jpeg or *.png, used in file-name order
//! face/face_boxes.json  optional: {"frame_00.jpg": {"x":..,"y":..,"width":..,"height":..}, ...}
//! face/verdict_hint.txt optional: the test vendor's verdict (default "live"; "spoof" simulates
//!                       a refusal by the server's test vendor)
//! id_front.jpg|.jpeg|.png
//! id_back.jpg|.jpeg|.png
//! id_fields.json        the IdCardFields JSON
//! intent.wav|.m4a|.aac|.mp3|.mp4|.mov|.webm   optional intent recording
//! ```
//!
//! The liveness hook answers the challenge with a [`crate::test_vendor`] package over the
//! frames it read (vendor `inkseal-test-vendor`), so the server's test vendor accepts it; the
//! events say which actions were "performed". Timestamps come from the hooks' [`Clock`]. A
//! missing folder gives [`HookError::Unavailable`]; a missing or malformed file
//! [`HookError::Failed`]. Every file read is size-limited.
//!
//! [`FileHooks::write_sample`] writes a complete valid folder from [`crate::samples`].

use crate::challenge::{LivenessChallenge, LivenessMode};
use crate::digest::sha256;
use crate::hooks::{
    CapturedFrame, ClientEvent, FaceLivenessHook, HookError, IdCardCapture, IdCardHook,
    IntentRecording, IntentRecordingHook, LivenessCapture, MAX_FRAMES, MAX_MEDIA_BYTES,
};
use crate::id_card::IdCardFields;
use crate::quality::{FaceBox, HARD_MAX_BYTES};
use crate::samples;
use crate::session::Clock;
use crate::test_vendor::{TEST_VENDOR_NAME, VERDICT_LIVE, make_with_verdict};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Largest JSON side file read (face boxes, fields, verdict): 64 KiB.
const MAX_SIDE_FILE_BYTES: u64 = 64 * 1024;
/// Duration the intent hook reports for a recording.
const INTENT_DURATION_MS: u64 = 5_000;
/// Image file extensions, lower case.
const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];
/// Intent recording extensions and their media types.
const MEDIA_TYPES: [(&str, &str); 7] = [
    ("wav", "audio/wav"),
    ("m4a", "audio/mp4"),
    ("aac", "audio/aac"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("mov", "video/quicktime"),
    ("webm", "video/webm"),
];

/// File-based implementation of all three hooks.
#[derive(Clone, Debug)]
pub struct FileHooks {
    dir: PathBuf,
    clock: Clock,
}

fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, HookError> {
    let file = fs::File::open(path)
        .map_err(|e| HookError::Failed(format!("cannot open {}: {e}", path.display())))?;
    let mut out = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut out)
        .map_err(|e| HookError::Failed(format!("cannot read {}: {e}", path.display())))?;
    if out.len() as u64 > max {
        return Err(HookError::Failed(format!(
            "{} is larger than {max} bytes",
            path.display()
        )));
    }
    Ok(out)
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// The first `stem.ext` that exists for `ext` in `extensions`.
fn find_with_stem(dir: &Path, stem: &str, extensions: &[&str]) -> Option<PathBuf> {
    extensions
        .iter()
        .map(|e| dir.join(format!("{stem}.{e}")))
        .find(|p| p.is_file())
}

impl FileHooks {
    /// Hooks over `dir`, with the system clock.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileHooks {
            dir: dir.into(),
            clock: Clock::System,
        }
    }

    /// Use `clock` for the timestamps.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn ensure_dir(&self) -> Result<(), HookError> {
        if self.dir.is_dir() {
            Ok(())
        } else {
            Err(HookError::Unavailable(format!(
                "{} is not a folder",
                self.dir.display()
            )))
        }
    }

    fn frame_paths(&self) -> Result<Vec<(String, PathBuf)>, HookError> {
        let face = self.dir.join("face");
        let entries = fs::read_dir(&face).map_err(|e| {
            HookError::Unavailable(format!("no face frames folder {}: {e}", face.display()))
        })?;
        let mut frames = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| HookError::Failed(e.to_string()))?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if path.is_file()
                && extension(&path).is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
            {
                frames.push((name, path));
            }
        }
        frames.sort();
        if frames.is_empty() {
            return Err(HookError::Failed(format!(
                "no *.jpg or *.png frames in {}",
                face.display()
            )));
        }
        if frames.len() > MAX_FRAMES {
            return Err(HookError::Failed(format!(
                "{} frames in {}, at most {MAX_FRAMES}",
                frames.len(),
                face.display()
            )));
        }
        Ok(frames)
    }

    /// Write a complete, valid sample folder into `dir` (created if needed): four 640×480 face
    /// frames with their face boxes, the front and back of a fictitious ID card
    /// ([`samples::sample_id_card_fields`], valid until 2040-05-01), its fields, and a
    /// 2-second `intent.wav`.
    pub fn write_sample(dir: &Path) -> io::Result<()> {
        let face = dir.join("face");
        fs::create_dir_all(&face)?;
        let mut boxes = BTreeMap::new();
        for i in 0..4u64 {
            let (jpeg, face_box) = samples::face_jpeg(640, 480, 1000 + i)?;
            let name = format!("frame_{i:02}.jpg");
            fs::write(face.join(&name), jpeg)?;
            boxes.insert(name, face_box);
        }
        fs::write(
            face.join("face_boxes.json"),
            serde_json::to_vec_pretty(&boxes).map_err(io::Error::other)?,
        )?;
        let fields = samples::sample_id_card_fields();
        fs::write(
            dir.join("id_front.jpg"),
            samples::id_card_front_jpeg(&fields, 7)?,
        )?;
        fs::write(
            dir.join("id_back.jpg"),
            samples::id_card_back_jpeg(&fields, 8)?,
        )?;
        fs::write(
            dir.join("id_fields.json"),
            serde_json::to_vec_pretty(&fields).map_err(io::Error::other)?,
        )?;
        fs::write(dir.join("intent.wav"), samples::wav_tone(2000, 440.0))?;
        Ok(())
    }
}

impl FaceLivenessHook for FileHooks {
    fn capture(&self, challenge: &LivenessChallenge) -> Result<LivenessCapture, HookError> {
        self.ensure_dir()?;
        let paths = self.frame_paths()?;
        let face = self.dir.join("face");
        let boxes: BTreeMap<String, FaceBox> = match face.join("face_boxes.json") {
            p if p.is_file() => serde_json::from_slice(&read_limited(&p, MAX_SIDE_FILE_BYTES)?)
                .map_err(|e| HookError::Failed(format!("face_boxes.json: {e}")))?,
            _ => BTreeMap::new(),
        };
        let verdict = match face.join("verdict_hint.txt") {
            p if p.is_file() => String::from_utf8(read_limited(&p, MAX_SIDE_FILE_BYTES)?)
                .map_err(|_| HookError::Failed("verdict_hint.txt is not UTF-8".into()))?
                .trim()
                .to_string(),
            _ => VERDICT_LIVE.to_string(),
        };
        let start = self.clock.now_ms();
        let mut frames = Vec::with_capacity(paths.len());
        for (i, (name, path)) in paths.iter().enumerate() {
            frames.push(CapturedFrame {
                image: read_limited(path, HARD_MAX_BYTES)?,
                face_box: boxes.get(name).copied(),
                at_ms: start + 100 * i as u64,
            });
        }
        let images: Vec<&[u8]> = frames.iter().map(|f| f.image.as_slice()).collect();
        let package = make_with_verdict(challenge, &images, &verdict);
        let events = match challenge.mode {
            LivenessMode::Silent => vec![ClientEvent {
                at_ms: start,
                kind: "silent_capture".into(),
                detail: format!("{} frames", frames.len()),
            }],
            LivenessMode::Actions => challenge
                .actions
                .iter()
                .enumerate()
                .map(|(i, a)| ClientEvent {
                    at_ms: start + 100 * i as u64,
                    kind: "action_performed".into(),
                    detail: a.as_str().into(),
                })
                .collect(),
        };
        Ok(LivenessCapture {
            frames,
            vendor_name: TEST_VENDOR_NAME.into(),
            vendor_reference: format!("test-{}", &hex::encode(sha256(&package))[..16]),
            vendor_package: package,
            events,
        })
    }
}

impl IdCardHook for FileHooks {
    fn capture(&self) -> Result<IdCardCapture, HookError> {
        self.ensure_dir()?;
        let find = |stem: &str| {
            find_with_stem(&self.dir, stem, &IMAGE_EXTENSIONS).ok_or_else(|| {
                HookError::Failed(format!(
                    "no {stem}.jpg or {stem}.png in {}",
                    self.dir.display()
                ))
            })
        };
        let front = read_limited(&find("id_front")?, HARD_MAX_BYTES)?;
        let back = read_limited(&find("id_back")?, HARD_MAX_BYTES)?;
        let fields: IdCardFields = serde_json::from_slice(&read_limited(
            &self.dir.join("id_fields.json"),
            MAX_SIDE_FILE_BYTES,
        )?)
        .map_err(|e| HookError::Failed(format!("id_fields.json: {e}")))?;
        Ok(IdCardCapture {
            front,
            back,
            fields,
        })
    }
}

impl IntentRecordingHook for FileHooks {
    fn record(&self, statement: &str) -> Result<IntentRecording, HookError> {
        self.ensure_dir()?;
        let extensions: Vec<&str> = MEDIA_TYPES.iter().map(|(e, _)| *e).collect();
        let path = find_with_stem(&self.dir, "intent", &extensions).ok_or_else(|| {
            HookError::Unavailable(format!("no intent recording in {}", self.dir.display()))
        })?;
        let ext = extension(&path).unwrap_or_default();
        let media_type = MEDIA_TYPES
            .iter()
            .find(|(e, _)| *e == ext)
            .map(|(_, t)| (*t).to_string())
            .unwrap_or_default();
        let media = read_limited(&path, MAX_MEDIA_BYTES as u64)?;
        let started_at_ms = self.clock.now_ms();
        Ok(IntentRecording {
            media,
            media_type,
            statement: statement.to_string(),
            started_at_ms,
            ended_at_ms: started_at_ms + INTENT_DURATION_MS,
        })
    }
}
