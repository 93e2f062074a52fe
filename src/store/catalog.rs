//! Seeding a region with the public catalog, once per catalog version.

use sqlx::Row;

use super::{images, snapshots, Conn};
use crate::domain::catalog::CatalogImage;
use crate::error::Result;

/// Makes `region` hold exactly the catalog `entries` (identified by `fingerprint`),
/// replacing an older catalog. Entries whose name an account already took are skipped.
pub async fn ensure_region(
    conn: &mut Conn,
    region: &str,
    fingerprint: &str,
    entries: &[CatalogImage],
    now: i64,
) -> Result<()> {
    let current = sqlx::query("select fingerprint from catalog_region where region = ?")
        .bind(region)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.get::<String, _>(0));
    if current.as_deref() == Some(fingerprint) {
        return Ok(());
    }
    sqlx::query("delete from image where region = ? and catalog = 1").bind(region).execute(&mut *conn).await?;
    sqlx::query("delete from snapshot where region = ? and catalog = 1").bind(region).execute(&mut *conn).await?;
    let mut image_ids = Vec::with_capacity(entries.len());
    let mut snapshot_ids = Vec::with_capacity(entries.len());
    for entry in entries {
        let (image, snapshot) = entry.materialize(region);
        if let Some(snapshot) = &snapshot {
            snapshots::insert(conn, snapshot, now).await?;
            snapshots::add_permission(conn, &snapshot.snapshot_id, "all", now).await?;
            snapshot_ids.push(snapshot.snapshot_id.clone());
        }
        match images::insert(conn, &image, now).await {
            Ok(()) => {}
            Err(err) if err.code == "InvalidAMIName.Duplicate" => {
                tracing::warn!(region, name = %image.name, "catalog image skipped: name already in use");
                continue;
            }
            Err(err) => return Err(err),
        }
        images::add_launch_permission(
            conn,
            &image.image_id,
            &crate::domain::image::LaunchPermission::Group("all".into()),
            now,
        )
        .await?;
        image_ids.push(image.image_id);
    }
    let ids_json = serde_json::to_string(&image_ids).expect("json");
    sqlx::query("update image set catalog = 1 where image_id in (select value from json_each(?))")
        .bind(ids_json)
        .execute(&mut *conn)
        .await?;
    let ids_json = serde_json::to_string(&snapshot_ids).expect("json");
    sqlx::query("update snapshot set catalog = 1 where snapshot_id in (select value from json_each(?))")
        .bind(ids_json)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into catalog_region (region, fingerprint, created_at) values (?, ?, ?) \
         on conflict (region) do update set fingerprint = excluded.fingerprint, created_at = excluded.created_at",
    )
    .bind(region)
    .bind(fingerprint)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
