//! The wire contract in-process: requests go straight to the axum router (tower's
//! `oneshot`, no socket, no process), over a real SQLite file. Fast enough to test every
//! refusal of the request intake and the operation table.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use clap::Parser;
use tower::ServiceExt;

use ec2lite::config::Config;
use ec2lite_test_support::TempDir;

struct Answer {
    status: StatusCode,
    body: String,
}

impl Answer {
    fn element(&self, name: &str) -> Option<&str> {
        let open = format!("<{name}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&format!("</{name}>"))? + start;
        Some(&self.body[start..end])
    }

    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.element("Code"), Some(code), "{}", self.body);
    }
}

/// A router over a fresh database file of its own, in a directory removed when dropped.
async fn router(extra: &[&str]) -> (Router, TempDir) {
    let dir = TempDir::new("router");
    let mut args = vec!["ec2lite", "--data-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let router = ec2lite::runtime::in_process(&Config::parse_from(args)).await.unwrap();
    (router, dir)
}

/// A form POST signed (scope only) as `access_key` in us-east-1.
async fn post(router: &Router, access_key: &str, form: &str) -> Answer {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20261201/us-east-1/ec2/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=0"
    );
    let request = Request::post("/")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::AUTHORIZATION, authorization)
        .body(Body::from(form.to_string()))
        .unwrap();
    send(router, request).await
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer { status, body: String::from_utf8(bytes.to_vec()).unwrap() }
}

#[tokio::test]
async fn action_table_refuses_missing_unknown_and_unimplemented_actions() {
    let (r, _dir) = router(&[]).await;
    post(&r, "test", "Version=2016-11-15").await.assert_error(400, "MissingAction");
    post(&r, "test", "Action=FrobnicateImages&Version=2016-11-15").await.assert_error(400, "InvalidAction");
    let unsupported = post(&r, "test", "Action=CreateFleet&Version=2016-11-15").await;
    unsupported.assert_error(400, "UnsupportedOperation");
    assert!(unsupported.body.contains("CreateFleet"), "{}", unsupported.body);
}

#[tokio::test]
async fn get_and_post_reach_the_same_operation() {
    let (r, _dir) = router(&[]).await;
    let by_get =
        send(&r, Request::get("/?Action=DescribeRegions&Version=2016-11-15").body(Body::empty()).unwrap()).await;
    let by_post = post(&r, "test", "Action=DescribeRegions&Version=2016-11-15").await;
    assert_eq!(by_get.status, StatusCode::OK, "{}", by_get.body);
    assert!(by_get.body.contains("<DescribeRegionsResponse"), "{}", by_get.body);
    assert_eq!(by_get.body.matches("<regionName>").count(), by_post.body.matches("<regionName>").count());
}

#[tokio::test]
async fn input_errors_come_before_the_store_and_dry_run_stops_a_valid_call() {
    let (r, _dir) = router(&[]).await;
    post(&r, "test", "Action=DescribeImages&ImageId.1=bogus").await.assert_error(400, "InvalidAMIID.Malformed");
    post(&r, "test", "Action=RegisterImage").await.assert_error(400, "MissingParameter");
    post(&r, "test", "Action=DescribeImages&DryRun=maybe").await.assert_error(400, "InvalidParameterValue");
    post(&r, "test", "Action=DescribeImages&Owner.1=self&DryRun=true").await.assert_error(412, "DryRunOperation");
}

#[tokio::test]
async fn oversized_bodies_are_refused_in_each_front_protocol() {
    let (r, _dir) = router(&[]).await;
    let huge = format!("Action=DescribeImages&Description={}", "a".repeat(3 * 1024 * 1024));
    post(&r, "test", &huge).await.assert_error(413, "RequestEntityTooLarge");
    let block = Request::put("/snapshots/snap-0123456789abcdef0/blocks/0")
        .header("x-amz-Data-Length", "524288")
        .body(Body::from(vec![0u8; 2 * 1024 * 1024]))
        .unwrap();
    let refused = send(&r, block).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("\"__type\":\"ValidationException\""), "{}", refused.body);
}

#[tokio::test]
async fn launching_an_unshared_image_of_another_account_is_an_auth_failure() {
    let (r, _dir) = router(&[]).await;
    let owner = "111111111111";
    let volume = post(&r, owner, "Action=CreateVolume&AvailabilityZone=us-east-1a&Size=8").await;
    let volume_id = volume.element("volumeId").unwrap().to_string();
    let snapshot = post(&r, owner, &format!("Action=CreateSnapshot&VolumeId={volume_id}")).await;
    let snapshot_id = snapshot.element("snapshotId").unwrap().to_string();
    let image = post(
        &r,
        owner,
        &format!(
            "Action=RegisterImage&Name=private&RootDeviceName=/dev/xvda&Architecture=x86_64\
             &VirtualizationType=hvm&BlockDeviceMapping.1.DeviceName=/dev/xvda\
             &BlockDeviceMapping.1.Ebs.SnapshotId={snapshot_id}"
        ),
    )
    .await;
    let image_id = image.element("imageId").unwrap().to_string();
    let launch = format!("Action=RunInstances&ImageId={image_id}&MinCount=1&MaxCount=1&InstanceType=t3.micro");
    let refused = post(&r, "222222222222", &launch).await;
    refused.assert_error(401, "AuthFailure");
    assert!(refused.body.contains(&format!("Not authorized for images: [{image_id}]")), "{}", refused.body);
    // It stays invisible to DescribeImages, and an id nobody has is still NotFound.
    post(&r, "222222222222", &format!("Action=DescribeImages&ImageId.1={image_id}"))
        .await
        .assert_error(400, "InvalidAMIID.NotFound");
    post(&r, "222222222222", "Action=RunInstances&ImageId=ami-0123456789abcdef0&MinCount=1&MaxCount=1")
        .await
        .assert_error(400, "InvalidAMIID.NotFound");
    let launched = post(&r, owner, &launch).await;
    assert_eq!(launched.status, StatusCode::OK, "{}", launched.body);
}
