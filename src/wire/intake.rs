//! Request intake, the same for every front on the port (the EC2 Query API, the EBS
//! direct APIs and SSM Parameter Store): the body read within the front's limit, the signature checked (with
//! `--verify-signatures`), the caller and region resolved and allowed, and the
//! resources due to change state settled, before any action runs.

use std::time::Instant;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Uri};
use http_body_util::BodyExt;

use crate::app::App;
use crate::domain::clock;
use crate::ec2_err;
use crate::error::Ec2Error;
use crate::wire::auth::{resolve_caller, Caller};
use crate::wire::params::Params;
use crate::wire::signature;

/// Which API a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// `/`: form-encoded EC2 Query requests.
    Query,
    /// `/snapshots…`: the EBS direct APIs (REST-JSON, block bodies).
    Ebs,
    /// `/` with `X-Amz-Target: AmazonSSM.*`: SSM Parameter Store (JSON 1.1).
    Ssm,
}

impl Front {
    /// Largest body accepted: EC2 requests are small forms; EBS bodies hold one block.
    pub fn max_body_bytes(self) -> usize {
        match self {
            Front::Query | Front::Ssm => 2 * 1024 * 1024,
            Front::Ebs => crate::domain::block::BLOCK_SIZE + 64 * 1024,
        }
    }

    /// What EC2 and EBS answer for credentials in a region the account has not enabled.
    fn unknown_credentials(self) -> Ec2Error {
        match self {
            Front::Query => ec2_err!(AuthFailure, "AWS was not able to validate the provided access credentials"),
            Front::Ebs | Front::Ssm => {
                ec2_err!(AuthFailure, "The security token included in the request is invalid.")
            }
        }
    }
}

/// What a client is told when its body could not be read.
pub const UNREADABLE_BODY: &str =
    "The request body could not be read: its chunked encoding is malformed or it ended early.";

/// A request that passed intake.
pub struct Accepted {
    pub caller: Caller,
    pub body: bytes::Bytes,
    /// The Query front's parameters (query string and form body).
    pub params: Params,
    pub started: Instant,
}

/// Why intake refused a request.
#[derive(Debug)]
pub enum Refusal {
    /// The body is larger than the front accepts.
    TooLarge {
        limit: usize,
    },
    /// The body could not be read: a broken chunked encoding, a connection cut short.
    Unreadable,
    Denied(Ec2Error),
}

impl From<Ec2Error> for Refusal {
    fn from(err: Ec2Error) -> Self {
        Refusal::Denied(err)
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(err: sqlx::Error) -> Self {
        Refusal::Denied(err.into())
    }
}

/// How much of a body over the limit is read and dropped before refusing it: a client
/// still sending when the answer comes sees a reset connection, not the answer.
const DRAIN_BYTES: usize = 8 * 1024 * 1024;

/// The whole body, within `limit` bytes. A larger one is read to its end (up to
/// [`DRAIN_BYTES`] more) and refused.
async fn read_body(headers: &HeaderMap, mut body: Body, limit: usize) -> Result<bytes::Bytes, Refusal> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit + DRAIN_BYTES) {
        return Err(Refusal::TooLarge { limit });
    }
    let mut kept = bytes::BytesMut::new();
    let mut received = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(chunk) = frame.map_err(|_| Refusal::Unreadable)?.into_data() else { continue };
        received += chunk.len();
        if received > limit + DRAIN_BYTES {
            return Err(Refusal::TooLarge { limit });
        }
        if received <= limit {
            kept.extend_from_slice(&chunk);
        }
    }
    if received > limit {
        return Err(Refusal::TooLarge { limit });
    }
    Ok(kept.freeze())
}

pub async fn accept(
    app: &App,
    front: Front,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Accepted, Refusal> {
    let started = Instant::now();
    let limit = front.max_body_bytes();
    let body = read_body(headers, body, limit).await?;
    if app.verify_signatures {
        let target = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        // Only EBS block uploads (PUT) sign their checksum headers instead of the body.
        let unsigned_body = front == Front::Ebs && method == Method::PUT;
        signature::verify(&app.directory, method.as_str(), target, headers, &body, unsigned_body)?;
    }
    let params = match front {
        Front::Query => Params::parse(uri.query().unwrap_or_default().as_bytes(), &body),
        Front::Ebs | Front::Ssm => Params::default(),
    };
    let caller = resolve_caller(
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()),
        params.str("X-Amz-Credential"),
        app.default_region,
        &app.directory,
    )?;
    let region = crate::domain::regions::find(caller.region).expect("resolved regions are known");
    if !app.directory.region_enabled(&caller.account, region) {
        return Err(front.unknown_credentials().into());
    }
    let now = clock::now_ms();
    app.store.settle(now, app.timings.terminated_retention_ms).await?;
    let action = params.str("Action").unwrap_or_default();
    if front != Front::Query || !CATALOG_FREE.contains(&action) {
        app.catalog.ensure(&app.store, caller.region, now).await?;
    }
    Ok(Accepted { caller, body, params, started })
}

/// Actions that read and write no image or snapshot, so they answer without waiting for
/// the region's public catalog to be seeded: the calls tools make first (Terraform's
/// provider checks the account, regions and zones before anything else).
const CATALOG_FREE: &[&str] = &[
    "DescribeRegions",
    "DescribeAvailabilityZones",
    "DescribeAccountAttributes",
    "DescribeKeyPairs",
    "CreateKeyPair",
    "ImportKeyPair",
    "DeleteKeyPair",
    "DescribeVpcs",
    "DescribeSubnets",
    "DescribeSecurityGroups",
];
