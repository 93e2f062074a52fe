//! Instances that really run (`--runtime podman`): one rootful podman container per
//! instance, started from a root filesystem directory under the data directory, with
//! the container's port 22 published on the instance's loopback public IP.
//!
//! Only the actions call this module; it knows nothing of the store.

mod cloud_config;
pub mod images;
pub mod imds;
mod podman;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use podman::{Container, Podman};

/// An instance's turn to run a runtime operation (`Machines::hold`).
pub type Held = tokio::sync::OwnedMutexGuard<()>;

/// Instances' public IPs are in 127.0.100.0/24.
pub const LOOPBACK_PREFIX: &str = "127.0.100.";

/// What a container needs to start: where its files come from and who logs in.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    pub instance_id: String,
    pub public_ip: String,
    /// The login user of the image family (`login_user`), or the `--runtime-images` one.
    pub login_user: String,
    /// The key pair's OpenSSH public key, installed in the login user's authorized_keys.
    pub public_key: Option<String>,
    pub vcpus: i64,
    pub memory_mib: i64,
    pub root: RootSource,
    /// The root volume's size: that of the disk made for `Base` and `Mapped` roots.
    pub root_size_bytes: u64,
    /// The other volumes attached at launch, block devices in the instance.
    pub data_volumes: Vec<DataVolume>,
    /// The user data (decoded), run once at the instance's first boot when a script
    /// or `#cloud-config`.
    pub user_data: Option<Vec<u8>>,
    /// What the instance reads from the metadata service.
    pub metadata: imds::Metadata,
}

/// A data volume: a raw disk file (written from its snapshot by the caller, or made
/// empty here) attached through a loop device as `/dev/sdX` and `/dev/xvdX`.
#[derive(Debug, Clone)]
pub struct DataVolume {
    /// The mapping's device name, e.g. `/dev/sdb`.
    pub device: String,
    pub size_bytes: u64,
}

/// Where an instance's root filesystem comes from.
#[derive(Debug, Clone)]
pub enum RootSource {
    /// The base root filesystem (catalog AMIs, and images with no ext4 root).
    Base,
    /// The files `--runtime-images` names for the image.
    Mapped(images::RootFiles),
    /// The image's root snapshot, already written to `Machines::disk` (ext4, whole or
    /// in a partition).
    Disk,
}

/// The login user an image's name implies, as on EC2: `ec2-user` for Amazon Linux (and
/// RHEL, SUSE, anything unknown), `ubuntu` for Ubuntu, `admin` for Debian.
pub fn login_user(image_name: &str) -> &'static str {
    let name = image_name.to_ascii_lowercase();
    if name.contains("ubuntu") {
        "ubuntu"
    } else if name.contains("debian") {
        "admin"
    } else {
        "ec2-user"
    }
}

/// The runtime: the podman driver, the base root filesystem and the loopback
/// addresses in use.
pub struct Machines {
    podman: Podman,
    base_rootfs: PathBuf,
    /// `--runtime-images`: other root filesystems, by AMI name.
    image_roots: images::ImageRoots,
    /// `<data dir>/machines/<instance id>/rootfs`
    dir: PathBuf,
    resource_factor: f64,
    /// Public IP by instance id, for the instances that hold a container.
    addresses: Mutex<HashMap<String, Ipv4Addr>>,
    /// One operation at a time per instance, in the order asked (a start waits for the
    /// stop before it to unmount; a capture for the stop before it).
    operations: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Base disks are made one at a time (two launches would make the same one).
    base_disks: tokio::sync::Mutex<()>,
    /// Whether podman has answered once.
    podman_checked: std::sync::atomic::AtomicBool,
    /// The metadata each running instance reads, and its container's address.
    imds: Arc<imds::Registry>,
}

impl Machines {
    pub fn new(
        base_rootfs: PathBuf,
        image_roots: images::ImageRoots,
        data_dir: &Path,
        resource_factor: f64,
    ) -> Machines {
        Machines {
            podman: Podman,
            base_rootfs,
            image_roots,
            // runc wants an absolute root filesystem path.
            dir: std::path::absolute(data_dir.join("machines")).unwrap_or_else(|_| data_dir.join("machines")),
            resource_factor,
            addresses: Mutex::new(HashMap::new()),
            podman_checked: std::sync::atomic::AtomicBool::new(false),
            base_disks: tokio::sync::Mutex::new(()),
            operations: Mutex::new(HashMap::new()),
            imds: Arc::default(),
        }
    }

