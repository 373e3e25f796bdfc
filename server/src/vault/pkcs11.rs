//! A vault whose wrapping key is a non-extractable AES-256 key inside a PKCS#11 token.
//!
//! Sealing and opening run inside the token (`CKM_AES_GCM`); the key value never reaches this
//! process. The sealed format is the same as [`super::FileVault`]'s.
//!
//! The audit key is a P-256 key pair in the same token (`CKM_EC_KEY_PAIR_GEN`, private half
//! sensitive and non-extractable). Checkpoints are hashed with SHA-256 here and signed by the
//! token (`CKM_ECDSA`); every signature is checked against the public key before it is returned.
//!
//! Finding or generating a key (the AES key at open, the audit key pair on first use) is
//! serialized within the process, so two threads or two vaults cannot both generate one.
//! PKCS#11 has no create-if-absent across processes: when a freshly generated audit pair is not
//! the only one with its label, the process that generated it destroys it again and fails (a
//! retry then finds the survivor), and a token holding several pairs under the label is refused,
//! never resolved by picking one.

use super::{
    AuditSigner, NONCE_LEN, ShareVault, TokenKeys, VaultError, check_audit_signature, seal_framed,
    split_sealed,
};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::{AuthPin, Ulong};
use p256::ecdsa::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};
use zeroize::Zeroizing;

/// GCM tag length in bits.
const TAG_BITS: Ulong = Ulong::new(128);
/// AES-256 key length in bytes.
const KEY_LEN: Ulong = Ulong::new(32);
/// Idle sessions kept for reuse; more can be open while calls run concurrently.
const MAX_IDLE_SESSIONS: usize = 8;
/// Label of the audit key pair unless the configuration names another.
pub const DEFAULT_AUDIT_KEY_LABEL: &str = "inkseal-audit";
/// `CKA_EC_PARAMS` of the audit key: the DER-encoded OID of prime256v1 (P-256).
const P256_EC_PARAMS: [u8; 10] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// Signed by the token and verified here when the audit key is loaded.
const AUDIT_SELF_TEST_MESSAGE: &[u8] = b"inkseal/audit-key/self-test/v1";

/// Held while searching for or generating a key, by every vault of this process: two threads
/// must not both find no key and both generate one. (SoftHSM2's file store can also miss an
/// object another thread of the process is writing at that moment.)
static KEY_SETUP: Mutex<()> = Mutex::new(());

/// Where the PKCS#11 vault finds its token and key.
#[derive(Clone)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (shared library).
    pub module: PathBuf,
    /// Label of the token holding the key.
    pub token_label: String,
    /// User PIN of the token. Wiped on drop and never printed.
    pub user_pin: Zeroizing<String>,
    /// Label of the AES key; the key is generated on first use if the token has none.
    pub key_label: String,
    /// Label of the P-256 audit key pair that signs audit checkpoints; the pair is generated on
    /// first use if the token has none. Usually [`DEFAULT_AUDIT_KEY_LABEL`].
    pub audit_key_label: String,
}

impl Pkcs11Config {
    /// A configuration with the audit key labelled [`DEFAULT_AUDIT_KEY_LABEL`].
    pub fn new(
        module: PathBuf,
        token_label: impl Into<String>,
        user_pin: Zeroizing<String>,
        key_label: impl Into<String>,
    ) -> Self {
        Pkcs11Config {
            module,
            token_label: token_label.into(),
            user_pin,
            key_label: key_label.into(),
            audit_key_label: DEFAULT_AUDIT_KEY_LABEL.to_owned(),
        }
    }

    /// Where Debian and Ubuntu install the SoftHSM2 module.
    pub fn softhsm_default_module() -> PathBuf {
        PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")
    }
}

impl std::fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("user_pin", &"<redacted>")
            .field("key_label", &self.key_label)
            .field("audit_key_label", &self.audit_key_label)
            .finish()
    }
}

