//! Android Keystore (and, for tests on a desktop JVM, a password-protected Java key store file)
//! through JNI.
//!
//! Plain JNI, so it compiles on every platform and the very same code paths run on the
//! desktop JVM in `scripts/bindings.sh test-kotlin`; which key store is used is a constructor
//! argument ([`JavaKeyStore`]), not a `cfg`.
//!
//! * Android: an AES-256 key in `AndroidKeyStore` (non-exportable, in the TEE or StrongBox
//!   where the device has one), created on first use with `KeyGenParameterSpec` (encrypt and
//!   decrypt, GCM, no padding, randomized encryption, optional user authentication).
//! * Desktop JVM: an AES-256 key in a PKCS12 file (Java 17 stores secret keys in PKCS12),
//!   created with `KeyGenerator` and `KeyStore.setEntry`; the file is written atomically and
//!   owner-only.
//!
//! Both encrypt with `Cipher("AES/GCM/NoPadding")`: the cipher draws the IV (the Android
//! Keystore insists on it) and we read it back with `getIV()`; the key id goes in with
//! `updateAAD`. Java byte arrays that held plaintext are overwritten before they are released.
//! Every JNI call runs inside one local reference frame per operation (released on return) and
//! every Java exception is caught, cleared and turned into a [`WrapError`].
//!
//! The JVM is found through `JNI_OnLoad`, which the JVM runs when the app calls
//! `System.loadLibrary("inkseal_ffi")` (the Kotlin façade's `Inkseal.init`). JNA, which the
//! generated bindings use, loads the same library without running it; both share the one
//! loaded library in the process.

use super::{ShareWrapper, WrapError, open_envelope, seal_envelope};
use jni::objects::{JByteArray, JObject, JString};
use jni::vm::JavaVM;
use jni::{Env, JValue, jni_sig, jni_str};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use zeroize::Zeroizing;

/// The JVM this library was loaded into, set by [`JNI_OnLoad`].
static JVM: OnceLock<JavaVM> = OnceLock::new();

/// Called by the JVM when `System.loadLibrary`/`System.load` loads this library: remembers the
/// JVM so that Rust threads can call the Java key store.
///
/// Exported under the name the JVM looks for; never called from Rust.
///
/// # Safety
///
/// Only the JVM calls it, with its own valid `JavaVM` pointer.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub unsafe extern "system" fn JNI_OnLoad(
    vm: *mut jni::sys::JavaVM,
    _reserved: *mut std::ffi::c_void,
) -> jni::sys::jint {
    if vm.is_null() {
        return jni::sys::JNI_ERR;
    }
    // SAFETY: the JVM passes a valid, non-null `JavaVM` pointer (checked above) that stays
    // valid for the life of the process; `from_raw` only stores it.
    let vm = unsafe { JavaVM::from_raw(vm) };
    // A second load of the same library (JNA and System.load share it) keeps the first.
    let _ = JVM.set(vm);
    jni::sys::JNI_VERSION_1_6
}

/// Whether the JVM is known (the library was loaded with `System.loadLibrary`/`System.load`).
pub(crate) fn java_vm_known() -> bool {
    java_vm().is_ok()
}

fn java_vm() -> Result<JavaVM, WrapError> {
    if let Some(vm) = JVM.get() {
        return Ok(vm.clone());
    }
    JavaVM::singleton().map_err(|_| {
        WrapError::Platform(
            "the JVM is unknown to inkseal: call System.loadLibrary(\"inkseal_ffi\") \
             (Inkseal.init) before using a Java key store"
                .into(),
        )
    })
}

/// Which Java key store holds the wrapping key.
#[derive(Clone)]
pub(crate) enum JavaKeyStore {
    /// `AndroidKeyStore`.
    Android {
        /// `Some(seconds)`: the key is usable only that long after the user unlocked the
        /// device or passed a biometric prompt.
        user_auth_validity_seconds: Option<u32>,
    },
    /// A key store file (desktop JVMs and tests).
    File {
        /// `PKCS12` (or `JCEKS`).
        store_type: String,
        /// The file; created on first use.
        path: PathBuf,
        /// Its password.
        password: Zeroizing<String>,
    },
}

