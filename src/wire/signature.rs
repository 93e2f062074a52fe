//! SigV4 verification for `--verify-signatures`, using AWS's own `aws-sigv4` crate (the
//! signer of the Rust SDK) to recompute the signature of the request as received and
//! compare it with the one sent: no hand-written canonicalisation to drift from AWS's.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use axum::http::HeaderMap;

use crate::domain::accounts::Directory;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};

/// How far the request time may be from ours, as AWS allows.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

fn auth_failure() -> Ec2Error {
    ec2_err!(AuthFailure, "AWS was not able to validate the provided access credentials")
}

struct Authorization<'a> {
    access_key: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.trim().strip_prefix("AWS4-HMAC-SHA256")?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim) {
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v.split(';').collect());
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let mut scope = credential?.split('/');
    let access_key = scope.next()?;
    let _date = scope.next()?;
    let region = scope.next()?;
    let service = scope.next()?;
    Some(Authorization { access_key, region, service, signed_headers: signed_headers?, signature: signature? })
}

fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(value, &format).ok()?.assume_utc();
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t.unix_timestamp()).ok()?))
}

/// Checks the request's SigV4 header signature against the secret of its access key.
/// `unsigned_body_allowed`: the operation signs its checksum headers instead of its body
/// (`x-amz-content-sha256: UNSIGNED-PAYLOAD`, EBS PutSnapshotBlock); elsewhere the body
/// must be signed.
pub fn verify(
    directory: &Directory,
    method: &str,
    uri: &str,
    headers: &HeaderMap,
    body: &[u8],
    unsigned_body_allowed: bool,
) -> Result<()> {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(ec2_err!(
            AuthFailure,
            "AWS was not able to validate the provided access credentials: the request is not signed."
        ));
    };
    let auth = parse_authorization(value)
        .ok_or_else(|| ec2_err!(IncompleteSignature, "The request signature does not conform to AWS standards."))?;
    let (_, secret) = directory.key(auth.access_key).ok_or_else(auth_failure)?;
    let amz_date = headers.get("x-amz-date").and_then(|v| v.to_str().ok()).and_then(parse_amz_date);
    let Some(time) = amz_date else {
        return Err(ec2_err!(IncompleteSignature, "The request must contain a valid X-Amz-Date header."));
    };
    let now = SystemTime::now();
    let skew = now.duration_since(time).or_else(|e| Ok::<_, ()>(e.duration())).unwrap_or_default();
    if skew > MAX_SKEW {
        return Err(ec2_err!(RequestExpired, "Request has expired."));
    }
    let mut signed: Vec<(&str, &str)> = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value = headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ec2_err!(IncompleteSignature, "The signed header '{name}' is missing from the request."))?;
        signed.push((name, value));
    }
    let identity = Credentials::new(auth.access_key, secret, None, None, "ec2lite-accounts").into();
    let mut settings = SigningSettings::default();
    // Sign exactly what the client listed, user-agent included if it did.
    settings.excluded_headers = None;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|_| auth_failure())?
        .into();
    let unsigned = unsigned_body_allowed
        && headers.get("x-amz-content-sha256").is_some_and(|v| v.as_bytes() == b"UNSIGNED-PAYLOAD");
    let payload = if unsigned { SignableBody::UnsignedPayload } else { SignableBody::Bytes(body) };
    let request = SignableRequest::new(method, uri, signed.into_iter(), payload).map_err(|_| auth_failure())?;
    let (_, expected) = sign(request, &params).map_err(|_| auth_failure())?.into_parts();
    if expected != auth.signature {
        return Err(ec2_err!(
            SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        ));
    }
    Ok(())
}