/// A vault backed by an AES-256 key inside a PKCS#11 token (an HSM, or SoftHSM2).
pub struct Pkcs11Vault {
    ctx: Pkcs11,
    slot: Slot,
    key: ObjectHandle,
    token_label: String,
    key_label: String,
    audit_key_label: String,
    /// The audit key pair, found or generated on first use (see [`Pkcs11Vault::audit_key`]).
    audit: OnceLock<AuditKey>,
    /// Keeps the user logged in (PKCS#11 does while a session is open); read-write, so it is
    /// also the session that generates the audit key pair. Cryptographic calls use `idle`.
    login: Mutex<Session>,
    /// Idle sessions; a call takes one (or opens a new one) and puts it back when done.
    idle: Mutex<Vec<Session>>,
    /// Seal keys found so far, by label (handles stay valid while the module is loaded).
    seal_keys: Mutex<std::collections::HashMap<String, AuditKey>>,
}

impl Pkcs11Vault {
    /// Load the module, log in to the token labelled `config.token_label`, and find the key
    /// labelled `config.key_label`, generating it if the token has none.
    ///
    /// Fails with [`VaultError::Unavailable`] if the module, token or key cannot be used, or if
    /// an existing key with that label is extractable or not sensitive.
    ///
    /// PKCS#11 login state is per process: if this process is already logged in to the token
    /// (another open vault), the token accepts the session without checking the PIN again.
    pub fn open(config: &Pkcs11Config) -> Result<Self, VaultError> {
        let token = &config.token_label;
        let ctx = load_module(&config.module)?;
        let slot = find_slot(&ctx, token)?;
        let login = ctx
            .open_rw_session(slot)
            .map_err(|e| unavailable(&format!("cannot open a session on token '{token}'"), e))?;
        let pin = AuthPin::from(config.user_pin.as_str());
        match login.login(UserType::User, Some(&pin)) {
            // Login state is per application: another vault in this process already logged in.
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(unavailable(&format!("cannot log in to token '{token}'"), e)),
        }
        let key = {
            let _setup = KEY_SETUP.lock().unwrap_or_else(PoisonError::into_inner);
            find_or_generate_key(&login, &config.key_label)?
        };
        let [sensitive, extractable, ..] = key_flags(&login, key)?;
        if !sensitive || extractable {
            return Err(VaultError::Unavailable(format!(
                "key '{}' on token '{token}' is extractable or not sensitive",
                config.key_label
            )));
        }
        Ok(Pkcs11Vault {
            ctx,
            slot,
            key,
            token_label: token.clone(),
            key_label: config.key_label.clone(),
            audit_key_label: config.audit_key_label.clone(),
            audit: OnceLock::new(),
            login: Mutex::new(login),
            idle: Mutex::new(Vec::new()),
            seal_keys: Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// True if the key is sensitive and non-extractable, and always has been (so its value has
    /// never left the token in the clear).
    pub fn key_is_protected(&self) -> Result<bool, VaultError> {
        self.with_session(|s| {
            let [sensitive, extractable, always_sensitive, never_extractable] =
                key_flags(s, self.key)?;
            Ok(sensitive && !extractable && always_sensitive && never_extractable)
        })
    }

    /// True if the audit private key is sensitive and non-extractable, and always has been.
    /// Loads (or generates) the audit key pair if it is not loaded yet.
    pub fn audit_key_is_protected(&self) -> Result<bool, VaultError> {
        let private = self.audit_key()?.private;
        self.with_session(|s| {
            let [sensitive, extractable, always_sensitive, never_extractable] =
                key_flags(s, private)?;
            Ok(sensitive && !extractable && always_sensitive && never_extractable)
        })
    }

    /// The audit key pair: loaded once, on first use, under [`KEY_SETUP`].
    ///
    /// Loading finds the pair labelled `audit_key_label` or generates it, refuses an extractable
    /// or non-sensitive private key or a curve other than P-256, and has the token sign a test
    /// message that must verify here under the public key (a wrong key, pairing or mechanism
    /// fails now rather than in the first checkpoint).
    fn audit_key(&self) -> Result<&AuditKey, VaultError> {
        if let Some(key) = self.audit.get() {
            return Ok(key);
        }
        let _setup = KEY_SETUP.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = self.audit.get() {
            return Ok(key);
        }
        let label = &self.audit_key_label;
        let key = {
            let login = self.login.lock().unwrap_or_else(PoisonError::into_inner);
            find_or_generate_audit_key(&login, label)?
        };
        let signature =
            self.with_session(|s| token_sign(s, key.private, AUDIT_SELF_TEST_MESSAGE))?;
        check_audit_signature(&key.public, AUDIT_SELF_TEST_MESSAGE, &signature).map_err(|_| {
            VaultError::Unavailable(format!(
                "audit key '{label}' on token '{}' failed its self-test: the token's signature \
                 does not verify under the key's public point",
                self.token_label
            ))
        })?;
        Ok(self.audit.get_or_init(|| key))
    }

    /// Run `f` on an idle session (or a new one). The session is reused only if `f` succeeds.
    fn with_session<T>(
        &self,
        f: impl FnOnce(&Session) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let session = match idle {
            Some(s) => s,
            None => self
                .ctx
                .open_ro_session(self.slot)
                .map_err(|e| unavailable("cannot open a PKCS#11 session", e))?,
        };
        let out = f(&session)?;
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_SESSIONS {
            idle.push(session);
        }
        Ok(out)
    }
}

impl ShareVault for Pkcs11Vault {
    fn seal(&self, aad: &[u8], secret: &[u8]) -> Result<Vec<u8>, VaultError> {
        seal_framed(secret, |nonce| {
            let mut iv = *nonce;
            let params = GcmParams::new(&mut iv, aad, TAG_BITS)
                .map_err(|e| unavailable("bad GCM parameters", e))?;
            self.with_session(|s| {
                s.encrypt(&Mechanism::AesGcm(params), self.key, secret)
                    .map_err(|e| unavailable("token encryption failed", e))
            })
        })
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let (nonce, ct) = split_sealed(sealed)?;
        let mut iv = [0u8; NONCE_LEN];
        iv.copy_from_slice(nonce);
        let params = GcmParams::new(&mut iv, aad, TAG_BITS).map_err(|_| VaultError::Unseal)?;
        self.with_session(|s| {
            s.decrypt(&Mechanism::AesGcm(params), self.key, ct)
                .map(Zeroizing::new)
                .map_err(|_| VaultError::Unseal)
        })
    }

    fn describe(&self) -> String {
        format!(
            "PKCS#11 vault (token '{}', key '{}')",
            self.token_label, self.key_label
        )
    }

    fn token_keys(&self) -> Option<&dyn TokenKeys> {
        Some(self)
    }
}

impl Pkcs11Vault {
    /// The seal key pair labelled `label` (cached after the first search).
    fn seal_key(&self, label: &str) -> Result<(ObjectHandle, VerifyingKey), VaultError> {
        if let Some(k) = self
            .seal_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(label)
        {
            return Ok((k.private, k.public));
        }
        let key = self.with_session(|s| {
            let (private, public) = find_audit_pair(s, label)?;
            match (private.as_slice(), public.as_slice()) {
                ([private], [public]) => {
                    let [sensitive, extractable, ..] = key_flags(s, *private)?;
                    if !sensitive || extractable {
                        return Err(VaultError::Unavailable(format!(
                            "seal key '{label}' is extractable or not sensitive"
                        )));
                    }
                    Ok(AuditKey {
                        private: *private,
                        public: read_p256_public_key(s, *public, label)?,
                    })
                }
                (p, q) => Err(VaultError::Unavailable(format!(
                    "the token has {} private and {} public EC keys labelled '{label}'; a seal \
                     key needs exactly one pair",
                    p.len(),
                    q.len()
                ))),
            }
        })?;
        let out = (key.private, key.public);
        self.seal_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(label.to_owned(), key);
        Ok(out)
    }
}

impl Pkcs11Vault {
    /// Generate a P-256 pair labelled `label` for `role` (refused if the label is taken) and
    /// run `self_test` on it before its public key is reported.
    fn generate_checked(
        &self,
        label: &str,
        role: KeyRole,
        self_test: impl FnOnce(&Session, ObjectHandle, &VerifyingKey) -> Result<(), VaultError>,
    ) -> Result<VerifyingKey, VaultError> {
        let _setup = KEY_SETUP.lock().unwrap_or_else(PoisonError::into_inner);
        let login = self.login.lock().unwrap_or_else(PoisonError::into_inner);
        let (private, public) = find_audit_pair(&login, label)?;
        if !private.is_empty() || !public.is_empty() {
            return Err(VaultError::Unavailable(format!(
                "the token already holds a key labelled '{label}'"
            )));
        }
        let (public, private) = generate_p256_pair(&login, label, role)?;
        let public = read_p256_public_key(&login, public, label)?;
        self_test(&login, private, &public)?;
        Ok(public)
    }
}

impl TokenKeys for Pkcs11Vault {
    fn generate_p256(&self, label: &str) -> Result<VerifyingKey, VaultError> {
        self.generate_checked(label, KeyRole::Signing, |session, private, public| {
            // Self-test: the token's signature must verify under the point it reported.
            let digest: [u8; 32] = Sha256::digest(AUDIT_SELF_TEST_MESSAGE).into();
            let raw = session
                .sign(&Mechanism::Ecdsa, private, &digest)
                .map_err(|e| unavailable("token seal signing failed", e))?;
            check_prehash(public, &digest, &raw_signature(&raw)?)
        })
    }

    fn sign_p256_digest(&self, label: &str, digest: &[u8; 32]) -> Result<Signature, VaultError> {
        let (private, public) = self.seal_key(label)?;
        let raw = self.with_session(|s| {
            s.sign(&Mechanism::Ecdsa, private, digest)
                .map_err(|e| unavailable("token seal signing failed", e))
        })?;
        let signature = raw_signature(&raw)?;
        check_prehash(&public, digest, &signature)?;
        Ok(signature)
    }

    fn p256_public_key(&self, label: &str) -> Result<VerifyingKey, VaultError> {
        Ok(self.seal_key(label)?.1)
    }

    fn p256_key_is_protected(&self, label: &str) -> Result<bool, VaultError> {
        let (private, _) = self.seal_key(label)?;
        self.with_session(|s| {
            let [sensitive, extractable, always_sensitive, never_extractable] =
                key_flags(s, private)?;
            Ok(sensitive && !extractable && always_sensitive && never_extractable)
        })
    }

    fn generate_p256_agreement(&self, label: &str) -> Result<VerifyingKey, VaultError> {
        self.generate_checked(label, KeyRole::Agreement, |session, private, public| {
            // Self-test: the token's ECDH with a throwaway key equals this process's.
            let throwaway = {
                use p256::elliptic_curve::Generate;
                p256::SecretKey::try_generate()
                    .map_err(|e| VaultError::Unavailable(format!("rng: {e}")))?
            };
            let expected = {
                use p256::elliptic_curve::point::AffineCoordinates;
                let point = (p256::PublicKey::from(public).to_projective()
                    * *throwaway.to_nonzero_scalar())
                .to_affine();
                Zeroizing::new(<[u8; 32]>::from(point.x()))
            };
            let z = token_ecdh(session, private, &throwaway.public_key(), label)?;
            if bool::from(subtle::ConstantTimeEq::ct_eq(&z[..], &expected[..])) {
                Ok(())
            } else {
                Err(VaultError::Unavailable(format!(
                    "the token's key agreement with '{label}' does not match its public key"
                )))
            }
        })
    }

    fn ecdh_p256(
        &self,
        label: &str,
        peer: &p256::PublicKey,
    ) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        let (private, _) = self.seal_key(label)?;
        self.with_session(|s| token_ecdh(s, private, peer, label))
    }
}

/// `CKM_ECDH1_DERIVE` with the null KDF into a session-only generic secret of 32 bytes, read
/// and destroyed at once: `Z` for one peer key. The long-term private key stays in the token;
/// what comes out is the shared secret of one envelope's ephemeral key.
fn token_ecdh(
    session: &Session,
    private: ObjectHandle,
    peer: &p256::PublicKey,
    label: &str,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
    use p256::elliptic_curve::sec1::ToSec1Point;
    let point = peer.to_sec1_point(false);
    let params = Ecdh1DeriveParams::new(EcKdf::null(), point.as_bytes());
    let derived = session
        .derive_key(
            &Mechanism::Ecdh1Derive(params),
            private,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::GENERIC_SECRET),
                Attribute::ValueLen(KEY_LEN),
                Attribute::Token(false),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
            ],
        )
        .map_err(|e| unavailable(&format!("key agreement with '{label}' failed"), e))?;
    let value = session.get_attributes(derived, &[AttributeType::Value]);
    // Destroyed whatever the read gave: the secret lives no longer in the token than here.
    let destroyed = session.destroy_object(derived);
    let value = value.map_err(|e| unavailable("cannot read the agreed secret", e))?;
    destroyed.map_err(|e| unavailable("cannot destroy the agreed secret", e))?;
    let mut out = Zeroizing::new([0u8; 32]);
    for attribute in value {
        if let Attribute::Value(mut bytes) = attribute {
            let ok = bytes.len() == out.len();
            if ok {
                out.copy_from_slice(&bytes);
            }
            zeroize::Zeroize::zeroize(&mut bytes);
            if ok {
                return Ok(out);
            }
        }
    }
    Err(VaultError::Unavailable(
        "the token's agreed secret is not 32 bytes".into(),
    ))
}

