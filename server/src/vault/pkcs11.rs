//! A vault whose wrapping key is a non-extractable AES-256 key inside a PKCS#11 token.
//!
//! Sealing and opening run inside the token (`CKM_AES_GCM`); the key value never reaches this
//! process. The sealed format is the same as [`super::FileVault`]'s.

use super::{NONCE_LEN, ShareVault, VaultError, seal_framed, split_sealed};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::{AuthPin, Ulong};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use zeroize::Zeroizing;

/// GCM tag length in bits.
const TAG_BITS: Ulong = Ulong::new(128);
/// AES-256 key length in bytes.
const KEY_LEN: Ulong = Ulong::new(32);
/// Idle sessions kept for reuse; more can be open while calls run concurrently.
const MAX_IDLE_SESSIONS: usize = 8;

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
}

impl Pkcs11Config {
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
    /// Never used for operations: PKCS#11 keeps the user logged in while a session is open.
    _login: Mutex<Session>,
    /// Idle sessions; a call takes one (or opens a new one) and puts it back when done.
    idle: Mutex<Vec<Session>>,
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
        let key = find_or_generate_key(&login, &config.key_label)?;
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
            _login: Mutex::new(login),
            idle: Mutex::new(Vec::new()),
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
