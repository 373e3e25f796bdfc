//! Tests of the production mobile library's refusals: built only without the default
//! features (`cargo test -p inkseal-bindings --lib --no-default-features production_build`,
//! which `scripts/test.sh` runs), the way `scripts/bindings.sh size` builds the library that
//! ships on phones. Each desktop-only entry point must answer `InvalidInput` naming the
//! missing feature, and must leave nothing behind on disk.

use crate::capture::write_sample_capture_folder;
use crate::client::InksealClient;
use crate::device_keys::DeviceKeys;
use crate::errors::InksealError;
use crate::share_store::tests::{MemoryBlobs, TestWrapper};
use crate::share_store::{PlatformKey, ShareStorage};
use std::sync::Arc;

fn platform_storage() -> ShareStorage {
    ShareStorage::Platform {
        key: PlatformKey::for_tests(Arc::new(TestWrapper([7; 32]))),
        blobs: Arc::new(MemoryBlobs::default()),
    }
}

fn invalid_input_naming(result: Result<impl Sized, InksealError>, feature: &str) -> String {
    match result {
        Err(InksealError::InvalidInput { detail }) => {
            assert!(detail.contains(feature), "{detail} should name {feature}");
            detail
        }
        Err(other) => panic!("expected InvalidInput naming {feature}, got {other:?}"),
        Ok(_) => panic!("the production build accepted a desktop-only call ({feature})"),
    }
}

#[test]
fn production_build_refuses_file_device_keys_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let keys = dir.path().join("device-keys");
    let result = InksealClient::new(
        "https://127.0.0.1:1".into(),
        platform_storage(),
        DeviceKeys::Directory {
            path: keys.display().to_string(),
        },
        None,
        None,
    );
    let detail = invalid_input_naming(result, "file-device-keys");
    assert!(detail.contains("DeviceKeys.Platform"), "{detail}");
    assert!(!keys.exists(), "no key directory made");
}

#[test]
fn production_build_refuses_to_write_sample_captures() {
    let dir = tempfile::tempdir().expect("dir");
    let folder = dir.path().join("capture");
    invalid_input_naming(
        write_sample_capture_folder(folder.display().to_string()),
        "sample-capture",
    );
    assert!(!folder.exists(), "no sample folder written");
}

#[tokio::test]
async fn production_build_refuses_file_based_capture() {
    // A client the production way (platform device keys); the refusal comes before any
    // request, so the unreachable server is never asked.
    let client = InksealClient::new(
        "https://127.0.0.1:1".into(),
        platform_storage(),
        DeviceKeys::Platform {
            store: Arc::new(crate::client::tests::MemoryDeviceKeys::default()),
        },
        None,
        None,
    )
    .expect("a production client");
    invalid_input_naming(
        client
            .capture_evidence_from_folder("ks-1".into(), "/nonexistent".into(), true, vec![])
            .await,
        "sample-capture",
    );
}
