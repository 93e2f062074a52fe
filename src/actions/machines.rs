//! The instance actions' side of `--runtime podman`: which instances run, and the
//! background work that starts, stops and removes their containers and records the
//! state each reaches (pending → running once sshd answers).

use std::sync::Arc;

use super::Ctx;
use crate::domain::image::Image;
use crate::domain::instance::Instance;
use crate::domain::lifecycle::InstanceState;
use crate::ec2_err;
use crate::error::Result;
use crate::machines::imds::Metadata;
use crate::machines::{ext4_offset, login_user, DataVolume, LaunchSpec, Machines, RootSource, LOOPBACK_PREFIX};
use crate::store::blobs::BlobStore;
use crate::store::instances as store;
use crate::store::{blocks, key_pairs, snapshots, Store};
use crate::workers::raw_disk;

/// The runtime, when it is on and the image is one it runs (Linux).
pub fn runtime_for<'a>(ctx: &Ctx<'a>, image: &Image) -> Option<&'a Arc<Machines>> {
    let linux = image.platform.as_deref() != Some("windows");
    ctx.app.machines.as_ref().filter(|_| linux)
}

/// RunInstances refuses with InsufficientInstanceCapacity when the runtime is on but
/// cannot run anything here (no podman, no base root filesystem).
pub async fn check_capacity(ctx: &Ctx<'_>) -> Result<()> {
    let Some(machines) = &ctx.app.machines else { return Ok(()) };
    match machines.unusable().await {
        Some(why) => Err(ec2_err!(InsufficientInstanceCapacity, "There is no capacity for this launch: {why}.")),
        None => Ok(()),
    }
}

/// A new instance of a running image: its loopback public IP, and pending until its
/// container answers (no timer moves it on).
pub fn prepare(ctx: &Ctx<'_>, image: &Image, instance: &mut Instance) -> Result<()> {
    let Some(machines) = runtime_for(ctx, image) else { return Ok(()) };
    let ip = machines.allocate_ip(&instance.instance_id).ok_or_else(|| {
        ec2_err!(
            InsufficientInstanceCapacity,
            "There is no capacity for this launch: all 253 loopback addresses of 127.0.100.0/24 are in use."
        )
    })?;
    instance.public_ip = Some(ip);
    instance.ready_at = None;
    Ok(())
}

/// Starts the containers of instances just stored (after the commit).
pub async fn launch(ctx: &Ctx<'_>, image: &Image, instances: &[Instance]) -> Result<()> {
    let Some(machines) = runtime_for(ctx, image) else { return Ok(()) };
    let public_key = match instances.first() {
        Some(instance) => public_key_of(&ctx.app.store, instance).await?,
        None => None,
    };
    let root_snapshot = root_snapshot_with_blocks(ctx, image).await?;
    for instance in instances {
        let Some(public_ip) = instance.public_ip.clone() else { continue };
        let it = instance_type_of(instance);
        let mapped = machines.mapped_root(&image.name);
        let root = match (&root_snapshot, mapped) {
            (Some((snapshot_id, size)), _) => root_disk(ctx, machines, &instance.instance_id, snapshot_id, *size).await,
            (None, Some(mapping)) => RootSource::Mapped(mapping.files.clone()),
            (None, None) => RootSource::Base,
        };
        let login = mapped.and_then(|m| m.login_user.clone()).unwrap_or_else(|| login_user(&image.name).to_string());
        let data_volumes = data_volumes(ctx, machines, image, instance).await?;
        let spec = LaunchSpec {
            instance_id: instance.instance_id.clone(),
            public_ip,
            login_user: login,
            public_key: public_key.clone(),
            vcpus: it.map_or(1, |t| t.vcpus),
            memory_mib: it.map_or(1024, |t| t.memory_mib),
            root,
            root_size_bytes: root_size_gib(image) as u64 * GIB,
            data_volumes,
            user_data: instance.user_data.as_deref().map(decode_user_data),
            metadata: metadata_of(instance, public_key.clone()),
        };
        let (machines, store, whose) = (machines.clone(), ctx.app.store.clone(), Whose::of(instance));
        tokio::spawn(async move {
            let outcome = machines.launch(&spec).await;
            record(&machines, &store, &whose, outcome).await;
        });
    }
    Ok(())
}

