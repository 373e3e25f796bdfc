//! PostgreSQL store: any number of server replicas on one database.
//!
//! A pool of synchronous connections (`postgres` + `r2d2`); the traits are called from blocking
//! tasks, never from an async worker (the sync client runs its own small runtime per
//! connection). Every correctness rule is a constraint or a single conditional statement, as in
//! the SQLite store, so it holds across replicas:
//!
//! - unique key ids, one signature per idempotency key, one use per evidence slot: primary keys,
//!   written with `INSERT ... ON CONFLICT DO NOTHING` and the affected-row count;
//! - PIN counts: the compare runs under the key's row lock (`SELECT ... FOR UPDATE`);
//! - single-use tickets, challenges and request nonces: a conditional `UPDATE` or an
//!   `INSERT ... ON CONFLICT DO NOTHING`;
//! - the audit log: hash chains ("lanes", migration 6), each replica appending to lanes of its
//!   own, `<replica>/<slot>`, one slot per pooled connection ([`LanePool`]: a transaction takes
//!   a free slot, so two transactions of one process rarely share a head). Each append reads its
//!   lane's head and inserts `seq = head.seq + 1`, `prev_hash = head.hash` in the transaction of
//!   the change it records. `(lane, seq)` is the primary key and `(lane, prev_hash)` unique, so
//!   two writers that read the same head of a lane (two replicas given one name, or more
//!   transactions than slots) cannot both commit: the loser's whole transaction fails on the
//!   constraint and is run again from the start (optimistic; no lock outlives a transaction,
//!   no advisory lock; the slot pool only avoids collisions, the constraints decide).
//!
//! Append-only tables (audit, checkpoints, evidence) and kept rows (answered challenges, seals)
//! are guarded by triggers.
//!
//! Plain SQL only (see ARCHITECTURE.md, "Storage engines"): read-committed transactions,
//! primary and unique keys, `INSERT ... ON CONFLICT`, `RETURNING`, row triggers in PL/pgSQL.
//!
//! TLS to the database: rustls (ring provider) through `tokio-postgres-rustls`, always with
//! full verification (the chain up to the CA given by `--database-ca` or `sslrootcert=`, and
//! the host name). It is used when the URL asks for it (`sslmode=require`, `verify-ca` or
//! `verify-full`, all verified fully), when a CA is given, and by default for a host off
//! loopback; plaintext to such a host is refused unless told it is insecure
//! ([`PostgresConfig`]).

use super::{
    IssuedCertificate, KeyRecord, NewSignature, PinCheck, PinState, Recorded, Store, StoreError,
    StoredSignature, check_pin_in,
};
use crate::audit::{
    AuditEntry, AuditEvent, Checkpoint, CheckpointFormat, EntryFields, GENESIS, LaneHead,
    lane_entry_hash,
};
use postgres::error::SqlState;
use postgres::{Client, Row, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The primary key of the audit lanes' sequence numbers, `(lane, seq)`.
const AUDIT_SEQ_CONSTRAINT: &str = "audit_chain_seq";
/// The unique constraint on the previous hash in a lane (no two entries follow the same entry).
const AUDIT_LINK_CONSTRAINT: &str = "audit_chain_link";
/// Longest replica name (the lane names are `<replica>/<slot>`).
pub const MAX_REPLICA_NAME: usize = 100;
/// Times a transaction is run before a contended audit append gives up.
const MAX_ATTEMPTS: u32 = 200;

/// How to reach the database. The URL may hold a password: `Debug` never shows it.
#[derive(Clone)]
pub struct PostgresConfig {
    /// `postgres://user:password@host:port/database` (or the key=value form).
    pub url: String,
    /// Connections in the pool.
    pub pool_size: u32,
    /// How long a request waits for a connection (and a readiness check for the database).
    pub connect_timeout: Duration,
    /// The CA certificate(s) (PEM) the database server's certificate must chain to. Giving
    /// one turns TLS on (as `sslmode=verify-full` or `sslrootcert=FILE` in the URL do).
    pub ca_file: Option<PathBuf>,
    /// INSECURE: connect to a host off loopback without TLS.
    pub insecure_without_tls: bool,
    /// This replica's name, which names its audit lanes (`<replica>/<slot>`, one slot per
    /// pooled connection) so an operator can tell which replica wrote an entry. Printable
    /// ASCII, at most [`MAX_REPLICA_NAME`] bytes. `None`: the host name (`inkseal serve` adds
    /// its port). Two replicas given one name share lanes: still correct (the constraints
    /// decide), but their appends then contend as on one chain.
    pub replica: Option<String>,
}

/// This machine's host name (printable ASCII, at most 64 bytes), or `inkseal`.
pub fn host_name() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String = raw
        .trim()
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '/')
        .take(64)
        .collect();
    if name.is_empty() {
        "inkseal".into()
    } else {
        name
    }
}

/// The audit lanes of one store handle: `<replica>/<slot>` for each pooled connection, and
/// which are taken by a transaction right now. A transaction takes the lowest free one
/// (lock-free), so transactions of one process append to different heads and a quiet replica
/// keeps appending to its first lane (as many lanes grow as transactions overlap); when every
/// slot is taken (more transactions than connections cannot happen, but nothing depends on it)
/// it shares one, and the database's constraints order the two.
pub(super) struct LanePool {
    names: Vec<String>,
    taken: Vec<std::sync::atomic::AtomicBool>,
}

/// A lane taken from the [`LanePool`] until dropped.
pub(super) struct LaneClaim<'a> {
    pool: &'a LanePool,
    slot: usize,
    exclusive: bool,
}

impl LaneClaim<'_> {
    pub(super) fn name(&self) -> &str {
        &self.pool.names[self.slot]
    }
}

impl Drop for LaneClaim<'_> {
    fn drop(&mut self) {
        if self.exclusive {
            self.pool.taken[self.slot].store(false, std::sync::atomic::Ordering::Release);
        }
    }
}

impl LanePool {
    fn new(replica: &str, slots: u32) -> Self {
        let slots = slots.max(1) as usize;
        LanePool {
            names: (0..slots).map(|i| format!("{replica}/{i}")).collect(),
            taken: (0..slots)
                .map(|_| std::sync::atomic::AtomicBool::new(false))
                .collect(),
        }
    }

    fn claim(&self) -> LaneClaim<'_> {
        use std::sync::atomic::Ordering;
        for slot in 0..self.names.len() {
            if self.taken[slot]
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return LaneClaim {
                    pool: self,
                    slot,
                    exclusive: true,
                };
            }
        }
        // Every slot busy: share the last one (the constraints order the appends).
        LaneClaim {
            pool: self,
            slot: self.names.len() - 1,
            exclusive: false,
        }
    }
}

