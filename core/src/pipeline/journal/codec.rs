//! The journal's frames: a record or a batch marker, each checksummed, in a
//! compact binary form written straight into the mapped segment (no
//! intermediate buffer, no JSON on the caller).
//!
//! ```text
//! frame:   len u32 | crc32 u32 | kind u8 | seq u64 | payload     (little endian)
//!          len counts kind, seq and payload; the CRC covers them
//! record:  level u8 | step u32 (MAX: none) | timestamp i64 | 11 texts | tags
//!          [trace id 16 | span id 8 | flags u8: the kind of a traced record]
//! marker:  count u32 | key text             (a batch of seq..seq+count)
//! text:    len u32 (MAX: none) | UTF-8 bytes
//! ```

use crate::record::data::Data;
use crate::record::level::Level;
use crate::record::record::Record;
use crate::record::trace_context::TraceContext;

/// Bytes before a frame's body: its length and its CRC.
pub(crate) const PREFIX: usize = 8;
const NONE: u32 = u32::MAX;

/// What a frame holds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Frame {
    Record(u64, Record),
    /// Records `seq..seq + count` went out as one batch with this key.
    Batch {
        seq: u64,
        count: u32,
        key: String,
    },
}

const RECORD: u8 = 1;
const BATCH: u8 = 2;
/// A record with its trace context after its tags.
const TRACED_RECORD: u8 = 3;
const TRACE_BYTES: usize = 16 + 8 + 1;

/// The texts of a record, in frame order.
pub(crate) type Texts<'a> = [Option<&'a str>; 11];

fn texts(r: &Record) -> Texts<'_> {
    [
        Some(r.message()),
        r.flow_id(),
        r.user_id(),
        r.session_id(),
        r.dataset(),
        r.data().map(Data::as_str),
        r.request_id(),
        r.error_name(),
        r.error_stack(),
        r.ip_address(),
        r.country(),
    ]
}

fn text_len(t: Option<&str>) -> usize {
    4 + t.map_or(0, str::len)
}

/// The whole frame's size for a record.
fn record_size(r: &Record, texts: &Texts<'_>) -> usize {
    let texts: usize = texts.iter().copied().map(text_len).sum();
    let tags: usize = 4 + r.tags().iter().map(|t| 4 + t.len()).sum::<usize>();
    let trace = r.trace_context().map_or(0, |_| TRACE_BYTES);
    PREFIX + 1 + 8 + 1 + 4 + 8 + texts + tags + trace
}

/// The whole frame's size for a batch marker.
fn batch_size(key: &str) -> usize {
    PREFIX + 1 + 8 + 4 + 4 + key.len()
}

struct Out<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }
    fn text(&mut self, t: Option<&str>) {
        match t {
            Some(t) => {
                self.put(&(t.len() as u32).to_le_bytes());
                self.put(t.as_bytes());
            }
            None => self.put(&NONE.to_le_bytes()),
        }
    }
}

/// A frame to write, borrowing what it holds (a record's texts looked up
/// once, for its size and its writing).
#[derive(Clone, Copy)]
pub(crate) enum Write<'a> {
    Record(u64, &'a Record, Texts<'a>),
    Batch { seq: u64, count: u32, key: &'a str },
}