/// What a generated token key pair may do: sign (seals, audit) or agree keys (envelopes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyRole {
    Signing,
    Agreement,
}

/// A PKCS#11 `r || s` ECDSA signature (32 bytes each for P-256).
fn raw_signature(raw: &[u8]) -> Result<Signature, VaultError> {
    Signature::from_slice(raw).map_err(|_| {
        VaultError::Unavailable(format!(
            "token returned a malformed ECDSA signature ({} bytes)",
            raw.len()
        ))
    })
}

/// Check a token's signature over a digest before it leaves the vault.
fn check_prehash(
    key: &VerifyingKey,
    digest: &[u8; 32],
    signature: &Signature,
) -> Result<(), VaultError> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    key.verify_prehash(digest, signature)
        .map_err(|_| VaultError::Unavailable("the token's seal signature does not verify".into()))
}

impl AuditSigner for Pkcs11Vault {
    fn audit_public_key(&self) -> Result<VerifyingKey, VaultError> {
        Ok(self.audit_key()?.public)
    }

    fn sign_audit(&self, message: &[u8]) -> Result<Signature, VaultError> {
        let key = self.audit_key()?;
        let signature = self.with_session(|s| token_sign(s, key.private, message))?;
        check_audit_signature(&key.public, message, &signature)?;
        Ok(signature)
    }
}

