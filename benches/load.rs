//! Load driver: `cargo bench --bench load`. Starts the release binary on a fresh data
//! directory and measures, with the client on the same machine, the hot read calls over
//! 10,000 resources of each kind and the durable writes that store them. Every rate is
//! the median of three runs, printed beside a no-op axum handler answering the same form
//! POST in its own process, measured first in the same run (`common::ceiling`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{ceiling, element, measure, memory, percentile, Connection, Rate, CONNECTIONS};
use ec2lite_test_support::{form, Server};

const BIN: &str = env!("CARGO_BIN_EXE_ec2lite");
/// Resources of each kind stored (written in three runs of a third).
const STORED: usize = 10_000;
/// Requests per run of a read measure.
const READS: usize = 30_000;

static NEXT_NAME: AtomicUsize = AtomicUsize::new(0);

/// Start to the first answer to `pairs`: DescribeRegions (the probe CI harnesses send),
/// and a catalog search, which waits for the default region's catalog.
fn cold_start(label: &str, pairs: &[(&str, &str)]) {
    let mut samples = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let server = Server::start(BIN.as_ref(), &["--log", "warn"]);
        let address = server.address().to_string();
        let body = form(pairs);
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
        "cold start to first {label} answer (fresh data dir, 10 runs): median {:.1} ms, max {:.1} ms",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3
    );
}

/// The ceiling at 16 connections and at one, with DescribeImages' form body.
async fn measure_ceiling() -> (Rate, Rate) {
    let (mut child, address) = ceiling::start();
    let probe = |mut c: Connection, _| async move {
        let started = Instant::now();
        let (status, _) = c.post(&form(&[("Action", "DescribeImages"), ("ImageId.1", "ami-0123456789abcdef0")])).await;
        assert_eq!(status, 200);
        (c, started.elapsed())
    };
    let many = measure("no-op axum ceiling", &address, CONNECTIONS, READS, None, probe).await;
    let one = measure("no-op axum ceiling", &address, 1, READS / 3, None, probe).await;
    let _ = child.kill();
    let _ = child.wait();
    (many, one)
}

/// Creates `STORED` resources with `fields` in three measured runs; answers their ids.
async fn create_many(
    label: &str,
    address: &str,
    ceiling: Rate,
    fields: &'static [(&'static str, &'static str)],
    id_tag: &'static str,
) -> Vec<String> {
    let created: &'static Mutex<Vec<String>> = Box::leak(Box::default());
    measure(label, address, CONNECTIONS, STORED / 3 + 1, Some(ceiling), move |mut c, _| async move {
        let started = Instant::now();
        let (status, answer) = c.post(&form(fields)).await;
        assert_eq!(status, 200, "{answer}");
        created.lock().unwrap().push(element(&answer, id_tag).to_string());
        (c, started.elapsed())
    })
    .await;
    std::mem::take(&mut created.lock().unwrap())
}

/// DescribeX by one id, at 16 connections.
async fn describe_by_id(
    label: &str,
    address: &str,
    ceiling: Rate,
    action: &'static str,
    param: &'static str,
    ids: Vec<String>,
) {
    let ids: &'static [String] = Box::leak(ids.into_boxed_slice());
    measure(label, address, CONNECTIONS, READS, Some(ceiling), move |mut c, i| async move {
        let id = &ids[(i * 7919) % ids.len()];
        let started = Instant::now();
        let (status, answer) = c.post(&form(&[("Action", action), (param, id)])).await;
        assert!(status == 200 && answer.contains(id.as_str()), "{answer}");
        (c, started.elapsed())
    })
    .await;
}

