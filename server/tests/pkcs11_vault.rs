//! The PKCS#11 vault against a real SoftHSM2 token (needs `softhsm2-util` and the SoftHSM2 module;
//! set `INKSEAL_PKCS11_MODULE` if the module is not at the Debian path).

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use inkseal_server::vault::{
    AuditSigner, DEFAULT_AUDIT_KEY_LABEL, MAX_SECRET_LEN, Pkcs11Config, Pkcs11Vault, ShareVault,
    VaultError,
};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Token shared by the tests (each test uses its own key label, except where reopening).
const TOKEN: &str = "inkseal-test";
/// Token used only by the wrong-PIN test, so no other test has logged in to it.
const PIN_TOKEN: &str = "inkseal-pin-test";
const SO_PIN: &str = "12345678";
const USER_PIN: &str = "1234";

/// Create the SoftHSM2 configuration and tokens once per process, in a fresh directory.
fn hsm() -> &'static tempfile::TempDir {
    const PREFIX: &str = "pkcs11_vault-softhsm-";
    static HSM: OnceLock<tempfile::TempDir> = OnceLock::new();
    HSM.get_or_init(|| {
        // The static is never dropped: remove what earlier runs left behind.
        let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let stale = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| {
                t.elapsed()
                    .is_ok_and(|age| age > std::time::Duration::from_secs(3600))
            });
            if stale && entry.file_name().to_string_lossy().starts_with(PREFIX) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir_in(root)
            .expect("tempdir");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).expect("token dir");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("write softhsm2.conf");
        // SAFETY: runs once, inside the OnceLock, before any PKCS#11 module is loaded; every test
        // calls `hsm()` first, so no other test thread is reading the environment meanwhile.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("SOFTHSM2_CONF", &conf)
        };
        for label in [TOKEN, PIN_TOKEN] {
            let out = Command::new("softhsm2-util")
                .args(["--init-token", "--free", "--label", label])
                .args(["--so-pin", SO_PIN, "--pin", USER_PIN])
                .output()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot run softhsm2-util ({e}): install SoftHSM2 \
                         (Debian: apt-get install softhsm2) to run the PKCS#11 vault tests"
                    )
                });
            assert!(
                out.status.success(),
                "softhsm2-util --init-token failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        dir
    })
}

fn module() -> PathBuf {
    let module = std::env::var_os("INKSEAL_PKCS11_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(Pkcs11Config::softhsm_default_module);
    assert!(
        module.exists(),
        "SoftHSM2 module {} not found: install libsofthsm2 or set INKSEAL_PKCS11_MODULE",
        module.display()
    );
    module
}

fn config(token: &str, pin: &str, key: &str) -> Pkcs11Config {
    hsm();
    Pkcs11Config::new(module(), token, pin.to_owned().into(), key)
}

/// Serializes what creates or searches token objects (vault opens, audit key loads, objects the
/// tests make themselves); see [`open_vault`].
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static OPENING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    OPENING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Opens a vault on the shared token. Opening (login, key search, key generation) is serialized:
/// SoftHSM2's file object store can miss an object that another thread of the same process is
/// writing at that moment, which made a parallel open fail now and then. A server opens its
/// vault once at start; concurrent sealing and opening, which servers do, is tested unserialized
/// in `concurrent_seal_and_open`.
fn open_vault(key: &str) -> Pkcs11Vault {
    let _one_at_a_time = one_at_a_time();
    match Pkcs11Vault::open(&config(TOKEN, USER_PIN, key)) {
        Ok(v) => v,
        Err(e) => panic!("open PKCS#11 vault '{key}': {e}"),
    }
}

/// Opens a vault on the shared token whose audit key pair is labelled `audit` (each audit test
/// uses its own label), without loading the audit key yet.
fn open_audit_vault(audit: &str) -> Pkcs11Vault {
    let _one_at_a_time = one_at_a_time();
    let mut config = config(TOKEN, USER_PIN, "audit-tests-wrap");
    config.audit_key_label = audit.into();
    match Pkcs11Vault::open(&config) {
        Ok(v) => v,
        Err(e) => panic!("open PKCS#11 vault (audit key '{audit}'): {e}"),
    }
}

/// A read-write session on the shared token, opened independently of the vault through cryptoki.
/// The caller must keep a vault open: PKCS#11 login is per process, so the session is logged in
/// (and sees private objects) only while some vault is.
fn inspect_session() -> Session {
    let ctx = Pkcs11::new(module()).expect("load module");
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => panic!("initialize: {e}"),
    }
    let slot = ctx
        .get_slots_with_token()
        .expect("slots")
        .into_iter()
        .find(|s| ctx.get_token_info(*s).expect("token info").label() == TOKEN)
        .expect("token slot");
    ctx.open_rw_session(slot).expect("session")
}

