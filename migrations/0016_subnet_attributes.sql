-- Subnet attributes ModifySubnetAttribute sets beside MapPublicIpOnLaunch and
-- AssignIpv6AddressOnCreation (resource-name DNS options of instances launched there).
alter table subnet add column enable_dns64 integer not null default 0;
alter table subnet add column ipv6_native integer not null default 0;
alter table subnet add column hostname_type text not null default 'ip-name';
alter table subnet add column dns_a_record integer not null default 0;
alter table subnet add column dns_aaaa_record integer not null default 0;
