//! A bounded request fuzzer against the real binary: every action ec2lite implements,
//! with parameters from a vocabulary of real keys, mutated keys and indexes, awkward and
//! hostile values (control characters, invalid UTF-8 and percent-encodings, strings up
//! to 300 KB, lists of thousands), broken SigV4 headers, wrong methods and content
//! types; and the EBS direct API routes with mutated paths, headers and JSON bodies.
//!
//! Every answer must be below 500 and well formed in its route's protocol (XML that
//! parses, or REST-JSON), and the server must still answer at the end. Deterministic
//! (a fixed seed); `EC2LITE_FUZZ_REQUESTS` (default 10,000, about 10 s in a debug build) and `EC2LITE_FUZZ_SEED` set
//! the run; `EC2LITE_BIN` runs it against another build (e.g. the release binary).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ec2lite::actions::Operation;
use ec2lite_test_support::{auth_header, ec2, Server};

/// splitmix64: small, deterministic, good enough to pick.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const KEYS: &[&str] = &[
    "ImageId",
    "ImageId.1",
    "InstanceId",
    "InstanceId.1",
    "VolumeId",
    "VolumeId.1",
    "SnapshotId",
    "SnapshotId.1",
    "Size",
    "AvailabilityZone",
    "VolumeType",
    "Name",
    "Description",
    "RootDeviceName",
    "VirtualizationType",
    "BlockDeviceMapping.1.DeviceName",
    "BlockDeviceMapping.1.Ebs.SnapshotId",
    "BlockDeviceMapping.1.Ebs.VolumeSize",
    "BlockDeviceMapping.1.Ebs.VolumeType",
    "BlockDeviceMapping.1.NoDevice",
    "BlockDeviceMapping.1.VirtualName",
    "Filter.1.Name",
    "Filter.1.Value.1",
    "Filter.2.Name",
    "Filter.2.Value.1",
    "Owner.1",
    "ExecutableBy.1",
    "RestorableBy.1",
    "MaxResults",
    "NextToken",
    "Attribute",
    "OperationType",
    "UserId.1",
    "UserGroup.1",
    "LaunchPermission.Add.1.UserId",
    "LaunchPermission.Add.1.Group",
    "LaunchPermission.Remove.1.Group",
    "LaunchPermission.Add.1.OrganizationArn",
    "CreateVolumePermission.Add.1.Group",
    "Description.Value",
    "ResourceId.1",
    "Tag.1.Key",
    "Tag.1.Value",
    "TagSpecification.1.ResourceType",
    "TagSpecification.1.Tag.1.Key",
    "TagSpecification.1.Tag.1.Value",
    "SourceRegion",
    "SourceImageId",
    "SourceSnapshotId",
    "Encrypted",
    "KmsKeyId",
    "Iops",
    "Throughput",
    "ImageLocation",
    "Architecture",
    "DryRun",
    "AllRegions",
    "ZoneName.1",
    "RegionName.1",
    "DeleteAssociatedSnapshots",
    "IncludeDeprecated",
    "IncludeDisabled",
    "Value",
    "NoReboot",
    "DeprecateAt",
    "ClientToken",
    "MinCount",
    "MaxCount",
    "InstanceType",
    "KeyName",
    "KeyName.1",
    "KeyType",
    "KeyFormat",
    "PublicKeyMaterial",
    "UserData",
    "SubnetId",
    "SecurityGroupId.1",
    "SecurityGroup.1",
    "GroupId",
    "GroupId.1",
    "GroupName",
    "GroupName.1",
    "GroupDescription",
    "VpcId",
    "VpcId.1",
    "CidrBlock",
    "IpPermissions.1.IpProtocol",
    "IpPermissions.1.FromPort",
    "IpPermissions.1.ToPort",
    "IpPermissions.1.IpRanges.1.CidrIp",
    "IpPermissions.1.Groups.1.GroupId",
    "LaunchTemplateName",
    "LaunchTemplateId",
    "LaunchTemplateData.ImageId",
    "LaunchTemplateData.InstanceType",
    "LaunchTemplateData.UserData",
    "LaunchTemplate.LaunchTemplateName",
    "LaunchTemplate.Version",
    "VersionDescription",
    "SourceVersion",
    "Versions.1",
    "DefaultVersion",
    "NetworkInterfaceId",
    "AllocationId",
    "PublicIp",
    "Domain",
    "RouteTableId",
    "InternetGatewayId",
    "DestinationCidrBlock",
    "GatewayId",
    "EnableDnsHostnames.Value",
    "Force",
    "Hibernate",
    "InstanceInitiatedShutdownBehavior",
    "Placement.AvailabilityZone",
    "Monitoring.Enabled",
    "MetadataOptions.HttpTokens",
    "DiskContainer.1.Format",
    "DiskContainer.1.Url",
    "DiskContainer.1.UserBucket.S3Bucket",
    "DiskContainer.1.UserBucket.S3Key",
    "ImportTaskId.1",
    "Platform",
    "LicenseType",
    "BootMode",
    "ImdsSupport",
    "TpmSupport",
    "EnaSupport",
    "SriovNetSupport",
    "State",
    "InstanceTypes.1",
    "ProductCode.1",
    "RecycleBinExitTime",
    "Signal",
    "Version",
];

