//! Network load driver: `cargo bench --bench network`. Starts the release binary on a
//! fresh data directory, stores 10,000 security groups (2,500 in each of 4 regions with
//! the default ones, the per-region quota) and a VPC of 200 subnets, then measures
//! DescribeSecurityGroups and DescribeSubnets by one id, with the client on the same
//! machine.

mod common;

use std::time::Instant;

use common::{element, report, rss_kib, run_parallel, Connection};
use ec2lite_test_support::{auth_header, form, Server};

const BIN: &str = env!("CARGO_BIN_EXE_ec2lite");
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];
/// With each region's default group, 2,500: the per-region quota.
const GROUPS_PER_REGION: usize = 2_499;
const SUBNETS: usize = 200;
const REQUESTS: usize = 50_000;

async fn network() {
    let server = Server::start(BIN.as_ref(), &["--log", "warn"]);
    let address = server.address().to_string();
    let pid = server.pid().expect("running");

    // 10,000 groups with the 4 default ones, created over 8 connections per region.
    let address_ref: &'static str = Box::leak(address.clone().into_boxed_str());
    let started = Instant::now();
    let mut group_ids = Vec::new();
    for region in REGIONS {
        let (elapsed, ids) = create_groups(address_ref, region).await;
        println!("CreateSecurityGroup in {region}: {GROUPS_PER_REGION} in {:.2} s", elapsed.as_secs_f64());
        group_ids.extend(ids);
    }
    println!(
        "stored {} security groups in {:.1} s; RSS {:.1} MiB",
        group_ids.len(),
        started.elapsed().as_secs_f64(),
        rss_kib(pid) as f64 / 1024.0
    );
    // Describe the us-east-1 ones (the connection's region).
    let ids: &'static [String] = Box::leak(group_ids[..GROUPS_PER_REGION].to_vec().into_boxed_slice());
    let (elapsed, latencies) = run_parallel(&address, REQUESTS, move |mut c, i| async move {
        let id = &ids[(i * 7919) % ids.len()];
        let started = Instant::now();
        let (status, answer) = c.post(&form(&[("Action", "DescribeSecurityGroups"), ("GroupId.1", id)])).await;
        assert!(status == 200 && answer.contains(id.as_str()), "{answer}");
        (c, started.elapsed())
    })
    .await;
    report("DescribeSecurityGroups by one id (10,000 groups stored)", elapsed, &latencies);

    let subnet_ids = create_subnets(&address).await;
    let subnet_ids: &'static [String] = Box::leak(subnet_ids.into_boxed_slice());
    let (elapsed, latencies) = run_parallel(&address, REQUESTS, move |mut c, i| async move {
        let id = &subnet_ids[(i * 7919) % subnet_ids.len()];
        let started = Instant::now();
        let (status, answer) = c.post(&form(&[("Action", "DescribeSubnets"), ("SubnetId.1", id)])).await;
        assert!(status == 200 && answer.contains(id.as_str()), "{answer}");
        (c, started.elapsed())
    })
    .await;
    report("DescribeSubnets by one id (206 subnets, 10,000 groups stored)", elapsed, &latencies);
    println!("memory after the load: {:.1} MiB RSS", rss_kib(pid) as f64 / 1024.0);
}

/// 2,499 groups in `region`'s default VPC (2,500 with its default one); returns their ids.
async fn create_groups(address: &'static str, region: &'static str) -> (std::time::Duration, Vec<String>) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..8 {
        tasks.push(tokio::spawn(async move {
            let mut c = Connection::open(address).await;
            c.auth = auth_header("123456789012", region);
            let mut ids = Vec::new();
            for n in (worker..GROUPS_PER_REGION).step_by(8) {
                let name = format!("bench-{n:05}");
                let (status, answer) = c
                    .post(&form(&[
                        ("Action", "CreateSecurityGroup"),
                        ("GroupName", &name),
                        ("GroupDescription", "bench"),
                    ]))
                    .await;
                assert_eq!(status, 200, "{answer}");
                ids.push(element(&answer, "groupId").to_string());
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    (started.elapsed(), ids)
}

/// A VPC 10.0.0.0/16 with 200 /24 subnets; returns the subnet ids.
async fn create_subnets(address: &str) -> Vec<String> {
    let mut c = Connection::open(address).await;
    let (status, answer) = c.post(&form(&[("Action", "CreateVpc"), ("CidrBlock", "10.0.0.0/16")])).await;
    assert_eq!(status, 200, "{answer}");
    let vpc_id = element(&answer, "vpcId").to_string();
    let mut ids = Vec::new();
    for n in 0..SUBNETS {
        let block = format!("10.0.{n}.0/24");
        let (status, answer) =
            c.post(&form(&[("Action", "CreateSubnet"), ("VpcId", &vpc_id), ("CidrBlock", &block)])).await;
        assert_eq!(status, 200, "{answer}");
        ids.push(element(&answer, "subnetId").to_string());
    }
    ids
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(network());
}
