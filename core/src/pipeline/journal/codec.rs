//! The journal's frames: a record or a batch marker, each checksummed, in a
//! compact binary form written straight into the mapped segment (no
//! intermediate buffer, no JSON on the caller).
//!
//! ```text
//! frame:   len u32 | crc32 u32 | kind u8 | seq u64 | payload     (little endian)
//!          len counts kind, seq and payload; the CRC covers them
//! record:  level u8 | step u32 (MAX: none) | timestamp i64
//!          | present u16 (bit i: the record has text i) | those texts
//!          | tag count u32 | tags (texts)
//!          [trace id 16 | span id 8 | flags u8: the kind of a traced record]
//! marker:  count u32 | key text             (a batch of seq..seq+count)
//! text:    len u32 | UTF-8 bytes
//!
//! A plain record (a message, nothing else) takes 40 bytes and its message.
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

/// The texts a record's frame can hold, in frame order, each with its bit
/// of `present`: the message (bit 0, always there), then the flow id, user
/// id, session id, dataset, data, request id, error name, error stack, IP
/// address and country (bits 1 to 10).
const TEXTS: usize = 11;

/// Where a frame is being written: bounded by the room there is.
struct Out<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.at.checked_add(bytes.len())?;
        self.buf.get_mut(self.at..end)?.copy_from_slice(bytes);
        self.at = end;
        Some(())
    }
    fn text(&mut self, t: &str) -> Option<()> {
        self.put(&u32::try_from(t.len()).ok()?.to_le_bytes())?;
        self.put(t.as_bytes())
    }
    /// Text `bit` of a record, if it has it (noted in `present`).
    fn optional(&mut self, present: &mut u16, bit: u16, t: Option<&str>) -> Option<()> {
        if let Some(t) = t {
            *present |= 1 << bit;
            self.text(t)?;
        }
        Some(())
    }
}

/// A frame to write, borrowing what it holds.
#[derive(Clone, Copy)]
pub(crate) enum Write<'a> {
    Record(u64, &'a Record),
    Batch { seq: u64, count: u32, key: &'a str },
}

/// Writes `frame` at the start of `buf`, in one pass, if it fits there
/// with room left after it for the zero word that ends the frames; returns
/// its size. Where it does not fit, the frame's length word (written last)
/// is left zero: what was written after it is never read.
pub(crate) fn write(buf: &mut [u8], frame: Write<'_>) -> Option<usize> {
    let room = buf.len().checked_sub(PREFIX)?;
    let mut out = Out {
        buf: &mut buf[..room],
        at: PREFIX,
    };
    match frame {
        Write::Record(seq, r) => {
            let trace = r.trace_context();
            let kind = if trace.is_some() {
                TRACED_RECORD
            } else {
                RECORD
            };
            out.put(&[kind])?;
            out.put(&seq.to_le_bytes())?;
            out.put(&[level_code(r.level())])?;
            out.put(&r.step_index().unwrap_or(NONE).to_le_bytes())?;
            out.put(&r.timestamp().to_le_bytes())?;
            let present_at = out.at;
            out.put(&[0, 0])?;
            let mut present = 1;
            out.text(r.message())?;
            out.optional(&mut present, 1, r.flow_id())?;
            out.optional(&mut present, 2, r.user_id())?;
            out.optional(&mut present, 3, r.session_id())?;
            out.optional(&mut present, 4, r.dataset())?;
            out.optional(&mut present, 5, r.data().map(Data::as_str))?;
            if r.has_details() {
                out.optional(&mut present, 6, r.request_id())?;
                out.optional(&mut present, 7, r.error_name())?;
                out.optional(&mut present, 8, r.error_stack())?;
                out.optional(&mut present, 9, r.ip_address())?;
                out.optional(&mut present, 10, r.country())?;
            }
            out.buf[present_at..present_at + 2].copy_from_slice(&u16::to_le_bytes(present));
            out.put(&u32::try_from(r.tags().len()).ok()?.to_le_bytes())?;
            for tag in r.tags() {
                out.text(tag)?;
            }
            if let Some(trace) = trace {
                out.put(&trace.trace_id())?;
                out.put(&trace.span_id())?;
                out.put(&[trace.flags()])?;
            }
        }
        Write::Batch { seq, count, key } => {
            out.put(&[BATCH])?;
            out.put(&seq.to_le_bytes())?;
            out.put(&count.to_le_bytes())?;
            out.text(key)?;
        }
    }
    let size = out.at;
    let body = &buf[PREFIX..size];
    let crc = crc32fast::hash(body);
    let len = u32::try_from(body.len()).ok()?;
    buf[..4].copy_from_slice(&len.to_le_bytes());
    buf[4..8].copy_from_slice(&crc.to_le_bytes());
    Some(size)
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
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn text(&mut self) -> Option<&'a str> {
        let len = self.u32()?;
        std::str::from_utf8(self.take(len as usize)?).ok()
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
            let mut t = [None; TEXTS];
            let present = input.u16()?;
            if present & 1 == 0 || present >> TEXTS != 0 {
                return None;
            }
            for (i, slot) in t.iter_mut().enumerate() {
                if present & 1 << i != 0 {
                    *slot = Some(input.text()?);
                }
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
                r.tags_mut().push(input.text()?.to_owned());
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
            let key = input.text()?.to_owned();
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

    fn frame_of(frame: &Frame) -> Write<'_> {
        match frame {
            Frame::Record(seq, r) => Write::Record(*seq, r),
            Frame::Batch { seq, count, key } => Write::Batch {
                seq: *seq,
                count: *count,
                key,
            },
        }
    }

    fn frame_bytes(frame: &Frame) -> Vec<u8> {
        let mut buf = vec![0; 1 << 16];
        let size = write(&mut buf, frame_of(frame)).unwrap();
        buf.truncate(size);
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
        fn a_frame_without_room_is_not_written_and_reads_as_the_end(r in record(), room in 0usize..400) {
            let frame = Frame::Record(3, r);
            let size = frame_bytes(&frame).len();
            let mut buf = vec![0; room];
            match write(&mut buf, frame_of(&frame)) {
                Some(n) => {
                    prop_assert_eq!(n, size);
                    prop_assert!(n + PREFIX <= room, "room for the zero word after it");
                    prop_assert_eq!(read(&buf), Read::Frame(frame, n));
                }
                None => {
                    prop_assert!(size + PREFIX > room);
                    prop_assert_eq!(read(&buf), Read::End);
                }
            }
        }

        #[test]
        fn any_bytes_read_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = read(&bytes);
        }
    }
}