const VALUES: &[&str] = &[
    "",
    "0",
    "-1",
    "1",
    "5",
    "1000",
    "18446744073709551616",
    "1e9",
    "true",
    "false",
    "self",
    "all",
    "amazon",
    "aws-marketplace",
    "us-east-1",
    "eu-west-1",
    "us-east-1a",
    "gp3",
    "io1",
    "standard",
    "/dev/xvda",
    "/dev/sdb",
    "name",
    "description",
    "image-id",
    "owner-id",
    "state",
    "tag:k",
    "tag-key",
    "is-public",
    "architecture",
    "platform",
    "root-device-type",
    "ami-12345678",
    "ami-0123456789abcdef0",
    "snap-12345678",
    "vol-12345678",
    "i-12345678",
    "vpc-12345678",
    "subnet-12345678",
    "sg-12345678",
    "lt-12345678",
    "launchPermission",
    "blockDeviceMapping",
    "add",
    "remove",
    "123456789012",
    "222222222222",
    "x86_64",
    "arm64",
    "t3.micro",
    "m5.large",
    "10.0.0.0/16",
    "0.0.0.0/0",
    "::/0",
    "tcp",
    "-1",
    "22",
    "65536",
    "x*?\\[",
    "*",
    "?",
    "<&>\"'",
    "]]>",
    "ünïcødé",
    "😀",
    "ami-",
    "' OR 1=1 --",
    "image",
    "snapshot",
    "instance",
    "volume",
    "$Latest",
    "$Default",
    "2026-12-31T00:00:00Z",
    "not-a-date",
    "RAW",
    "VHD",
    "s3://b/k",
    "IyEvYmluL3NoCmVjaG8gaGk=",
    "2016-11-15",
    "2015-10-01",
];

/// Awkward raw value encodings, already percent-encoded: control characters, invalid
/// UTF-8, broken escapes, characters XML forbids.
const HOSTILE: &[&str] = &[
    "a%00b",
    "%01",
    "%1F%7F",
    "%C3%28",
    "%FF%FE%FD",
    "%zz",
    "%",
    "%4",
    "%ED%A0%80",
    "%EF%BF%BE",
    "a+b%2Bc",
    "%0D%0A%0D%0A",
    "%E2%80%8B",
    "%C0%80",
    "%F4%90%80%80",
    "%26%3D%26",
    "%3Cx%3E",
    "ami-%00",
];

