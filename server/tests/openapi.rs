//! The OpenAPI document describes exactly the routes the router serves, each with the
//! credential it needs (checked against `http::ROUTES`, the one list the router and this
//! test share).

use inkseal_server::http::{Credential, OPENAPI, ROUTES};
use serde_json::Value;

#[test]
fn every_route_is_documented_with_its_credential_and_nothing_else_is() {
    let doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented = 0;
    for (path, ops) in paths {
        for (method, op) in ops.as_object().expect("operations") {
            if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            documented += 1;
            let Some((_, _, credential)) =
                ROUTES.iter().find(|(m, p, _)| *m == method && *p == path)
            else {
                panic!("{method} {path} is documented but not served");
            };
            let security = op["security"]
                .as_array()
                .expect("security on every operation");
            let schemes: Vec<&str> = security
                .iter()
                .flat_map(|s| s.as_object().expect("requirement").keys())
                .map(String::as_str)
                .collect();
            match credential {
                Credential::Public => assert!(schemes.is_empty(), "{method} {path}: {schemes:?}"),
                Credential::Device | Credential::EnrollmentDevice => {
                    assert_eq!(schemes, ["deviceSignature"], "{method} {path}")
                }
                Credential::Operator(role) => {
                    assert_eq!(
                        schemes,
                        ["operatorApiKey", "operatorClientCertificate"],
                        "{method} {path}"
                    );
                    assert_eq!(op["x-required-role"], role.as_str(), "{method} {path}");
                }
            }
            if !matches!(credential, Credential::Public) {
                assert!(
                    op["responses"]["401"].is_object(),
                    "{method} {path} documents its 401"
                );
            }
        }
    }
    assert_eq!(documented, ROUTES.len(), "every served route is documented");
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    for s in [
        "operatorApiKey",
        "operatorClientCertificate",
        "deviceSignature",
    ] {
        assert!(schemes.contains_key(s), "{s}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_is_routed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = inkseal_server::ServerConfig::new(dir.path());
    config.listen = ([127, 0, 0, 1], 0).into();
    let server = inkseal_server::start(config).await.expect("start");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    for (method, path, credential) in ROUTES {
        let url = format!(
            "{}{}",
            server.url(),
            path.replace("{key_id}", "k-1")
                .replace("{idempotency_key}", "idem-0001")
                .replace("{credential_id}", "op-1")
                .replace("{seal_id}", "s-1")
                .replace("{sign_id}", "00")
        );
        let req = match *method {
            "get" => http.get(&url),
            "post" => http.post(&url),
            "put" => http.put(&url),
            "delete" => http.delete(&url),
            other => panic!("unexpected method {other}"),
        };
        let resp = req
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("send");
        let status = resp.status().as_u16();
        assert!(status != 404 && status != 405, "{method} {path}: {status}");
        if !matches!(credential, Credential::Public) {
            assert_eq!(status, 401, "{method} {path} without a credential");
            let body: Value = resp.json().await.expect("a typed error body");
            assert_eq!(body["code"], "unauthenticated");
        }
    }
    server.shutdown().await.expect("shutdown");
}
