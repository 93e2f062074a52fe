-- Generated: the schema that every migration in migrations/ builds, applied in one
-- pass to a new database (store/migrate.rs). Do not edit; after adding a migration,
-- EC2LITE_WRITE_SCHEMA=1 cargo test --lib schema
CREATE TABLE volume (
    volume_id            text primary key,
    account_id           text not null,
    region               text not null,
    availability_zone    text not null,
    availability_zone_id text not null,
    size                 integer not null,
    volume_type          text not null,
    iops                 integer,
    throughput           integer,
    encrypted            integer not null,
    kms_key_id           text,
    snapshot_id          text,
    multi_attach_enabled integer not null default 0,
    -- creating | available | in-use | error
    state                text not null,
    -- when a `creating` volume becomes `available`
    ready_at             integer,
    client_token         text,
    -- the single attachment of a non-multi-attach volume
    attached_instance_id text,
    attached_device      text,
    attachment_state     text,
    attach_time          integer,
    delete_on_termination integer,
    created_at           integer not null
);
CREATE INDEX volume_by_owner on volume (region, account_id, volume_id);
CREATE INDEX volume_creating on volume (ready_at) where state = 'creating';
CREATE UNIQUE INDEX volume_client_token on volume (account_id, region, client_token)
    where client_token is not null;
CREATE TABLE snapshot (
    snapshot_id     text primary key,
    account_id      text not null,
    region          text not null,
    volume_id       text not null,
    volume_size     integer not null,
    description     text not null default '',
    encrypted       integer not null,
    kms_key_id      text,
    -- pending | completed | error
    state           text not null,
    state_message   text,
    owner_alias     text,
    start_time      integer not null,
    -- when a `pending` snapshot becomes `completed`
    ready_at        integer,
    completion_time integer,
    created_at      integer not null
, catalog integer not null default 0, upload_deadline integer, upload_timeout_ms integer, upload_progress integer, parent_snapshot_id text, client_token text);
CREATE INDEX snapshot_by_owner on snapshot (region, account_id, snapshot_id);
CREATE INDEX snapshot_pending on snapshot (ready_at) where state = 'pending';
CREATE TABLE create_volume_permission (
    snapshot_id text not null references snapshot (snapshot_id) on delete cascade,
    grantee     text not null,
    created_at  integer not null,
    primary key (snapshot_id, grantee)
);
CREATE INDEX create_volume_permission_by_grantee on create_volume_permission (grantee, snapshot_id);
CREATE TABLE image (
    image_id                  text primary key,
    account_id                text not null,
    region                    text not null,
    name                      text not null,
    description               text,
    image_location            text not null,
    -- pending | available | failed | disabled | deregistered
    state                     text not null,
    state_reason_code         text,
    state_reason_message      text,
    -- when a `pending` image becomes `available`
    ready_at                  integer,
    architecture              text not null,
    image_type                text not null default 'machine',
    platform                  text,
    platform_details          text not null,
    usage_operation           text not null,
    root_device_type          text not null,
    root_device_name          text,
    virtualization_type       text not null,
    hypervisor                text not null default 'xen',
    kernel_id                 text,
    ramdisk_id                text,
    ena_support               integer,
    sriov_net_support         text,
    boot_mode                 text,
    tpm_support               text,
    uefi_data                 text,
    imds_support              text,
    owner_alias               text,
    source_instance_id        text,
    source_image_id           text,
    source_image_region       text,
    deprecation_time          text,
    last_launched_time        text,
    deregistration_protection text not null default 'disabled',
    creation_date             text not null,
    -- the block device mappings and product codes, as JSON arrays (value objects of the image)
    block_device_mappings     text not null default '[]',
    product_codes             text not null default '[]',
    deregistered_at           integer,
    created_at                integer not null
, catalog integer not null default 0, protected_until integer, client_token text);
CREATE UNIQUE INDEX image_name_unique on image (account_id, region, name) where state <> 'deregistered';
CREATE INDEX image_by_owner on image (region, account_id, image_id);
CREATE INDEX image_by_alias on image (region, owner_alias, image_id) where owner_alias is not null;
CREATE INDEX image_pending on image (ready_at) where state = 'pending';
CREATE TABLE image_snapshot (
    image_id    text not null references image (image_id) on delete cascade,
    snapshot_id text not null,
    primary key (image_id, snapshot_id)
);
CREATE INDEX image_snapshot_by_snapshot on image_snapshot (snapshot_id, image_id);
CREATE TABLE launch_permission (
    image_id     text not null references image (image_id) on delete cascade,
    grantee_type text not null,
    grantee      text not null,
    created_at   integer not null,
    primary key (image_id, grantee_type, grantee)
);
CREATE INDEX launch_permission_by_grantee on launch_permission (grantee, image_id);
CREATE TABLE tag (
    account_id    text not null,
    resource_id   text not null,
    region        text not null,
    resource_type text not null,
    key           text not null,
    value         text not null,
    created_at    integer not null,
    primary key (account_id, resource_id, key)
);
CREATE INDEX tag_by_key on tag (account_id, region, key, value);
CREATE TABLE catalog_region (
    region      text primary key,
    fingerprint text not null,
    created_at  integer not null
);
CREATE INDEX image_catalog on image (region) where catalog = 1;
CREATE INDEX snapshot_catalog on snapshot (region) where catalog = 1;
CREATE TABLE instance (
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
, cpu_credits text, product_codes text not null default '[]', ramdisk_id text, sriov_net_support text, ebs_optimized integer not null default 0, disable_api_stop integer not null default 0);
CREATE INDEX instance_by_owner on instance (region, account_id, instance_id);
CREATE INDEX instance_by_reservation on instance (reservation_id);
CREATE INDEX instance_transitioning on instance (ready_at) where ready_at is not null;
CREATE INDEX instance_terminated on instance (terminated_at) where state = 'terminated';
CREATE INDEX instance_client_token on instance (account_id, region, client_token) where client_token is not null;
CREATE INDEX volume_by_instance on volume (attached_instance_id) where attached_instance_id is not null;
CREATE INDEX image_client_token on image (account_id, region, client_token) where client_token is not null;
CREATE TABLE account_setting (
    account_id text not null,
    region     text not null,
    key        text not null,
    value      text not null,
    updated_at integer not null,
    primary key (account_id, region, key)
);
CREATE TABLE account_membership (
    account_id text not null,
    grantee    text not null,
    primary key (account_id, grantee)
);
CREATE TRIGGER image_snapshot_on_insert after insert on image
begin
    insert or ignore into image_snapshot (image_id, snapshot_id)
    select new.image_id, json_extract(m.value, '$.ebs.snapshot_id')
    from json_each(new.block_device_mappings) m
    where json_extract(m.value, '$.ebs.snapshot_id') is not null;
