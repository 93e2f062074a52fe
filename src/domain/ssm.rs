//! SSM Parameter Store as ec2lite serves it: an account's own parameters (every version
//! kept), and AWS's public `/aws/service/...` AMI parameters, derived from the catalog
//! images of each region. Names, selectors, paths and the public namespaces are pure
//! rules here; storage is `store::ssm`, the JSON front `wire::ssm`.

use std::collections::BTreeMap;

use crate::error::{Code, Ec2Error};

/// Where AWS publishes its public parameters.
pub const PUBLIC_ROOT: &str = "/aws/service";
/// Versions kept per parameter; the oldest goes when a new one would exceed it.
pub const MAX_VERSIONS: i64 = 100;
/// Longest value of a Standard-tier parameter, and of any parameter.
pub const MAX_STANDARD_VALUE: usize = 4096;
pub const MAX_ADVANCED_VALUE: usize = 8192;
/// Deepest hierarchy a name may have.
pub const MAX_LEVELS: usize = 15;

/// An error of the SSM JSON API: its `__type` and message (GetParameter's
/// `ParameterNotFound` has none, as on AWS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsmError {
    pub kind: &'static str,
    pub message: String,
}

pub type Result<T, E = SsmError> = std::result::Result<T, E>;

impl SsmError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        SsmError { kind, message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        SsmError::new("ValidationException", message)
    }

    pub fn not_found() -> Self {
        SsmError::new("ParameterNotFound", "")
    }

    pub fn version_not_found(name: &str, version: &str) -> Self {
        SsmError::new(
            "ParameterVersionNotFound",
            format!("Systems Manager could not find version {version} of {name}. Verify the version and try again."),
        )
    }

    pub fn internal() -> Self {
        SsmError::new("InternalServerError", "An internal error has occurred.")
    }

    /// Only signature and credential failures answer with 403; faults with 500.
    pub fn status(&self) -> u16 {
        match self.kind {
            "InternalServerError" => 500,
            "AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "IncompleteSignatureException" => 403,
            _ => 400,
        }
    }
}

impl From<sqlx::Error> for SsmError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "database error");
        SsmError::internal()
    }
}

/// EC2-side failures met while serving an SSM call (authentication, region checks,
/// store errors) become the exception the JSON protocol has for them.
impl From<Ec2Error> for SsmError {
    fn from(err: Ec2Error) -> Self {
        let kind = match err.code {
            Code::SignatureDoesNotMatch | Code::RequestExpired => "InvalidSignatureException",
            Code::IncompleteSignature => "IncompleteSignatureException",
            Code::AuthFailure => "UnrecognizedClientException",
            Code::InternalError => "InternalServerError",
            _ => "ValidationException",
        };
        SsmError { kind, message: err.message }
    }
}

/// One version of a parameter: an account's own, or a public one (`owner` None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterVersion {
    pub owner: Option<String>,
    pub name: String,
    pub version: i64,
    pub kind: String,
    pub data_type: String,
    pub value: String,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
    pub tier: String,
    pub modified_ms: i64,
}

impl ParameterVersion {
    pub fn arn(&self, region: &str) -> String {
        arn(region, self.owner.as_deref(), &self.name)
    }
}

/// `arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`; public
/// parameters have no account.
pub fn arn(region: &str, account: Option<&str>, name: &str) -> String {
    format!("arn:aws:ssm:{region}:{}:parameter/{}", account.unwrap_or(""), name.trim_start_matches('/'))
}

pub fn is_public(name: &str) -> bool {
    name == PUBLIC_ROOT || name.starts_with("/aws/service/")
}

/// A name as GetParameter takes it: `name`, `name:<version>` or `name:<label>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference<'a> {
    pub name: &'a str,
    pub selector: Option<Selector<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector<'a> {
    Version(i64),
    Label(&'a str),
}

impl Reference<'_> {
    /// `:3` or `:label`, as GetParameter echoes it.
    pub fn selector_text(&self) -> Option<String> {
        match self.selector? {
            Selector::Version(v) => Some(format!(":{v}")),
            Selector::Label(l) => Some(format!(":{l}")),
        }
    }
}

