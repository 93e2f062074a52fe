//! The instance story through the official Rust SDK: run an instance from an image,
//! attach a volume, make an image of it, launch from that image, deregister the first
//! image, stop, start, terminate.

use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, Filter, ImageState, InstanceStateName, InstanceType, ResourceType, Tag,
    TagSpecification,
};
use aws_sdk_ec2::Client;
use ec2lite_sdk_tests::{client, code, Server};

async fn registered_image(ec2: &Client, name: &str) -> String {
    let volume = ec2.create_volume().availability_zone("us-east-1a").size(8).send().await.unwrap();
    let snapshot = ec2.create_snapshot().volume_id(volume.volume_id().unwrap()).send().await.unwrap();
    let snapshot_id = snapshot.snapshot_id().unwrap();
    ec2.describe_snapshots().snapshot_ids(snapshot_id).send().await.unwrap();
    ec2.register_image()
        .name(name)
        .root_device_name("/dev/xvda")
        .architecture(aws_sdk_ec2::types::ArchitectureValues::X8664)
        .virtualization_type("hvm")
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/xvda")
                .ebs(EbsBlockDevice::builder().snapshot_id(snapshot_id).delete_on_termination(true).build())
                .build(),
        )
        .send()
        .await
        .unwrap()
        .image_id()
        .unwrap()
        .to_string()
}

async fn state_of(ec2: &Client, instance_id: &str) -> InstanceStateName {
    let out = ec2.describe_instances().instance_ids(instance_id).send().await.unwrap();
    out.reservations()[0].instances()[0].state().unwrap().name().unwrap().clone()
}

async fn launch(ec2: &Client, image_id: &str) -> Result<String, String> {
    ec2.run_instances()
        .image_id(image_id)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(Tag::builder().key("Name").value("story").build())
                .build(),
        )
        .send()
        .await
        .map(|o| o.instances()[0].instance_id().unwrap().to_string())
        .map_err(|e| code(&e))
}

