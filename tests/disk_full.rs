//! A full disk: writes are refused with a clean EC2 server error and nothing half
//! written, reads keep working, and writes succeed again once there is room. The data
//! directory is a small tmpfs, so the test needs root (it says so and passes otherwise).

use std::path::Path;
use std::process::Command;

use ec2lite_test_support::{ec2, temp_dir, HttpResponse, Server};

struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = temp_dir("tmpfs");
        let mounted =
            Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(&dir).status();
        mounted.ok().filter(|s| s.success()).map(|_| Tmpfs(dir))
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount").args(["-o", &format!("remount,size={size}")]).arg(&self.0).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn call(s: &Server, pairs: &[(&str, &str)]) -> HttpResponse {
    ec2(s.address(), "123456789012", "us-east-1", pairs)
}

fn register(s: &Server, n: usize) -> HttpResponse {
    let name = format!("full-{n:06}");
    let description = "d".repeat(255);
    call(
        s,
        &[("Action", "RegisterImage"), ("Name", &name), ("Description", &description), ("ImageLocation", "b/m.xml")],
    )
}

fn own_image_count(s: &Server) -> usize {
    let r = call(s, &[("Action", "DescribeImages"), ("Owner.1", "self")]);
    assert_eq!(r.status, 200, "{}", r.body);
    r.count("<imageId>")
}

#[test]
fn a_full_disk_refuses_writes_cleanly_and_recovers_when_space_returns() {
    let Some(disk) = Tmpfs::mount("3m") else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let data_dir = disk.0.join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let s = Server::start_in(env!("CARGO_BIN_EXE_ec2lite").as_ref(), data_dir, &["--no-catalog"]);
    // Write until three writes in a row are refused (a nearly full disk may still take
    // a small one now and then).
    let (mut acknowledged, mut refused_in_a_row, mut n) = (0, 0, 0);
    while refused_in_a_row < 3 {
        let r = register(&s, n);
        n += 1;
        if r.status == 200 {
            acknowledged += 1;
            refused_in_a_row = 0;
        } else {
            assert_eq!(r.status, 500, "{}", r.body);
            assert_eq!(r.element("Code"), Some("InternalError"), "{}", r.body);
            assert!(r.body.starts_with("<?xml") && r.body.contains("<RequestID>"), "{}", r.body);
            refused_in_a_row += 1;
        }
        assert!(n < 100_000, "the disk never filled");
    }

    // Reads keep working and show exactly the acknowledged writes: a refused one left
    // nothing behind.
    assert_eq!(own_image_count(&s), acknowledged);

    disk.resize("64m");
    let r = register(&s, n);
    assert_eq!(r.status, 200, "writes succeed again once there is room: {}", r.body);
    assert_eq!(own_image_count(&s), acknowledged + 1);
    println!("disk full after {acknowledged} acknowledged writes; refused cleanly; recovered");
    drop(s);
    assert!(Path::new(&disk.0).exists());
}
