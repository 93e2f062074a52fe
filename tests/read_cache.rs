//! The read cache never serves an answer older than a write acknowledged before the
//! request: checked while other clients keep the same statements hot, across accounts,
//! and for two processes sharing one database file with the cache off.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ec2lite_test_support::{ec2, temp_dir, HttpResponse, Server};

const BIN: &str = env!("CARGO_BIN_EXE_ec2lite");

fn call(s: &Server, account: &str, pairs: &[(&str, &str)]) -> HttpResponse {
    let r = ec2(s.address(), account, "us-east-1", pairs);
    assert!(r.status < 500, "{}", r.body);
    r
}

fn register(s: &Server, account: &str, name: &str) -> String {
    let r = call(s, account, &[("Action", "RegisterImage"), ("Name", name), ("ImageLocation", "b/m.xml")]);
    assert_eq!(r.status, 200, "{}", r.body);
    r.element("imageId").unwrap().to_string()
}

fn describe_by_id(s: &Server, account: &str, image_id: &str) -> HttpResponse {
    call(s, account, &[("Action", "DescribeImages"), ("ImageId.1", image_id)])
}

struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[test]
fn every_answer_follows_the_writes_acknowledged_before_it() {
    let server = Arc::new(Server::start(BIN.as_ref(), &["--no-catalog"]));
    let owner = "111111111111";
    let image_id = register(&server, owner, "cached");
    // Readers that keep the same statements in the cache the whole time; they stop when
    // the test ends, failed or not, so that the server is stopped with it.
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_readers = StopOnDrop(stop.clone());
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (server, stop, image_id) = (server.clone(), stop.clone(), image_id.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    describe_by_id(&server, owner, &image_id);
                    describe_by_id(&server, "222222222222", &image_id);
                }
            })
        })
        .collect();
    for round in 0..60 {
        let description = format!("round {round}");
        let modify = call(
            &server,
            owner,
            &[("Action", "ModifyImageAttribute"), ("ImageId", &image_id), ("Description.Value", &description)],
        );
        assert_eq!(modify.status, 200, "{}", modify.body);
        assert_eq!(describe_by_id(&server, owner, &image_id).element("description"), Some(description.as_str()));
        let filtered = call(
            &server,
            owner,
            &[
                ("Action", "DescribeImages"),
                ("Owner.1", "self"),
                ("Filter.1.Name", "description"),
                ("Filter.1.Value.1", &description),
            ],
        );
        assert_eq!(filtered.count("<imageId>"), 1, "{}", filtered.body);

        // Another account sees the image exactly while it is shared with it.
        let other = "222222222222";
        let operation = if round % 2 == 0 { "add" } else { "remove" };
        let share = call(
            &server,
            owner,
            &[
                ("Action", "ModifyImageAttribute"),
                ("ImageId", &image_id),
                ("LaunchPermission.Add.1.UserId", if operation == "add" { other } else { "" }),
                ("LaunchPermission.Remove.1.UserId", if operation == "remove" { other } else { "" }),
            ]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect::<Vec<_>>(),
        );
        assert_eq!(share.status, 200, "{}", share.body);
        let seen = describe_by_id(&server, other, &image_id);
        if operation == "add" {
            assert_eq!(seen.count("<imageId>"), 1, "round {round}: {}", seen.body);
        } else {
            assert_eq!(seen.element("Code"), Some("InvalidAMIID.NotFound"), "round {round}: {}", seen.body);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
}

#[test]
fn two_processes_on_one_database_without_the_cache_see_each_others_writes() {
    let dir = temp_dir("shared-db");
    std::fs::create_dir_all(&dir).unwrap();
    let url = dir.join("shared.db").to_string_lossy().into_owned();
    let args = ["--no-catalog", "--read-cache-mib", "0", "--database-url", url.as_str()];
    let first = Server::start(BIN.as_ref(), &args);
    let second = Server::start(BIN.as_ref(), &args);
    let owner = "111111111111";
    for round in 0..20 {
        let image_id = register(&first, owner, &format!("shared-{round}"));
        assert_eq!(describe_by_id(&second, owner, &image_id).count("<imageId>"), 1);
        let deregister = call(&second, owner, &[("Action", "DeregisterImage"), ("ImageId", &image_id)]);
        assert_eq!(deregister.status, 200, "{}", deregister.body);
        assert_eq!(describe_by_id(&first, owner, &image_id).count("<imageId>"), 0);
    }
    drop((first, second));
    let _ = std::fs::remove_dir_all(dir);
}
