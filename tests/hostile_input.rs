//! Issue 15's input defects, against the real binary: overlong wildcard filters and
//! overlong values are refused with EC2 errors (never a 5xx), control characters are
//! refused on input, and no answer, success or error, carries a character XML 1.0
//! forbids.

use ec2lite_test_support::{ec2, http, HttpResponse, Server};

fn server() -> Server {
    Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--no-catalog"])
}

fn call(s: &Server, pairs: &[(&str, &str)]) -> HttpResponse {
    ec2(s.address(), "test", "us-east-1", pairs)
}

/// POSTs an already form-encoded body, unsigned.
fn raw(s: &Server, body: &str) -> HttpResponse {
    http(s.address(), "POST", "/", &[("Content-Type", "application/x-www-form-urlencoded")], body.as_bytes())
}

/// Well-formed XML 1.0: only characters it allows, and balanced elements.
fn assert_well_formed(r: &HttpResponse) {
    assert!(r.body.chars().all(ec2lite::domain::text::is_xml_char), "character XML forbids in {:?}", r.body);
    let mut reader = quick_xml::Reader::from_str(&r.body);
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{e}: {}", r.body),
        }
    }
    assert_eq!(depth, 0, "{}", r.body);
}

fn assert_error(r: &HttpResponse, status: u16, code: &str) {
    assert_eq!((r.status, r.element("Code")), (status, Some(code)), "{}", r.body);
    assert_well_formed(r);
}

/// One image, one tag and one key pair, so that every filtered query has rows to match.
fn seed(s: &Server) {
    let image = call(s, &[("Action", "RegisterImage"), ("Name", "seeded"), ("ImageLocation", "b/m.xml")]);
    let image_id = image.element("imageId").expect("imageId").to_string();
    let tagged =
        call(s, &[("Action", "CreateTags"), ("ResourceId.1", &image_id), ("Tag.1.Key", "k"), ("Tag.1.Value", "v")]);
    assert_eq!(tagged.status, 200, "{}", tagged.body);
    let key = call(s, &[("Action", "CreateKeyPair"), ("KeyName", "seeded"), ("KeyType", "ed25519")]);
    assert_eq!(key.status, 200, "{}", key.body);
}

#[test]
fn long_wildcard_filters_are_refused_not_a_5xx() {
    let s = server();
    seed(&s);
    let stars = format!("a{}", "*".repeat(50_001));
    for (action, filter) in [
        ("DescribeImages", "name"),
        ("DescribeImages", "description"),
        ("DescribeImages", "tag:k"),
        ("DescribeTags", "value"),
        ("DescribeKeyPairs", "key-name"),
    ] {
        let r = call(
            &s,
            &[("Action", action), ("Owner.1", "self"), ("Filter.1.Name", filter), ("Filter.1.Value.1", &stars)],
        );
        assert_error(&r, 400, "InvalidParameterValue");
    }
    // The longest value accepted still matches as a pattern.
    let longest = format!("s{}", "*".repeat(1023));
    let r = call(
        &s,
        &[("Action", "DescribeImages"), ("Owner.1", "self"), ("Filter.1.Name", "name"), ("Filter.1.Value.1", &longest)],
    );
    assert_eq!((r.status, r.count("<imageId>")), (200, 1), "{}", r.body);
}

