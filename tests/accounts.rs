//! The accounts file: access keys map to accounts, organization and OU grants are
//! honoured, and opt-in regions an account has not enabled refuse its calls.

use ec2lite_test_support::{ec2, HttpResponse, Server};

const ACCOUNTS: &str = r#"{
  "organizations": [{ "id": "o-abcdefghij", "management_account": "111111111111",
    "units": [{ "id": "ou-ab12-parent01" }, { "id": "ou-ab12-child001", "parent": "ou-ab12-parent01" }] }],
  "accounts": [
    { "id": "444444444444", "organization": "o-abcdefghij", "unit": "ou-ab12-child001",
      "access_keys": [{ "access_key_id": "AKIAORGMEMBER", "secret_access_key": "s" }],
      "opt_in_regions": ["af-south-1"] },
    { "id": "555555555555", "access_keys": [{ "access_key_id": "AKIAOUTSIDER", "secret_access_key": "s" }] }
  ] }"#;

fn server() -> Server {
    Server::start_with_accounts(env!("CARGO_BIN_EXE_ec2lite").as_ref(), ACCOUNTS, &["--no-catalog"])
}

fn owner_image(s: &Server) -> String {
    let call = |pairs: &[(&str, &str)]| ec2(s.address(), "111111111111", "us-east-1", pairs);
    let v = call(&[("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a"), ("Size", "1")]);
    let snap = call(&[("Action", "CreateSnapshot"), ("VolumeId", v.element("volumeId").unwrap())]);
    let image = call(&[
        ("Action", "RegisterImage"),
        ("Name", "org-image"),
        ("RootDeviceName", "/dev/xvda"),
        ("BlockDeviceMapping.1.DeviceName", "/dev/xvda"),
        ("BlockDeviceMapping.1.Ebs.SnapshotId", snap.element("snapshotId").unwrap()),
    ]);
    image.element("imageId").expect("registered").to_string()
}

fn sees(s: &Server, key: &str, image: &str) -> bool {
    let r: HttpResponse = ec2(s.address(), key, "us-east-1", &[("Action", "DescribeImages"), ("ImageId.1", image)]);
    r.status == 200 && r.body.contains(image)
}

fn grant(s: &Server, image: &str, op: &str, field: &str, value: &str) {
    let key = format!("LaunchPermission.{op}.1.{field}");
    let r = ec2(
        s.address(),
        "111111111111",
        "us-east-1",
        &[("Action", "ModifyImageAttribute"), ("ImageId", image), (&key, value)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn organization_and_unit_grants_reach_members_only() {
    let s = server();
    let image = owner_image(&s);
    assert!(!sees(&s, "AKIAORGMEMBER", &image));
    let org = "arn:aws:organizations::111111111111:organization/o-abcdefghij";
    grant(&s, &image, "Add", "OrganizationArn", org);
    assert!(sees(&s, "AKIAORGMEMBER", &image));
    assert!(!sees(&s, "AKIAOUTSIDER", &image));
    let mine =
        ec2(s.address(), "AKIAORGMEMBER", "us-east-1", &[("Action", "DescribeImages"), ("ExecutableBy.1", "self")]);
    assert!(mine.body.contains(&image), "{}", mine.body);
    let by_id = ec2(
        s.address(),
        "AKIAOUTSIDER",
        "us-east-1",
        &[("Action", "DescribeImages"), ("ExecutableBy.1", "444444444444")],
    );
    assert!(!by_id.body.contains(&image), "org grants are not explicit grants to the account");
    let launch = ec2(
        s.address(),
        "AKIAORGMEMBER",
        "us-east-1",
        &[("Action", "RunInstances"), ("ImageId", &image), ("MinCount", "1"), ("MaxCount", "1")],
    );
    assert_eq!(launch.status, 200, "{}", launch.body);
    grant(&s, &image, "Remove", "OrganizationArn", org);
    assert!(!sees(&s, "AKIAORGMEMBER", &image));

    // A grant to the parent unit covers accounts in the child unit.
    let parent = "arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-parent01";
    grant(&s, &image, "Add", "OrganizationalUnitArn", parent);
    assert!(sees(&s, "AKIAORGMEMBER", &image));
    assert!(!sees(&s, "AKIAOUTSIDER", &image));
    let modify = ec2(
        s.address(),
        "AKIAORGMEMBER",
        "us-east-1",
        &[("Action", "ModifyImageAttribute"), ("ImageId", &image), ("Description.Value", "x")],
    );
    assert_eq!(modify.element("Code"), Some("AuthFailure"));
}

#[test]
fn opt_in_regions_must_be_enabled() {
    let s = server();
    let enabled = ec2(s.address(), "AKIAORGMEMBER", "af-south-1", &[("Action", "DescribeAvailabilityZones")]);
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    let disabled = ec2(s.address(), "AKIAORGMEMBER", "eu-south-1", &[("Action", "DescribeAvailabilityZones")]);
    assert_eq!((disabled.status, disabled.element("Code")), (401, Some("AuthFailure")));
    let listed = ec2(s.address(), "AKIAORGMEMBER", "us-east-1", &[("Action", "DescribeRegions")]);
    assert!(listed.body.contains("<regionName>af-south-1</regionName>") && !listed.body.contains("eu-south-1"));
    let all = ec2(s.address(), "AKIAORGMEMBER", "us-east-1", &[("Action", "DescribeRegions"), ("AllRegions", "true")]);
    assert!(all.body.contains("<regionName>eu-south-1</regionName><regionEndpoint>ec2.eu-south-1.amazonaws.com</regionEndpoint><optInStatus>not-opted-in</optInStatus>"), "{}", all.body);
    // Accounts without a list have every opt-in region enabled.
    let other = ec2(s.address(), "AKIAOUTSIDER", "eu-south-1", &[("Action", "DescribeAvailabilityZones")]);
    assert_eq!(other.status, 200);
}