    /// Waits for the instance's earlier operations; the guard holds off later ones.
    async fn hold(&self, instance_id: &str) -> Held {
        let turn = self.operations.lock().expect("lock").entry(instance_id.to_string()).or_default().clone();
        turn.lock_owned().await
    }

    /// The `--runtime-images` mapping for an AMI name, if one matches.
    pub fn mapped_root(&self, image_name: &str) -> Option<&images::Mapping> {
        self.image_roots.find(image_name)
    }

    /// The instances' metadata, for `imds::serve`.
    pub fn metadata_registry(&self) -> Arc<imds::Registry> {
        self.imds.clone()
    }

    /// Records the container's current bridge address, by which the metadata service
    /// knows it (it changes each time the container starts).
    async fn register_address(&self, instance_id: &str) -> Result<(), String> {
        let address = self.podman.address(instance_id).await?;
        self.imds.set_address(instance_id, address);
        Ok(())
    }

    /// Why instances cannot run here, if they cannot: said in InsufficientInstanceCapacity.
    pub async fn unusable(&self) -> Option<String> {
        // `podman info` takes a quarter of a second: once it has worked, it is not asked again.
        let checked = self.podman_checked.load(std::sync::atomic::Ordering::Relaxed);
        if !checked {
            if let Err(why) = self.podman.check().await {
                return Some(format!("the podman runtime is not usable here ({why})"));
            }
            self.podman_checked.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        if !self.base_rootfs.join("usr/sbin/sshd").exists() {
            return Some(format!(
                "the podman runtime has no base root filesystem at {} (build it with scripts/runtime-rootfs.sh)",
                self.base_rootfs.display()
            ));
        }
        None
    }

    /// A free address of 127.0.100.0/24 for `instance_id` (the same one if it has one).
    pub fn allocate_ip(&self, instance_id: &str) -> Option<String> {
        let mut addresses = self.addresses.lock().expect("lock");
        if let Some(ip) = addresses.get(instance_id) {
            return Some(ip.to_string());
        }
        let free = (2..=254).map(|n| Ipv4Addr::new(127, 0, 100, n)).find(|ip| !addresses.values().any(|u| u == ip))?;
        addresses.insert(instance_id.to_string(), free);
        Some(free.to_string())
    }

    fn release_ip(&self, instance_id: &str) {
        self.addresses.lock().expect("lock").remove(instance_id);
    }

    /// The instance's root disk: the raw file of its root volume (an ext4 file system,
    /// whole or in a partition), loop-mounted as its container's root while it lives.
    pub fn disk(&self, instance_id: &str) -> Result<PathBuf, String> {
        let dir = self.dir.join(instance_id);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(dir.join("root.img"))
    }

    /// Readies the instance's disks (`captured_disk`) to be stored as the image's
    /// snapshots. With `reboot` the container is stopped and its file system unmounted
    /// first, as EC2 shuts an instance down for a consistent image; `finish_capture`
    /// mounts and starts it again once the blocks are stored. With NoReboot the disks are
    /// taken as the running instance has written them (crash-consistent): what the file
    /// system has not written back yet, such as a file written after the last `sync`, is
    /// not in the image, as on EC2.
    pub async fn begin_capture(&self, instance_id: &str, reboot: bool) -> Result<Held, String> {
        let held = self.hold(instance_id).await;
        if reboot {
            self.podman.stop(instance_id).await?;
            unmount(&self.rootfs(instance_id)).await?;
            // What the instance wrote to its data volumes' devices reaches their files.
            run("sync", &[]).await?;
        }
        Ok(held)
    }

    pub async fn finish_capture(&self, instance_id: &str, reboot: bool, _held: Held) -> Result<(), String> {
        if reboot {
            mount_root(&self.disk(instance_id)?, &self.rootfs(instance_id)).await?;
            self.podman.start(instance_id).await?;
            self.register_address(instance_id).await?;
        }
        Ok(())
    }

    /// The disk of the instance's volume at `device` (its root disk for the root device),
    /// if it has one.
    pub fn captured_disk(&self, instance_id: &str, device: &str, root_device: &str) -> Option<PathBuf> {
        let disk = if device == root_device {
            self.dir.join(instance_id).join("root.img")
        } else {
            self.volume_disk(instance_id, device).ok()?
        };
        disk.exists().then_some(disk)
    }

    /// `<instance dir>/volumes/<sdX>.img` for a data volume's device name.
    pub fn volume_disk(&self, instance_id: &str, device: &str) -> Result<PathBuf, String> {
        let name = device.rsplit('/').next().unwrap_or_default();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("device name {device} cannot name a disk"));
        }
        let dir = self.dir.join(instance_id).join("volumes");
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(dir.join(format!("{name}.img")))
    }

    /// Attaches each data volume's disk to a loop device (keeping one already attached);
    /// returns the devices for the container and whether any had to be attached anew.
    async fn attach_volumes(&self, instance_id: &str) -> Result<(Vec<(PathBuf, String)>, bool), String> {
        let mut devices = Vec::new();
        let mut attached_now = false;
        for (name, disk) in volume_disks(&self.dir.join(instance_id).join("volumes")) {
            let loop_device = match attached_loops(&disk).await?.into_iter().next() {
                Some(existing) => existing,
                None => {
                    attached_now = true;
                    let out = run_output("losetup", &["--find".as_ref(), "--show".as_ref(), disk.as_os_str()]).await?;
                    PathBuf::from(out.trim())
                }
            };
            for inside in device_names(&name) {
                devices.push((loop_device.clone(), inside));
            }
        }
        Ok((devices, attached_now))
    }

    /// Detaches the loop devices of the instance's data volumes.
    async fn detach_volumes(&self, instance_id: &str) -> Result<(), String> {
        for (_, disk) in volume_disks(&self.dir.join(instance_id).join("volumes")) {
            for loop_device in attached_loops(&disk).await? {
                run("losetup", &["--detach".as_ref(), loop_device.as_os_str()]).await?;
            }
        }
        Ok(())
    }

    fn rootfs(&self, instance_id: &str) -> PathBuf {
        self.dir.join(instance_id).join("rootfs")
    }

    /// Makes the instance's root disk, mounts it, installs its key, init and user data
    /// and starts its container; returns once sshd answers on its public IP.
    pub async fn launch(&self, spec: &LaunchSpec) -> Result<(), String> {
        let _held = self.hold(&spec.instance_id).await;
        let launched = self.try_launch(spec).await;
        if launched.is_err() {
            // Nothing half-made stays behind: no container, no mount, no files, no address.
            let _ = self.remove_held(&spec.instance_id).await;
        }
        launched
    }

    async fn try_launch(&self, spec: &LaunchSpec) -> Result<(), String> {
        let disk = self.disk(&spec.instance_id)?;
        match &spec.root {
            RootSource::Base => self.copy_base_disk(spec.root_size_bytes, &disk).await?,
            RootSource::Mapped(images::RootFiles::Directory(dir)) => {
                make_ext4(dir, spec.root_size_bytes, &disk).await?
            }
            RootSource::Mapped(images::RootFiles::ContainerImage(image)) => {
                let files = self.dir.join(&spec.instance_id).join("exported");
                self.podman.export_image(image, &spec.instance_id, &files).await?;
                let made = make_ext4(&files, spec.root_size_bytes, &disk).await;
                let _ = tokio::fs::remove_dir_all(&files).await;
                made?
            }
            // Written from the image's root snapshot by the caller.
            RootSource::Disk => {}
        }
        let rootfs = self.rootfs(&spec.instance_id);
        mount_root(&disk, &rootfs).await?;
        if let Some(key) = &spec.public_key {
            install_key(&rootfs, &spec.login_user, key).map_err(|e| format!("installing the key: {e}"))?;
        }
        install_init(&rootfs, &spec.instance_id, spec.user_data.as_deref())
            .map_err(|e| format!("installing the instance's init and user data: {e}"))?;
        for volume in &spec.data_volumes {
            let disk = self.volume_disk(&spec.instance_id, &volume.device)?;
            if !disk.exists() {
                let file = std::fs::File::create(&disk).map_err(|e| format!("creating {}: {e}", disk.display()))?;
                file.set_len(volume.size_bytes).map_err(|e| format!("sizing {}: {e}", disk.display()))?;
            }
        }
        let devices = self.attach_volumes(&spec.instance_id).await?.0;
        let (cpus, memory_mib) = self.limits(spec.vcpus, spec.memory_mib);
        self.imds.set_metadata(spec.metadata.clone());
        let container = Container {
            instance_id: &spec.instance_id,
            rootfs: &rootfs,
            public_ip: &spec.public_ip,
            cpus,
            memory_mib,
            devices: &devices,
        };
        self.podman.run(&container).await?;
        self.register_address(&spec.instance_id).await?;
        wait_for_ssh(&spec.public_ip, Duration::from_secs(60)).await
    }

    /// A copy of the base root filesystem as a disk of `size_bytes`. The disk is made
    /// once per size (`mke2fs -d`, reproducible) and copied sparsely for each instance,
    /// so every instance of a catalog AMI starts from the same blocks.
    async fn copy_base_disk(&self, size_bytes: u64, disk: &Path) -> Result<(), String> {
        let base = tokio::fs::canonicalize(&self.base_rootfs)
            .await
            .map_err(|e| format!("{}: {e}", self.base_rootfs.display()))?;
        let name = base.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let cached = self.dir.join(".base").join(format!("{name}-{size_bytes}.img"));
        {
            let _one_at_a_time = self.base_disks.lock().await;
            if !cached.exists() {
                let parent = cached.parent().expect("a directory");
                tokio::fs::create_dir_all(parent).await.map_err(|e| format!("creating {}: {e}", parent.display()))?;
                let making = cached.with_extension("making");
                make_ext4(&base, size_bytes, &making).await?;
                tokio::fs::rename(&making, &cached).await.map_err(|e| format!("{}: {e}", cached.display()))?;
            }
        }
        run("cp", &["--sparse=always".as_ref(), cached.as_os_str(), disk.as_os_str()]).await
    }

    /// Mounts a stopped instance's disk and starts its container again; returns once
    /// sshd answers.
    pub async fn start(&self, instance_id: &str, public_ip: &str) -> Result<(), String> {
        let _held = self.hold(instance_id).await;
        let rootfs = self.rootfs(instance_id);
        if !is_mount_point(&rootfs) {
            mount_root(&self.disk(instance_id)?, &rootfs).await?;
        }
        self.podman.start(instance_id).await?;
        self.register_address(instance_id).await?;
        wait_for_ssh(public_ip, Duration::from_secs(60)).await
    }

    /// Stops the container and unmounts its disk (a clean shutdown: an image of a
    /// stopped instance is consistent).
    pub async fn stop(&self, instance_id: &str) -> Result<(), String> {
        let _held = self.hold(instance_id).await;
        self.podman.stop(instance_id).await?;
        unmount(&self.rootfs(instance_id)).await
    }

    /// What the instance wrote to its console (its PID 1's output), EC2's last 64 KiB.
    pub async fn console_output(&self, instance_id: &str) -> Result<Vec<u8>, String> {
        let mut output = self.podman.logs(instance_id).await?;
        let keep = output.len().saturating_sub(64 << 10);
        Ok(output.split_off(keep))
    }

    pub async fn reboot(&self, instance_id: &str) -> Result<(), String> {
        let _held = self.hold(instance_id).await;
        self.podman.restart(instance_id).await?;
        self.register_address(instance_id).await
    }

    /// Removes the container, unmounts its disk and removes its files.
    pub async fn remove(&self, instance_id: &str) -> Result<(), String> {
        let _held = self.hold(instance_id).await;
        let removed = self.remove_held(instance_id).await;
        self.operations.lock().expect("lock").remove(instance_id);
        removed
    }

    async fn remove_held(&self, instance_id: &str) -> Result<(), String> {
        self.podman.remove(instance_id).await?;
        self.detach_volumes(instance_id).await?;
        self.release_ip(instance_id);
        self.imds.forget(instance_id);
        unmount(&self.rootfs(instance_id)).await?;
        let dir = self.dir.join(instance_id);
        match tokio::fs::remove_dir_all(&dir).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("removing {}: {e}", dir.display())),
            _ => Ok(()),
        }
    }

    /// Removes every container ec2lite started and every instance directory (reset).
    pub async fn remove_all(&self) -> Result<(), String> {
        for instance_id in self.podman.list().await? {
            self.remove(&instance_id).await?;
        }
        // Instances whose container is gone may still have their disks in use.
        if let Ok(mut entries) = tokio::fs::read_dir(&self.dir).await {
            while let Ok(Some(entry)) = entries.next_entry().await {
                unmount(&entry.path().join("rootfs")).await?;
                self.detach_volumes(&entry.file_name().to_string_lossy()).await?;
            }
        }
        self.addresses.lock().expect("lock").clear();
        self.imds.forget_all();
        match tokio::fs::remove_dir_all(&self.dir).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("removing {}: {e}", self.dir.display())),
            _ => Ok(()),
        }
    }

    /// After a restart: the address of each instance that still has its disk, so
    /// `ensure_running` can find or restart its container.
    pub fn adopt(&self, metadata: imds::Metadata) -> bool {
        let instance_id = metadata.instance_id.clone();
        let disk = self.dir.join(&instance_id).join("root.img");
        let (Ok(ip), true) = (metadata.public_ip.parse::<Ipv4Addr>(), disk.exists()) else {
            return false;
        };
        self.addresses.lock().expect("lock").insert(instance_id, ip);
        self.imds.set_metadata(metadata);
        true
    }

    /// Finds the instance's container running, or starts it, or makes it again from the
    /// instance's disk when it is gone (after an ec2lite restart, or the host's, which
    /// also undid the mount).
    pub async fn ensure_running(
        &self,
        instance_id: &str,
        public_ip: &str,
        vcpus: i64,
        memory_mib: i64,
    ) -> Result<(), String> {
        let _held = self.hold(instance_id).await;
        let rootfs = self.rootfs(instance_id);
        if !is_mount_point(&rootfs) {
            mount_root(&self.dir.join(instance_id).join("root.img"), &rootfs).await?;
        }
        let (devices, reattached) = self.attach_volumes(instance_id).await?;
        let exists = self.podman.exists(instance_id).await?;
        if exists && reattached {
            // Its devices went with the host's reboot: a new container gets the new ones.
            self.podman.remove(instance_id).await?;
        }
        if !exists || reattached {
            let (cpus, memory_mib) = self.limits(vcpus, memory_mib);
            let container = Container { instance_id, rootfs: &rootfs, public_ip, cpus, memory_mib, devices: &devices };
            self.podman.run(&container).await?;
        } else if !self.podman.is_running(instance_id).await? {
            self.podman.start(instance_id).await?;
        }
        self.register_address(instance_id).await?;
        wait_for_ssh(public_ip, Duration::from_secs(60)).await
    }

    /// The container's CPUs and memory (MiB): the instance type's, scaled down.
    fn limits(&self, vcpus: i64, memory_mib: i64) -> (f64, i64) {
        let cpus = (vcpus as f64 * self.resource_factor).max(0.1);
        (cpus, ((memory_mib as f64 * self.resource_factor) as i64).max(128))
    }
}