/// `foo` and `/foo` name the same parameter (a single level has no hierarchy); deeper
/// names are exact. The two spellings a lookup of `name` must try.
pub fn spellings(name: &str) -> [String; 2] {
    let bare = name.strip_prefix('/').unwrap_or(name);
    if bare.contains('/') {
        [name.to_string(), name.to_string()]
    } else {
        [bare.to_string(), format!("/{bare}")]
    }
}

/// The version a reference selects: the latest, a numbered one, or (labels are never
/// set here) none.
pub fn select<'h>(history: &'h [ParameterVersion], reference: &Reference<'_>) -> Result<&'h ParameterVersion> {
    let latest = history.last().ok_or_else(SsmError::not_found)?;
    match reference.selector {
        None => Ok(latest),
        Some(Selector::Version(v)) => history
            .iter()
            .find(|p| p.version == v)
            .ok_or_else(|| SsmError::version_not_found(reference.name, &v.to_string())),
        Some(Selector::Label(label)) => Err(SsmError::new(
            "ParameterVersionNotFound",
            format!("Systems Manager could not find label {label} of {}.", reference.name),
        )),
    }
}

/// Reads `name[:selector]`, also given as the parameter's ARN
/// (`arn:aws:ssm:<region>:<account>:parameter/<name>`).
pub fn parse_reference(text: &str) -> Result<Reference<'_>> {
    let text = match text.split_once(":parameter/") {
        Some((prefix, _)) if prefix.starts_with("arn:") => &text[prefix.len() + ":parameter".len()..],
        _ => text,
    };
    let mut parts = text.splitn(3, ':');
    let name = parts.next().unwrap_or_default();
    let selector = parts.next();
    if parts.next().is_some() || name.is_empty() || selector == Some("") {
        return Err(SsmError::validation(format!("Invalid parameter name or selector: {text}")));
    }
    let selector = selector.map(|s| match s.parse::<i64>() {
        Ok(v) => Selector::Version(v),
        Err(_) => Selector::Label(s),
    });
    Ok(Reference { name, selector })
}

const GENERIC_NAME_RULE: &str = "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_";

/// The name PutParameter may create: not under AWS's reserved prefixes, only letters,
/// digits and `.-_/`, a path when it has slashes, at most 15 levels deep.
pub fn check_own_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 2048 {
        return Err(SsmError::validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must have length between 1 and 2048"
        )));
    }
    let bare = name.trim_start_matches('/').to_ascii_lowercase();
    let is_path = name.matches('/').count() > 1 || (name.contains('/') && !name.starts_with('/'));
    if bare.starts_with("aws") || bare.starts_with("ssm") {
        if is_path && name.to_ascii_lowercase().starts_with("/aws") {
            return Err(SsmError::new(
                "AccessDeniedException",
                format!("No access to reserved parameter name: {name}."),
            ));
        }
        if !is_path {
            return Err(SsmError::validation(
                "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).",
            ));
        }
        return Err(SsmError::validation(GENERIC_NAME_RULE));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c)) {
        return Err(SsmError::validation(GENERIC_NAME_RULE));
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err(SsmError::validation("Parameter name must be a fully qualified name."));
    }
    if name.contains("//") || (name.len() > 1 && name.ends_with('/')) || name == "/" {
        return Err(SsmError::validation(GENERIC_NAME_RULE));
    }
    if name.matches('/').count() > MAX_LEVELS {
        return Err(SsmError::new(
            "HierarchyLevelLimitExceededException",
            "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the AWS Systems Manager User Guide.",
        ));
    }
    Ok(())
}

/// The path GetParametersByPath takes: it begins with a slash.
pub fn check_path(path: &str) -> Result<()> {
    let valid = path.starts_with('/')
        && !path.contains("//")
        && path.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
    if valid {
        Ok(())
    } else {
        Err(SsmError::validation(
            "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.",
        ))
    }
}