/// The OpenSSH public key of the instance's key pair, if it has one.
async fn public_key_of(store: &Store, instance: &Instance) -> Result<Option<String>> {
    let Some(name) = instance.key_name.as_deref() else { return Ok(None) };
    let mut conn = store.read().await?;
    let found = key_pairs::find(&mut conn, &instance.owner_id, &instance.region, Some(name), None).await?;
    Ok(found.map(|k| k.public_key))
}

/// What the instance reads from the metadata service: what DescribeInstances says of it.
fn metadata_of(instance: &Instance, public_key: Option<String>) -> Metadata {
    Metadata {
        instance_id: instance.instance_id.clone(),
        account_id: instance.owner_id.clone(),
        image_id: instance.image_id.clone(),
        instance_type: instance.instance_type.clone(),
        architecture: instance.architecture.clone(),
        region: instance.region.clone(),
        availability_zone: instance.availability_zone.clone(),
        private_ip: instance.private_ip.clone(),
        public_ip: instance.public_ip.clone().unwrap_or_default(),
        reservation_id: instance.reservation_id.clone(),
        launch_index: instance.ami_launch_index,
        security_groups: instance.groups.iter().map(|(_, name)| name.clone()).collect(),
        key: instance.key_name.clone().zip(public_key),
        user_data: instance.user_data.as_deref().map(decode_user_data),
        pending_time: crate::domain::clock::iso(instance.launch_time),
    }
}

/// The instance's volumes other than its root, as disks: those the image maps from a
/// snapshot holding blocks are written from it; the others start empty.
async fn data_volumes(
    ctx: &Ctx<'_>,
    machines: &Machines,
    image: &Image,
    instance: &Instance,
) -> Result<Vec<DataVolume>> {
    let mut disks = Vec::new();
    for (device, volume_id, _, _) in &instance.volumes {
        if Some(device) == instance.root_device_name.as_ref() {
            continue;
        }
        let mut conn = ctx.app.store.read().await?;
        let volume =
            crate::store::volumes::find_owned(&mut conn, &instance.owner_id, &instance.region, volume_id).await?;
        drop(conn);
        let Some(volume) = volume else { continue };
        let size_bytes = volume.size.max(1) as u64 * GIB;
        let mapped = image.block_device_mappings.iter().find(|m| &m.device_name == device);
        let snapshot = mapped.and_then(|m| m.ebs.as_ref()).and_then(|e| e.snapshot_id.clone());
        if let Some(snapshot_id) = snapshot.filter(|_| volume.snapshot_id.is_some()) {
            if snapshot_holds_blocks(ctx, &snapshot_id).await? {
                let disk =
                    machines.volume_disk(&instance.instance_id, device).map_err(|e| ec2_err!(InternalError, "{e}"))?;
                raw_disk::write(&ctx.app.store, &ctx.app.blobs, &snapshot_id, size_bytes, &disk).await?;
            }
        }
        disks.push(DataVolume { device: device.clone(), size_bytes });
    }
    Ok(disks)
}

async fn snapshot_holds_blocks(ctx: &Ctx<'_>, snapshot_id: &str) -> Result<bool> {
    let mut conn = ctx.app.store.read().await?;
    Ok(!blocks::list(&mut conn, snapshot_id, 0, 1).await?.is_empty())
}

/// The size of the image's root volume (8 GiB when its mapping does not say).
fn root_size_gib(image: &Image) -> i64 {
    root_ebs(image).and_then(|ebs| ebs.volume_size).unwrap_or(8).max(1)
}

fn root_ebs(image: &Image) -> Option<&crate::domain::image::EbsBlockDevice> {
    let root = image.block_device_mappings.iter().find(|m| Some(&m.device_name) == image.root_device_name.as_ref());
    root.and_then(|m| m.ebs.as_ref())
}

/// The image's root snapshot and its size in bytes, when it holds blocks (an image
/// captured from a running instance, or an uploaded or imported disk).
async fn root_snapshot_with_blocks(ctx: &Ctx<'_>, image: &Image) -> Result<Option<(String, u64)>> {
    let Some(ebs) = root_ebs(image) else { return Ok(None) };
    let Some(snapshot_id) = &ebs.snapshot_id else { return Ok(None) };
    if !snapshot_holds_blocks(ctx, snapshot_id).await? {
        return Ok(None);
    }
    let mut conn = ctx.app.store.read().await?;
    let size = snapshots::find_any(&mut conn, snapshot_id).await?.map_or(0, |s| s.volume_size);
    Ok(Some((snapshot_id.clone(), size.max(1) as u64 * GIB)))
}

