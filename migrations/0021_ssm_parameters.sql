-- SSM Parameter Store: each account's own parameters per region, one row per version
-- (GetParameterHistory reads them all; the highest version is the parameter). The
-- public `/aws/service/...` parameters are not stored: they are derived from the
-- region's catalog images on every read.
create table ssm_parameter (
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
