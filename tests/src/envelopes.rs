//! Recipient keys and certificates for digital-envelope tests, made by the openssl command:
//! one P-256 CA, P-256 recipients (keyUsage keyAgreement) and SM2 recipients (keyUsage
//! keyEncipherment; the SM2 key is put into the certificate with `-force_pubkey`, since
//! openssl 3.0 cannot sign an SM2 certificate request the way it signs others).

use std::path::PathBuf;
use std::process::Command;

/// Recipient keys and certificates under one P-256 CA, made by openssl.
pub struct EnvelopePki {
    /// The directory holding every file (removed when dropped).
    pub dir: tempfile::TempDir,
}

impl EnvelopePki {
    /// A CA in a new temporary directory.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = EnvelopePki { dir };
        std::fs::write(
            pki.path("ext.cnf"),
            "[p256]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyAgreement\n\
             subjectKeyIdentifier=hash\n\
             [sm2]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyEncipherment,dataEncipherment\n\
             subjectKeyIdentifier=hash\n\
             [signing]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
        )
        .expect("ext");
        pki.openssl(&[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ca.key",
        ]);
        pki.openssl(&[
            "req",
            "-x509",
            "-new",
            "-sha256",
            "-days",
            "30",
            "-key",
            "ca.key",
            "-subj",
            "/CN=Envelope Test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            "ca.pem",
        ]);
        pki.openssl(&[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "csr.key",
        ]);
        pki.openssl(&[
            "req", "-new", "-key", "csr.key", "-subj", "/CN=csr", "-out", "any.csr",
        ]);
        pki
    }

    /// A file in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Run openssl in the directory; panics if it fails.
    pub fn openssl(&self, args: &[&str]) -> std::process::Output {
        let out = Command::new("openssl")
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .expect("openssl (install the openssl package)");
        assert!(
            out.status.success(),
            "openssl {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// A recipient `name` with a key of `kind` ("p256" or "sm2") and a certificate with that
    /// kind's extensions (`extensions` overrides them: "signing").
    pub fn recipient(
        &self,
        name: &str,
        kind: &str,
        extensions: Option<&str>,
    ) -> (PathBuf, PathBuf) {
        let key = format!("{name}.key");
        let cert = format!("{name}.pem");
        let subject = format!("/CN={name}/O=inkseal");
        let extensions = extensions.unwrap_or(kind);
        match kind {
            "p256" => {
                self.openssl(&[
                    "ecparam",
                    "-name",
                    "prime256v1",
                    "-genkey",
                    "-noout",
                    "-out",
                    &key,
                ]);
                let csr = format!("{name}.csr");
                self.openssl(&["req", "-new", "-key", &key, "-subj", &subject, "-out", &csr]);
                self.openssl(&[
                    "x509",
                    "-req",
                    "-sha256",
                    "-days",
                    "30",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-extfile",
                    "ext.cnf",
                    "-extensions",
                    extensions,
                    "-out",
                    &cert,
                ]);
            }
            _ => {
                self.openssl(&[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:SM2",
                    "-pkeyopt",
                    "ec_param_enc:named_curve",
                    "-out",
                    &key,
                ]);
                let public = format!("{name}.pub");
                self.openssl(&["pkey", "-in", &key, "-pubout", "-out", &public]);
                self.openssl(&[
                    "x509",
                    "-req",
                    "-sha256",
                    "-days",
                    "30",
                    "-in",
                    "any.csr",
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-force_pubkey",
                    &public,
                    "-subj",
                    &subject,
                    "-extfile",
                    "ext.cnf",
                    "-extensions",
                    extensions,
                    "-out",
                    &cert,
                ]);
            }
        }
        (self.path(&key), self.path(&cert))
    }
}
