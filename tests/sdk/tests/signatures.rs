//! `--verify-signatures` with the SDK's own signing: the right secret passes (whatever
//! the SDK encodes and signs), a wrong one is refused with SignatureDoesNotMatch.

use aws_sdk_ec2::types::Filter;
use ec2lite_sdk_tests::{code, Server};

#[tokio::test]
async fn sdk_signed_requests_are_verified() {
    let dir = ec2lite_test_support::TempDir::new("sdk-accounts");
    let file = dir.join("accounts.json");
    std::fs::write(
        &file,
        r#"{"accounts":[{"id":"123456789012","access_keys":[{"access_key_id":"AKIASDKTEST","secret_access_key":"s3cret/+="}]}]}"#,
    )
    .unwrap();
    let server = Server::start_default(&["--accounts", file.to_str().unwrap(), "--verify-signatures"]);
    let client = |secret: &str| {
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new("eu-west-1"))
            .endpoint_url(&server.endpoint)
            .credentials_provider(aws_sdk_ec2::config::Credentials::new("AKIASDKTEST", secret, None, None, "static"))
            .build();
        aws_sdk_ec2::Client::from_conf(config)
    };
    let good = client("s3cret/+=");
    let images = good
        .describe_images()
        .owners("self")
        .filters(Filter::builder().name("name").values("a name with spaces*").values("x/y?").build())
        .send()
        .await
        .unwrap();
    assert!(images.images().is_empty());
    let volume = good.create_volume().availability_zone("eu-west-1a").size(1).send().await.unwrap();
    assert!(volume.volume_id().is_some());
    let bad = client("not-the-secret").describe_regions().send().await.unwrap_err();
    assert_eq!(code(&bad), "SignatureDoesNotMatch");
}
