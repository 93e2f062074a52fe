//! Tags, private to the account that wrote them.

use crate::store::sql::Sql;
use sqlx::Row;

use super::filters::{FilterSpec, Page, Target};
use super::{Conn, Exec};
use crate::domain::filter::Filter;
use crate::domain::tags::Tag;
use crate::error::Result;

pub static FILTERS: FilterSpec = FilterSpec {
    id_column: "t.resource_id",
    fields: &[
        ("key", Target::Text("t.key")),
        ("resource-id", Target::Text("t.resource_id")),
        ("resource-type", Target::Text("t.resource_type")),
        ("value", Target::Text("t.value")),
    ],
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagDescription {
    pub resource_id: String,
    pub resource_type: String,
    pub key: String,
    pub value: String,
}

/// Adds or overwrites tags on one resource.
pub async fn upsert(
    conn: &mut impl Exec,
    account: &str,
    region: &str,
    resource_id: &str,
    resource_type: &str,
    tags: &[Tag],
    now: i64,
) -> Result<()> {
    for tag in tags {
        let mut qb = Sql::new(
            "insert into tag (account_id, resource_id, region, resource_type, key, value, created_at) values (",
        );
        qb.separated(", ")
            .push_bind(account)
            .push_bind(resource_id)
            .push_bind(region)
            .push_bind(resource_type)
            .push_bind(&tag.key)
            .push_bind(&tag.value)
            .push_bind(now);
        qb.push(") on conflict (account_id, resource_id, key) do update set value = excluded.value");
        conn.execute(&qb).await?;
    }
    Ok(())
}

pub async fn count_after_upsert(
    conn: &mut impl Exec,
    account: &str,
    resource_id: &str,
    new_keys: &[Tag],
) -> Result<usize> {
    let mut qb = Sql::new("select key from tag where account_id = ");
    qb.push_bind(account).push(" and resource_id = ").push_bind(resource_id);
    let existing = conn.texts(&qb).await?;
    let added = new_keys.iter().filter(|t| !existing.iter().any(|k| k.as_deref() == Some(t.key.as_str()))).count();
    Ok(existing.len() + added)
}

/// Deletes `key` (when `value` is given, only if the tag has that value), or every
/// tag of the resource when `key` is `None`.
pub async fn delete(
    conn: &mut impl Exec,
    account: &str,
    resource_id: &str,
    key: Option<&str>,
    value: Option<&str>,
) -> Result<()> {
    let mut qb = Sql::new("delete from tag where account_id = ");
    qb.push_bind(account);
    qb.push(" and resource_id = ");
    qb.push_bind(resource_id);
    if let Some(key) = key {
        qb.push(" and key = ");
        qb.push_bind(key);
    }
    if let Some(value) = value {
        qb.push(" and value = ");
        qb.push_bind(value);
    }
    conn.execute(&qb).await?;
    Ok(())
}

pub async fn describe(
    conn: &mut Conn,
    account: &str,
    region: &str,
    filters: &[Filter],
    page: &Page,
) -> Result<(Vec<TagDescription>, Option<String>)> {
    let mut qb = Sql::new("select t.resource_id, t.resource_type, t.key, t.value from tag t where t.account_id = ");
    qb.push_bind(account);
    qb.push(" and t.region = ");
    qb.push_bind(region);
    FILTERS.push(&mut qb, filters, account)?;
    // The page key joins resource id and tag key with a separator that sorts lowest.
    page.push(&mut qb, "(t.resource_id || char(1) || t.key)");
    let rows = qb.query().fetch_all(&mut *conn).await?;
    let mut tags: Vec<TagDescription> = rows
        .iter()
        .map(|r| TagDescription { resource_id: r.get(0), resource_type: r.get(1), key: r.get(2), value: r.get(3) })
        .collect();
    let next = page.finish(&mut tags, |t| format!("{}\u{1}{}", t.resource_id, t.key));
    Ok((tags, next))
}
