//! Key pairs.

use crate::store::sql::Sql;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::filters::{FilterSpec, Target};
use super::{is_unique_violation, parse_tags, push_tags_column, Conn, Exec};
use crate::domain::filter::Filter;
use crate::domain::key_pair::KeyPair;
use crate::error::{Ec2Error, Result};

pub static FILTERS: FilterSpec = FilterSpec {
    id_column: "k.key_pair_id",
    fields: &[
        ("fingerprint", Target::Text("k.fingerprint")),
        ("key-name", Target::Text("k.key_name")),
        ("key-pair-id", Target::Text("k.key_pair_id")),
        ("key-type", Target::Text("k.key_type")),
    ],
};

pub struct KeyPairQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub names: &'a [String],
    pub ids: &'a [String],
    pub filters: &'a [Filter],
}

fn select<'a>(account: &'a str, region: &'a str) -> Sql {
    let mut qb = Sql::new(
        "select k.key_pair_id, k.account_id, k.region, k.key_name, k.key_type, k.fingerprint, k.public_key, \
         k.created_at, ",
    );
    push_tags_column(&mut qb, account, "k.key_pair_id");
    qb.push(" from key_pair k where k.account_id = ").push_bind(account);
    qb.push(" and k.region = ").push_bind(region);
    qb
}

fn from_row(row: &SqliteRow) -> Result<KeyPair, sqlx::Error> {
    Ok(KeyPair {
        key_pair_id: row.try_get("key_pair_id")?,
        owner_id: row.try_get("account_id")?,
        region: row.try_get("region")?,
        key_name: row.try_get("key_name")?,
        key_type: row.try_get("key_type")?,
        fingerprint: row.try_get("fingerprint")?,
        public_key: row.try_get("public_key")?,
        create_time: row.try_get("created_at")?,
        tags: parse_tags(row.try_get("tags_json")?),
    })
}

pub async fn describe(conn: &mut Conn, q: &KeyPairQuery<'_>) -> Result<Vec<KeyPair>> {
    let mut qb = select(q.account, q.region);
    if !q.names.is_empty() {
        super::filters::push_in(&mut qb, "k.key_name", q.names);
    }
    if !q.ids.is_empty() {
        super::filters::push_in(&mut qb, "k.key_pair_id", q.ids);
    }
    FILTERS.push(&mut qb, q.filters, q.account)?;
    qb.push(" order by k.key_name");
    let rows = qb.query().fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The caller's key pair named `name` or with id `id` in `region`.
pub async fn find(
    conn: &mut Conn,
    account: &str,
    region: &str,
    name: Option<&str>,
    id: Option<&str>,
) -> Result<Option<KeyPair>> {
    let mut qb = select(account, region);
    if let Some(name) = name {
        qb.push(" and k.key_name = ").push_bind(name.to_string());
    }
    if let Some(id) = id {
        qb.push(" and k.key_pair_id = ").push_bind(id.to_string());
    }
    let row = qb.query().fetch_optional(&mut *conn).await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Whether the account has the key pair `id` in the region.
pub async fn exists(conn: &mut impl Exec, account: &str, region: &str, id: &str) -> Result<bool> {
    let mut qb = Sql::new("select key_pair_id from key_pair where account_id = ");
    qb.push_bind(account).push(" and region = ").push_bind(region).push(" and key_pair_id = ").push_bind(id);
    Ok(!conn.texts(&qb).await?.is_empty())
}

/// Stores a new key pair. A name the owner already uses in the region is refused here,
/// by the unique index, never by a prior read.
pub async fn insert(conn: &mut Conn, k: &KeyPair) -> Result<()> {
    let inserted = sqlx::query(
        "insert into key_pair (key_pair_id, account_id, region, key_name, key_type, fingerprint, public_key, created_at) \
         values (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&k.key_pair_id)
    .bind(&k.owner_id)
    .bind(&k.region)
    .bind(&k.key_name)
    .bind(&k.key_type)
    .bind(&k.fingerprint)
    .bind(&k.public_key)
    .bind(k.create_time)
    .execute(&mut *conn)
    .await;
    match inserted {
        Err(err) if is_unique_violation(&err, "key_pair.key_name") => Err(Ec2Error::key_pair_duplicate(&k.key_name)),
        Err(err) => Err(err.into()),
        Ok(_) => Ok(()),
    }
}

pub async fn delete(conn: &mut Conn, key_pair_id: &str) -> Result<()> {
    sqlx::query("delete from key_pair where key_pair_id = ?").bind(key_pair_id).execute(&mut *conn).await?;
    sqlx::query("delete from tag where resource_id = ?").bind(key_pair_id).execute(&mut *conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Location, Store};

    #[tokio::test]
    async fn a_name_taken_in_the_region_is_a_duplicate() {
        let store = Store::open(&Location::InMemory).await.unwrap();
        let mut tx = store.write().await.unwrap();
        let key = KeyPair {
            key_pair_id: "key-00000000000000001".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            key_name: "deploy".into(),
            key_type: "rsa".into(),
            ..Default::default()
        };
        insert(&mut tx, &key).await.unwrap();
        let again = KeyPair { key_pair_id: "key-00000000000000002".into(), ..key.clone() };
        assert_eq!(insert(&mut tx, &again).await.unwrap_err(), Ec2Error::key_pair_duplicate("deploy"));
        let elsewhere = KeyPair { key_pair_id: "key-00000000000000003".into(), region: "eu-west-1".into(), ..key };
        insert(&mut tx, &elsewhere).await.unwrap();
    }
}
