//! [`TraceContext`]: the trace and span a record belongs to, as W3C Trace
//! Context and OpenTelemetry define them, and its `traceparent` form.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

/// The trace a record belongs to: a trace id, the span it was logged in,
/// and the trace flags (bit 0: sampled), as W3C Trace Context defines
/// them. Neither id is all zeros.
///
/// Over OTLP these are the log record's own `trace_id`, `span_id` and
/// `flags`; over the Timberlogs protocol, the record's `data` keys
/// [`TRACE_ID_KEY`], [`SPAN_ID_KEY`] and [`TRACE_FLAGS_KEY`], in lowercase
/// hex. With the `opentelemetry` feature a record logged inside a span
/// that has an OpenTelemetry context carries it.
///
/// ```
/// use timber_core::TraceContext;
///
/// let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// let context: TraceContext = header.parse()?;
/// assert!(context.is_sampled());
/// assert_eq!(context.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(context.to_string(), header);
/// # Ok::<(), timber_core::TraceparentError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    flags: u8,
}

/// The `data` key of a record's trace id over the Timberlogs protocol.
pub const TRACE_ID_KEY: &str = "traceId";
/// The `data` key of a record's span id over the Timberlogs protocol.
pub const SPAN_ID_KEY: &str = "spanId";
/// The `data` key of a record's trace flags over the Timberlogs protocol.
pub const TRACE_FLAGS_KEY: &str = "traceFlags";

/// The flag of a sampled trace.
const SAMPLED: u8 = 1;

/// About what the three keys add to a record on the wire.
pub(crate) const WIRE_BYTES: usize = 100;

impl TraceContext {
    /// A context of these ids and flags; `None` when an id is all zeros
    /// (no trace, by both specifications).
    pub fn new(trace_id: [u8; 16], span_id: [u8; 8], flags: u8) -> Option<Self> {
        (trace_id != [0; 16] && span_id != [0; 8]).then_some(TraceContext {
            trace_id,
            span_id,
            flags,
        })
    }

    /// The trace id.
    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    /// The span id.
    pub fn span_id(&self) -> [u8; 8] {
        self.span_id
    }

    /// The trace flags.
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the trace is sampled (flag bit 0).
    pub fn is_sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// The trace id in lowercase hex (32 digits).
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The span id in lowercase hex (16 digits).
    pub fn span_id_hex(&self) -> String {
        hex(&self.span_id)
    }

    /// The flags in lowercase hex (2 digits).
    pub fn flags_hex(&self) -> String {
        hex(&[self.flags])
    }

    /// Its three `data` keys over the Timberlogs protocol, with their values.
    pub fn data_keys(&self) -> [(&'static str, String); 3] {
        [
            (TRACE_ID_KEY, self.trace_id_hex()),
            (SPAN_ID_KEY, self.span_id_hex()),
            (TRACE_FLAGS_KEY, self.flags_hex()),
        ]
    }

    /// Adds its [`data_keys`](Self::data_keys) to a wire record's `data` (a
    /// key already there is kept), as the Timberlogs protocol carries a trace.
    pub fn add_to(&self, data: &mut Map<String, Value>) {
        for (key, value) in self.data_keys() {
            data.entry(key).or_insert(Value::String(value));
        }
    }

    /// Reads the three `data` keys, in the form this crate writes them.
    pub(crate) fn from_hex(trace_id: &str, span_id: &str, flags: &str) -> Option<Self> {
        TraceContext::new(unhex(trace_id)?, unhex(span_id)?, unhex::<1>(flags)?[0])
    }

    /// The context of the code running now, from the OpenTelemetry API's
    /// current context (a `tracing` span entered under
    /// `tracing-opentelemetry` activates its own); `None` outside a span.
    #[cfg(feature = "opentelemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
    pub fn current() -> Option<Self> {
        use opentelemetry::trace::TraceContextExt;
        crate::rt::otel_context::read(|| {
            opentelemetry::Context::map_current(|cx| {
                let span = cx.span();
                let context = span.span_context();
                TraceContext::new(
                    context.trace_id().to_bytes(),
                    context.span_id().to_bytes(),
                    context.trace_flags().to_u8(),
                )
            })
        })
    }

    /// Without the `opentelemetry` feature there is no current context.
    #[cfg(not(feature = "opentelemetry"))]
    #[inline]
    pub(crate) fn current() -> Option<Self> {
        None
    }
}

/// A record's data in its wire form: with the trace's keys added (a data
/// key of the same name is kept as it is).
pub(crate) fn with_trace(
    data: Option<Map<String, Value>>,
    trace: Option<TraceContext>,
) -> Option<Map<String, Value>> {
    let Some(trace) = trace else { return data };
    let mut data = data.unwrap_or_default();
    trace.add_to(&mut data);
    Some(data)
}

/// The trace a wire record's data carries, its keys taken out (no data
/// is left if they were all it held).
pub(crate) fn take_trace(data: &mut Option<Map<String, Value>>) -> Option<TraceContext> {
    let map = data.as_mut()?;
    let text = |key| map.get(key).and_then(Value::as_str);
    let trace = TraceContext::from_hex(
        text(TRACE_ID_KEY)?,
        text(SPAN_ID_KEY)?,
        text(TRACE_FLAGS_KEY)?,
    )?;
    for key in [TRACE_ID_KEY, SPAN_ID_KEY, TRACE_FLAGS_KEY] {
        map.remove(key);
    }
    if map.is_empty() {
        *data = None;
    }
    Some(trace)
}

/// Why a `traceparent` header was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceparentError(&'static str);

impl fmt::Display for TraceparentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid traceparent: {}", self.0)
    }
}