/// The (private, public) EC keys labelled `label` on the shared token.
fn ec_keys(session: &Session, label: &str) -> (Vec<ObjectHandle>, Vec<ObjectHandle>) {
    let find = |class| {
        session
            .find_objects(&[
                Attribute::Class(class),
                Attribute::KeyType(KeyType::EC),
                Attribute::Label(label.as_bytes().to_vec()),
            ])
            .expect("find EC keys")
    };
    (
        find(ObjectClass::PRIVATE_KEY),
        find(ObjectClass::PUBLIC_KEY),
    )
}

/// The DER OID of prime256v1, as `CKA_EC_PARAMS`.
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

/// Generate an EC key pair labelled `label` outside the vault, with the given curve and
/// private-key protection.
fn make_ec_pair(session: &Session, label: &str, params: &[u8], protected: bool) {
    let label = Attribute::Label(label.as_bytes().to_vec());
    session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[
                Attribute::EcParams(params.to_vec()),
                label.clone(),
                Attribute::Token(true),
                Attribute::Verify(true),
            ],
            &[
                label,
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(protected),
                Attribute::Extractable(!protected),
                Attribute::Sign(true),
            ],
        )
        .expect("generate EC key pair");
}

#[test]
fn seal_open_round_trip_binding_and_tampering() {
    let vault = open_vault("round-trip");
    assert_eq!(
        vault.describe(),
        "PKCS#11 vault (token 'inkseal-test', key 'round-trip')"
    );
    let sealed = vault.seal(b"alice|k1", b"share-bytes").expect("seal");
    assert_eq!(sealed[0], 1);
    assert_eq!(sealed.len(), 1 + 12 + b"share-bytes".len() + 16);
    assert_eq!(
        &vault.open(b"alice|k1", &sealed).expect("open")[..],
        b"share-bytes"
    );
    // Fresh nonce each time.
    assert_ne!(
        sealed,
        vault.seal(b"alice|k1", b"share-bytes").expect("seal")
    );

    // Bound to its record.
    assert!(matches!(
        vault.open(b"bob|k1", &sealed),
        Err(VaultError::Unseal)
    ));
    // Any flipped byte (version, nonce, ciphertext, tag) is detected.
    for i in [0, 1, 13, sealed.len() - 1] {
        let mut bad = sealed.clone();
        bad[i] ^= 1;
        assert!(
            matches!(vault.open(b"alice|k1", &bad), Err(VaultError::Unseal)),
            "byte {i}"
        );
    }
    assert!(matches!(
        vault.open(b"alice|k1", &sealed[..sealed.len() - 1]),
        Err(VaultError::Unseal)
    ));
    assert!(matches!(
        vault.open(b"alice|k1", &sealed[..5]),
        Err(VaultError::Unseal)
    ));
    // The vault still works after failed opens.
    assert_eq!(
        &vault.open(b"alice|k1", &sealed).expect("open")[..],
        b"share-bytes"
    );

    assert!(matches!(
        vault.seal(b"a", b""),
        Err(VaultError::BadLength(0))
    ));
    let big = vec![7u8; MAX_SECRET_LEN + 1];
    assert!(matches!(
        vault.seal(b"a", &big),
        Err(VaultError::BadLength(n)) if n == MAX_SECRET_LEN + 1
    ));
    let max = vault.seal(b"a", &big[..MAX_SECRET_LEN]).expect("seal max");
    assert_eq!(
        &vault.open(b"a", &max).expect("open")[..],
        &big[..MAX_SECRET_LEN]
    );
}

