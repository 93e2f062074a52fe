//! The wire contract, driven over raw HTTP against the real binary: envelopes, headers,
//! GET and POST, credential scopes, and hostile input that must only ever produce
//! proper EC2 errors (never a 5xx) and change nothing.

use ec2lite_test_support::{auth_header, ec2, form, http, HttpResponse, Server};

fn server() -> Server {
    Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &[])
}

fn call(s: &Server, pairs: &[(&str, &str)]) -> HttpResponse {
    ec2(s.address(), "test", "us-east-1", pairs)
}

fn assert_error(r: &HttpResponse, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.element("Code"), Some(code), "{}", r.body);
    assert!(
        r.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>"),
        "{}",
        r.body
    );
    let request_id = r.element("RequestID").expect("RequestID");
    assert_eq!(r.header("x-amzn-RequestId"), Some(request_id));
}

/// A snapshot of everything the default account owns in us-east-1.
fn state_of(s: &Server) -> (usize, usize, usize, usize) {
    let volumes = call(s, &[("Action", "DescribeVolumes")]).count("<volumeId>");
    let snapshots = call(s, &[("Action", "DescribeSnapshots"), ("Owner.1", "self")]).count("<snapshotId>");
    let images = call(s, &[("Action", "DescribeImages"), ("Owner.1", "self")]).count("<imageId>");
    let tags = call(s, &[("Action", "DescribeTags")]).count("<resourceId>");
    (volumes, snapshots, images, tags)
}

fn seed(s: &Server) -> String {
    let volume = call(s, &[("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a"), ("Size", "8")]);
    let volume_id = volume.element("volumeId").unwrap().to_string();
    let snapshot = call(s, &[("Action", "CreateSnapshot"), ("VolumeId", &volume_id)]);
    let snapshot_id = snapshot.element("snapshotId").unwrap().to_string();
    let image = call(
        s,
        &[
            ("Action", "RegisterImage"),
            ("Name", "seed-image"),
            ("RootDeviceName", "/dev/xvda"),
            ("BlockDeviceMapping.1.DeviceName", "/dev/xvda"),
            ("BlockDeviceMapping.1.Ebs.SnapshotId", &snapshot_id),
            ("TagSpecification.1.ResourceType", "image"),
            ("TagSpecification.1.Tag.1.Key", "k"),
            ("TagSpecification.1.Tag.1.Value", "v"),
        ],
    );
    assert_eq!(image.status, 200, "{}", image.body);
    image.element("imageId").unwrap().to_string()
}

