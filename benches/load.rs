//! Load driver: `cargo bench --bench load`. Starts the release binary on a fresh data
//! directory and measures, with the client on the same machine:
//! cold start to the first answer, idle memory, durable RegisterImage throughput (which
//! also stores 10,000 images), DescribeImages by one id, and `Owners=self` returning all.

mod common;

use std::time::{Duration, Instant};

use common::{element, percentile, report, rss_kib, run_parallel, Connection};
use ec2lite_test_support::{form, Server};

const BIN: &str = env!("CARGO_BIN_EXE_ec2lite");
const IMAGES: usize = 10_000;

fn cold_start() {
    let mut samples = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let server = Server::start(BIN.as_ref(), &["--log", "warn"]);
        let address = server.address().to_string();
        let body = form(&[("Action", "DescribeRegions")]);
        loop {
            if let Ok(mut stream) = std::net::TcpStream::connect(&address) {
                use std::io::{Read, Write};
                let request = format!(
                    "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(request.as_bytes()).unwrap();
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.1 200") {
                    break;
                }
            }
        }
        samples.push(started.elapsed());
    }
    samples.sort();
    println!(
        "cold start to first answer (fresh data dir, 10 runs): median {:.1} ms, max {:.1} ms",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3
    );
}

async fn load() {
    let server = Server::start(BIN.as_ref(), &["--log", "warn"]);
    let address = server.address().to_string();
    let pid = server.pid().expect("running");
    let mut c = Connection::open(&address).await;
    let (_, volume) =
        c.post(&form(&[("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a"), ("Size", "8")])).await;
    let (_, snapshot) =
        c.post(&form(&[("Action", "CreateSnapshot"), ("VolumeId", element(&volume, "volumeId"))])).await;
    let snapshot_id = element(&snapshot, "snapshotId").to_string();
    c.post(&form(&[("Action", "DescribeSnapshots"), ("Owner.1", "self")])).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("idle memory after start and first requests: {:.1} MiB RSS", rss_kib(pid) as f64 / 1024.0);

    let snapshot_id: &'static str = Box::leak(snapshot_id.into_boxed_str());
    let (elapsed, latencies) = run_parallel(&address, IMAGES, move |mut c, i| async move {
        let body = form(&[
            ("Action", "RegisterImage"),
            ("Name", &format!("bench-image-{i:05}")),
            ("Architecture", "x86_64"),
            ("VirtualizationType", "hvm"),
            ("RootDeviceName", "/dev/xvda"),
            ("BlockDeviceMapping.1.DeviceName", "/dev/xvda"),
            ("BlockDeviceMapping.1.Ebs.SnapshotId", snapshot_id),
        ]);
        let started = Instant::now();
        let (status, answer) = c.post(&body).await;
        assert_eq!(status, 200, "{answer}");
        (c, started.elapsed())
    })
    .await;
    report("RegisterImage, durable, unique names", elapsed, &latencies);

    let (_, all) = c.post(&form(&[("Action", "DescribeImages"), ("Owner.1", "self")])).await;
    let ids: Vec<String> = all.split("<imageId>").skip(1).map(|s| s[..s.find('<').unwrap()].to_string()).collect();
    assert_eq!(ids.len(), IMAGES);
    let ids: &'static [String] = Box::leak(ids.into_boxed_slice());
    let (elapsed, latencies) = run_parallel(&address, 100_000, move |mut c, i| async move {
        let id = &ids[(i * 7919) % ids.len()];
        let body = form(&[("Action", "DescribeImages"), ("ImageId.1", id)]);
        let started = Instant::now();
        let (status, answer) = c.post(&body).await;
        assert!(status == 200 && answer.contains(id.as_str()), "{answer}");
        (c, started.elapsed())
    })
    .await;
    report(&format!("DescribeImages by one id ({IMAGES} images stored)"), elapsed, &latencies);

    let mut samples = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let (status, answer) = c.post(&form(&[("Action", "DescribeImages"), ("Owner.1", "self")])).await;
        samples.push(started.elapsed());
        assert_eq!(status, 200);
        assert_eq!(answer.matches("<imageId>").count(), IMAGES);
    }
    samples.sort();
    println!(
        "DescribeImages Owners=self returning all {IMAGES}: median {:.1} ms, max {:.1} ms ({:.1} MiB of XML)",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3,
        all.len() as f64 / 1048576.0
    );
    instances(&address, &ids[0]).await;
    println!("memory after the load: {:.1} MiB RSS", rss_kib(pid) as f64 / 1024.0);
}

/// RunInstances + TerminateInstances pairs, then DescribeInstances by id with 10,000 stored.
async fn instances(address: &str, image_id: &str) {
    let image_id: &'static str = Box::leak(image_id.to_string().into_boxed_str());
    let (elapsed, latencies) = run_parallel(address, 2_000, move |mut c, _| async move {
        let started = Instant::now();
        let (status, answer) = c
            .post(&form(&[("Action", "RunInstances"), ("ImageId", image_id), ("MinCount", "1"), ("MaxCount", "1")]))
            .await;
        assert_eq!(status, 200, "{answer}");
        let instance_id = element(&answer, "instanceId").to_string();
        let (status, answer) = c.post(&form(&[("Action", "TerminateInstances"), ("InstanceId.1", &instance_id)])).await;
        assert_eq!(status, 200, "{answer}");
        (c, started.elapsed())
    })
    .await;
    report("RunInstances + TerminateInstances (pairs)", elapsed, &latencies);

    let mut c = Connection::open(address).await;
    let mut ids = Vec::new();
    // 100 launches of 100, spread over the zones' default subnets (a /20 holds 4,091).
    for batch in 0..100 {
        let zone = format!("us-east-1{}", ["a", "b", "c", "d", "e", "f"][batch % 6]);
        let (status, answer) = c
            .post(&form(&[
                ("Action", "RunInstances"),
                ("ImageId", image_id),
                ("MinCount", "100"),
                ("MaxCount", "100"),
                ("Placement.AvailabilityZone", &zone),
            ]))
            .await;
        assert_eq!(status, 200, "{answer}");
        ids.extend(answer.split("<instanceId>").skip(1).map(|s| s[..s.find('<').unwrap()].to_string()));
    }
    assert_eq!(ids.len(), 10_000);
    let ids: &'static [String] = Box::leak(ids.into_boxed_slice());
    let (elapsed, latencies) = run_parallel(address, 50_000, move |mut c, i| async move {
        let id = &ids[(i * 7919) % ids.len()];
        let started = Instant::now();
        let (status, answer) = c.post(&form(&[("Action", "DescribeInstances"), ("InstanceId.1", id)])).await;
        assert!(status == 200 && answer.contains(id.as_str()), "{answer}");
        (c, started.elapsed())
    })
    .await;
    report("DescribeInstances by one id (10,000 instances stored)", elapsed, &latencies);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    cold_start();
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(load());
}