#[test]
fn reopening_finds_the_same_key() {
    let first = open_vault("reopen");
    let sealed = first.seal(b"aad", b"secret").expect("seal");
    let second = open_vault("reopen");
    assert_eq!(&second.open(b"aad", &sealed).expect("open")[..], b"secret");
    let back = second.seal(b"aad", b"other").expect("seal");
    assert_eq!(&first.open(b"aad", &back).expect("open")[..], b"other");
    // Closing one vault does not log the other out.
    drop(first);
    assert_eq!(&second.open(b"aad", &sealed).expect("open")[..], b"secret");
    // A different key label is a different key.
    let other = open_vault("reopen-other");
    assert!(matches!(
        other.open(b"aad", &sealed),
        Err(VaultError::Unseal)
    ));
}

#[test]
fn key_is_sensitive_and_not_extractable() {
    let vault = open_vault("protected");
    assert!(vault.key_is_protected().expect("key attributes"));

    // Check independently through cryptoki: the key's value cannot be read.
    let ctx = Pkcs11::new(module()).expect("load module");
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => panic!("initialize: {e}"),
    }
    let slot = ctx
        .get_slots_with_token()
        .expect("slots")
        .into_iter()
        .find(|s| ctx.get_token_info(*s).expect("token info").label() == TOKEN)
        .expect("token slot");
    // The vault keeps the user logged in, so this session sees private objects.
    let session = ctx.open_ro_session(slot).expect("session");
    let keys = session
        .find_objects(&[Attribute::Label(b"protected".to_vec())])
        .expect("find key");
    assert_eq!(keys.len(), 1);
    let attrs = session
        .get_attributes(
            keys[0],
            &[
                AttributeType::Token,
                AttributeType::Private,
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::ValueLen,
                AttributeType::Value,
            ],
        )
        .expect("attributes");
    assert!(attrs.contains(&Attribute::Token(true)), "{attrs:?}");
    assert!(attrs.contains(&Attribute::Private(true)), "{attrs:?}");
    assert!(attrs.contains(&Attribute::Sensitive(true)), "{attrs:?}");
    assert!(attrs.contains(&Attribute::Extractable(false)), "{attrs:?}");
    assert!(attrs.contains(&Attribute::ValueLen(32.into())), "{attrs:?}");
    assert!(
        !attrs.iter().any(|a| matches!(a, Attribute::Value(_))),
        "the key value was readable"
    );
}

#[test]
fn wrong_pin_is_unavailable_and_not_leaked() {
    let wrong = "97531";
    let config = config(PIN_TOKEN, wrong, "pin");
    assert!(!format!("{config:?}").contains(wrong));
    match Pkcs11Vault::open(&config) {
        Err(VaultError::Unavailable(msg)) => {
            assert!(!msg.contains(wrong), "{msg}");
            assert!(msg.contains(PIN_TOKEN), "{msg}");
        }
        Err(e) => panic!("expected Unavailable, got {e:?}"),
        Ok(_) => panic!("a wrong PIN opened the vault"),
    }
}

#[test]
fn missing_token_is_unavailable() {
    match Pkcs11Vault::open(&config("no-such-token", USER_PIN, "k")) {
        Err(VaultError::Unavailable(msg)) => assert!(msg.contains("no-such-token"), "{msg}"),
        Err(e) => panic!("expected Unavailable, got {e:?}"),
        Ok(_) => panic!("opened a vault on a missing token"),
    }
}

#[test]
fn concurrent_seal_and_open() {
    let vault = open_vault("concurrent");
    std::thread::scope(|scope| {
        for t in 0..4u8 {
            let vault = &vault;
            scope.spawn(move || {
                for i in 0..25u8 {
                    let aad = [t, i];
                    let secret = vec![t ^ i; 1 + usize::from(i)];
                    let sealed = vault.seal(&aad, &secret).expect("seal");
                    assert_eq!(&vault.open(&aad, &sealed).expect("open")[..], &secret[..]);
                    assert!(matches!(
                        vault.open(&[t, i, 0], &sealed),
                        Err(VaultError::Unseal)
                    ));
                }
            });
        }
    });
}

