//! The server's one-time liveness challenge.
//!
//! The server draws 32 random bytes for every capture session and sends them, with the actions
//! the user must perform and the image thresholds, as a [`LivenessChallenge`]. The phone passes
//! it unchanged to the [`FaceLivenessHook`](crate::hooks::FaceLivenessHook), whose vendor binds
//! the nonce into its liveness package, so a recorded capture cannot be replayed into another
//! session. This crate never generates the nonce: [`LivenessChallenge::new`] takes the bytes
//! from the server's random number generator.
//!
//! JSON field names are the struct's (snake_case); the enums are snake_case strings
//! (`"silent"`, `"actions"`, `"blink"`, `"turn_left"`, `"turn_right"`, `"nod"`, `"open_mouth"`).

use crate::digest::DigestAlgorithm;
use crate::encoding::{Canonical, is_lower_hex, is_plain_id};
use crate::error::ChallengeError;
use crate::quality::QualityThresholds;
use serde::{Deserialize, Serialize};

/// Length of the nonce in bytes.
pub const NONCE_LEN: usize = 32;
/// Most actions one challenge may ask for.
pub const MAX_ACTIONS: usize = 8;
/// Longest lifetime (`expires_at_ms - issued_at_ms`) a challenge may have: 15 minutes.
pub const MAX_LIFETIME_MS: u64 = 15 * 60 * 1000;
/// How far in the future `issued_at_ms` may be compared with the phone's clock: 5 minutes.
/// (The phone's clock is not trusted; the server checks expiry again with its own.)
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// Domain-separation tag of [`LivenessChallenge::canonical_bytes`].
pub const CHALLENGE_TAG: &str = "inkseal/capture/liveness-challenge/v1";

/// Silent (passive) liveness, or liveness with actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LivenessMode {
    /// The user only looks at the camera; no actions.
    Silent,
    /// The user performs [`LivenessChallenge::actions`] in order.
    Actions,
}

impl LivenessMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            LivenessMode::Silent => "silent",
            LivenessMode::Actions => "actions",
        }
    }
}

/// One action the user performs in front of the camera.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LivenessAction {
    /// Blink (眨眼).
    Blink,
    /// Turn the head to the left (左转头).
    TurnLeft,
    /// Turn the head to the right (右转头).
    TurnRight,
    /// Nod (点头).
    Nod,
    /// Open the mouth (张嘴).
    OpenMouth,
}

impl LivenessAction {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            LivenessAction::Blink => "blink",
            LivenessAction::TurnLeft => "turn_left",
            LivenessAction::TurnRight => "turn_right",
            LivenessAction::Nod => "nod",
            LivenessAction::OpenMouth => "open_mouth",
        }
    }
}

/// The server's one-time challenge for one capture session.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessChallenge {
    /// The server's id of the session: 1-128 characters of `[A-Za-z0-9._:-]`. It is also the
    /// evidence manifest's `session_id`.
    pub challenge_id: String,
    /// 32 random bytes from the server, 64 lower-case hex characters.
    pub nonce_hex: String,
    /// Silent or with actions.
    pub mode: LivenessMode,
    /// The actions, in the order they must be performed (empty in silent mode).
    pub actions: Vec<LivenessAction>,
    /// What every face frame must satisfy.
    pub thresholds: QualityThresholds,
    /// Issue time, milliseconds since the Unix epoch (server clock).
    pub issued_at_ms: u64,
    /// Expiry time, milliseconds since the Unix epoch (server clock).
    pub expires_at_ms: u64,
}

impl LivenessChallenge {
    /// A challenge from the server's fresh random `nonce`: silent when `actions` is empty,
    /// with actions otherwise, valid `ttl_ms` from `issued_at_ms`. The result is checked with
    /// [`LivenessChallenge::validate_shape`].
    pub fn new(
        challenge_id: impl Into<String>,
        nonce: &[u8; NONCE_LEN],
        actions: Vec<LivenessAction>,
        thresholds: QualityThresholds,
        issued_at_ms: u64,
        ttl_ms: u64,
    ) -> Result<Self, ChallengeError> {
        let c = LivenessChallenge {
            challenge_id: challenge_id.into(),
            nonce_hex: hex::encode(nonce),
            mode: if actions.is_empty() {
                LivenessMode::Silent
            } else {
                LivenessMode::Actions
            },
            actions,
            thresholds,
            issued_at_ms,
            expires_at_ms: issued_at_ms.saturating_add(ttl_ms),
        };
        c.validate_shape()?;
        Ok(c)
    }

