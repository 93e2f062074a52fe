-- Instances. Their volumes are rows of `volume` (attached_instance_id); their network is
-- the account's default VPC, derived rather than stored.
create table instance (
    instance_id             text primary key,
    account_id              text not null,
    region                  text not null,
    reservation_id          text not null,
    image_id                text not null,
    instance_type           text not null,
    availability_zone       text not null,
    subnet_id               text not null,
    vpc_id                  text not null,
    private_ip              text not null,
    public_ip               text,
    key_name                text,
    user_data               text,
    -- pending | running | stopping | stopped | shutting-down | terminated
    state                   text not null,
    state_transition_reason text not null default '',
    state_reason_code       text,
    state_reason_message    text,
    -- when the transitional state (pending, stopping, shutting-down) ends
    ready_at                integer,
    launch_time             integer not null,
    ami_launch_index        integer not null,
    architecture            text not null,
    virtualization_type     text not null,
    root_device_type        text not null,
    root_device_name        text,
    platform                text,
    platform_details        text not null,
    usage_operation         text not null,
    boot_mode               text,
    ena_support             integer,
    kernel_id               text,
    client_token            text,
    shutdown_behavior       text not null default 'stop',
    disable_api_termination integer not null default 0,
    security_group_ids      text not null default '[]',
    terminated_at           integer,
    created_at              integer not null
);
create index instance_by_owner on instance (region, account_id, instance_id);
create index instance_by_reservation on instance (reservation_id);
create index instance_transitioning on instance (ready_at) where ready_at is not null;
create index instance_terminated on instance (terminated_at) where state = 'terminated';
create index instance_client_token on instance (account_id, region, client_token) where client_token is not null;
create index volume_by_instance on volume (attached_instance_id) where attached_instance_id is not null;
