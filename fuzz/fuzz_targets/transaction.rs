//! Hostile transactions: the DER a transaction signature carries, the attached SignedData
//! around it, and a co-signing request's (signed attributes, content) pair as the server
//! reads them.
#![no_main]

use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::cms::attached::{read_transaction_request, verify_transaction};
use inkseal_pdf::cms::transaction::Transaction;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = Transaction::from_der(data) {
        // Whatever parses is canonical: it encodes back to the same bytes.
        assert_eq!(tx.to_der().ok().as_deref(), Some(data));
        let _ = tx.amount_display();
    }
    let _ = verify_transaction(data, &[], None);
    let (attrs, content) = data.split_at(data.len() / 2);
    let _ = read_transaction_request(SignatureAlgorithm::Sm2Sm3, attrs, content);
});
