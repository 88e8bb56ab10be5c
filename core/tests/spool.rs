//! The on-disk spool: what shutdown cannot deliver survives to the next
//! start; corrupt files are set aside; the size bound is counted.

mod common;
mod double;

use std::fs;
use std::path::Path;
use std::time::Duration;

use double::{Fault, MockTransport};
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
    down.fail_next(1_000, Fault::Unavailable);
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
    // Already on disk, in the journal, with the keys they went out with.
    assert!(!spool_files(dir.path(), ".journal").is_empty());
    assert!(spool_files(dir.path(), ".batch.json").is_empty());
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
fn a_flush_delivers_what_an_earlier_run_spooled_even_with_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let down = MockTransport::new();
    down.fail_next(1_000, Fault::Unavailable);
    let errors = Errors::default();
    let client = builder(&down, &errors)
        .batch_size(2)
        .spool(dir.path())
        .build()
        .unwrap();
    for i in 0..5 {
        client.info(format!("m{i}"), (), None);
    }
    client.disconnect().expect("everything was spooled");
    drop(client);

    let up = MockTransport::new();
    let client = builder(&up, &errors).spool(dir.path()).build().unwrap();
    client.flush().unwrap();
    let messages: Vec<String> = up.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(client.stats().restored, 5);
    assert!(spool_files(dir.path(), ".batch.json").is_empty());
}