/// The audit key pair of a token: the private key's handle and the public key read from it.
struct AuditKey {
    private: ObjectHandle,
    public: VerifyingKey,
}

/// ECDSA signature by `key` in the token over SHA-256(`message`), hashed here (`CKM_ECDSA`).
fn token_sign(
    session: &Session,
    key: ObjectHandle,
    message: &[u8],
) -> Result<Signature, VaultError> {
    let digest = Sha256::digest(message);
    let raw = session
        .sign(&Mechanism::Ecdsa, key, &digest)
        .map_err(|e| unavailable("token audit signing failed", e))?;
    // PKCS#11 returns r || s, each as long as the order (32 bytes for P-256).
    Signature::from_slice(&raw).map_err(|_| {
        VaultError::Unavailable(format!(
            "token returned a malformed ECDSA signature ({} bytes)",
            raw.len()
        ))
    })
}

/// The EC private and public keys labelled `label` (all of them).
fn find_audit_pair(
    session: &Session,
    label: &str,
) -> Result<(Vec<ObjectHandle>, Vec<ObjectHandle>), VaultError> {
    let find = |class| {
        session
            .find_objects(&[
                Attribute::Class(class),
                Attribute::KeyType(KeyType::EC),
                Attribute::Label(label.as_bytes().to_vec()),
            ])
            .map_err(|e| unavailable(&format!("cannot search for audit key '{label}'"), e))
    };
    Ok((
        find(ObjectClass::PRIVATE_KEY)?,
        find(ObjectClass::PUBLIC_KEY)?,
    ))
}

