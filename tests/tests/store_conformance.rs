//! One conformance suite for every store: each test is written once as a function of a
//! [`Backend`] (a database that can be opened several times, as separate replicas would), and
//! `conformance!` instantiates it for SQLite (a file in a temporary directory) and PostgreSQL (a
//! fresh database in a throwaway cluster). Real databases only.

use inkseal_server::audit::{
    AuditEntry, AuditEvent, AuditKind, Checkpoint, EntryFields, GENESIS, LogVerification,
    entry_hash, verify_chain, verify_log,
};
use inkseal_server::store::{
    ChallengeRecord, EvidenceRecord, EvidenceUse, KeyCurve, KeyPurpose, KeyRecord,
    LoginChallengeRecord, NewDecryption, NewP256Keygen, NewP256Session, NewSignature,
    P256SessionTake, PinCheck, PinFailure, PostgresConfig, PostgresStore, PurgeCounts, Recorded,
    RecordedDecryption, SealKeyKind, SealRecord, SqliteStore, Store, StoreError, TicketRecord,
};
use inkseal_tests::postgres::PgCluster;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

/// A database under test.
trait Backend: Sync {
    /// A new handle (connection or pool) on the same database: another "replica", with a name
    /// of its own.
    fn open(&self) -> Arc<dyn Store>;
    /// A new handle named `replica` (on PostgreSQL it appends to lanes `replica/<slot>`; two
    /// handles with one name share lanes, as two replicas given one name would).
    fn open_as(&self, replica: &str) -> Arc<dyn Store>;
    /// Run one SQL statement outside the store (to try what the store must refuse).
    fn raw(&self, sql: &str) -> Result<(), String>;
}

struct Sqlite {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl Backend for Sqlite {
    fn open(&self) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(&self.path).expect("open sqlite"))
    }
    fn open_as(&self, _replica: &str) -> Arc<dyn Store> {
        self.open()
    }
    fn raw(&self, sql: &str) -> Result<(), String> {
        let c = rusqlite::Connection::open(&self.path).map_err(|e| e.to_string())?;
        c.execute_batch(sql).map_err(|e| e.to_string())
    }
}

fn sqlite() -> Sqlite {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("inkseal.db");
    let s = Sqlite { _dir: dir, path };
    drop(s.open());
    s
}

struct Postgres {
    url: String,
}

impl Backend for Postgres {
    fn open(&self) -> Arc<dyn Store> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.open_as(&format!("replica-{n}"))
    }
    fn open_as(&self, replica: &str) -> Arc<dyn Store> {
        let mut config = PostgresConfig::new(self.url.clone());
        config.pool_size = 8;
        config.replica = Some(replica.to_owned());
        Arc::new(PostgresStore::open(&config).expect("open postgres"))
    }
    fn raw(&self, sql: &str) -> Result<(), String> {
        let db = self.url.rsplit('/').next().unwrap_or_default().to_owned();
        PgCluster::shared().psql(&db, sql).map(|_| ())
    }
}

fn postgres() -> Postgres {
    let p = Postgres {
        url: PgCluster::shared().create_database(),
    };
    drop(p.open());
    p
}

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $test() { super::$test(&super::sqlite()) } )*
        }
        mod postgres {
            $( #[test] fn $test() { super::$test(&super::postgres()) } )*
        }
    };
}

conformance!(
    unique_key_ids_and_single_use_tickets,
    one_signature_per_idempotency_key_under_concurrent_twins,
    evidence_signs_once_per_slot,
    exact_pin_counters_under_concurrency,
    a_pin_changed_meanwhile_is_not_compared,
    single_use_challenges,
    single_use_nonces,
    append_only_audit_and_evidence,
    concurrent_audit_appends_lose_nothing_and_every_lane_verifies,
    tampered_lanes_are_found,
    settings_and_counters,
    seals,
    purge_keeps_what_evidence_answered,
    abandoned_pin_reservations_lock_the_key,
    single_use_login_challenges,
    one_decryption_per_idempotency_key_and_key_purposes,
    single_use_p256_sessions_and_key_curves,
    single_use_pending_p256_keygens,
);

fn p256_keygen(ticket: &str, fill: u8, expires_ms: u64) -> NewP256Keygen {
    NewP256Keygen {
        ticket_id: ticket.into(),
        sealed_state: vec![fill; 200],
        device_key: vec![fill; 91],
        attestation: Some(format!("{{\"fill\":{fill}}}")),
        attestation_format: Some("android-key".into()),
        sealed_pin: vec![fill; 60],
        created_ms: now(),
        expires_ms,
    }
}

