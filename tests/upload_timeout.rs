//! An EBS direct upload that outlives its `Timeout` fails and gives up its blocks, on a
//! real SQLite file (the shortest timeout EBS allows is 10 minutes, too long to wait for
//! through the API, so the deadline is written already past).

use ec2lite::domain::block::sha256;
use ec2lite::domain::lifecycle::SnapshotState;
use ec2lite::domain::snapshot::Snapshot;
use ec2lite::store::{blocks, snapshots, Location, Store};

fn upload(snapshot_id: &str, deadline: i64) -> Snapshot {
    Snapshot {
        snapshot_id: snapshot_id.to_string(),
        owner_id: "000000000000".into(),
        region: "us-east-1".into(),
        volume_id: "vol-ffffffff".into(),
        volume_size: 1,
        state: SnapshotState::Pending,
        start_time: 0,
        upload_deadline: Some(deadline),
        upload_timeout_ms: Some(600_000),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_upload_past_its_timeout_fails_and_drops_its_blocks() {
    let dir = ec2lite_test_support::temp_dir("upload-timeout");
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&Location::Url(dir.join("ec2lite.db").to_string_lossy().into_owned())).await.unwrap();
    let now = 1_000_000;
    let mut tx = store.write().await.unwrap();
    for (id, deadline) in [("snap-0000000000000000a", now - 1), ("snap-0000000000000000b", now + 60_000)] {
        snapshots::insert(&mut tx, &upload(id, deadline), 0).await.unwrap();
        blocks::put(&mut tx, id, 0, &sha256(id.as_bytes())).await.unwrap();
    }
    tx.commit().await.unwrap();

    store.settle(now, 0).await.unwrap();

    let mut conn = store.read().await.unwrap();
    let expired = snapshots::find_any(&mut conn, "snap-0000000000000000a").await.unwrap().unwrap();
    assert_eq!(expired.state, SnapshotState::Error);
    assert!(expired.state_message.unwrap().contains("timeout"));
    assert_eq!(expired.upload_deadline, None);
    assert!(blocks::list(&mut conn, "snap-0000000000000000a", 0, 10).await.unwrap().is_empty());
    let open = snapshots::find_any(&mut conn, "snap-0000000000000000b").await.unwrap().unwrap();
    assert!(open.is_uploading(), "an upload within its timeout stays open");
    assert_eq!(blocks::list(&mut conn, "snap-0000000000000000b", 0, 10).await.unwrap().len(), 1);
    drop(conn);
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
}
