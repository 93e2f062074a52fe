-- Re-seeding a region's catalog finds its rows without scanning every image.
create index image_catalog on image (region) where catalog = 1;
create index snapshot_catalog on snapshot (region) where catalog = 1;
