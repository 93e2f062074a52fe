//! Describe calls through the SDK: pagination with its paginators, regions and zones,
//! filters, and snapshot sharing.

use aws_sdk_ec2::types::{
    BlockDeviceMapping, CreateVolumePermission, CreateVolumePermissionModifications, EbsBlockDevice, Filter,
    SnapshotAttributeName,
};
use aws_sdk_ec2::Client;
use ec2lite_sdk_tests::{client, code, Server};

async fn completed_snapshot(ec2: &Client, zone: &str) -> String {
    let volume = ec2.create_volume().availability_zone(zone).size(2).send().await.unwrap();
    let snapshot = ec2.create_snapshot().volume_id(volume.volume_id().unwrap()).send().await.unwrap();
    let id = snapshot.snapshot_id().unwrap().to_string();
    // The next request sees the final state (default timings).
    ec2.describe_snapshots().snapshot_ids(&id).send().await.unwrap();
    id
}

#[tokio::test]
async fn paginators_walk_every_image_exactly_once() {
    let server = Server::start_default(&[]);
    let ec2 = client(&server, "123456789012", "eu-west-1");
    let snapshot_id = completed_snapshot(&ec2, "eu-west-1a").await;
    let mut registered = Vec::new();
    for i in 0..23 {
        let out = ec2
            .register_image()
            .name(format!("paged-{i:02}"))
            .root_device_name("/dev/xvda")
            .block_device_mappings(
                BlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(EbsBlockDevice::builder().snapshot_id(&snapshot_id).build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
        registered.push(out.image_id().unwrap().to_string());
    }
    let pages: Vec<_> = ec2
        .describe_images()
        .owners("self")
        .max_results(5)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 5);
    assert!(pages.last().unwrap().next_token().is_none());
    let mut seen: Vec<String> =
        pages.iter().flat_map(|p| p.images()).map(|i| i.image_id().unwrap().to_string()).collect();
    assert_eq!(seen.len(), 23);
    seen.sort();
    seen.dedup();
    registered.sort();
    assert_eq!(seen, registered);

    let combined = ec2.describe_images().image_ids(&registered[0]).max_results(5).send().await.unwrap_err();
    assert_eq!(code(&combined), "InvalidParameterCombination");
    let too_small = ec2.describe_images().max_results(2).send().await.unwrap_err();
    assert_eq!(code(&too_small), "InvalidParameterValue");

    let snapshots: Vec<_> = ec2
        .describe_snapshots()
        .owner_ids("self")
        .max_results(5)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(snapshots.len(), 1);
}

#[tokio::test]
async fn regions_and_zones() {
    let server = Server::start_default(&[]);
    let ec2 = client(&server, "test", "eu-central-1");
    let regions = ec2.describe_regions().all_regions(true).send().await.unwrap();
    let names: Vec<_> = regions.regions().iter().filter_map(|r| r.region_name()).collect();
    assert!(names.contains(&"us-east-1") && names.contains(&"eu-central-1") && names.contains(&"af-south-1"));
    let eu = ec2
        .describe_regions()
        .filters(Filter::builder().name("region-name").values("eu-*").build())
        .send()
        .await
        .unwrap();
    assert!(eu.regions().iter().all(|r| r.region_name().unwrap().starts_with("eu-")));
    assert_eq!(
        eu.regions()[0].endpoint(),
        Some(format!("ec2.{}.amazonaws.com", eu.regions()[0].region_name().unwrap()).as_str())
    );

    let zones = ec2.describe_availability_zones().send().await.unwrap();
    let zone_names: Vec<_> = zones.availability_zones().iter().filter_map(|z| z.zone_name()).collect();
    assert_eq!(zone_names, ["eu-central-1a", "eu-central-1b", "eu-central-1c"]);
    assert_eq!(zones.availability_zones()[0].zone_id(), Some("euc1-az1"));
    let all = ec2.describe_availability_zones().all_availability_zones(true).send().await.unwrap();
    let types: Vec<_> = all.availability_zones().iter().filter_map(|z| z.zone_type()).collect();
    assert!(types.contains(&"local-zone") && types.contains(&"wavelength-zone"), "{types:?}");
    let local = all.availability_zones().iter().find(|z| z.zone_type() == Some("local-zone")).unwrap();
    assert_eq!(local.opt_in_status().map(|s| s.as_str()), Some("not-opted-in"));
    assert_eq!(local.parent_zone_name(), Some("eu-central-1a"));
}

#[tokio::test]
async fn snapshots_shared_by_create_volume_permission() {
    let server = Server::start_default(&[]);
    let owner = client(&server, "111111111111", "us-east-1");
    let friend = client(&server, "222222222222", "us-east-1");
    let stranger = client(&server, "333333333333", "us-east-1");
    let snapshot_id = completed_snapshot(&owner, "us-east-1a").await;

    let hidden = friend.describe_snapshots().snapshot_ids(&snapshot_id).send().await.unwrap_err();
    assert_eq!(code(&hidden), "InvalidSnapshot.NotFound");
    owner
        .modify_snapshot_attribute()
        .snapshot_id(&snapshot_id)
        .create_volume_permission(
            CreateVolumePermissionModifications::builder()
                .add(CreateVolumePermission::builder().user_id("222222222222").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let attr = owner
        .describe_snapshot_attribute()
        .snapshot_id(&snapshot_id)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .unwrap();
    assert_eq!(attr.create_volume_permissions()[0].user_id(), Some("222222222222"));

    let restorable = friend.describe_snapshots().restorable_by_user_ids("self").send().await.unwrap();
    assert_eq!(restorable.snapshots().len(), 1);
    assert_eq!(restorable.snapshots()[0].owner_id(), Some("111111111111"));
    let volume = friend.create_volume().availability_zone("us-east-1b").snapshot_id(&snapshot_id).send().await.unwrap();
    assert_eq!(volume.size(), Some(2));
    assert!(stranger.describe_snapshots().restorable_by_user_ids("self").send().await.unwrap().snapshots().is_empty());
    let not_theirs = friend.delete_snapshot().snapshot_id(&snapshot_id).send().await.unwrap_err();
    assert_eq!(code(&not_theirs), "UnauthorizedOperation");

    // Copy into another region, as the friend: a new snapshot owned by the friend, there only.
    let west = client(&server, "222222222222", "us-west-2");
    let copy = west.copy_snapshot().source_region("us-east-1").source_snapshot_id(&snapshot_id).send().await.unwrap();
    let copy_id = copy.snapshot_id().unwrap();
    let described = west.describe_snapshots().snapshot_ids(copy_id).send().await.unwrap();
    let copied = &described.snapshots()[0];
    assert_eq!(copied.owner_id(), Some("222222222222"));
    assert_eq!(copied.description(), Some(format!("[Copied {snapshot_id} from us-east-1]").as_str()));
    let east = friend.describe_snapshots().snapshot_ids(copy_id).send().await.unwrap_err();
    assert_eq!(code(&east), "InvalidSnapshot.NotFound");
}
