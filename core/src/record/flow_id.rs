//! Local flow ids: `{name}-{8 random [a-z0-9]}`, as the seed fixes them,
//! and the trace ids derived from a flow id.

/// A local flow id: `{name}-{8 random [a-z0-9]}`.
pub(crate) fn local_id(name: &str) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut id = String::with_capacity(name.len() + 9);
    id.push_str(name);
    id.push('-');
    for _ in 0..8 {
        id.push(CHARS[fastrand::usize(..CHARS.len())] as char);
    }
    id
}

/// The trace id of a flow's records that belong to no other trace: the
/// 128-bit FNV-1a hash of the flow id (never all zeros), the same in every
/// process and version, so that a backend shows a flow's records as one
/// trace.
///
/// ```
/// use timber_core::record::flow_trace_id;
/// assert_eq!(flow_trace_id("checkout-a1b2c3d4"), flow_trace_id("checkout-a1b2c3d4"));
/// assert_ne!(flow_trace_id("checkout-a1b2c3d4"), flow_trace_id("checkout-a1b2c3d5"));
/// assert_ne!(flow_trace_id(""), [0; 16]);
/// ```
pub fn flow_trace_id(flow_id: &str) -> [u8; 16] {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let hash = flow_id
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u128::from(b)).wrapping_mul(PRIME));
    if hash == 0 {
        return [1; 16];
    }
    hash.to_be_bytes()
}

/// The span id a flow of no other trace gives as the parent in its
/// `traceparent`: the low half of its trace id's hash of the reversed id
/// (never all zeros), so that it too is the same everywhere.
pub(crate) fn flow_span_id(flow_id: &str) -> [u8; 8] {
    let reversed: String = flow_id.chars().rev().collect();
    let id = flow_trace_id(&reversed);
    let mut span = [0; 8];
    span.copy_from_slice(&id[8..]);
    if span == [0; 8] {
        span = [1; 8];
    }
    span
}
