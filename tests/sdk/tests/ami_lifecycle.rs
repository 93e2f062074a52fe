//! The storage side of the AMI lifecycle through the official Rust SDK: volume →
//! snapshot → image, found, shared, described, tagged, deregistered.

use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{
    ArchitectureValues, AttributeValue, BlockDeviceMapping, EbsBlockDevice, Filter, ImageAttributeName, ImageState,
    LaunchPermission, LaunchPermissionModifications, ResetImageAttributeName, ResourceType, SnapshotState, Tag,
    TagSpecification, VolumeType,
};
use aws_sdk_ec2::Client;
use ec2lite_sdk_tests::{client, code, status, Server};

async fn snapshot_of_new_volume(ec2: &Client, zone: &str, size: i32) -> String {
    let volume = ec2
        .create_volume()
        .availability_zone(zone)
        .size(size)
        .volume_type(VolumeType::Gp3)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Volume)
                .tags(Tag::builder().key("purpose").value("root").build())
                .build(),
        )
        .send()
        .await
        .expect("create volume");
    assert_eq!(volume.size(), Some(size));
    assert_eq!(volume.iops(), Some(3000));
    let volume_id = volume.volume_id().unwrap();
    let snapshot = ec2.create_snapshot().volume_id(volume_id).description("root disk").send().await.expect("snapshot");
    assert_eq!(snapshot.state(), Some(&SnapshotState::Pending));
    assert_eq!(snapshot.volume_size(), Some(size));
    snapshot.snapshot_id().unwrap().to_string()
}

async fn register(ec2: &Client, name: &str, snapshot_id: &str) -> Result<String, String> {
    ec2.register_image()
        .name(name)
        .root_device_name("/dev/xvda")
        .architecture(ArchitectureValues::X8664)
        .virtualization_type("hvm")
        .ena_support(true)
        .boot_mode(aws_sdk_ec2::types::BootModeValues::Uefi)
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/xvda")
                .ebs(EbsBlockDevice::builder().snapshot_id(snapshot_id).volume_type(VolumeType::Gp3).build())
                .build(),
        )
        .block_device_mappings(BlockDeviceMapping::builder().device_name("/dev/sdb").virtual_name("ephemeral0").build())
        .send()
        .await
        .map(|o| o.image_id().unwrap().to_string())
        .map_err(|e| code(&e))
}

