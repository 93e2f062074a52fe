-- VM Import tasks (ImportSnapshot / ImportImage). `detail_json` holds the request and,
-- disk by disk, what the task found and made; the columns are what Describe filters on.
create table import_task (
    task_id        text primary key,
    account_id     text not null,
    region         text not null,
    -- snapshot | image
    kind           text not null,
    -- active | completed | deleting | deleted
    state          text not null,
    status_message text,
    progress       integer,
    description    text,
    detail_json    text not null,
    client_token   text,
    -- the request's parameters, digested: a retry with the token must be the same request
    request_fingerprint text,
    created_at     integer not null,
    updated_at     integer not null
);
create index import_task_by_owner on import_task (region, account_id, kind, task_id);
create index import_task_open on import_task (state) where state in ('active', 'deleting');
