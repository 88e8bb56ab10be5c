//! The on-disk spool: what shutdown cannot deliver survives to the next
//! start; corrupt files are set aside; the size bound is counted.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use timber_core::mock::{Fault, MockTransport};
use timber_core::{Error, OverflowPolicy};

use common::{builder, Errors};

fn spool_files(dir: &Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(ext))
        .collect();
    names.sort();
    names
}

#[test]
fn undelivered_batches_are_spooled_at_shutdown_and_sent_first_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let down = MockTransport::new();
    down.fail_next(1_000, Fault::Status(503));
    let errors = Errors::default();
    let client = builder(&down, &errors)
        .batch_size(2)
        .spool(dir.path())
        .build()
        .unwrap();
    for i in 0..5 {
        client.info(format!("m{i}"), (), None);
    }
    client
        .disconnect()
        .expect("everything was spooled: nothing lost");
    let stats = client.stats();
    assert_eq!((stats.spooled, stats.lost, stats.sent), (5, 0, 0));
    assert_eq!(spool_files(dir.path(), ".batch.json").len(), 3);
    drop(client);

    let up = MockTransport::new();
    let client = builder(&up, &errors).spool(dir.path()).build().unwrap();
    client.info("after restart", (), None);
    client.flush().unwrap();
    let messages: Vec<String> = up.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["m0", "m1", "m2", "m3", "m4", "after restart"]);
    assert_eq!(client.stats().restored, 5);
    assert!(spool_files(dir.path(), ".batch.json").is_empty());
    // The restored batches keep the source stamped before they were spooled.
    assert!(up
        .records()
        .iter()
        .all(|r| r.source.as_deref() == Some("test-app")));
}

#[test]
fn a_retried_spooled_batch_keeps_its_idempotency_key() {
    let dir = tempfile::tempdir().unwrap();
    let down = MockTransport::new();
    down.fail_next(1_000, Fault::Status(503));
    let errors = Errors::default();
    let client = builder(&down, &errors).spool(dir.path()).build().unwrap();
    client.info("once", (), None);
    client.disconnect().unwrap();
    let key = down
        .batches()
        .first()
        .map(|b| b.idempotency_key().to_owned());
    assert!(key.is_none(), "nothing was stored by the failing server");
    let name = spool_files(dir.path(), ".batch.json").remove(0);

    let up = MockTransport::new();
    let _client = builder(&up, &errors).spool(dir.path()).build().unwrap();
    assert!(up.wait_for_count(1, Duration::from_secs(10)));
    assert!(name.contains(up.batches()[0].idempotency_key()));
}

#[test]
fn corrupt_and_truncated_files_are_set_aside_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("0000000000001-000000-a.batch.json"),
        b"{\"logs\":[{\"level\":\"info\"",
    )
    .unwrap();
    fs::write(
        dir.path().join("0000000000002-000000-b.batch.json"),
        b"\x00\xff garbage",
    )
    .unwrap();
    fs::write(
        dir.path().join("0000000000003-000000-c.batch.json"),
        br#"{"logs":[{"level":"warn","message":"survivor"}]}"#,
    )
    .unwrap();
    // A temporary file left by a crash mid-write is not a spool file.
    fs::write(
        dir.path().join("0000000000004-000000-d.batch.json.tmp"),
        b"{",
    )
    .unwrap();

    let up = MockTransport::new();
    let errors = Errors::default();
    let client = builder(&up, &errors).spool(dir.path()).build().unwrap();
    assert!(up.wait_for_count(1, Duration::from_secs(10)));
    assert_eq!(up.records()[0].message, "survivor");
    assert_eq!(spool_files(dir.path(), ".corrupt").len(), 2);
    let reports = errors.messages();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports
        .iter()
        .all(|m| m.starts_with("spool: corrupt spool file set aside")));
    drop(client);
}

#[test]
fn the_size_bound_refuses_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let down = MockTransport::new();
    down.fail_next(1_000, Fault::Status(503));
    let errors = Errors::default();
    let client = builder(&down, &errors)
        .batch_size(1)
        .spool(dir.path())
        .spool_max_bytes(400)
        .build()
        .unwrap();
    for i in 0..10 {
        client.info(format!("record number {i}"), (), None);
    }
    let err = client.disconnect().unwrap_err();
    let stats = client.stats();
    assert!(stats.spooled > 0 && stats.lost > 0, "{stats:?}");
    assert_eq!(stats.spooled + stats.lost, 10);
    assert!(matches!(err, Error::Lost { records, .. } if records as u64 == stats.lost));
    assert!(errors
        .messages()
        .iter()
        .any(|m| m.contains("not spooled: spool full")));
    let on_disk: u64 = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(on_disk <= 400);
}

#[test]
fn the_spool_overflow_policy_makes_room_while_the_service_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockTransport::new();
    mock.fail_next(1_000_000, Fault::Status(503));
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .batch_size(5)
        .queue_capacity(20)
        .overflow(OverflowPolicy::Spool)
        .spool(dir.path())
        .build()
        .unwrap();
    for i in 0..200 {
        client.info(format!("m{i}"), (), None);
        if i % 20 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let stats = client.stats();
    assert!(stats.spooled > 0, "{stats:?}");
    mock.clear_faults();
    client.disconnect().unwrap();
    let stats = client.stats();
    assert_eq!(
        stats.accepted + stats.restored,
        stats.sent + stats.pending + stats.dropped + stats.lost + stats.spooled
    );
    assert_eq!(stats.lost, 0);
    // Nothing accepted is lost: what is not delivered is on disk.
    let delivered = mock.count() as u64;
    let on_disk = stats.spooled - stats.restored;
    assert_eq!(delivered + on_disk + stats.dropped, 200, "{stats:?}");
}

#[test]
fn the_spool_policy_needs_a_directory() {
    let mock = MockTransport::new();
    let err = builder(&mock, &Errors::default())
        .overflow(OverflowPolicy::Spool)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration: overflow: the Spool policy needs a spool directory"
    );
}