impl<'a> Write<'a> {
    /// The frame of record `r`, the `seq`th of the queue.
    pub(crate) fn record(seq: u64, r: &'a Record) -> Write<'a> {
        Write::Record(seq, r, texts(r))
    }

    /// The whole frame's size.
    pub(crate) fn size(&self) -> usize {
        match self {
            Write::Record(_, r, texts) => record_size(r, texts),
            Write::Batch { key, .. } => batch_size(key),
        }
    }
}

/// Writes `frame` into `buf`, which is exactly its size.
pub(crate) fn write(buf: &mut [u8], frame: Write<'_>) {
    let mut out = Out { buf, at: PREFIX };
    match frame {
        Write::Record(seq, r, texts) => {
            let trace = r.trace_context();
            out.put(&[if trace.is_some() {
                TRACED_RECORD
            } else {
                RECORD
            }]);
            out.put(&seq.to_le_bytes());
            out.put(&[level_code(r.level())]);
            out.put(&r.step_index().unwrap_or(NONE).to_le_bytes());
            out.put(&r.timestamp().to_le_bytes());
            for t in texts {
                out.text(t);
            }
            out.put(&(r.tags().len() as u32).to_le_bytes());
            for tag in r.tags() {
                out.text(Some(tag));
            }
            if let Some(trace) = trace {
                out.put(&trace.trace_id());
                out.put(&trace.span_id());
                out.put(&[trace.flags()]);
            }
        }
        Write::Batch { seq, count, key } => {
            out.put(&[BATCH]);
            out.put(&seq.to_le_bytes());
            out.put(&count.to_le_bytes());
            out.text(Some(key));
        }
    }
    let body = &out.buf[PREFIX..out.at];
    let crc = crc32fast::hash(body);
    let len = body.len() as u32;
    out.buf[..4].copy_from_slice(&len.to_le_bytes());
    out.buf[4..8].copy_from_slice(&crc.to_le_bytes());
}

/// What reading at a position found.
#[derive(Debug, PartialEq)]
// Read once per frame at recovery, moved straight out: not worth a box.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Read {
    /// A frame, and the bytes it took.
    Frame(Frame, usize),
    /// Zeros: nothing was written here yet.
    End,
    /// A frame cut short or damaged (a crash mid-write): nothing after it
    /// can be trusted.
    Torn,
}

/// Reads the frame at the start of `buf`.
pub(crate) fn read(buf: &[u8]) -> Read {
    let word = |at: usize| {
        buf.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(len), Some(crc)) = (word(0), word(4)) else {
        // Too short for a prefix: the end, or a prefix cut short.
        let zeros = buf.iter().all(|b| *b == 0);
        return if zeros { Read::End } else { Read::Torn };
    };
    if len == 0 && crc == 0 {
        return Read::End;
    }
    let Some(body) = buf.get(PREFIX..PREFIX + len as usize) else {
        return Read::Torn;
    };
    if crc32fast::hash(body) != crc {
        return Read::Torn;
    }
    match parse(body) {
        Some(frame) => Read::Frame(frame, PREFIX + len as usize),
        None => Read::Torn,
    }
}

struct In<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.buf.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(bytes)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    /// `Some(None)` for an absent text, `None` for a damaged one.
    fn text(&mut self) -> Option<Option<&'a str>> {
        match self.u32()? {
            NONE => Some(None),
            len => Some(Some(std::str::from_utf8(self.take(len as usize)?).ok()?)),
        }
    }
}

fn parse(body: &[u8]) -> Option<Frame> {
    let mut input = In { buf: body, at: 0 };
    let kind = input.u8()?;
    let seq = input.u64()?;
    let frame = match kind {
        RECORD | TRACED_RECORD => {
            let level = level_of(input.u8()?)?;
            let step = Some(input.u32()?).filter(|s| *s != NONE);
            let timestamp = i64::from_le_bytes(input.take(8)?.try_into().ok()?);
            let mut t = [None; 11];
            for slot in &mut t {
                *slot = input.text()?;
            }
            let mut r = Record::new(level, t[0]?);
            r.set_timestamp(timestamp)
                .set_flow(t[1], step)
                .set_user_id(t[2])
                .set_session_id(t[3])
                .set_dataset(t[4]);
            set_details(&mut r, [t[6], t[7], t[8], t[9], t[10]]);
            if let Some(json) = t[5] {
                // Written from a record's rendered, redacted data.
                r.set_data(Some(Data::from_buffer(json.as_bytes().to_vec(), true)));
            }
            let tags = input.u32()?;
            for _ in 0..tags {
                r.tags_mut().push(input.text()??.to_owned());
            }
            if kind == TRACED_RECORD {
                let trace_id = input.take(16)?.try_into().ok()?;
                let span_id = input.take(8)?.try_into().ok()?;
                r.set_trace_context(Some(TraceContext::new(trace_id, span_id, input.u8()?)?));
            }
            Frame::Record(seq, r)
        }
        BATCH => {
            let count = input.u32()?;
            let key = input.text()??.to_owned();
            Frame::Batch { seq, count, key }
        }
        _ => return None,
    };
    (input.at == body.len()).then_some(frame)
}

