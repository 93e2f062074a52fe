//! SigV4 verification for `--verify-signatures`, using AWS's own `aws-sigv4` crate (the
//! signer of the Rust SDK) to recompute the signature of the request as received and
//! compare it with the one sent: no hand-written canonicalisation to drift from AWS's.
//! Signatures come in the `Authorization` header or, for presigned URLs, in the query
//! string (`X-Amz-Signature`, valid `X-Amz-Expires` seconds from `X-Amz-Date`).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings};
use aws_sigv4::sign::v4;
use axum::http::HeaderMap;

use crate::domain::accounts::Directory;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};

/// How far the request time may be from ours, as AWS allows.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The longest a presigned URL may be valid: seven days, as SigV4 allows.
const MAX_EXPIRES_SECS: u64 = 7 * 24 * 3600;

/// The query parameters a presigned URL's signature is made of, re-added by the signer.
const PRESIGN_PARAMS: [&str; 6] =
    ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"];

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
        if let Some(presigned) = Presigned::parse(uri)? {
            return verify_presigned(directory, method, &presigned, headers, body);
        }
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
    let signed = signed_header_values(headers, &auth.signed_headers)?;
    let unsigned = unsigned_body_allowed
        && headers.get("x-amz-content-sha256").is_some_and(|v| v.as_bytes() == b"UNSIGNED-PAYLOAD");
    let payload = if unsigned { SignableBody::UnsignedPayload } else { SignableBody::Bytes(body) };
    let scope = Scope { access_key: auth.access_key, secret, region: auth.region, service: auth.service, time };
    let expected = compute(&scope, SigningSettings::default(), method, uri, signed, payload)?;
    check_match(&expected, auth.signature)
}

/// The key, secret and scope a signature is computed with.
struct Scope<'a> {
    access_key: &'a str,
    secret: &'a str,
    region: &'a str,
    service: &'a str,
    time: SystemTime,
}

/// The signature `aws-sigv4` computes for the request as received.
fn compute(
    scope: &Scope<'_>,
    mut settings: SigningSettings,
    method: &str,
    uri: &str,
    signed_headers: Vec<(&str, &str)>,
    payload: SignableBody<'_>,
) -> Result<String> {
    // Sign exactly what the client listed, user-agent included if it did.
    settings.excluded_headers = None;
    let identity = Credentials::new(scope.access_key, scope.secret, None, None, "ec2lite-accounts").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(scope.time)
        .settings(settings)
        .build()
        .map_err(|_| auth_failure())?
        .into();
    let request = SignableRequest::new(method, uri, signed_headers.into_iter(), payload).map_err(|_| auth_failure())?;
    let (_, signature) = sign(request, &params).map_err(|_| auth_failure())?.into_parts();
    Ok(signature)
}

fn check_match(expected: &str, given: &str) -> Result<()> {
    if expected != given {
        return Err(ec2_err!(
            SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        ));
    }
    Ok(())
}

/// The values of the headers a signature covers, every one required.
fn signed_header_values<'a>(headers: &'a HeaderMap, names: &[&'a str]) -> Result<Vec<(&'a str, &'a str)>> {
    names
        .iter()
        .map(|name| {
            let value = headers.get(*name).and_then(|v| v.to_str().ok()).ok_or_else(|| {
                ec2_err!(IncompleteSignature, "The signed header '{name}' is missing from the request.")
            })?;
            Ok((*name, value))
        })
        .collect()
}

/// A presigned request: its signing parameters, and its target without them (the
/// signer adds them back as it computes the signature).
struct Presigned {
    credential: String,
    amz_date: String,
    expires: String,
    signed_headers: String,
    signature: String,
    unsigned_target: String,
}

impl Presigned {
    /// `None` when the query carries no `X-Amz-Signature`.
    fn parse(target: &str) -> Result<Option<Presigned>> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let Some(signature) = value("X-Amz-Signature") else { return Ok(None) };
        let incomplete = |what: &str| ec2_err!(IncompleteSignature, "The presigned request is missing {what}.");
        if value("X-Amz-Algorithm").as_deref() != Some("AWS4-HMAC-SHA256") {
            return Err(incomplete("X-Amz-Algorithm=AWS4-HMAC-SHA256"));
        }
        let rest = pairs.iter().filter(|(k, _)| !PRESIGN_PARAMS.contains(&k.as_str()));
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish();
        Ok(Some(Presigned {
            credential: value("X-Amz-Credential").ok_or_else(|| incomplete("X-Amz-Credential"))?,
            amz_date: value("X-Amz-Date").ok_or_else(|| incomplete("X-Amz-Date"))?,
            expires: value("X-Amz-Expires").ok_or_else(|| incomplete("X-Amz-Expires"))?,
            signed_headers: value("X-Amz-SignedHeaders").ok_or_else(|| incomplete("X-Amz-SignedHeaders"))?,
            signature,
            unsigned_target: if query.is_empty() { path.to_string() } else { format!("{path}?{query}") },
        }))
    }
}

/// Checks a presigned request (signature in the query string): signed with the secret
/// of its access key, and used between `X-Amz-Date` and `X-Amz-Expires` seconds later.
fn verify_presigned(
    directory: &Directory,
    method: &str,
    presigned: &Presigned,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<()> {
    let incomplete = || ec2_err!(IncompleteSignature, "The request signature does not conform to AWS standards.");
    let mut scope = presigned.credential.split('/');
    let (Some(access_key), Some(_date), Some(region), Some(service)) =
        (scope.next(), scope.next(), scope.next(), scope.next())
    else {
        return Err(incomplete());
    };
    let (_, secret) = directory.key(access_key).ok_or_else(auth_failure)?;
    let time = parse_amz_date(&presigned.amz_date).ok_or_else(incomplete)?;
    let expires = presigned
        .expires
        .parse::<u64>()
        .ok()
        .filter(|s| (1..=MAX_EXPIRES_SECS).contains(s))
        .ok_or_else(|| ec2_err!(AuthFailure, "X-Amz-Expires must be between 1 and {MAX_EXPIRES_SECS} seconds."))?;
    let now = SystemTime::now();
    if time > now + MAX_SKEW {
        return Err(ec2_err!(RequestExpired, "Request is not yet valid."));
    }
    if now > time + Duration::from_secs(expires) {
        return Err(ec2_err!(RequestExpired, "Request has expired."));
    }
    let names: Vec<&str> = presigned.signed_headers.split(';').collect();
    let signed = signed_header_values(headers, &names)?;
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(expires));
    let scope = Scope { access_key, secret, region, service, time };
    let target = &presigned.unsigned_target;
    let expected = compute(&scope, settings, method, target, signed, SignableBody::Bytes(body))?;
    check_match(&expected, &presigned.signature)
}
