//! The spool's journal, written ahead: with a spool directory, every
//! record is copied into a memory-mapped segment ([`segment`]) before the
//! logging call returns, in a compact checksummed frame ([`codec`]), with
//! the worker's batch markers (each batch's records and idempotency key,
//! written before it is sent) and how far delivery got (the watermark:
//! every record below it is resolved).
//!
//! The page cache outlives the process, so `kill -9`, the OOM killer,
//! `abort()` and a segfault lose nothing: the next client on the directory
//! reads the segments of the run that died ([`recover`]), keeps the
//! records at or above its watermark, forms them into the batches they
//! went out in (the same keys: the service deduplicates a batch it already
//! stored) or, never sent, into batches whose keys derive from the run and
//! the first record (the same on a second recovery), writes them as spool
//! files, which go first, and deletes the segments. A torn tail (a crash
//! mid-write) fails its checksum and is counted, never delivered half.

pub(crate) mod codec;
pub(crate) mod segment;

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use codec::{Frame, Write};
use segment::Segment;

use crate::record::environment::Environment;
use crate::record::record::Record;
use crate::transport::batch::{Batch, Resource};

/// The usual size of a segment.
const SEGMENT_BYTES: usize = 4 << 20;
/// The smallest: a header and room for a few records.
const MIN_SEGMENT_BYTES: usize = segment::HEADER + (4 << 10);

/// The journal this process writes.
pub(crate) struct Journal {
    dir: PathBuf,
    run: u64,
    resource: Vec<u8>,
    segment_bytes: usize,
    max_segments: usize,
    current: Segment,
    /// The next segment, made ready by the worker so that a caller who
    /// fills the current one does not create a file.
    spare: Option<Segment>,
    spare_failed: bool,
    /// Full segments, oldest first, with the last record each holds.
    older: VecDeque<(PathBuf, u64)>,
    next_index: u32,
    watermark: u64,
}