/// Whether `name` lies under `path`: one level down, or anywhere below when recursive.
pub fn under_path(path: &str, name: &str, recursive: bool) -> bool {
    let prefix = format!("{}/", path.trim_end_matches('/'));
    match name.strip_prefix(&prefix) {
        Some(rest) => !rest.is_empty() && (recursive || !rest.contains('/')),
        None => false,
    }
}

/// The AMI id shape (`ami-` and 8 or 17 hex digits) an `aws:ec2:image` value must have.
pub fn is_ami_id(value: &str) -> bool {
    value.strip_prefix("ami-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

// The public namespaces ----------------------------------------------------------------

const AMAZON: &str = "137112412989";
const CANONICAL: &str = "099720109477";
const DEBIAN: &str = "136693071363";
const WINDOWS: &str = "801119661308";
const SUSE: &str = "013907871322";

/// A catalog image of a region, as the public namespaces see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogImage {
    pub image_id: String,
    pub owner: String,
    pub name: String,
    pub architecture: String,
    pub created_ms: i64,
}

/// The public parameter names an image of the catalog feeds, as AWS and the publishers
/// name them. An image that matches no publisher's pattern feeds none.
pub fn public_names(owner: &str, image_name: &str) -> Vec<String> {
    match owner {
        AMAZON => amazon_linux_names(image_name),
        CANONICAL => ubuntu_names(image_name),
        DEBIAN => debian_names(image_name),
        WINDOWS => windows_names(image_name),
        SUSE => suse_names(image_name),
        _ => Vec::new(),
    }
}

/// `al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64` feeds
/// `al2023-ami-kernel-6.1-x86_64` and (6.1 being the default kernel)
/// `al2023-ami-kernel-default-x86_64`; `amzn2-ami-kernel-5.10-hvm-2.0.…-x86_64-gp2`
/// feeds `amzn2-ami-kernel-5.10-hvm-x86_64-gp2` and `amzn2-ami-kernel-default-hvm-…`;
/// `amzn2-ami-hvm-2.0.…-x86_64-gp2` (kernel 4.14) feeds `amzn2-ami-hvm-x86_64-gp2` and
/// `amzn2-ami-kernel-4.14-hvm-x86_64-gp2`; Amazon Linux 1 names lose their release.
fn amazon_linux_names(image_name: &str) -> Vec<String> {
    let tokens: Vec<&str> = image_name.split('-').collect();
    let family = tokens.first().copied().unwrap_or_default();
    if !["al2023", "amzn2", "amzn"].contains(&family) || tokens.get(1) != Some(&"ami") {
        return Vec::new();
    }
    // The release token (`2023.6.20241010.0`, `2.0.20241014.0`, `2018.03.0.20231218.0`).
    let is_release = |t: &&str| t.matches('.').count() >= 2 && t.starts_with(|c: char| c.is_ascii_digit());
    let Some(release_at) = tokens.iter().position(is_release) else {
        return Vec::new();
    };
    // Between `ami` and the release only the edition, kernel and virtualization (ECS- or
    // other specialised images have more and are published under other names).
    let is_variant = |t: &&str| {
        ["minimal", "kernel", "hvm", "pv"].contains(t)
            || t.split('.').all(|n| !n.is_empty() && n.parse::<u32>().is_ok())
    };
    if tokens.iter().filter(|t| is_release(t)).count() != 1 || !tokens[2..release_at].iter().all(is_variant) {
        return Vec::new();
    }
    let last = tokens.last().copied().unwrap_or_default();
    let arch_ok = match family {
        "al2023" => ["x86_64", "arm64"].contains(&last),
        _ => ["gp2", "ebs", "s3"].contains(&last),
    };
    if !arch_ok {
        return Vec::new();
    }
    let stem = tokens.iter().filter(|t| !is_release(t)).copied().collect::<Vec<_>>().join("-");
    let root = "/aws/service/ami-amazon-linux-latest/";
    let mut names = vec![format!("{root}{stem}")];
    let alias = match family {
        "al2023" => stem.contains("-kernel-6.1-").then(|| stem.replace("-kernel-6.1-", "-kernel-default-")),
        "amzn2" if stem.contains("-kernel-5.10-") => Some(stem.replace("-kernel-5.10-", "-kernel-default-")),
        "amzn2" if !stem.contains("-kernel-") => Some(stem.replacen("-hvm-", "-kernel-4.14-hvm-", 1)),
        _ => None,
    };
    names.extend(alias.map(|a| format!("{root}{a}")));
    names
}

/// `ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250305` feeds
/// `/aws/service/canonical/ubuntu/server/{24.04,noble}/stable/{current,20250305}/amd64/hvm/ebs-gp3/ami-id`.
fn ubuntu_names(image_name: &str) -> Vec<String> {
    let Some((volume, rest)) = image_name.strip_prefix("ubuntu/images/").and_then(|r| r.split_once('/')) else {
        return Vec::new();
    };
    let storage = match volume {
        "hvm-ssd" => "ebs-gp2",
        "hvm-ssd-gp3" => "ebs-gp3",
        _ => return Vec::new(),
    };
    let parts: Vec<&str> = rest.split('-').collect();
    let ["ubuntu", codename, release, arch, "server", serial] = parts[..] else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for series in [release, codename] {
        for stream in ["current", serial] {
            names.push(format!(
                "/aws/service/canonical/ubuntu/server/{series}/stable/{stream}/{arch}/hvm/{storage}/ami-id"
            ));
        }
    }
    names
}

fn debian_codename(release: &str) -> Option<&'static str> {
    Some(match release {
        "10" => "buster",
        "11" => "bullseye",
        "12" => "bookworm",
        "13" => "trixie",
        _ => return None,
    })
}