impl std::fmt::Debug for JavaKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JavaKeyStore::Android { .. } => f.write_str("AndroidKeyStore"),
            JavaKeyStore::File {
                store_type, path, ..
            } => write!(f, "{store_type} file {}", path.display()),
        }
    }
}

/// Largest key store file read back.
const MAX_KEY_STORE_FILE: u64 = 1 << 20;
/// `Cipher.ENCRYPT_MODE`, `Cipher.DECRYPT_MODE`.
const ENCRYPT_MODE: i32 = 1;
const DECRYPT_MODE: i32 = 2;
/// `KeyProperties.PURPOSE_ENCRYPT | KeyProperties.PURPOSE_DECRYPT`.
const PURPOSE_ENCRYPT_DECRYPT: i32 = 1 | 2;
/// GCM tag length in bits.
const TAG_BITS: i32 = 128;

/// An AES-256-GCM key in a Java key store, used through JNI.
pub(crate) struct JavaKeyStoreWrapper {
    store: JavaKeyStore,
    alias: String,
    /// Serialises key creation (and the key store file's rewrite).
    lock: Mutex<()>,
}

impl JavaKeyStoreWrapper {
    /// A wrapper using the key `alias` in `store` (created on first use).
    pub(crate) fn new(store: JavaKeyStore, alias: String) -> Result<Self, WrapError> {
        if alias.is_empty() || alias.len() > 200 || alias.chars().any(char::is_control) {
            return Err(WrapError::Platform(format!("bad key alias {alias:?}")));
        }
        Ok(JavaKeyStoreWrapper {
            store,
            alias,
            lock: Mutex::new(()),
        })
    }

    /// Runs `f` with the wrapping key, on a thread attached to the JVM, in one local frame.
    fn with_key<T>(
        &self,
        f: impl FnOnce(&mut Env<'_>, &JObject<'_>) -> Result<T, WrapError>,
    ) -> Result<T, WrapError> {
        let vm = java_vm()?;
        let _guard = self
            .lock
            .lock()
            .map_err(|_| WrapError::Platform("key store lock poisoned".into()))?;
        vm.attach_current_thread(|env| -> Result<T, WrapError> {
            let key = match &self.store {
                JavaKeyStore::Android {
                    user_auth_validity_seconds,
                } => android_key(env, &self.alias, *user_auth_validity_seconds)?,
                JavaKeyStore::File {
                    store_type,
                    path,
                    password,
                } => file_key(env, store_type, path, password, &self.alias)?,
            };
            f(env, &key)
        })
    }
}

impl ShareWrapper for JavaKeyStoreWrapper {
    fn wrap(&self, key_id: &str, plaintext: &[u8]) -> Result<Vec<u8>, WrapError> {
        self.with_key(|env, key| encrypt(env, key, key_id.as_bytes(), plaintext))
    }

    fn unwrap(&self, key_id: &str, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, WrapError> {
        let (iv, ciphertext) = open_envelope(blob)?;
        self.with_key(|env, key| decrypt(env, key, key_id.as_bytes(), iv, ciphertext))
    }
}

impl From<jni::errors::Error> for WrapError {
    fn from(e: jni::errors::Error) -> Self {
        match e {
            jni::errors::Error::CaughtJavaException { name, msg, .. } => {
                java_exception(&name, &msg)
            }
            other => WrapError::Platform(format!("JNI: {other}")),
        }
    }
}

fn java_exception(name: &str, msg: &str) -> WrapError {
    if name.ends_with("AEADBadTagException") {
        WrapError::Authentication
    } else {
        WrapError::Platform(format!("{name}: {msg}"))
    }
}

/// Turns a failed JNI call into a [`WrapError`], catching and clearing a pending Java exception.
trait OrJava<T> {
    fn or_java(self, env: &Env<'_>) -> Result<T, WrapError>;
}

impl<T> OrJava<T> for jni::errors::Result<T> {
    fn or_java(self, env: &Env<'_>) -> Result<T, WrapError> {
        self.map_err(|e| {
            if env.exception_check() {
                // Clears the exception and describes it.
                match env.exception_catch() {
                    Err(caught) => caught.into(),
                    Ok(()) => e.into(),
                }
            } else {
                e.into()
            }
        })
    }
}

fn jstr<'l>(env: &mut Env<'l>, s: &str) -> Result<JString<'l>, WrapError> {
    env.new_string(s).or_java(env)
}

