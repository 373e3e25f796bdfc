//! Signing a transaction with the co-signed key: an attached CMS SignedData (SM2-with-SM3)
//! whose content is the transaction's canonical DER, so the bank verifies what the user
//! approved, not a hash of it.
//!
//! One co-signing round trip. The request carries the signed attributes and the transaction;
//! the server checks that the attributes name that transaction, decodes it, and audits it
//! (`transaction_signed`) before it co-signs. Under a liveness policy the evidence must bind
//! SM3 of the transaction's DER ([`transaction_document_digest`]).

use crate::{CosignClient, Pin, SdkError};
use inkseal_cosign::api::MessageKind;
pub use inkseal_pdf::cms::OidProfile;
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::cms::attached::PreparedAttached;
pub use inkseal_pdf::cms::transaction::{Party, Transaction, TransactionError};

/// SM3 of the transaction's DER: the document a liveness capture binds before
/// [`CosignClient::sign_transaction`].
pub fn transaction_document_digest(transaction: &Transaction) -> Result<[u8; 32], SdkError> {
    let der = transaction
        .to_der()
        .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
    SignatureAlgorithm::Sm2Sm3
        .digest(&[&der])
        .try_into()
        .map_err(|_| SdkError::InvalidInput("SM3 is not 32 bytes".into()))
}

impl CosignClient {
    /// Co-sign `transaction` with the key's certificate: returns the DER ContentInfo of an
    /// attached SignedData (content-type, message-digest, signing-time now, signing-certificate-v2).
    /// The co-signature is checked before it is returned. The key must have a certificate.
    pub async fn sign_transaction(
        &self,
        key_id: &str,
        pin: &Pin,
        transaction: &Transaction,
        evidence_head: Option<[u8; 32]>,
    ) -> Result<Vec<u8>, SdkError> {
        self.sign_transaction_in(OidProfile::Rfc5652, key_id, pin, transaction, evidence_head)
            .await
    }

    /// [`CosignClient::sign_transaction`] in the OIDs of `profile`: [`OidProfile::GbT35275`]
    /// writes GB/T 35275's signedData and data content types and names the signature sm2sign,
    /// for a bank whose GM middleware insists on them (the default, RFC 5652's OIDs with the SM2
    /// algorithms, is what OpenSSL and BouncyCastle read). The server co-signs either.
    pub async fn sign_transaction_in(
        &self,
        profile: OidProfile,
        key_id: &str,
        pin: &Pin,
        transaction: &Transaction,
        evidence_head: Option<[u8; 32]>,
    ) -> Result<Vec<u8>, SdkError> {
        let (prepared, signature) = self
            .co_sign_attached(
                key_id,
                pin,
                MessageKind::CmsAttachedTransaction,
                evidence_head,
                |certificate, now| {
                    PreparedAttached::transaction_in(
                        profile,
                        transaction,
                        SignatureAlgorithm::Sm2Sm3,
                        &[certificate],
                        now,
                    )
                },
            )
            .await?;
        prepared
            .finish(&signature)
            .map_err(|e| SdkError::ServerMisbehaved(format!("transaction co-signature: {e}")))
    }
}