#[test]
fn a_retried_spooled_batch_keeps_its_idempotency_key() {
    let dir = tempfile::tempdir().unwrap();
    let down = MockTransport::new();
    down.fail_next(1_000, Fault::Unavailable);
    let errors = Errors::default();
    let client = builder(&down, &errors).spool(dir.path()).build().unwrap();
    client.info("once", (), None);
    client.disconnect().unwrap();
    let key = down
        .batches()
        .first()
        .map(|b| b.idempotency_key().to_owned());
    assert!(key.is_none(), "nothing was stored by the failing server");
    assert!(
        !spool_files(dir.path(), ".journal").is_empty(),
        "kept in the journal"
    );
    drop(client);
    // The next start recovers it into a spool file, still failing.
    let client = builder(&down, &errors).spool(dir.path()).build().unwrap();
    client.disconnect().unwrap();
    drop(client);
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
        b"[{\"level\":\"info\"",
    )
    .unwrap();
    fs::write(
        dir.path().join("0000000000002-000000-b.batch.json"),
        b"\x00\xff garbage",
    )
    .unwrap();
    fs::write(
        dir.path().join("0000000000003-000000-c.batch.json"),
        br#"[{"level":"warn","message":"survivor"}]"#,
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
    down.fail_next(1_000, Fault::Unavailable);
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
    let (mock, errors) = (MockTransport::new(), Errors::default());
    let client = parking(&mock, &errors, dir.path()).build().unwrap();
    for i in 0..200 {
        client.info(format!("m{i}"), (), None);
        if i % 20 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    // The worker spills when it next comes round.
    for _ in 0..500 {
        if client.stats().spooled > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
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

/// Writes a spool file as a client would have, with these messages.
fn spooled_file(dir: &Path, name: &str, messages: &[&str]) {
    let records: Vec<timber_core::LogRecord> = messages
        .iter()
        .map(|m| timber_core::LogRecord::new(timber_core::Level::Info, *m))
        .collect();
    fs::write(dir.join(name), serde_json::to_vec(&records).unwrap()).unwrap();
}

const KEY_A: &str = "0000000000001-000000-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.batch.json";
const KEY_B: &str = "0000000000002-000000-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB.batch.json";

#[test]
fn a_spooled_batch_refused_on_restore_is_split_delivered_and_its_bad_record_reported() {
    let dir = tempfile::tempdir().unwrap();
    spooled_file(dir.path(), KEY_A, &["a0", "a1", "a2", "a3"]);
    spooled_file(dir.path(), KEY_B, &["b0"]);
    let up = MockTransport::new();
    // The whole batch, then its first half, then that half's first half:
    // only "a0" is refused for good; the next file is not held up.
    up.fail_next(3, Fault::Refused);
    let errors = Errors::default();
    let client = builder(&up, &errors)
        .max_in_flight(1)
        .spool(dir.path())
        .build()
        .unwrap();
    assert!(up.wait_for_count(4, Duration::from_secs(10)));
    let mut messages: Vec<String> = up.records().into_iter().map(|r| r.message).collect();
    messages.sort();
    assert_eq!(messages, ["a1", "a2", "a3", "b0"]);
    let reports = errors.messages();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].starts_with("1 record(s) refused by the server"),
        "{reports:?}"
    );
    // Both files are done with.
    for _ in 0..100 {
        if spool_files(dir.path(), ".batch.json").is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(spool_files(dir.path(), ".batch.json").is_empty());
    let stats = client.stats();
    assert_eq!((stats.restored, stats.lost), (5, 1), "{stats:?}");
}

#[test]
fn a_spooled_batch_failing_for_good_is_reported_and_kept_for_later() {
    let dir = tempfile::tempdir().unwrap();
    spooled_file(dir.path(), KEY_A, &["kept"]);
    let down = MockTransport::new();
    down.fail_next(4, Fault::Denied);
    let errors = Errors::default();
    let client = builder(&down, &errors).spool(dir.path()).build().unwrap();
    for _ in 0..200 {
        if !errors.all().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        matches!(&errors.all()[..], [Error::Undelivered { records: 1, .. }]),
        "{:?}",
        errors.messages()
    );
    drop(client);
    assert_eq!(spool_files(dir.path(), ".batch.json"), [KEY_A]);

    // At the next start it goes through, with its key.
    let up = MockTransport::new();
    let _client = builder(&up, &errors).spool(dir.path()).build().unwrap();
    assert!(up.wait_for_count(1, Duration::from_secs(10)));
    assert!(KEY_A.contains(up.batches()[0].idempotency_key()));
}

#[test]
fn one_client_per_spool_directory_and_crash_leftovers_are_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let leftover = dir.path().join("0000000000009-000000-x.batch.json.tmp");
    fs::write(&leftover, b"[").unwrap();
    let mock = MockTransport::new();
    let first = builder(&mock, &Errors::default())
        .spool(dir.path())
        .build()
        .unwrap();
    assert!(
        !leftover.exists(),
        "a writer's leftover from a crash is removed"
    );
    let second = builder(&mock, &Errors::default()).spool(dir.path()).build();
    let err = second.unwrap_err().to_string();
    assert!(
        err.contains("spool") && err.contains("another client uses this spool directory"),
        "{err}"
    );
    drop(first);
    builder(&mock, &Errors::default())
        .spool(dir.path())
        .build()
        .expect("free again once the first client is gone");
}

#[test]
fn records_spilled_by_the_spool_policy_go_before_newer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockTransport::new();
    mock.fail_next(1_000, Fault::Unavailable);
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .batch_size(5)
        .max_in_flight(1)
        .queue_capacity(20)
        .overflow(OverflowPolicy::Spool)
        .spool(dir.path())
        .build()
        .unwrap();
    let mut accepted = Vec::new();
    for i in 0..100 {
        if client
            .try_log(timber_core::LogEntry::new(
                timber_core::Level::Info,
                format!("m{i}"),
            ))
            .is_ok()
        {
            accepted.push(i);
        }
        if i % 20 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    for _ in 0..500 {
        if client.stats().spooled > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(client.stats().spooled > 0);
    mock.clear_faults();
    // The service is back: spooled and queued records go, oldest first.
    deliver_all(&client, &mock, accepted.len());
    let got: Vec<u32> = mock
        .records()
        .iter()
        .map(|r| r.message[1..].parse().unwrap())
        .collect();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted, "oldest first");
    assert_eq!(
        got.len(),
        accepted.len(),
        "{:?}\ngot {got:?}\naccepted {accepted:?}",
        client.stats()
    );
}

/// Makes `dir` refuse to delete its files (immutable as root, read-only
/// otherwise) until dropped; `None` where that cannot be done.
struct Undeletable(std::path::PathBuf);

impl Undeletable {
    fn new(dir: &Path) -> Option<Undeletable> {
        let chattr = std::process::Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .status();
        if !chattr.is_ok_and(|s| s.success()) {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o555)).ok()?;
        }
        let guard = Undeletable(dir.to_owned());
        // Root ignores permissions: check that it really holds.
        let probe = dir.join("probe");
        if fs::write(&probe, b"x").is_ok() {
            let _ = fs::remove_file(probe);
            return None;
        }
        Some(guard)
    }
}