impl Journal {
    /// Starts a journal for this run in `dir` (whose lock the caller holds),
    /// at most `max_bytes` of segments, each able to hold a record of
    /// `max_record` bytes.
    pub(crate) fn start(
        dir: &Path,
        resource: &Resource,
        max_bytes: u64,
        max_record: usize,
    ) -> io::Result<Journal> {
        // Two segments at least, within the spool's bound: a record that
        // fits in none gives the journal up (reported), not the record.
        let half = usize::try_from(max_bytes / 2).unwrap_or(usize::MAX);
        let segment_bytes = SEGMENT_BYTES
            .max(segment::HEADER + 2 * max_record + 64)
            .min(half);
        if segment_bytes < MIN_SEGMENT_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("spool_max_bytes ({max_bytes}) leaves no room for a journal (at least {} bytes)", 2 * MIN_SEGMENT_BYTES),
            ));
        }
        let max_segments = (max_bytes / segment_bytes as u64).max(2) as usize;
        // Runs sort by when they started (their segments' names begin
        // with it), and two started in the same millisecond still differ.
        let started = crate::rt::wall_clock::now_millis().max(0) as u64;
        let run = (started << 20) | fastrand::u64(1..1 << 20);
        let resource = format!(
            "{}\n{}\n{}",
            resource.source,
            resource.environment.as_str(),
            resource.version.as_deref().unwrap_or("")
        )
        .into_bytes();
        let path = segment_path(dir, run, 0);
        let current = Segment::create(path, segment_bytes, run, &resource, 0)?;
        Ok(Journal {
            dir: dir.to_owned(),
            run,
            resource,
            segment_bytes,
            max_segments,
            current,
            spare: None,
            spare_failed: false,
            older: VecDeque::new(),
            next_index: 1,
            watermark: 0,
        })
    }

    /// Appends a record (`seq` its place in the queue).
    pub(crate) fn record(&mut self, seq: u64, record: &Record) -> io::Result<()> {
        self.append(Write::Record(seq, record))
    }

    /// Appends a batch marker: records `seq..seq + count` go out with `key`.
    pub(crate) fn batch(&mut self, seq: u64, count: usize, key: &str) -> io::Result<()> {
        self.append(Write::Batch {
            seq,
            count: count as u32,
            key,
        })
    }

    fn append(&mut self, frame: Write<'_>) -> io::Result<()> {
        let size = frame.size();
        if self.current.append(frame, size) {
            return Ok(());
        }
        if self.older.len() + 1 >= self.max_segments {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                format!(
                    "the journal holds {} bytes of records not yet delivered, its bound",
                    self.max_segments * self.segment_bytes
                ),
            ));
        }
        let next = match self.spare.take() {
            Some(mut spare) => {
                spare.set_watermark(self.watermark);
                spare
            }
            None => self.next_spare().create()?,
        };
        self.next_index += 1;
        self.spare_failed = false;
        let full = std::mem::replace(&mut self.current, next);
        self.older.push_back((full.path.clone(), full.last_seq));
        if self.current.append(frame, size) {
            Ok(())
        } else {
            Err(io::Error::other("a frame larger than a segment"))
        }
    }

    /// What the next segment will be, when none is ready: for the worker to
    /// create outside the pipeline's lock and hand back ([`Self::install`]).
    pub(crate) fn spare_needed(&self) -> Option<SpareSegment> {
        let room = self.older.len() + 1 < self.max_segments;
        (self.spare.is_none() && room && !self.spare_failed).then(|| self.next_spare())
    }

    fn next_spare(&self) -> SpareSegment {
        SpareSegment {
            path: segment_path(&self.dir, self.run, self.next_index),
            size: self.segment_bytes,
            run: self.run,
            resource: self.resource.clone(),
        }
    }

    /// Takes the spare segment the worker created (if it is still the
    /// next one); after a failure, none is asked for until the next
    /// rotation (which then reports the failure if it persists).
    pub(crate) fn install(&mut self, spare: io::Result<Segment>) {
        let Ok(spare) = spare else {
            self.spare_failed = true;
            return;
        };
        if self.spare.is_none() && spare.path == segment_path(&self.dir, self.run, self.next_index)
        {
            self.spare = Some(spare);
        } else {
            let _ = std::fs::remove_file(&spare.path);
        }
    }

    /// Everything below `watermark` is resolved; returns the segments that
    /// hold nothing else, for the caller to delete outside its lock.
    pub(crate) fn set_watermark(&mut self, watermark: u64) -> Vec<PathBuf> {
        if watermark <= self.watermark {
            return Vec::new();
        }
        self.watermark = watermark;
        self.current.set_watermark(watermark);
        let mut done = Vec::new();
        while self
            .older
            .front()
            .is_some_and(|(_, last)| *last < watermark)
        {
            done.extend(self.older.pop_front().map(|(path, _)| path));
        }
        done
    }

    /// Every segment of this run, for deleting once all is resolved.
    pub(crate) fn into_paths(self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self.older.into_iter().map(|(p, _)| p).collect();
        paths.push(self.current.path.clone());
        paths.extend(self.spare.map(|s| s.path));
        paths
    }

    /// Stops journaling (it could not take a frame): its segments go, or a
    /// later start would send again what this client still delivers from
    /// memory.
    pub(crate) fn give_up(self) {
        for path in self.into_paths() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A segment to create: its file, size and header.
pub(crate) struct SpareSegment {
    path: PathBuf,
    size: usize,
    run: u64,
    resource: Vec<u8>,
}

impl SpareSegment {
    pub(crate) fn create(self) -> io::Result<Segment> {
        Segment::create(self.path, self.size, self.run, &self.resource, 0)
    }
}

fn segment_path(dir: &Path, run: u64, index: u32) -> PathBuf {
    dir.join(format!("{run:016x}-{index:06}.{}", segment::EXTENSION))
}

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
    fn full_segments_go_once_the_watermark_passes_them_and_the_bound_holds() {
        let dir = tempfile::tempdir().unwrap();
        // Two segments at most.
        let mut journal = Journal::start(dir.path(), &resource(), 8 << 20, 0).unwrap();
        let big = Record::new(Level::Info, "x".repeat(100_000));
        let mut seq = 0;
        let failed = loop {
            if let Err(e) = journal.record(seq, &big) {
                break e;
            }
            seq += 1;
        };
        assert_eq!(failed.kind(), io::ErrorKind::StorageFull);
        assert_eq!(segment::list(dir.path()).unwrap().len(), 2);
        let done = journal.set_watermark(seq);
        assert_eq!(done.len(), 1, "the full one; the current one stays");
        for path in done {
            std::fs::remove_file(path).unwrap();
        }
        journal.record(seq, &big).unwrap();
        assert_eq!(journal.into_paths().len(), 2);
    }

    #[test]
    fn a_directory_that_is_gone_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        assert!(Journal::start(&gone, &resource(), 64 << 20, 1 << 20).is_err());
        assert!(recover(&gone, 1_000, &resource()).is_err());
    }
}