    /// Everything [`LivenessChallenge::validate`] checks except the clock: the id, the nonce
    /// (exactly 64 lower-case hex characters), the actions against the mode (silent: none;
    /// actions: 1 to [`MAX_ACTIONS`]), the thresholds, and the window (`issued < expires`,
    /// lifetime at most [`MAX_LIFETIME_MS`]).
    pub fn validate_shape(&self) -> Result<(), ChallengeError> {
        if !is_plain_id(&self.challenge_id) {
            return Err(ChallengeError::BadId);
        }
        if !is_lower_hex(&self.nonce_hex, NONCE_LEN) {
            return Err(ChallengeError::BadNonce);
        }
        match self.mode {
            LivenessMode::Silent if !self.actions.is_empty() => {
                return Err(ChallengeError::BadActions("silent mode with actions"));
            }
            LivenessMode::Actions if self.actions.is_empty() => {
                return Err(ChallengeError::BadActions("actions mode without actions"));
            }
            _ => {}
        }
        if self.actions.len() > MAX_ACTIONS {
            return Err(ChallengeError::BadActions("more than 8 actions"));
        }
        self.thresholds.validate()?;
        if self.expires_at_ms <= self.issued_at_ms {
            return Err(ChallengeError::BadWindow("expires before it is issued"));
        }
        if self.expires_at_ms - self.issued_at_ms > MAX_LIFETIME_MS {
            return Err(ChallengeError::BadWindow("lifetime above 15 minutes"));
        }
        Ok(())
    }

