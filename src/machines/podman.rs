//! The podman command line, as this machine kind needs it (shared/reference/containers.md):
//! rootful, runc rather than crun (crun refuses the hybrid cgroup layout), and explicit
//! ulimits (the hard nofile limit cannot be raised to podman's default).

use std::path::Path;

use tokio::process::Command;

/// Containers are named `ec2lite-<instance id>` and labelled, so reset finds them all.
const LABEL: &str = "ec2lite.instance";

#[derive(Default)]
pub struct Podman;

/// What `Podman::run` starts: the instance's container.
pub struct Container<'a> {
    pub instance_id: &'a str,
    pub rootfs: &'a Path,
    pub public_ip: &'a str,
    pub cpus: f64,
    pub memory_mib: i64,
    /// Block devices: (host device, path inside).
    pub devices: &'a [(std::path::PathBuf, String)],
}

fn name(instance_id: &str) -> String {
    format!("ec2lite-{instance_id}")
}

/// The hard RLIMIT_NOFILE of this process: the most a container may be given.
fn hard_nofile() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct it is given.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    if ok {
        limit.rlim_max.min(1 << 20)
    } else {
        1024
    }
}

fn podman() -> Command {
    let mut command = Command::new("podman");
    command.arg("--runtime").arg("runc");
    command.kill_on_drop(true);
    command
}

/// Runs `command`; its stdout, or its stderr as the error.
async fn output(mut command: Command) -> Result<String, String> {
    let out = command.output().await.map_err(|e| format!("podman: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("podman: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl Podman {
    /// Fails when podman is missing or cannot talk to its storage.
    pub async fn check(&self) -> Result<(), String> {
        let mut command = podman();
        command.args(["info", "--format", "{{.Host.OCIRuntime.Name}}"]);
        output(command).await.map(|_| ())
    }

    pub async fn run(&self, container: &Container<'_>) -> Result<(), String> {
        let Container { instance_id, rootfs, public_ip, cpus, memory_mib, devices } = container;
        let nofile = hard_nofile();
        let mut command = podman();
        command
            .args(["run", "--detach", "--name", &name(instance_id)])
            .arg(format!("--label={LABEL}={instance_id}"))
            .arg(format!("--hostname=ip-{}", public_ip.replace('.', "-")))
            .arg(format!("--ulimit=nofile={nofile}:{nofile}"))
            .arg("--ulimit=nproc=32768:32768")
            .arg(format!("--cpus={cpus:.2}"))
            .arg(format!("--memory={memory_mib}m"))
            .arg(format!("--publish={public_ip}:22:22"))
            .arg("--stop-timeout=5");
        for (host, inside) in *devices {
            command.arg(format!("--device={}:{inside}", host.display()));
        }
        command.arg("--rootfs").arg(rootfs).arg("/usr/local/sbin/ec2lite-init");
        output(command).await.map(|_| ())
    }

    /// Writes a local container image's files into `dest` (`podman create` + `export`,
    /// unpacked with owners kept), for `--runtime-images podman:<image>`.
    pub async fn export_image(&self, image: &str, instance_id: &str, dest: &Path) -> Result<(), String> {
        let scratch = format!("ec2lite-export-{instance_id}");
        let mut create = podman();
        create.args(["create", "--name", &scratch, image, "true"]);
        output(create).await?;
        let exported = async {
            tokio::fs::create_dir_all(dest).await.map_err(|e| format!("creating {}: {e}", dest.display()))?;
            let script = r#"podman --runtime runc export "$1" | tar -x --numeric-owner -C "$2""#;
            let mut unpack = Command::new("bash");
            unpack.args(["-o", "pipefail", "-c", script, "bash", &scratch]).arg(dest);
            output(unpack).await.map(|_| ())
        }
        .await;
        let mut remove = podman();
        remove.args(["rm", "--force", "--ignore", &scratch]);
        let removed = output(remove).await.map(|_| ());
        exported.and(removed)
    }

    pub async fn start(&self, instance_id: &str) -> Result<(), String> {
        self.simple("start", instance_id).await
    }

    pub async fn stop(&self, instance_id: &str) -> Result<(), String> {
        self.simple("stop", instance_id).await
    }

    pub async fn restart(&self, instance_id: &str) -> Result<(), String> {
        self.simple("restart", instance_id).await
    }

    async fn simple(&self, verb: &str, instance_id: &str) -> Result<(), String> {
        let mut command = podman();
        command.arg(verb).arg(name(instance_id));
        output(command).await.map(|_| ())
    }

    /// Removes the container; one that is already gone is fine.
    pub async fn remove(&self, instance_id: &str) -> Result<(), String> {
        let mut command = podman();
        command.args(["rm", "--force", "--ignore", "--time", "0"]).arg(name(instance_id));
        output(command).await.map(|_| ())
    }

    /// The container's address on the podman bridge (its source address when it calls
    /// the metadata service).
    pub async fn address(&self, instance_id: &str) -> Result<std::net::IpAddr, String> {
        let mut command = podman();
        command.args(["inspect", "--format", "{{.NetworkSettings.IPAddress}}"]).arg(name(instance_id));
        let text = output(command).await?;
        text.trim()
            .parse()
            .map_err(|_| format!("podman: container {} has no address ({})", name(instance_id), text.trim()))
    }

    /// The container's output so far (stdout and stderr, as written).
    pub async fn logs(&self, instance_id: &str) -> Result<Vec<u8>, String> {
        let mut command = podman();
        command.arg("logs").arg(name(instance_id));
        let out = command.output().await.map_err(|e| format!("podman: {e}"))?;
        if !out.status.success() {
            return Err(format!("podman: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        let mut all = out.stdout;
        all.extend_from_slice(&out.stderr);
        Ok(all)
    }

    /// Whether the container exists at all (running or not).
    pub async fn exists(&self, instance_id: &str) -> Result<bool, String> {
        let mut command = podman();
        command.args(["container", "exists"]).arg(name(instance_id));
        let out = command.output().await.map_err(|e| format!("podman: {e}"))?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(format!("podman: {}", String::from_utf8_lossy(&out.stderr).trim())),
        }
    }

    pub async fn is_running(&self, instance_id: &str) -> Result<bool, String> {
        let mut command = podman();
        command.args(["ps", "--filter"]).arg(format!("name=^{}$", name(instance_id))).args(["--format", "{{.ID}}"]);
        Ok(!output(command).await?.trim().is_empty())
    }

    /// The instance ids of every container ec2lite started, running or not.
    pub async fn list(&self) -> Result<Vec<String>, String> {
        let mut command = podman();
        command.args(["ps", "--all", "--filter"]).arg(format!("label={LABEL}"));
        command.arg("--format").arg(format!("{{{{index .Labels \"{LABEL}\"}}}}"));
        Ok(output(command).await?.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
    }
}
