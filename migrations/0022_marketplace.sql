-- Marketplace: the product codes an account has subscribed to through the admin endpoint
-- (the accounts file's subscriptions live in the configuration), and the product codes an
-- instance carries from its image (CreateImage passes them on).
create table marketplace_subscription (
    account_id    text not null,
    product_code  text not null,
    created_at    integer not null,
    primary key (account_id, product_code)
);

alter table instance add column product_codes text not null default '[]';

-- ModifyInstanceAttribute's Ramdisk, SriovNetSupport, EbsOptimized and DisableApiStop
-- (kernel_id and ena_support exist; sourceDestCheck is the primary interface's).
alter table instance add column ramdisk_id text;
alter table instance add column sriov_net_support text;
alter table instance add column ebs_optimized integer not null default 0;
alter table instance add column disable_api_stop integer not null default 0;