/// `mke2fs -d`: an ext4 file system holding `dir`'s files with their owners and modes.
/// Its UUID, hash seed and times are fixed, so equal trees give equal blocks (which the
/// block store keeps once); inode tables stay sparse.
async fn make_ext4(dir: &Path, size_bytes: u64, dest: &Path) -> Result<(), String> {
    let _ = tokio::fs::remove_file(dest).await;
    let file = std::fs::File::create(dest).map_err(|e| format!("creating {}: {e}", dest.display()))?;
    file.set_len(size_bytes).map_err(|e| format!("sizing {}: {e}", dest.display()))?;
    drop(file);
    let out = tokio::process::Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-U", "6c1a0000-0000-4000-8000-000000000001"])
        .arg("-E")
        .arg("lazy_itable_init=1,lazy_journal_init=1,hash_seed=6c1a0000-0000-4000-8000-000000000002,root_owner=0:0")
        .arg("-d")
        .arg(dir)
        .arg(dest)
        .env("E2FSPROGS_FAKE_TIME", "1700000000")
        .output()
        .await
        .map_err(|e| format!("mke2fs: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("mke2fs: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Where a raw disk's ext4 (or ext2/3) file system starts, in bytes: at 0 for a
/// whole-disk file system, else at the first MBR or GPT partition that holds one. None
/// when it holds none of these.
pub fn ext4_offset(disk: &Path) -> Option<u64> {
    let file = std::fs::File::open(disk).ok()?;
    let read = |offset: u64, len: usize| {
        use std::os::unix::fs::FileExt;
        let mut bytes = vec![0u8; len];
        file.read_exact_at(&mut bytes, offset).ok().map(|()| bytes)
    };
    // The superblock's magic, 0xEF53, is 1080 bytes into the file system.
    let holds_ext = |start: u64| read(start + 1080, 2).is_some_and(|m| m == [0x53, 0xEF]);
    if holds_ext(0) {
        return Some(0);
    }
    partition_starts(&read).into_iter().find(|&start| holds_ext(start))
}

const SECTOR: u64 = 512;

/// The byte offsets of a disk's partitions, from its MBR or (behind a protective MBR)
/// its GPT, in table order.
fn partition_starts(read: &dyn Fn(u64, usize) -> Option<Vec<u8>>) -> Vec<u64> {
    let Some(mbr) = read(0, 512).filter(|m| m[510..512] == [0x55, 0xAA]) else { return Vec::new() };
    let entries: Vec<(u8, u64)> = (0..4)
        .map(|i| &mbr[446 + 16 * i..462 + 16 * i])
        .map(|e| (e[4], u64::from(u32::from_le_bytes([e[8], e[9], e[10], e[11]]))))
        .filter(|&(kind, start)| kind != 0 && start != 0)
        .collect();
    if !entries.iter().any(|&(kind, _)| kind == 0xEE) {
        return entries.into_iter().map(|(_, start)| start * SECTOR).collect();
    }
    let Some(header) = read(SECTOR, 92).filter(|h| &h[..8] == b"EFI PART") else { return Vec::new() };
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
    let (table, count, size) = (u64_at(&header, 72), u32_at(&header, 80).min(256), u32_at(&header, 84));
    if size < 128 {
        return Vec::new();
    }
    let Some(entries) = read(table * SECTOR, count as usize * size as usize) else { return Vec::new() };
    entries.chunks(size as usize).filter(|e| e[..16].iter().any(|&b| b != 0)).map(|e| u64_at(e, 32) * SECTOR).collect()
}

/// `mount -o loop,<options>` of the file system in a raw disk, at its offset.
async fn mount_disk(disk: &Path, mount_point: &Path, options: &str) -> Result<(), String> {
    let offset = ext4_offset(disk).ok_or_else(|| format!("{} holds no ext4 file system", disk.display()))?;
    let options = format!("loop,offset={offset}{options}");
    run("mount", &["-o".as_ref(), options.as_ref(), disk.as_os_str(), mount_point.as_os_str()]).await
}

/// Mounts the root disk read-write at `rootfs` (created if need be). `commit=60`: the
/// file system writes its journal back once a minute rather than every 5 s, so what an
/// instance wrote after its last `sync` stays out of a NoReboot capture for that long.
async fn mount_root(disk: &Path, rootfs: &Path) -> Result<(), String> {
    tokio::fs::create_dir_all(rootfs).await.map_err(|e| format!("creating {}: {e}", rootfs.display()))?;
    mount_disk(disk, rootfs, ",commit=60").await
}

/// Unmounts `path` if something is mounted there (lazily when still busy).
async fn unmount(path: &Path) -> Result<(), String> {
    if !is_mount_point(path) {
        return Ok(());
    }
    if run("umount", &[path.as_os_str()]).await.is_ok() {
        return Ok(());
    }
    run("umount", &["--lazy".as_ref(), path.as_os_str()]).await
}

/// Whether a file system is mounted at `path` (it sits on another device than its parent).
fn is_mount_point(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(here), Some(Ok(parent))) = (std::fs::metadata(path), path.parent().map(std::fs::metadata)) else {
        return false;
    };
    here.dev() != parent.dev()
}

/// (device base name, disk file) of each data volume disk in `dir`.
fn volume_disks(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut disks: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let path = e.path();
            let name = path.file_name()?.to_str()?.strip_suffix(".img")?.to_string();
            Some((name, path))
        })
        .collect();
    disks.sort();
    disks
}

