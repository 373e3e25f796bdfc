//! `inkseal admin credential ...` and `inkseal audit verify` against a data directory: the
//! first operator credential comes from here, and a log whose entry was deleted and the rest
//! re-hashed offline is caught by the signed checkpoints.

use inkseal_server::audit::{AuditEntry, EntryFields, GENESIS, entry_hash, verify_chain};
use std::path::Path;
use std::process::{Command, Output};

fn inkseal(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_inkseal"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("run inkseal")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn credentials_are_made_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    // No database yet: a clear error, nothing created.
    let out = inkseal(&["admin", "credential", "list"], &data);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no inkseal database"));
    inkseal_server::store::SqliteStore::open(&{
        std::fs::create_dir_all(&data).expect("dir");
        data.join("inkseal.db")
    })
    .expect("create the database");

    let out = inkseal(
        &[
            "admin",
            "credential",
            "create",
            "--name",
            "loan backend",
            "--role",
            "enroll",
            "--role",
            "audit:read",
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let api_key = text
        .lines()
        .find(|l| l.starts_with("op-") && l.contains('.'))
        .expect("the API key is printed once")
        .to_owned();
    let id = api_key.split('.').next().expect("id").to_owned();
    let out = inkseal(
        &[
            "admin",
            "credential",
            "create",
            "--name",
            "x",
            "--role",
            "root",
        ],
        &data,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));

    let list = stdout(&inkseal(&["admin", "credential", "list"], &data));
    assert!(
        list.contains(&id) && list.contains("audit:read,enroll"),
        "{list}"
    );
    assert!(
        !list.contains(api_key.split('.').nth(1).expect("secret")),
        "{list}"
    );
    let out = inkseal(&["admin", "credential", "revoke", &id], &data);
    assert!(out.status.success());
    let list = stdout(&inkseal(&["admin", "credential", "list"], &data));
    assert!(list.contains("REVOKED"), "{list}");
    let out = inkseal(&["admin", "credential", "revoke", &id], &data);
    assert!(!out.status.success(), "revoking twice is an error");
}

/// One audit row as stored: seq, time, kind, key, actor, client, detail.
type Row = (u64, u64, String, Option<String>, String, String, String);

/// Delete entry `victim` and renumber and re-hash every entry after it, as someone with full
/// access to the database (but not to the vault) would.
fn delete_and_rehash(db: &Path, victim: u64) {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
        .expect("drop the guards");
    let mut st = conn
        .prepare("SELECT seq, at_ms, kind, key_id, actor, client, detail FROM audit ORDER BY seq")
        .expect("prepare");
    let rows: Vec<Row> = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, i64>(1)? as u64,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    drop(st);
    conn.execute("DELETE FROM audit", []).expect("delete");
    let mut prev = GENESIS;
    let mut seq = 0u64;
    for (old_seq, at, kind, key_id, actor, client, detail) in rows {
        if old_seq == victim {
            continue;
        }
        seq += 1;
        let hash = entry_hash(
            &prev,
            seq,
            at,
            EntryFields {
                kind: &kind,
                key_id: key_id.as_deref(),
                actor: &actor,
                client: &client,
                detail: &detail,
            },
        );
        conn.execute(
            "INSERT INTO audit (seq, at_ms, kind, key_id, actor, client, detail, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                seq as i64,
                at as i64,
                kind,
                key_id,
                actor,
                client,
                detail,
                &prev[..],
                &hash[..]
            ],
        )
        .expect("insert");
        prev = hash;
    }
}

fn audit_entries(db: &Path) -> Vec<AuditEntry> {
    let store = inkseal_server::store::SqliteStore::open(db).expect("open");
    inkseal_server::store::Store::audit_entries(&store, "main", 1, 10_000).expect("entries")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_and_rehashed_entry_fails_audit_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = inkseal_tests::start_server(&data).await;
    let backend = inkseal_tests::Backend::new(&server);
    let client = inkseal_tests::client_for(&server, &dir.path().join("device"));
    let pin = inkseal_sdk::Pin::new("802461");
    let key = inkseal_tests::enroll(&backend, &client, "customer-1", &pin)
        .await
        .key_id;
    for m in ["pay 100", "pay 200", "pay 300"] {
        client
            .sign_message(&key, &pin, m.as_bytes(), None)
            .await
            .expect("sign");
    }
    // Shutting down signs a last checkpoint of the head.
    server.shutdown().await.expect("shutdown");

    let out = inkseal(&["audit", "verify"], &data);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("INTACT"));

    // Remove the first signature's entry and re-hash the rest: the chain alone still checks...
    let db = data.join("inkseal.db");
    let victim = audit_entries(&db)
        .iter()
        .find(|e| e.kind == "signed")
        .expect("a signed entry")
        .seq;
    delete_and_rehash(&db, victim);
    assert_eq!(verify_chain(&audit_entries(&db)), Ok(()));
    // ...but not against the checkpoints the vault's audit key signed.
    let out = inkseal(&["audit", "verify", "--json"], &data);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let problems = report["problems"].as_array().expect("problems");
    assert!(!problems.is_empty());
    assert!(
        problems.iter().any(|p| p
            .as_str()
            .is_some_and(|p| p.contains("rewritten") || p.contains("removed"))),
        "{problems:?}"
    );
    // A server started on the tampered data would say the same to its operators.
    let out = inkseal(&["audit", "verify"], &data);
    assert!(stdout(&out).contains("TAMPERED"));
}
