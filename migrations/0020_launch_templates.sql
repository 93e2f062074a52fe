-- Launch templates (CreateLaunchTemplate) and their numbered versions. A version's
-- data is kept as the request's `LaunchTemplateData.*` parameters, canonical (lists
-- renumbered from 1, booleans lower-case), in a JSON object: Describe writes it back in
-- EC2's ResponseLaunchTemplateData shape and RunInstances reads it as its own
-- parameters.
create table launch_template (
    launch_template_id text primary key,
    account_id text not null,
    region text not null,
    launch_template_name text not null,
    default_version integer not null,
    -- The highest version number ever given: numbers are never reused, even after
    -- DeleteLaunchTemplateVersions.
    last_version_number integer not null,
    created_by text not null,
    created_at integer not null
);

create unique index launch_template_name_unique on launch_template (account_id, region, launch_template_name);

create table launch_template_version (
    launch_template_id text not null references launch_template (launch_template_id) on delete cascade,
    version_number integer not null,
    version_description text,
    data text not null,
    created_by text not null,
    created_at integer not null,
    primary key (launch_template_id, version_number)
);
