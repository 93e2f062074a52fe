-- CopyImage is idempotent per client token.
alter table image add column client_token text;
create index image_client_token on image (account_id, region, client_token) where client_token is not null;

-- Per-account, per-region settings such as block public access for images and snapshots.
create table account_setting (
    account_id text not null,
    region     text not null,
    key        text not null,
    value      text not null,
    updated_at integer not null,
    primary key (account_id, region, key)
);
