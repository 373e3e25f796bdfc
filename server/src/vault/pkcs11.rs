//! PKCS#11 vault (placeholder until implemented).
/// Configuration of the PKCS#11 vault.
#[derive(Debug, Clone)]
pub struct Pkcs11Config;
/// Vault backed by a PKCS#11 token.
pub struct Pkcs11Vault;
