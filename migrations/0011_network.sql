-- Networking, per account and region: VPCs and what lives in them. The default network
-- of a scope (its VPC, default subnets, main route table, default ACL, default group and
-- attached internet gateway) is created on first use; `network_scope` records that it
-- was, so a deleted default VPC stays deleted across restarts.
create table network_scope (
    account_id  text not null,
    region      text not null,
    created_at  integer not null,
    primary key (account_id, region)
);

create table vpc (
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
create index vpc_by_owner on vpc (account_id, region, vpc_id);
create unique index vpc_default on vpc (account_id, region) where is_default = 1;

create table subnet (
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
);
create index subnet_by_owner on subnet (account_id, region, subnet_id);
create index subnet_by_vpc on subnet (vpc_id);

create table security_group (
    group_id     text primary key,
    account_id   text not null,
    region       text not null,
    vpc_id       text not null references vpc (vpc_id),
    group_name   text not null,
    description  text not null,
    created_at   integer not null
);
create unique index security_group_name on security_group (vpc_id, group_name);
create index security_group_by_owner on security_group (account_id, region, group_id);

-- One row per rule (sgr- id): one protocol/port range and one source or destination.
create table security_group_rule (
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
create index security_group_rule_by_group on security_group_rule (group_id, is_egress);
create index security_group_rule_by_reference on security_group_rule (referenced_group_id) where referenced_group_id is not null;

create table internet_gateway (
    internet_gateway_id  text primary key,
    account_id           text not null,
    region               text not null,
    -- the VPC it is attached to (one at most)
    vpc_id               text references vpc (vpc_id),
    created_at           integer not null
);
create index internet_gateway_by_owner on internet_gateway (account_id, region, internet_gateway_id);
create unique index internet_gateway_by_vpc on internet_gateway (vpc_id) where vpc_id is not null;

create table route_table (
    route_table_id  text primary key,
    account_id      text not null,
    region          text not null,
    vpc_id          text not null references vpc (vpc_id),
    created_at      integer not null
);
create index route_table_by_owner on route_table (account_id, region, route_table_id);
create index route_table_by_vpc on route_table (vpc_id);

create table route (
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

-- The main association of a VPC (subnet_id null, main = 1) and each subnet's explicit one.
create table route_table_association (
    association_id  text primary key,
    route_table_id  text not null references route_table (route_table_id),
    vpc_id          text not null,
    subnet_id       text references subnet (subnet_id),
    gateway_id      text,
    main            integer not null default 0
);
create unique index route_table_association_subnet on route_table_association (subnet_id) where subnet_id is not null;
create unique index route_table_association_main on route_table_association (vpc_id) where main = 1;

create table network_acl (
    network_acl_id  text primary key,
    account_id      text not null,
    region          text not null,
    vpc_id          text not null references vpc (vpc_id),
    is_default      integer not null default 0,
    created_at      integer not null
);
create index network_acl_by_vpc on network_acl (vpc_id);

create table network_interface (
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
create index network_interface_by_owner on network_interface (account_id, region, network_interface_id);
create index network_interface_by_subnet on network_interface (subnet_id);
create index network_interface_by_instance on network_interface (instance_id) where instance_id is not null;
create unique index network_interface_address on network_interface (subnet_id, private_ip_address);

create table address (
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
create index address_by_owner on address (account_id, region, allocation_id);
create unique index address_by_interface on address (network_interface_id, private_ip_address) where network_interface_id is not null;
