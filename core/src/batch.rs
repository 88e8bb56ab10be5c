//! A batch of records, held as a JSON array of the records.

use std::fmt;

use crate::LogRecord;

const OPEN: &[u8] = b"[";
const CLOSE: &[u8] = b"]";

/// Records to deliver together, held as one JSON array of the records
/// (each a [`LogRecord`] as serde writes it, the record's own form, with
/// the client's fields stamped on).
///
/// The client's worker writes the array straight from its queue, so a
/// transport whose protocol carries these records as JSON wraps
/// [`json`](Batch::json) as it is (the hyper transport puts it in the
/// service's envelope): no record is built or serialized again on the way
/// out. [`raw_records`](Batch::raw_records) gives each record's JSON
/// text and [`records`](Batch::records) decodes them, for transports with
/// another encoding.
///
/// `idempotency_key` is stable for the life of the batch: every retry of the
/// same batch carries the same key, so a service that honours it stores the
/// batch once even when a response was lost.
///
/// ```
/// use timber_core::{Batch, Level, LogRecord};
/// let batch = Batch::new(&[LogRecord::new(Level::Warn, "disk"), LogRecord::new(Level::Info, "ok")]);
/// assert_eq!(
///     batch.json(),
///     br#"[{"level":"warn","message":"disk"},{"level":"info","message":"ok"}]"#
/// );
/// assert_eq!(batch.len(), 2);
/// assert_eq!(batch.records().unwrap()[1].message, "ok");
/// assert_eq!(batch.idempotency_key().len(), 32);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Batch {
    body: Vec<u8>,
    /// Where each record ends in `body`. The first starts right after
    /// `OPEN`, each next one a byte (the comma) after its predecessor's end.
    ends: Vec<usize>,
    idempotency_key: String,
}

impl Batch {
    /// A batch of these records, with a fresh random idempotency key.
    pub fn new(records: &[LogRecord]) -> Self {
        let mut writer = BatchWriter::new(records.len(), 160);
        for record in records {
            writer.push(|out| write_record(out, record));
        }
        writer.finish()
    }

    /// The records as one JSON array.
    pub fn json(&self) -> &[u8] {
        &self.body
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the batch has no record.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// A random key, the same on every attempt to send this batch.
    pub fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }

    /// Each record's JSON text, in order (for a transport that stores or
    /// forwards records one by one).
    pub fn raw_records(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| &self.body[self.start(i)..self.ends[i]])
    }

    /// The records, decoded.
    ///
    /// Cannot fail for a batch built by this crate (from records, or read
    /// back from the spool only after it was decoded whole); the `Result`
    /// is there because decoding is parsing.
    pub fn records(&self) -> Result<Vec<LogRecord>, serde_json::Error> {
        self.raw_records().map(serde_json::from_slice).collect()
    }

    fn start(&self, i: usize) -> usize {
        match i {
            0 => OPEN.len(),
            _ => self.ends[i - 1] + 1,
        }
    }

    /// Reads a batch of this crate's making back (from the spool), keeping
    /// its key. `Err` for anything that is not an array of records.
    pub(crate) fn from_json(json: &[u8], idempotency_key: String) -> Result<Batch, String> {
        let records: Vec<LogRecord> = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        Ok(Batch {
            idempotency_key,
            ..Batch::new(&records)
        })
    }

    /// Cuts the batch in two halves, at least two records. Each half's key
    /// is derived from this batch's key: cutting the same batch again (a
    /// spooled batch read back at the next start) gives the same halves the
    /// same keys, so a server that stored a half once ignores it the second
    /// time.
    pub(crate) fn split(self) -> (Batch, Batch) {
        let mid = self.len() / 2;
        (self.part(0..mid, "a"), self.part(mid..self.len(), "b"))
    }

    /// Cuts the batch into consecutive parts whose bodies hold at most
    /// `max_bytes` (a record larger than that is a part of its own); the
    /// batch itself when it fits.
    pub(crate) fn cut(self, max_bytes: usize) -> Vec<Batch> {
        if self.body.len() <= max_bytes {
            return vec![self];
        }
        let room = max_bytes.saturating_sub(OPEN.len() + CLOSE.len());
        let mut parts = Vec::new();
        let mut first = 0;
        while first < self.len() {
            let mut end = first + 1;
            while end < self.len() && self.ends[end] - self.start(first) <= room {
                end += 1;
            }
            parts.push(self.part(first..end, &parts.len().to_string()));
            first = end;
        }
        parts
    }

    /// The records of `range` as a new batch, keyed after this one.
    fn part(&self, range: std::ops::Range<usize>, tag: &str) -> Batch {
        let mut writer = BatchWriter::new(range.len(), 0);
        for i in range {
            writer.push(|out| out.extend_from_slice(&self.body[self.start(i)..self.ends[i]]));
        }
        Batch {
            idempotency_key: derived_key(&self.idempotency_key, tag),
            ..writer.finish()
        }
    }
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("records", &self.len())
            .field("idempotency_key", &self.idempotency_key)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

