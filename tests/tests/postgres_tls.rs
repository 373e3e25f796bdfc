//! TLS to PostgreSQL: a throwaway cluster with `ssl = on`, a certificate for 127.0.0.1 and
//! localhost made by openssl and signed by a test CA, and `hostssl` lines only in
//! `pg_hba.conf` (plaintext TCP is refused by the database itself).
//!
//! Verified against the right CA, the store connects (by address and by name, the CA given as
//! an option or as `sslrootcert` in the URL) and a server runs on it; against another CA, or
//! under a name the certificate does not carry, it is refused with a typed TLS error;
//! plaintext (`sslmode=disable`) is refused by the server.

use inkseal_server::store::{PostgresConfig, PostgresStore, Store, StoreError};
use inkseal_server::{DatabaseChoice, RunningServer};
use inkseal_tests::postgres::{PgCluster, ServerTls};
use inkseal_tests::{Backend, client_at, enroll, loopback_config};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (Debian: apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed test CA in `dir`: `NAME.pem`, `NAME.key`.
fn make_ca(dir: &Path, name: &str) -> PathBuf {
    let cnf = dir.join(format!("{name}.cnf"));
    std::fs::write(
        &cnf,
        format!(
            "[req]\ndistinguished_name = dn\nx509_extensions = v3_ca\nprompt = no\n\
             [dn]\nCN = inkseal test {name}\n\
             [v3_ca]\nbasicConstraints = critical,CA:TRUE\n\
             keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n"
        ),
    )
    .expect("CA config");
    let (pem, key) = (format!("{name}.pem"), format!("{name}.key"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-config",
            &cnf.display().to_string(),
        ],
    );
    dir.join(pem)
}

/// A server certificate for 127.0.0.1 and localhost signed by CA `ca`: (cert PEM, key PEM).
fn make_server_cert(dir: &Path, ca: &str) -> (String, String) {
    std::fs::write(
        dir.join("leaf.cnf"),
        "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
         extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n\
         authorityKeyIdentifier = keyid\n",
    )
    .expect("leaf config");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "leaf.cnf",
        ],
    );
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("PEM");
    (read("server.crt"), read("server.key"))
}

fn config(url: &str, ca: Option<&Path>) -> PostgresConfig {
    let mut pg = PostgresConfig::new(url);
    pg.pool_size = 2;
    pg.connect_timeout = Duration::from_secs(3);
    pg.ca_file = ca.map(Path::to_path_buf);
    pg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_is_verified_and_plaintext_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = dir.path();
    let ca = make_ca(certs, "ca");
    let wrong_ca = make_ca(certs, "other-ca");
    let (cert_pem, key_pem) = make_server_cert(certs, "ca");
    let cluster = PgCluster::start_tls(&ServerTls {
        cert_pem,
        key_pem,
        hostssl_only: true,
    });
    // (psql, which makes the database, negotiates TLS by itself.)
    let url = cluster.create_database();
    let db = url.rsplit('/').next().expect("database name").to_owned();
    let by_name = format!(
        "postgres://inkseal@localhost:{}/{db}?sslmode=verify-full&sslrootcert={}",
        cluster.port(),
        ca.display()
    );

    // Verified against the right CA: it connects (TCP here is TLS or nothing), migrates,
    // writes and reads; by address with --database-ca, by name with sslrootcert in the URL.
    tokio::task::block_in_place(|| {
        for pg in [config(&url, Some(&ca)), config(&by_name, None)] {
            let store =
                PostgresStore::open(&pg).unwrap_or_else(|e| panic!("{}: {e}", pg.redacted_url()));
            store.put_setting("tls-test", b"over TLS").expect("write");
            assert_eq!(
                store.get_setting("tls-test").expect("read").as_deref(),
                Some(&b"over TLS"[..])
            );
        }

        // Another CA: refused, as a TLS error naming the certificate problem.
        refused_as_tls(
            PostgresStore::open(&config(&url, Some(&wrong_ca))),
            "another CA",
            "certificate",
        );

        // The right CA, but a host name the certificate does not carry (the connection goes
        // to its address): refused too, the name is verified.
        let wrong_name = format!(
            "postgres://inkseal@db.example:{}/{db}?hostaddr=127.0.0.1",
            cluster.port()
        );
        refused_as_tls(
            PostgresStore::open(&config(&wrong_name, Some(&ca))),
            "another name",
            "not valid for name",
        );

        // Plaintext: the client allows it on loopback when told, the server refuses it.
        match PostgresStore::open(&config(&format!("{url}?sslmode=disable"), None)) {
            Err(StoreError::Backend(message)) => {
                println!("plaintext: {message}");
                assert!(message.contains("no encryption"), "{message}")
            }
            Err(other) => panic!("expected the server's refusal, got {other}"),
            Ok(_) => panic!("the server accepted a plaintext connection"),
        }
    });

    // The server itself on the TLS database: ready, enrolls, signs.
    let server_dir = dir.path().join("server");
    let mut server_config = loopback_config(&server_dir);
    server_config.database = DatabaseChoice::Postgres(config(&url, Some(&ca)));
    let server: RunningServer = inkseal_server::start(server_config)
        .await
        .unwrap_or_else(|e| panic!("server on TLS PostgreSQL: {e}"));
    let ready = inkseal_tests::http_client()
        .get(format!("{}/v1/ready", server.url()))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), 200);
    let backend = tokio::task::block_in_place(|| Backend::new(&server));
    let client = client_at(&server.url(), &dir.path().join("device"));
    let pin = inkseal_sdk::Pin::new("802461");
    let key = enroll(&backend, &client, "tls-user", &pin).await.key_id;
    client
        .sign_message(&key, &pin, b"signed with the store over TLS", None)
        .await
        .expect("sign");
    server.shutdown().await.expect("shutdown");
}

/// `opened` failed with a TLS error whose message holds `expected`.
fn refused_as_tls(opened: Result<PostgresStore, StoreError>, case: &str, expected: &str) {
    match opened {
        Err(StoreError::Tls(message)) => {
            println!("{case}: {message}");
            assert!(message.contains(expected), "{case}: {message}")
        }
        Err(other) => panic!("{case}: expected a TLS error, got {other}"),
        Ok(_) => panic!("{case}: the connection was accepted"),
    }
}
