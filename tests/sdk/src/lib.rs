//! Helpers for the SDK tests: a real `aws-sdk-ec2` client pointed at a test server.

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

pub use ec2lite_test_support::{http, Server};

/// A client acting as `access_key` (a 12-digit key is that account) in `region`.
/// Explicit configuration: reads no environment variables and no `~/.aws`.
pub fn client(server: &Server, access_key: &str, region: &str) -> aws_sdk_ec2::Client {
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(&server.endpoint)
        .credentials_provider(Credentials::new(access_key, "secret", None, None, "static"))
        .build();
    aws_sdk_ec2::Client::from_conf(config)
}

/// The EC2 error code of a failed call.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> String {
    err.as_service_error().and_then(|e| e.code()).unwrap_or("<not a service error>").to_string()
}

/// The HTTP status of a failed call.
pub fn status<E>(err: &SdkError<E, aws_sdk_ec2::config::http::HttpResponse>) -> u16 {
    err.raw_response().map(|r| r.status().as_u16()).unwrap_or_default()
}
