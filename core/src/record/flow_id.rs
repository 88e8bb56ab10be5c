//! Local flow ids: `{name}-{8 random [a-z0-9]}`, as the seed fixes them.

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