/// The loop devices `disk` is attached to.
async fn attached_loops(disk: &Path) -> Result<Vec<PathBuf>, String> {
    let listed = run_output(
        "losetup",
        &["--noheadings".as_ref(), "--output".as_ref(), "NAME".as_ref(), "--associated".as_ref(), disk.as_os_str()],
    )
    .await?;
    Ok(listed.lines().map(str::trim).filter(|l| !l.is_empty()).map(PathBuf::from).collect())
}

/// The names a data volume's device has inside the instance: the mapping's own and its
/// Xen twin (`sdb` and `xvdb`), as EC2 instances see one or the other.
fn device_names(name: &str) -> Vec<String> {
    let twin = match (name.strip_prefix("sd"), name.strip_prefix("xvd")) {
        (Some(letter), _) => Some(format!("xvd{letter}")),
        (_, Some(letter)) => Some(format!("sd{letter}")),
        _ => None,
    };
    std::iter::once(name.to_string()).chain(twin).map(|n| format!("/dev/{n}")).collect()
}

async fn run_output(program: &str, args: &[&std::ffi::OsStr]) -> Result<String, String> {
    let out = tokio::process::Command::new(program).args(args).output().await.map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{program}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

async fn run(program: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
    run_output(program, args).await.map(|_| ())
}

/// The first-boot script `ec2lite-init` runs before sshd: the user data (a script, or
/// `#cloud-config` as turned into one at launch), once per instance (an instance of an
/// image captured from another runs its own again, as cloud-init does), as root, its
/// output on the console.
fn first_boot_script(instance_id: &str) -> String {
    format!(
        r#"#!/bin/bash
# Written by ec2lite at launch: runs this instance's user data once, as root.
data=/var/lib/ec2lite/user-data
done_marker=/var/lib/ec2lite/user-data.{instance_id}.done
[ -s "$data" ] && [ ! -e "$done_marker" ] || exit 0
touch "$done_marker"
if [ "$(head -c 2 "$data")" = '#!' ]; then
  chmod 0700 "$data"
  echo "ec2lite: running user data"
  "$data" 2>&1 | tee -a /var/log/user-data.log
  echo "ec2lite: user data exited with ${{PIPESTATUS[0]}}"
elif [ -e /var/lib/ec2lite/cloud-config.sh ]; then
  echo "ec2lite: running #cloud-config"
  bash /var/lib/ec2lite/cloud-config.sh 2>&1 | tee -a /var/log/cloud-init-output.log
  echo "ec2lite: #cloud-config exited with ${{PIPESTATUS[0]}}"
else
  echo "ec2lite: the user data is neither a script (#!...) nor #cloud-config; not run"
fi
"#
    )
}

/// PID 1 of every instance, whatever root filesystem it has: host keys at first boot,
/// the first-boot user data, then sshd in the foreground.
const INIT: &str = r#"#!/bin/bash
# PID 1 of an ec2lite instance (written by ec2lite at launch).
ssh-keygen -A >/dev/null
mkdir -p /run/sshd
if [ -x /usr/local/sbin/ec2lite-firstboot ]; then /usr/local/sbin/ec2lite-firstboot; fi
/usr/sbin/sshd -D -e &
sshd_pid=$!
trap 'kill -TERM $sshd_pid; wait $sshd_pid; exit 0' TERM INT
wait $sshd_pid
"#;

/// Writes the init, the first-boot script and the user data into a root filesystem.
fn install_init(rootfs: &Path, instance_id: &str, user_data: Option<&[u8]>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let sbin = rootfs.join("usr/local/sbin");
    std::fs::create_dir_all(&sbin)?;
    std::fs::write(sbin.join("ec2lite-init"), INIT)?;
    std::fs::set_permissions(sbin.join("ec2lite-init"), std::fs::Permissions::from_mode(0o755))?;
    install_user_data(rootfs, instance_id, user_data)
}

fn install_user_data(rootfs: &Path, instance_id: &str, user_data: Option<&[u8]>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = rootfs.join("var/lib/ec2lite");
    std::fs::create_dir_all(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    let (data, cloud_config) = (dir.join("user-data"), dir.join("cloud-config.sh"));
    let _ = std::fs::remove_file(&cloud_config);
    match user_data {
        Some(bytes) => {
            std::fs::write(&data, bytes)?;
            if cloud_config::is_cloud_config(bytes) {
                std::fs::write(&cloud_config, cloud_config::to_script(bytes))?;
            }
        }
        None => {
            let _ = std::fs::remove_file(&data);
        }
    }
    let script = rootfs.join("usr/local/sbin/ec2lite-firstboot");
    std::fs::write(&script, first_boot_script(instance_id))?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
}

/// Writes `key` as the login user's authorized_keys, owned by that user (ids read from
/// the root filesystem's own /etc/passwd, not the host's).
fn install_key(rootfs: &Path, user: &str, key: &str) -> std::io::Result<()> {
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd"))?;
    let (uid, gid, home) = passwd_entry(&passwd, user)
        .ok_or_else(|| std::io::Error::other(format!("no user {user} in the root filesystem")))?;
    let ssh_dir = rootfs.join(home.trim_start_matches('/')).join(".ssh");
    std::fs::create_dir_all(&ssh_dir)?;
    let file = ssh_dir.join("authorized_keys");
    std::fs::write(&file, format!("{}\n", key.trim()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ssh_dir, std::fs::Permissions::from_mode(0o700))?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
    std::os::unix::fs::chown(&ssh_dir, Some(uid), Some(gid))?;
    std::os::unix::fs::chown(&file, Some(uid), Some(gid))
}

/// (uid, gid, home) of `user` in an /etc/passwd text.
fn passwd_entry<'a>(passwd: &'a str, user: &str) -> Option<(u32, u32, &'a str)> {
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        match fields.as_slice() {
            [name, _, uid, gid, _, home, ..] if *name == user => Some((uid.parse().ok()?, gid.parse().ok()?, *home)),
            _ => None,
        }
    })
}