/// The audit key pair labelled `label`, generated in the token if there is none. Call with
/// [`KEY_SETUP`] held, on a read-write session.
fn find_or_generate_audit_key(session: &Session, label: &str) -> Result<AuditKey, VaultError> {
    let (private, public) = match find_audit_pair(session, label)? {
        (private, public) if private.is_empty() && public.is_empty() => {
            let (public, private) = generate_p256_pair(session, label, KeyRole::Signing)?;
            // Another process may have generated one at the same time (PKCS#11 cannot prevent
            // it): then this one goes again, so no two processes keep different keys.
            match find_audit_pair(session, label)? {
                (p, q) if p == [private] && q == [public] => {}
                (p, q) => {
                    let destroyed = session
                        .destroy_object(private)
                        .and_then(|()| session.destroy_object(public));
                    return Err(VaultError::Unavailable(format!(
                        "audit key '{label}' was generated by another process at the same time \
                         ({} private and {} public keys now); {}",
                        p.len(),
                        q.len(),
                        match destroyed {
                            Ok(()) => "this one was removed again: retry".to_owned(),
                            Err(e) => format!("removing this one failed ({e}): keep one pair"),
                        }
                    )));
                }
            }
            (private, public)
        }
        (private, public) => match (private.as_slice(), public.as_slice()) {
            ([private], [public]) => (*private, *public),
            _ => {
                return Err(VaultError::Unavailable(format!(
                    "the token has {} private and {} public EC keys labelled '{label}'; the \
                     audit key needs exactly one pair",
                    private.len(),
                    public.len()
                )));
            }
        },
    };
    let [sensitive, extractable, ..] = key_flags(session, private)?;
    if !sensitive || extractable {
        return Err(VaultError::Unavailable(format!(
            "audit key '{label}' is extractable or not sensitive"
        )));
    }
    Ok(AuditKey {
        private,
        public: read_p256_public_key(session, public, label)?,
    })
}

