//! A bounded `kill -9` loop under concurrent writers: every write the server
//! acknowledged (a complete 200 answer naming the new resource) is there after each
//! restart, whatever was in flight when the process died.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ec2lite_test_support::{auth_header, form, Server};

const ROUNDS: usize = 8;
const WRITERS: usize = 8;
const ACCOUNT: &str = "123456789012";

/// One EC2 call on a fresh connection; `None` when the server died before a complete
/// answer (such a write was never acknowledged).
fn try_call(address: &str, pairs: &[(&str, &str)]) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let body = form(pairs);
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: {}\r\nContent-Length: {}\r\n\r\n{body}",
        auth_header(ACCOUNT, "us-east-1"),
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse().ok())?;
    (body.len() == length).then(|| (status, body.to_string()))
}

fn element(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    Some(body[start..start + body[start..].find('<')?].to_string())
}

/// Writes until the server dies or `stop` is set; answers the ids of acknowledged writes.
fn write_until_stopped(address: String, writer: usize, round: usize, stop: Arc<AtomicBool>) -> Vec<String> {
    let mut acknowledged = Vec::new();
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let name = format!("r{round}-w{writer}-{n}");
        let (pairs, tag): (Vec<(&str, &str)>, &str) = if n % 2 == 0 {
            (vec![("Action", "RegisterImage"), ("Name", &name), ("ImageLocation", "bucket/m.xml")], "imageId")
        } else {
            (vec![("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a"), ("Size", "1")], "volumeId")
        };
        match try_call(&address, &pairs) {
            Some((200, body)) => acknowledged.push(element(&body, tag).expect("an acknowledged write names its id")),
            Some((status, body)) => panic!("write refused with {status}: {body}"),
            None => break,
        }
    }
    acknowledged
}

/// Every image and volume id the account holds.
fn stored_ids(address: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    for (action, tag) in [("DescribeImages", "imageId"), ("DescribeVolumes", "volumeId")] {
        let mut pairs = vec![("Action", action)];
        if action == "DescribeImages" {
            pairs.push(("Owner.1", "self"));
        }
        let (status, body) = try_call(address, &pairs).expect("the restarted server answers");
        assert_eq!(status, 200, "{body}");
        let open = format!("<{tag}>");
        ids.extend(body.split(&open).skip(1).map(|s| s[..s.find('<').unwrap()].to_string()));
    }
    ids
}

#[test]
fn acknowledged_writes_survive_rounds_of_kill_9_under_concurrent_writers() {
    let mut server = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--no-catalog"]);
    let mut ledger: Vec<String> = Vec::new();
    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (address, stop) = (server.address().to_string(), stop.clone());
                std::thread::spawn(move || write_until_stopped(address, w, round, stop))
            })
            .collect();
        // Kill at a different point of the load each round.
        std::thread::sleep(Duration::from_millis(150 + 40 * round as u64));
        server.kill_9();
        stop.store(true, Ordering::Relaxed);
        for writer in writers {
            ledger.extend(writer.join().expect("writer"));
        }
        server.start_again();
        let stored = stored_ids(server.address());
        let lost: Vec<&String> = ledger.iter().filter(|id| !stored.contains(*id)).collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} of {} acknowledged writes lost: {lost:?}",
            lost.len(),
            ledger.len()
        );
    }
    assert!(ledger.len() > ROUNDS * WRITERS, "the writers got writes in: {}", ledger.len());
    println!("kill -9 rounds: {ROUNDS}, acknowledged writes: {}, lost: 0", ledger.len());
}