/// `debian-12-amd64-20250316-2053` feeds `/aws/service/debian/release/{12,bookworm}/{latest,20250316-2053}/amd64`.
fn debian_names(image_name: &str) -> Vec<String> {
    let parts: Vec<&str> = image_name.split('-').collect();
    let ["debian", release, arch, date, build] = parts[..] else {
        return Vec::new();
    };
    let Some(codename) = debian_codename(release) else {
        return Vec::new();
    };
    let serial = format!("{date}-{build}");
    let mut names = Vec::new();
    for series in [release, codename] {
        for stream in ["latest", serial.as_str()] {
            names.push(format!("/aws/service/debian/release/{series}/{stream}/{arch}"));
        }
    }
    names
}

/// `Windows_Server-2022-English-Full-Base-2024.10.09` feeds
/// `/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base`.
fn windows_names(image_name: &str) -> Vec<String> {
    match image_name.rsplit_once('-') {
        Some((stem, date)) if date.contains('.') && date.chars().all(|c| c.is_ascii_digit() || c == '.') => {
            vec![format!("/aws/service/ami-windows-latest/{stem}")]
        }
        _ => Vec::new(),
    }
}

/// `suse-sles-15-sp6-v20250130-hvm-ssd-x86_64` feeds `/aws/service/suse/sles/15-sp6/x86_64/latest`.
fn suse_names(image_name: &str) -> Vec<String> {
    let parts: Vec<&str> = image_name.split('-').collect();
    let ["suse", "sles", major, sp, _date, "hvm", "ssd", arch] = parts[..] else {
        return Vec::new();
    };
    vec![format!("/aws/service/suse/sles/{major}-{sp}/{arch}/latest")]
}