thread_local! {
    /// The lane this thread's current transaction appends to ([`PostgresStore::transact`] sets
    /// it around the transaction's closure; [`append`] reads it).
    static CURRENT_LANE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Whether connections use TLS (always fully verified when they do).
#[derive(Clone, Debug, PartialEq, Eq)]
enum TlsChoice {
    /// Plaintext: a Unix socket or loopback, `sslmode=disable`, or the insecure flag.
    Off,
    /// TLS, the chain checked up to the certificates in this file and the name against the host.
    VerifyFull(PathBuf),
}

/// What [`PostgresConfig::parse`] makes: the client's configuration and the TLS choice.
struct Parsed {
    config: postgres::Config,
    tls: TlsChoice,
}

/// Take libpq's `sslmode` and `sslrootcert` out of a URL or key=value string (the `postgres`
/// crate knows neither `verify-full` nor `sslrootcert`): the rest, and the two values.
fn take_tls_params(url: &str) -> (String, Option<String>, Option<String>) {
    let (mut mode, mut root) = (None, None);
    let mut take = |key: &str, value: String| match key {
        "sslmode" => {
            mode = Some(value);
            true
        }
        "sslrootcert" => {
            root = Some(value);
            true
        }
        _ => false,
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_owned(),
            Some((base, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        !take(k, percent_decode(v))
                    })
                    .collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        url.split_whitespace()
            .filter(|word| {
                let (k, v) = word.split_once('=').unwrap_or((word, ""));
                !take(k, v.trim_matches('\'').to_owned())
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    (rest, mode, root)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A rustls client configuration trusting the CA certificates in `ca_file` (ring provider,
/// TLS 1.2 and 1.3, nothing installed process-wide).
fn tls_client_config(ca_file: &std::path::Path) -> Result<rustls::ClientConfig, StoreError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let shown = ca_file.display();
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| StoreError::Tls(format!("database CA file {shown}: {e}")))?;
    for cert in certs {
        let cert = cert.map_err(|e| StoreError::Tls(format!("database CA file {shown}: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| StoreError::Tls(format!("database CA file {shown}: {e}")))?;
    }
    if roots.is_empty() {
        return Err(StoreError::Tls(format!(
            "database CA file {shown} holds no certificate"
        )));
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Tls(e.to_string()))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

/// `e` and every error under it, `outer: inner: ...` (the client's errors do not show their
/// cause).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let shown = cause.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        next = cause.source();
    }
    text
}

/// Whether `e` (or an error it wraps) is a TLS failure: a certificate rustls refused, or a
/// server that would not speak TLS.
fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            return true;
        }
        next = e.source();
    }
    // tokio-postgres's own TLS kind: the handshake failed, or the server offers no TLS.
    e.to_string().contains("TLS handshake") || error_chain(e).contains("server does not support")
}

impl PostgresConfig {
    /// Defaults: 16 connections, 5 s to get one, loopback only.
    pub fn new(url: impl Into<String>) -> Self {
        PostgresConfig {
            url: url.into(),
            pool_size: 16,
            connect_timeout: Duration::from_secs(5),
            ca_file: None,
            insecure_without_tls: false,
            replica: None,
        }
    }

    /// The replica name the lanes take: [`PostgresConfig::replica`], else the host name.
    pub fn replica_name(&self) -> Result<String, StoreError> {
        let name = self.replica.clone().unwrap_or_else(host_name);
        let lane = format!("{name}/0");
        if name.len() > MAX_REPLICA_NAME || !crate::audit::valid_lane_name(&lane) {
            return Err(StoreError::Backend(format!(
                "replica name {name:?}: use 1 to {MAX_REPLICA_NAME} printable ASCII characters \
                 (it names the replica's audit lanes)"
            )));
        }
        Ok(name)
    }

    /// The URL with any password replaced by `***`, for logs and messages.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }

    fn parse(&self) -> Result<Parsed, StoreError> {
        let (rest, mode, root) = take_tls_params(&self.url);
        let mut config: postgres::Config = rest.parse().map_err(|e| {
            StoreError::Backend(format!("database URL {}: {e}", self.redacted_url()))
        })?;
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        config.connect_timeout(self.connect_timeout);
        config.application_name("inkseal");
        let local = config.get_hosts().iter().all(|host| match host {
            postgres::config::Host::Unix(_) => true,
            postgres::config::Host::Tcp(name) => is_loopback_host(name),
        });
        let ca = self.ca_file.clone().or(root.map(PathBuf::from));
        let want_tls = match mode.as_deref() {
            None => ca.is_some() || !local,
            Some("disable") => false,
            Some("require" | "verify-ca" | "verify-full") => true,
            Some(m @ ("allow" | "prefer")) => {
                return Err(StoreError::Tls(format!(
                    "sslmode={m} in {} would fall back to plaintext: use sslmode=verify-full \
                     (TLS, always verified), or sslmode=disable on loopback",
                    self.redacted_url()
                )));
            }
            Some(other) => {
                return Err(StoreError::Backend(format!(
                    "database URL {}: unknown sslmode {other:?}",
                    self.redacted_url()
                )));
            }
        };
        let tls = if want_tls {
            let ca = ca.ok_or_else(|| {
                StoreError::Tls(format!(
                    "TLS to the database {} needs the certificate of the CA that signed the \
                     server's: --database-ca FILE (or sslrootcert=FILE in the URL)",
                    self.redacted_url()
                ))
            })?;
            config.ssl_mode(postgres::config::SslMode::Require);
            TlsChoice::VerifyFull(ca)
        } else {
            if !local && !self.insecure_without_tls {
                return Err(StoreError::Backend(format!(
                    "database host in {} is not on loopback and the connection would not use \
                     TLS: give the CA of the database's certificate (--database-ca FILE, \
                     verified in full), or pass --insecure-database-without-tls if the network \
                     path is trusted",
                    self.redacted_url()
                )));
            }
            config.ssl_mode(postgres::config::SslMode::Disable);
            TlsChoice::Off
        };
        Ok(Parsed { config, tls })
    }
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &self.redacted_url())
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("ca_file", &self.ca_file)
            .field("insecure_without_tls", &self.insecure_without_tls)
            .field("replica", &self.replica)
            .finish()
    }
}

fn is_loopback_host(name: &str) -> bool {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    bare == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `scheme://user:secret@host/...` → `scheme://user:***@host/...`; `password=secret` (key=value
/// form) → `password=***`.
pub(crate) fn redact(url: &str) -> String {
    if let Some(rest) = url
        .strip_prefix("postgres://")
        .map(|r| ("postgres://", r))
        .or_else(|| {
            url.strip_prefix("postgresql://")
                .map(|r| ("postgresql://", r))
        })
    {
        let (scheme, rest) = rest;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let tail = redact_query(tail);
        if let Some(at) = authority.rfind('@') {
            let (userinfo, host) = authority.split_at(at);
            if let Some(colon) = userinfo.find(':') {
                return format!("{scheme}{}:***{host}{tail}", &userinfo[..colon]);
            }
        }
        return format!("{scheme}{authority}{tail}");
    }
    url.split_whitespace()
        .map(|part| {
            if part.to_ascii_lowercase().starts_with("password=") {
                "password=***".to_owned()
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn redact_query(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let query = query
        .split('&')
        .map(|kv| {
            if kv.to_ascii_lowercase().starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    format!("{path}?{query}")
}

/// The versioned schema: each migration is applied once, in its own transaction, and recorded
/// in `inkseal_migrations`. Never edit one that shipped: add the next.
pub(super) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial schema", SCHEMA_V1),
    (
        2,
        "pin reservation time",
        "ALTER TABLE keys ADD COLUMN pin_reserved_ms BIGINT",
    ),
    (
        3,
        "login challenges",
        super::postgres_login::LOGIN_CHALLENGES,
    ),
    (
        4,
        "key purposes and decryptions",
        super::postgres_decrypt::KEY_PURPOSES_AND_DECRYPTIONS,
    ),
    (
        5,
        "seal key purposes, decryption counts, ticket purposes",
        super::postgres_more::SEAL_PURPOSES_AND_DECRYPTION_COUNTS,
    ),
    (6, "audit lanes", AUDIT_LANES),
    (
        7,
        "key curves and P-256 signing sessions",
        super::postgres_p256::KEY_CURVES_AND_P256_SESSIONS,
    ),
    (
        8,
        "P-256 session repeats",
        super::postgres_p256::P256_SESSION_REPEATS,
    ),
    (
        9,
        "pending P-256 key generations",
        super::postgres_p256::P256_PENDING_KEYGENS,
    ),
];

/// Migration 6: the audit log becomes lanes. The existing chain becomes lane `main` without a
/// row being rewritten (a column added with a default is not an UPDATE: no trigger fires and
/// no hash changes); the default is dropped at once, so a replica of an older build still
/// running cannot append (it would chain to the wrong head) until it is replaced. Sequence
/// numbers and links are unique per lane. Checkpoints over every lane's head get their own
/// append-only table, keyed by the digest of the heads they sign.
const AUDIT_LANES: &str = r#"
ALTER TABLE audit ADD COLUMN lane TEXT NOT NULL DEFAULT 'main';
ALTER TABLE audit ALTER COLUMN lane DROP DEFAULT;
ALTER TABLE audit DROP CONSTRAINT audit_chain_link;
ALTER TABLE audit DROP CONSTRAINT audit_chain_seq;
ALTER TABLE audit ADD CONSTRAINT audit_chain_seq PRIMARY KEY (lane, seq);
ALTER TABLE audit ADD CONSTRAINT audit_chain_link UNIQUE (lane, prev_hash);
DROP INDEX audit_by_key;
CREATE INDEX audit_by_key ON audit (key_id, at_ms);
CREATE TABLE audit_lane_checkpoints (
    heads_digest BYTEA PRIMARY KEY,
    at_ms        BIGINT NOT NULL,
    heads        TEXT NOT NULL,
    signature    TEXT NOT NULL
);
CREATE INDEX audit_lane_checkpoints_by_time ON audit_lane_checkpoints (at_ms);
CREATE TRIGGER lane_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_lane_checkpoints
    FOR EACH ROW EXECUTE FUNCTION inkseal_refuse_change();
CREATE TRIGGER lane_checkpoints_no_truncate BEFORE TRUNCATE ON audit_lane_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION inkseal_refuse_change();
"#;

const SCHEMA_V1: &str = r#"
CREATE TABLE keys (
    key_id             TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL,
    certificate_name   TEXT NOT NULL,
    ticket_id          TEXT NOT NULL UNIQUE,
    public_key         BYTEA NOT NULL,
    device_public_key  BYTEA NOT NULL,
    device_attestation TEXT,
    id_binding         BYTEA,
    sealed_share       BYTEA NOT NULL,
    sealed_pin         BYTEA NOT NULL,
    pin_salt           BYTEA NOT NULL,
    pin_failures       BIGINT NOT NULL DEFAULT 0 CHECK (pin_failures >= 0),
    locked             BOOLEAN NOT NULL DEFAULT FALSE,
    revoked_ms         BIGINT,
    certificate        BYTEA,
    created_ms         BIGINT NOT NULL
);
CREATE TABLE signatures (
    key_id          TEXT NOT NULL REFERENCES keys(key_id),
    idempotency_key TEXT NOT NULL,
    request_hash    BYTEA NOT NULL,
    response        TEXT NOT NULL,
    e               BYTEA NOT NULL,
    message_kind    TEXT NOT NULL,
    document_digest BYTEA NOT NULL,
    evidence_head   TEXT,
    created_ms      BIGINT NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);
CREATE INDEX signatures_by_time ON signatures (key_id, created_ms);
CREATE TABLE evidence_uses (
    manifest_head   TEXT NOT NULL,
    slot            TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    PRIMARY KEY (manifest_head, slot)
);
CREATE TABLE certificates (
    serial            BYTEA PRIMARY KEY,
    key_id            TEXT NOT NULL REFERENCES keys(key_id),
    certificate       BYTEA NOT NULL,
    issued_ms         BIGINT NOT NULL,
    revoked_ms        BIGINT,
    revocation_reason TEXT
);
CREATE INDEX certificates_by_key ON certificates (key_id);
CREATE TABLE audit (
    seq       BIGINT NOT NULL CHECK (seq >= 1),
    at_ms     BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    key_id    TEXT,
    actor     TEXT NOT NULL,
    client    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash      BYTEA NOT NULL,
    CONSTRAINT audit_chain_seq PRIMARY KEY (seq),
    CONSTRAINT audit_chain_link UNIQUE (prev_hash)
);
CREATE INDEX audit_by_key ON audit (key_id, seq);
CREATE TABLE audit_checkpoints (
    seq       BIGINT PRIMARY KEY,
    head_hash TEXT NOT NULL,
    at_ms     BIGINT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
CREATE TABLE liveness_challenges (
    challenge_id   TEXT PRIMARY KEY,
    key_id         TEXT NOT NULL REFERENCES keys(key_id),
    challenge_json TEXT NOT NULL,
    expires_ms     BIGINT NOT NULL,
    issued_ms      BIGINT NOT NULL,
    used_ms        BIGINT
);
CREATE INDEX challenges_by_key ON liveness_challenges (key_id, expires_ms);
CREATE INDEX challenges_by_expiry ON liveness_challenges (expires_ms);
CREATE TABLE evidence (
    challenge_id     TEXT PRIMARY KEY REFERENCES liveness_challenges(challenge_id),
    key_id           TEXT NOT NULL REFERENCES keys(key_id),
    manifest_head    TEXT NOT NULL UNIQUE,
    manifest_json    TEXT NOT NULL,
    passed           BOOLEAN NOT NULL,
    reason           TEXT NOT NULL,
    vendor_name      TEXT NOT NULL,
    vendor_reference TEXT NOT NULL,
    id_number_masked TEXT,
    received_ms      BIGINT NOT NULL,
    document_digests TEXT NOT NULL
);
CREATE TABLE signing_policies (
    key_id                TEXT PRIMARY KEY REFERENCES keys(key_id),
    require_liveness      BOOLEAN NOT NULL,
    max_evidence_age_secs BIGINT NOT NULL,
    allow_batch           BOOLEAN NOT NULL
);
CREATE TABLE operator_credentials (
    credential_id TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    fingerprint   BYTEA NOT NULL UNIQUE,
    roles         TEXT NOT NULL,
    created_ms    BIGINT NOT NULL,
    revoked_ms    BIGINT
);
CREATE TABLE tickets (
    ticket_id        TEXT PRIMARY KEY,
    secret_hash      BYTEA NOT NULL,
    user_id          TEXT NOT NULL,
    certificate_name TEXT NOT NULL,
    id_binding       BYTEA,
    issued_by        TEXT NOT NULL,
    issued_ms        BIGINT NOT NULL,
    expires_ms       BIGINT NOT NULL,
    used_ms          BIGINT,
    key_id           TEXT
);
CREATE INDEX tickets_by_expiry ON tickets (expires_ms);
CREATE TABLE request_nonces (
    signer     TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (signer, nonce)
);
CREATE INDEX request_nonces_by_expiry ON request_nonces (expires_ms);
CREATE TABLE seals (
    seal_id            TEXT PRIMARY KEY,
    institution        TEXT NOT NULL,
    credit_code        TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    algorithm          TEXT NOT NULL,
    key_kind           TEXT NOT NULL,
    key_ref            TEXT NOT NULL,
    sealed_key         BYTEA,
    public_key         BYTEA NOT NULL,
    certificate        BYTEA NOT NULL,
    issuer_certificate BYTEA NOT NULL,
    serial             BYTEA NOT NULL UNIQUE,
    created_ms         BIGINT NOT NULL,
    disabled_ms        BIGINT
);

CREATE FUNCTION inkseal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'inkseal: % is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION inkseal_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION inkseal_refuse_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION inkseal_refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION inkseal_refuse_change();
CREATE TRIGGER evidence_append_only BEFORE UPDATE OR DELETE ON evidence
    FOR EACH ROW EXECUTE FUNCTION inkseal_refuse_change();
CREATE TRIGGER evidence_no_truncate BEFORE TRUNCATE ON evidence
    FOR EACH STATEMENT EXECUTE FUNCTION inkseal_refuse_change();
CREATE TRIGGER seals_kept BEFORE DELETE ON seals
    FOR EACH ROW EXECUTE FUNCTION inkseal_refuse_change();

CREATE FUNCTION inkseal_keep_answered_challenge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM evidence WHERE challenge_id = OLD.challenge_id) THEN
        RAISE EXCEPTION 'inkseal: answered challenges are kept as evidence';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER challenges_keep_answered BEFORE DELETE ON liveness_challenges
    FOR EACH ROW EXECUTE FUNCTION inkseal_keep_answered_challenge();
"#;

/// What went wrong inside a transaction: a database error (perhaps worth a retry) or a
/// decision of the store's own.
pub(super) enum Fail {
    Db(postgres::Error),
    Store(StoreError),
    /// Roll back: the signature's evidence use was taken.
    EvidenceUsed,
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

/// Whether running the transaction again may succeed: another replica appended to the audit
/// chain first, or the engine asks for a retry (serialization failure, deadlock).
fn retryable(e: &postgres::Error) -> bool {
    let Some(db) = e.as_db_error() else {
        return false;
    };
    let code = db.code();
    *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || (*code == SqlState::UNIQUE_VIOLATION
            && matches!(
                db.constraint(),
                Some(AUDIT_SEQ_CONSTRAINT) | Some(AUDIT_LINK_CONSTRAINT)
            ))
}

/// A database error as a [`StoreError`]: an integrity constraint is a `Conflict`.
pub(super) fn db(e: postgres::Error) -> StoreError {
    match e.code() {
        Some(code) if code.code().starts_with("23") => StoreError::Conflict,
        _ => StoreError::Backend(e.to_string()),
    }
}

fn fail(f: Fail) -> StoreError {
    match f {
        Fail::Db(e) => db(e),
        Fail::Store(e) => e,
        Fail::EvidenceUsed => StoreError::Conflict,
    }
}

/// A short random pause before running a contended transaction again.
fn backoff(attempt: u32) {
    let mut b = [0u8; 2];
    let jitter = match getrandom::fill(&mut b) {
        Ok(()) => u64::from(u16::from_le_bytes(b)),
        Err(_) => 0,
    };
    let ceiling_us = 50u64 << attempt.min(6);
    std::thread::sleep(Duration::from_micros(jitter % ceiling_us));
}

/// A time or count as PostgreSQL's BIGINT.
pub(super) fn int(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

/// A BIGINT read back as a time or count.
pub(super) fn uint(v: i64) -> u64 {
    v.max(0) as u64
}

type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

/// The PostgreSQL store (see the module documentation).
pub struct PostgresStore {
    pool: Option<Pool>,
    lanes: LanePool,
}

impl Drop for PostgresStore {
    /// Closing a connection of the synchronous client blocks on its own runtime, which panics
    /// on an async worker (the server drops its service at the end of `shutdown().await`): close
    /// them on a plain thread.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let closer = std::thread::Builder::new()
                    .name("inkseal-pg-close".into())
                    .spawn(move || drop(pool));
                if let Ok(closer) = closer {
                    let _ = closer.join();
                }
            } else {
                drop(pool);
            }
        }
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

/// The outcome of [`PostgresStore::migrate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationReport {
    /// Migrations applied by this call (version, name).
    pub applied: Vec<(i64, String)>,
    /// The schema version now.
    pub version: i64,
}

impl PostgresStore {
    /// The idempotent answer stored in `table` for `(key_id, idempotency_key)`.
    pub(super) fn find_answer(
        &self,
        table: super::AnswerTable,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredSignature>, StoreError> {
        self.read(|c| {
            c.query_opt(table.find_sql(true), &[&key_id, &idempotency_key])?
                .map(|r| stored_signature(&r))
                .transpose()
        })
    }

    /// Connect, apply pending migrations, and keep a pool.
    pub fn open(config: &PostgresConfig) -> Result<Self, StoreError> {
        let store = Self::connect(config)?;
        store.migrate()?;
        Ok(store)
    }

    /// Connect without migrating (`inkseal migrate` migrates; the server checks the version).
    pub fn connect(config: &PostgresConfig) -> Result<Self, StoreError> {
        let Parsed { config: pg, tls } = config.parse()?;
        let lanes = LanePool::new(&config.replica_name()?, config.pool_size);
        let client_config = match &tls {
            TlsChoice::VerifyFull(ca) => tls_client_config(ca)?,
            // Never used: the connections are made with sslmode=disable.
            TlsChoice::Off => rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Tls(e.to_string()))?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        };
        let connector = MakeRustlsConnect::new(client_config);
        let manager = PostgresConnectionManager::new(pg.clone(), connector.clone());
        let pool = r2d2::Pool::builder()
            .max_size(config.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(config.connect_timeout)
            // A broken connection shows itself on its next statement; no round trip per
            // checkout.
            .test_on_check_out(false)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build(manager);
        match pool {
            Ok(pool) => Ok(PostgresStore {
                pool: Some(pool),
                lanes,
            }),
            Err(e) => {
                // The pool says only that it timed out: one direct attempt (on a plain thread:
                // the sync client runs its own runtime) says why, and tells a TLS refusal
                // from the rest.
                let probe = std::thread::scope(|s| {
                    s.spawn(|| pg.connect(connector).err())
                        .join()
                        .ok()
                        .flatten()
                });
                let url = config.redacted_url();
                match probe {
                    Some(probe) if is_tls_failure(&probe) => Err(StoreError::Tls(format!(
                        "cannot connect to the database {url}: {}",
                        error_chain(&probe)
                    ))),
                    Some(probe) => Err(StoreError::Backend(format!(
                        "cannot connect to the database {url}: {}",
                        error_chain(&probe)
                    ))),
                    None => Err(StoreError::Backend(format!(
                        "cannot connect to the database {url}: {e}"
                    ))),
                }
            }
        }
    }

    /// Apply every migration not yet applied, each once, in its own transaction. Safe to run
    /// from several replicas at once: the migration's row is inserted first, so a second
    /// runner waits for the first and then skips it.
    pub fn migrate(&self) -> Result<MigrationReport, StoreError> {
        self.migrate_to(i64::MAX)
    }

    /// The audit lanes this handle appends to (`<replica>/<slot>`).
    pub fn lane_names(&self) -> &[String] {
        &self.lanes.names
    }

    /// [`PostgresStore::migrate`], but only the migrations up to version `target` (to test a
    /// migration on a database as an older build left it).
    pub fn migrate_to(&self, target: i64) -> Result<MigrationReport, StoreError> {
        let mut conn = self.conn()?;
        let create = "CREATE TABLE IF NOT EXISTS inkseal_migrations (
                          version    BIGINT PRIMARY KEY,
                          name       TEXT NOT NULL,
                          applied_ms BIGINT NOT NULL
                      )";
        // Two first starts racing on CREATE TABLE IF NOT EXISTS: one may fail; the second
        // try sees the table.
        if conn.batch_execute(create).is_err() {
            conn.batch_execute(create).map_err(db)?;
        }
        let mut applied = Vec::new();
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 <= target) {
            let mut tx = conn.transaction().map_err(db)?;
            let claimed = tx
                .execute(
                    "INSERT INTO inkseal_migrations (version, name, applied_ms)
                     VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING",
                    &[version, name, &int(super::now_ms())],
                )
                .map_err(db)?;
            if claimed == 1 {
                tx.batch_execute(sql).map_err(|e| {
                    StoreError::Backend(format!("migration {version} ({name}) failed: {e}"))
                })?;
                tx.commit().map_err(db)?;
                applied.push((*version, (*name).to_owned()));
            }
        }
        let version = self.schema_version_on(&mut conn)?;
        let latest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
        if version > latest {
            return Err(StoreError::Incompatible(format!(
                "database schema version {version} is newer than this build's {latest}: use the \
                 inkseal version that migrated it"
            )));
        }
        Ok(MigrationReport { applied, version })
    }

    /// The highest migration applied (0 before any).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let mut conn = self.conn()?;
        self.schema_version_on(&mut conn)
    }

    fn schema_version_on(&self, c: &mut Client) -> Result<i64, StoreError> {
        let row = c
            .query_one(
                "SELECT coalesce(max(version), 0) FROM inkseal_migrations",
                &[],
            )
            .map_err(db)?;
        row.try_get(0).map_err(db)
    }

    pub(super) fn conn(
        &self,
    ) -> Result<r2d2::PooledConnection<PostgresConnectionManager<MakeRustlsConnect>>, StoreError>
    {
        self.pool
            .as_ref()
            .ok_or_else(|| StoreError::Backend("the store is closed".into()))?
            .get()
            .map_err(|e| StoreError::Backend(format!("database unavailable: {e}")))
    }

    /// Run `f` on a pooled connection (reads; single statements).
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        f(&mut conn).map_err(fail)
    }

    /// Run `f` in a read-committed transaction, committed when it returns `Ok`; run again from
    /// the start when another replica won the audit chain's next entry (or the engine asks for
    /// a retry).
    pub(super) fn transact<T>(
        &self,
        f: impl FnMut(&mut Transaction<'_>) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        self.transact_raw(f).map_err(fail)
    }

    /// [`PostgresStore::transact`], leaving the caller the failure as it was.
    fn transact_raw<T>(
        &self,
        mut f: impl FnMut(&mut Transaction<'_>) -> Result<T, Fail>,
    ) -> Result<T, Fail> {
        self.transact_ending(|tx| Ok((f(tx)?, End::Commit)))
    }

    /// [`PostgresStore::transact_raw`] where `f` also says how the transaction ends: a
    /// transaction that only locked rows rolls back, so that its end waits for no WAL flush.
    fn transact_ending<T>(
        &self,
        mut f: impl FnMut(&mut Transaction<'_>) -> Result<(T, End), Fail>,
    ) -> Result<T, Fail> {
        let mut conn = self.conn()?;
        let lane = self.lanes.claim();
        let _current = CurrentLane::set(lane.name());
        for attempt in 0..MAX_ATTEMPTS {
            let outcome = (|| {
                let mut tx = conn.transaction()?;
                let (value, end) = f(&mut tx)?;
                match end {
                    End::Commit => tx.commit()?,
                    End::Rollback => tx.rollback()?,
                }
                Ok(value)
            })();
            match outcome {
                Ok(value) => return Ok(value),
                Err(Fail::Db(e)) if retryable(&e) => backoff(attempt),
                Err(other) => return Err(other),
            }
        }
        Err(Fail::Store(StoreError::Backend(format!(
            "audit lane {} stayed contended through {MAX_ATTEMPTS} attempts",
            lane.name()
        ))))
    }

    /// [`PostgresStore::transact`] with `audit` appended after `write`.
    pub(super) fn write_audited<T>(
        &self,
        audit: &AuditEvent,
        mut write: impl FnMut(&mut Transaction<'_>) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        self.transact(|tx| {
            let value = write(tx)?;
            append(tx, audit)?;
            Ok(value)
        })
    }
}

/// How a transaction of [`PostgresStore::transact_ending`] ends.
enum End {
    Commit,
    Rollback,
}

/// Sets [`CURRENT_LANE`] for as long as it lives.
struct CurrentLane;

impl CurrentLane {
    fn set(lane: &str) -> CurrentLane {
        CURRENT_LANE.with(|c| *c.borrow_mut() = Some(lane.to_owned()));
        CurrentLane
    }
}

impl Drop for CurrentLane {
    fn drop(&mut self) {
        CURRENT_LANE.with(|c| *c.borrow_mut() = None);
    }
}

/// Append one audit entry inside a transaction, to the lane the transaction took
/// ([`PostgresStore::transact`]), chained to that lane's head as this transaction reads it. A
/// concurrent append to the same lane makes the insert fail on `audit_chain_seq` (or
/// `audit_chain_link`), and [`PostgresStore::transact`] runs the transaction again.
pub(super) fn append(tx: &mut Transaction<'_>, event: &AuditEvent) -> Result<(), Fail> {
    let lane = CURRENT_LANE
        .with(|c| c.borrow().clone())
        .ok_or_else(|| StoreError::Backend("an audit append outside a store transaction".into()))?;
    let (seq, prev) = match head(tx, &lane)? {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1u64, GENESIS),
    };
    let at = super::now_ms();
    let detail = event.detail.to_string();
    let kind = event.kind.as_str();
    let hash = lane_entry_hash(
        &lane,
        &prev,
        seq,
        at,
        EntryFields {
            kind,
            key_id: event.key_id.as_deref(),
            actor: &event.actor,
            client: &event.client,
            detail: &detail,
        },
    );
    tx.execute(
        "INSERT INTO audit (lane, seq, at_ms, kind, key_id, actor, client, detail, prev_hash,
                            hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &lane,
            &int(seq),
            &int(at),
            &kind,
            &event.key_id,
            &event.actor,
            &event.client,
            &detail,
            &&prev[..],
            &&hash[..],
        ],
    )?;
    Ok(())
}

fn head(c: &mut impl postgres::GenericClient, lane: &str) -> Result<Option<(u64, [u8; 32])>, Fail> {
    let Some(row) = c.query_opt(
        "SELECT seq, hash FROM audit WHERE lane = $1 ORDER BY seq DESC LIMIT 1",
        &[&lane],
    )?
    else {
        return Ok(None);
    };
    let seq: i64 = row.try_get(0)?;
    let hash: Vec<u8> = row.try_get(1)?;
    let hash: [u8; 32] = hash
        .try_into()
        .map_err(|_| StoreError::Backend("corrupt audit hash".into()))?;
    Ok(Some((uint(seq), hash)))
}

/// The columns [`audit_from_row`] reads.
pub(super) const AUDIT_COLUMNS: &str =
    "seq, at_ms, kind, key_id, actor, client, detail, prev_hash, hash, lane";

/// An audit row ([`AUDIT_COLUMNS`]).
pub(super) fn audit_from_row(r: &Row) -> Result<AuditEntry, Fail> {
    Ok(AuditEntry {
        seq: uint(r.try_get(0)?),
        at_ms: uint(r.try_get(1)?),
        kind: r.try_get(2)?,
        key_id: r.try_get(3)?,
        actor: r.try_get(4)?,
        client: r.try_get(5)?,
        detail: r.try_get(6)?,
        prev_hash: hex::encode(r.try_get::<_, Vec<u8>>(7)?),
        hash: hex::encode(r.try_get::<_, Vec<u8>>(8)?),
        lane: r.try_get(9)?,
    })
}

/// Every lane's head in one statement (one snapshot): the lanes found by a loose index scan of
/// the primary key (a recursive query, one index probe per lane), each lane's last entry by
/// another probe.
const AUDIT_HEADS: &str = "
WITH RECURSIVE lanes(lane) AS (
    SELECT min(lane) FROM audit
    UNION ALL
    SELECT (SELECT min(a.lane) FROM audit a WHERE a.lane > lanes.lane)
    FROM lanes WHERE lanes.lane IS NOT NULL
)
SELECT l.lane, h.seq, h.hash
FROM lanes l
CROSS JOIN LATERAL (
    SELECT seq, hash FROM audit WHERE audit.lane = l.lane ORDER BY seq DESC LIMIT 1
) h
WHERE l.lane IS NOT NULL
ORDER BY l.lane";

/// A checkpoint over several lanes as stored (`audit_lane_checkpoints`). Heads that do not
/// parse make a checkpoint with none, which no signature covers: verification reports it.
fn lane_checkpoint_from_row(r: &Row) -> Result<Checkpoint, Fail> {
    let heads: String = r.try_get(1)?;
    Ok(Checkpoint {
        format: CheckpointFormat::Lanes,
        heads: serde_json::from_str(&heads).unwrap_or_default(),
        at_ms: uint(r.try_get(0)?),
        signature_hex: r.try_get(2)?,
    })
}

fn v1_checkpoint_from_row(r: &Row) -> Result<Checkpoint, Fail> {
    Ok(super::sqlite::v1_checkpoint(
        uint(r.try_get(0)?),
        r.try_get(1)?,
        uint(r.try_get(2)?),
        r.try_get(3)?,
    ))
}

pub(super) fn rows<T>(rows: Vec<Row>, f: impl Fn(&Row) -> Result<T, Fail>) -> Result<Vec<T>, Fail> {
    rows.iter().map(f).collect()
}

const KEY_COLUMNS: &str = "key_id, user_id, certificate_name, ticket_id, public_key, \
    device_public_key, device_attestation, id_binding, sealed_share, sealed_pin, pin_salt, \
    pin_failures, locked, revoked_ms, certificate, purpose, curve";

fn key_from_row(r: &Row) -> Result<KeyRecord, Fail> {
    Ok(KeyRecord {
        key_id: r.try_get(0)?,
        user_id: r.try_get(1)?,
        certificate_name: r.try_get(2)?,
        ticket_id: r.try_get(3)?,
        public_key: r.try_get(4)?,
        device_public_key: r.try_get(5)?,
        device_attestation: r.try_get(6)?,
        id_binding: r.try_get(7)?,
        sealed_share: r.try_get(8)?,
        sealed_pin: r.try_get(9)?,
        pin_salt: r.try_get(10)?,
        pin_failures: u32::try_from(r.try_get::<_, i64>(11)?).unwrap_or(u32::MAX),
        locked: r.try_get(12)?,
        revoked: r.try_get::<_, Option<i64>>(13)?.is_some(),
        certificate: r.try_get(14)?,
        purpose: purpose_from_column(&r.try_get::<_, String>(15)?),
        curve: super::sqlite::curve_from_column(&r.try_get::<_, String>(16)?),
    })
}

/// A key's purpose as stored; a name this build does not know is taken for encryption, the
/// purpose that signs nothing.
fn purpose_from_column(name: &str) -> super::KeyPurpose {
    super::KeyPurpose::parse(name).unwrap_or(super::KeyPurpose::Encryption)
}

pub(super) fn stored_signature(r: &Row) -> Result<StoredSignature, Fail> {
    Ok(StoredSignature {
        request_hash: r.try_get(0)?,
        response: r.try_get(1)?,
    })
}

fn issued_certificate_row(r: &Row) -> Result<IssuedCertificate, Fail> {
    Ok(IssuedCertificate {
        serial: r.try_get(0)?,
        key_id: r.try_get(1)?,
        issued_ms: uint(r.try_get(2)?),
        revoked_ms: r.try_get::<_, Option<i64>>(3)?.map(uint),
        revocation_reason: r.try_get(4)?,
    })
}

fn counter_value(name: &str, value: &[u8]) -> Result<u64, StoreError> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StoreError::Backend(format!("counter {name} is corrupt")))
}

impl Store for PostgresStore {
    fn pool_state(&self) -> Option<(u32, u32)> {
        self.pool.as_ref().map(|pool| {
            let s = pool.state();
            (s.connections, s.idle_connections)
        })
    }

    fn insert_key(
        &self,
        key: &KeyRecord,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            // The ticket is consumed in the same transaction: one key per ticket, ever.
            let used = tx.execute(
                "UPDATE tickets SET used_ms = $2, key_id = $3
                 WHERE ticket_id = $1 AND used_ms IS NULL AND expires_ms >= $2",
                &[&key.ticket_id, &int(now_ms), &key.key_id],
            )?;
            if used != 1 {
                return Err(StoreError::Conflict.into());
            }
            tx.execute(
                "INSERT INTO keys (key_id, user_id, certificate_name, ticket_id, public_key,
                                   device_public_key, device_attestation, id_binding,
                                   sealed_share, sealed_pin, pin_salt, created_ms, purpose,
                                   curve)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                &[
                    &key.key_id,
                    &key.user_id,
                    &key.certificate_name,
                    &key.ticket_id,
                    &key.public_key,
                    &key.device_public_key,
                    &key.device_attestation,
                    &key.id_binding,
                    &key.sealed_share,
                    &key.sealed_pin,
                    &key.pin_salt,
                    &int(now_ms),
                    &key.purpose.as_str(),
                    &key.curve.as_str(),
                ],
            )?;
            Ok(())
        })
    }

    fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.read(|c| {
            c.query_opt(
                &format!("SELECT {KEY_COLUMNS} FROM keys WHERE key_id = $1"),
                &[&key_id],
            )?
            .map(|r| key_from_row(&r))
            .transpose()
        })
    }

    fn check_pin(
        &self,
        key_id: &str,
        sealed_pin: &[u8],
        max_failures: u32,
        compare: &mut dyn FnMut() -> bool,
        audit: &AuditEvent,
    ) -> Result<PinCheck, StoreError> {
        // A transaction the engine runs again reuses the first verdict: one PIN, one compare.
        let mut verdict: Option<bool> = None;
        let mut compare_once = || *verdict.get_or_insert_with(&mut *compare);
        self.transact_ending(|tx| {
            // The row lock is taken before the state is read: concurrent checks of this key,
            // on any replica, wait here, so each compare and its record are one step.
            let state = tx
                .query_opt(
                    "SELECT pin_failures, locked, revoked_ms IS NOT NULL, sealed_pin = $2
                     FROM keys WHERE key_id = $1 FOR UPDATE",
                    &[&key_id, &sealed_pin],
                )?
                .map(|r| {
                    Ok::<_, Fail>(PinState {
                        failures: u32::try_from(r.try_get::<_, i64>(0)?).unwrap_or(u32::MAX),
                        locked: r.try_get(1)?,
                        revoked: r.try_get(2)?,
                        current: r.try_get(3)?,
                    })
                })
                .transpose()?;
            let mut end = End::Rollback;
            let check = check_pin_in(state, max_failures, &mut compare_once, audit, &mut |w| {
                tx.execute(
                    "UPDATE keys SET pin_failures = $2, locked = $3 WHERE key_id = $1",
                    &[&key_id, &i64::from(w.failures), &w.locked],
                )?;
                for entry in &w.entries {
                    append(tx, entry)?;
                }
                end = End::Commit;
                Ok::<_, Fail>(())
            })?;
            // A right PIN on a key without failures wrote nothing: the row lock's transaction
            // rolls back instead of waiting for a commit's flush.
            Ok((check, end))
        })
        .map_err(fail)
    }

    fn set_pin(
        &self,
        key_id: &str,
        sealed_pin: &[u8],
        pin_salt: &[u8],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE keys SET sealed_pin = $2, pin_salt = $3
                 WHERE key_id = $1 AND revoked_ms IS NULL",
                &[&key_id, &sealed_pin, &pin_salt],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound.into());
            }
            Ok(())
        })
    }

    fn unlock(&self, key_id: &str, audit: &AuditEvent) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE keys SET locked = FALSE, pin_failures = 0, p256_session_failures = 0
                 WHERE key_id = $1 AND locked AND revoked_ms IS NULL",
                &[&key_id],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound.into());
            }
            Ok(())
        })
    }

    fn revoke(
        &self,
        key_id: &str,
        reason: &str,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE keys SET revoked_ms = $2 WHERE key_id = $1 AND revoked_ms IS NULL",
                &[&key_id, &int(now_ms)],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound.into());
            }
            tx.execute(
                "UPDATE certificates SET revoked_ms = $2, revocation_reason = $3
                 WHERE key_id = $1 AND revoked_ms IS NULL",
                &[&key_id, &int(now_ms), &reason],
            )?;
            Ok(())
        })
    }

    fn find_signature(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredSignature>, StoreError> {
        self.find_answer(super::AnswerTable::Signatures, key_id, idempotency_key)
    }

    fn record_signature(
        &self,
        sig: &NewSignature,
        audit: &AuditEvent,
    ) -> Result<Recorded, StoreError> {
        let outcome = self.transact_raw(|tx| {
            // A twin in flight on another replica: this INSERT waits for its transaction, then
            // inserts nothing when it committed.
            let inserted = tx.execute(
                "INSERT INTO signatures (key_id, idempotency_key, request_hash, response, e,
                                         message_kind, document_digest, evidence_head,
                                         created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (key_id, idempotency_key) DO NOTHING",
                &[
                    &sig.key_id,
                    &sig.idempotency_key,
                    &sig.request_hash,
                    &sig.response,
                    &sig.e,
                    &sig.message_kind,
                    &sig.document_digest,
                    &sig.evidence_head,
                    &int(super::now_ms()),
                ],
            )?;
            if inserted == 0 {
                let existing = tx.query_one(
                    "SELECT request_hash, response FROM signatures
                     WHERE key_id = $1 AND idempotency_key = $2",
                    &[&sig.key_id, &sig.idempotency_key],
                )?;
                return Ok(Recorded::Existing(stored_signature(&existing)?));
            }
            if let Some(u) = &sig.evidence_use {
                let taken = tx.execute(
                    "INSERT INTO evidence_uses (manifest_head, slot, key_id, idempotency_key)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (manifest_head, slot) DO NOTHING",
                    &[&u.manifest_head, &u.slot, &sig.key_id, &sig.idempotency_key],
                )?;
                if taken == 0 {
                    // Nothing is recorded: the transaction rolls back with this answer.
                    return Err(Fail::EvidenceUsed);
                }
            }
            append(tx, audit)?;
            Ok(Recorded::Inserted)
        });
        match outcome {
            Err(Fail::EvidenceUsed) => Ok(Recorded::EvidenceUsed),
            other => other.map_err(fail),
        }
    }

    fn record_certificate(
        &self,
        key_id: &str,
        serial: &[u8],
        certificate: &[u8],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE keys SET certificate = $2 WHERE key_id = $1 AND revoked_ms IS NULL",
                &[&key_id, &certificate],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound.into());
            }
            tx.execute(
                "INSERT INTO certificates (serial, key_id, certificate, issued_ms)
                 VALUES ($1, $2, $3, $4)",
                &[&serial, &key_id, &certificate, &int(super::now_ms())],
            )?;
            Ok(())
        })
    }

    fn revoked_certificates(&self) -> Result<Vec<IssuedCertificate>, StoreError> {
        self.read(|c| {
            rows(
                c.query(
                    "SELECT serial, key_id, issued_ms, revoked_ms, revocation_reason
                     FROM certificates WHERE revoked_ms IS NOT NULL ORDER BY revoked_ms, serial",
                    &[],
                )?,
                issued_certificate_row,
            )
        })
    }

    fn issued_certificate(&self, serial: &[u8]) -> Result<Option<IssuedCertificate>, StoreError> {
        self.read(|c| {
            c.query_opt(
                "SELECT serial, key_id, issued_ms, revoked_ms, revocation_reason
                 FROM certificates WHERE serial = $1",
                &[&serial],
            )?
            .map(|r| issued_certificate_row(&r))
            .transpose()
        })
    }

    fn append_audit(&self, audit: &AuditEvent) -> Result<(), StoreError> {
        self.transact(|tx| append(tx, audit))
    }

    fn audit_entries(
        &self,
        lane: &str,
        from: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|c| {
            rows(
                c.query(
                    &format!(
                        "SELECT {AUDIT_COLUMNS} FROM audit WHERE lane = $1 AND seq >= $2
                         ORDER BY seq LIMIT $3"
                    ),
                    &[&lane, &int(from), &i64::from(limit)],
                )?,
                audit_from_row,
            )
        })
    }

    fn audit_heads(&self) -> Result<Vec<LaneHead>, StoreError> {
        self.read(|c| {
            rows(c.query(AUDIT_HEADS, &[])?, |r| {
                Ok(LaneHead {
                    lane: r.try_get(0)?,
                    seq: uint(r.try_get(1)?),
                    head_hash: hex::encode(r.try_get::<_, Vec<u8>>(2)?),
                })
            })
        })
    }

    fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        self.read(|c| {
            match (checkpoint.format, checkpoint.heads.as_slice()) {
                (CheckpointFormat::V1, [head]) => c.execute(
                    "INSERT INTO audit_checkpoints (seq, head_hash, at_ms, signature)
                     VALUES ($1, $2, $3, $4)",
                    &[
                        &int(head.seq),
                        &head.head_hash,
                        &int(checkpoint.at_ms),
                        &checkpoint.signature_hex,
                    ],
                )?,
                (CheckpointFormat::V1, _) => {
                    return Err(StoreError::Backend("a v1 checkpoint names one head".into()).into());
                }
                (CheckpointFormat::Lanes, heads) => {
                    let json = serde_json::to_string(heads)
                        .map_err(|e| StoreError::Backend(e.to_string()))?;
                    c.execute(
                        "INSERT INTO audit_lane_checkpoints (heads_digest, at_ms, heads,
                                                             signature)
                         VALUES ($1, $2, $3, $4)",
                        &[
                            &&checkpoint.heads_digest()[..],
                            &int(checkpoint.at_ms),
                            &json,
                            &checkpoint.signature_hex,
                        ],
                    )?
                }
            };
            Ok(())
        })
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        self.read(|c| {
            let mut all = rows(
                c.query(
                    "SELECT seq, head_hash, at_ms, signature FROM audit_checkpoints ORDER BY seq",
                    &[],
                )?,
                v1_checkpoint_from_row,
            )?;
            all.extend(rows(
                c.query(
                    "SELECT at_ms, heads, signature FROM audit_lane_checkpoints
                     ORDER BY at_ms, heads_digest",
                    &[],
                )?,
                lane_checkpoint_from_row,
            )?);
            all.sort_by_key(|c| c.at_ms);
            Ok(all)
        })
    }

    fn last_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        self.read(|c| {
            let lanes = c
                .query_opt(
                    "SELECT at_ms, heads, signature FROM audit_lane_checkpoints
                     ORDER BY at_ms DESC LIMIT 1",
                    &[],
                )?
                .map(|r| lane_checkpoint_from_row(&r))
                .transpose()?;
            let v1 = c
                .query_opt(
                    "SELECT seq, head_hash, at_ms, signature FROM audit_checkpoints
                     ORDER BY seq DESC LIMIT 1",
                    &[],
                )?
                .map(|r| v1_checkpoint_from_row(&r))
                .transpose()?;
            Ok(match (lanes, v1) {
                (Some(l), Some(v)) => Some(if v.at_ms > l.at_ms { v } else { l }),
                (l, v) => l.or(v),
            })
        })
    }

    fn get_setting(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| {
            Ok(
                c.query_opt("SELECT value FROM settings WHERE name = $1", &[&name])?
                    .map(|r| r.try_get(0))
                    .transpose()?,
            )
        })
    }

    fn put_setting_if_absent(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.read(|c| {
            c.execute(
                "INSERT INTO settings (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING",
                &[&name, &value],
            )?;
            Ok(
                c.query_one("SELECT value FROM settings WHERE name = $1", &[&name])?
                    .try_get(0)?,
            )
        })
    }

    fn put_setting(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.read(|c| {
            c.execute(
                "INSERT INTO settings (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                &[&name, &value],
            )?;
            Ok(())
        })
    }

    fn next_counter(&self, name: &str) -> Result<u64, StoreError> {
        let value: Vec<u8> = self.read(|c| {
            Ok(c.query_one(
                "INSERT INTO settings (name, value) VALUES ($1, convert_to('1', 'UTF8'))
                 ON CONFLICT (name) DO UPDATE
                     SET value = convert_to(
                         (convert_from(settings.value, 'UTF8')::BIGINT + 1)::TEXT, 'UTF8')
                 RETURNING value",
                &[&name],
            )?
            .try_get(0)?)
        })?;
        counter_value(name, &value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://inkseal:s3cret@db.example:5432/inkseal"),
            "postgres://inkseal:***@db.example:5432/inkseal"
        );
        assert_eq!(
            redact("postgresql://u@localhost/x?password=p&sslmode=disable"),
            "postgresql://u@localhost/x?password=***&sslmode=disable"
        );
        assert_eq!(
            redact("host=/tmp user=u password=p dbname=x"),
            "host=/tmp user=u password=*** dbname=x"
        );
        let config = PostgresConfig::new("postgres://u:topsecret@127.0.0.1/x");
        assert!(!format!("{config:?}").contains("topsecret"));
    }

    #[test]
    fn plaintext_off_loopback_needs_the_insecure_flag() {
        let mut config = PostgresConfig::new("postgres://u:pw@db.example/x?sslmode=disable");
        let err = config
            .parse()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("not on loopback"), "{err}");
        assert!(!err.contains("pw@"), "{err}");
        config.insecure_without_tls = true;
        assert!(config.parse().is_ok());
        for local in [
            "postgres://u@127.0.0.1/x",
            "postgres://u@localhost/x",
            "postgres://u@[::1]/x",
            "host=/var/run/postgresql dbname=x",
        ] {
            assert!(PostgresConfig::new(local).parse().is_ok(), "{local}");
        }
    }

    #[test]
    fn tls_is_verified_in_full_whenever_it_is_used() {
        let tls = |url: &str, ca: Option<&str>| {
            let mut config = PostgresConfig::new(url);
            config.ca_file = ca.map(PathBuf::from);
            config.parse().map(|p| p.tls)
        };
        let full = |ca: &str| Some(TlsChoice::VerifyFull(PathBuf::from(ca)));
        // Loopback without a word about TLS: plaintext, as before.
        assert_eq!(
            tls("postgres://u@127.0.0.1/x", None).ok(),
            Some(TlsChoice::Off)
        );
        // A CA, or any sslmode that asks for TLS: verified in full.
        assert_eq!(
            tls("postgres://u@127.0.0.1/x", Some("/ca.pem")).ok(),
            full("/ca.pem")
        );
        for mode in ["require", "verify-ca", "verify-full"] {
            assert_eq!(
                tls(
                    &format!("postgres://u@db.example/x?sslmode={mode}&sslrootcert=%2Fr.pem"),
                    None
                )
                .ok(),
                full("/r.pem"),
                "{mode}"
            );
        }
        assert_eq!(
            tls(
                "host=db.example sslmode=verify-full sslrootcert=/r.pem dbname=x",
                None
            )
            .ok(),
            full("/r.pem")
        );
        // Off loopback, TLS is the default: without a CA it is a TLS error, not plaintext.
        assert!(matches!(
            tls("postgres://u@db.example/x", None),
            Err(StoreError::Tls(m)) if m.contains("--database-ca")
        ));
        assert_eq!(
            tls("postgres://u@db.example/x", Some("/ca.pem")).ok(),
            full("/ca.pem")
        );
        // A mode that would fall back to plaintext is refused; disable is refused off loopback.
        assert!(matches!(
            tls("postgres://u@127.0.0.1/x?sslmode=prefer", None),
            Err(StoreError::Tls(_))
        ));
        assert!(matches!(
            tls("postgres://u@db.example/x?sslmode=disable", Some("/ca.pem")),
            Err(StoreError::Backend(m)) if m.contains("not on loopback")
        ));
        assert_eq!(
            tls(
                "postgres://u@127.0.0.1/x?sslmode=disable&connect_timeout=3",
                None
            )
            .ok(),
            Some(TlsChoice::Off)
        );
    }
}
