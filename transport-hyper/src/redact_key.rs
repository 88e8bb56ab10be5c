//! A server's text quoted in an error, bounded, and never carrying the API
//! key, whatever case or encoding (percent, JSON escapes, base64) it came in.

use timber_core::transport::ApiKey;

/// Most characters of a response body quoted in an error.
const SNIPPET_CHARS: usize = 300;

/// The start of a server's text (at most 300 characters, trimmed), to
/// quote in an error; nothing of it when it quotes `key` in any case or
/// common encoding (percent, JSON escapes, base64): a server's text must
/// never carry the key into an error.
///
/// ```
/// use timber_core::transport::ApiKey;
/// let key = ApiKey::new("tb_live_s3cret_key");
/// assert_eq!(timber_transport_hyper::snippet(b" quota exceeded ", &key), "quota exceeded");
/// assert!(!timber_transport_hyper::snippet(b"tb%5Flive%5Fs3cret%5Fkey", &key).contains("s3cret"));
/// ```
pub fn snippet(body: &[u8], key: &ApiKey) -> String {
    let text = String::from_utf8_lossy(body);
    if quotes(&text, key.expose()) {
        return "(the answer quoted the API key; not shown)".into();
    }
    let text = text.trim();
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// The fewest characters of the key that count as quoting it: a server
/// echoing a prefix (`tb_live_SUPERSECRETkey…`) or a piece of it leaks it.
const MIN_QUOTED_CHARS: usize = 8;

/// Whether `text` holds any 8 consecutive characters of `secret` (or all of
/// a shorter one), whatever their case, percent-encoded, JSON-escaped
/// (`\u0074`, `\/`), split by whitespace, or in base64.
fn quotes(text: &str, secret: &str) -> bool {
    let secret = normalize(secret);
    if secret.is_empty() {
        return false;
    }
    let plain = normalize(&unescape(text));
    let secret: Vec<char> = secret.chars().collect();
    let window = MIN_QUOTED_CHARS.min(secret.len());
    let quoted_plain = secret
        .windows(window)
        .any(|piece| plain.contains(&piece.iter().collect::<String>()));
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    quoted_plain
        || base64_forms(&secret.iter().collect::<String>()).any(|form| {
            let form: Vec<char> = form.chars().collect();
            form.windows(MIN_QUOTED_CHARS)
                .any(|piece| compact.contains(&piece.iter().collect::<String>()))
        })
}

/// Lower case, without whitespace.
fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `text` with `%XX`, `\uXXXX` and `\xXX` escapes decoded, and a
/// backslash before any other character dropped (`\/` is `/`).
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |from: usize, n: usize| {
            text.get(from..from + n)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
        };
        let (decoded, skip) = match (bytes[i], bytes.get(i + 1)) {
            (b'%', _) => (hex(i + 1, 2), 3),
            (b'\\', Some(b'u')) => (hex(i + 2, 4), 6),
            (b'\\', Some(b'x')) => (hex(i + 2, 2), 4),
            (b'\\', Some(&next)) if next.is_ascii() => (Some(char::from(next)), 2),
            _ => (None, 1),
        };
        match decoded {
            Some(c) => {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += skip;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The parts of `secret`'s base64 (standard and URL-safe alphabets) that
/// appear whatever bytes surround it, for each of the three alignments.
fn base64_forms(secret: &str) -> impl Iterator<Item = String> + '_ {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let engines = [STANDARD_NO_PAD, URL_SAFE_NO_PAD];
    engines.into_iter().flat_map(move |engine| {
        (0..3usize).filter_map(move |offset| {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(secret.as_bytes());
            let encoded = engine.encode(&bytes);
            // Characters made only of the secret's bits.
            let first = (offset * 8).div_ceil(6);
            let last = (bytes.len() * 8) / 6;
            encoded
                .get(first..last)
                .filter(|s| s.len() >= 8)
                .map(str::to_owned)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_never_carry_the_key_in_any_case_or_encoding() {
        use base64::Engine;
        let key = ApiKey::new("tb_live_Secret123456");
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let echoes = [
            format!("bad key {}", key.expose()),
            format!("bad key {}", key.expose().to_uppercase()),
            format!("{}{}", "x".repeat(SNIPPET_CHARS - 12), key.expose()),
            "bad key tb%5Flive%5FSecret123456".to_owned(),
            r#"{"key":"\u0074b_live_Secret123456"}"#.to_owned(),
            format!("auth {}", b64(&format!("api:{}", key.expose()))),
            format!("auth {}", b64(&format!("a:{}", key.expose()))),
            format!("auth {}", b64(key.expose())),
            // A prefix, JSON's escaped slash, a key split across lines.
            "invalid key tb_live_Secr...".to_owned(),
            r#"{"error":"key tb_live\/Secret123 is revoked"}"#.to_owned(),
            "key tb_live_Se\n  cret123456".to_owned(),
            format!("auth {}", &b64(key.expose())[..10]),
        ];
        for echo in echoes {
            let s = snippet(echo.as_bytes(), &key);
            assert!(!s.to_lowercase().contains("secret1"), "{echo} -> {s}");
            assert!(s.starts_with("(the answer quoted"), "{echo} -> {s}");
        }
        assert_eq!(snippet(b" plain reason ", &key), "plain reason");
        let slashed = ApiKey::new("tb_live_ab/cd+ef==9876");
        let echo = r#"{"detail":"no key tb_live_ab\/cd+ef==9876"}"#;
        assert!(snippet(echo.as_bytes(), &slashed).starts_with("(the answer quoted"));
        // Seven characters of it are not a quote.
        assert_eq!(snippet(b"keys start tb_live", &key), "keys start tb_live");
    }
}
