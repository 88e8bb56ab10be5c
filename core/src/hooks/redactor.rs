//! Which data keys are sensitive: the configured list, normalized, and the
//! check of a key against it.
//!
//! A key matches an entry when the key, lowercased and without `_`, `-`,
//! `.` and spaces, contains the entry written the same way: the entry
//! `api_key` matches `apiKey`, `X-Api-Key` and `stripe_api_key`.

/// What a redacted value becomes.
pub const REDACTED: &str = "[REDACTED]";

/// The data keys redacted unless
/// [`ClientBuilder::redact_keys`](crate::ClientBuilder::redact_keys) says
/// otherwise. A key matches an entry when the key, lowercased and without
/// `_`, `-`, `.` and spaces, contains the entry written the same way
/// (`api_key` matches `apiKey`, `X-Api-Key` and `stripe_api_key`; `token`
/// matches `accessToken` and `token_expiry`).
///
/// ```
/// assert!(timber_core::hooks::DEFAULT_REDACTED_KEYS.contains(&"password"));
/// ```
pub const DEFAULT_REDACTED_KEYS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "authorization",
    "api_key",
    "cookie",
    "credential",
    "private_key",
    "credit_card",
    "card_number",
    "cvv",
];

/// The longest key checked without allocating.
const INLINE_KEY: usize = 64;

/// The configured keys, normalized and indexed by their first byte.
#[derive(Debug)]
pub(crate) struct Redactor {
    /// The keys as given, for `Config`.
    keys: Vec<String>,
    /// Normalized entries, sorted by first byte.
    needles: Vec<Vec<u8>>,
    /// `needles[starts[b]..starts[b + 1]]` start with byte `b`.
    starts: Box<[u16; 257]>,
    shortest: usize,
    /// The bytes each entry has ([`byte_mask`]): a key that lacks some of
    /// every entry's bytes contains none, which rules out most keys
    /// (`status`, `route`) before any comparison.
    masks: Vec<u64>,
}

/// A bit for each byte value, lowercased, modulo 64: the set of a text's
/// bytes, or a superset of it (a key contains an entry only if its mask
/// covers the entry's).
fn byte_mask(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0, |mask, b| mask | 1 << (b.to_ascii_lowercase() & 63))
}

fn is_separator(b: u8) -> bool {
    matches!(b, b'_' | b'-' | b'.' | b' ')
}

fn normalize_into(key: &[u8], out: &mut impl Extend<u8>) {
    out.extend(
        key.iter()
            .copied()
            .filter(|b| !is_separator(*b))
            .map(|b| b.to_ascii_lowercase()),
    );
}

impl Redactor {
    /// `None` when there is nothing to redact.
    pub(crate) fn new(keys: Vec<String>) -> Option<Redactor> {
        let mut needles: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| {
                let mut n = Vec::new();
                normalize_into(k.as_bytes(), &mut n);
                n
            })
            .filter(|n| !n.is_empty())
            .collect();
        if needles.is_empty() {
            return None;
        }
        needles.sort();
        needles.dedup();
        needles.truncate(u16::MAX as usize);
        let mut starts = Box::new([0u16; 257]);
        for b in 0..=256usize {
            starts[b] = needles.partition_point(|n| (n[0] as usize) < b) as u16;
        }
        let shortest = needles.iter().map(Vec::len).min().unwrap_or(0);
        let masks = needles.iter().map(|n| byte_mask(n)).collect();
        Some(Redactor {
            keys,
            needles,
            starts,
            shortest,
            masks,
        })
    }

    pub(crate) fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Whether values under `key` are redacted.
    #[inline]
    pub(crate) fn matches(&self, key: &str) -> bool {
        if key.len() < self.shortest {
            return false;
        }
        let bytes = key.as_bytes();
        // Most keys lack a byte of every entry: ruled out before normalizing
        // (separators only add bits, so the lowercased key's mask is a
        // superset of the normalized one's).
        let have = byte_mask(bytes);
        if self.masks.iter().all(|needs| needs & !have != 0) {
            return false;
        }
        if bytes.len() <= INLINE_KEY {
            let mut buf = [0u8; INLINE_KEY];
            let mut n = 0;
            for &b in bytes {
                if !is_separator(b) {
                    buf[n] = b.to_ascii_lowercase();
                    n += 1;
                }
            }
            self.contains_needle(&buf[..n])
        } else {
            let mut buf = Vec::with_capacity(bytes.len());
            normalize_into(bytes, &mut buf);
            self.contains_needle(&buf)
        }
    }

    fn contains_needle(&self, key: &[u8]) -> bool {
        if key.len() < self.shortest {
            return false;
        }
        for i in 0..=key.len() - self.shortest {
            let b = key[i] as usize;
            let (from, to) = (self.starts[b] as usize, self.starts[b + 1] as usize);
            if from == to {
                continue;
            }
            let rest = &key[i..];
            // The second byte rules most entries out without a comparison call.
            let second = rest.get(1);
            if self.needles[from..to]
                .iter()
                .any(|n| n.get(1).is_none_or(|b| Some(b) == second) && rest.starts_with(n))
            {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new(
            DEFAULT_REDACTED_KEYS
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
        )
        .unwrap()
    }

    proptest::proptest! {
        /// `matches` is exactly "the normalized key contains a normalized
        /// entry", for any entries (one byte long too) and keys (`!` and `a`
        /// share a bit of the byte masks).
        #[test]
        fn matching_is_containment_after_normalizing(
            entries in proptest::collection::vec("[a-dA-D!_. -]{1,4}", 1..5),
            key in "[a-dA-D!_. -]{0,12}",
        ) {
            let normal = |s: &str| {
                let mut out = Vec::new();
                normalize_into(s.as_bytes(), &mut out);
                out
            };
            let key_n = normal(&key);
            let expected = entries.iter().map(|e| normal(e)).any(|e| {
                !e.is_empty() && key_n.windows(e.len()).any(|w| w == e.as_slice())
            });
            let got = Redactor::new(entries.clone()).is_some_and(|r| r.matches(&key));
            proptest::prop_assert_eq!(got, expected, "{:?} in {:?}", entries, key);
        }
    }

    #[test]
    fn keys_match_without_case_or_separators() {
        let r = redactor();
        for key in [
            "password",
            "Password",
            "db_password",
            "accessToken",
            "X-Api-Key",
            "apiKey",
            "Authorization",
            "set-cookie",
            "client.secret",
            "credentials",
            "cvv",
        ] {
            assert!(r.matches(key), "{key}");
        }
        for key in [
            "user",
            "author",
            "id",
            "",
            "pass",
            "api",
            "x".repeat(200).as_str(),
        ] {
            assert!(!r.matches(key), "{key}");
        }
        assert!(r.matches(&format!("{}password", "x".repeat(100))));
    }

    #[test]
    fn no_keys_no_redactor() {
        assert!(Redactor::new(Vec::new()).is_none());
        assert!(Redactor::new(vec!["".into(), "_-".into()]).is_none());
    }
}
