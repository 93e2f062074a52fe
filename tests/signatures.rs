//! `--verify-signatures`: requests signed with the right secret pass; a wrong secret, a
//! tampered body, an expired date, an unknown key and a missing signature are refused.
//! Requests are signed here with `aws-sigv4`, the Rust SDK's own signer.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use ec2lite_test_support::{http, HttpResponse, Server};

const ACCOUNTS: &str = r#"{"accounts":[{"id":"111111111111",
  "access_keys":[{"access_key_id":"AKIAEC2LITETEST","secret_access_key":"right-secret"}]}]}"#;

fn server() -> Server {
    Server::start_with_accounts(
        env!("CARGO_BIN_EXE_ec2lite").as_ref(),
        ACCOUNTS,
        &["--verify-signatures", "--no-catalog"],
    )
}

/// Headers of a SigV4-signed POST of `body`, signed with `secret` at `time`.
fn signed_headers(host: &str, body: &str, secret: &str, time: SystemTime) -> Vec<(String, String)> {
    let amz_date = {
        let t = time::OffsetDateTime::from(time);
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let headers = [
        ("content-type", "application/x-www-form-urlencoded; charset=utf-8".to_string()),
        ("host", host.to_string()),
        ("x-amz-date", amz_date),
    ];
    let identity = Credentials::new("AKIAEC2LITETEST", secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("ec2")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let request = SignableRequest::new(
        "POST",
        "/",
        headers.iter().map(|(k, v)| (*k, v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut out: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    for (name, value) in instructions.headers() {
        if !out.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
            out.push((name.to_string(), value.to_string()));
        }
    }
    out.retain(|(k, _)| k != "host");
    out
}

fn send(s: &Server, headers: &[(String, String)], body: &str) -> HttpResponse {
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    http(s.address(), "POST", "/", &refs, body.as_bytes())
}

const BODY: &str = "Action=DescribeRegions&Version=2016-11-15";

#[test]
fn the_right_secret_passes_and_everything_else_is_refused() {
    let s = server();
    let now = SystemTime::now();
    let good = send(&s, &signed_headers(s.address(), BODY, "right-secret", now), BODY);
    assert_eq!(good.status, 200, "{}", good.body);

    let wrong_secret = send(&s, &signed_headers(s.address(), BODY, "wrong-secret", now), BODY);
    assert_eq!((wrong_secret.status, wrong_secret.element("Code")), (403, Some("SignatureDoesNotMatch")));

    let tampered =
        send(&s, &signed_headers(s.address(), BODY, "right-secret", now), "Action=DescribeRegions&Version=2016-11-16");
    assert_eq!((tampered.status, tampered.element("Code")), (403, Some("SignatureDoesNotMatch")));

    let old = now - Duration::from_secs(20 * 60);
    let expired = send(&s, &signed_headers(s.address(), BODY, "right-secret", old), BODY);
    assert_eq!((expired.status, expired.element("Code")), (400, Some("RequestExpired")));

    let unsigned = http(s.address(), "POST", "/", &[], BODY.as_bytes());
    assert_eq!((unsigned.status, unsigned.element("Code")), (401, Some("AuthFailure")));

    let mut unknown = signed_headers(s.address(), BODY, "right-secret", now);
    for (k, v) in unknown.iter_mut() {
        if k.eq_ignore_ascii_case("authorization") {
            *v = v.replace("AKIAEC2LITETEST", "AKIAUNKNOWNKEY");
        }
    }
    let unknown = send(&s, &unknown, BODY);
    assert_eq!((unknown.status, unknown.element("Code")), (401, Some("AuthFailure")));
}