fn jbytes<'l>(env: &mut Env<'l>, b: &[u8]) -> Result<JByteArray<'l>, WrapError> {
    env.byte_array_from_slice(b).or_java(env)
}

fn as_byte_array<'l>(env: &Env<'l>, obj: JObject<'l>) -> Result<JByteArray<'l>, WrapError> {
    if obj.is_null() {
        return Err(WrapError::Platform("the cipher returned no bytes".into()));
    }
    env.cast_local::<JByteArray>(obj).or_java(env)
}

/// Overwrites a Java byte array that held plaintext.
fn wipe(env: &Env<'_>, array: &JByteArray<'_>) -> Result<(), WrapError> {
    let len = array.len(env).or_java(env)?;
    array.set_region(env, 0, &vec![0i8; len]).or_java(env)
}

/// The key `alias` in `AndroidKeyStore`, generated on first use.
fn android_key<'l>(
    env: &mut Env<'l>,
    alias: &str,
    user_auth_validity_seconds: Option<u32>,
) -> Result<JObject<'l>, WrapError> {
    let provider = jstr(env, "AndroidKeyStore")?;
    let ks = env
        .call_static_method(
            jni_str!("java/security/KeyStore"),
            jni_str!("getInstance"),
            jni_sig!("(Ljava/lang/String;)Ljava/security/KeyStore;"),
            &[JValue::Object(&provider)],
        )
        .and_then(|v| v.l())
        .or_java(env)?;
    env.call_method(
        &ks,
        jni_str!("load"),
        jni_sig!("(Ljava/security/KeyStore$LoadStoreParameter;)V"),
        &[JValue::Object(&JObject::null())],
    )
    .or_java(env)?;
    let alias_j = jstr(env, alias)?;
    let key = env
        .call_method(
            &ks,
            jni_str!("getKey"),
            jni_sig!("(Ljava/lang/String;[C)Ljava/security/Key;"),
            &[JValue::Object(&alias_j), JValue::Object(&JObject::null())],
        )
        .and_then(|v| v.l())
        .or_java(env)?;
    if !key.is_null() {
        return Ok(key);
    }
    tracing::info!("creating the share-wrapping key in the Android Keystore");
    let aes = jstr(env, "AES")?;
    let generator = env
        .call_static_method(
            jni_str!("javax/crypto/KeyGenerator"),
            jni_str!("getInstance"),
            jni_sig!("(Ljava/lang/String;Ljava/lang/String;)Ljavax/crypto/KeyGenerator;"),
            &[JValue::Object(&aes), JValue::Object(&provider)],
        )
        .and_then(|v| v.l())
        .or_java(env)?;
    let builder = env
        .new_object(
            jni_str!("android/security/keystore/KeyGenParameterSpec$Builder"),
            jni_sig!("(Ljava/lang/String;I)V"),
            &[
                JValue::Object(&alias_j),
                JValue::Int(PURPOSE_ENCRYPT_DECRYPT),
            ],
        )
        .or_java(env)?;
    let gcm = jstr(env, "GCM")?;
    let modes = env
        .new_object_array(1, jni_str!("java/lang/String"), &gcm)
        .or_java(env)?;
    let no_padding = jstr(env, "NoPadding")?;
    let paddings = env
        .new_object_array(1, jni_str!("java/lang/String"), &no_padding)
        .or_java(env)?;
    env.call_method(
        &builder,
        jni_str!("setBlockModes"),
        jni_sig!("([Ljava/lang/String;)Landroid/security/keystore/KeyGenParameterSpec$Builder;"),
        &[JValue::Object(&modes)],
    )
    .or_java(env)?;
    env.call_method(
        &builder,
        jni_str!("setEncryptionPaddings"),
        jni_sig!("([Ljava/lang/String;)Landroid/security/keystore/KeyGenParameterSpec$Builder;"),
        &[JValue::Object(&paddings)],
    )
    .or_java(env)?;
    env.call_method(
        &builder,
        jni_str!("setKeySize"),
        jni_sig!("(I)Landroid/security/keystore/KeyGenParameterSpec$Builder;"),
        &[JValue::Int(256)],
    )
    .or_java(env)?;
    if let Some(seconds) = user_auth_validity_seconds {
        let seconds = i32::try_from(seconds.max(1)).unwrap_or(i32::MAX);
        env.call_method(
            &builder,
            jni_str!("setUserAuthenticationRequired"),
            jni_sig!("(Z)Landroid/security/keystore/KeyGenParameterSpec$Builder;"),
            &[JValue::Bool(true)],
        )
        .or_java(env)?;
        // Deprecated in API 30 in favour of setUserAuthenticationParameters, but the only
        // form available down to minSdk 26.
        env.call_method(
            &builder,
            jni_str!("setUserAuthenticationValidityDurationSeconds"),
            jni_sig!("(I)Landroid/security/keystore/KeyGenParameterSpec$Builder;"),
            &[JValue::Int(seconds)],
        )
        .or_java(env)?;
    }
    let spec = env
        .call_method(
            &builder,
            jni_str!("build"),
            jni_sig!("()Landroid/security/keystore/KeyGenParameterSpec;"),
            &[],
        )
        .and_then(|v| v.l())
        .or_java(env)?;
    env.call_method(
        &generator,
        jni_str!("init"),
        jni_sig!("(Ljava/security/spec/AlgorithmParameterSpec;)V"),
        &[JValue::Object(&spec)],
    )
    .or_java(env)?;
    generate_key(env, &generator)
}

