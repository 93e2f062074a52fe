-- ec2lite's first schema: volumes, snapshots, images, their permissions and tags.
-- Every resource row carries its owning account and region; times are ms since the epoch
-- unless the column holds EC2's ISO string (`*_date`, `*_time` text columns).

create table volume (
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
create index volume_by_owner on volume (region, account_id, volume_id);
create index volume_creating on volume (ready_at) where state = 'creating';
create unique index volume_client_token on volume (account_id, region, client_token)
    where client_token is not null;

create table snapshot (
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
);
create index snapshot_by_owner on snapshot (region, account_id, snapshot_id);
create index snapshot_pending on snapshot (ready_at) where state = 'pending';

-- Who may create volumes from a snapshot: an account id, or `all` (public).
create table create_volume_permission (
    snapshot_id text not null references snapshot (snapshot_id) on delete cascade,
    grantee     text not null,
    created_at  integer not null,
    primary key (snapshot_id, grantee)
);
create index create_volume_permission_by_grantee on create_volume_permission (grantee, snapshot_id);

create table image (
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
);
-- An AMI name is unique per owner and region among images that still exist.
create unique index image_name_unique on image (account_id, region, name) where state <> 'deregistered';
create index image_by_owner on image (region, account_id, image_id);
create index image_by_alias on image (region, owner_alias, image_id) where owner_alias is not null;
create index image_pending on image (ready_at) where state = 'pending';

-- The snapshots an image's mappings reference: what makes a snapshot "in use".
create table image_snapshot (
    image_id    text not null references image (image_id) on delete cascade,
    snapshot_id text not null,
    primary key (image_id, snapshot_id)
);
create index image_snapshot_by_snapshot on image_snapshot (snapshot_id, image_id);

-- Who may launch an image besides its owner. grantee_type: user | group | organization |
-- organizational-unit; a public image has (group, all). Indexed by grantee so that
-- "images account X may see in region R" is one indexed query.
create table launch_permission (
    image_id     text not null references image (image_id) on delete cascade,
    grantee_type text not null,
    grantee      text not null,
    created_at   integer not null,
    primary key (image_id, grantee_type, grantee)
);
create index launch_permission_by_grantee on launch_permission (grantee, image_id);

-- Tags belong to the account that wrote them: tags on a shared image stay private.
create table tag (
    account_id    text not null,
    resource_id   text not null,
    region        text not null,
    resource_type text not null,
    key           text not null,
    value         text not null,
    created_at    integer not null,
    primary key (account_id, resource_id, key)
);
create index tag_by_key on tag (account_id, region, key, value);