impl Drop for Undeletable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(&self.0, fs::Permissions::from_mode(0o755));
    }
}

#[test]
fn a_delivered_spool_file_that_cannot_be_deleted_is_reported_and_not_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    spooled_file(dir.path(), KEY_A, &["once"]);
    fs::write(dir.path().join(".lock"), b"").unwrap();
    let Some(_undeletable) = Undeletable::new(dir.path()) else {
        eprintln!("skipped: this machine cannot make a directory refuse deletions");
        return;
    };
    let mock = MockTransport::new();
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .flush_interval(Duration::from_millis(20))
        .spool(dir.path())
        .build()
        .unwrap();
    assert!(mock.wait_for_count(1, Duration::from_secs(10)));
    // Many intervals later, it was not sent again.
    std::thread::sleep(Duration::from_millis(300));
    client.flush().unwrap();
    assert_eq!(mock.attempts(), 1, "resent");
    let stats = client.stats();
    assert_eq!((stats.sent, stats.restored), (1, 1), "{stats:?}");
    let reports = errors.messages();
    assert_eq!(reports.len(), 2, "{reports:?}");
    // The journal cannot be written there either: the client goes on in memory.
    assert!(reports[0].contains("no journal in"), "{reports:?}");
    assert!(
        reports[1].contains("was delivered but cannot be deleted"),
        "{reports:?}"
    );
}

#[test]
fn a_journal_at_its_bound_is_given_up_once_and_nothing_accepted_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let down = MockTransport::new();
    // Down long enough for the journal (two segments of 10 KiB) to fill.
    down.fail_next(3, Fault::Unavailable);
    let errors = Errors::default();
    let client = builder(&down, &errors)
        .batch_size(1_000)
        .spool(dir.path())
        .spool_max_bytes(20 << 10)
        .build()
        .unwrap();
    for i in 0..1_000 {
        client.info(format!("record number {i} with some words"), (), None);
    }
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!(
        (stats.sent, stats.dropped, stats.lost),
        (1_000, 0, 0),
        "{stats:?}"
    );
    let given_up: Vec<String> = errors
        .messages()
        .into_iter()
        .filter(|m| m.contains("journal given up"))
        .collect();
    assert_eq!(given_up.len(), 1, "{given_up:?}");
    assert!(given_up[0].contains("its bound"), "{given_up:?}");
    drop(client);
    // Everything was delivered: no journal and no spool file is left.
    assert!(spool_files(dir.path(), ".journal").is_empty());
}

#[test]
fn under_block_with_a_spool_the_overflow_goes_to_disk_while_the_service_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockTransport::new();
    mock.fail_next(1_000_000, Fault::Unavailable);
    let errors = Errors::default();
    // Every default but the spool: `Block`, a queue of 100 here.
    let client = builder(&mock, &errors)
        .queue_capacity(100)
        .spool(dir.path())
        .build()
        .unwrap();
    for i in 0..1_000 {
        client.info(format!("record {i}"), (), None);
    }
    let stats = client.stats();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    // In memory at most the queue (100) and the batches being retried (at
    // most 4 in flight of at most 100 each); the rest went to disk.
    assert_eq!(stats.pending + stats.spooled, 1_000, "{stats:?}");
    assert!(stats.pending <= 100 + 4 * 100, "{stats:?}");
    // The service comes back: everything goes, the spooled records first.
    mock.clear_faults();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while client.stats().sent < 1_000 && std::time::Instant::now() < deadline {
        let _ = client.flush();
    }
    let messages: Vec<String> = mock.records().into_iter().map(|r| r.message).collect();
    let mut sorted = messages.clone();
    sorted.sort_by_key(|m| m["record ".len()..].parse::<usize>().unwrap());
    let expected: Vec<String> = (0..1_000).map(|i| format!("record {i}")).collect();
    assert_eq!(sorted, expected, "each record once");
    // In order, but for what the README allows: batches in flight together
    // (four of at most 100 here) may be stored in either order.
    for (at, message) in messages.iter().enumerate() {
        let i: usize = message["record ".len()..].parse().unwrap();
        assert!(at.abs_diff(i) <= 300, "{message} stored at {at}");
    }
}