/// Generate a P-256 key pair labelled `label` in the token (the private half sensitive,
/// non-extractable, and either sign only or derive only): `(public, private)`.
fn generate_p256_pair(
    session: &Session,
    label: &str,
    role: KeyRole,
) -> Result<(ObjectHandle, ObjectHandle), VaultError> {
    let label_attr = Attribute::Label(label.as_bytes().to_vec());
    session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::KeyType(KeyType::EC),
                Attribute::EcParams(P256_EC_PARAMS.to_vec()),
                label_attr.clone(),
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Verify(role == KeyRole::Signing),
                Attribute::Derive(false),
            ],
            &[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::KeyType(KeyType::EC),
                label_attr,
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(role == KeyRole::Signing),
                Attribute::Derive(role == KeyRole::Agreement),
            ],
        )
        .map_err(|e| unavailable(&format!("cannot generate EC key '{label}'"), e))
}

/// The P-256 public key of the EC public key object `public`.
fn read_p256_public_key(
    session: &Session,
    public: ObjectHandle,
    label: &str,
) -> Result<VerifyingKey, VaultError> {
    let attrs = session
        .get_attributes(public, &[AttributeType::EcParams, AttributeType::EcPoint])
        .map_err(|e| unavailable(&format!("cannot read audit public key '{label}'"), e))?;
    let (mut params, mut point) = (None, None);
    for attr in attrs {
        match attr {
            Attribute::EcParams(p) => params = Some(p),
            Attribute::EcPoint(p) => point = Some(p),
            _ => {}
        }
    }
    if params.as_deref() != Some(&P256_EC_PARAMS[..]) {
        return Err(VaultError::Unavailable(format!(
            "audit key '{label}' is not a P-256 (prime256v1) key"
        )));
    }
    point.as_deref().and_then(parse_ec_point).ok_or_else(|| {
        VaultError::Unavailable(format!(
            "audit key '{label}' has no valid P-256 public point"
        ))
    })
}

/// The point in a `CKA_EC_POINT` value: a DER OCTET STRING holding the SEC1 encoding (PKCS#11
/// 2.20 onwards), or, as some older tokens return it, the bare SEC1 encoding.
fn parse_ec_point(value: &[u8]) -> Option<VerifyingKey> {
    let wrapped = match value {
        [0x04, len, rest @ ..] if *len < 0x80 && usize::from(*len) == rest.len() => Some(rest),
        [0x04, 0x81, len, rest @ ..] if *len >= 0x80 && usize::from(*len) == rest.len() => {
            Some(rest)
        }
        _ => None,
    };
    wrapped
        .and_then(|inner| VerifyingKey::from_sec1_bytes(inner).ok())
        .or_else(|| VerifyingKey::from_sec1_bytes(value).ok())
}