#[tokio::test]
async fn run_attach_create_image_launch_deregister_stop_start_terminate() {
    let server = Server::start_default(&[]);
    let ec2 = client(&server, "test", "us-east-1");
    let image_id = registered_image(&ec2, "story-base").await;
    ec2.describe_images().image_ids(&image_id).send().await.unwrap();

    let instance_id = launch(&ec2, &image_id).await.unwrap();
    assert_eq!(state_of(&ec2, &instance_id).await, InstanceStateName::Running);
    ec2.wait_until_instance_running().instance_ids(&instance_id).wait(Duration::from_secs(60)).await.unwrap();
    let described = ec2.describe_instances().instance_ids(&instance_id).send().await.unwrap();
    let instance = &described.reservations()[0].instances()[0];
    assert_eq!(instance.image_id(), Some(image_id.as_str()));
    assert_eq!(instance.root_device_name(), Some("/dev/xvda"));
    assert_eq!(instance.tags()[0].value(), Some("story"));
    assert!(instance.private_ip_address().unwrap().starts_with("172.31."));
    let zone = instance.placement().unwrap().availability_zone().unwrap().to_string();
    let root_volume = instance.block_device_mappings()[0].ebs().unwrap().volume_id().unwrap().to_string();

    let data = ec2.create_volume().availability_zone(&zone).size(4).send().await.unwrap();
    let data_id = data.volume_id().unwrap().to_string();
    let attached =
        ec2.attach_volume().volume_id(&data_id).instance_id(&instance_id).device("/dev/sdf").send().await.unwrap();
    assert_eq!(attached.state().map(|s| s.as_str()), Some("attaching"));
    ec2.wait_until_volume_in_use().volume_ids(&data_id).wait(Duration::from_secs(60)).await.unwrap();

    let copy = ec2.create_image().instance_id(&instance_id).name("story-copy").no_reboot(true).send().await.unwrap();
    let copy_id = copy.image_id().unwrap().to_string();
    ec2.wait_until_image_available().image_ids(&copy_id).wait(Duration::from_secs(60)).await.unwrap();
    let copy_image = ec2.describe_images().image_ids(&copy_id).send().await.unwrap();
    let copy_image = &copy_image.images()[0];
    assert_eq!(copy_image.source_instance_id(), Some(instance_id.as_str()));
    assert_eq!(copy_image.block_device_mappings().len(), 2);
    let snapshots = ec2
        .describe_snapshots()
        .owner_ids("self")
        .filters(
            Filter::builder().name("description").values(format!("Created by CreateImage({instance_id})*")).build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(snapshots.snapshots().len(), 2);
    let duplicate = ec2.create_image().instance_id(&instance_id).name("story-copy").send().await.unwrap_err();
    assert_eq!(code(&duplicate), "InvalidAMIName.Duplicate");

    let second = launch(&ec2, &copy_id).await.unwrap();
    assert_eq!(state_of(&ec2, &second).await, InstanceStateName::Running);

    ec2.deregister_image().image_id(&image_id).send().await.unwrap();
    assert_eq!(launch(&ec2, &image_id).await.unwrap_err(), "InvalidAMIID.NotFound");
    assert_eq!(state_of(&ec2, &instance_id).await, InstanceStateName::Running);

    let stopped = ec2.stop_instances().instance_ids(&instance_id).send().await.unwrap();
    assert_eq!(stopped.stopping_instances()[0].current_state().unwrap().name(), Some(&InstanceStateName::Stopping));
    ec2.wait_until_instance_stopped().instance_ids(&instance_id).wait(Duration::from_secs(60)).await.unwrap();
    let reason = ec2.describe_instances().instance_ids(&instance_id).send().await.unwrap();
    let reason = reason.reservations()[0].instances()[0].state_reason().unwrap().code().unwrap().to_string();
    assert_eq!(reason, "Client.UserInitiatedShutdown");
    ec2.start_instances().instance_ids(&instance_id).send().await.unwrap();
    ec2.wait_until_instance_running().instance_ids(&instance_id).wait(Duration::from_secs(60)).await.unwrap();

    let terminated = ec2.terminate_instances().instance_ids(&instance_id).instance_ids(&second).send().await.unwrap();
    assert!(terminated
        .terminating_instances()
        .iter()
        .all(|t| t.current_state().unwrap().name() == Some(&InstanceStateName::ShuttingDown)));
    ec2.wait_until_instance_terminated().instance_ids(&instance_id).wait(Duration::from_secs(60)).await.unwrap();
    let root = ec2.describe_volumes().volume_ids(&root_volume).send().await.unwrap_err();
    assert_eq!(code(&root), "InvalidVolume.NotFound");
    let data = ec2.describe_volumes().volume_ids(&data_id).send().await.unwrap();
    assert_eq!(data.volumes()[0].state().map(|s| s.as_str()), Some("available"));
    let again = ec2.start_instances().instance_ids(&instance_id).send().await.unwrap_err();
    assert_eq!(code(&again), "IncorrectInstanceState");
    let image = ec2.describe_images().image_ids(&copy_id).send().await.unwrap();
    assert_eq!(image.images()[0].state(), Some(&ImageState::Available));
    assert!(image.images()[0].last_launched_time().is_some());
}

#[tokio::test]
async fn instance_errors_and_idempotency() {
    let server = Server::start_default(&[]);
    let ec2 = client(&server, "test", "us-east-1");
    let image_id = registered_image(&ec2, "errors-base").await;
    ec2.describe_images().image_ids(&image_id).send().await.unwrap();

    let first =
        ec2.run_instances().image_id(&image_id).min_count(2).max_count(2).client_token("token-1").send().await.unwrap();
    let again =
        ec2.run_instances().image_id(&image_id).min_count(2).max_count(2).client_token("token-1").send().await.unwrap();
    let ids = |o: &aws_sdk_ec2::operation::run_instances::RunInstancesOutput| {
        o.instances().iter().map(|i| i.instance_id().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ids(&again));
    assert_eq!(first.reservation_id(), again.reservation_id());
    let all = ec2.describe_instances().send().await.unwrap();
    assert_eq!(all.reservations().iter().map(|r| r.instances().len()).sum::<usize>(), 2);

    let unknown =
        ec2.run_instances().image_id("ami-0123456789abcdef0").min_count(1).max_count(1).send().await.unwrap_err();
    assert_eq!(code(&unknown), "InvalidAMIID.NotFound");
    let arm = ec2
        .run_instances()
        .image_id(&image_id)
        .instance_type(InstanceType::T4gMicro)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&arm), "InvalidParameterValue");
    let missing = ec2.describe_instances().instance_ids("i-0123456789abcdef0").send().await.unwrap_err();
    assert_eq!(code(&missing), "InvalidInstanceID.NotFound");
    let malformed = ec2.stop_instances().instance_ids("i-xyz").send().await.unwrap_err();
    assert_eq!(code(&malformed), "InvalidInstanceID.Malformed");

    let protected = ec2
        .run_instances()
        .image_id(&image_id)
        .min_count(1)
        .max_count(1)
        .disable_api_termination(true)
        .send()
        .await
        .unwrap();
    let protected_id = protected.instances()[0].instance_id().unwrap();
    let refused = ec2.terminate_instances().instance_ids(protected_id).send().await.unwrap_err();
    assert_eq!(code(&refused), "OperationNotPermitted");
    assert_eq!(state_of(&ec2, protected_id).await, InstanceStateName::Running);
    let resize = ec2
        .modify_instance_attribute()
        .instance_id(protected_id)
        .instance_type(aws_sdk_ec2::types::AttributeValue::builder().value("t3.large").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&resize), "IncorrectInstanceState");
}