/// A client under the `Spool` policy with a small queue, on `dir`, its
/// service (`mock`) down until the test clears its faults.
fn parking(mock: &MockTransport, errors: &Errors, dir: &Path) -> timber_core::ClientBuilder {
    mock.fail_next(1_000_000, Fault::Unavailable);
    builder(mock, errors)
        .batch_size(5)
        .queue_capacity(20)
        .overflow(OverflowPolicy::Spool)
        .spool(dir)
}

/// The stats invariant: every record accepted (or read back) is accounted for.
fn assert_balanced(stats: &timber_core::Stats) {
    assert_eq!(
        stats.accepted + stats.restored,
        stats.sent + stats.pending + stats.dropped + stats.lost + stats.spooled,
        "{stats:?}"
    );
}

/// Logs `n` records (`record {i}`) with `try_log`, pausing now and then so
/// that the worker comes round; returns the numbers of those accepted.
fn log_accepted(client: &timber_core::Client, n: usize) -> Vec<usize> {
    let mut accepted = Vec::new();
    for i in 0..n {
        let entry = timber_core::LogEntry::new(timber_core::Level::Info, format!("record {i}"));
        if client.try_log(entry).is_ok() {
            accepted.push(i);
        }
        if i % 20 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    accepted
}

/// Flushes until the mock holds `n` records (or 30 s pass).
fn deliver_all(client: &timber_core::Client, mock: &MockTransport, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while mock.count() < n && std::time::Instant::now() < deadline {
        let _ = client.flush();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn numbers(mock: &MockTransport) -> Vec<usize> {
    mock.records()
        .iter()
        .map(|r| r.message["record ".len()..].parse().unwrap())
        .collect()
}

#[test]
fn the_spool_policy_parks_the_queue_in_the_journal_and_reads_it_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mock, errors) = (MockTransport::new(), Errors::default());
    let client = parking(&mock, &errors, dir.path()).build().unwrap();
    let accepted = log_accepted(&client, 500);
    let stats = client.stats();
    assert!(stats.spooled > 0, "{stats:?}");
    // One store: the records are in the journal already, and stay there
    // only; no spool file is written.
    assert!(spool_files(dir.path(), ".batch.json").is_empty());
    assert!(!spool_files(dir.path(), ".journal").is_empty());
    mock.clear_faults();
    deliver_all(&client, &mock, accepted.len());
    assert_eq!(numbers(&mock), accepted, "each once, oldest first");
    let stats = client.stats();
    assert_eq!(stats.restored, stats.spooled, "{stats:?}");
    assert_balanced(&stats);
    assert_eq!(stats.dropped as usize + accepted.len(), 500, "{stats:?}");
    client.disconnect().unwrap();
    drop(client);
    assert!(spool_files(dir.path(), ".journal").is_empty());
}

#[test]
fn a_full_journal_holding_parked_records_refuses_new_ones_and_keeps_the_parked() {
    let dir = tempfile::tempdir().unwrap();
    let (mock, errors) = (MockTransport::new(), Errors::default());
    // Two segments of 10 KiB: a few hundred records.
    let client = parking(&mock, &errors, dir.path())
        .spool_max_bytes(20 << 10)
        .build()
        .unwrap();
    let accepted = log_accepted(&client, 3_000);
    assert!(
        accepted.len() < 1_000,
        "the journal filled: {}",
        accepted.len()
    );
    let messages = errors.messages();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("the spool holds what the service has not taken yet, and is full")),
        "{messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("journal given up")),
        "the parked records' only copy stays: {messages:?}"
    );
    // The service is back: every accepted record arrives, once, in order,
    // and the journal takes records again.
    mock.clear_faults();
    deliver_all(&client, &mock, accepted.len());
    assert_eq!(numbers(&mock), accepted);
    client.info("record 3000", (), None);
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!(
        (stats.lost, stats.sent),
        (0, accepted.len() as u64 + 1),
        "{stats:?}"
    );
    assert_balanced(&stats);
}

