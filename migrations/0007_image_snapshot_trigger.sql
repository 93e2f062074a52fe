-- The snapshots an image references follow from its block device mappings: the database
-- derives them on insert, in the same statement, rather than the caller in more round trips.
create trigger image_snapshot_on_insert after insert on image
begin
    insert or ignore into image_snapshot (image_id, snapshot_id)
    select new.image_id, json_extract(m.value, '$.ebs.snapshot_id')
    from json_each(new.block_device_mappings) m
    where json_extract(m.value, '$.ebs.snapshot_id') is not null;
end;