/// A pending P-256 key generation is stored per ticket (a retried trip 1 replaces it), its
/// device key is read on any replica while it is unexpired, and it is taken exactly once:
/// concurrent takes on several replicas see exactly one winner, an expired one is never given
/// out, and housekeeping deletes expired ones.
fn single_use_pending_p256_keygens(b: &dyn Backend) {
    let stores = [b.open(), b.open(), b.open()];
    let later = now() + 60_000;
    stores[0]
        .put_p256_keygen(&p256_keygen("et-kg-1", 1, later))
        .expect("put");
    assert_eq!(
        stores[1]
            .pending_p256_keygen_device_key("et-kg-1", now())
            .expect("device key"),
        Some(vec![1; 91])
    );
    assert_eq!(
        stores[2]
            .pending_p256_keygen_device_key("et-kg-nope", now())
            .expect("device key"),
        None
    );
    // A retried trip 1 (on another replica) replaces the pending key generation.
    stores[2]
        .put_p256_keygen(&p256_keygen("et-kg-1", 2, later))
        .expect("replace");
    assert_eq!(
        stores[0]
            .pending_p256_keygen_device_key("et-kg-1", now())
            .expect("device key"),
        Some(vec![2; 91])
    );

    // Concurrent takes: one winner, which gets the replacing row.
    let barrier = Barrier::new(stores.len());
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .iter()
            .map(|store| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    store.take_p256_keygen("et-kg-1", now()).expect("take")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let winners: Vec<_> = outcomes.iter().flatten().collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let taken = winners[0];
    assert_eq!(taken.sealed_state, vec![2; 200]);
    assert_eq!(taken.device_key, vec![2; 91]);
    assert_eq!(taken.attestation.as_deref(), Some("{\"fill\":2}"));
    assert_eq!(taken.attestation_format.as_deref(), Some("android-key"));
    assert_eq!(taken.sealed_pin, vec![2; 60]);
    // Taken: gone everywhere.
    assert!(
        stores[1]
            .take_p256_keygen("et-kg-1", now())
            .expect("take")
            .is_none()
    );
    assert_eq!(
        stores[2]
            .pending_p256_keygen_device_key("et-kg-1", now())
            .expect("device key"),
        None
    );

    // Without an attestation.
    stores[0]
        .put_p256_keygen(&NewP256Keygen {
            attestation: None,
            attestation_format: None,
            ..p256_keygen("et-kg-2", 3, later)
        })
        .expect("put");
    let taken = stores[1]
        .take_p256_keygen("et-kg-2", now())
        .expect("take")
        .expect("pending");
    assert_eq!((taken.attestation, taken.attestation_format), (None, None));

    // Expired: absent for the device key and the take (which deletes it).
    stores[0]
        .put_p256_keygen(&p256_keygen("et-kg-3", 4, now() - 1))
        .expect("put");
    assert_eq!(
        stores[1]
            .pending_p256_keygen_device_key("et-kg-3", now())
            .expect("device key"),
        None
    );
    assert!(
        stores[2]
            .take_p256_keygen("et-kg-3", now())
            .expect("take")
            .is_none()
    );
    assert!(
        stores[0]
            .take_p256_keygen("et-kg-3", now() - 10_000)
            .expect("take")
            .is_none(),
        "an expired take deleted it"
    );

    // Housekeeping deletes expired pending key generations and keeps the others.
    stores[0]
        .put_p256_keygen(&p256_keygen("et-kg-4", 5, now() - 1))
        .expect("put");
    stores[0]
        .put_p256_keygen(&p256_keygen("et-kg-5", 6, later))
        .expect("put");
    let purged = stores[1]
        .purge(now(), &|c| {
            AuditEvent::global(
                AuditKind::Purged,
                serde_json::json!({ "p256_keygens": c.p256_keygens }),
            )
        })
        .expect("purge");
    assert_eq!(purged.p256_keygens, 1);
    assert!(
        stores[2]
            .take_p256_keygen("et-kg-4", now() - 10_000)
            .expect("take")
            .is_none()
    );
    assert!(
        stores[2]
            .take_p256_keygen("et-kg-5", now())
            .expect("take")
            .is_some()
    );
}

fn p256_session(key: &str, sign_id: u8, idem: &str, expires_ms: u64) -> NewP256Session {
    NewP256Session {
        key_id: key.into(),
        sign_id: vec![sign_id; 32],
        idempotency_key: idem.into(),
        sealed_state: vec![9; 100],
        context: "{}".into(),
        sealed_reply: Some(vec![sign_id; 50]),
        created_ms: now(),
        expires_ms,
    }
}

/// A key keeps its curve; a P-256 signing session is stored once per `sign_id` and per
/// idempotency key, and taken once: concurrent takes on several replicas see exactly one
/// winner, and a used or expired session is never given out again. A banned key is locked
/// with its entry.
fn single_use_p256_sessions_and_key_curves(b: &dyn Backend) {
    let stores = [b.open(), b.open(), b.open()];
    let t = "et-k-p256";
    ticket(stores[0].as_ref(), t);
    let key = KeyRecord {
        curve: KeyCurve::P256,
        ..key_record("k-p256", t)
    };
    stores[0]
        .insert_key(&key, now(), &event(AuditKind::Enrolled, "k-p256"))
        .expect("key");
    assert_eq!(
        stores[1]
            .get_key("k-p256")
            .expect("get")
            .expect("key")
            .curve,
        KeyCurve::P256
    );
    enrolled(stores[0].as_ref(), "k-sm2");
    assert_eq!(
        stores[2].get_key("k-sm2").expect("get").expect("key").curve,
        KeyCurve::Sm2
    );

    let later = now() + 60_000;
    stores[0]
        .insert_p256_session(&p256_session("k-p256", 1, "idem-p-1", later))
        .expect("session");
    // The same sign_id, or the same idempotency key, again: refused on any replica.
    assert!(matches!(
        stores[1].insert_p256_session(&p256_session("k-p256", 1, "idem-p-2", later)),
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        stores[2].insert_p256_session(&p256_session("k-p256", 2, "idem-p-1", later)),
        Err(StoreError::Conflict)
    ));
    // Another key may use the same ids.
    stores[0]
        .insert_p256_session(&p256_session("k-sm2", 1, "idem-p-1", later))
        .expect("another key's session");

    // Concurrent takes of one session: one winner.
    let barrier = Barrier::new(stores.len());
    let outcomes: Vec<P256SessionTake> = std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .iter()
            .map(|store| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    store
                        .take_p256_session("k-p256", &[1; 32], b"finish-1", now())
                        .expect("take")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let winners: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            P256SessionTake::Taken(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert_eq!(winners[0].sealed_state, vec![9; 100]);
    assert_eq!(winners[0].idempotency_key, "idem-p-1");
    assert!(
        outcomes
            .iter()
            .filter(|o| matches!(o, P256SessionTake::AlreadyUsed { .. }))
            .count()
            == 2
    );
    // A later take (another trip 2) learns the session's idempotency key and the hash of the
    // trip 2 that took it (to answer an identical repeat), never the state.
    match stores[0].take_p256_session("k-p256", &[1; 32], b"finish-other", now()) {
        Ok(P256SessionTake::AlreadyUsed {
            idempotency_key,
            finish_hash,
        }) => {
            assert_eq!(idempotency_key, "idem-p-1");
            assert_eq!(finish_hash.as_deref(), Some(&b"finish-1"[..]));
        }
        other => panic!("{other:?}"),
    }
    // Found by idempotency key on any replica: the used session no longer gives its answer.
    let found = stores[1]
        .find_p256_session("k-p256", "idem-p-1", now())
        .expect("find")
        .expect("the session");
    assert_eq!(found.sign_id, vec![1; 32]);
    assert_eq!(found.expires_ms, later);
    assert_eq!(found.sealed_reply, None);
    assert!(
        stores[2]
            .find_p256_session("k-p256", "idem-nope", now())
            .expect("find")
            .is_none()
    );
    // The used row still refuses its sign_id.
    assert!(matches!(
        stores[0].insert_p256_session(&p256_session("k-p256", 1, "idem-p-3", later)),
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        stores[1].take_p256_session("k-p256", &[7; 32], b"f", now()),
        Ok(P256SessionTake::Unknown)
    ));
    // An expired session is closed, never given out.
    // An open session gives its sealed answer to a lookup by idempotency key, on any replica.
    stores[0]
        .insert_p256_session(&p256_session("k-p256", 5, "idem-p-7", later))
        .expect("session");
    let open = stores[2]
        .find_p256_session("k-p256", "idem-p-7", now())
        .expect("find")
        .expect("the session");
    assert_eq!(open.sign_id, vec![5; 32]);
    assert_eq!(open.sealed_reply, Some(vec![5; 50]));
    assert_eq!(
        stores[1]
            .find_p256_session("k-p256", "idem-p-7", later + 1)
            .expect("find")
            .expect("the session")
            .sealed_reply,
        None,
        "not after it expires"
    );

    stores[0]
        .insert_p256_session(&p256_session("k-p256", 3, "idem-p-4", now() - 1))
        .expect("session");
    assert!(matches!(
        stores[1].take_p256_session("k-p256", &[3; 32], b"f", now()),
        Ok(P256SessionTake::Expired)
    ));
    // Closed by expiring: no trip 2 took it, so no repeat is ever answered.
    assert!(matches!(
        stores[0].take_p256_session("k-p256", &[3; 32], b"f", now()),
        Ok(P256SessionTake::AlreadyUsed {
            finish_hash: None,
            ..
        })
    ));
    assert!(!matches!(
        stores[2].take_p256_session("k-p256", &[3; 32], b"f", now() - 10_000),
        Ok(P256SessionTake::Taken(_))
    ));

    // Housekeeping drops the sealed state of an expired session nobody finished; its row
    // (and so its sign_id) stays, and it is never given out.
    stores[0]
        .insert_p256_session(&p256_session("k-p256", 4, "idem-p-5", now() - 1))
        .expect("session");
    let purged = stores[1]
        .purge(now(), &|c| {
            AuditEvent::global(
                AuditKind::Purged,
                serde_json::json!({ "p256": c.p256_sessions }),
            )
        })
        .expect("purge");
    assert_eq!(purged.p256_sessions, 1);
    assert!(matches!(
        stores[2].take_p256_session("k-p256", &[4; 32], b"f", now() - 60_000),
        Ok(P256SessionTake::Expired)
    ));
    assert!(matches!(
        stores[0].insert_p256_session(&p256_session("k-p256", 4, "idem-p-6", later)),
        Err(StoreError::Conflict)
    ));

    let before = count(stores[0].as_ref(), "locked");
    stores[1]
        .lock_key("k-p256", &event(AuditKind::Locked, "k-p256"))
        .expect("lock");
    assert!(
        stores[2]
            .get_key("k-p256")
            .expect("get")
            .expect("key")
            .locked
    );
    assert_eq!(count(stores[0].as_ref(), "locked"), before + 1);
    assert!(matches!(
        stores[0].lock_key("k-none", &event(AuditKind::Locked, "k-none")),
        Err(StoreError::NotFound)
    ));

    // Failed sessions are counted on the key's row (any replica) and lock it at the limit.
    enrolled(stores[0].as_ref(), "k-fail");
    let (refused_before, locked_before) = (
        count(stores[0].as_ref(), "refused"),
        count(stores[0].as_ref(), "locked"),
    );
    let fail = |store: &dyn Store| {
        store
            .p256_session_failed(
                "k-fail",
                3,
                &event(AuditKind::Refused, "k-fail"),
                &event(AuditKind::Locked, "k-fail"),
            )
            .expect("count")
    };
    assert!(!fail(stores[0].as_ref()));
    assert!(!fail(stores[1].as_ref()));
    assert!(
        !stores[2]
            .get_key("k-fail")
            .expect("get")
            .expect("key")
            .locked
    );
    assert!(fail(stores[2].as_ref()), "the third failure locks");
    assert!(
        stores[0]
            .get_key("k-fail")
            .expect("get")
            .expect("key")
            .locked
    );
    assert_eq!(count(stores[0].as_ref(), "refused"), refused_before + 3);
    assert_eq!(count(stores[0].as_ref(), "locked"), locked_before + 1);
    assert!(matches!(
        stores[0].p256_session_failed(
            "k-none",
            3,
            &event(AuditKind::Refused, "k-none"),
            &event(AuditKind::Locked, "k-none")
        ),
        Err(StoreError::NotFound)
    ));
    assert_chain(stores[0].as_ref());
}

/// A decryption answer is stored once per idempotency key (concurrent twins across replicas
/// see the winner's answer), with its audit entry in the same transaction; a key's purpose
/// is kept.
fn one_decryption_per_idempotency_key_and_key_purposes(b: &dyn Backend) {
    let stores = [b.open(), b.open(), b.open()];
    let t = "et-k-enc";
    ticket_for(stores[0].as_ref(), t, KeyPurpose::Encryption);
    // The ticket keeps the purpose the operator chose.
    assert_eq!(
        stores[1]
            .get_ticket(t)
            .expect("get")
            .expect("ticket")
            .purpose,
        KeyPurpose::Encryption
    );
    let key = KeyRecord {
        purpose: KeyPurpose::Encryption,
        ..key_record("k-enc", t)
    };
    stores[0]
        .insert_key(&key, now(), &event(AuditKind::Enrolled, "k-enc"))
        .expect("key");
    assert_eq!(
        stores[1]
            .get_key("k-enc")
            .expect("get")
            .expect("key")
            .purpose,
        KeyPurpose::Encryption
    );
    enrolled(stores[0].as_ref(), "k-plain");
    assert_eq!(
        stores[2]
            .get_key("k-plain")
            .expect("get")
            .expect("key")
            .purpose,
        KeyPurpose::Signing
    );
    let twins = 12;
    let barrier = Barrier::new(twins);
    let outcomes: Vec<(String, RecordedDecryption)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..twins)
            .map(|i| {
                let store = stores[i % 3].clone();
                let barrier = &barrier;
                scope.spawn(move || {
                    let response = format!("answer-{i}");
                    barrier.wait();
                    let r = store
                        .record_decryption(
                            &NewDecryption {
                                key_id: "k-enc".into(),
                                idempotency_key: "idem-dec-1".into(),
                                request_hash: vec![1; 32],
                                response: response.clone(),
                                envelope_ref: vec![9; 32],
                            },
                            &event(AuditKind::Decrypted, "k-enc"),
                            100,
                        )
                        .expect("record");
                    (response, r)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let winners: Vec<&String> = outcomes
        .iter()
        .filter(|(_, r)| *r == RecordedDecryption::Inserted)
        .map(|(resp, _)| resp)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one twin is recorded");
    for (_, r) in &outcomes {
        if let RecordedDecryption::Existing(stored) = r {
            assert_eq!(&stored.response, winners[0]);
        }
    }
    let stored = stores[1]
        .find_decryption("k-enc", "idem-dec-1")
        .expect("find")
        .expect("stored");
    assert_eq!(&stored.response, winners[0]);
    assert!(
        stores[1]
            .find_decryption("k-enc", "other")
            .expect("find")
            .is_none()
    );
    // A decryption is not a signature.
    assert!(
        stores[1]
            .find_signature("k-enc", "idem-dec-1")
            .expect("find")
            .is_none()
    );
    assert_eq!(count(stores[0].as_ref(), "decrypted"), 1);
    // The twins counted once.
    assert_eq!(stores[2].decryption_count("k-enc").expect("count"), 1);

    // The lifetime cap: 10 requests with their own idempotency keys race on three connections
    // for the 4 places left under a cap of 5; exactly 4 are recorded, the rest write nothing.
    let racers = 10;
    let barrier = Barrier::new(racers);
    let outcomes: Vec<RecordedDecryption> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..racers)
            .map(|i| {
                let store = stores[i % 3].clone();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    store
                        .record_decryption(
                            &NewDecryption {
                                key_id: "k-enc".into(),
                                idempotency_key: format!("idem-cap-{i}"),
                                request_hash: vec![2; 32],
                                response: format!("capped-{i}"),
                                envelope_ref: vec![9; 32],
                            },
                            &event(AuditKind::Decrypted, "k-enc"),
                            5,
                        )
                        .expect("record")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let inserted = outcomes
        .iter()
        .filter(|r| **r == RecordedDecryption::Inserted)
        .count();
    let capped = outcomes
        .iter()
        .filter(|r| **r == RecordedDecryption::CapReached)
        .count();
    assert_eq!((inserted, capped), (4, 6), "{outcomes:?}");
    assert_eq!(stores[0].decryption_count("k-enc").expect("count"), 5);
    assert_eq!(
        count(stores[1].as_ref(), "decrypted"),
        5,
        "nothing written past the cap"
    );
    let recorded = (0..racers)
        .filter(|i| {
            stores[2]
                .find_decryption("k-enc", &format!("idem-cap-{i}"))
                .expect("find")
                .is_some()
        })
        .count();
    assert_eq!(recorded, 4);
    // A twin of a recorded answer still gets it back at the cap, and is not counted.
    assert!(matches!(
        stores[0]
            .record_decryption(
                &NewDecryption {
                    key_id: "k-enc".into(),
                    idempotency_key: "idem-dec-1".into(),
                    request_hash: vec![1; 32],
                    response: "late twin".into(),
                    envelope_ref: vec![9; 32],
                },
                &event(AuditKind::Decrypted, "k-enc"),
                6,
            )
            .expect("record"),
        RecordedDecryption::Existing(_)
    ));
    assert_eq!(stores[1].decryption_count("k-enc").expect("count"), 5);
    assert!(matches!(
        stores[1].decryption_count("k-none"),
        Err(StoreError::NotFound)
    ));
    assert_chain(stores[2].as_ref());
}

fn login_challenge(store: &dyn Store, id: u8, expires_ms: u64) -> LoginChallengeRecord {
    let record = LoginChallengeRecord {
        challenge_id: vec![id; 16],
        relying_party: "bank.example".into(),
        nonce: vec![id; 32],
        issued_ms: now() / 1000 * 1000,
        expires_ms,
        used_ms: None,
    };
    store
        .insert_login_challenge(
            &record,
            &AuditEvent::global(AuditKind::LoginChallengeIssued, serde_json::json!({})),
        )
        .expect("login challenge");
    record
}

/// A login challenge is consumed once, under concurrency and across replicas; an expired or
/// unknown one is never consumed; purge removes expired ones, used or not.
fn single_use_login_challenges(b: &dyn Backend) {
    let stores = [b.open(), b.open()];
    let verified = || AuditEvent::global(AuditKind::LoginVerified, serde_json::json!({}));
    let issued = login_challenge(stores[0].as_ref(), 1, now() + 60_000);
    assert_eq!(
        stores[1]
            .get_login_challenge(&[1; 16])
            .expect("get")
            .expect("challenge"),
        issued
    );
    // The same id twice is a conflict.
    assert!(matches!(
        stores[1].insert_login_challenge(
            &issued,
            &AuditEvent::global(AuditKind::LoginChallengeIssued, serde_json::json!({}))
        ),
        Err(StoreError::Conflict)
    ));
    let barrier = Barrier::new(8);
    let wins: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = stores[i % 2].clone();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    store
                        .consume_login_challenge(&[1; 16], now(), &verified())
                        .is_ok() as usize
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    assert_eq!(wins, 1, "one verification per challenge");
    assert_eq!(count(stores[0].as_ref(), "login_verified"), 1);
    let used = stores[1]
        .get_login_challenge(&[1; 16])
        .expect("get")
        .expect("challenge");
    assert!(used.used_ms.is_some());
    // A second consumption is refused.
    assert!(matches!(
        stores[0].consume_login_challenge(&[1; 16], now(), &verified()),
        Err(StoreError::Conflict)
    ));
    // Expired: refused, and nothing written.
    login_challenge(stores[0].as_ref(), 2, now() - 1);
    assert!(matches!(
        stores[1].consume_login_challenge(&[2; 16], now(), &verified()),
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        stores[1]
            .get_login_challenge(&[2; 16])
            .expect("get")
            .expect("challenge")
            .used_ms,
        None
    );
    // Unknown: refused.
    assert!(matches!(
        stores[1].consume_login_challenge(&[3; 16], now(), &verified()),
        Err(StoreError::Conflict)
    ));
    assert_eq!(count(stores[0].as_ref(), "login_verified"), 1);
    // Purge: the expired one goes, the open and the used (unexpired) stay.
    login_challenge(stores[0].as_ref(), 4, now() + 60_000);
    let counts = stores[0]
        .purge(now(), &|c: PurgeCounts| {
            AuditEvent::global(
                AuditKind::Purged,
                serde_json::json!({ "l": c.login_challenges }),
            )
        })
        .expect("purge");
    assert_eq!(counts.login_challenges, 1);
    assert!(
        stores[1]
            .get_login_challenge(&[2; 16])
            .expect("get")
            .is_none()
    );
    assert!(
        stores[1]
            .get_login_challenge(&[1; 16])
            .expect("get")
            .is_some()
    );
    assert!(
        stores[1]
            .get_login_challenge(&[4; 16])
            .expect("get")
            .is_some()
    );
    assert_chain(stores[0].as_ref());
}

fn event(kind: AuditKind, key: &str) -> AuditEvent {
    AuditEvent::new(kind, key, serde_json::json!({ "test": true }))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

fn ticket(store: &dyn Store, id: &str) {
    ticket_for(store, id, KeyPurpose::Signing)
}

fn ticket_for(store: &dyn Store, id: &str, purpose: KeyPurpose) {
    let t = TicketRecord {
        ticket_id: id.into(),
        secret_hash: vec![7; 32],
        user_id: format!("user-{id}"),
        certificate_name: "Test User".into(),
        id_binding: None,
        issued_by: "system".into(),
        issued_ms: now(),
        expires_ms: now() + 3_600_000,
        used_ms: None,
        key_id: None,
        purpose,
    };
    store
        .insert_ticket(
            &t,
            &AuditEvent::global(AuditKind::TicketIssued, serde_json::json!({})),
        )
        .expect("ticket");
}

fn key_record(key_id: &str, ticket_id: &str) -> KeyRecord {
    KeyRecord {
        key_id: key_id.into(),
        user_id: "u".into(),
        certificate_name: "Test User".into(),
        ticket_id: ticket_id.into(),
        public_key: vec![4; 65],
        device_public_key: vec![1; 91],
        device_attestation: None,
        id_binding: None,
        sealed_share: vec![2; 60],
        sealed_pin: vec![3; 60],
        pin_salt: vec![5; 16],
        pin_failures: 0,
        locked: false,
        revoked: false,
        certificate: None,
        purpose: inkseal_server::store::KeyPurpose::Signing,
        curve: inkseal_server::store::KeyCurve::Sm2,
    }
}

/// A ticket and an enrolled key `key_id`.
fn enrolled(store: &dyn Store, key_id: &str) {
    let t = format!("et-{key_id}");
    ticket(store, &t);
    store
        .insert_key(
            &key_record(key_id, &t),
            now(),
            &event(AuditKind::Enrolled, key_id),
        )
        .expect("key");
}

fn whole_log(store: &dyn Store) -> Vec<AuditEntry> {
    inkseal_server::store::read_whole_log(store).expect("audit")
}

fn assert_chain(store: &dyn Store) -> usize {
    let log = whole_log(store);
    verify_chain(&log).unwrap_or_else(|i| panic!("the chain breaks at index {i}"));
    log.len()
}

fn count(store: &dyn Store, kind: &str) -> usize {
    whole_log(store).iter().filter(|e| e.kind == kind).count()
}

fn unique_key_ids_and_single_use_tickets(b: &dyn Backend) {
    let s = b.open();
    enrolled(s.as_ref(), "k-1");
    // The same key id under another ticket: refused.
    ticket(s.as_ref(), "et-2");
    assert!(matches!(
        s.insert_key(
            &key_record("k-1", "et-2"),
            now(),
            &event(AuditKind::Enrolled, "k-1")
        ),
        Err(StoreError::Conflict)
    ));
    // A used ticket enrolls nothing more, even raced from two replicas.
    let stores = [b.open(), b.open()];
    ticket(s.as_ref(), "et-race");
    let barrier = Barrier::new(8);
    let wins: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = stores[i % 2].clone();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let id = format!("k-race-{i}");
                    store
                        .insert_key(
                            &key_record(&id, "et-race"),
                            now(),
                            &event(AuditKind::Enrolled, &id),
                        )
                        .is_ok() as usize
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    assert_eq!(wins, 1, "one key per ticket");
    let t = s.get_ticket("et-race").expect("get").expect("ticket");
    assert!(t.used_ms.is_some() && t.key_id.is_some());
    // The rejected attempts left no audit entry.
    assert_eq!(count(s.as_ref(), "enrolled"), 2);
    assert!(s.get_key("k-1").expect("get").is_some());
    assert!(s.get_key("k-none").expect("get").is_none());
    assert_chain(s.as_ref());
}

fn signature(key: &str, idem: &str, response: &str, evidence: Option<EvidenceUse>) -> NewSignature {
    NewSignature {
        key_id: key.into(),
        idempotency_key: idem.into(),
        request_hash: vec![9; 32],
        response: response.into(),
        e: vec![1; 32],
        message_kind: "raw".into(),
        document_digest: vec![2; 32],
        evidence_head: evidence.as_ref().map(|u| u.manifest_head.clone()),
        evidence_use: evidence,
    }
}

fn one_signature_per_idempotency_key_under_concurrent_twins(b: &dyn Backend) {
    let stores = [b.open(), b.open(), b.open()];
    enrolled(stores[0].as_ref(), "k-sig");
    let twins = 12;
    let barrier = Barrier::new(twins);
    let outcomes: Vec<(String, Recorded)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..twins)
            .map(|i| {
                let store = stores[i % 3].clone();
                let barrier = &barrier;
                scope.spawn(move || {
                    let response = format!("answer-{i}");
                    barrier.wait();
                    let r = store
                        .record_signature(
                            &signature("k-sig", "idem-1", &response, None),
                            &event(AuditKind::Signed, "k-sig"),
                        )
                        .expect("record");
                    (response, r)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let winners: Vec<&String> = outcomes
        .iter()
        .filter(|(_, r)| *r == Recorded::Inserted)
        .map(|(resp, _)| resp)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one twin signs");
    for (_, r) in &outcomes {
        if let Recorded::Existing(stored) = r {
            assert_eq!(
                &stored.response, winners[0],
                "every loser sees the winner's answer"
            );
        }
    }
    let stored = stores[1]
        .find_signature("k-sig", "idem-1")
        .expect("find")
        .expect("stored");
    assert_eq!(&stored.response, winners[0]);
    assert_eq!(count(stores[0].as_ref(), "signed"), 1);
    assert_chain(stores[2].as_ref());
}

fn evidence_signs_once_per_slot(b: &dyn Backend) {
    let s = b.open();
    enrolled(s.as_ref(), "k-ev");
    let slot = || EvidenceUse {
        manifest_head: "head-1".into(),
        slot: String::new(),
    };
    let first = s
        .record_signature(
            &signature("k-ev", "a", "ra", Some(slot())),
            &event(AuditKind::Signed, "k-ev"),
        )
        .expect("first");
    assert_eq!(first, Recorded::Inserted);
    let second = b
        .open()
        .record_signature(
            &signature("k-ev", "b", "rb", Some(slot())),
            &event(AuditKind::Signed, "k-ev"),
        )
        .expect("second");
    assert_eq!(second, Recorded::EvidenceUsed);
    // Nothing of the refused signature was recorded.
    assert!(s.find_signature("k-ev", "b").expect("find").is_none());
    assert_eq!(count(s.as_ref(), "signed"), 1);
    assert_chain(s.as_ref());
}

/// `check_pin` with a compare that counts its calls and answers `right`, for the key's current
/// sealed verifier.
fn check(store: &dyn Store, key: &str, max: u32, right: bool, compared: &AtomicUsize) -> PinCheck {
    let sealed = store
        .get_key(key)
        .expect("get")
        .map(|k| k.sealed_pin)
        .unwrap_or_default();
    check_sealed(store, key, &sealed, max, right, compared)
}

/// `check_pin` for the sealed verifier `sealed`.
fn check_sealed(
    store: &dyn Store,
    key: &str,
    sealed: &[u8],
    max: u32,
    right: bool,
    compared: &AtomicUsize,
) -> PinCheck {
    store
        .check_pin(
            key,
            sealed,
            max,
            &mut || {
                compared.fetch_add(1, Ordering::SeqCst);
                right
            },
            &event(AuditKind::PinFailure, key),
        )
        .expect("check_pin")
}

/// A PIN change that commits after a request read the key: that request's check compares
/// nothing against the old verifier (it must read the key again).
fn a_pin_changed_meanwhile_is_not_compared(b: &dyn Backend) {
    let stores = [b.open(), b.open()];
    enrolled(stores[0].as_ref(), "k-chg");
    let old = stores[0]
        .get_key("k-chg")
        .expect("get")
        .expect("key")
        .sealed_pin;
    stores[1]
        .set_pin(
            "k-chg",
            b"another sealed verifier",
            b"another salt",
            &event(AuditKind::PinChanged, "k-chg"),
        )
        .expect("change");
    let compared = AtomicUsize::new(0);
    for right in [true, false] {
        assert_eq!(
            check_sealed(stores[0].as_ref(), "k-chg", &old, 5, right, &compared),
            PinCheck::Changed
        );
    }
    assert_eq!(compared.load(Ordering::SeqCst), 0);
    assert_eq!(count(stores[0].as_ref(), "pin_failure"), 0);
    assert_eq!(
        check(stores[0].as_ref(), "k-chg", 5, true, &compared),
        PinCheck::Right,
        "the current verifier is compared"
    );
    assert_chain(stores[0].as_ref());
}

fn exact_pin_counters_under_concurrency(b: &dyn Backend) {
    let stores = [b.open(), b.open()];
    enrolled(stores[0].as_ref(), "k-pin");
    let max = 5;
    let attempts = 16;
    let barrier = Barrier::new(attempts);
    let compared = AtomicUsize::new(0);
    // 16 wrong PINs at once through two handles (two replicas): exactly 5 are compared.
    let results: Vec<PinCheck> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..attempts)
            .map(|i| {
                let store = stores[i % 2].clone();
                let (barrier, compared) = (&barrier, &compared);
                scope.spawn(move || {
                    barrier.wait();
                    check(store.as_ref(), "k-pin", max, false, compared)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(
        compared.load(Ordering::SeqCst),
        max as usize,
        "exactly max attempts compared: {results:?}"
    );
    let mut counts: Vec<u32> = results
        .iter()
        .filter_map(|r| match r {
            PinCheck::Wrong(f) => Some(f.failures),
            _ => None,
        })
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=max).collect::<Vec<_>>(), "{results:?}");
    assert_eq!(
        results
            .iter()
            .filter(|r| matches!(r, PinCheck::Wrong(f) if f.locked))
            .count(),
        1,
        "the fifth failure locks: {results:?}"
    );
    assert_eq!(
        results.iter().filter(|r| **r == PinCheck::Locked).count(),
        attempts - max as usize
    );
    let key = stores[1].get_key("k-pin").expect("get").expect("key");
    assert!(key.locked);
    assert_eq!(key.pin_failures, max);
    let compared = AtomicUsize::new(0);
    assert_eq!(
        check(stores[0].as_ref(), "k-pin", max, true, &compared),
        PinCheck::Locked,
        "even the right PIN"
    );
    assert_eq!(
        compared.load(Ordering::SeqCst),
        0,
        "a locked key compares nothing"
    );
    assert_eq!(count(stores[0].as_ref(), "pin_failure"), max as usize);
    assert_eq!(count(stores[0].as_ref(), "locked"), 1, "one lock entry");
    // Unlock; failures count; a right PIN resets the count.
    stores[1]
        .unlock("k-pin", &event(AuditKind::Unlocked, "k-pin"))
        .expect("unlock");
    assert!(matches!(
        stores[1].unlock("k-pin", &event(AuditKind::Unlocked, "k-pin")),
        Err(StoreError::NotFound)
    ));
    for n in 1..max {
        assert_eq!(
            check(
                stores[n as usize % 2].as_ref(),
                "k-pin",
                max,
                false,
                &compared
            ),
            PinCheck::Wrong(PinFailure {
                failures: n,
                locked: false
            })
        );
    }
    assert_eq!(
        check(stores[1].as_ref(), "k-pin", max, true, &compared),
        PinCheck::Right
    );
    let key = stores[0].get_key("k-pin").expect("get").expect("key");
    assert_eq!((key.pin_failures, key.locked), (0, false));
    // Concurrent right PINs all pass and leave no count.
    let barrier = Barrier::new(attempts);
    std::thread::scope(|scope| {
        for i in 0..attempts {
            let store = stores[i % 2].clone();
            let (barrier, compared) = (&barrier, &compared);
            scope.spawn(move || {
                barrier.wait();
                assert_eq!(
                    check(store.as_ref(), "k-pin", max, true, compared),
                    PinCheck::Right
                );
            });
        }
    });
    assert_eq!(
        stores[0]
            .get_key("k-pin")
            .expect("get")
            .expect("key")
            .pin_failures,
        0
    );
    let none = AtomicUsize::new(0);
    assert_eq!(
        check(stores[0].as_ref(), "k-none", max, true, &none),
        PinCheck::NotFound
    );
    stores[0]
        .revoke(
            "k-pin",
            "keyCompromise",
            now(),
            &event(AuditKind::Revoked, "k-pin"),
        )
        .expect("revoke");
    assert_eq!(
        check(stores[1].as_ref(), "k-pin", max, true, &none),
        PinCheck::Revoked
    );
    assert_eq!(none.load(Ordering::SeqCst), 0, "nothing compared");
    assert_eq!(
        count(stores[0].as_ref(), "pin_failure"),
        2 * max as usize - 1
    );
    assert_chain(stores[0].as_ref());
}

/// A count an older build left at the limit without a lock (attempts it reserved for requests
/// that died) locks the key at its next check, once, audited, without a compare.
fn abandoned_pin_reservations_lock_the_key(b: &dyn Backend) {
    let stores = [b.open(), b.open()];
    enrolled(stores[0].as_ref(), "k-dead");
    enrolled(stores[0].as_ref(), "k-gone");
    let max = 3;
    b.raw("UPDATE keys SET pin_failures = 3 WHERE key_id = 'k-dead'")
        .expect("leftovers");
    let compared = AtomicUsize::new(0);
    assert_eq!(
        check(stores[1].as_ref(), "k-dead", max, true, &compared),
        PinCheck::LockedNow
    );
    assert_eq!(
        check(stores[0].as_ref(), "k-dead", max, true, &compared),
        PinCheck::Locked,
        "locked once"
    );
    assert_eq!(
        compared.load(Ordering::SeqCst),
        0,
        "even the right PIN is not compared"
    );
    let key = stores[0].get_key("k-dead").expect("get").expect("key");
    assert!(key.locked);
    assert_eq!(key.pin_failures, max);
    let locks: Vec<_> = whole_log(stores[0].as_ref())
        .into_iter()
        .filter(|e| e.kind == "locked" && e.key_id.as_deref() == Some("k-dead"))
        .collect();
    assert_eq!(locks.len(), 1, "{locks:?}");
    let detail: serde_json::Value = serde_json::from_str(&locks[0].detail).expect("json");
    assert_eq!(detail["after_failures"], max);
    assert!(
        detail["reason"]
            .as_str()
            .expect("reason")
            .contains("abandoned")
    );
    // A revoked key with leftovers is refused as revoked, and not locked.
    b.raw("UPDATE keys SET pin_failures = 3 WHERE key_id = 'k-gone'")
        .expect("leftovers");
    stores[0]
        .revoke(
            "k-gone",
            "keyCompromise",
            now(),
            &event(AuditKind::Revoked, "k-gone"),
        )
        .expect("revoke");
    assert_eq!(
        check(stores[1].as_ref(), "k-gone", max, true, &compared),
        PinCheck::Revoked
    );
    assert!(
        !stores[0]
            .get_key("k-gone")
            .expect("get")
            .expect("key")
            .locked
    );
    assert_chain(stores[0].as_ref());
}

fn challenge(store: &dyn Store, id: &str, key: &str, expires_ms: u64) {
    store
        .insert_challenge(
            &ChallengeRecord {
                challenge_id: id.into(),
                key_id: key.into(),
                challenge_json: "{}".into(),
                expires_ms,
            },
            &event(AuditKind::ChallengeIssued, key),
        )
        .expect("challenge");
}

fn evidence(challenge_id: &str, key: &str, head: &str) -> EvidenceRecord {
    EvidenceRecord {
        challenge_id: challenge_id.into(),
        key_id: key.into(),
        manifest_head: head.into(),
        manifest_json: "{}".into(),
        passed: true,
        reason: "ok".into(),
        vendor_name: "test".into(),
        vendor_reference: "ref".into(),
        id_number_masked: None,
        received_ms: now(),
        document_digests: vec!["ab".repeat(32)],
    }
}

fn single_use_challenges(b: &dyn Backend) {
    let stores = [b.open(), b.open()];
    enrolled(stores[0].as_ref(), "k-ch");
    enrolled(stores[0].as_ref(), "k-other");
    challenge(stores[0].as_ref(), "c-1", "k-ch", now() + 60_000);
    // A stranger's submission consumes nothing.
    assert!(matches!(
        stores[0].insert_evidence(
            &evidence("c-1", "k-other", "h-stranger"),
            &event(AuditKind::EvidenceAccepted, "k-other")
        ),
        Err(StoreError::Conflict)
    ));
    assert_eq!(stores[0].open_challenges("k-ch", now()).expect("open"), 1);
    let barrier = Barrier::new(8);
    let wins: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = stores[i % 2].clone();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    store
                        .insert_evidence(
                            &evidence("c-1", "k-ch", &format!("h-{i}")),
                            &event(AuditKind::EvidenceAccepted, "k-ch"),
                        )
                        .is_ok() as usize
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    assert_eq!(wins, 1, "one evidence per challenge");
    let (_, used) = stores[1]
        .get_challenge("c-1")
        .expect("get")
        .expect("challenge");
    assert!(used);
    assert_eq!(stores[1].open_challenges("k-ch", now()).expect("open"), 0);
    assert_eq!(count(stores[0].as_ref(), "evidence_accepted"), 1);
    assert_chain(stores[0].as_ref());
}

fn single_use_nonces(b: &dyn Backend) {
    // One handle: a SQLite database has one server process (its nonces live in that
    // process); the PostgreSQL store shares them, tested across handles below.
    let s = b.open();
    let t = now();
    assert!(s.remember_nonce("k", "n-1", t, t + 60_000).expect("nonce"));
    assert!(!s.remember_nonce("k", "n-1", t, t + 60_000).expect("nonce"));
    assert!(
        s.remember_nonce("other", "n-1", t, t + 60_000)
            .expect("nonce")
    );
    let barrier = Barrier::new(8);
    let fresh: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    s.remember_nonce("k", "n-race", t, t + 60_000)
                        .expect("nonce") as usize
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    assert_eq!(fresh, 1, "a nonce is accepted once");
}

fn append_only_audit_and_evidence(b: &dyn Backend) {
    let s = b.open();
    enrolled(s.as_ref(), "k-ao");
    challenge(s.as_ref(), "c-ao", "k-ao", now() + 60_000);
    s.insert_evidence(
        &evidence("c-ao", "k-ao", "h-ao"),
        &event(AuditKind::EvidenceAccepted, "k-ao"),
    )
    .expect("evidence");
    for sql in [
        "UPDATE audit SET detail = '{}' WHERE seq = 1",
        "DELETE FROM audit WHERE seq = 1",
        "UPDATE evidence SET passed = NOT passed",
        "DELETE FROM evidence",
        "DELETE FROM liveness_challenges WHERE challenge_id = 'c-ao'",
    ] {
        let err = b
            .raw(sql)
            .err()
            .unwrap_or_else(|| panic!("{sql} was allowed"));
        assert!(
            err.contains("append-only") || err.contains("kept"),
            "{sql}: {err}"
        );
    }
    assert_eq!(assert_chain(s.as_ref()), 4);
    assert!(s.find_evidence("k-ao", "h-ao").expect("find").is_some());
}

/// Many threads on several replicas (and two handles sharing one replica name, whose lanes
/// collide) append at once, alone and in the transaction of the change they record: every
/// entry lands exactly once, every lane verifies from its genesis, the lanes are named after
/// the replicas that wrote them (SQLite: the one lane `main`), and the heads add up.
fn concurrent_audit_appends_lose_nothing_and_every_lane_verifies(b: &dyn Backend) {
    let replicas: Vec<Arc<dyn Store>> = vec![
        b.open_as("replica-a"),
        b.open_as("replica-b"),
        b.open_as("replica-c"),
        // Another handle named like the first: the constraints, not the process, order them.
        b.open_as("replica-a"),
    ];
    enrolled(replicas[0].as_ref(), "k-chain");
    let before = assert_chain(replicas[0].as_ref());
    let threads = 8;
    let per_thread = 40;
    std::thread::scope(|scope| {
        for t in 0..threads {
            let store = replicas[t % replicas.len()].clone();
            scope.spawn(move || {
                for i in 0..per_thread {
                    let tagged = AuditEvent::new(
                        AuditKind::Refused,
                        "k-chain",
                        serde_json::json!({ "tag": format!("{t}-{i}") }),
                    );
                    if i % 2 == 0 {
                        store.append_audit(&tagged).expect("append");
                    } else {
                        // An entry in the transaction of the change it records.
                        store
                            .record_signature(
                                &signature("k-chain", &format!("t{t}-{i}"), "r", None),
                                &AuditEvent {
                                    kind: AuditKind::Signed,
                                    ..tagged
                                },
                            )
                            .expect("record");
                    }
                }
            });
        }
    });
    let log = whole_log(replicas[1].as_ref());
    verify_chain(&log).unwrap_or_else(|i| panic!("a lane breaks at index {i}"));
    assert_eq!(log.len(), before + threads * per_thread, "no entry lost");
    let mut tags: Vec<String> = log
        .iter()
        .filter_map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.detail).ok()?["tag"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    tags.sort();
    let mut expected: Vec<String> = (0..threads)
        .flat_map(|t| (0..per_thread).map(move |i| format!("{t}-{i}")))
        .collect();
    expected.sort();
    assert_eq!(tags, expected, "every append exactly once");
    let positions: HashSet<(&str, u64)> = log.iter().map(|e| (e.lane.as_str(), e.seq)).collect();
    assert_eq!(positions.len(), log.len(), "no (lane, seq) twice");
    let heads = replicas[2].audit_heads().expect("heads");
    assert_eq!(
        heads.iter().map(|h| h.seq as usize).sum::<usize>(),
        log.len(),
        "each lane's head is its last entry"
    );
    let lanes: HashSet<&str> = log.iter().map(|e| e.lane.as_str()).collect();
    if lanes.contains("main") {
        assert_eq!(lanes.len(), 1, "a SQLite log is one lane");
    } else {
        assert!(lanes.len() >= 3, "several lanes: {lanes:?}");
        for lane in &lanes {
            let (replica, slot) = lane.rsplit_once('/').expect("replica/slot");
            assert!(
                ["replica-a", "replica-b", "replica-c"].contains(&replica),
                "{lane}"
            );
            assert!(slot.parse::<u32>().is_ok_and(|s| s < 8), "{lane}");
        }
        for replica in ["replica-b", "replica-c"] {
            assert!(
                log.iter()
                    .any(|e| e.lane.starts_with(&format!("{replica}/"))),
                "{replica} wrote entries"
            );
        }
    }
}

/// The audit checkpoint key of these tests (any P-256 key: the store never sees it).
fn audit_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("key")
}

/// Sign a checkpoint of `store`'s heads now, as the service does, and store it.
fn checkpoint_now(store: &dyn Store) -> Checkpoint {
    use p256::ecdsa::signature::Signer;
    let heads = store.audit_heads().expect("heads");
    let format = Checkpoint::format_for(&heads);
    let at_ms = now();
    let bytes = Checkpoint::signed_bytes(format, &heads, at_ms).expect("signed bytes");
    let signature: p256::ecdsa::Signature = audit_key().sign(&bytes);
    let checkpoint = Checkpoint {
        format,
        heads,
        at_ms,
        signature_hex: hex::encode(signature.to_bytes()),
    };
    store.insert_checkpoint(&checkpoint).expect("checkpoint");
    checkpoint
}

fn verify(log: &[AuditEntry], checkpoints: &[Checkpoint]) -> LogVerification {
    verify_log(log, checkpoints, audit_key().verifying_key())
}

fn assert_found(what: &str, report: &LogVerification) {
    assert!(!report.is_intact(), "{what} was not found");
}

/// Deleting, editing, reordering or moving an entry in any lane, re-hashing a lane after a
/// deletion, cutting a lane short and dropping a whole lane that a checkpoint names are all
/// found by the verifier against the signed checkpoints; so is a row deleted in the database
/// behind the triggers' back.
fn tampered_lanes_are_found(b: &dyn Backend) {
    let replicas = [b.open_as("replica-x"), b.open_as("replica-y")];
    enrolled(replicas[0].as_ref(), "k-tamper");
    std::thread::scope(|scope| {
        for (t, store) in replicas.iter().enumerate() {
            for _ in 0..2 {
                let store = store.clone();
                scope.spawn(move || {
                    for i in 0..6 {
                        store
                            .append_audit(&AuditEvent::new(
                                AuditKind::Refused,
                                "k-tamper",
                                serde_json::json!({ "replica": t, "i": i }),
                            ))
                            .expect("append");
                    }
                });
            }
        }
    });
    let first = checkpoint_now(replicas[0].as_ref());
    // The same heads signed again (another replica's tick) is a conflict, kept once.
    let mut twin = first.clone();
    twin.at_ms += 1;
    assert!(matches!(
        replicas[1].insert_checkpoint(&twin),
        Err(StoreError::Conflict)
    ));
    replicas[1]
        .append_audit(&event(AuditKind::Refused, "k-tamper"))
        .expect("append");
    checkpoint_now(replicas[1].as_ref());
    let checkpoints = replicas[0].checkpoints().expect("checkpoints");
    assert_eq!(checkpoints.len(), 2);
    assert_eq!(
        replicas[0]
            .last_checkpoint()
            .expect("last")
            .map(|c| c.heads),
        checkpoints.last().map(|c| c.heads.clone())
    );
    let log = whole_log(replicas[0].as_ref());
    let report = verify(&log, &checkpoints);
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.entries as usize, log.len());
    assert_eq!(report.anchored_through as usize, log.len(), "all anchored");
    let lanes: Vec<String> = report.lanes.iter().map(|l| l.lane.clone()).collect();
    assert!(!lanes.is_empty());

    // A lane's position `seq` within `log`.
    let at = |log: &[AuditEntry], lane: &str, seq: u64| {
        log.iter()
            .position(|e| e.lane == lane && e.seq == seq)
            .expect("entry")
    };
    let length = |lane: &str| log.iter().filter(|e| e.lane == lane).count() as u64;
    assert!(
        lanes.iter().any(|l| length(l) >= 3),
        "a lane with 3 entries: {:?}",
        report.lanes
    );
    for lane in &lanes {
        let len = length(lane);
        // Edited.
        let mut edited = log.clone();
        let i = at(&edited, lane, 1);
        edited[i].detail = "{\"replica\":9}".into();
        assert_found("an edited entry", &verify(&edited, &checkpoints));
        // Cut short: its last (anchored) entry gone.
        let mut cut = log.clone();
        cut.remove(at(&log, lane, len));
        assert_found("a lane cut short", &verify(&cut, &checkpoints));
        // Dropped whole.
        let dropped: Vec<AuditEntry> = log.iter().filter(|e| &e.lane != lane).cloned().collect();
        let report = verify(&dropped, &checkpoints);
        assert_found("a dropped lane", &report);
        assert!(
            report.problems.iter().any(|p| p.contains(lane.as_str())),
            "{:?}",
            report.problems
        );
        if len < 3 {
            continue;
        }
        // Deleted.
        let mut deleted = log.clone();
        deleted.remove(at(&log, lane, 2));
        assert_found("a deleted entry", &verify(&deleted, &checkpoints));
        // Deleted, and the rest of the lane re-hashed into a chain that verifies alone.
        let mut rehashed: Vec<AuditEntry> =
            log.iter().filter(|e| &e.lane == lane).cloned().collect();
        rehashed.remove(1);
        let mut prev = GENESIS;
        for (n, e) in rehashed.iter_mut().enumerate() {
            e.seq = n as u64 + 1;
            e.prev_hash = hex::encode(prev);
            prev = e.hash_after(&prev);
            e.hash = hex::encode(prev);
        }
        verify_chain(&rehashed).expect("a consistent forged lane");
        let mut forged: Vec<AuditEntry> = log.iter().filter(|e| &e.lane != lane).cloned().collect();
        forged.extend(rehashed);
        assert_found("a re-hashed lane", &verify(&forged, &checkpoints));
        // Reordered.
        let mut reordered = log.clone();
        let (x, y) = (at(&log, lane, 2), at(&log, lane, 3));
        reordered.swap(x, y);
        assert_found("reordered entries", &verify(&reordered, &checkpoints));
    }
    if let [one, two, ..] = lanes.as_slice() {
        // Moved to another lane (the lane is hashed outside `main`).
        let mut moved = log.clone();
        let i = at(&log, one, 1);
        moved[i].lane = two.clone();
        assert_found(
            "an entry moved between lanes",
            &verify(&moved, &checkpoints),
        );
    }
    // A checkpoint not signed by the audit key counts for nothing.
    let mut forged = checkpoints.clone();
    forged[0].heads[0].seq += 1;
    assert_found("a forged checkpoint", &verify(&log, &forged));

    // Behind the store's back: the database owner drops the append-only guard and deletes a
    // row. Read back through the store, the log no longer verifies.
    let lane = lanes
        .iter()
        .find(|l| length(l) >= 3)
        .expect("a lane with 3 entries");
    let unguarded = if log.iter().all(|e| e.lane == "main") {
        b.raw("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 3;")
    } else {
        b.raw(&format!(
            "ALTER TABLE audit DISABLE TRIGGER USER; \
             DELETE FROM audit WHERE lane = '{lane}' AND seq = 3; \
             ALTER TABLE audit ENABLE TRIGGER USER;"
        ))
    };
    unguarded.expect("tamper");
    let report = verify(&whole_log(replicas[1].as_ref()), &checkpoints);
    assert_found("a row deleted in the database", &report);
}

fn settings_and_counters(b: &dyn Backend) {
    let stores = [b.open(), b.open()];
    assert!(stores[0].get_setting("s").expect("get").is_none());
    assert_eq!(
        stores[0].put_setting_if_absent("s", b"one").expect("put"),
        b"one"
    );
    assert_eq!(
        stores[1].put_setting_if_absent("s", b"two").expect("put"),
        b"one"
    );
    stores[1].put_setting("s", b"three").expect("put");
    assert_eq!(
        stores[0].get_setting("s").expect("get").as_deref(),
        Some(&b"three"[..])
    );
    let values: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let store = stores[i % 2].clone();
                scope.spawn(move || {
                    (0..20)
                        .map(|_| store.next_counter("serial").expect("counter"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    let unique: HashSet<u64> = values.iter().copied().collect();
    assert_eq!(unique.len(), 120, "no counter value twice");
    assert_eq!(unique.iter().max(), Some(&120));
}

fn seals(b: &dyn Backend) {
    let s = b.open();
    let seal = SealRecord {
        seal_id: "s-1".into(),
        institution: "Bank".into(),
        credit_code: "91350100M000100Y43".into(),
        purpose: "合同专用章".into(),
        algorithm: "ecdsa-p256".into(),
        key_kind: SealKeyKind::VaultSealed,
        key_ref: String::new(),
        sealed_key: Some(vec![1; 48]),
        public_key: vec![4; 65],
        certificate: vec![0x30; 10],
        issuer_certificate: vec![0x30; 12],
        serial: vec![1, 2, 3],
        created_ms: now(),
        disabled_ms: None,
        key_purpose: KeyPurpose::Signing,
    };
    let created = AuditEvent::global(AuditKind::SealCreated, serde_json::json!({}));
    s.insert_seal(&seal, &created).expect("seal");
    // An encryption key is stored as one, and read back as one.
    let encryption = SealRecord {
        seal_id: "s-2".into(),
        serial: vec![4, 5, 6],
        key_kind: SealKeyKind::Token,
        key_ref: "inkseal-seal-s-2".into(),
        sealed_key: None,
        key_purpose: KeyPurpose::Encryption,
        ..seal.clone()
    };
    s.insert_seal(&encryption, &created)
        .expect("encryption key");
    assert_eq!(s.get_seal("s-2").expect("get").as_ref(), Some(&encryption));
    assert!(matches!(
        s.insert_seal(&seal, &created),
        Err(StoreError::Conflict)
    ));
    assert_eq!(s.get_seal("s-1").expect("get").as_ref(), Some(&seal));
    assert_eq!(
        s.seal_by_serial(&[1, 2, 3]).expect("by serial").as_ref(),
        Some(&seal)
    );
    assert_eq!(s.list_seals().expect("list").len(), 2);
    let uses: Vec<AuditEvent> = (0..3)
        .map(|i| AuditEvent::global(AuditKind::Sealed, serde_json::json!({ "doc": i })))
        .collect();
    s.record_seal_uses("s-1", &uses).expect("uses");
    let disabled = AuditEvent::global(AuditKind::SealDisabled, serde_json::json!({}));
    s.disable_seal("s-1", now(), &disabled).expect("disable");
    assert!(matches!(
        s.disable_seal("s-1", now(), &disabled),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.record_seal_uses("s-1", &uses),
        Err(StoreError::NotFound)
    ));
    assert!(b.raw("DELETE FROM seals").is_err(), "seals are kept");
    assert_eq!(count(s.as_ref(), "sealed"), 3);
    assert_chain(s.as_ref());
}

fn purge_keeps_what_evidence_answered(b: &dyn Backend) {
    let s = b.open();
    enrolled(s.as_ref(), "k-pu");
    challenge(s.as_ref(), "c-old", "k-pu", now() - 1);
    challenge(s.as_ref(), "c-answered", "k-pu", now() + 60_000);
    s.insert_evidence(
        &evidence("c-answered", "k-pu", "h-pu"),
        &event(AuditKind::EvidenceAccepted, "k-pu"),
    )
    .expect("evidence");
    let counts = s
        .purge(now() + 120_000, &|c: PurgeCounts| {
            AuditEvent::global(AuditKind::Purged, serde_json::json!({ "c": c.challenges }))
        })
        .expect("purge");
    assert_eq!(counts.challenges, 1);
    assert!(s.get_challenge("c-old").expect("get").is_none());
    assert!(s.get_challenge("c-answered").expect("get").is_some());
    assert_eq!(count(s.as_ref(), "purged"), 1);
    assert_chain(s.as_ref());
}

/// PostgreSQL only: replicas share request nonces (a replay through another replica is one).
#[test]
fn postgres_nonces_are_shared_by_replicas() {
    let b = postgres();
    let (one, two) = (b.open(), b.open());
    let t = now();
    assert!(one.remember_nonce("k", "n", t, t + 60_000).expect("nonce"));
    assert!(!two.remember_nonce("k", "n", t, t + 60_000).expect("nonce"));
    // Expired nonces are purged.
    let counts = two
        .purge(t + 120_000, &|_| {
            AuditEvent::global(AuditKind::Purged, serde_json::json!({}))
        })
        .expect("purge");
    assert_eq!(counts.nonces, 1);
}

/// PostgreSQL only: migrations are versioned and applied once, also when replicas start at
/// once.
#[test]
fn postgres_migrations_apply_once() {
    let url = PgCluster::shared().create_database();
    let config = PostgresConfig::new(url);
    let reports: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let config = config.clone();
                scope.spawn(move || {
                    PostgresStore::connect(&config)
                        .expect("connect")
                        .migrate()
                        .expect("migrate")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let applied: usize = reports.iter().map(|r| r.applied.len()).sum();
    assert_eq!(applied, 9, "each of the nine migrations once: {reports:?}");
    assert!(reports.iter().all(|r| r.version == 9));
    let again = PostgresStore::open(&config).expect("open");
    assert_eq!(again.migrate().expect("migrate").applied.len(), 0);
    assert_eq!(again.schema_version().expect("version"), 9);
}

/// PostgreSQL only: migration 6 makes the one chain an older build wrote lane `main` without
/// rewriting a hash: it and its v1 checkpoint still verify, new entries go to the replica's
/// lanes, a checkpoint over every lane covers both, and an older build's append (no lane) is
/// refused rather than chained to the wrong head.
#[test]
fn postgres_migration_6_keeps_the_chain_as_lane_main() {
    use p256::ecdsa::signature::Signer;
    let url = PgCluster::shared().create_database();
    let db = url.rsplit('/').next().unwrap_or_default().to_owned();
    let mut config = PostgresConfig::new(url);
    config.replica = Some("new-build".into());
    let old = PostgresStore::connect(&config).expect("connect");
    assert_eq!(old.migrate_to(5).expect("migrate to 5").version, 5);
    // Three entries and a checkpoint as a build before lanes wrote them.
    let mut prev = GENESIS;
    let mut rows = Vec::new();
    let at = now();
    for seq in 1..=3u64 {
        let detail = format!("{{\"old\":{seq}}}");
        let fields = EntryFields {
            kind: "refused",
            key_id: None,
            actor: "system",
            client: "",
            detail: &detail,
        };
        let hash = entry_hash(&prev, seq, at, fields);
        rows.push(format!(
            "({seq}, {at}, 'refused', NULL, 'system', '', '{detail}',              decode('{}', 'hex'), decode('{}', 'hex'))",
            hex::encode(prev),
            hex::encode(hash)
        ));
        prev = hash;
    }
    let signature: p256::ecdsa::Signature = audit_key().sign(
        &Checkpoint::signed_bytes(
            inkseal_server::audit::CheckpointFormat::V1,
            &[inkseal_server::audit::LaneHead {
                lane: "main".into(),
                seq: 3,
                head_hash: hex::encode(prev),
            }],
            at,
        )
        .expect("v1 bytes"),
    );
    PgCluster::shared()
        .psql(
            &db,
            &format!(
                "INSERT INTO audit (seq, at_ms, kind, key_id, actor, client, detail, prev_hash,                  hash) VALUES {};                  INSERT INTO audit_checkpoints (seq, head_hash, at_ms, signature)                  VALUES (3, '{}', {at}, '{}');",
                rows.join(", "),
                hex::encode(prev),
                hex::encode(signature.to_bytes())
            ),
        )
        .expect("old rows");
    drop(old);

    let store = PostgresStore::open(&config).expect("open migrates");
    assert_eq!(store.schema_version().expect("version"), 9);
    let log = inkseal_server::store::read_whole_log(&store).expect("log");
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|e| e.lane == "main"));
    assert_eq!(log[2].hash, hex::encode(prev), "no hash rewritten");
    let report = verify(&log, &store.checkpoints().expect("checkpoints"));
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.anchored_through, 3);

    for _ in 0..4 {
        store
            .append_audit(&AuditEvent::global(
                AuditKind::Refused,
                serde_json::json!({}),
            ))
            .expect("append");
    }
    let heads = store.audit_heads().expect("heads");
    assert_eq!(heads[0].lane, "main");
    assert_eq!(heads[0].seq, 3, "nothing new in main");
    assert!(heads[1..].iter().all(|h| h.lane.starts_with("new-build/")));
    checkpoint_now(&store);
    let log = inkseal_server::store::read_whole_log(&store).expect("log");
    let report = verify(&log, &store.checkpoints().expect("checkpoints"));
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.entries, 7);
    assert_eq!(report.anchored_through, 7);
    assert_eq!(report.checkpoints, 2);

    // A replica of the older build still running: its insert names no lane and is refused.
    let refused = PgCluster::shared().psql(
        &db,
        "INSERT INTO audit (seq, at_ms, kind, key_id, actor, client, detail, prev_hash, hash)          VALUES (4, 0, 'refused', NULL, 'system', '', '{}', decode('00', 'hex'),          decode('01', 'hex'))",
    );
    assert!(
        refused.is_err_and(|e| e.contains("lane")),
        "an old append is refused"
    );
}

/// SQLite only: a schema 2 database (before reservation times) opens as schema 9, keeps its
/// keys, and a key whose attempts a schema 2 server left reserved is taken for abandoned.
#[test]
fn sqlite_schema_2_databases_migrate_to_9() {
    let b = sqlite();
    enrolled(b.open().as_ref(), "k-old");
    b.raw(
        "DROP TABLE p256_keygens; DROP TABLE p256_sign_sessions; ALTER TABLE keys DROP COLUMN curve; \
         ALTER TABLE keys DROP COLUMN p256_session_failures; \
         ALTER TABLE keys DROP COLUMN pin_reserved_ms;
         DROP TABLE login_challenges;
         DROP TABLE decryptions;
         ALTER TABLE keys DROP COLUMN purpose;
         ALTER TABLE seals DROP COLUMN key_purpose;
         ALTER TABLE keys DROP COLUMN decryptions; ALTER TABLE tickets DROP COLUMN purpose;
         UPDATE keys SET pin_failures = 3 WHERE key_id = 'k-old';
         PRAGMA user_version = 2;",
    )
    .expect("downgrade to schema 2");
    let store = b.open();
    let version: i64 = rusqlite::Connection::open(&b.path)
        .expect("open")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 9);
    assert!(
        store
            .get_login_challenge(&[0; 16])
            .expect("table")
            .is_none()
    );
    let compared = AtomicUsize::new(0);
    assert_eq!(
        check(store.as_ref(), "k-old", 3, true, &compared),
        PinCheck::LockedNow,
        "left by a server without reservation times"
    );
    assert_eq!(compared.load(Ordering::SeqCst), 0);
    assert_chain(store.as_ref());
}

/// SQLite only: a schema 3 database (before login challenges) opens as schema 9 with the table.
#[test]
fn sqlite_schema_3_databases_migrate_to_9() {
    let b = sqlite();
    enrolled(b.open().as_ref(), "k-3");
    b.raw(
        "DROP TABLE p256_keygens; DROP TABLE p256_sign_sessions; ALTER TABLE keys DROP COLUMN curve; \
         ALTER TABLE keys DROP COLUMN p256_session_failures; \
         DROP TABLE login_challenges; DROP TABLE decryptions; ALTER TABLE keys DROP COLUMN \
         purpose; ALTER TABLE seals DROP COLUMN key_purpose; ALTER TABLE keys DROP COLUMN \
         decryptions; ALTER TABLE tickets DROP COLUMN purpose; PRAGMA user_version = 3;",
    )
    .expect("downgrade to schema 3");
    let store = b.open();
    login_challenge(store.as_ref(), 9, now() + 60_000);
    assert!(store.get_login_challenge(&[9; 16]).expect("get").is_some());
    assert!(store.get_key("k-3").expect("get").is_some());
}

/// SQLite only: a schema 8 database (before pending P-256 key generations were stored) opens
/// as schema 9 with the table.
#[test]
fn sqlite_schema_8_databases_migrate_to_9() {
    let b = sqlite();
    enrolled(b.open().as_ref(), "k-8");
    b.raw("DROP TABLE p256_keygens; PRAGMA user_version = 8;")
        .expect("downgrade to schema 8");
    let store = b.open();
    let version: i64 = rusqlite::Connection::open(&b.path)
        .expect("open")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 9);
    store
        .put_p256_keygen(&p256_keygen("et-8", 8, now() + 60_000))
        .expect("put");
    assert!(
        store
            .take_p256_keygen("et-8", now())
            .expect("take")
            .is_some()
    );
    assert!(store.get_key("k-8").expect("get").is_some());
}

/// SQLite only: a schema 7 database (P-256 sessions without their repeat columns) opens as
/// schema 9: its open session is taken once, and its answer is not kept (none was stored).
#[test]
fn sqlite_schema_7_databases_migrate_to_9() {
    let b = sqlite();
    let store = b.open();
    enrolled(store.as_ref(), "k-7");
    store
        .insert_p256_session(&NewP256Session {
            sealed_reply: None,
            ..p256_session("k-7", 1, "idem-7-1", now() + 60_000)
        })
        .expect("session");
    drop(store);
    b.raw(
        "DROP TABLE p256_keygens; ALTER TABLE p256_sign_sessions DROP COLUMN sealed_reply; \
         ALTER TABLE p256_sign_sessions DROP COLUMN finish_hash; PRAGMA user_version = 7;",
    )
    .expect("downgrade to schema 7");
    let store = b.open();
    let version: i64 = rusqlite::Connection::open(&b.path)
        .expect("open")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 9);
    let found = store
        .find_p256_session("k-7", "idem-7-1", now())
        .expect("find")
        .expect("the session");
    assert_eq!(found.sealed_reply, None);
    assert!(matches!(
        store.take_p256_session("k-7", &[1; 32], b"f", now()),
        Ok(P256SessionTake::Taken(_))
    ));
}

/// SQLite only: a schema 4 database (before key purposes) opens as schema 9: its keys sign,
/// and decryptions can be recorded.
#[test]
fn sqlite_schema_4_databases_migrate_to_9() {
    let b = sqlite();
    enrolled(b.open().as_ref(), "k-4");
    b.raw(
        "DROP TABLE p256_keygens; DROP TABLE p256_sign_sessions; ALTER TABLE keys DROP COLUMN curve; \
         ALTER TABLE keys DROP COLUMN p256_session_failures; \
         DROP TABLE decryptions; ALTER TABLE keys DROP COLUMN purpose; ALTER TABLE seals DROP \
         COLUMN key_purpose; ALTER TABLE keys DROP COLUMN decryptions; ALTER TABLE tickets \
         DROP COLUMN purpose; PRAGMA user_version = 4;",
    )
    .expect("downgrade to schema 4");
    let store = b.open();
    let version: i64 = rusqlite::Connection::open(&b.path)
        .expect("open")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 9);
    assert_eq!(
        store.get_key("k-4").expect("get").expect("key").purpose,
        KeyPurpose::Signing
    );
    assert_eq!(
        store
            .record_decryption(
                &NewDecryption {
                    key_id: "k-4".into(),
                    idempotency_key: "idem-4".into(),
                    request_hash: vec![1; 32],
                    response: "{}".into(),
                    envelope_ref: vec![2; 32],
                },
                &event(AuditKind::Decrypted, "k-4"),
                10,
            )
            .expect("record"),
        RecordedDecryption::Inserted
    );
    assert_chain(store.as_ref());
}

/// SQLite only: a schema 5 database (before seal key purposes and decryption counts) opens as
/// schema 9: its seals sign, its keys count the decryptions they recorded.
#[test]
fn sqlite_schema_5_databases_migrate_to_9() {
    let b = sqlite();
    let store = b.open();
    let seal = SealRecord {
        seal_id: "s-5".into(),
        institution: "Bank".into(),
        credit_code: "91350100M000100Y43".into(),
        purpose: "合同专用章".into(),
        algorithm: "sm2".into(),
        key_kind: SealKeyKind::VaultSealed,
        key_ref: String::new(),
        sealed_key: Some(vec![1; 48]),
        public_key: vec![4; 65],
        certificate: vec![0x30; 10],
        issuer_certificate: vec![0x30; 12],
        serial: vec![5],
        created_ms: now(),
        disabled_ms: None,
        key_purpose: KeyPurpose::Signing,
    };
    store
        .insert_seal(
            &seal,
            &AuditEvent::global(AuditKind::SealCreated, serde_json::json!({})),
        )
        .expect("seal");
    // A key with two decryptions recorded before the count existed.
    let t = "et-k-5";
    ticket(store.as_ref(), t);
    let key = KeyRecord {
        purpose: KeyPurpose::Encryption,
        ..key_record("k-5", t)
    };
    store
        .insert_key(&key, now(), &event(AuditKind::Enrolled, "k-5"))
        .expect("key");
    for i in 0..2 {
        store
            .record_decryption(
                &NewDecryption {
                    key_id: "k-5".into(),
                    idempotency_key: format!("idem-5-{i}"),
                    request_hash: vec![1; 32],
                    response: "{}".into(),
                    envelope_ref: vec![2; 32],
                },
                &event(AuditKind::Decrypted, "k-5"),
                10,
            )
            .expect("record");
    }
    drop(store);
    b.raw(
        "DROP TABLE p256_keygens; DROP TABLE p256_sign_sessions; ALTER TABLE keys DROP COLUMN curve; \
         ALTER TABLE keys DROP COLUMN p256_session_failures; \
         ALTER TABLE seals DROP COLUMN key_purpose; ALTER TABLE keys DROP COLUMN decryptions; \
         ALTER TABLE tickets DROP COLUMN purpose; \
         PRAGMA user_version = 5;",
    )
    .expect("downgrade to schema 5");
    let store = b.open();
    let version: i64 = rusqlite::Connection::open(&b.path)
        .expect("open")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 9);
    assert_eq!(store.get_seal("s-5").expect("get").as_ref(), Some(&seal));
    assert_eq!(
        store.decryption_count("k-5").expect("count"),
        2,
        "counted from the recorded decryptions"
    );
    assert_chain(store.as_ref());
}