#[tokio::test]
async fn volume_snapshot_image_share_tag_deregister() {
    let server = Server::start_default(&[]);
    let ec2 = client(&server, "test", "us-east-1");
    let snapshot_id = snapshot_of_new_volume(&ec2, "us-east-1a", 8).await;

    let waited = ec2.wait_until_snapshot_completed().snapshot_ids(&snapshot_id).wait(Duration::from_secs(60)).await;
    assert!(waited.is_ok(), "{waited:?}");
    let image_id = register(&ec2, "sdk-image-1", &snapshot_id).await.expect("register");
    let waited = ec2.wait_until_image_available().image_ids(&image_id).wait(Duration::from_secs(60)).await;
    assert!(waited.is_ok(), "{waited:?}");

    let found = ec2
        .describe_images()
        .owners("self")
        .filters(Filter::builder().name("name").values("sdk-*").build())
        .filters(Filter::builder().name("architecture").values("x86_64").values("arm64").build())
        .send()
        .await
        .unwrap();
    let images = found.images();
    assert_eq!(images.len(), 1);
    let image = &images[0];
    assert_eq!(image.image_id(), Some(image_id.as_str()));
    assert_eq!(image.state(), Some(&ImageState::Available));
    assert_eq!(image.owner_id(), Some("000000000000"));
    assert_eq!(image.root_device_name(), Some("/dev/xvda"));
    assert_eq!(image.root_device_type().map(|t| t.as_str()), Some("ebs"));
    assert_eq!(image.boot_mode().map(|m| m.as_str()), Some("uefi"));
    assert_eq!(image.ena_support(), Some(true));
    assert_eq!(image.public(), Some(false));
    let root = &image.block_device_mappings()[0];
    assert_eq!(root.ebs().and_then(|e| e.snapshot_id()), Some(snapshot_id.as_str()));
    assert_eq!(root.ebs().and_then(|e| e.volume_size()), Some(8));
    assert_eq!(image.block_device_mappings()[1].virtual_name(), Some("ephemeral0"));

    // Share with an account and with everyone, read it back, reset it.
    ec2.modify_image_attribute()
        .image_id(&image_id)
        .launch_permission(
            LaunchPermissionModifications::builder()
                .add(LaunchPermission::builder().user_id("123456789012").build())
                .add(LaunchPermission::builder().group(aws_sdk_ec2::types::PermissionGroup::All).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let attr = ec2
        .describe_image_attribute()
        .image_id(&image_id)
        .attribute(ImageAttributeName::LaunchPermission)
        .send()
        .await
        .unwrap();
    let grants: Vec<_> =
        attr.launch_permissions().iter().map(|p| (p.user_id(), p.group().map(|g| g.as_str()))).collect();
    assert_eq!(grants, vec![(None, Some("all")), (Some("123456789012"), None)]);
    let public = ec2.describe_images().image_ids(&image_id).send().await.unwrap();
    assert_eq!(public.images()[0].public(), Some(true));
    ec2.reset_image_attribute()
        .image_id(&image_id)
        .attribute(ResetImageAttributeName::LaunchPermission)
        .send()
        .await
        .unwrap();
    let attr = ec2
        .describe_image_attribute()
        .image_id(&image_id)
        .attribute(ImageAttributeName::LaunchPermission)
        .send()
        .await
        .unwrap();
    assert!(attr.launch_permissions().is_empty());

    ec2.modify_image_attribute()
        .image_id(&image_id)
        .description(AttributeValue::builder().value("golden image").build())
        .send()
        .await
        .unwrap();
    let attr = ec2
        .describe_image_attribute()
        .image_id(&image_id)
        .attribute(ImageAttributeName::Description)
        .send()
        .await
        .unwrap();
    assert_eq!(attr.description().and_then(|d| d.value()), Some("golden image"));

    ec2.create_tags()
        .resources(&image_id)
        .tags(Tag::builder().key("stage").value("prod").build())
        .send()
        .await
        .unwrap();
    let tagged = ec2
        .describe_images()
        .owners("self")
        .filters(Filter::builder().name("tag:stage").values("pr?d").build())
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.images().len(), 1);
    assert_eq!(tagged.images()[0].tags()[0].key(), Some("stage"));

    // The errors EC2 gives.
    let in_use = ec2.delete_snapshot().snapshot_id(&snapshot_id).send().await.unwrap_err();
    assert_eq!(code(&in_use), "InvalidSnapshot.InUse");
    assert_eq!(status(&in_use), 400);
    assert_eq!(register(&ec2, "sdk-image-1", &snapshot_id).await.unwrap_err(), "InvalidAMIName.Duplicate");
    let unknown = ec2.describe_images().image_ids("ami-0123456789abcdef0").send().await.unwrap_err();
    assert_eq!(code(&unknown), "InvalidAMIID.NotFound");
    let malformed = ec2.describe_images().image_ids("ami-12").send().await.unwrap_err();
    assert_eq!(code(&malformed), "InvalidAMIID.Malformed");

    let gone = ec2.deregister_image().image_id(&image_id).delete_associated_snapshots(true).send().await.unwrap();
    assert_eq!(gone.r#return(), Some(true));
    let results: Vec<_> =
        gone.delete_snapshot_results().iter().map(|r| (r.snapshot_id(), r.return_code().map(|c| c.as_str()))).collect();
    assert_eq!(results, vec![(Some(snapshot_id.as_str()), Some("success"))]);
    let after = ec2.describe_images().image_ids(&image_id).send().await.unwrap();
    assert!(after.images().is_empty());
    let again = ec2.deregister_image().image_id(&image_id).send().await.unwrap_err();
    assert_eq!(code(&again), "InvalidAMIID.Unavailable");
    let snapshot_gone = ec2.describe_snapshots().snapshot_ids(&snapshot_id).send().await.unwrap_err();
    assert_eq!(code(&snapshot_gone), "InvalidSnapshot.NotFound");
    // The name is free again once the image is gone.
    let new_snapshot = snapshot_of_new_volume(&ec2, "us-east-1b", 8).await;
    ec2.describe_snapshots().snapshot_ids(&new_snapshot).send().await.unwrap();
    assert!(register(&ec2, "sdk-image-1", &new_snapshot).await.is_ok());
}

#[tokio::test]
async fn sdk_waiter_genuinely_waits_for_a_pending_snapshot() {
    let server = Server::start_default(&["--snapshot-pending-ms", "1500"]);
    let ec2 = client(&server, "test", "us-east-1");
    let snapshot_id = snapshot_of_new_volume(&ec2, "us-east-1a", 4).await;
    let described = ec2.describe_snapshots().snapshot_ids(&snapshot_id).send().await.unwrap();
    assert_eq!(described.snapshots()[0].state(), Some(&SnapshotState::Pending));
    let registered = register(&ec2, "too-early", &snapshot_id).await;
    assert_eq!(registered.unwrap_err(), "IncorrectState");
    let started = std::time::Instant::now();
    // The SDK's waiter polls at once, then no sooner than 15 s later.
    let waited = ec2.wait_until_snapshot_completed().snapshot_ids(&snapshot_id).wait(Duration::from_secs(120)).await;
    assert!(waited.is_ok(), "{waited:?}");
    assert!(started.elapsed() >= Duration::from_secs(1), "the waiter did not wait");
    let done = ec2.describe_snapshots().snapshot_ids(&snapshot_id).send().await.unwrap();
    assert_eq!(done.snapshots()[0].progress(), Some("100%"));
}

#[tokio::test]
async fn a_forced_failure_fails_the_waiter() {
    let server = Server::start_default(&["--image-pending-ms", "600000"]);
    let ec2 = client(&server, "test", "us-east-1");
    let snapshot_id = snapshot_of_new_volume(&ec2, "us-east-1a", 8).await;
    ec2.describe_snapshots().snapshot_ids(&snapshot_id).send().await.unwrap();
    let image_id = register(&ec2, "doomed", &snapshot_id).await.unwrap();
    let pending = ec2.describe_images().image_ids(&image_id).send().await.unwrap();
    assert_eq!(pending.images()[0].state(), Some(&ImageState::Pending));
    let refused = ec2
        .modify_image_attribute()
        .image_id(&image_id)
        .description(AttributeValue::builder().value("x").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused), "InvalidAMIID.Unavailable");

    let failed = ec2lite_sdk_tests::http(
        server.address(),
        "POST",
        &format!("/_ec2lite/fail/{image_id}?message=disk%20gone"),
        &[],
        b"",
    );
    assert_eq!(failed.status, 200, "{}", failed.body);
    let waited = ec2.wait_until_image_available().image_ids(&image_id).wait(Duration::from_secs(30)).await;
    assert!(waited.is_err(), "the waiter must stop on a failed image");
    let image = ec2.describe_images().image_ids(&image_id).send().await.unwrap();
    let image = &image.images()[0];
    assert_eq!(image.state(), Some(&ImageState::Failed));
    assert_eq!(image.state_reason().and_then(|r| r.message()), Some("disk gone"));
    let not_pending =
        ec2lite_sdk_tests::http(server.address(), "POST", &format!("/_ec2lite/fail/{image_id}"), &[], b"");
    assert_eq!(not_pending.status, 409);
}

#[tokio::test]
async fn dry_run_is_a_412_error_and_creates_nothing() {
    let server = Server::start_default(&[]);
    let ec2 = client(&server, "test", "us-east-1");
    let err = ec2.create_volume().availability_zone("us-east-1a").size(8).dry_run(true).send().await.unwrap_err();
    assert_eq!(code(&err), "DryRunOperation");
    assert_eq!(status(&err), 412);
    assert!(ec2.describe_volumes().send().await.unwrap().volumes().is_empty());
}