impl std::error::Error for TraceparentError {}

/// Reads a W3C `traceparent` header: `version-traceid-spanid-flags` in
/// lowercase hex. Version `00` has exactly these four fields; a later
/// version may have more after them (read as version `00`, as the
/// specification asks); version `ff` and all-zero ids are invalid.
impl FromStr for TraceContext {
    type Err = TraceparentError;

    fn from_str(header: &str) -> Result<Self, Self::Err> {
        let header = header.trim();
        let mut fields = header.split('-');
        let version = fields.next().unwrap_or_default();
        let (trace_id, span_id, flags) = (fields.next(), fields.next(), fields.next());
        let lower = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if version.len() != 2 || !lower(version) || version == "ff" {
            return Err(TraceparentError(
                "the version is not two hex digits below ff",
            ));
        }
        let rest = fields.next();
        if version == "00" && rest.is_some() || version != "00" && rest.is_some_and(str::is_empty) {
            return Err(TraceparentError("version 00 has four fields"));
        }
        let (Some(trace_id), Some(span_id), Some(flags)) = (trace_id, span_id, flags) else {
            return Err(TraceparentError("version 00 has four fields"));
        };
        let (Some(trace_id), Some(span_id), Some([flags])) =
            (unhex(trace_id), unhex(span_id), unhex::<1>(flags))
        else {
            return Err(TraceparentError(
                "expected 32, 16 and 2 lowercase hex digits",
            ));
        };
        TraceContext::new(trace_id, span_id, flags).ok_or(TraceparentError("an id is all zeros"))
    }
}

/// The `traceparent` header of this context (version `00`).
impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{}",
            self.trace_id_hex(),
            self.span_id_hex(),
            self.flags_hex()
        )
    }
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceContext({self})")
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.as_bytes();
    if text.len() != 2 * N {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut out = [0; N];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_traceparent_reads_and_renders_back() {
        let context: TraceContext = HEADER.parse().unwrap();
        assert_eq!(context.span_id_hex(), "00f067aa0ba902b7");
        assert_eq!((context.flags(), context.is_sampled()), (1, true));
        assert_eq!(context.to_string(), HEADER);
        let later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future";
        assert!(!later.parse::<TraceContext>().unwrap().is_sampled());
    }

    #[test]
    fn invalid_traceparents_are_refused() {
        for header in [
            "",
            "00",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba9g2b7-01",
        ] {
            assert!(header.parse::<TraceContext>().is_err(), "{header:?}");
        }
    }

    #[test]
    fn the_wire_keys_go_into_data_and_come_back_out() {
        let trace: TraceContext = HEADER.parse().unwrap();
        let data = with_trace(None, Some(trace));
        let mut back = data.clone();
        assert_eq!(take_trace(&mut back), Some(trace));
        assert_eq!(back, None, "only the trace's keys: no data left");

        let mut theirs = Map::new();
        theirs.insert(TRACE_ID_KEY.into(), Value::from("mine"));
        theirs.insert("k".into(), Value::from(1));
        let mut data = with_trace(Some(theirs.clone()), Some(trace));
        assert_eq!(
            data.as_ref().unwrap()[TRACE_ID_KEY],
            "mine",
            "a data key is kept"
        );
        assert_eq!(take_trace(&mut data), None, "not a trace: all stays data");
        assert_eq!(
            data.unwrap().len(),
            4,
            "its key, then spanId and traceFlags"
        );
        assert_eq!(with_trace(Some(theirs.clone()), None), Some(theirs));
    }

    #[test]
    fn zero_ids_are_no_context() {
        assert!(TraceContext::new([0; 16], [1; 8], 1).is_none());
        assert!(TraceContext::new([1; 16], [0; 8], 1).is_none());
        let context = TraceContext::new([1; 16], [2; 8], 0).unwrap();
        assert_eq!((context.trace_id(), context.span_id()), ([1; 16], [2; 8]));
    }
}
