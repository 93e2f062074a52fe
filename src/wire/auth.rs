//! Who is calling and where: the SigV4 credential scope gives the access key id and the
//! region; the access key id gives the account.
//!
//! Signatures are not verified here (any secret works, as with other local emulators);
//! only the scope is read, from the `Authorization` header or a presigned URL's
//! `X-Amz-Credential`.

use crate::domain::accounts::Directory;
use crate::domain::regions;
use crate::ec2_err;
use crate::error::Result;

/// The account used for access keys that are not 12-digit account ids (e.g. `test`).
pub const DEFAULT_ACCOUNT: &str = "000000000000";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    pub region: &'static str,
    /// The signing service of the scope (`ec2`, or `ebs` for the EBS direct APIs).
    pub service: String,
}

#[derive(Debug, PartialEq, Eq)]
struct Scope<'a> {
    access_key: &'a str,
    region: &'a str,
    service: &'a str,
}

/// `AKID/20261126/us-east-1/ec2/aws4_request` → its parts.
fn parse_scope(credential: &str) -> Option<Scope<'_>> {
    let mut parts = credential.trim().split('/');
    let access_key = parts.next()?;
    let _date = parts.next()?;
    let region = parts.next()?;
    let service = parts.next()?;
    Some(Scope { access_key, region, service })
}

fn credential_from_header(authorization: &str) -> Option<&str> {
    let rest = authorization.trim().strip_prefix("AWS4-HMAC-SHA256")?;
    rest.split(',').find_map(|part| part.trim().strip_prefix("Credential="))
}

pub fn account_for_access_key(access_key: &str, directory: &Directory) -> String {
    if access_key.len() == 12 && access_key.bytes().all(|b| b.is_ascii_digit()) {
        access_key.to_string()
    } else {
        default_account(directory).to_string()
    }
}

fn default_account(directory: &Directory) -> &str {
    if directory.default_account.is_empty() {
        DEFAULT_ACCOUNT
    } else {
        &directory.default_account
    }
}

/// Resolves the caller from the `Authorization` header or the presigned
/// `X-Amz-Credential` parameter; an unsigned request acts as the default account in
/// `default_region`.
pub fn resolve_caller(
    authorization: Option<&str>,
    presigned_credential: Option<&str>,
    default_region: &'static str,
    directory: &Directory,
) -> Result<Caller> {
    let credential = authorization.and_then(credential_from_header).or(presigned_credential);
    let Some(credential) = credential else {
        let account = default_account(directory).to_string();
        return Ok(Caller { account, region: default_region, service: "ec2".to_string() });
    };
    let scope = parse_scope(credential).ok_or_else(|| {
        ec2_err!(IncompleteSignature, "Authorization header requires a valid Credential scope: '{credential}'.")
    })?;
    let region_name = scope.region.to_ascii_lowercase();
    let region = regions::find(&region_name).ok_or_else(|| {
        ec2_err!(AuthFailure, "Credential should be scoped to a valid region, not '{}'.", scope.region)
    })?;
    Ok(Caller {
        account: directory
            .key(scope.access_key)
            .map(|(account, _)| account.to_string())
            .unwrap_or_else(|| account_for_access_key(scope.access_key, directory)),
        region: region.name,
        service: scope.service.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "AWS4-HMAC-SHA256 Credential=123456789012/20261126/EU-West-3/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc";

    #[test]
    fn region_and_account_come_from_the_scope() {
        let caller = resolve_caller(Some(HEADER), None, "us-east-1", &Directory::default()).unwrap();
        assert_eq!(caller.account, "123456789012");
        assert_eq!(caller.region, "eu-west-3");
        assert_eq!(caller.service, "ec2");
    }

    #[test]
    fn non_numeric_keys_map_to_the_default_account() {
        let directory = Directory::default();
        assert_eq!(account_for_access_key("test", &directory), DEFAULT_ACCOUNT);
        assert_eq!(account_for_access_key("AKIAEXAMPLE12", &directory), DEFAULT_ACCOUNT);
        let moto = Directory { default_account: "123456789012".into(), ..Directory::default() };
        assert_eq!(account_for_access_key("test", &moto), "123456789012");
        assert_eq!(resolve_caller(None, None, "us-east-1", &moto).unwrap().account, "123456789012");
    }

    #[test]
    fn presigned_credential_is_read() {
        let caller =
            resolve_caller(None, Some("test/20261126/us-west-2/ec2/aws4_request"), "us-east-1", &Directory::default())
                .unwrap();
        assert_eq!(caller.region, "us-west-2");
    }

    #[test]
    fn unsigned_requests_use_the_default_region() {
        let caller = resolve_caller(None, None, "ap-south-1", &Directory::default()).unwrap();
        assert_eq!((caller.account.as_str(), caller.region), (DEFAULT_ACCOUNT, "ap-south-1"));
    }

    #[test]
    fn unknown_region_is_refused() {
        let header = HEADER.replace("EU-West-3", "mars-1");
        assert_eq!(
            resolve_caller(Some(&header), None, "us-east-1", &Directory::default()).unwrap_err().code,
            "AuthFailure"
        );
    }
}
