//! Hostile login assertions: the DER a login signature carries, the attached SignedData
//! around it (verified with a revocation source that answers "good"), and a co-signing
//! request's (signed attributes, content) pair as the server reads them.
#![no_main]

use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::cms::attached::{
    LoginRevocation, RevocationSource, read_login_request, verify_login,
};
use inkseal_pdf::cms::login::LoginAssertion;
use libfuzzer_sys::fuzz_target;

struct Good;

impl RevocationSource for Good {
    fn revoked_at(&self, _: &[u8], _: &[u8]) -> Result<Option<u64>, String> {
        Ok(None)
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(assertion) = LoginAssertion::from_der(data) {
        // Whatever parses is canonical: it encodes back to the same bytes.
        assert_eq!(assertion.to_der().ok().as_deref(), Some(data));
        assert!(assertion.expires_unix() > assertion.issued_unix());
    }
    let _ = verify_login(
        data,
        &[],
        LoginRevocation::Checked(&Good),
        1_800_000_000,
        "rp",
    );
    let (attrs, content) = data.split_at(data.len() / 2);
    let _ = read_login_request(SignatureAlgorithm::Sm2Sm3, attrs, content);
});