fn generate_key<'l>(env: &mut Env<'l>, generator: &JObject<'_>) -> Result<JObject<'l>, WrapError> {
    let key = env
        .call_method(
            generator,
            jni_str!("generateKey"),
            jni_sig!("()Ljavax/crypto/SecretKey;"),
            &[],
        )
        .and_then(|v| v.l())
        .or_java(env)?;
    if key.is_null() {
        return Err(WrapError::Platform("KeyGenerator returned no key".into()));
    }
    Ok(key)
}

/// The key `alias` in a password-protected key store file, generated (and the file written
/// atomically, owner-only) on first use.
fn file_key<'l>(
    env: &mut Env<'l>,
    store_type: &str,
    path: &std::path::Path,
    password: &str,
    alias: &str,
) -> Result<JObject<'l>, WrapError> {
    let type_j = jstr(env, store_type)?;
    let ks = env
        .call_static_method(
            jni_str!("java/security/KeyStore"),
            jni_str!("getInstance"),
            jni_sig!("(Ljava/lang/String;)Ljava/security/KeyStore;"),
            &[JValue::Object(&type_j)],
        )
        .and_then(|v| v.l())
        .or_java(env)?;
    let password_j = jstr(env, password)?;
    let chars = env
        .call_method(&password_j, jni_str!("toCharArray"), jni_sig!("()[C"), &[])
        .and_then(|v| v.l())
        .or_java(env)?;
    let result = file_key_with_password(env, &ks, &chars, path, alias);
    // The char[] copy of the password is overwritten whatever happened.
    let wiped = env
        .call_static_method(
            jni_str!("java/util/Arrays"),
            jni_str!("fill"),
            jni_sig!("([CC)V"),
            &[JValue::Object(&chars), JValue::Char(0)],
        )
        .or_java(env);
    let key = result?;
    wiped?;
    Ok(key)
}