#[test]
fn audit_key_pair_is_created_once_and_survives_reopening() {
    let label = "audit-reopen";
    let first = open_audit_vault(label);
    let session = inspect_session();
    {
        let _serial = one_at_a_time();
        assert_eq!(
            ec_keys(&session, label),
            (vec![], vec![]),
            "created before use"
        );
    }
    let key = {
        let _serial = one_at_a_time();
        first.audit_public_key().expect("audit key")
    };
    // Loaded once: later calls and other vaults (in this process, or after a restart, which
    // reopens the token the same way) find the same pair instead of generating another.
    assert_eq!(first.audit_public_key().expect("audit key"), key);
    let second = open_audit_vault(label);
    drop(first);
    let _serial = one_at_a_time();
    assert_eq!(second.audit_public_key().expect("audit key"), key);
    let (private, public) = ec_keys(&session, label);
    assert_eq!((private.len(), public.len()), (1, 1));
    // The published key is the token's public point (CKA_EC_POINT: a DER OCTET STRING around
    // the 65-byte uncompressed SEC1 point).
    let attrs = session
        .get_attributes(
            public[0],
            &[AttributeType::EcPoint, AttributeType::EcParams],
        )
        .expect("public key attributes");
    let mut der = vec![0x04, 65];
    der.extend_from_slice(key.to_sec1_point(false).as_bytes());
    assert!(attrs.contains(&Attribute::EcPoint(der)), "{attrs:?}");
    assert!(
        attrs.contains(&Attribute::EcParams(P256_PARAMS.to_vec())),
        "{attrs:?}"
    );
    // The default label is used unless the configuration names another.
    assert_eq!(
        config(TOKEN, USER_PIN, "k").audit_key_label,
        DEFAULT_AUDIT_KEY_LABEL
    );
}

#[test]
fn audit_private_key_is_sensitive_and_not_extractable() {
    let label = "audit-protected";
    let vault = open_audit_vault(label);
    {
        let _serial = one_at_a_time();
        assert!(
            vault
                .audit_key_is_protected()
                .expect("audit key attributes")
        );
    }
    let session = inspect_session();
    let (private, _) = {
        let _serial = one_at_a_time();
        ec_keys(&session, label)
    };
    assert_eq!(private.len(), 1);
    let attrs = session
        .get_attributes(
            private[0],
            &[
                AttributeType::Token,
                AttributeType::Private,
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
                AttributeType::Sign,
                AttributeType::EcParams,
                AttributeType::Value,
            ],
        )
        .expect("attributes");
    for expected in [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::AlwaysSensitive(true),
        Attribute::NeverExtractable(true),
        Attribute::Sign(true),
        Attribute::EcParams(P256_PARAMS.to_vec()),
    ] {
        assert!(attrs.contains(&expected), "{expected:?} missing: {attrs:?}");
    }
    // The private scalar (CKA_VALUE) cannot be read: the token leaves it out...
    assert!(
        !attrs.iter().any(|a| matches!(a, Attribute::Value(_))),
        "the audit private key was readable"
    );
    // ...and refuses outright when asked for it alone.
    match session.get_attributes(private[0], &[AttributeType::Value]) {
        Ok(only) => assert!(only.is_empty(), "the audit private key was readable"),
        Err(e) => assert!(
            matches!(e, CkError::Pkcs11(RvError::AttributeSensitive, _)),
            "{e}"
        ),
    }
}

#[test]
fn audit_signatures_verify_with_p256() {
    let vault = open_audit_vault("audit-sign");
    let key = {
        let _serial = one_at_a_time();
        vault.audit_public_key().expect("audit key")
    };
    let message = b"inkseal-checkpoint|seq=7|head=9f86d081|t=1700000000";
    let signature = vault.sign_audit(message).expect("sign");
    key.verify(message, &signature).expect("verifies with p256");
    // ECDSA over SHA-256(message).
    key.verify_prehash(&Sha256::digest(message), &signature)
        .expect("prehash verifies");
    assert!(key.verify(b"inkseal-checkpoint|seq=6", &signature).is_err());
    // ECDSA is randomized in the token: a second signature differs and verifies too.
    let again = vault.sign_audit(message).expect("sign");
    assert_ne!(again, signature);
    key.verify(message, &again).expect("verifies");
    // Another audit key (another label) does not verify it.
    let other = open_audit_vault("audit-sign-other");
    let other_key = {
        let _serial = one_at_a_time();
        other.audit_public_key().expect("audit key")
    };
    assert_ne!(other_key, key);
    assert!(other_key.verify(message, &signature).is_err());
    // Concurrent signing on the shared sessions.
    std::thread::scope(|scope| {
        for t in 0..4u8 {
            let vault = &vault;
            scope.spawn(move || {
                for i in 0..10u8 {
                    let m = [t, i];
                    let s = vault.sign_audit(&m).expect("sign");
                    key.verify(&m, &s).expect("verifies");
                }
            });
        }
    });
}