/// The root snapshot as a raw disk for the instance, if it holds an ext4 file system
/// (whole-disk, or in an MBR or GPT partition); otherwise the base root filesystem
/// (said in the log).
async fn root_disk(ctx: &Ctx<'_>, machines: &Machines, instance_id: &str, snapshot_id: &str, size: u64) -> RootSource {
    let written = async {
        let disk = machines.disk(instance_id).map_err(|e| ec2_err!(InternalError, "{e}"))?;
        raw_disk::write(&ctx.app.store, &ctx.app.blobs, snapshot_id, size, &disk).await?;
        Ok::<_, crate::error::Ec2Error>(disk)
    };
    match written.await {
        Ok(disk) if ext4_offset(&disk).is_some() => RootSource::Disk,
        Ok(disk) => {
            let _ = std::fs::remove_file(&disk);
            tracing::warn!(snapshot = %snapshot_id, "the root snapshot holds no ext4 file system (whole-disk or in a partition); using the base root filesystem");
            RootSource::Base
        }
        Err(err) => {
            tracing::error!(snapshot = %snapshot_id, error = %err, "reading the root snapshot failed; using the base root filesystem");
            RootSource::Base
        }
    }
}

const GIB: u64 = 1 << 30;

/// User data arrives base64-encoded; what does not decode is taken as it is.
fn decode_user_data(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text.trim()).unwrap_or_else(|_| text.as_bytes().to_vec())
}

/// The instance's console output, when it runs in a container: none otherwise (as EC2
/// answers for an instance that has written nothing yet).
pub async fn console_output(ctx: &Ctx<'_>, instance: &Instance) -> Option<Vec<u8>> {
    let machines = ctx.app.machines.as_ref().filter(|_| has_container(instance))?;
    match machines.console_output(&instance.instance_id).await {
        Ok(output) if !output.is_empty() => Some(output),
        Ok(_) => None,
        Err(why) => {
            tracing::warn!(instance = %instance.instance_id, error = %why, "reading the console failed");
            None
        }
    }
}

fn instance_type_of(instance: &Instance) -> Option<&'static crate::domain::instance::InstanceType> {
    crate::domain::instance::instance_type(&instance.instance_type).ok()
}

/// What a state change does to the container, in the background: a stop or terminate
/// has been recorded already (its timer moves it on); a start is `running` once sshd
/// answers.
pub fn follow(ctx: &Ctx<'_>, before: &Instance, after: &Instance) {
    let Some(machines) = ctx.app.machines.clone().filter(|_| has_container(before)) else { return };
    let (store, whose) = (ctx.app.store.clone(), Whose::of(after));
    let (id, ip) = (after.instance_id.clone(), after.public_ip.clone().unwrap_or_default());
    let (from, to) = (before.state, after.state);
    tokio::spawn(async move {
        let outcome = match to {
            InstanceState::Stopping | InstanceState::Stopped => machines.stop(&id).await,
            InstanceState::ShuttingDown | InstanceState::Terminated => machines.remove(&id).await,
            InstanceState::Pending if from == InstanceState::Stopped => {
                let started = machines.start(&id, &ip).await;
                record(&machines, &store, &whose, started).await;
                return;
            }
            _ => Ok(()),
        };
        if let Err(why) = outcome {
            tracing::warn!(instance = %id, error = %why, "container state change failed");
        }
    });
}

/// A running instance keeps its loopback address when it starts again (its container
/// publishes port 22 there), and stays pending until sshd answers.
pub fn keep_address(ctx: &Ctx<'_>, before: &Instance, next: &mut Instance) {
    if ctx.app.machines.is_none() || !has_container(before) {
        return;
    }
    next.public_ip = before.public_ip.clone();
    if next.state == InstanceState::Pending {
        next.ready_at = None;
    }
}

/// Instances the runtime started hold an address of its loopback range.
pub fn has_container(instance: &Instance) -> bool {
    instance.public_ip.as_deref().is_some_and(|ip| ip.starts_with(LOOPBACK_PREFIX))
}

