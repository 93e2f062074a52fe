//! VM Import tasks.

use crate::domain::lifecycle::ImportTaskState;
use crate::store::sql::Sql;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{parse_tags, push_tags_column, Conn};
use crate::domain::import_task::{ImportTask, TaskDetail, TaskKind, RETENTION_MS};
use crate::error::Result;

const COLUMNS: &str = "t.task_id, t.account_id, t.region, t.kind, t.state, t.status_message, t.progress, \
    t.description, t.detail_json, t.client_token, t.request_fingerprint, t.created_at, t.updated_at";

fn push_select(qb: &mut Sql, account: &str) {
    qb.push("select ");
    qb.push(COLUMNS);
    qb.push(", ");
    push_tags_column(qb, account, "t.task_id");
    qb.push(" from import_task t");
}

fn task_from_row(row: &SqliteRow) -> Result<ImportTask, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let detail: String = row.try_get("detail_json")?;
    Ok(ImportTask {
        task_id: row.try_get("task_id")?,
        account_id: row.try_get("account_id")?,
        region: row.try_get("region")?,
        kind: if kind == "image" { TaskKind::Image } else { TaskKind::Snapshot },
        state: row.try_get("state")?,
        status_message: row.try_get("status_message")?,
        progress: row.try_get("progress")?,
        description: row.try_get("description")?,
        detail: serde_json::from_str(&detail).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        client_token: row.try_get("client_token")?,
        request_fingerprint: row.try_get("request_fingerprint")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        tags: parse_tags(row.try_get("tags_json")?),
    })
}

fn detail_json(detail: &TaskDetail) -> String {
    serde_json::to_string(detail).expect("task details serialize")
}

pub async fn insert(conn: &mut Conn, t: &ImportTask) -> Result<()> {
    sqlx::query(
        "insert into import_task (task_id, account_id, region, kind, state, status_message, progress, description, \
         detail_json, client_token, request_fingerprint, created_at, updated_at) \
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&t.task_id)
    .bind(&t.account_id)
    .bind(&t.region)
    .bind(t.kind.as_str())
    .bind(t.state)
    .bind(&t.status_message)
    .bind(t.progress)
    .bind(&t.description)
    .bind(detail_json(&t.detail))
    .bind(&t.client_token)
    .bind(&t.request_fingerprint)
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A task by id, whoever owns it (for the worker).
pub async fn find(conn: &mut Conn, task_id: &str) -> Result<Option<ImportTask>> {
    let mut qb = Sql::new("");
    push_select(&mut qb, "");
    qb.push(" where t.task_id = ").push_bind(task_id);
    let row = qb.query().fetch_optional(&mut *conn).await?;
    Ok(row.as_ref().map(task_from_row).transpose()?)
}

pub async fn find_by_client_token(
    conn: &mut Conn,
    account: &str,
    region: &str,
    kind: TaskKind,
    client_token: &str,
) -> Result<Option<ImportTask>> {
    let mut qb = Sql::new("");
    push_select(&mut qb, account);
    qb.push(" where t.account_id = ").push_bind(account);
    qb.push(" and t.region = ").push_bind(region);
    qb.push(" and t.kind = ").push_bind(kind.as_str());
    qb.push(" and t.client_token = ").push_bind(client_token);
    let row = qb.query().fetch_optional(&mut *conn).await?;
    Ok(row.as_ref().map(task_from_row).transpose()?)
}

pub struct TaskQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    /// None: tasks of both kinds (CancelImportTask).
    pub kind: Option<TaskKind>,
    pub task_ids: &'a [String],
    /// `task-state` filter values.
    pub states: &'a [String],
    pub after: Option<String>,
    pub limit: i64,
    pub now: i64,
}

/// The caller's tasks still listed (open, or finished within the retention), by id.
pub async fn describe(conn: &mut Conn, q: &TaskQuery<'_>) -> Result<Vec<ImportTask>> {
    let mut qb = Sql::new("");
    push_select(&mut qb, q.account);
    qb.push(" where t.account_id = ").push_bind(q.account);
    qb.push(" and t.region = ").push_bind(q.region);
    if let Some(kind) = q.kind {
        qb.push(" and t.kind = ").push_bind(kind.as_str());
    }
    qb.push(" and (t.state in ('active', 'deleting') or t.updated_at > ").push_bind(q.now - RETENTION_MS).push(")");
    if !q.task_ids.is_empty() {
        super::filters::push_in(&mut qb, "t.task_id", q.task_ids);
    }
    if !q.states.is_empty() {
        super::filters::push_in(&mut qb, "t.state", q.states);
    }
    if let Some(after) = &q.after {
        qb.push(" and t.task_id > ").push_bind(after.clone());
    }
    qb.push(" order by t.task_id limit ").push_bind(q.limit);
    let rows = qb.query().fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(task_from_row).collect::<Result<_, _>>()?)
}

/// Moves an active task to its next step. False when it is no longer active (cancelled).
pub async fn advance(conn: &mut Conn, task_id: &str, message: &str, progress: i64, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "update import_task set status_message = ?, progress = ?, updated_at = ? where task_id = ? and state = 'active'",
    )
    .bind(message)
    .bind(progress)
    .bind(now)
    .bind(task_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Ends an open task (`completed`, or `deleted` with the reason) with its final details.
pub async fn finish(
    conn: &mut Conn,
    task_id: &str,
    final_state: ImportTaskState,
    message: Option<&str>,
    detail: &TaskDetail,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "update import_task set state = ?, status_message = ?, progress = null, detail_json = ?, updated_at = ? \
         where task_id = ? and state in ('active', 'deleting')",
    )
    .bind(final_state)
    .bind(message)
    .bind(detail_json(detail))
    .bind(now)
    .bind(task_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Asks an active task to stop; the worker ends it as `deleted`.
pub async fn cancel(conn: &mut Conn, task_id: &str, reason: Option<&str>, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "update import_task set state = ?, status_message = coalesce(?, status_message), updated_at = ? \
         where task_id = ? and state = ?",
    )
    .bind(ImportTaskState::Deleting)
    .bind(reason)
    .bind(now)
    .bind(task_id)
    .bind(ImportTaskState::Active)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Tasks a restart must pick up again.
pub async fn open_task_ids(conn: &mut Conn) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("select task_id from import_task where state in ('active', 'deleting') order by created_at")
        .fetch_all(&mut *conn)
        .await?)
}