/// Every public parameter of a region with its history: one version per catalog image
/// that fed it, oldest first, so the last is the newest image.
pub fn public_parameters(images: &[CatalogImage]) -> BTreeMap<String, Vec<ParameterVersion>> {
    let mut sorted: Vec<&CatalogImage> = images.iter().collect();
    sorted.sort_by(|a, b| (a.created_ms, &a.name).cmp(&(b.created_ms, &b.name)));
    let mut parameters: BTreeMap<String, Vec<ParameterVersion>> = BTreeMap::new();
    for image in sorted {
        for name in public_names(&image.owner, &image.name) {
            let versions = parameters.entry(name.clone()).or_default();
            versions.push(ParameterVersion {
                owner: None,
                name,
                version: versions.len() as i64 + 1,
                kind: "String".into(),
                data_type: "text".into(),
                value: image.image_id.clone(),
                description: None,
                allowed_pattern: None,
                tier: "Standard".into(),
                modified_ms: image.created_ms,
            });
        }
    }
    parameters
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::{parse, DEFAULT_CATALOG};

    fn catalog_images(region: &str) -> Vec<CatalogImage> {
        parse(DEFAULT_CATALOG)
            .unwrap()
            .images
            .iter()
            .map(|entry| {
                let (image, _) = entry.materialize(region);
                CatalogImage {
                    image_id: image.image_id,
                    owner: image.owner_id,
                    name: image.name,
                    architecture: image.architecture,
                    created_ms: crate::domain::clock::parse_iso(&image.creation_date).unwrap(),
                }
            })
            .collect()
    }

    #[test]
    fn amazon_linux_names_are_awss() {
        assert_eq!(
            amazon_linux_names("al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64"),
            [
                "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64",
                "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
            ]
        );
        assert_eq!(
            amazon_linux_names("al2023-ami-minimal-2023.9.20251014.0-kernel-6.1-arm64"),
            [
                "/aws/service/ami-amazon-linux-latest/al2023-ami-minimal-kernel-6.1-arm64",
                "/aws/service/ami-amazon-linux-latest/al2023-ami-minimal-kernel-default-arm64"
            ]
        );
        assert_eq!(
            amazon_linux_names("amzn2-ami-kernel-5.10-hvm-2.0.20241014.0-arm64-gp2"),
            [
                "/aws/service/ami-amazon-linux-latest/amzn2-ami-kernel-5.10-hvm-arm64-gp2",
                "/aws/service/ami-amazon-linux-latest/amzn2-ami-kernel-default-hvm-arm64-gp2"
            ]
        );
        assert_eq!(
            amazon_linux_names("amzn2-ami-hvm-2.0.20241014.0-x86_64-gp2"),
            [
                "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2",
                "/aws/service/ami-amazon-linux-latest/amzn2-ami-kernel-4.14-hvm-x86_64-gp2"
            ]
        );
        assert_eq!(
            amazon_linux_names("amzn-ami-pv-2018.03.0.20231218.0-x86_64-ebs"),
            ["/aws/service/ami-amazon-linux-latest/amzn-ami-pv-x86_64-ebs"]
        );
        assert!(amazon_linux_names("al2023-ami-ecs-hvm-2023.0.20241010-kernel-6.1-x86_64").is_empty());
        assert!(amazon_linux_names("my-image").is_empty());
    }

    #[test]
    fn other_publishers_names() {
        assert!(ubuntu_names("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250305")
            .contains(&"/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id".into()));
        assert!(ubuntu_names("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-20230516")
            .contains(&"/aws/service/canonical/ubuntu/server/jammy/stable/20230516/arm64/hvm/ebs-gp2/ami-id".into()));
        assert_eq!(
            debian_names("debian-12-arm64-20250316-2053"),
            [
                "/aws/service/debian/release/12/latest/arm64",
                "/aws/service/debian/release/12/20250316-2053/arm64",
                "/aws/service/debian/release/bookworm/latest/arm64",
                "/aws/service/debian/release/bookworm/20250316-2053/arm64"
            ]
        );
        assert_eq!(
            windows_names("Windows_Server-2025-English-Full-Base-2025.04.09"),
            ["/aws/service/ami-windows-latest/Windows_Server-2025-English-Full-Base"]
        );
        assert_eq!(
            suse_names("suse-sles-15-sp6-v20250130-hvm-ssd-arm64"),
            ["/aws/service/suse/sles/15-sp6/arm64/latest"]
        );
        assert!(public_names("679593333241", "CIS Ubuntu Linux 22.04 LTS Benchmark").is_empty());
    }

    #[test]
    fn the_default_catalog_feeds_the_well_known_names_with_the_newest_image() {
        let images = catalog_images("eu-west-1");
        let params = public_parameters(&images);
        let latest = |name: &str| params.get(name).unwrap_or_else(|| panic!("{name} missing")).last().unwrap().clone();
        let al2023 = latest("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
        let newest = images
            .iter()
            .filter(|i| i.name.starts_with("al2023-ami-2023") && i.architecture == "x86_64")
            .max_by_key(|i| i.created_ms)
            .unwrap();
        assert_eq!(al2023.value, newest.image_id);
        assert_eq!(al2023.version, 5);
        for name in [
            "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64",
            "/aws/service/ami-amazon-linux-latest/amzn2-ami-kernel-5.10-hvm-x86_64-gp2",
            "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
            "/aws/service/canonical/ubuntu/server/22.04/stable/current/arm64/hvm/ebs-gp2/ami-id",
            "/aws/service/debian/release/12/latest/amd64",
            "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base",
            "/aws/service/ami-windows-latest/Windows_Server-2025-English-Full-Base",
            "/aws/service/suse/sles/15-sp7/x86_64/latest",
        ] {
            let p = latest(name);
            assert_eq!((p.kind.as_str(), p.data_type.as_str()), ("String", "text"), "{name}");
        }
        // The catalog has no kernel-4.14 Amazon Linux 2 image: AWS's name for it is absent.
        assert!(!params.contains_key("/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2"));
        // Ids differ per region.
        let other = public_parameters(&catalog_images("us-east-1"));
        assert_ne!(other["/aws/service/debian/release/12/latest/amd64"].last().unwrap().value, {
            params["/aws/service/debian/release/12/latest/amd64"].last().unwrap().value.clone()
        });
    }

    #[test]
    fn own_names_follow_ssm_rules() {
        assert!(check_own_name("/golden/ami").is_ok());
        assert!(check_own_name("golden-ami_1.2").is_ok());
        assert_eq!(check_own_name("/aws/service/x").unwrap_err().kind, "AccessDeniedException");
        assert_eq!(check_own_name("awsthing").unwrap_err().kind, "ValidationException");
        assert_eq!(check_own_name("/ssm/x").unwrap_err().kind, "ValidationException");
        assert_eq!(check_own_name("a/b").unwrap_err().message, "Parameter name must be a fully qualified name.");
        assert_eq!(check_own_name("/a b").unwrap_err().kind, "ValidationException");
        let deep = "/a".repeat(16);
        assert_eq!(check_own_name(&deep).unwrap_err().kind, "HierarchyLevelLimitExceededException");
    }

    #[test]
    fn references_paths_and_ids() {
        assert_eq!(parse_reference("/a/b").unwrap(), Reference { name: "/a/b", selector: None });
        let r = parse_reference("/a/b:3").unwrap();
        assert_eq!((r.selector, r.selector_text().as_deref()), (Some(Selector::Version(3)), Some(":3")));
        assert_eq!(parse_reference("/a:prod").unwrap().selector, Some(Selector::Label("prod")));
        assert!(parse_reference("/a:1:2").is_err());
        let by_arn = parse_reference("arn:aws:ssm:us-east-1::parameter/aws/service/x:2").unwrap();
        assert_eq!((by_arn.name, by_arn.selector), ("/aws/service/x", Some(Selector::Version(2))));
        assert_eq!(spellings("/plain"), ["plain", "/plain"]);
        assert_eq!(spellings("/a/b"), ["/a/b", "/a/b"]);
        assert!(parse_reference("/a:").is_err());
        assert!(under_path("/a", "/a/b", false));
        assert!(under_path("/a/", "/a/b", false));
        assert!(!under_path("/a", "/a/b/c", false));
        assert!(under_path("/a", "/a/b/c", true));
        assert!(!under_path("/a", "/ab", true));
        assert!(is_ami_id("ami-0123456789abcdef0") && is_ami_id("ami-12345678"));
        assert!(!is_ami_id("ami-0123") && !is_ami_id("ami-0123456789ABCDEF0") && !is_ami_id("snap-12345678"));
        assert_eq!(arn("us-east-1", None, "/aws/service/x"), "arn:aws:ssm:us-east-1::parameter/aws/service/x");
        assert_eq!(
            arn("eu-west-1", Some("123456789012"), "plain"),
            "arn:aws:ssm:eu-west-1:123456789012:parameter/plain"
        );
    }
}