end;
CREATE TABLE block_map (
    owner_id    text not null,
    block_index integer not null,
    digest      blob not null,
    written     integer not null default 0,
    primary key (owner_id, block_index)
) without rowid;
CREATE INDEX block_map_by_digest on block_map (digest);
CREATE INDEX snapshot_upload_deadline on snapshot (upload_deadline) where upload_deadline is not null;
CREATE INDEX snapshot_client_token on snapshot (account_id, client_token) where client_token is not null;
CREATE TRIGGER snapshot_blocks_on_delete after delete on snapshot begin
    delete from block_map where owner_id = old.snapshot_id;
end;
CREATE TRIGGER volume_blocks_on_delete after delete on volume begin
    delete from block_map where owner_id = old.volume_id;
end;
CREATE TABLE import_task (
    task_id        text primary key,
    account_id     text not null,
    region         text not null,
    -- snapshot | image
    kind           text not null,
    -- active | completed | deleting | deleted
    state          text not null,
    status_message text,
    progress       integer,
    description    text,
    detail_json    text not null,
    client_token   text,
    -- the request's parameters, digested: a retry with the token must be the same request
    request_fingerprint text,
    created_at     integer not null,
    updated_at     integer not null
);
CREATE INDEX import_task_by_owner on import_task (region, account_id, kind, task_id);
CREATE INDEX import_task_open on import_task (state) where state in ('active', 'deleting');
CREATE TABLE key_pair (
    key_pair_id  text primary key,
    account_id   text not null,
    region       text not null,
    key_name     text not null,
    key_type     text not null,
    fingerprint  text not null,
    public_key   text not null,
    created_at   integer not null
);
CREATE UNIQUE INDEX key_pair_name on key_pair (account_id, region, key_name);
CREATE TABLE network_scope (
    account_id  text not null,
    region      text not null,
    created_at  integer not null,
    primary key (account_id, region)
);
CREATE TABLE vpc (
    vpc_id                       text primary key,
    account_id                   text not null,
    region                       text not null,
    cidr_block                   text not null,
    cidr_association_id          text not null,
    ipv6_cidr_block              text,
    ipv6_association_id          text,
    is_default                   integer not null default 0,
    state                        text not null default 'available',
    instance_tenancy             text not null default 'default',
    dhcp_options_id              text not null,
    enable_dns_support           integer not null default 1,
    enable_dns_hostnames         integer not null default 0,
    enable_network_address_usage_metrics integer not null default 0,
    created_at                   integer not null
);
CREATE INDEX vpc_by_owner on vpc (account_id, region, vpc_id);
CREATE UNIQUE INDEX vpc_default on vpc (account_id, region) where is_default = 1;
CREATE TABLE subnet (
    subnet_id               text primary key,
    account_id              text not null,
    region                  text not null,
    vpc_id                  text not null references vpc (vpc_id),
    cidr_block              text not null,
    ipv6_cidr_block         text,
    ipv6_association_id     text,
    availability_zone       text not null,
    availability_zone_id    text not null,
    default_for_az          integer not null default 0,
    map_public_ip_on_launch integer not null default 0,
    assign_ipv6_address_on_creation integer not null default 0,
    state                   text not null default 'available',
    created_at              integer not null
, enable_dns64 integer not null default 0, ipv6_native integer not null default 0, hostname_type text not null default 'ip-name', dns_a_record integer not null default 0, dns_aaaa_record integer not null default 0);
CREATE INDEX subnet_by_owner on subnet (account_id, region, subnet_id);
CREATE INDEX subnet_by_vpc on subnet (vpc_id);
CREATE TABLE security_group (
    group_id     text primary key,
    account_id   text not null,
    region       text not null,
    vpc_id       text not null references vpc (vpc_id),
    group_name   text not null,
    description  text not null,
    created_at   integer not null
);
CREATE UNIQUE INDEX security_group_name on security_group (vpc_id, group_name);
CREATE INDEX security_group_by_owner on security_group (account_id, region, group_id);
CREATE TABLE security_group_rule (
    rule_id              text primary key,
    group_id             text not null references security_group (group_id) on delete cascade,
    account_id           text not null,
    region               text not null,
    is_egress            integer not null,
    ip_protocol          text not null,
    from_port            integer,
    to_port              integer,
    cidr_ipv4            text,
    cidr_ipv6            text,
    prefix_list_id       text,
    referenced_group_id  text,
    referenced_user_id   text,
    description          text,
    created_at           integer not null
);
CREATE INDEX security_group_rule_by_group on security_group_rule (group_id, is_egress);
CREATE INDEX security_group_rule_by_reference on security_group_rule (referenced_group_id) where referenced_group_id is not null;
CREATE TABLE internet_gateway (
    internet_gateway_id  text primary key,
    account_id           text not null,
    region               text not null,
    -- the VPC it is attached to (one at most)
    vpc_id               text references vpc (vpc_id),
    created_at           integer not null
);
CREATE INDEX internet_gateway_by_owner on internet_gateway (account_id, region, internet_gateway_id);
CREATE UNIQUE INDEX internet_gateway_by_vpc on internet_gateway (vpc_id) where vpc_id is not null;
CREATE TABLE route_table (
    route_table_id  text primary key,
    account_id      text not null,
    region          text not null,
    vpc_id          text not null references vpc (vpc_id),
    created_at      integer not null
);
CREATE INDEX route_table_by_owner on route_table (account_id, region, route_table_id);
CREATE INDEX route_table_by_vpc on route_table (vpc_id);
CREATE TABLE route (
    route_table_id              text not null references route_table (route_table_id) on delete cascade,
    -- an IPv4 or IPv6 CIDR, or a prefix list id
    destination                 text not null,
    gateway_id                  text,
    instance_id                 text,
    network_interface_id        text,
    -- CreateRouteTable (the local route) | CreateRoute
    origin                      text not null,
    primary key (route_table_id, destination)
);
CREATE TABLE route_table_association (
    association_id  text primary key,
    route_table_id  text not null references route_table (route_table_id),
    vpc_id          text not null,
    subnet_id       text references subnet (subnet_id),
    gateway_id      text,
    main            integer not null default 0
);
CREATE UNIQUE INDEX route_table_association_subnet on route_table_association (subnet_id) where subnet_id is not null;
CREATE UNIQUE INDEX route_table_association_main on route_table_association (vpc_id) where main = 1;
CREATE TABLE network_acl (
    network_acl_id  text primary key,
    account_id      text not null,
    region          text not null,
    vpc_id          text not null references vpc (vpc_id),
    is_default      integer not null default 0,
    created_at      integer not null
);
CREATE INDEX network_acl_by_vpc on network_acl (vpc_id);
CREATE TABLE network_interface (
    network_interface_id   text primary key,
    account_id             text not null,
    region                 text not null,
    subnet_id              text not null references subnet (subnet_id),
    vpc_id                 text not null,
    availability_zone      text not null,
    private_ip_address     text not null,
    mac_address            text not null,
    description            text not null default '',
    interface_type         text not null default 'interface',
    source_dest_check      integer not null default 1,
    -- JSON array of sg- ids
    security_group_ids     text not null default '[]',
    attachment_id          text,
    instance_id            text,
    device_index           integer,
    attach_time            integer,
    delete_on_termination  integer not null default 0,
    created_at             integer not null
);
CREATE INDEX network_interface_by_owner on network_interface (account_id, region, network_interface_id);
CREATE INDEX network_interface_by_subnet on network_interface (subnet_id);
CREATE INDEX network_interface_by_instance on network_interface (instance_id) where instance_id is not null;
CREATE UNIQUE INDEX network_interface_address on network_interface (subnet_id, private_ip_address);
CREATE TABLE address (
    allocation_id         text primary key,
    account_id            text not null,
    region                text not null,
    public_ip             text not null unique,
    association_id        text,
    instance_id           text,
    network_interface_id  text,
    private_ip_address    text,
    network_border_group  text not null,
    created_at            integer not null
);
CREATE INDEX address_by_owner on address (account_id, region, allocation_id);
CREATE UNIQUE INDEX address_by_interface on address (network_interface_id, private_ip_address) where network_interface_id is not null;
CREATE TABLE launch_template (
    launch_template_id text primary key,
    account_id text not null,
    region text not null,
    launch_template_name text not null,
    default_version integer not null,
    -- The highest version number ever given: numbers are never reused, even after
    -- DeleteLaunchTemplateVersions.
    last_version_number integer not null,
    created_by text not null,
    created_at integer not null
);
CREATE UNIQUE INDEX launch_template_name_unique on launch_template (account_id, region, launch_template_name);
CREATE TABLE launch_template_version (
    launch_template_id text not null references launch_template (launch_template_id) on delete cascade,
    version_number integer not null,
    version_description text,
    data text not null,
    created_by text not null,
    created_at integer not null,
    primary key (launch_template_id, version_number)
);
CREATE TABLE ssm_parameter (
    account_id      text not null,
    region          text not null,
    name            text not null,
    version         integer not null,
    -- String | StringList
    type            text not null,
    -- text | aws:ec2:image
    data_type       text not null,
    value           text not null,
    description     text,
    allowed_pattern text,
    tier            text not null default 'Standard',
    -- when this version was written (ms since the epoch)
    created_at      integer not null,
    primary key (account_id, region, name, version)
);
CREATE TABLE marketplace_subscription (
    account_id    text not null,
    product_code  text not null,
    created_at    integer not null,
    primary key (account_id, product_code)
);
