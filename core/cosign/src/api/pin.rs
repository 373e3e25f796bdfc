//! The PIN in transit and the rules a new PIN must follow.
//!
//! The server is the only place a PIN is checked (and counted); the phone applies the same
//! [`PinPolicy`] before it sends a new PIN so the user hears about a weak PIN at once, but the
//! server's copy of the policy is the one that decides.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A PIN in transit. Wiped on drop and never shown by `Debug`.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
#[serde(transparent)]
pub struct Pin(String);

impl Pin {
    /// Wrap a PIN typed by the user.
    pub fn new(pin: impl Into<String>) -> Self {
        Pin(pin.into())
    }

    /// The PIN's text, for hashing on the server.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The baseline every PIN in a request must meet (whatever the policy): 6 to 32
    /// characters, no control characters. A PIN that fails it is refused before any lookup.
    pub fn is_acceptable(&self) -> bool {
        let n = self.0.chars().count();
        (6..=32).contains(&n) && !self.0.chars().any(char::is_control)
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(***)")
    }
}

/// Rules for a new PIN (enrollment and PIN change). The defaults follow what Chinese banks ask
/// of a transaction PIN: at least six characters, not one repeated character, not a straight
/// run such as `123456` or `987654`, no spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinPolicy {
    /// Fewest characters (at least 6).
    pub min_length: usize,
    /// Most characters (at most 32).
    pub max_length: usize,
    /// Only the digits 0-9.
    pub digits_only: bool,
    /// Refuse a PIN made of one repeated character (`000000`, six spaces).
    pub refuse_repeated: bool,
    /// Refuse a straight ascending or descending run of digits or letters (`123456`,
    /// `876543`, `abcdef`).
    pub refuse_sequences: bool,
}

impl Default for PinPolicy {
    fn default() -> Self {
        PinPolicy {
            min_length: 6,
            max_length: 32,
            digits_only: false,
            refuse_repeated: true,
            refuse_sequences: true,
        }
    }
}

/// Why a new PIN breaks the policy (no PIN text inside).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PinRejection {
    /// Too short or too long.
    #[error("the PIN must have {min} to {max} characters")]
    Length {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
    },
    /// Control characters, spaces, or (with `digits_only`) anything but digits.
    #[error("the PIN may contain only {allowed}")]
    Characters {
        /// What is allowed, in words.
        allowed: &'static str,
    },
    /// One character repeated.
    #[error("the PIN must not repeat one character")]
    Repeated,
    /// A straight run such as 123456.
    #[error("the PIN must not be a straight sequence such as 123456")]
    Sequence,
}

impl PinPolicy {
    /// The policy with its bounds forced into the protocol's 6..=32.
    pub fn normalised(mut self) -> Self {
        self.min_length = self.min_length.clamp(6, 32);
        self.max_length = self.max_length.clamp(self.min_length, 32);
        self
    }

    /// Check a new PIN against the policy.
    pub fn check(&self, pin: &Pin) -> Result<(), PinRejection> {
        let policy = self.normalised();
        let chars: Vec<char> = pin.expose().chars().collect();
        if !(policy.min_length..=policy.max_length).contains(&chars.len()) {
            return Err(PinRejection::Length {
                min: policy.min_length,
                max: policy.max_length,
            });
        }
        if policy.digits_only && !chars.iter().all(char::is_ascii_digit) {
            return Err(PinRejection::Characters { allowed: "digits" });
        }
        if chars.iter().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(PinRejection::Characters {
                allowed: "printable characters without spaces",
            });
        }
        if policy.refuse_repeated && chars.iter().all(|c| *c == chars[0]) {
            return Err(PinRejection::Repeated);
        }
        if policy.refuse_sequences && is_straight_run(&chars) {
            return Err(PinRejection::Sequence);
        }
        Ok(())
    }
}

/// Every step between neighbours is +1, or every step is -1, within digits or within
/// same-case ASCII letters.
fn is_straight_run(chars: &[char]) -> bool {
    let class = |c: char| {
        if c.is_ascii_digit() {
            Some(0)
        } else if c.is_ascii_lowercase() {
            Some(1)
        } else if c.is_ascii_uppercase() {
            Some(2)
        } else {
            None
        }
    };
    let Some(first) = chars.first().and_then(|c| class(*c)) else {
        return false;
    };
    if chars.iter().any(|c| class(*c) != Some(first)) {
        return false;
    }
    let steps: Vec<i32> = chars
        .windows(2)
        .map(|w| w[1] as i32 - w[0] as i32)
        .collect();
    steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(p: &str) -> Result<(), PinRejection> {
        PinPolicy::default().check(&Pin::new(p))
    }

    #[test]
    fn weak_pins_are_refused_with_the_rule_they_break() {
        for weak in ["000000", "111111", "aaaaaaa"] {
            assert_eq!(check(weak), Err(PinRejection::Repeated), "{weak}");
        }
        for weak in ["123456", "654321", "012345", "3456789", "abcdef", "FEDCBA"] {
            assert_eq!(check(weak), Err(PinRejection::Sequence), "{weak}");
        }
        assert!(matches!(
            check("      "),
            Err(PinRejection::Characters { .. })
        ));
        assert!(matches!(
            check("12 4 6"),
            Err(PinRejection::Characters { .. })
        ));
        assert!(matches!(check("12345"), Err(PinRejection::Length { .. })));
        assert!(matches!(
            check(&"7".repeat(33)),
            Err(PinRejection::Length { .. })
        ));
    }

    #[test]
    fn ordinary_pins_pass() {
        for good in ["246810", "135790", "902137", "pässwörd", "12345a", "112233"] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn the_policy_is_configurable() {
        let digits = PinPolicy {
            digits_only: true,
            min_length: 8,
            ..PinPolicy::default()
        };
        assert!(matches!(
            digits.check(&Pin::new("246810")),
            Err(PinRejection::Length { min: 8, .. })
        ));
        assert!(matches!(
            digits.check(&Pin::new("2468101a")),
            Err(PinRejection::Characters { .. })
        ));
        assert_eq!(digits.check(&Pin::new("24681012")), Ok(()));
        let lax = PinPolicy {
            refuse_repeated: false,
            refuse_sequences: false,
            ..PinPolicy::default()
        };
        assert_eq!(lax.check(&Pin::new("000000")), Ok(()));
        assert_eq!(lax.check(&Pin::new("123456")), Ok(()));
        // Bounds never leave the protocol's 6..=32.
        let silly = PinPolicy {
            min_length: 2,
            max_length: 99,
            ..PinPolicy::default()
        }
        .normalised();
        assert_eq!((silly.min_length, silly.max_length), (6, 32));
    }
}
