//! Reading back what runs that died left in the journal: their unresolved
//! records, in the batches they went out in.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::codec::Frame;
use super::segment;
use crate::record::environment::Environment;
use crate::record::record::Record;
use crate::transport::batch::{Batch, Resource};

/// What earlier runs left in the journal.
#[derive(Default)]
pub(crate) struct Recovered {
    /// Their unresolved records, as the batches to send.
    pub(crate) batches: Vec<Batch>,
    /// The segment files read (to delete once the batches are safe).
    pub(crate) files: Vec<PathBuf>,
    /// Records recovered.
    pub(crate) records: u64,
    /// Segments whose last frame was torn or damaged.
    pub(crate) torn: u64,
}

/// Reads the segments earlier runs left in `dir` (all of them: whoever
/// holds the directory's lock is the only run alive there).
pub(crate) fn recover(
    dir: &Path,
    max_batch: usize,
    current: &Arc<Resource>,
) -> io::Result<Recovered> {
    let mut runs: BTreeMap<u64, Vec<segment::Written>> = BTreeMap::new();
    let mut recovered = Recovered::default();
    for path in segment::list(dir)? {
        match segment::read(&path) {
            Ok(written) => {
                recovered.torn += u64::from(written.torn);
                runs.entry(written.run).or_default().push(written);
            }
            // Not ours, or unreadable: counted, and out of the way.
            Err(_) => recovered.torn += 1,
        }
        recovered.files.push(path);
    }
    for segments in runs.into_values() {
        let batches = batches_of_run(segments, max_batch, current);
        recovered.records += batches.iter().map(|b| b.len() as u64).sum::<u64>();
        recovered.batches.extend(batches);
    }
    Ok(recovered)
}

/// One dead run's unresolved records, in the batches they went out in.
fn batches_of_run(
    segments: Vec<segment::Written>,
    max_batch: usize,
    current: &Arc<Resource>,
) -> Vec<Batch> {
    let run = segments.first().map_or(0, |s| s.run);
    let watermark = segments.iter().map(|s| s.watermark).max().unwrap_or(0);
    let resource = segments
        .first()
        .and_then(|s| resource_of(&s.resource))
        .map_or_else(|| current.clone(), Arc::new);
    let mut records = BTreeMap::new();
    // For each record, the last batch it went out in (a half after a
    // refusal is written after the whole).
    let mut marker_of: BTreeMap<u64, usize> = BTreeMap::new();
    let mut keys = Vec::new();
    for frame in segments.into_iter().flat_map(|s| s.frames) {
        match frame {
            Frame::Record(seq, record) if seq >= watermark => {
                records.insert(seq, record);
            }
            Frame::Record(..) => {}
            Frame::Batch { seq, count, key } => {
                for s in seq..seq.saturating_add(u64::from(count)) {
                    marker_of.insert(s, keys.len());
                }
                keys.push(key);
            }
        }
    }
    let mut batches = Vec::new();
    let mut group: Vec<Record> = Vec::new();
    let mut group_key: Option<(Option<usize>, u64)> = None;
    for (seq, record) in records {
        let marker = marker_of.get(&seq).copied();
        let same = group_key.is_some_and(|(m, _)| m == marker)
            && (marker.is_some() || group.len() < max_batch);
        if !same {
            flush_group(&mut batches, &mut group, group_key, &keys, run, &resource);
            group_key = Some((marker, seq));
        }
        group.push(record);
    }
    flush_group(&mut batches, &mut group, group_key, &keys, run, &resource);
    batches
}

fn flush_group(
    batches: &mut Vec<Batch>,
    group: &mut Vec<Record>,
    key: Option<(Option<usize>, u64)>,
    keys: &[String],
    run: u64,
    resource: &Arc<Resource>,
) {
    let Some((marker, first)) = key else { return };
    if group.is_empty() {
        return;
    }
    let key = match marker {
        Some(i) => keys[i].clone(),
        // Never sent: a key of the run and the first record, the same if
        // this recovery is itself cut short and done again.
        None => format!("{run:016x}{first:016x}"),
    };
    batches.push(Batch::with_key(
        resource.clone(),
        std::mem::take(group),
        key,
    ));
}