/// A [`VaultError::Unavailable`] naming what failed. Token errors never contain the PIN.
fn unavailable(what: &str, e: CkError) -> VaultError {
    VaultError::Unavailable(format!("{what}: {e}"))
}

/// The module at `path`, loaded and initialized once per process and never unloaded.
///
/// A module must not be initialized from two threads at once, and unloading it (dropping the
/// last context) while it is initialized breaks every later use, so contexts are kept here.
fn load_module(path: &Path) -> Result<Pkcs11, VaultError> {
    static MODULES: Mutex<Vec<(PathBuf, Pkcs11)>> = Mutex::new(Vec::new());
    let mut modules = MODULES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, ctx)) = modules.iter().find(|(p, _)| p == path) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(path)
        .map_err(|e| unavailable(&format!("cannot load PKCS#11 module {}", path.display()), e))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(unavailable("cannot initialize PKCS#11 module", e)),
    }
    modules.push((path.to_owned(), ctx.clone()));
    Ok(ctx)
}

/// The slot whose token is labelled `label`.
fn find_slot(ctx: &Pkcs11, label: &str) -> Result<Slot, VaultError> {
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| unavailable("cannot list PKCS#11 slots", e))?;
    for slot in slots {
        let info = ctx
            .get_token_info(slot)
            .map_err(|e| unavailable("cannot read PKCS#11 token info", e))?;
        if info.label() == label {
            return Ok(slot);
        }
    }
    Err(VaultError::Unavailable(format!(
        "no PKCS#11 token labelled '{label}'"
    )))
}

/// The AES key labelled `label`, generated in the token if there is none.
fn find_or_generate_key(session: &Session, label: &str) -> Result<ObjectHandle, VaultError> {
    let label_attr = Attribute::Label(label.as_bytes().to_vec());
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            label_attr.clone(),
        ])
        .map_err(|e| unavailable(&format!("cannot search for key '{label}'"), e))?;
    match found.as_slice() {
        [key] => Ok(*key),
        [] => session
            .generate_key(
                &Mechanism::AesKeyGen,
                &[
                    Attribute::Class(ObjectClass::SECRET_KEY),
                    Attribute::KeyType(KeyType::AES),
                    Attribute::ValueLen(KEY_LEN),
                    label_attr,
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(false),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                ],
            )
            .map_err(|e| unavailable(&format!("cannot generate key '{label}'"), e)),
        _ => Err(VaultError::Unavailable(format!(
            "{} keys are labelled '{label}'",
            found.len()
        ))),
    }
}

/// `[sensitive, extractable, always_sensitive, never_extractable]` of `key`.
fn key_flags(session: &Session, key: ObjectHandle) -> Result<[bool; 4], VaultError> {
    let attrs = session
        .get_attributes(
            key,
            &[
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
            ],
        )
        .map_err(|e| unavailable("cannot read key attributes", e))?;
    // Anything the token does not report counts against the key.
    let mut flags = [false, true, false, false];
    for attr in attrs {
        match attr {
            Attribute::Sensitive(b) => flags[0] = b,
            Attribute::Extractable(b) => flags[1] = b,
            Attribute::AlwaysSensitive(b) => flags[2] = b,
            Attribute::NeverExtractable(b) => flags[3] = b,
            _ => {}
        }
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_point_is_unwrapped_from_its_octet_string() {
        let key = *p256::ecdsa::SigningKey::from_slice(&[3u8; 32])
            .expect("key")
            .verifying_key();
        for compress in [false, true] {
            let sec1 = key.to_sec1_point(compress).as_bytes().to_vec();
            let mut der = vec![0x04, u8::try_from(sec1.len()).expect("short")];
            der.extend_from_slice(&sec1);
            assert_eq!(parse_ec_point(&der), Some(key));
            // Bare SEC1, as some older tokens return it.
            assert_eq!(parse_ec_point(&sec1), Some(key));
            // A wrong length or a truncated point is no key.
            let mut bad = der.clone();
            bad[1] += 1;
            assert_eq!(parse_ec_point(&bad), None);
            assert_eq!(parse_ec_point(&der[..der.len() - 1]), None);
        }
        assert_eq!(parse_ec_point(&[]), None);
        assert_eq!(parse_ec_point(&[0x04, 0x00]), None);
    }
}
