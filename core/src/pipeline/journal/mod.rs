//! The spool's journal, written ahead: with a spool directory, every
//! record is copied into a memory-mapped segment ([`segment`]) before the
//! logging call returns, in a compact checksummed frame ([`codec`]), with
//! the worker's batch markers (each batch's records and idempotency key,
//! written before it is sent) and how far delivery got (the watermark:
//! every record below it is resolved).
//!
//! The page cache outlives the process, so `kill -9`, the OOM killer,
//! `abort()` and a segfault lose nothing: the next client on the directory
//! reads the segments of the run that died ([`recovery`]), keeps the
//! records at or above its watermark, forms them into the batches they
//! went out in (the same keys: the service deduplicates a batch it already
//! stored) or, never sent, into batches whose keys derive from the run and
//! the first record (the same on a second recovery), writes them as spool
//! files, which go first, and deletes the segments. A torn tail (a crash
//! mid-write) fails its checksum and is counted, never delivered half.

pub(crate) mod codec;
pub(crate) mod recovery;
pub(crate) mod segment;

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};

use codec::Write;
use segment::Segment;

use crate::record::record::Record;
use crate::transport::batch::Resource;

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
    /// A delivered segment kept to become the next spare (recycled, not
    /// deleted and created again: its blocks and pages are ready). Its
    /// records are below the run's watermark, so recovery skips them.
    reusable: Option<PathBuf>,
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
            reusable: None,
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
        if self.current.append(frame) {
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
            None => self.create_next()?,
        };
        self.next_index += 1;
        self.spare_failed = false;
        let full = std::mem::replace(&mut self.current, next);
        self.older.push_back((full.path.clone(), full.last_seq));
        if self.current.append(frame) {
            Ok(())
        } else {
            Err(io::Error::other("a frame larger than a segment"))
        }
    }

    /// Makes the next segment on the caller's side (no spare was ready),
    /// from the reusable one if it is kept. A file of that name is the worker's spare, made but not yet handed
    /// over: that index is left to it (its spare is deleted when it comes,
    /// not being the next one any more) and this takes the next.
    fn create_next(&mut self) -> io::Result<Segment> {
        let mut tries = 0;
        loop {
            match self.next_made_of_reusable().make() {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 2 => {
                    tries += 1;
                    self.next_index += 1;
                }
                made => return made,
            }
        }
    }

    /// What the next segment will be, when none is ready: for the worker to
    /// make outside the pipeline's lock (from the reusable segment, if one
    /// is kept) and hand back ([`Self::install`]).
    pub(crate) fn spare_needed(&mut self) -> Option<SpareSegment> {
        let room = self.older.len() + 1 < self.max_segments;
        if self.spare.is_some() || !room || self.spare_failed {
            return None;
        }
        Some(self.next_made_of_reusable())
    }

    /// The next segment, to be made from the reusable one if it is kept.
    fn next_made_of_reusable(&mut self) -> SpareSegment {
        SpareSegment {
            reuse: self.reusable.take(),
            ..self.next_spare()
        }
    }

    fn next_spare(&self) -> SpareSegment {
        SpareSegment {
            path: segment_path(&self.dir, self.run, self.next_index),
            size: self.segment_bytes,
            run: self.run,
            resource: self.resource.clone(),
            reuse: None,
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
    /// hold nothing else, for the caller to recycle or delete outside its
    /// lock.
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
        // One is kept for the next spare, within the bound of files.
        let files = self.older.len() + 1 + usize::from(self.spare.is_some());
        if self.reusable.is_none() && files < self.max_segments {
            self.reusable = done.pop();
        }
        done
    }

    /// The segment holding the record `seq` (if it is still kept): its file,
    /// and the sequence number after its last record (`u64::MAX` for the
    /// one being written).
    pub(crate) fn segment_holding(&self, seq: u64) -> Option<(PathBuf, u64)> {
        if seq < self.watermark {
            return None;
        }
        let older = self.older.iter().find(|(_, last)| *last >= seq);
        Some(match older {
            Some((path, last)) => (path.clone(), last + 1),
            None => (self.current.path.clone(), u64::MAX),
        })
    }

    /// Every segment of this run, for deleting once all is resolved.
    pub(crate) fn into_paths(self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self.older.into_iter().map(|(p, _)| p).collect();
        paths.push(self.current.path.clone());
        paths.extend(self.spare.map(|s| s.path));
        paths.extend(self.reusable);
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

/// A segment to make: its file, size and header, and the delivered
/// segment to make it from, if any.
pub(crate) struct SpareSegment {
    path: PathBuf,
    size: usize,
    run: u64,
    resource: Vec<u8>,
    reuse: Option<PathBuf>,
}

impl SpareSegment {
    /// The segment, recycled from a segment file whose records are all
    /// resolved when there is one, else created.
    pub(crate) fn make(self) -> io::Result<Segment> {
        if let Some(old) = &self.reuse {
            let recycled =
                Segment::recycle(old, self.path.clone(), self.size, self.run, &self.resource);
            match recycled {
                Ok(segment) => return Ok(segment),
                Err(_) => drop(std::fs::remove_file(old)),
            }
        }
        Segment::create(self.path, self.size, self.run, &self.resource, 0)
    }
}

fn segment_path(dir: &Path, run: u64, index: u32) -> PathBuf {
    dir.join(format!("{run:016x}-{index:06}.{}", segment::EXTENSION))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::level::Level;

    fn resource() -> Resource {
        let staging = crate::record::environment::Environment::Staging;
        Resource::new("journal-test", staging, None)
    }

    /// Appends big records (from `*seq` on) until `until` holds.
    fn fill(journal: &mut Journal, seq: &mut u64, until: impl Fn(&Journal) -> bool) {
        let big = Record::new(Level::Info, "x".repeat(100_000));
        while !until(journal) {
            journal.record(*seq, &big).unwrap();
            *seq += 1;
        }
    }

    /// A journal whose first segment is full of big records, and the next
    /// record's sequence number.
    fn with_one_full_segment(dir: &Path, max_bytes: u64) -> (Journal, u64) {
        let mut journal = Journal::start(dir, &resource(), max_bytes, 0).unwrap();
        let mut seq = 0;
        fill(&mut journal, &mut seq, |j| !j.older.is_empty());
        (journal, seq)
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
        assert!(done.is_empty(), "the full one is kept for the next spare");
        assert!(journal.reusable.is_some());
        journal.record(seq, &big).unwrap();
        assert_eq!(journal.into_paths().len(), 2);
    }

    #[test]
    fn a_delivered_segment_becomes_the_next_one_holding_no_old_frame() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, mut seq) = with_one_full_segment(dir.path(), 8 << 20);
        let first = journal.older[0].0.clone();
        assert!(journal.set_watermark(seq).is_empty(), "kept, not deleted");
        assert!(first.exists());
        let spare = journal.spare_needed().expect("room for a spare");
        assert_eq!(spare.reuse.as_ref(), Some(&first));
        let made = spare.make().unwrap();
        assert!(!first.exists(), "renamed, not copied");
        let next = made.path.clone();
        assert_eq!(
            next,
            segment_path(dir.path(), journal.run, journal.next_index)
        );
        assert!(segment::read(&next).unwrap().frames.is_empty());
        journal.install(Ok(made));
        // Filled, it is the current one: only the new records are in it.
        while journal.current.path != next {
            journal
                .record(seq, &Record::new(Level::Info, "new"))
                .unwrap();
            seq += 1;
        }
        journal
            .record(seq, &Record::new(Level::Info, "newest"))
            .unwrap();
        let messages: Vec<(u64, String)> = segment::read(&next)
            .unwrap()
            .frames
            .into_iter()
            .filter_map(|f| match f {
                codec::Frame::Record(s, r) => Some((s, r.message().to_owned())),
                codec::Frame::Batch { .. } => None,
            })
            .collect();
        assert_eq!(
            messages,
            [(seq - 1, "new".to_owned()), (seq, "newest".to_owned())],
            "the record that did not fit in the last one, then the next"
        );
    }

    #[test]
    fn a_crash_with_a_delivered_segment_kept_recovers_only_what_was_not_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, mut seq) = with_one_full_segment(dir.path(), 64 << 20);
        // Everything up to here delivered: the full segment is kept.
        assert!(journal.set_watermark(seq).is_empty());
        let kept = journal.reusable.clone().unwrap();
        for message in ["after-1", "after-2"] {
            journal
                .record(seq, &Record::new(Level::Info, message))
                .unwrap();
            seq += 1;
        }
        // The process dies here: nothing is cleaned up.
        drop(journal);
        assert!(kept.exists());
        let current = std::sync::Arc::new(resource());
        let recovered = recovery::recover(dir.path(), 100, &current).unwrap();
        let messages: Vec<&str> = recovered
            .batches
            .iter()
            .flat_map(|b| b.records())
            .map(|r| r.message())
            .collect();
        assert_eq!(messages, ["after-1", "after-2"]);
    }

    #[test]
    fn a_segment_that_cannot_be_recycled_is_deleted_and_a_new_one_made() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::start(dir.path(), &resource(), 8 << 20, 0).unwrap();
        let odd = dir.path().join("odd.journal");
        std::fs::write(&odd, b"too short").unwrap();
        let reusing = |old: PathBuf| SpareSegment {
            reuse: Some(old),
            ..journal.next_spare()
        };
        let made = reusing(odd.clone()).make().unwrap();
        assert!(!odd.exists());
        assert!(segment::read(&made.path).unwrap().frames.is_empty());
        let gone = dir.path().join("gone.journal");
        assert!(reusing(gone).make().is_err(), "its path exists now");
    }

    #[test]
    fn a_caller_and_the_worker_never_take_the_same_segment_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::start(dir.path(), &resource(), 64 << 20, 0).unwrap();
        let mut seq = 0;
        // The worker has made its spare, not handed it over yet, when a
        // caller fills the segment: the caller takes the next index.
        let spare = journal.spare_needed().unwrap().make().unwrap();
        let spare_path = spare.path.clone();
        fill(&mut journal, &mut seq, |j| !j.older.is_empty());
        assert_ne!(journal.current.path, spare_path);
        journal.install(Ok(spare));
        assert!(!spare_path.exists(), "the late spare is deleted");
        assert!(journal.spare.is_none());

        // A caller made the next segment first: the worker's recycled one,
        // made for the same name, fails and leaves the caller's in place.
        let mut taken = journal.spare_needed().unwrap();
        fill(&mut journal, &mut seq, |j| j.older.len() == 2);
        let current = journal.current.path.clone();
        assert_eq!(taken.path, current);
        journal.set_watermark(seq);
        taken.reuse = journal.reusable.take();
        assert!(taken.reuse.is_some());
        assert!(taken.make().is_err());
        journal
            .record(seq, &Record::new(Level::Info, "kept"))
            .unwrap();
        let kept = segment::read(&current).unwrap().frames;
        assert!(
            kept.iter()
                .any(|f| matches!(f, codec::Frame::Record(_, r) if r.message() == "kept")),
            "the current segment's file is still the one written"
        );
    }

    #[test]
    fn a_directory_that_is_gone_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        assert!(Journal::start(&gone, &resource(), 64 << 20, 1 << 20).is_err());
    }
}