#[test]
fn parked_records_damaged_on_disk_are_counted_lost_and_the_rest_still_go_in_order() {
    use std::io::{Seek, SeekFrom, Write};
    let dir = tempfile::tempdir().unwrap();
    let (mock, errors) = (MockTransport::new(), Errors::default());
    let client = parking(&mock, &errors, dir.path()).build().unwrap();
    let accepted = log_accepted(&client, 300);
    assert!(client.stats().spooled > 0);
    // Damage the frames after the first few, in place (the file stays
    // mapped: it is not truncated).
    for name in spool_files(dir.path(), ".journal") {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join(name))
            .unwrap();
        file.seek(SeekFrom::Start(4096 + 400)).unwrap();
        file.write_all(&[0xAA; 64]).unwrap();
    }
    mock.clear_faults();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while client.flush().is_err() && std::time::Instant::now() < deadline {}
    let stats = client.stats();
    assert!(stats.lost > 0, "{stats:?}");
    assert_balanced(&stats);
    assert!(
        errors
            .messages()
            .iter()
            .any(|m| m.contains("parked record(s) lost, unreadable in the journal")),
        "{:?}",
        errors.messages()
    );
    // What arrives was accepted, once, in order; only the damaged are missing.
    let got = numbers(&mock);
    let mut sorted = got.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(got, sorted);
    assert!(got.iter().all(|i| accepted.contains(i)));
    assert_eq!(
        got.len() as u64 + stats.lost,
        accepted.len() as u64,
        "{stats:?}"
    );
}

/// Blocks the worker's thread in its first send (a transport that does
/// blocking I/O), then fails it; later sends go to the mock.
#[derive(Clone)]
struct StuckOnce {
    mock: MockTransport,
    stuck: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[timber_core::transport::async_trait]
impl timber_core::transport::Transport for StuckOnce {
    async fn send_batch(
        &self,
        endpoint: &timber_core::transport::Endpoint,
        batch: &timber_core::transport::Batch,
    ) -> Result<(), timber_core::transport::TransportError> {
        if !self.stuck.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1_500));
            return Err(timber_core::transport::TransportError::retryable("stuck"));
        }
        self.mock.send_batch(endpoint, batch).await
    }
}

#[test]
fn a_worker_abandoned_at_the_deadline_leaves_its_records_in_the_journal_once() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockTransport::new();
    let errors = Errors::default();
    let stuck = StuckOnce {
        mock: mock.clone(),
        stuck: Default::default(),
    };
    let client = builder(&mock, &errors)
        .transport(stuck)
        .batch_size(1)
        .spool(dir.path())
        .build()
        .unwrap();
    client.info("sent when stuck", (), None);
    std::thread::sleep(Duration::from_millis(200));
    // Queued while the worker's thread is blocked in the transport.
    client.info("queued 1", (), None);
    client.info("queued 2", (), None);
    // Nothing is lost: every pending record is in the journal.
    client
        .disconnect_timeout(Duration::from_millis(200))
        .unwrap();
    let stats = client.stats();
    assert_eq!((stats.lost, stats.spooled), (0, 3), "{stats:?}");
    drop(client);
    // The next start, once the stuck worker has let the directory go.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let next = loop {
        match builder(&mock, &errors).spool(dir.path()).build() {
            Ok(client) => break client,
            Err(e) if std::time::Instant::now() > deadline => panic!("{e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    next.flush_timeout(Duration::from_secs(10)).unwrap();
    let mut messages: Vec<String> = mock.records().into_iter().map(|r| r.message).collect();
    messages.sort();
    assert_eq!(messages, ["queued 1", "queued 2", "sent when stuck"]);
}
