//! The database checked at start-up: a damaged file stops ec2lite with a message
//! naming it, rather than serving what is left of it.

use super::Conn;

/// SQLite's `quick_check`: every page and index structurally sound (not the slower
/// cross-check of index contents that `integrity_check` adds). The problems found,
/// none when the file is sound.
pub async fn quick_check(conn: &mut Conn) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar("pragma quick_check(20)").fetch_all(&mut *conn).await?;
    Ok(if rows == ["ok"] { Vec::new() } else { rows })
}