#[test]
fn too_many_filter_values_and_overlong_parameters_are_refused() {
    let s = server();
    let mut pairs = vec![("Action".to_string(), "DescribeImages".to_string()), ("Filter.1.Name".into(), "name".into())];
    pairs.extend((1..=201).map(|i| (format!("Filter.1.Value.{i}"), format!("v{i}"))));
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_error(&call(&s, &refs), 400, "FilterLimitExceeded");

    let huge = "A".repeat(64 * 1024 + 1);
    let r = call(&s, &[("Action", "CreateSecurityGroup"), ("GroupName", "g"), ("GroupDescription", &huge)]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_well_formed(&r);
    let r = call(&s, &[("Action", "DescribeSecurityGroups"), ("GroupName.1", "g")]);
    assert_eq!(r.count("<groupId>"), 0, "stored half-checked: {}", r.body);
}

#[test]
fn control_characters_are_refused_on_input_and_nothing_is_stored() {
    let s = server();
    let key = raw(&s, "Action=CreateKeyPair&Version=2016-11-15&KeyName=a%00b");
    assert_error(&key, 400, "InvalidParameterValue");
    let keys = call(&s, &[("Action", "DescribeKeyPairs")]);
    assert_eq!(keys.count("<keyName>"), 0, "{}", keys.body);

    let image = call(&s, &[("Action", "RegisterImage"), ("Name", "img"), ("ImageLocation", "b/m.xml")]);
    let image_id = image.element("imageId").unwrap().to_string();
    for tag in [("a\u{1}b", "v"), ("k", "v\u{0}"), ("tab\tkey", "v")] {
        let r = call(
            &s,
            &[("Action", "CreateTags"), ("ResourceId.1", &image_id), ("Tag.1.Key", tag.0), ("Tag.1.Value", tag.1)],
        );
        assert_error(&r, 400, "InvalidParameterValue");
    }
    let described = call(&s, &[("Action", "DescribeImages"), ("ImageId.1", &image_id)]);
    assert_eq!(described.count("<key>"), 0, "{}", described.body);

    let r = call(
        &s,
        &[("Action", "RegisterImage"), ("Name", "img2"), ("ImageLocation", "b/m.xml"), ("Description", "bell\u{7}")],
    );
    assert_error(&r, 400, "InvalidParameterValue");
    // A parameter no validator reads is refused all the same.
    let r = call(&s, &[("Action", "CreateSecurityGroup"), ("GroupName", "g\u{1B}"), ("GroupDescription", "d")]);
    assert_error(&r, 400, "InvalidParameterValue");
}

#[test]
fn the_ebs_start_snapshot_description_refuses_control_characters() {
    let s = server();
    let auth = "AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/ebs/aws4_request, SignedHeaders=host, Signature=00";
    let r = http(
        s.address(),
        "POST",
        "/snapshots",
        &[("Authorization", auth), ("Content-Type", "application/json")],
        br#"{"VolumeSize":1,"Description":"a\u0000b"}"#,
    );
    assert_eq!((r.status, r.header("x-amzn-ErrorType")), (400, Some("ValidationException")), "{}", r.body);
    let snapshots = call(&s, &[("Action", "DescribeSnapshots"), ("Owner.1", "self")]);
    assert_eq!(snapshots.count("<snapshotId>"), 0, "{}", snapshots.body);
}

#[test]
fn errors_echoing_bad_values_stay_well_formed() {
    let s = server();
    assert_error(&raw(&s, "Action=%00&Version=2016-11-15"), 400, "InvalidAction");
    assert_error(&raw(&s, "Action=DescribeSnapshots&SnapshotId.1=%00"), 400, "InvalidSnapshotID.Malformed");
    assert_error(&raw(&s, "Action=DeleteSnapshot&SnapshotId=%01%FF%FE"), 400, "InvalidSnapshotID.Malformed");
    let presigned = "Action=DescribeRegions&X-Amz-Credential=test%2F20261126%2Fmars%00%2Fec2%2Faws4_request";
    assert_error(&raw(&s, presigned), 401, "AuthFailure");
    assert_error(&raw(&s, "Action=DescribeImages&Filter.1.Name=%02"), 400, "InvalidParameterValue");
}

#[test]
fn shared_free_texts_over_ec2_limits_are_refused_and_not_stored() {
    let s = server();
    let user_data = "A".repeat(21_852);
    let r = call(
        &s,
        &[
            ("Action", "RunInstances"),
            ("ImageId", "ami-12345678"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
            ("UserData", &user_data),
        ],
    );
    assert_error(&r, 400, "InvalidParameterValue");
    let description = "d".repeat(256);
    let r = call(
        &s,
        &[("Action", "ImportImage"), ("Description", &description), ("DiskContainer.1.Url", "s3://bucket/disk.raw")],
    );
    assert_error(&r, 400, "InvalidParameterValue");
    let tasks = call(&s, &[("Action", "DescribeImportImageTasks")]);
    assert_eq!((tasks.status, tasks.count("<importTaskId>")), (200, 0), "{}", tasks.body);
}

#[test]
fn optional_wildcards_that_expand_past_sqlite_limits_are_refused() {
    let s = server();
    seed(&s);
    // Four values of eight '?' expand to 1,024 GLOB patterns; SQLite refused the
    // expression (depth over 1,000) with a 500 before.
    let values: Vec<String> = (0..4).map(|i| format!("a?b?c?d?e?f?g?h?{i}")).collect();
    for (action, filter) in [("DescribeImages", "name"), ("DescribeImages", "tag:k"), ("DescribeTags", "value")] {
        let mut pairs = vec![("Action", action), ("Owner.1", "self"), ("Filter.1.Name", filter)];
        let keys: Vec<String> = (1..=values.len()).map(|i| format!("Filter.1.Value.{i}")).collect();
        pairs.extend(keys.iter().map(String::as_str).zip(values.iter().map(String::as_str)));
        assert_error(&call(&s, &pairs), 400, "InvalidParameterValue");
    }
    // The most a filter may expand to, beside 49 other filters, still answers.
    let mut pairs = vec![
        ("Action".to_string(), "DescribeImages".to_string()),
        ("Filter.1.Name".into(), "tag:k".into()),
        ("Filter.1.Value.1".into(), "?v?v?v?v?v?v?v?v".into()),
    ];
    for i in 2..=50 {
        pairs.push((format!("Filter.{i}.Name"), format!("tag:k{i}")));
        pairs.push((format!("Filter.{i}.Value.1"), "*".into()));
    }
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = call(&s, &refs);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn wildcards_matched_in_memory_answer_promptly() {
    let s = server();
    // Backtracking over '?' took minutes here, holding one of the two worker threads.
    let value = format!("{}#", "?".repeat(1000));
    for (action, filter) in [
        ("DescribeInstanceTypes", "instance-type"),
        ("DescribeRegions", "region-name"),
        ("DescribeAvailabilityZones", "zone-name"),
    ] {
        let started = std::time::Instant::now();
        let r = call(&s, &[("Action", action), ("Filter.1.Name", filter), ("Filter.1.Value.1", &value)]);
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{action}: {:?}", started.elapsed());
    }
}