/// Waits until an SSH server greets on `ip:22` (the moment EC2 would say `running`
/// and a client can log in).
async fn wait_for_ssh(ip: &str, limit: Duration) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        let attempt = async {
            let mut stream = tokio::net::TcpStream::connect((ip, 22)).await?;
            let mut banner = [0u8; 4];
            stream.read_exact(&mut banner).await?;
            Ok::<bool, std::io::Error>(&banner == b"SSH-")
        };
        if let Ok(Ok(true)) = tokio::time::timeout(Duration::from_secs(2), attempt).await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("sshd did not answer on {ip}:22 within {}s", limit.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_users_follow_the_image_family() {
        assert_eq!(login_user("al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64"), "ec2-user");
        assert_eq!(login_user("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241206"), "ubuntu");
        assert_eq!(login_user("debian-12-amd64-20241201-1948"), "admin");
        assert_eq!(login_user("my-golden"), "ec2-user");
    }

    #[test]
    fn passwd_entries_give_ids_and_home() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nadmin:x:1001:1002::/home/admin:/bin/bash\n";
        assert_eq!(passwd_entry(passwd, "admin"), Some((1001, 1002, "/home/admin")));
        assert_eq!(passwd_entry(passwd, "ubuntu"), None);
    }

    /// A disk file of `len` bytes with `parts` written at their offsets.
    fn disk_with(name: &str, len: u64, parts: &[(u64, &[u8])]) -> PathBuf {
        use std::os::unix::fs::FileExt;
        let path = std::env::temp_dir().join(format!("ec2lite-disk-{name}-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(len).unwrap();
        for (offset, bytes) in parts {
            file.write_all_at(bytes, *offset).unwrap();
        }
        path
    }

    const EXT_MAGIC: [u8; 2] = [0x53, 0xEF];

    #[test]
    fn ext4_is_found_whole_in_an_mbr_partition_or_in_a_gpt_partition() {
        let whole = disk_with("whole", 1 << 20, &[(1080, &EXT_MAGIC)]);
        assert_eq!(ext4_offset(&whole), Some(0));

        // MBR: a swap partition (no ext4 in it) at sector 2048, then Linux at 4096.
        let mut mbr = [0u8; 512];
        mbr[446 + 4] = 0x82;
        mbr[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
        mbr[462 + 4] = 0x83;
        mbr[462 + 8..462 + 12].copy_from_slice(&4096u32.to_le_bytes());
        mbr[510..].copy_from_slice(&[0x55, 0xAA]);
        let with_mbr = disk_with("mbr", 4 << 20, &[(0, &mbr), (4096 * 512 + 1080, &EXT_MAGIC)]);
        assert_eq!(ext4_offset(&with_mbr), Some(4096 * 512));

        // GPT behind a protective MBR: entries at LBA 2, one partition from LBA 2048.
        let mut protective = [0u8; 512];
        protective[446 + 4] = 0xEE;
        protective[446 + 8] = 1;
        protective[510..].copy_from_slice(&[0x55, 0xAA]);
        let mut header = [0u8; 92];
        header[..8].copy_from_slice(b"EFI PART");
        header[72..80].copy_from_slice(&2u64.to_le_bytes());
        header[80..84].copy_from_slice(&128u32.to_le_bytes());
        header[84..88].copy_from_slice(&128u32.to_le_bytes());
        let mut entry = [0u8; 128];
        entry[..16].copy_from_slice(&[0xAF; 16]);
        entry[32..40].copy_from_slice(&2048u64.to_le_bytes());
        let gpt = disk_with(
            "gpt",
            4 << 20,
            &[(0, &protective), (512, &header), (1024, &entry), (2048 * 512 + 1080, &EXT_MAGIC)],
        );
        assert_eq!(ext4_offset(&gpt), Some(2048 * 512));

        let empty = disk_with("empty", 1 << 20, &[]);
        assert_eq!(ext4_offset(&empty), None);
        for disk in [whole, with_mbr, gpt, empty] {
            std::fs::remove_file(disk).unwrap();
        }
    }

    #[test]
    fn data_volumes_have_their_device_name_and_its_xen_twin() {
        assert_eq!(device_names("sdb"), ["/dev/sdb", "/dev/xvdb"]);
        assert_eq!(device_names("xvdf"), ["/dev/xvdf", "/dev/sdf"]);
        assert_eq!(device_names("nvme1n1"), ["/dev/nvme1n1"]);
    }

    #[test]
    fn addresses_are_distinct_and_kept_per_instance() {
        let machines = Machines::new(PathBuf::from("/nonexistent"), Default::default(), Path::new("/tmp"), 0.25);
        let a = machines.allocate_ip("i-a").unwrap();
        let b = machines.allocate_ip("i-b").unwrap();
        assert_ne!(a, b);
        assert_eq!(machines.allocate_ip("i-a").unwrap(), a);
        assert!(a.starts_with("127.0.100."));
    }
}
