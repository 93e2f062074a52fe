//! Durability: what was acknowledged before a restart (gentle or `kill -9`) is all there
//! after it, pending transitions included.

use ec2lite_test_support::{ec2, HttpResponse, Server};

fn call(s: &Server, pairs: &[(&str, &str)]) -> HttpResponse {
    ec2(s.address(), "123456789012", "eu-west-1", pairs)
}

/// Creates a volume, snapshot, shared and tagged image; returns (volume, snapshot, image).
fn write_state(s: &Server) -> (String, String, String) {
    let v = call(
        s,
        &[("Action", "CreateVolume"), ("AvailabilityZone", "eu-west-1b"), ("Size", "20"), ("VolumeType", "gp3")],
    );
    let volume = v.element("volumeId").unwrap().to_string();
    let snap = call(s, &[("Action", "CreateSnapshot"), ("VolumeId", &volume), ("Description", "before restart")]);
    let snapshot = snap.element("snapshotId").unwrap().to_string();
    let image = call(
        s,
        &[
            ("Action", "RegisterImage"),
            ("Name", "durable"),
            ("Architecture", "arm64"),
            ("VirtualizationType", "hvm"),
            ("RootDeviceName", "/dev/xvda"),
            ("BlockDeviceMapping.1.DeviceName", "/dev/xvda"),
            ("BlockDeviceMapping.1.Ebs.SnapshotId", &snapshot),
        ],
    );
    let image = image.element("imageId").unwrap().to_string();
    let shared = call(
        s,
        &[("Action", "ModifyImageAttribute"), ("ImageId", &image), ("LaunchPermission.Add.1.UserId", "210987654321")],
    );
    assert_eq!(shared.status, 200, "{}", shared.body);
    let tagged = call(
        s,
        &[
            ("Action", "CreateTags"),
            ("ResourceId.1", &image),
            ("ResourceId.2", &volume),
            ("Tag.1.Key", "team"),
            ("Tag.1.Value", "core"),
        ],
    );
    assert_eq!(tagged.status, 200, "{}", tagged.body);
    (volume, snapshot, image)
}

fn assert_state(s: &Server, (volume, snapshot, image): &(String, String, String)) {
    let v = call(s, &[("Action", "DescribeVolumes"), ("VolumeId.1", volume)]);
    assert_eq!(v.element("size"), Some("20"), "{}", v.body);
    assert!(v.body.contains("<key>team</key><value>core</value>"), "{}", v.body);
    let sn = call(s, &[("Action", "DescribeSnapshots"), ("SnapshotId.1", snapshot)]);
    assert_eq!(sn.element("description"), Some("before restart"), "{}", sn.body);
    assert_eq!(sn.element("status"), Some("completed"), "{}", sn.body);
    let i = call(s, &[("Action", "DescribeImages"), ("ImageId.1", image)]);
    assert_eq!(i.element("architecture"), Some("arm64"), "{}", i.body);
    assert_eq!(i.element("imageState"), Some("available"), "{}", i.body);
    assert!(i.body.contains("<key>team</key><value>core</value>"), "{}", i.body);
    let lp = call(s, &[("Action", "DescribeImageAttribute"), ("ImageId", image), ("Attribute", "launchPermission")]);
    assert!(lp.body.contains("<userId>210987654321</userId>"), "{}", lp.body);
    let dup = call(s, &[("Action", "RegisterImage"), ("Name", "durable"), ("ImageLocation", "b/m.xml")]);
    assert_eq!(dup.element("Code"), Some("InvalidAMIName.Duplicate"));
}

#[test]
fn state_survives_a_graceful_restart() {
    let mut s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &[]);
    let ids = write_state(&s);
    s.restart();
    assert_state(&s, &ids);
}

#[test]
fn state_survives_kill_9() {
    let mut s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &[]);
    let ids = write_state(&s);
    s.kill_9();
    s.start_again();
    assert_state(&s, &ids);
}

#[test]
fn pending_transitions_survive_a_restart() {
    let mut s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--snapshot-pending-ms", "1500"]);
    let v = call(&s, &[("Action", "CreateVolume"), ("AvailabilityZone", "eu-west-1a"), ("Size", "1")]);
    let volume = v.element("volumeId").unwrap().to_string();
    let snap = call(&s, &[("Action", "CreateSnapshot"), ("VolumeId", &volume)]);
    let snapshot = snap.element("snapshotId").unwrap().to_string();
    s.kill_9();
    s.start_again();
    let pending = call(&s, &[("Action", "DescribeSnapshots"), ("SnapshotId.1", &snapshot)]);
    assert_eq!(pending.element("status"), Some("pending"), "{}", pending.body);
    std::thread::sleep(std::time::Duration::from_millis(1600));
    let done = call(&s, &[("Action", "DescribeSnapshots"), ("SnapshotId.1", &snapshot)]);
    assert_eq!(done.element("status"), Some("completed"), "{}", done.body);
    assert_eq!(done.element("progress"), Some("100%"));
}