fn file_key_with_password<'l>(
    env: &mut Env<'l>,
    ks: &JObject<'_>,
    chars: &JObject<'_>,
    path: &std::path::Path,
    alias: &str,
) -> Result<JObject<'l>, WrapError> {
    let existing = match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_KEY_STORE_FILE => {
            return Err(WrapError::Platform(format!(
                "{} is too large for a key store",
                path.display()
            )));
        }
        Ok(_) => Some(
            std::fs::read(path)
                .map_err(|e| WrapError::Platform(format!("{}: {e}", path.display())))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(WrapError::Platform(format!("{}: {e}", path.display()))),
    };
    let input = match &existing {
        Some(bytes) => {
            let array = jbytes(env, bytes)?;
            env.new_object(
                jni_str!("java/io/ByteArrayInputStream"),
                jni_sig!("([B)V"),
                &[JValue::Object(&array)],
            )
            .or_java(env)?
        }
        None => JObject::null(),
    };
    env.call_method(
        ks,
        jni_str!("load"),
        jni_sig!("(Ljava/io/InputStream;[C)V"),
        &[JValue::Object(&input), JValue::Object(chars)],
    )
    .or_java(env)?;
    let alias_j = jstr(env, alias)?;
    let key = env
        .call_method(
            ks,
            jni_str!("getKey"),
            jni_sig!("(Ljava/lang/String;[C)Ljava/security/Key;"),
            &[JValue::Object(&alias_j), JValue::Object(chars)],
        )
        .and_then(|v| v.l())
        .or_java(env)?;
    if !key.is_null() {
        return Ok(key);
    }
    tracing::info!(path = %path.display(), "creating the share-wrapping key in a key store file");
    let aes = jstr(env, "AES")?;
    let generator = env
        .call_static_method(
            jni_str!("javax/crypto/KeyGenerator"),
            jni_str!("getInstance"),
            jni_sig!("(Ljava/lang/String;)Ljavax/crypto/KeyGenerator;"),
            &[JValue::Object(&aes)],
        )
        .and_then(|v| v.l())
        .or_java(env)?;
    env.call_method(
        &generator,
        jni_str!("init"),
        jni_sig!("(I)V"),
        &[JValue::Int(256)],
    )
    .or_java(env)?;
    let key = generate_key(env, &generator)?;
    let entry = env
        .new_object(
            jni_str!("java/security/KeyStore$SecretKeyEntry"),
            jni_sig!("(Ljavax/crypto/SecretKey;)V"),
            &[JValue::Object(&key)],
        )
        .or_java(env)?;
    let protection = env
        .new_object(
            jni_str!("java/security/KeyStore$PasswordProtection"),
            jni_sig!("([C)V"),
            &[JValue::Object(chars)],
        )
        .or_java(env)?;
    env.call_method(
        ks,
        jni_str!("setEntry"),
        jni_sig!(
            "(Ljava/lang/String;Ljava/security/KeyStore$Entry;Ljava/security/KeyStore$ProtectionParameter;)V"
        ),
        &[
            JValue::Object(&alias_j),
            JValue::Object(&entry),
            JValue::Object(&protection),
        ],
    )
    .or_java(env)?;
    let sink = env
        .new_object(
            jni_str!("java/io/ByteArrayOutputStream"),
            jni_sig!("()V"),
            &[],
        )
        .or_java(env)?;
    env.call_method(
        ks,
        jni_str!("store"),
        jni_sig!("(Ljava/io/OutputStream;[C)V"),
        &[JValue::Object(&sink), JValue::Object(chars)],
    )
    .or_java(env)?;
    let stored = env
        .call_method(&sink, jni_str!("toByteArray"), jni_sig!("()[B"), &[])
        .and_then(|v| v.l())
        .or_java(env)?;
    let stored = as_byte_array(env, stored)?;
    let bytes = env.convert_byte_array(&stored).or_java(env)?;
    inkseal_fs::write_atomically(path, &[&bytes], inkseal_fs::Visibility::Private)
        .map_err(|e| WrapError::Platform(format!("{}: {e}", path.display())))?;
    Ok(key)
}

fn new_cipher<'l>(env: &mut Env<'l>) -> Result<JObject<'l>, WrapError> {
    let transformation = jstr(env, "AES/GCM/NoPadding")?;
    env.call_static_method(
        jni_str!("javax/crypto/Cipher"),
        jni_str!("getInstance"),
        jni_sig!("(Ljava/lang/String;)Ljavax/crypto/Cipher;"),
        &[JValue::Object(&transformation)],
    )
    .and_then(|v| v.l())
    .or_java(env)
}

