//! The audit log cannot be edited in place, and an edit made behind the store's back is detected.

use inkseal_server::audit::{AuditEvent, AuditKind, verify_chain};
use inkseal_server::store::{SqliteStore, Store};
use serde_json::json;

#[test]
fn audit_log_is_append_only_and_tamper_evident() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("inkseal.db");
    let store = SqliteStore::open(&path).expect("open");
    for i in 0..5 {
        store
            .append_audit(&AuditEvent::new(
                AuditKind::Signed,
                "k1",
                json!({ "e": format!("{i:064x}") }),
            ))
            .expect("append");
    }
    let entries = store.audit_entries("main", 1, 100).expect("read");
    assert_eq!(entries.len(), 5);
    verify_chain(&entries).expect("intact");

    let raw = rusqlite::Connection::open(&path).expect("raw connection");
    let update = raw.execute("UPDATE audit SET detail = '{}' WHERE seq = 3", []);
    assert!(
        update
            .expect_err("UPDATE refused")
            .to_string()
            .contains("append-only")
    );
    let delete = raw.execute("DELETE FROM audit WHERE seq = 5", []);
    assert!(
        delete
            .expect_err("DELETE refused")
            .to_string()
            .contains("append-only")
    );

    // Someone with full database access drops the guard and rewrites entry 3.
    raw.execute_batch(
        "DROP TRIGGER audit_no_update;
         UPDATE audit SET detail = '{\"e\":\"forged\"}' WHERE seq = 3;",
    )
    .expect("tamper");
    let entries = store.audit_entries("main", 1, 100).expect("read");
    assert_eq!(
        verify_chain(&entries),
        Err(2),
        "the rewritten entry is pinpointed"
    );

    // Dropping an entry from an export breaks the chain too.
    let mut entries = entries;
    entries.remove(1);
    assert!(verify_chain(&entries).is_err());
}