/// Reboot: the container restarts; the instance stays `running` as on EC2.
pub fn reboot(ctx: &Ctx<'_>, instance_id: &str) {
    let Some(machines) = ctx.app.machines.clone() else { return };
    let id = instance_id.to_string();
    tokio::spawn(async move {
        if let Err(why) = machines.reboot(&id).await {
            tracing::warn!(instance = %id, error = %why, "container reboot failed");
        }
    });
}

/// Records the end of a launch or start: `running`, or, when the container could not
/// start, the instance shuts down with the reason (its timer terminates it).
async fn record(machines: &Machines, store: &Store, whose: &Whose, outcome: std::result::Result<(), String>) {
    match record_state(store, whose, &outcome).await {
        // Terminated (or reset) while its container was starting: the container goes too.
        Ok(Gone::Yes) => {
            if let Err(why) = machines.remove(&whose.instance_id).await {
                tracing::warn!(instance = %whose.instance_id, error = %why, "removing the container failed");
            }
        }
        Ok(Gone::No) => {}
        Err(err) => {
            tracing::error!(instance = %whose.instance_id, error = %err, "recording the container's state failed")
        }
    }
}

/// Whether the instance a container was started for is gone or going.
enum Gone {
    Yes,
    No,
}

/// An instance as the store finds it again from a background task.
pub struct Whose {
    pub account: String,
    pub region: String,
    pub instance_id: String,
}

impl Whose {
    pub fn of(instance: &Instance) -> Whose {
        Whose {
            account: instance.owner_id.clone(),
            region: instance.region.clone(),
            instance_id: instance.instance_id.clone(),
        }
    }
}

async fn record_state(store: &Store, whose: &Whose, outcome: &std::result::Result<(), String>) -> Result<Gone> {
    let now = crate::domain::clock::now_ms();
    let instance_id = &whose.instance_id;
    let mut tx = store.write().await?;
    let found = store::find_owned(&mut tx, &whose.account, &whose.region, instance_id).await?;
    let Some(mut instance) = found else { return Ok(Gone::Yes) };
    match instance.state {
        InstanceState::Pending => {}
        InstanceState::ShuttingDown | InstanceState::Terminated => return Ok(Gone::Yes),
        _ => return Ok(Gone::No),
    }
    match outcome {
        Ok(()) => instance.state = InstanceState::Running,
        Err(why) => {
            tracing::error!(instance = %instance_id, error = %why, "the instance's container did not start");
            instance.state = InstanceState::ShuttingDown;
            instance.ready_at = Some(now);
            instance.state_reason_code = Some("Server.InternalError".into());
            instance.state_reason_message = Some(format!("Server.InternalError: {why}"));
        }
    }
    store::set_state(&mut tx, &instance, now).await?;
    tx.commit().await?;
    store.schedule_transition(instance.ready_at);
    Ok(Gone::No)
}

/// After an ec2lite restart: each pending or running instance's container is found
/// running again, or started; one whose files are gone shuts down with the reason.
pub async fn reconcile(store: Store, machines: Arc<Machines>) {
    let live = match live_instances(&store).await {
        Ok(live) => live,
        Err(err) => return tracing::error!(error = %err, "listing the instances to run again failed"),
    };
    for (whose, public_ip, instance_type) in live {
        let it = crate::domain::instance::instance_type(&instance_type).ok();
        let (vcpus, memory_mib) = (it.map_or(1, |t| t.vcpus), it.map_or(1024, |t| t.memory_mib));
        let metadata = match metadata_for(&store, &whose).await {
            Ok(metadata) => metadata,
            Err(err) => {
                tracing::error!(instance = %whose.instance_id, error = %err, "reading the instance to run again failed");
                continue;
            }
        };
        let outcome = if machines.adopt(metadata) {
            machines.ensure_running(&whose.instance_id, &public_ip, vcpus, memory_mib).await
        } else {
            Err(format!("the root filesystem of {} is gone", whose.instance_id))
        };
        if let Err(why) = &outcome {
            tracing::warn!(instance = %whose.instance_id, error = %why, "the instance's container could not run again");
        }
        record(&machines, &store, &whose, outcome).await;
    }
}

async fn metadata_for(store: &Store, whose: &Whose) -> Result<Metadata> {
    let mut conn = store.read().await?;
    let found = store::find_owned(&mut conn, &whose.account, &whose.region, &whose.instance_id).await?;
    drop(conn);
    let instance = found.ok_or_else(|| ec2_err!(InternalError, "instance {} vanished", whose.instance_id))?;
    let public_key = public_key_of(store, &instance).await?;
    Ok(metadata_of(&instance, public_key))
}

