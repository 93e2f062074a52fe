//! SSM parameters: an account's own parameters, one row per version, and the catalog
//! images the public parameters are derived from.

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::Conn;
use crate::domain::clock;
use crate::domain::ssm::{spellings, CatalogImage, ParameterVersion, MAX_VERSIONS};

type Result<T> = std::result::Result<T, sqlx::Error>;

const COLUMNS: &str =
    "account_id, name, version, type, data_type, value, description, allowed_pattern, tier, created_at";

fn version_from(row: &SqliteRow) -> ParameterVersion {
    ParameterVersion {
        owner: Some(row.get("account_id")),
        name: row.get("name"),
        version: row.get("version"),
        kind: row.get("type"),
        data_type: row.get("data_type"),
        value: row.get("value"),
        description: row.get("description"),
        allowed_pattern: row.get("allowed_pattern"),
        tier: row.get("tier"),
        modified_ms: row.get("created_at"),
    }
}

/// Every version of one parameter (either spelling of a single-level name), oldest
/// first (empty: no such parameter).
pub async fn history(conn: &mut Conn, account: &str, region: &str, name: &str) -> Result<Vec<ParameterVersion>> {
    let sql = format!(
        "select {COLUMNS} from ssm_parameter where account_id = ? and region = ? and name in (?, ?) order by version"
    );
    let [a, b] = spellings(name);
    let rows = sqlx::query(&sql).bind(account).bind(region).bind(a).bind(b).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(version_from).collect())
}

/// The latest version of one parameter.
pub async fn latest(conn: &mut Conn, account: &str, region: &str, name: &str) -> Result<Option<ParameterVersion>> {
    let sql = format!(
        "select {COLUMNS} from ssm_parameter where account_id = ? and region = ? and name in (?, ?) \
         order by version desc limit 1"
    );
    let [a, b] = spellings(name);
    let row = sqlx::query(&sql).bind(account).bind(region).bind(a).bind(b).fetch_optional(&mut *conn).await?;
    Ok(row.as_ref().map(version_from))
}

/// The latest version of each of the account's parameters whose name starts with
/// `prefix` and sorts after `after`, in name order, at most `limit`.
pub async fn latest_under(
    conn: &mut Conn,
    account: &str,
    region: &str,
    prefix: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<ParameterVersion>> {
    let sql = format!(
        "select {COLUMNS} from ssm_parameter p where account_id = ? and region = ? \
           and substr(name, 1, length(?)) = ? and name > ? \
           and version = (select max(version) from ssm_parameter q \
                          where q.account_id = p.account_id and q.region = p.region and q.name = p.name) \
         order by name limit ?"
    );
    let rows = sqlx::query(&sql)
        .bind(account)
        .bind(region)
        .bind(prefix)
        .bind(prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(version_from).collect())
}

/// Stores a new version (its number already decided), dropping the oldest versions
/// beyond the hundred SSM keeps.
pub async fn insert(conn: &mut Conn, region: &str, v: &ParameterVersion) -> Result<()> {
    let account = v.owner.as_deref().unwrap_or_default();
    sqlx::query(
        "insert into ssm_parameter (account_id, region, name, version, type, data_type, value, description, \
         allowed_pattern, tier, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(account)
    .bind(region)
    .bind(&v.name)
    .bind(v.version)
    .bind(&v.kind)
    .bind(&v.data_type)
    .bind(&v.value)
    .bind(&v.description)
    .bind(&v.allowed_pattern)
    .bind(&v.tier)
    .bind(v.modified_ms)
    .execute(&mut *conn)
    .await?;
    sqlx::query("delete from ssm_parameter where account_id = ? and region = ? and name = ? and version <= ?")
        .bind(account)
        .bind(region)
        .bind(&v.name)
        .bind(v.version - MAX_VERSIONS)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes every version of a parameter; false if there was none.
pub async fn delete(conn: &mut Conn, account: &str, region: &str, name: &str) -> Result<bool> {
    let [a, b] = spellings(name);
    let done = sqlx::query("delete from ssm_parameter where account_id = ? and region = ? and name in (?, ?)")
        .bind(account)
        .bind(region)
        .bind(a)
        .bind(b)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The catalog images of a region (what the public parameters point at).
pub async fn catalog_images(conn: &mut Conn, region: &str) -> Result<Vec<CatalogImage>> {
    let rows = sqlx::query(
        "select image_id, account_id, name, architecture, creation_date from image \
         where region = ? and catalog = 1 and state <> 'deregistered'",
    )
    .bind(region)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|row| CatalogImage {
            image_id: row.get("image_id"),
            owner: row.get("account_id"),
            name: row.get("name"),
            architecture: row.get("architecture"),
            created_ms: clock::parse_iso(row.get::<&str, _>("creation_date")).unwrap_or(0),
        })
        .collect())
}
