//! The PKCS#11 vault against a real SoftHSM2 token (needs `softhsm2-util` and the SoftHSM2 module;
//! set `INKSEAL_PKCS11_MODULE` if the module is not at the Debian path).

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, AttributeType};
use inkseal_server::vault::{MAX_SECRET_LEN, Pkcs11Config, Pkcs11Vault, ShareVault, VaultError};
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
    Pkcs11Config {
        module: module(),
        token_label: token.into(),
        user_pin: pin.to_owned().into(),
        key_label: key.into(),
    }
}

/// Opens a vault on the shared token. Opening (login, key search, key generation) is serialized:
/// SoftHSM2's file object store can miss an object that another thread of the same process is
/// writing at that moment, which made a parallel open fail now and then. A server opens its
/// vault once at start; concurrent sealing and opening, which servers do, is tested unserialized
/// in `concurrent_seal_and_open`.
fn open_vault(key: &str) -> Pkcs11Vault {
    static OPENING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = OPENING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match Pkcs11Vault::open(&config(TOKEN, USER_PIN, key)) {
        Ok(v) => v,
        Err(e) => panic!("open PKCS#11 vault '{key}': {e}"),
    }
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