    /// Full check at local time `now_ms`: [`LivenessChallenge::validate_shape`], then not
    /// issued more than [`MAX_CLOCK_SKEW_MS`] in the future, and not expired
    /// (`now_ms < expires_at_ms`).
    pub fn validate(&self, now_ms: u64) -> Result<(), ChallengeError> {
        self.validate_shape()?;
        if self.issued_at_ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
            return Err(ChallengeError::NotYetValid {
                issued_at_ms: self.issued_at_ms,
                now_ms,
            });
        }
        if now_ms >= self.expires_at_ms {
            return Err(ChallengeError::Expired {
                expires_at_ms: self.expires_at_ms,
                now_ms,
            });
        }
        Ok(())
    }

    /// The nonce's 32 bytes.
    pub fn nonce(&self) -> Result<[u8; NONCE_LEN], ChallengeError> {
        let mut out = [0u8; NONCE_LEN];
        if !is_lower_hex(&self.nonce_hex, NONCE_LEN) {
            return Err(ChallengeError::BadNonce);
        }
        hex::decode_to_slice(&self.nonce_hex, &mut out).map_err(|_| ChallengeError::BadNonce)?;
        Ok(out)
    }

    /// The canonical encoding the manifest's `challenge` entry digests (see
    /// [`crate::encoding`]'s rules):
    ///
    /// ```text
    /// str("inkseal/capture/liveness-challenge/v1") str(challenge_id) str(nonce_hex) str(mode)
    /// u32(number of actions) str(action)...
    /// u32(min_width) u32(min_height) u8(min_mean_luma) u8(max_mean_luma) u32(min_sharpness)
    /// u8(min_face_percent) u64(max_bytes) u64(max_pixels)
    /// u64(issued_at_ms) u64(expires_at_ms)
    /// ```
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut c = Canonical::new(CHALLENGE_TAG);
        c.str(&self.challenge_id)
            .str(&self.nonce_hex)
            .str(self.mode.as_str())
            .count(self.actions.len());
        for a in &self.actions {
            c.str(a.as_str());
        }
        let t = &self.thresholds;
        c.u32(t.min_width)
            .u32(t.min_height)
            .u8(t.min_mean_luma)
            .u8(t.max_mean_luma)
            .u32(t.min_sharpness)
            .u8(t.min_face_percent)
            .u64(t.max_bytes)
            .u64(t.max_pixels)
            .u64(self.issued_at_ms)
            .u64(self.expires_at_ms);
        c.finish()
    }

    /// Digest of [`LivenessChallenge::canonical_bytes`]: what the manifest's `challenge` entry
    /// records, and what the server recomputes from the challenge it stored.
    pub fn digest(&self, algorithm: DigestAlgorithm) -> [u8; 32] {
        algorithm.digest(&self.canonical_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge() -> LivenessChallenge {
        LivenessChallenge::new(
            "c-1",
            &[7u8; 32],
            vec![LivenessAction::Blink, LivenessAction::TurnLeft],
            QualityThresholds::face(),
            1_000_000,
            120_000,
        )
        .expect("valid")
    }

    #[test]
    fn new_sets_mode_and_window() {
        let c = challenge();
        assert_eq!(c.mode, LivenessMode::Actions);
        assert_eq!(c.expires_at_ms, 1_120_000);
        assert_eq!(c.nonce().expect("nonce"), [7u8; 32]);
        let silent =
            LivenessChallenge::new("c-2", &[1u8; 32], vec![], QualityThresholds::face(), 0, 1)
                .expect("valid");
        assert_eq!(silent.mode, LivenessMode::Silent);
    }

    #[test]
    fn time_window() {
        let c = challenge();
        assert_eq!(c.validate(1_000_000), Ok(()));
        assert_eq!(c.validate(1_119_999), Ok(()));
        assert!(matches!(
            c.validate(1_120_000),
            Err(ChallengeError::Expired { .. })
        ));
        // Phone clock a little behind the server: accepted; far behind: refused.
        assert_eq!(c.validate(1_000_000 - MAX_CLOCK_SKEW_MS), Ok(()));
        assert!(matches!(
            c.validate(1_000_000 - MAX_CLOCK_SKEW_MS - 1),
            Err(ChallengeError::NotYetValid { .. })
        ));
    }

    #[test]
    fn malformed_challenges_are_refused() {
        let now = 1_000_001;
        let mut c = challenge();
        c.nonce_hex.pop();
        assert_eq!(c.validate(now), Err(ChallengeError::BadNonce));
        let mut c = challenge();
        c.nonce_hex = "AB".repeat(32);
        assert_eq!(c.validate(now), Err(ChallengeError::BadNonce));
        let mut c = challenge();
        c.actions.clear();
        assert!(matches!(
            c.validate(now),
            Err(ChallengeError::BadActions(_))
        ));
        let mut c = challenge();
        c.mode = LivenessMode::Silent;
        assert!(matches!(
            c.validate(now),
            Err(ChallengeError::BadActions(_))
        ));
        let mut c = challenge();
        c.actions = vec![LivenessAction::Nod; MAX_ACTIONS + 1];
        assert!(matches!(
            c.validate(now),
            Err(ChallengeError::BadActions(_))
        ));
        let mut c = challenge();
        c.challenge_id = "has space".into();
        assert_eq!(c.validate(now), Err(ChallengeError::BadId));
        let mut c = challenge();
        c.expires_at_ms = c.issued_at_ms;
        assert!(matches!(c.validate(now), Err(ChallengeError::BadWindow(_))));
        let mut c = challenge();
        c.expires_at_ms = c.issued_at_ms + MAX_LIFETIME_MS + 1;
        assert!(matches!(c.validate(now), Err(ChallengeError::BadWindow(_))));
        let mut c = challenge();
        c.thresholds.min_mean_luma = 250;
        assert!(matches!(
            c.validate(now),
            Err(ChallengeError::BadThresholds(_))
        ));
    }

    #[test]
    fn json_is_snake_case_and_round_trips() {
        let c = challenge();
        let json = serde_json::to_string(&c).expect("json");
        assert!(json.contains("\"mode\":\"actions\""), "{json}");
        assert!(json.contains("[\"blink\",\"turn_left\"]"), "{json}");
        assert!(json.contains("\"min_face_percent\":20"), "{json}");
        let back: LivenessChallenge = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, c);
        assert_eq!(back.canonical_bytes(), c.canonical_bytes());
    }

    #[test]
    fn every_field_changes_the_digest() {
        let base = challenge().digest(DigestAlgorithm::Sm3);
        type Change = Box<dyn Fn(&mut LivenessChallenge)>;
        let variants: Vec<Change> = vec![
            Box::new(|c| c.challenge_id.push('x')),
            Box::new(|c| c.nonce_hex.replace_range(0..1, "f")),
            Box::new(|c| c.actions.swap(0, 1)),
            Box::new(|c| c.actions.pop().map(drop).unwrap_or(())),
            Box::new(|c| c.thresholds.min_sharpness += 1),
            Box::new(|c| c.thresholds.min_face_percent += 1),
            Box::new(|c| c.thresholds.max_bytes += 1),
            Box::new(|c| c.issued_at_ms += 1),
            Box::new(|c| c.expires_at_ms += 1),
        ];
        for (i, change) in variants.iter().enumerate() {
            let mut c = challenge();
            change(&mut c);
            assert_ne!(c.digest(DigestAlgorithm::Sm3), base, "variant {i}");
        }
        assert_ne!(challenge().digest(DigestAlgorithm::Sha256), base);
    }
}
