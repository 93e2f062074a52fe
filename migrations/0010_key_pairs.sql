-- Key pairs (CreateKeyPair / ImportKeyPair): names are unique per account and region.
create table key_pair (
    key_pair_id  text primary key,
    account_id   text not null,
    region       text not null,
    key_name     text not null,
    key_type     text not null,
    fingerprint  text not null,
    public_key   text not null,
    created_at   integer not null
);
create unique index key_pair_name on key_pair (account_id, region, key_name);