/// Writes a batch body record by record.
pub(crate) struct BatchWriter {
    body: Vec<u8>,
    ends: Vec<usize>,
}

impl BatchWriter {
    /// Room for `records` records of about `record_bytes` each.
    pub(crate) fn new(records: usize, record_bytes: usize) -> Self {
        let mut body = Vec::with_capacity(OPEN.len() + CLOSE.len() + records * (record_bytes + 1));
        body.extend_from_slice(OPEN);
        BatchWriter {
            body,
            ends: Vec::with_capacity(records),
        }
    }

    /// Appends one record, which `write` writes as one JSON object.
    pub(crate) fn push(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        if !self.ends.is_empty() {
            self.body.push(b',');
        }
        write(&mut self.body);
        self.ends.push(self.body.len());
    }

    pub(crate) fn finish(mut self) -> Batch {
        self.body.extend_from_slice(CLOSE);
        Batch {
            body: self.body,
            ends: self.ends,
            idempotency_key: new_key(),
        }
    }
}

/// A fresh idempotency key: 32 random letters and digits.
pub(crate) fn new_key() -> String {
    (0..32).map(|_| fastrand::alphanumeric()).collect()
}

/// A key of the same form, the same for the same `parent` and `tag` in
/// every process and version (FNV-1a seeding a fixed generator).
fn derived_key(parent: &str, tag: &str) -> String {
    let seed = parent
        .bytes()
        .chain([b'/'])
        .chain(tag.bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..32).map(|_| rng.alphanumeric()).collect()
}

/// Serializes a record; cannot fail (owned strings, numbers and maps with
/// string keys, into memory).
pub(crate) fn write_record(out: &mut Vec<u8>, record: &LogRecord) {
    let _ = serde_json::to_writer(out, record);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;

    fn records(n: usize) -> Vec<LogRecord> {
        (0..n)
            .map(|i| LogRecord::new(Level::Info, format!("m,{i}]\"")))
            .collect()
    }

    #[test]
    fn body_is_the_records_in_order() {
        for n in [0, 1, 2, 7] {
            let rs = records(n);
            let batch = Batch::new(&rs);
            assert_eq!(batch.json(), serde_json::to_vec(&rs).unwrap());
            assert_eq!(batch.records().unwrap(), rs);
            assert_eq!(batch.len(), n);
        }
    }

    #[test]
    fn halves_keep_every_record_once_in_order_with_new_keys() {
        for n in 2..9 {
            let rs = records(n);
            let batch = Batch::new(&rs);
            let key = batch.idempotency_key().to_owned();
            let (again, _) = batch.clone().split();
            let (a, b) = batch.split();
            assert_eq!(a.len(), n / 2);
            assert_ne!(a.idempotency_key(), key);
            assert_ne!(b.idempotency_key(), key);
            assert_ne!(a.idempotency_key(), b.idempotency_key());
            assert_eq!(
                a.idempotency_key(),
                again.idempotency_key(),
                "the same cut, the same key"
            );
            assert_eq!(a.idempotency_key().len(), 32);
            let mut back = a.records().unwrap();
            back.extend(b.records().unwrap());
            assert_eq!(back, rs);
            assert_eq!(a.json(), serde_json::to_vec(&rs[..n / 2]).unwrap());
        }
    }

    #[test]
    fn cut_parts_fit_the_bound_and_keep_every_record_in_order() {
        let rs = records(50);
        let batch = Batch::new(&rs);
        assert_eq!(batch.clone().cut(usize::MAX), std::slice::from_ref(&batch));
        for max in [0, 10, 40, 100, 333] {
            let parts = batch.clone().cut(max);
            let mut back = Vec::new();
            for part in &parts {
                assert!(part.json().len() <= max || part.len() == 1, "{max}");
                back.extend(part.records().unwrap());
            }
            assert_eq!(back, rs);
            let keys: std::collections::HashSet<_> = parts
                .iter()
                .map(|p| p.idempotency_key().to_owned())
                .collect();
            assert_eq!(keys.len(), parts.len());
        }
    }

    #[test]
    fn from_json_keeps_the_key_and_refuses_other_json() {
        let batch = Batch::new(&records(3));
        let back = Batch::from_json(batch.json(), batch.idempotency_key().into()).unwrap();
        assert_eq!(back, batch);
        assert!(Batch::from_json(b"[{}]", String::new()).is_err());
        assert!(Batch::from_json(b"[", String::new()).is_err());
    }
}
