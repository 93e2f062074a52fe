//! Presigned (query-string) SigV4 under `--verify-signatures`: a URL signed with the
//! right secret works until `X-Amz-Expires` seconds after `X-Amz-Date`; a wrong secret,
//! a changed parameter or an expired URL are refused. URLs are presigned here with
//! `aws-sigv4`, the Rust SDK's own signer.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings};
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

/// `path_and_query` presigned for GET at `time`, valid `expires`.
fn presign(host: &str, path_and_query: &str, secret: &str, time: SystemTime, expires: Duration) -> String {
    let identity = Credentials::new("AKIAEC2LITETEST", secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name("ec2")
        .time(time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let uri = format!("http://{host}{path_and_query}");
    let request = SignableRequest::new("GET", &uri, [("host", host)].into_iter(), SignableBody::Bytes(b"")).unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut url = axum::http::Request::builder().uri(&uri).body(()).unwrap();
    instructions.apply_to_request_http1x(&mut url);
    url.uri().path_and_query().unwrap().to_string()
}

fn get(s: &Server, target: &str) -> HttpResponse {
    http(s.address(), "GET", target, &[], b"")
}

const QUERY: &str = "/?Action=DescribeRegions&Version=2016-11-15&RegionName.1=eu-west-1";

#[test]
fn a_presigned_url_works_until_it_expires() {
    let s = server();
    let host = s.address().to_string();
    let now = SystemTime::now();
    let good = get(&s, &presign(&host, QUERY, "right-secret", now, Duration::from_secs(300)));
    assert_eq!(good.status, 200, "{}", good.body);
    assert!(good.body.contains("<regionName>eu-west-1</regionName>"), "{}", good.body);

    let url = presign(
        &host,
        "/?Action=DescribeAvailabilityZones&Version=2016-11-15",
        "right-secret",
        now,
        Duration::from_secs(300),
    );
    let zones = get(&s, &url);
    assert!(zones.body.contains("<zoneName>eu-west-1a</zoneName>"), "the scope names the region: {}", zones.body);

    let wrong = get(&s, &presign(&host, QUERY, "wrong-secret", now, Duration::from_secs(300)));
    assert_eq!((wrong.status, wrong.element("Code")), (403, Some("SignatureDoesNotMatch")), "{}", wrong.body);

    let tampered =
        presign(&host, QUERY, "right-secret", now, Duration::from_secs(300)).replace("eu-west-1&", "us-east-1&");
    let tampered = get(&s, &tampered);
    assert_eq!((tampered.status, tampered.element("Code")), (403, Some("SignatureDoesNotMatch")), "{}", tampered.body);

    let ten_minutes_ago = now - Duration::from_secs(600);
    let expired = get(&s, &presign(&host, QUERY, "right-secret", ten_minutes_ago, Duration::from_secs(60)));
    assert_eq!((expired.status, expired.element("Code")), (400, Some("RequestExpired")), "{}", expired.body);
    let still_valid = get(&s, &presign(&host, QUERY, "right-secret", ten_minutes_ago, Duration::from_secs(3600)));
    assert_eq!(still_valid.status, 200, "{}", still_valid.body);

    let too_long = get(&s, &presign(&host, QUERY, "right-secret", now, Duration::from_secs(8 * 24 * 3600)));
    assert_eq!((too_long.status, too_long.element("Code")), (401, Some("AuthFailure")), "{}", too_long.body);
}