/// Sets the fields most records lack (request id, error name and stack,
/// IP address, country) only where present: a record without any keeps
/// none (and stays small).
fn set_details(r: &mut Record, [request, name, stack, ip, country]: [Option<&str>; 5]) {
    if request.is_some() {
        r.set_request_id(request);
    }
    if name.is_some() || stack.is_some() {
        r.set_error(name, stack);
    }
    if ip.is_some() {
        r.set_ip_address(ip);
    }
    if country.is_some() {
        r.set_country(country);
    }
}

fn level_code(level: Level) -> u8 {
    match level {
        Level::Debug => 0,
        Level::Info => 1,
        Level::Warn => 2,
        Level::Error => 3,
    }
}

fn level_of(code: u8) -> Option<Level> {
    Some(match code {
        0 => Level::Debug,
        1 => Level::Info,
        2 => Level::Warn,
        3 => Level::Error,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame_bytes(frame: &Frame) -> Vec<u8> {
        let frame = match frame {
            Frame::Record(seq, r) => Write::record(*seq, r),
            Frame::Batch { seq, count, key } => Write::Batch {
                seq: *seq,
                count: *count,
                key,
            },
        };
        let mut buf = vec![0; frame.size()];
        write(&mut buf, frame);
        buf
    }

    fn text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(".{0,40}")
    }

    fn record() -> impl Strategy<Value = Record> {
        (
            0u8..4,
            any::<i64>(),
            ".{0,60}",
            (text(), text(), text(), text(), text()),
            (text(), text(), text()),
            proptest::option::of(0u32..1000),
            proptest::collection::vec("[a-z]{1,8}", 0..4),
            (
                any::<bool>(),
                proptest::option::of(any::<([u8; 16], [u8; 8], u8)>()),
            ),
        )
            .prop_map(|(level, ts, message, a, b, step, tags, (data, trace))| {
                let mut r = Record::new(level_of(level).unwrap(), message);
                r.set_timestamp(ts)
                    .set_flow(a.0.as_deref(), step)
                    .set_user_id(a.1.as_deref())
                    .set_session_id(a.2.as_deref())
                    .set_dataset(a.3.as_deref());
                set_details(
                    &mut r,
                    [
                        a.4.as_deref(),
                        b.0.as_deref(),
                        b.1.as_deref(),
                        b.2.as_deref(),
                        None,
                    ],
                );
                if data {
                    r.set_data(Some(Data::from_buffer(
                        br#"{"k":[1,"\u00e9"]}"#.to_vec(),
                        true,
                    )));
                }
                *r.tags_mut() = tags;
                r.set_trace_context(trace.and_then(|(t, s, f)| TraceContext::new(t, s, f)));
                r
            })
    }

    proptest! {
        #[test]
        fn records_and_markers_read_back_as_written(r in record(), seq in any::<u64>(), key in "[a-z0-9]{32}") {
            for frame in [Frame::Record(seq, r.clone()), Frame::Batch { seq, count: 7, key: key.clone() }] {
                let mut bytes = frame_bytes(&frame);
                let n = bytes.len();
                bytes.extend_from_slice(&[0; 16]);
                prop_assert_eq!(read(&bytes), Read::Frame(frame, n));
                prop_assert_eq!(read(&bytes[n..]), Read::End);
            }
        }

        #[test]
        fn a_cut_or_damaged_frame_is_torn_never_a_panic_nor_a_wrong_record(
            r in record(), cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), bit in 0u8..8,
        ) {
            let bytes = frame_bytes(&Frame::Record(1, r));
            let cut = cut.index(bytes.len());
            prop_assert!(matches!(read(&bytes[..cut]), Read::Torn | Read::End));
            let mut damaged = bytes.clone();
            damaged[flip.index(bytes.len())] ^= 1 << bit;
            prop_assert!(matches!(read(&damaged), Read::Torn | Read::End));
        }

        #[test]
        fn any_bytes_read_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = read(&bytes);
        }
    }
}