fn encode(text: impl AsRef<str>) -> String {
    let mut out = String::new();
    for b in text.as_ref().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn value(rng: &mut Rng, ids: &[String]) -> String {
    match rng.below(20) {
        0..=9 => encode(rng.pick(VALUES)),
        10..=12 => encode(rng.pick(ids)),
        13..=15 => rng.pick(HOSTILE).to_string(),
        16 => {
            let filler = *rng.pick(&["a", "*", "?", "%00", "x*"]);
            let longest = if rng.one_in(4) { 100_000 } else { 300 };
            filler.repeat(1 + rng.below(longest))
        }
        17 => (0..1 + rng.below(48)).map(|_| format!("%{:02X}", rng.below(256))).collect(),
        18 => format!("{}{}", encode(rng.pick(ids)), rng.pick(HOSTILE)),
        _ => rng.below(u32::MAX as usize).to_string(),
    }
}

/// A key from the vocabulary, sometimes with its indexes or names mutated.
fn key(rng: &mut Rng) -> String {
    let base = rng.pick(KEYS).to_string();
    match rng.below(12) {
        0 => {
            let index = *rng.pick::<&str>(&[".0", ".-1", ".99999999999999999999", ".", ".1.1", ".a", ".%00"]);
            base.replace(".1", index)
        }
        1 => base.to_lowercase(),
        2 => format!("{base}.{}", rng.below(10_000)),
        3 => rng.pick(HOSTILE).to_string(),
        _ => base,
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn ec2_request(rng: &mut Rng, ids: &[String]) -> Request {
    let action = match rng.below(30) {
        0 => rng.pick(HOSTILE).to_string(),
        1 => rng.pick(Operation::NAMES).to_lowercase(),
        2 => String::new(),
        _ => rng.pick(Operation::NAMES).to_string(),
    };
    let mut pairs: Vec<String> = Vec::new();
    if !rng.one_in(25) {
        pairs.push(format!("Action={action}"));
    }
    if !rng.one_in(15) {
        pairs.push(format!("Version={}", if rng.one_in(10) { value(rng, ids) } else { "2016-11-15".into() }));
    }
    for _ in 0..rng.below(9) {
        pairs.push(format!("{}={}", key(rng), value(rng, ids)));
    }
    if rng.one_in(40) {
        // A long list: thousands of values of one filter, or of one id list.
        let list = *rng.pick(&["Filter.1.Value", "ImageId", "InstanceId", "Owner", "Tag"]);
        pairs.push("Filter.1.Name=name".into());
        for i in 1..=1 + rng.below(3_000) {
            pairs.push(format!("{list}.{i}={}", encode(rng.pick(VALUES))));
        }
    }
    if rng.one_in(30) {
        pairs.push(rng.pick(&["=", "&&", "noequals", "a=b=c", "%00=%00"]).to_string());
    }
    let query = pairs.join("&");

    let mut headers = Vec::new();
    let account = *rng.pick(&["123456789012", "222222222222", "test", "AKIAEXAMPLE"]);
    let region = if rng.one_in(10) {
        *rng.pick(&["nowhere-1", "us-east-1%00", "", "US-EAST-1"])
    } else {
        *rng.pick(&["us-east-1", "eu-west-1", "ap-southeast-2"])
    };
    let auth = auth_header(account, region);
    match rng.below(12) {
        0 => {}
        1 => headers.push(("Authorization".into(), auth[..rng.below(auth.len())].to_string())),
        2 => {
            headers.push(("Authorization".into(), auth.replace("aws4_request", "aws5_request").replace("/ec2/", "//")))
        }
        3 => headers.push(("Authorization".into(), "AWS4-HMAC-SHA256 Credential=\u{7f}x".into())),
        _ => headers.push(("Authorization".into(), auth)),
    }
    let (method, target, body) = match rng.below(14) {
        0 => ("GET".to_string(), format!("/?{query}"), Vec::new()),
        1 => (rng.pick(&["PUT", "DELETE", "PATCH", "OPTIONS"]).to_string(), "/".into(), query.into_bytes()),
        2 => {
            ("POST".into(), rng.pick(&["/x", "/%00", "//", "/?Action=DescribeRegions"]).to_string(), query.into_bytes())
        }
        _ => ("POST".into(), "/".into(), query.into_bytes()),
    };
    let content_type = match rng.below(12) {
        0 => None,
        1 => Some("application/json"),
        2 => Some("application/x-www-form-urlencoded; charset=latin1"),
        _ => Some("application/x-www-form-urlencoded; charset=utf-8"),
    };
    if let Some(content_type) = content_type {
        headers.push(("Content-Type".into(), content_type.into()));
    }
    Request { method, target, headers, body }
}

const EBS_AUTH: &str =
    "AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/ebs/aws4_request, SignedHeaders=host, Signature=00";

fn ebs_request(rng: &mut Rng, snapshots: &[String]) -> Request {
    let snapshot = if rng.one_in(4) { rng.pick(HOSTILE).to_string() } else { rng.pick(snapshots).clone() };
    let index = *rng.pick(&["0", "1", "-1", "99999999999", "x", "%00"]);
    let (method, target) = match rng.below(8) {
        0 => ("POST", "/snapshots".to_string()),
        1 => ("GET", format!("/snapshots/{snapshot}/blocks?maxResults={}", value(rng, snapshots))),
        2 => ("PUT", format!("/snapshots/{snapshot}/blocks/{index}")),
        3 => ("GET", format!("/snapshots/{snapshot}/blocks/{index}?blockToken={}", value(rng, snapshots))),
        4 => ("POST", format!("/snapshots/completion/{snapshot}")),
        5 => ("GET", format!("/snapshots/{snapshot}/changedblocks?firstSnapshotId={}", value(rng, snapshots))),
        6 => (*rng.pick(&["DELETE", "PATCH", "GET"]), "/snapshots".to_string()),
        _ => ("GET", format!("/snapshots/{snapshot}/{}", value(rng, snapshots))),
    };
    let mut headers = vec![("Authorization".to_string(), EBS_AUTH.to_string())];
    for (name, values) in [
        ("x-amz-Data-Length", &["524288", "0", "-1", "x", "99999999999999999999"][..]),
        ("x-amz-Checksum", &["AAAA", "", "not base64!", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="][..]),
        ("x-amz-Checksum-Algorithm", &["SHA256", "MD5", ""][..]),
        ("x-amz-ChangedBlocksCount", &["0", "1", "-5", "x"][..]),
        ("x-amz-Checksum-Aggregation-Method", &["LINEAR", "TREE"][..]),
    ] {
        if rng.one_in(2) {
            headers.push((name.to_string(), rng.pick(values).to_string()));
        }
    }
    let body: Vec<u8> = match rng.below(6) {
        0 => br#"{"VolumeSize":1}"#.to_vec(),
        1 => format!(
            r#"{{"VolumeSize":{},"Description":"{}","Timeout":{}}}"#,
            value(rng, snapshots),
            rng.pick(VALUES),
            rng.below(10_000)
        )
        .into_bytes(),
        2 => (0..rng.below(4096)).map(|_| rng.below(256) as u8).collect(),
        3 => br#"{"ParentSnapshotId":"snap-1","Tags":[{"Key":"\u0000"}]}"#.to_vec(),
        4 => b"[1,2,".to_vec(),
        _ => Vec::new(),
    };
    Request { method: method.to_string(), target, headers, body }
}

struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

fn send(address: &str, request: &Request) -> Result<Answer, String> {
    let mut stream = TcpStream::connect(address).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut bytes = format!(
        "{} {} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        request.method,
        request.target,
        request.body.len()
    )
    .into_bytes();
    for (name, value) in &request.headers {
        bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(&request.body);
    // The server may answer before reading all of a refused body.
    let _ = stream.write_all(&bytes);
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no complete head")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Ok(Answer { status, head, body })
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..end]).ok().and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let Some(size) = size.filter(|&n| n > 0 && rest.len() >= end + 2 + n) else { break };
        out.extend_from_slice(&rest[end + 2..end + 2 + size]);
        rest = &rest[(end + 4 + size).min(rest.len())..];
    }
    out
}

/// Whether `body` is one well-formed XML document (UTF-8, every element closed).
fn well_formed_xml(body: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"))?;
    if !text.starts_with("<?xml") {
        return Err("no XML declaration".into());
    }
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0i32;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            quick_xml::events::Event::Start(_) => depth += 1,
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Text(t) => {
                t.decode().map_err(|e| e.to_string())?;
                let raw = t.into_inner();
                if raw.iter().any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) {
                    return Err("a control character XML forbids".into());
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("unbalanced elements ({depth})"));
    }
    Ok(())
}

fn check(answer: &Answer, ebs: bool) -> Result<(), String> {
    if answer.status >= 500 {
        return Err(format!("{} (server error)", answer.status));
    }
    let is_block = answer.head.contains("content-type: application/octet-stream");
    if ebs && !is_block {
        if answer.status >= 300 || !answer.body.is_empty() {
            serde_json::from_slice::<serde_json::Value>(&answer.body).map_err(|e| format!("not JSON: {e}"))?;
        }
        if answer.status >= 400 && !answer.head.contains("x-amzn-errortype: ") {
            return Err("an EBS error with no x-amzn-ErrorType".into());
        }
        Ok(())
    } else if ebs {
        Ok(())
    } else {
        well_formed_xml(&answer.body)
    }
}

/// Resources for the fuzzed requests to name: an image, a volume, a snapshot, an
/// instance, a key pair, a security group.
fn seed(s: &Server) -> Vec<String> {
    let call = |pairs: &[(&str, &str)]| {
        let r = ec2(s.address(), "123456789012", "us-east-1", pairs);
        assert_eq!(r.status, 200, "{}", r.body);
        r
    };
    let image = call(&[
        ("Action", "RegisterImage"),
        ("Name", "fuzz"),
        ("ImageLocation", "b/m.xml"),
        ("Architecture", "x86_64"),
        ("VirtualizationType", "hvm"),
    ]);
    let volume = call(&[("Action", "CreateVolume"), ("Size", "1"), ("AvailabilityZone", "us-east-1a")]);
    let volume_id = volume.element("volumeId").unwrap().to_string();
    let snapshot = call(&[("Action", "CreateSnapshot"), ("VolumeId", &volume_id)]);
    let key = call(&[("Action", "CreateKeyPair"), ("KeyName", "fuzz-key")]);
    let group = call(&[("Action", "CreateSecurityGroup"), ("GroupName", "fuzz"), ("GroupDescription", "fuzz")]);
    let image_id = image.element("imageId").unwrap().to_string();
    let instance = call(&[
        ("Action", "RunInstances"),
        ("ImageId", &image_id),
        ("MinCount", "1"),
        ("MaxCount", "1"),
        ("InstanceType", "t3.micro"),
    ]);
    vec![
        image_id,
        volume_id,
        snapshot.element("snapshotId").unwrap().to_string(),
        key.element("keyPairId").unwrap().to_string(),
        "fuzz-key".to_string(),
        group.element("groupId").unwrap().to_string(),
        instance.element("instanceId").unwrap().to_string(),
    ]
}

#[test]
fn fuzzed_requests_never_get_a_server_error_or_a_malformed_answer() {
    let requests: usize = std::env::var("EC2LITE_FUZZ_REQUESTS").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let seed_value: u64 = std::env::var("EC2LITE_FUZZ_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(0xEC2);
    let binary: std::path::PathBuf =
        std::env::var("EC2LITE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ec2lite").to_string()).into();
    let s = Server::start(&binary, &["--no-catalog"]);
    let ids = seed(&s);
    let snapshots: Vec<String> = ids.iter().filter(|id| id.starts_with("snap-")).cloned().collect();

    let mut rng = Rng(seed_value);
    let started = Instant::now();
    let (mut failures, mut by_status) = (Vec::new(), std::collections::BTreeMap::<u16, usize>::new());
    for n in 0..requests {
        let ebs = rng.one_in(5);
        let request = if ebs { ebs_request(&mut rng, &snapshots) } else { ec2_request(&mut rng, &ids) };
        let outcome = send(s.address(), &request).and_then(|answer| {
            *by_status.entry(answer.status).or_default() += 1;
            check(&answer, ebs).map_err(|why| format!("{why}: {}", String::from_utf8_lossy(&answer.body)))
        });
        if let Err(why) = outcome {
            let shown = String::from_utf8_lossy(&request.body).chars().take(300).collect::<String>();
            failures.push(format!("#{n} {} {} [{shown}]: {why}", request.method, request.target));
        }
    }
    let alive = ec2(s.address(), "123456789012", "us-east-1", &[("Action", "DescribeRegions")]);
    assert_eq!(alive.status, 200, "the server stopped answering");
    println!(
        "fuzzed {requests} requests (seed {seed_value}) in {:.1} s; statuses {by_status:?}; failures {}",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {requests} failed; first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
}

#[test]
fn the_checks_catch_what_they_look_for() {
    assert!(well_formed_xml(b"<?xml version=\"1.0\"?>\n<a><b>x</b></a>").is_ok());
    assert!(well_formed_xml(b"<?xml version=\"1.0\"?>\n<a>\x01</a>").is_err());
    assert!(well_formed_xml(b"<?xml version=\"1.0\"?>\n<a><b></a>").is_err());
    assert!(well_formed_xml(b"<?xml version=\"1.0\"?>\n<a>\xff</a>").is_err());
    assert!(well_formed_xml(b"").is_err());
    let answer = |status, head: &str, body: &[u8]| Answer { status, head: head.into(), body: body.to_vec() };
    assert!(check(&answer(500, "", b"<?xml version=\"1.0\"?><a/>"), false).is_err());
    assert!(check(&answer(400, "content-type: application/json", b"{}"), true).is_err());
    assert!(check(&answer(400, "x-amzn-errortype: x", b"<x/>"), true).is_err());
}
