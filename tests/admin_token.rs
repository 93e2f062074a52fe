//! ec2lite's own endpoints under `--verify-signatures`: mutations off without
//! `--admin-token`; with it, mutations and reads (metrics, subscriptions, the dashboard's
//! data) served only to callers presenting the token; health and the page always open.

use ec2lite_test_support::{http, HttpResponse, Server};

const ACCOUNTS: &str = r#"{"accounts":[{"id":"111111111111",
  "access_keys":[{"access_key_id":"AKIAEC2LITETEST","secret_access_key":"right-secret"}]}]}"#;

fn server(extra: &[&str]) -> Server {
    let mut args = vec!["--verify-signatures", "--no-catalog"];
    args.extend_from_slice(extra);
    Server::start_with_accounts(env!("CARGO_BIN_EXE_ec2lite").as_ref(), ACCOUNTS, &args)
}

const MUTATIONS: [(&str, &str); 6] = [
    ("POST", "/_ec2lite/reset"),
    ("POST", "/moto-api/reset"),
    ("POST", "/_ec2lite/sweep"),
    ("POST", "/_ec2lite/fail/snap-0123456789abcdef0"),
    ("PUT", "/_ec2lite/marketplace/111111111111/prodcode"),
    ("DELETE", "/_ec2lite/marketplace/111111111111/prodcode"),
];

fn assert_refused(r: &HttpResponse, mentions: &str) {
    assert_eq!(r.status, 403, "{}", r.body);
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body));
    assert_eq!(body["error"], "AccessDenied", "{}", r.body);
    assert!(body["message"].as_str().unwrap().contains(mentions), "{}", r.body);
}

#[test]
fn without_a_token_mutations_are_off_and_say_how_to_enable_them() {
    let s = server(&[]);
    for (method, path) in MUTATIONS {
        let r = http(s.address(), method, path, &[("Authorization", "Bearer anything")], b"");
        assert_refused(&r, "--admin-token");
    }
    assert_eq!(http(s.address(), "GET", "/_ec2lite/health", &[], b"").status, 200);
    assert_eq!(http(s.address(), "GET", "/_ec2lite/metrics", &[], b"").status, 200, "reads stay open");
    assert_eq!(http(s.address(), "GET", "/_ec2lite/api/scopes", &[], b"").status, 200, "reads stay open");
}

#[test]
fn with_a_token_only_its_bearer_may_mutate_or_read() {
    let s = server(&["--admin-token", "s3cret-token"]);
    for (method, path) in MUTATIONS {
        assert_refused(&http(s.address(), method, path, &[], b""), "requires the admin token");
        let wrong = http(s.address(), method, path, &[("Authorization", "Bearer s3cret-tokeN")], b"");
        assert_refused(&wrong, "not valid");
    }
    let bearer = http(s.address(), "POST", "/_ec2lite/reset", &[("Authorization", "Bearer s3cret-token")], b"");
    assert_eq!((bearer.status, bearer.body.as_str()), (200, r#"{"status":"reset"}"#));
    let header = http(s.address(), "POST", "/_ec2lite/sweep", &[("X-Ec2lite-Admin-Token", "s3cret-token")], b"");
    assert_eq!(header.status, 200, "{}", header.body);
    let reads =
        [("GET", "/_ec2lite/metrics"), ("GET", "/_ec2lite/api/scopes"), ("GET", "/_ec2lite/marketplace/111111111111")];
    for (method, path) in reads {
        assert_refused(&http(s.address(), method, path, &[], b""), "requires the admin token");
        let read = http(s.address(), method, path, &[("Authorization", "Bearer s3cret-token")], b"");
        assert_eq!(read.status, 200, "{path}: {}", read.body);
    }
    for open in ["/_ec2lite/health", "/_ec2lite/ui"] {
        assert_eq!(http(s.address(), "GET", open, &[], b"").status, 200, "{open}");
    }
    let subscribed = http(
        s.address(),
        "PUT",
        "/_ec2lite/marketplace/111111111111/prodcode",
        &[("X-Ec2lite-Admin-Token", "s3cret-token")],
        b"",
    );
    assert_eq!(subscribed.status, 200, "{}", subscribed.body);
}

#[test]
fn without_signature_checks_the_endpoints_stay_open() {
    let s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--no-catalog"]);
    assert_eq!(http(s.address(), "POST", "/_ec2lite/reset", &[], b"").status, 200);
}
