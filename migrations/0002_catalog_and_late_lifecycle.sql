-- The public catalog is seeded per region on first use, and re-seeded when it changes.
-- `catalog` marks rows that came from it; `catalog_region` records what each region holds.
alter table image add column catalog integer not null default 0;
alter table snapshot add column catalog integer not null default 0;

create table catalog_region (
    region      text primary key,
    fingerprint text not null,
    created_at  integer not null
);

-- Deregistration protection "with cooldown" keeps protecting for 24 hours after it is
-- disabled: until this time (ms since the epoch).
alter table image add column protected_until integer;
