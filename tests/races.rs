//! Issue 15's races, against the real binary: requests that must be decided once
//! (a unique name, a client token, a grant) sent from many threads at the same instant,
//! and a deregistration racing launches of the image. Every answer is checked, and then
//! the state the server reports.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::thread;

use ec2lite_test_support::{ec2, HttpResponse, Server};

const THREADS: usize = 20;

fn server() -> Server {
    Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--no-catalog"])
}

fn call(address: &str, pairs: &[(&str, &str)]) -> HttpResponse {
    ec2(address, "test", "us-east-1", pairs)
}

/// Runs `request` on `n` threads released together; the answers in thread order.
fn at_once(
    s: &Server,
    n: usize,
    request: impl Fn(&str, usize) -> HttpResponse + Send + Sync + 'static,
) -> Vec<HttpResponse> {
    let request = Arc::new(request);
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (request, barrier, address) = (request.clone(), barrier.clone(), s.address().to_string());
            thread::spawn(move || {
                barrier.wait();
                request(&address, i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("request thread")).collect()
}

/// The texts of every `<tag>...</tag>` in the body.
fn all(r: &HttpResponse, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    r.body.split(&open).skip(1).map(|rest| rest.split(&close).next().unwrap_or_default().to_string()).collect()
}

fn code(r: &HttpResponse) -> Option<&str> {
    r.element("Code")
}

fn register(address: &str, name: &str) -> HttpResponse {
    call(address, &[("Action", "RegisterImage"), ("Name", name), ("ImageLocation", "bucket/manifest.xml")])
}

#[test]
fn one_register_image_wins_a_name() {
    let s = server();
    let answers = at_once(&s, THREADS, |address, _| register(address, "raced-name"));
    let winners: Vec<_> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(winners.len(), 1, "{:#?}", answers);
    for r in answers.iter().filter(|r| r.status != 200) {
        assert_eq!((r.status, code(r)), (400, Some("InvalidAMIName.Duplicate")), "{}", r.body);
    }
    let image = winners[0].element("imageId").expect("imageId");
    let described = call(
        s.address(),
        &[
            ("Action", "DescribeImages"),
            ("Owner.1", "self"),
            ("Filter.1.Name", "name"),
            ("Filter.1.Value.1", "raced-name"),
        ],
    );
    assert_eq!(described.status, 200, "{}", described.body);
    assert_eq!(all(&described, "imageId"), [image], "{}", described.body);
}

#[test]
fn one_create_key_pair_wins_a_name() {
    let s = server();
    let answers = at_once(&s, THREADS, |address, _| {
        call(address, &[("Action", "CreateKeyPair"), ("KeyName", "raced-key"), ("KeyType", "ed25519")])
    });
    let winners: Vec<_> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(winners.len(), 1, "{:#?}", answers);
    for r in answers.iter().filter(|r| r.status != 200) {
        assert_eq!((r.status, code(r)), (400, Some("InvalidKeyPair.Duplicate")), "{}", r.body);
    }
    let key_id = winners[0].element("keyPairId").expect("keyPairId");
    let described = call(s.address(), &[("Action", "DescribeKeyPairs"), ("KeyName.1", "raced-key")]);
    assert_eq!(described.status, 200, "{}", described.body);
    assert_eq!(all(&described, "keyPairId"), [key_id], "{}", described.body);
}

#[test]
fn one_client_token_launches_once() {
    let s = server();
    let image = register(s.address(), "token-image").element("imageId").expect("imageId").to_string();
    let answers = {
        let image = image.clone();
        at_once(&s, THREADS, move |address, _| {
            call(
                address,
                &[
                    ("Action", "RunInstances"),
                    ("ImageId", &image),
                    ("MinCount", "1"),
                    ("MaxCount", "1"),
                    ("ClientToken", "raced-token"),
                ],
            )
        })
    };
    let mut seen = BTreeSet::new();
    for r in &answers {
        assert_eq!(r.status, 200, "{}", r.body);
        let ids: BTreeSet<String> = all(r, "instanceId").into_iter().collect();
        assert_eq!(ids.len(), 1, "{}", r.body);
        seen.insert(ids);
    }
    assert_eq!(seen.len(), 1, "different instances for one client token: {seen:?}");
    let ids = seen.into_iter().next().unwrap();
    let described = call(s.address(), &[("Action", "DescribeInstances")]);
    assert_eq!(described.status, 200, "{}", described.body);
    let listed: BTreeSet<String> = all(&described, "instanceId").into_iter().collect();
    assert_eq!(listed, ids, "{}", described.body);
    assert_eq!(described.count("<clientToken>raced-token</clientToken>"), 1, "{}", described.body);
}

#[test]
fn deregistering_an_image_while_it_launches() {
    const LAUNCHERS: usize = 6;
    let s = server();
    let (mut launched, mut refused) = (0, 0);
    for round in 0..10 {
        let image = register(s.address(), &format!("doomed-{round}")).element("imageId").expect("imageId").to_string();
        let answers = {
            let image = image.clone();
            at_once(&s, LAUNCHERS + 1, move |address, i| {
                if i == 0 {
                    call(address, &[("Action", "DeregisterImage"), ("ImageId", &image)])
                } else {
                    call(
                        address,
                        &[("Action", "RunInstances"), ("ImageId", &image), ("MinCount", "1"), ("MaxCount", "1")],
                    )
                }
            })
        };
        assert_eq!(answers[0].status, 200, "DeregisterImage: {}", answers[0].body);
        for r in &answers[1..] {
            if r.status == 200 {
                launched += 1;
                let id = r.element("instanceId").expect("instanceId");
                let described = call(s.address(), &[("Action", "DescribeInstances"), ("InstanceId.1", id)]);
                assert_eq!(described.status, 200, "{}", described.body);
                assert_eq!(all(&described, "instanceId"), [id], "{}", described.body);
            } else {
                refused += 1;
                assert_eq!(r.status, 400, "{}", r.body);
                assert!(matches!(code(r), Some("InvalidAMIID.NotFound" | "InvalidAMIID.Unavailable")), "{}", r.body);
            }
        }
        let after =
            call(s.address(), &[("Action", "RunInstances"), ("ImageId", &image), ("MinCount", "1"), ("MaxCount", "1")]);
        assert_eq!(after.status, 400, "launched from a deregistered image: {}", after.body);
    }
    assert_eq!(launched + refused, 10 * LAUNCHERS);
    eprintln!("{launched} launched, {refused} refused");
}

#[test]
fn racing_grants_leave_one_grant() {
    const GRANTEE: &str = "210987654321";
    let s = server();
    let image = register(s.address(), "granted").element("imageId").expect("imageId").to_string();
    let modify = |address: &str, image: &str, op: &str| {
        let key = format!("LaunchPermission.{op}.1.UserId");
        call(address, &[("Action", "ModifyImageAttribute"), ("ImageId", image), (&key, GRANTEE)])
    };
    let answers = {
        let image = image.clone();
        at_once(&s, 10, move |address, i| modify(address, &image, if i % 2 == 0 { "Add" } else { "Remove" }))
    };
    for r in &answers {
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let last = modify(s.address(), &image, "Add");
    assert_eq!(last.status, 200, "{}", last.body);
    let described = call(
        s.address(),
        &[("Action", "DescribeImageAttribute"), ("ImageId", &image), ("Attribute", "launchPermission")],
    );
    assert_eq!(described.status, 200, "{}", described.body);
    assert_eq!(all(&described, "userId"), [GRANTEE], "{}", described.body);
}