async fn live_instances(store: &Store) -> Result<Vec<(Whose, String, String)>> {
    let mut conn = store.read().await?;
    let rows = store::with_public_ip_prefix(&mut conn, LOOPBACK_PREFIX).await?;
    Ok(rows
        .into_iter()
        .filter(|r| matches!(r.state, InstanceState::Pending | InstanceState::Running))
        .map(|r| {
            (Whose { account: r.account, region: r.region, instance_id: r.instance_id }, r.public_ip, r.instance_type)
        })
        .collect())
}

/// Whether CreateImage captures the instance's files into its root snapshot.
pub fn captures(ctx: &Ctx<'_>, instance: &Instance) -> bool {
    ctx.app.machines.is_some() && has_container(instance)
}

/// What a capture needs from CreateImage: the new snapshot of each of the instance's
/// volumes (stored pending, with no time set, so each completes only when its disk has
/// been stored).
pub struct Capture {
    pub instance_id: String,
    pub root_device: String,
    /// (device name, snapshot id) of each volume captured.
    pub volumes: Vec<(String, String)>,
    /// Without NoReboot the container stops for the capture, as EC2 reboots.
    pub reboot: bool,
}

/// Stores the instance's disks as the image's snapshots in the background (after
/// CreateImage's commit); the image becomes available once they complete.
pub fn capture(ctx: &Ctx<'_>, capture: Capture) {
    let Some(machines) = ctx.app.machines.clone() else { return };
    let (store, blobs) = (ctx.app.store.clone(), ctx.app.blobs.clone());
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let outcomes = store_capture(&machines, &store, &blobs, &capture).await;
        tracing::info!(instance = %capture.instance_id, ms = started.elapsed().as_millis() as u64, "captured");
        let now = crate::domain::clock::now_ms();
        let finished = async {
            let mut tx = store.write().await?;
            for (snapshot_id, outcome) in &outcomes {
                let failure = outcome.as_ref().err().map(|why| {
                    tracing::error!(instance = %capture.instance_id, snapshot = %snapshot_id, error = %why, "capturing a volume failed");
                    "The instance's volume could not be captured.".to_string()
                });
                snapshots::finish_capture(&mut tx, snapshot_id, now, failure.as_deref()).await?;
            }
            tx.commit().await?;
            Ok::<_, crate::error::Ec2Error>(())
        };
        if let Err(err) = finished.await {
            tracing::error!(instance = %capture.instance_id, error = %err, "recording the capture failed");
        }
        store.schedule_transition(Some(now));
    });
}

/// Each volume's snapshot and how storing its disk went. A volume with no disk in the
/// instance (attached after launch) completes as it was, with no blocks.
async fn store_capture(
    machines: &Machines,
    store: &Store,
    blobs: &Arc<BlobStore>,
    capture: &Capture,
) -> Vec<(String, std::result::Result<(), String>)> {
    let id = &capture.instance_id;
    let held = match machines.begin_capture(id, capture.reboot).await {
        Ok(held) => held,
        Err(why) => return capture.volumes.iter().map(|(_, s)| (s.clone(), Err(why.clone()))).collect(),
    };
    let mut outcomes = Vec::new();
    for (device, snapshot_id) in &capture.volumes {
        let stored = match machines.captured_disk(id, device, &capture.root_device) {
            Some(disk) => replace_blocks(store, blobs, &disk, snapshot_id).await.map_err(|e| e.to_string()),
            None => Ok(()),
        };
        outcomes.push((snapshot_id.clone(), stored));
    }
    // The instance comes back whether or not its disks could be stored.
    if let Err(why) = machines.finish_capture(id, capture.reboot, held).await {
        tracing::error!(instance = %id, error = %why, "starting the instance again after its capture failed");
    }
    outcomes
}

/// The snapshot's blocks become the disk's (those copied from the volume go first).
async fn replace_blocks(
    store: &Store,
    blobs: &Arc<BlobStore>,
    disk: &std::path::Path,
    snapshot_id: &str,
) -> Result<()> {
    let mut tx = store.write().await?;
    blocks::delete_all(&mut tx, snapshot_id).await?;
    tx.commit().await?;
    raw_disk::store(store, blobs, disk, snapshot_id).await
}