#[test]
fn concurrent_first_use_creates_one_key_pair() {
    let label = "audit-race";
    let vaults = [open_audit_vault(label), open_audit_vault(label)];
    // Held so no other test writes token objects meanwhile (see `open_vault`); the threads
    // below race each other on first use, through two vaults.
    let _serial = one_at_a_time();
    let keys: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let vault = &vaults[i % 2];
                scope.spawn(move || vault.audit_public_key().expect("audit key"))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "threads got different keys"
    );
    let (private, public) = ec_keys(&inspect_session(), label);
    assert_eq!((private.len(), public.len()), (1, 1));
}

#[test]
fn unsuitable_existing_audit_keys_are_refused() {
    let vault = open_vault("audit-unsuitable-wrap");
    let session = inspect_session();
    let _serial = one_at_a_time();
    // An extractable, non-sensitive pair with the label is not used (and not replaced).
    make_ec_pair(&session, "audit-weak", &P256_PARAMS, false);
    // Two pairs under one label: refused rather than picking one.
    make_ec_pair(&session, "audit-twice", &P256_PARAMS, true);
    make_ec_pair(&session, "audit-twice", &P256_PARAMS, true);
    // Another curve (secp384r1).
    let p384 = [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22];
    make_ec_pair(&session, "audit-p384", &p384, true);
    for (label, expected) in [
        ("audit-weak", "extractable or not sensitive"),
        ("audit-twice", "2 private and 2 public"),
        ("audit-p384", "not a P-256"),
    ] {
        let mut config = config(TOKEN, USER_PIN, "audit-unsuitable-wrap");
        config.audit_key_label = label.into();
        let other = Pkcs11Vault::open(&config).expect("open");
        match other.audit_public_key() {
            Err(VaultError::Unavailable(msg)) => {
                assert!(msg.contains(expected) && msg.contains(label), "{msg}")
            }
            Err(e) => panic!("{label}: expected Unavailable, got {e:?}"),
            Ok(_) => panic!("{label}: an unsuitable audit key was used"),
        }
        assert!(other.sign_audit(b"m").is_err(), "{label}");
        let (private, public) = ec_keys(&session, label);
        assert_eq!(
            private.len(),
            public.len(),
            "{label}: keys were added or removed"
        );
    }
    // The share vault itself still works.
    let sealed = vault.seal(b"aad", b"secret").expect("seal");
    assert_eq!(&vault.open(b"aad", &sealed).expect("open")[..], b"secret");
}

/// `seal_large` (two-party P-256 shares, 52.5 KB): the token seals only the data key; the whole
/// is bound to its record, any flipped byte is refused, and the size limit holds.
#[test]
fn large_secrets_are_sealed_through_a_data_key_in_the_token() {
    use inkseal_server::vault::{MAX_LARGE_SECRET_LEN, open_large, seal_large};
    let vault = open_vault("large");
    let secret: Vec<u8> = (0..52_550u32).map(|i| (i % 251) as u8).collect();
    let sealed = seal_large(&vault, b"carol|k-p256", &secret).expect("seal");
    assert_eq!(
        &open_large(&vault, b"carol|k-p256", &sealed).expect("open")[..],
        &secret[..]
    );
    assert!(matches!(
        open_large(&vault, b"dave|k-p256", &sealed),
        Err(VaultError::Unseal)
    ));
    for i in [0, 1, 2, 10, sealed.len() / 2, sealed.len() - 1] {
        let mut bad = sealed.clone();
        bad[i] ^= 1;
        assert!(
            matches!(
                open_large(&vault, b"carol|k-p256", &bad),
                Err(VaultError::Unseal)
            ),
            "byte {i}"
        );
    }
    assert!(matches!(
        open_large(&vault, b"carol|k-p256", &sealed[..sealed.len() / 2]),
        Err(VaultError::Unseal)
    ));
    assert!(matches!(
        seal_large(&vault, b"x", &vec![0; MAX_LARGE_SECRET_LEN + 1]),
        Err(VaultError::BadLength(_))
    ));
    assert!(matches!(
        seal_large(&vault, b"x", &[]),
        Err(VaultError::BadLength(0))
    ));
}