fn update_aad(env: &mut Env<'_>, cipher: &JObject<'_>, aad: &[u8]) -> Result<(), WrapError> {
    let aad = jbytes(env, aad)?;
    env.call_method(
        cipher,
        jni_str!("updateAAD"),
        jni_sig!("([B)V"),
        &[JValue::Object(&aad)],
    )
    .or_java(env)?;
    Ok(())
}

fn do_final<'l>(
    env: &mut Env<'l>,
    cipher: &JObject<'_>,
    input: &JByteArray<'_>,
) -> Result<JByteArray<'l>, WrapError> {
    let out = env
        .call_method(
            cipher,
            jni_str!("doFinal"),
            jni_sig!("([B)[B"),
            &[JValue::Object(input)],
        )
        .and_then(|v| v.l())
        .or_java(env)?;
    as_byte_array(env, out)
}

fn encrypt(
    env: &mut Env<'_>,
    key: &JObject<'_>,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, WrapError> {
    let cipher = new_cipher(env)?;
    env.call_method(
        &cipher,
        jni_str!("init"),
        jni_sig!("(ILjava/security/Key;)V"),
        &[JValue::Int(ENCRYPT_MODE), JValue::Object(key)],
    )
    .or_java(env)?;
    let iv = env
        .call_method(&cipher, jni_str!("getIV"), jni_sig!("()[B"), &[])
        .and_then(|v| v.l())
        .or_java(env)?;
    let iv = as_byte_array(env, iv)?;
    let iv = env.convert_byte_array(&iv).or_java(env)?;
    update_aad(env, &cipher, aad)?;
    let plain = jbytes(env, plaintext)?;
    let sealed = do_final(env, &cipher, &plain);
    wipe(env, &plain)?;
    let sealed = sealed?;
    let ciphertext = env.convert_byte_array(&sealed).or_java(env)?;
    seal_envelope(&iv, &ciphertext)
}

fn decrypt(
    env: &mut Env<'_>,
    key: &JObject<'_>,
    aad: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, WrapError> {
    let cipher = new_cipher(env)?;
    let iv = jbytes(env, iv)?;
    let spec = env
        .new_object(
            jni_str!("javax/crypto/spec/GCMParameterSpec"),
            jni_sig!("(I[B)V"),
            &[JValue::Int(TAG_BITS), JValue::Object(&iv)],
        )
        .or_java(env)?;
    env.call_method(
        &cipher,
        jni_str!("init"),
        jni_sig!("(ILjava/security/Key;Ljava/security/spec/AlgorithmParameterSpec;)V"),
        &[
            JValue::Int(DECRYPT_MODE),
            JValue::Object(key),
            JValue::Object(&spec),
        ],
    )
    .or_java(env)?;
    update_aad(env, &cipher, aad)?;
    let sealed = jbytes(env, ciphertext)?;
    let plain = do_final(env, &cipher, &sealed)?;
    let out = env
        .convert_byte_array(&plain)
        .map(Zeroizing::new)
        .or_java(env);
    wipe(env, &plain)?;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_jvm_the_wrapper_says_how_to_provide_one() {
        let store = JavaKeyStore::File {
            store_type: "PKCS12".into(),
            path: std::env::temp_dir().join("inkseal-no-jvm.p12"),
            password: Zeroizing::new("pw".into()),
        };
        let wrapper = JavaKeyStoreWrapper::new(store, "share-wrap".into()).expect("wrapper");
        match wrapper.wrap("k", b"secret") {
            Err(WrapError::Platform(msg)) => assert!(msg.contains("loadLibrary"), "{msg}"),
            other => panic!("expected a platform error, got {other:?}"),
        }
        assert!(!java_vm_known());
    }

    #[test]
    fn aead_failures_are_authentication_errors() {
        assert_eq!(
            java_exception("javax.crypto.AEADBadTagException", "Tag mismatch"),
            WrapError::Authentication
        );
        assert!(matches!(
            java_exception("java.security.KeyStoreException", "x"),
            WrapError::Platform(_)
        ));
        assert!(
            JavaKeyStoreWrapper::new(
                JavaKeyStore::Android {
                    user_auth_validity_seconds: None
                },
                String::new()
            )
            .is_err()
        );
    }
}