/// `source\nenvironment\nversion`, as the header holds it.
fn resource_of(text: &str) -> Option<Resource> {
    let mut parts = text.splitn(3, '\n');
    let source = parts.next().filter(|s| !s.is_empty())?;
    let environment: Environment = parts.next()?.parse().ok()?;
    let version = parts.next().filter(|v| !v.is_empty());
    Some(Resource::new(source, environment, version.map(Arc::from)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::journal::{codec, Journal};
    use crate::record::level::Level;

    fn resource() -> Arc<Resource> {
        Arc::new(Resource::new(
            "journal-test",
            Environment::Staging,
            Some("1.2".into()),
        ))
    }

    fn record(i: u64) -> Record {
        Record::new(Level::Info, format!("record {i}"))
    }

    fn messages(batch: &Batch) -> Vec<String> {
        batch
            .records()
            .iter()
            .map(|r| r.message().to_owned())
            .collect()
    }

    /// A run that dies: records 0..10 written, 0..4 sent as one batch and
    /// delivered (watermark 4), 4..8 sent and cut in halves after a
    /// refusal, 8..10 never sent.
    fn dead_run(dir: &Path) {
        let mut journal = Journal::start(dir, &resource(), 64 << 20, 1 << 20).unwrap();
        for i in 0..10 {
            journal.record(i, &record(i)).unwrap();
        }
        journal.batch(0, 4, &"a".repeat(32)).unwrap();
        journal.batch(4, 4, &"b".repeat(32)).unwrap();
        journal.batch(4, 2, &"c".repeat(32)).unwrap();
        journal.batch(6, 2, &"d".repeat(32)).unwrap();
        assert!(journal.set_watermark(4).is_empty());
        // Dropped without deleting anything: the process died.
    }

    #[test]
    fn a_dead_run_s_unresolved_records_come_back_in_the_batches_they_went_out_in() {
        let dir = tempfile::tempdir().unwrap();
        dead_run(dir.path());
        let recovered = recover(dir.path(), 1_000, &resource()).unwrap();
        assert_eq!((recovered.records, recovered.torn), (6, 0));
        assert_eq!(recovered.files.len(), 1);
        let keys: Vec<&str> = recovered
            .batches
            .iter()
            .map(Batch::idempotency_key)
            .collect();
        assert_eq!(keys[..2], ["c".repeat(32), "d".repeat(32)]);
        assert_eq!(messages(&recovered.batches[0]), ["record 4", "record 5"]);
        assert_eq!(messages(&recovered.batches[2]), ["record 8", "record 9"]);
        // Never sent: a key of the run and the first record, stable.
        let again = recover(dir.path(), 1_000, &resource()).unwrap();
        assert_eq!(again.batches[2].idempotency_key(), keys[2]);
        assert_eq!(keys[2].len(), 32);
        let r = recovered.batches[0].resource();
        assert_eq!(
            (&*r.source, r.environment, r.version.as_deref()),
            ("journal-test", Environment::Staging, Some("1.2"))
        );
    }

    #[test]
    fn a_torn_tail_is_counted_and_what_came_before_it_kept() {
        let dir = tempfile::tempdir().unwrap();
        dead_run(dir.path());
        let path = segment::list(dir.path()).unwrap().remove(0);
        let mut bytes = std::fs::read(&path).unwrap();
        // Damage the last frame (the marker of 6..8): its records go out
        // under the marker before it.
        let end = bytes.iter().rposition(|b| *b != 0).unwrap();
        bytes[end] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let recovered = recover(dir.path(), 1_000, &resource()).unwrap();
        assert_eq!((recovered.records, recovered.torn), (6, 1));
        assert_eq!(recovered.batches[0].idempotency_key(), "c".repeat(32));
        assert_eq!(recovered.batches[1].idempotency_key(), "b".repeat(32));
    }

    #[test]
    fn a_truncated_segment_keeps_the_frames_before_the_cut() {
        let dir = tempfile::tempdir().unwrap();
        dead_run(dir.path());
        let path = segment::list(dir.path()).unwrap().remove(0);
        let bytes = std::fs::read(&path).unwrap();
        // Cut inside the seventh record's frame: six records are whole.
        let mut at = segment::HEADER;
        for _ in 0..6 {
            let codec::Read::Frame(_, len) = codec::read(&bytes[at..]) else {
                panic!("a frame")
            };
            at += len;
        }
        std::fs::write(&path, &bytes[..at + 5]).unwrap();
        let recovered = recover(dir.path(), 1_000, &resource()).unwrap();
        assert_eq!(recovered.torn, 1);
        // Those at or above the watermark (4), their markers cut off.
        let all: Vec<String> = recovered.batches.iter().flat_map(messages).collect();
        assert_eq!(all, ["record 4", "record 5"]);
        // Cut inside the header: not a segment.
        std::fs::write(&path, &bytes[..100]).unwrap();
        let recovered = recover(dir.path(), 1_000, &resource()).unwrap();
        assert_eq!((recovered.records, recovered.torn), (0, 1));
    }

    #[test]
    fn a_file_that_is_not_a_segment_is_counted_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0-0.journal"), b"not a journal").unwrap();
        let recovered = recover(dir.path(), 1_000, &resource()).unwrap();
        assert_eq!(
            (recovered.records, recovered.torn, recovered.files.len()),
            (0, 1, 1)
        );
    }

    #[test]
    fn a_directory_that_is_gone_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        assert!(recover(&dir.path().join("gone"), 1_000, &resource()).is_err());
    }
}
