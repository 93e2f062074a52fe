-- Which organization and organizational-unit ARNs each account belongs to (from the
-- --accounts file), so that launch permissions granted to an organization or OU are
-- honoured inside the same visibility query. Configuration, not state: reset keeps it.
create table account_membership (
    account_id text not null,
    grantee    text not null,
    primary key (account_id, grantee)
);
