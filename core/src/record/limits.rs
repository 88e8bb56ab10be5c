//! Limits from the protocol (lengths in characters), and the text the SDK
//! writes itself cut to them.

/// Longest message.
pub const MESSAGE: usize = 10_000;
/// Longest source.
pub const SOURCE: usize = 100;
/// Longest error name.
pub const ERROR_NAME: usize = 200;
/// Longest error stack.
pub const ERROR_STACK: usize = 10_000;
/// Longest user, session or request id.
pub const ID: usize = 100;
/// Longest flow id or dataset.
pub const FLOW_ID: usize = 50;
/// Longest dataset.
pub const DATASET: usize = 50;
/// Longest IP address.
pub const IP_ADDRESS: usize = 100;
/// Longest country.
pub const COUNTRY: usize = 10;
/// Highest step index.
pub const STEP_INDEX: u32 = 1_000;
/// Most tags on a record.
pub const TAGS: usize = 20;
/// Longest tag.
pub const TAG: usize = 50;
/// Deepest nesting of `data` (objects and arrays), so that every JSON
/// parser the record meets (serde_json stops at 128) can read it.
pub const DATA_DEPTH: usize = 100;

/// The length of `s` in characters, when over `max`.
pub(crate) fn char_len(s: &str, max: usize) -> Option<usize> {
    // Bytes bound characters from above: skip the count when it cannot exceed.
    if s.len() <= max {
        return None;
    }
    let n = s.chars().count();
    (n > max).then_some(n)
}

/// Cuts `s` to at most `max` characters, marking the cut, for text the SDK
/// generates itself (error traces) rather than rejecting the whole record.
pub(crate) fn truncate_chars(mut s: String, max: usize) -> String {
    if char_len(&s, max).is_none() {
        return s;
    }
    const MARK: &str = "…[truncated]";
    let keep = max - MARK.chars().count();
    let cut = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    s.truncate(cut);
    s.push_str(MARK);
    s
}