/// `STORED` RegisterImage calls with unique names, in three measured runs.
async fn register_images(label: &str, address: &str, ceiling: Rate, snapshot_id: &'static str) {
    measure(label, address, CONNECTIONS, STORED / 3 + 1, Some(ceiling), move |mut c, _| async move {
        let n = NEXT_NAME.fetch_add(1, Ordering::Relaxed);
        let body = form(&[
            ("Action", "RegisterImage"),
            ("Name", &format!("bench-image-{n:05}")),
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
}

async fn load() {
    let (ceiling, ceiling_one) = measure_ceiling().await;
    let mut server = Server::start(BIN.as_ref(), &["--log", "warn"]);
    let address = server.address().to_string();
    let pid = server.pid().expect("running");
    common::profile::SERVER.store(pid, Ordering::Relaxed);
    let mut c = Connection::open(&address).await;
    let (_, volume) =
        c.post(&form(&[("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a"), ("Size", "8")])).await;
    let volume_id: &'static str = Box::leak(element(&volume, "volumeId").to_string().into_boxed_str());
    let (_, snapshot) = c.post(&form(&[("Action", "CreateSnapshot"), ("VolumeId", volume_id)])).await;
    let snapshot_id: &'static str = Box::leak(element(&snapshot, "snapshotId").to_string().into_boxed_str());
    c.post(&form(&[("Action", "DescribeSnapshots"), ("Owner.1", "self")])).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("idle memory after start and first requests: {}", memory(pid));

    // Durable writes.
    register_images("RegisterImage, durable, unique names (fresh database)", &address, ceiling, snapshot_id).await;
    let (_, all) = c.post(&form(&[("Action", "DescribeImages"), ("Owner.1", "self")])).await;
    let image_ids: Vec<String> =
        all.split("<imageId>").skip(1).map(|s| s[..s.find('<').unwrap()].to_string()).collect();
    let images = image_ids.len();
    assert!(images >= STORED);
    let tagged: &'static [String] = Box::leak(image_ids.clone().into_boxed_slice());
    measure(
        "CreateTags, durable, one tag on one image",
        &address,
        CONNECTIONS,
        5_000,
        Some(ceiling),
        move |mut c, i| async move {
            let body = form(&[
                ("Action", "CreateTags"),
                ("ResourceId.1", &tagged[(i * 7919) % tagged.len()]),
                ("Tag.1.Key", &format!("k{}", i % 7)),
                ("Tag.1.Value", "v"),
            ]);
            let started = Instant::now();
            let (status, answer) = c.post(&body).await;
            assert_eq!(status, 200, "{answer}");
            (c, started.elapsed())
        },
    )
    .await;

    // Image reads.
    describe_by_id(
        &format!("DescribeImages by one id ({images} images)"),
        &address,
        ceiling,
        "DescribeImages",
        "ImageId.1",
        image_ids.clone(),
    )
    .await;
    let one_id: &'static str = Box::leak(image_ids[0].clone().into_boxed_str());
    measure(
        &format!("DescribeImages by one id ({images} images)"),
        &address,
        1,
        READS / 3,
        Some(ceiling_one),
        move |mut c, _| async move {
            let started = Instant::now();
            let (status, _) = c.post(&form(&[("Action", "DescribeImages"), ("ImageId.1", one_id)])).await;
            assert_eq!(status, 200);
            (c, started.elapsed())
        },
    )
    .await;
    measure(
        &format!("DescribeImages Owners=self name=bench-image-0NNN* (10 of {images})"),
        &address,
        CONNECTIONS,
        READS / 3,
        Some(ceiling),
        move |mut c, i| async move {
            let pattern = format!("bench-image-0{:03}*", (i * 7) % 1000);
            let body = form(&[
                ("Action", "DescribeImages"),
                ("Owner.1", "self"),
                ("Filter.1.Name", "name"),
                ("Filter.1.Value.1", &pattern),
            ]);
            let started = Instant::now();
            let (status, answer) = c.post(&body).await;
            assert!(status == 200 && answer.matches("<imageId>").count() == 10, "{answer}");
            (c, started.elapsed())
        },
    )
    .await;
    let mut samples = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let (status, answer) = c.post(&form(&[("Action", "DescribeImages"), ("Owner.1", "self")])).await;
        samples.push(started.elapsed());
        assert!(status == 200 && answer.matches("<imageId>").count() == images);
    }
    samples.sort();
    println!(
        "DescribeImages Owners=self returning all {images}: median {:.1} ms, max {:.1} ms ({:.1} MiB of XML)",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3,
        all.len() as f64 / 1048576.0
    );

    // The same writes again once the database and its WAL have grown: the first ones
    // above also pay for a new file's first pages (names 10002.. match no search above).
    register_images(&format!("RegisterImage, durable, unique names ({images} stored)"), &address, ceiling, snapshot_id)
        .await;

    // Volumes and snapshots.
    static VOLUME: [(&str, &str); 4] =
        [("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1b"), ("Size", "1"), ("VolumeType", "gp3")];
    let volumes = create_many("CreateVolume, durable", &address, ceiling, &VOLUME, "volumeId").await;
    describe_by_id(
        &format!("DescribeVolumes by one id ({} volumes)", volumes.len()),
        &address,
        ceiling,
        "DescribeVolumes",
        "VolumeId.1",
        volumes,
    )
    .await;
    let snapshot_fields: &'static [(&'static str, &'static str)] =
        Box::leak(vec![("Action", "CreateSnapshot"), ("VolumeId", volume_id)].into_boxed_slice());
    let snapshots = create_many("CreateSnapshot, durable", &address, ceiling, snapshot_fields, "snapshotId").await;
    describe_by_id(
        &format!("DescribeSnapshots by one id ({} snapshots)", snapshots.len()),
        &address,
        ceiling,
        "DescribeSnapshots",
        "SnapshotId.1",
        snapshots,
    )
    .await;

    // Instances: 100 launches of 100, spread over the zones' default subnets (a /20 holds 4,091).
    let mut instance_ids = Vec::new();
    for batch in 0..100 {
        let zone = format!("us-east-1{}", ["a", "b", "c", "d", "e", "f"][batch % 6]);
        let (status, answer) = c
            .post(&form(&[
                ("Action", "RunInstances"),
                ("ImageId", &image_ids[0]),
                ("MinCount", "100"),
                ("MaxCount", "100"),
                ("Placement.AvailabilityZone", &zone),
            ]))
            .await;
        assert_eq!(status, 200, "{answer}");
        instance_ids.extend(answer.split("<instanceId>").skip(1).map(|s| s[..s.find('<').unwrap()].to_string()));
    }
    describe_by_id(
        &format!("DescribeInstances by one id ({} instances)", instance_ids.len()),
        &address,
        ceiling,
        "DescribeInstances",
        "InstanceId.1",
        instance_ids.clone(),
    )
    .await;
    println!("memory after the load: {}", memory(pid));

    // The by-id reads again with the read cache off: every answer read from SQLite, as
    // the first answer to a statement is (and every answer of a shared database file).
    std::env::set_var("EC2LITE_READ_CACHE_MIB", "0");
    server.restart();
    std::env::remove_var("EC2LITE_READ_CACHE_MIB");
    common::profile::SERVER.store(server.pid().expect("running"), Ordering::Relaxed);
    let address = server.address().to_string();
    let uncached = [("DescribeImages", "ImageId.1", image_ids), ("DescribeInstances", "InstanceId.1", instance_ids)];
    for (action, param, ids) in uncached {
        let label = format!("{action} by one id, read cache off ({} resources)", ids.len());
        describe_by_id(&label, &address, ceiling, action, param, ids).await;
    }
    drop(server);
    // Again at the end: on a shared machine the ceiling moves; the shares above use the first.
    measure_ceiling().await;
}

fn main() {
    if ceiling::serve_if_asked() || std::env::args().any(|a| a == "--list") {
        return;
    }
    cold_start("DescribeRegions", &[("Action", "DescribeRegions")]);
    cold_start("DescribeImages Owners=amazon", &[("Action", "DescribeImages"), ("Owner.1", "amazon")]);
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(load());
}