#[test]
fn success_envelope_has_request_id_in_body_and_header() {
    let s = server();
    let r = call(&s, &[("Action", "DescribeRegions"), ("Version", "2016-11-15")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/xml;charset=UTF-8"));
    assert!(r.body.contains("<DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>"));
    assert_eq!(r.header("x-amzn-RequestId"), r.element("requestId"));
    assert!(r.body.contains("<regionName>eu-west-3</regionName>"));
}

#[test]
fn get_query_strings_and_presigned_scopes_work() {
    let s = server();
    let r = http(
        s.address(),
        "GET",
        "/?Action=DescribeAvailabilityZones&Version=2016-11-15&X-Amz-Credential=test%2F20261126%2Feu-west-1%2Fec2%2Faws4_request",
        &[],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<zoneName>eu-west-1a</zoneName>"));
}

#[test]
fn region_comes_from_the_scope_and_is_case_insensitive() {
    let s = server();
    let r = ec2(s.address(), "test", "AP-SOUTHEAST-2", &[("Action", "DescribeAvailabilityZones")]);
    assert!(r.body.contains("<regionName>ap-southeast-2</regionName>"), "{}", r.body);
    let unsigned = http(s.address(), "POST", "/", &[], b"Action=DescribeAvailabilityZones");
    assert!(unsigned.body.contains("<zoneName>us-east-1a</zoneName>"), "{}", unsigned.body);
    let bad = ec2(s.address(), "test", "mars-east-1", &[("Action", "DescribeRegions")]);
    assert_error(&bad, 401, "AuthFailure");
}

#[test]
fn twelve_digit_keys_are_accounts_and_resources_are_scoped_by_account_and_region() {
    let s = server();
    let mine = ec2(
        s.address(),
        "111111111111",
        "us-east-1",
        &[("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a"), ("Size", "1")],
    );
    let volume_id = mine.element("volumeId").unwrap().to_string();
    let other_account =
        ec2(s.address(), "222222222222", "us-east-1", &[("Action", "DescribeVolumes"), ("VolumeId.1", &volume_id)]);
    assert_error(&other_account, 400, "InvalidVolume.NotFound");
    let other_region =
        ec2(s.address(), "111111111111", "us-west-2", &[("Action", "DescribeVolumes"), ("VolumeId.1", &volume_id)]);
    assert_error(&other_region, 400, "InvalidVolume.NotFound");
    let same =
        ec2(s.address(), "111111111111", "us-east-1", &[("Action", "DescribeVolumes"), ("VolumeId.1", &volume_id)]);
    assert_eq!(same.element("volumeId"), Some(volume_id.as_str()));
}

#[test]
fn action_errors_name_the_action() {
    let s = server();
    let unknown = call(&s, &[("Action", "FrobnicateImages")]);
    assert_error(&unknown, 400, "InvalidAction");
    assert!(unknown.body.contains("FrobnicateImages"));
    let unimplemented = call(&s, &[("Action", "AllocateHosts")]);
    assert_error(&unimplemented, 400, "UnsupportedOperation");
    assert!(unimplemented.body.contains("AllocateHosts"));
    assert_error(&call(&s, &[("Version", "2016-11-15")]), 400, "MissingAction");
}

#[test]
fn dry_run_answers_412_and_changes_nothing() {
    let s = server();
    let before = state_of(&s);
    let r =
        call(&s, &[("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a"), ("Size", "8"), ("DryRun", "true")]);
    assert_error(&r, 412, "DryRunOperation");
    // Validation still comes first.
    let invalid =
        call(&s, &[("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1z"), ("Size", "8"), ("DryRun", "true")]);
    assert_error(&invalid, 400, "InvalidZone.NotFound");
    assert_eq!(state_of(&s), before);
    let not_dry = call(&s, &[("Action", "DescribeRegions"), ("DryRun", "false")]);
    assert_eq!(not_dry.status, 200);
}

/// Parameters, expected status, expected code.
type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);

#[test]
fn hostile_requests_get_ec2_errors_and_change_nothing() {
    let s = server();
    seed(&s);
    let before = state_of(&s);
    let many_ids: Vec<(String, String)> =
        (1..=1500).map(|i| (format!("ImageId.{i}"), format!("ami-{i:08x}"))).collect();
    let many_ids: Vec<(&str, &str)> = many_ids.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut describe_many = vec![("Action", "DescribeImages")];
    describe_many.extend(many_ids);
    let cases: Vec<Case> = vec![
        (vec![("Action", "DescribeImages"), ("ImageId.1", "ami-1234")], 400, "InvalidAMIID.Malformed"),
        (vec![("Action", "DescribeImages"), ("ImageId.1", "{var.ami_id}")], 400, "InvalidAMIID.Malformed"),
        (vec![("Action", "DescribeImages"), ("ImageId.1", "ami-0123456789abcdef0")], 400, "InvalidAMIID.NotFound"),
        (vec![("Action", "DescribeImages"), ("Owner.1", "nobody")], 400, "InvalidUserID.Malformed"),
        (
            vec![("Action", "DescribeImages"), ("Filter.1.Name", "no-such-filter"), ("Filter.1.Value.1", "x")],
            400,
            "InvalidParameterValue",
        ),
        (vec![("Action", "DescribeImages"), ("MaxResults", "3")], 400, "InvalidParameterValue"),
        (vec![("Action", "DescribeImages"), ("MaxResults", "ten")], 400, "InvalidParameterValue"),
        (
            vec![("Action", "DescribeImages"), ("MaxResults", "10"), ("ImageId.1", "ami-12345678")],
            400,
            "InvalidParameterCombination",
        ),
        (vec![("Action", "DescribeImages"), ("NextToken", "garbage")], 400, "InvalidPaginationToken"),
        (vec![("Action", "DescribeImages"), ("ImageId.x", "ami-12345678")], 400, "InvalidParameter"),
        (describe_many, 400, "InvalidParameterValue"),
        (vec![("Action", "DescribeVolumes"), ("DryRun", "maybe")], 400, "InvalidParameterValue"),
        (
            vec![("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a"), ("Size", "99999999999999999999")],
            400,
            "InvalidParameterValue",
        ),
        (
            vec![("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a"), ("Size", "-1")],
            400,
            "InvalidParameterValue",
        ),
        (vec![("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a")], 400, "MissingParameter"),
        (vec![("Action", "CreateVolume"), ("Size", "8")], 400, "MissingParameter"),
        (
            vec![("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a"), ("Size", "8"), ("VolumeType", "ssd")],
            400,
            "InvalidParameterValue",
        ),
        (vec![("Action", "CreateSnapshot"), ("VolumeId", "vol-00000000")], 400, "InvalidVolume.NotFound"),
        (vec![("Action", "CreateSnapshot"), ("VolumeId", "volume")], 400, "InvalidVolumeID.Malformed"),
        (vec![("Action", "DeleteSnapshot")], 400, "MissingParameter"),
        (vec![("Action", "RegisterImage"), ("Name", "x")], 400, "InvalidAMIName.Malformed"),
        (vec![("Action", "RegisterImage"), ("Name", "bad*name")], 400, "InvalidAMIName.Malformed"),
        (vec![("Action", "RegisterImage"), ("Name", "fine-name")], 400, "MissingParameter"),
        (
            vec![
                ("Action", "RegisterImage"),
                ("Name", "fine-name"),
                ("RootDeviceName", "/dev/xvda"),
                ("BlockDeviceMapping.1.DeviceName", "/dev/xvda"),
                ("BlockDeviceMapping.1.Ebs.SnapshotId", "snap-00000000"),
            ],
            400,
            "InvalidSnapshot.NotFound",
        ),
        (
            vec![
                ("Action", "RegisterImage"),
                ("Name", "fine-name"),
                ("ImageLocation", "b/m.xml"),
                ("Architecture", "sparc"),
            ],
            400,
            "InvalidParameterValue",
        ),
        (
            vec![("Action", "RegisterImage"), ("Name", "seed-image"), ("ImageLocation", "b/m.xml")],
            400,
            "InvalidAMIName.Duplicate",
        ),
        (
            vec![("Action", "ModifyImageAttribute"), ("ImageId", "ami-00000000"), ("Description.Value", "x")],
            400,
            "InvalidAMIID.NotFound",
        ),
        (
            vec![("Action", "DescribeImageAttribute"), ("ImageId", "ami-00000000"), ("Attribute", "color")],
            400,
            "InvalidParameterValue",
        ),
        (
            vec![("Action", "ResetImageAttribute"), ("ImageId", "ami-00000000"), ("Attribute", "kernel")],
            400,
            "InvalidParameterValue",
        ),
        (vec![("Action", "CreateTags"), ("ResourceId.1", "foo-12345678"), ("Tag.1.Key", "a")], 400, "InvalidID"),
        (vec![("Action", "CreateTags"), ("ResourceId.1", "vol-12345678")], 400, "MissingParameter"),
        (
            vec![("Action", "CreateTags"), ("ResourceId.1", "vol-12345678"), ("Tag.1.Key", "aws:x")],
            400,
            "InvalidParameterValue",
        ),
        (
            vec![("Action", "DescribeTags"), ("Filter.1.Name", "colour"), ("Filter.1.Value.1", "x")],
            400,
            "InvalidParameterValue",
        ),
        (vec![("Action", "DescribeRegions"), ("RegionName.1", "atlantis-1")], 400, "InvalidParameterValue"),
        (
            vec![("Action", "CopySnapshot"), ("SourceRegion", "atlantis-1"), ("SourceSnapshotId", "snap-12345678")],
            400,
            "InvalidRegion",
        ),
    ];
    for (pairs, status, code) in &cases {
        let r = call(&s, pairs);
        assert_eq!(
            (r.status, r.element("Code")),
            (*status, Some(*code)),
            "{:?} → {}",
            &pairs[..pairs.len().min(3)],
            r.body
        );
    }
    // Bodies that are not forms at all.
    for body in [&b"\xff\xfe\x00garbage"[..], b"%%%===&&&", b"Action", b"Action=DescribeImages&ImageId.1=%ZZ"] {
        let r = http(s.address(), "POST", "/", &[("Authorization", &auth_header("test", "us-east-1"))], body);
        assert!(r.status >= 400 && r.status < 500, "{} for {body:?}", r.status);
        assert!(r.element("Code").is_some(), "{}", r.body);
    }
    let huge = vec![b'a'; 3 * 1024 * 1024];
    let r = http(s.address(), "POST", "/", &[], &huge);
    assert_error(&r, 413, "RequestEntityTooLarge");
    assert_eq!(state_of(&s), before);
}

/// A small deterministic fuzzer: random parameters from a vocabulary of real keys and
/// awkward values, against every implemented action. Nothing may answer 5xx.
#[test]
fn random_parameters_never_cause_server_errors() {
    let s = server();
    let image_id = seed(&s);
    let actions = [
        "DescribeRegions",
        "DescribeAvailabilityZones",
        "CreateVolume",
        "DescribeVolumes",
        "DeleteVolume",
        "CreateSnapshot",
        "DescribeSnapshots",
        "DeleteSnapshot",
        "CopySnapshot",
        "ModifySnapshotAttribute",
        "DescribeSnapshotAttribute",
        "ResetSnapshotAttribute",
        "RegisterImage",
        "DescribeImages",
        "ModifyImageAttribute",
        "DescribeImageAttribute",
        "ResetImageAttribute",
        "CreateTags",
        "DeleteTags",
        "DescribeTags",
    ];
    let keys = [
        "ImageId",
        "ImageId.1",
        "VolumeId",
        "VolumeId.1",
        "SnapshotId",
        "SnapshotId.1",
        "Size",
        "AvailabilityZone",
        "VolumeType",
        "Name",
        "RootDeviceName",
        "BlockDeviceMapping.1.DeviceName",
        "BlockDeviceMapping.1.Ebs.SnapshotId",
        "BlockDeviceMapping.1.Ebs.VolumeSize",
        "BlockDeviceMapping.1.NoDevice",
        "Filter.1.Name",
        "Filter.1.Value.1",
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
        "LaunchPermission.Remove.1.Group",
        "CreateVolumePermission.Add.1.Group",
        "Description.Value",
        "ResourceId.1",
        "Tag.1.Key",
        "Tag.1.Value",
        "TagSpecification.1.ResourceType",
        "TagSpecification.1.Tag.1.Key",
        "SourceRegion",
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
        "DeleteAssociatedSnapshots",
        "IncludeDeprecated",
        "Value",
    ];
    let values = [
        "",
        "0",
        "-1",
        "5",
        "1000",
        "18446744073709551616",
        "true",
        "false",
        "self",
        "all",
        "amazon",
        "us-east-1",
        "us-east-1a",
        "gp3",
        "io1",
        "/dev/xvda",
        "name",
        "description",
        "ami-12345678",
        "snap-12345678",
        "vol-12345678",
        "launchPermission",
        "description",
        "add",
        "remove",
        "123456789012",
        "x*?\\[",
        "<&>\"'",
        "ünïcødé",
        "ami-",
        "' OR 1=1 --",
        "tag:k",
        "image",
        "snapshot",
    ];
    let mut seed_state: u64 = 0x5eed;
    let mut next = |n: usize| {
        seed_state = seed_state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed_state >> 33) as usize) % n
    };
    for round in 0..600 {
        let action = actions[round % actions.len()];
        let mut owned: Vec<(String, String)> = vec![("Action".into(), action.into())];
        for _ in 0..next(7) {
            let value = if next(5) == 0 { image_id.clone() } else { values[next(values.len())].to_string() };
            owned.push((keys[next(keys.len())].to_string(), value));
        }
        let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = call(&s, &pairs);
        assert!(r.status < 500, "{} on {}: {}", r.status, form(&pairs), r.body);
        assert!(r.status == 200 || r.element("Code").is_some(), "{}", r.body);
    }
}

#[test]
fn health_and_reset() {
    let s = server();
    let health = http(s.address(), "GET", "/_ec2lite/health", &[], b"");
    assert_eq!(health.status, 200);
    assert!(health.body.contains("\"status\":\"ok\""), "{}", health.body);
    assert!(health.body.contains(env!("CARGO_PKG_VERSION")));
    seed(&s);
    assert_ne!(state_of(&s), (0, 0, 0, 0));
    let reset = http(s.address(), "POST", "/_ec2lite/reset", &[], b"");
    assert_eq!(reset.status, 200);
    assert_eq!(state_of(&s), (0, 0, 0, 0));
    // The schema stays: new resources can be made at once.
    seed(&s);
    assert_eq!(state_of(&s).2, 1);
}
