-- Snapshot content: EBS direct uploads, and the blocks volumes and snapshots share.

-- Which content-addressed block sits at each 512 KiB index of a snapshot or a volume.
-- Blocks not listed read as zeros. `digest` is the SHA-256 of the block, which names its
-- file under the data directory; `written` is 1 for blocks put into this snapshot
-- through PutSnapshotBlock (the count and checksum CompleteSnapshot checks), 0 for
-- blocks it inherited from its parent, volume or source snapshot.
create table block_map (
    owner_id    text not null,
    block_index integer not null,
    digest      blob not null,
    written     integer not null default 0,
    primary key (owner_id, block_index)
) without rowid;
-- The sweep asks whether anything still refers to a block.
create index block_map_by_digest on block_map (digest);

-- An upload (StartSnapshot) stays pending until CompleteSnapshot; it fails if no block
-- arrives for `upload_timeout_ms`.
alter table snapshot add column upload_deadline integer;
alter table snapshot add column upload_timeout_ms integer;
alter table snapshot add column upload_progress integer;
alter table snapshot add column parent_snapshot_id text;
alter table snapshot add column client_token text;
create index snapshot_upload_deadline on snapshot (upload_deadline) where upload_deadline is not null;
create index snapshot_client_token on snapshot (account_id, client_token) where client_token is not null;

create trigger snapshot_blocks_on_delete after delete on snapshot begin
    delete from block_map where owner_id = old.snapshot_id;
end;
create trigger volume_blocks_on_delete after delete on volume begin
    delete from block_map where owner_id = old.volume_id;
end;
