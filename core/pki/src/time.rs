//! Unix seconds to and from X.509 times.

use crate::error::PkiError;
use der::DateTime;
use std::time::Duration;
use x509_cert::time::{Time, Validity};

const SECONDS_PER_DAY: u64 = 86_400;

/// How far before "now" a new certificate's notBefore is set, to absorb clock skew between the
/// CA and the relying party (the phone checks validity against its own clock).
pub const NOT_BEFORE_BACKDATE_SECS: u64 = 300;

/// An X.509 time for a Unix timestamp (encoded as UTCTime through 2049, GeneralizedTime after,
/// as RFC 5280 section 4.1.2.5 and RFC 5652's signing-time want).
pub fn time_at(unix: u64) -> Result<Time, PkiError> {
    DateTime::from_unix_duration(Duration::from_secs(unix))
        .map(Time::from)
        .map_err(|e| PkiError::InvalidInput(format!("time {unix} out of range: {e}")))
}

/// Validity from `now - backdate` for `days` days after `now`, ending no later than `cap`.
pub(crate) fn validity(
    now_unix: u64,
    days: u32,
    cap_unix: Option<u64>,
) -> Result<Validity, PkiError> {
    if days == 0 {
        return Err(PkiError::InvalidInput(
            "validity must be at least one day".into(),
        ));
    }
    let not_after = now_unix
        .checked_add(u64::from(days) * SECONDS_PER_DAY)
        .ok_or_else(|| PkiError::InvalidInput("validity end out of range".into()))?;
    let not_after = cap_unix.map_or(not_after, |cap| not_after.min(cap));
    let not_before = now_unix.saturating_sub(NOT_BEFORE_BACKDATE_SECS);
    if not_after <= not_before {
        return Err(PkiError::InvalidInput(
            "validity would end before it starts (issuer certificate expired?)".into(),
        ));
    }
    Ok(Validity::new(time_at(not_before)?, time_at(not_after)?))
}

/// `(notBefore, notAfter)` in Unix seconds.
pub(crate) fn bounds(validity: &Validity) -> (u64, u64) {
    (
        validity.not_before.to_unix_duration().as_secs(),
        validity.not_after.to_unix_duration().as_secs(),
    )
}

/// `(notBefore, notAfter)` of a DER certificate, in Unix seconds.
pub fn certificate_validity(cert_der: &[u8]) -> Result<(u64, u64), PkiError> {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(cert_der)
        .map_err(|e| PkiError::Malformed(format!("certificate: {e}")))?;
    Ok(bounds(cert.tbs_certificate().validity()))
}

/// Check `now_unix` lies within the validity period (both ends inclusive).
pub(crate) fn check_within(validity: &Validity, now_unix: u64) -> Result<(), PkiError> {
    let (not_before, not_after) = bounds(validity);
    if now_unix < not_before {
        return Err(PkiError::NotYetValid);
    }
    if now_unix > not_after {
        return Err(PkiError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_bounds() {
        let v = validity(1_000_000, 2, None).expect("validity");
        assert_eq!(
            bounds(&v),
            (1_000_000 - NOT_BEFORE_BACKDATE_SECS, 1_000_000 + 2 * 86_400)
        );
        assert_eq!(check_within(&v, 1_000_000), Ok(()));
        assert_eq!(check_within(&v, 1_000_000 + 2 * 86_400), Ok(()));
        assert_eq!(
            check_within(&v, 1_000_000 + 2 * 86_400 + 1),
            Err(PkiError::Expired)
        );
        assert_eq!(
            check_within(&v, 1_000_000 - NOT_BEFORE_BACKDATE_SECS - 1),
            Err(PkiError::NotYetValid)
        );
        // Near the epoch the backdate saturates at zero.
        let v = validity(10, 1, None).expect("validity");
        assert_eq!(bounds(&v).0, 0);
        // Capped.
        let v = validity(1_000_000, 10, Some(1_000_100)).expect("validity");
        assert_eq!(bounds(&v).1, 1_000_100);
        assert!(validity(1_000_000, 10, Some(1_000_000 - 400)).is_err());
        assert!(validity(1_000_000, 0, None).is_err());
        assert!(validity(u64::MAX - 10, 1, None).is_err());
        assert!(validity(300_000_000_000, 1, None).is_err()); // beyond year 9999
    }
}
