//! Redaction of data keys: values under a sensitive key are replaced by
//! `"[REDACTED]"`, at any depth, as the data is rendered.
//!
//! A key matches an entry when the key, lowercased and without `_`, `-`,
//! `.` and spaces, contains the entry written the same way: the entry
//! `api_key` matches `apiKey`, `X-Api-Key` and `stripe_api_key`.

use serde::ser::{self, Impossible, Serialize, Serializer};
use serde_json::{Map, Value};

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
/// assert!(timber_core::DEFAULT_REDACTED_KEYS.contains(&"password"));
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
        Some(Redactor {
            keys,
            needles,
            starts,
            shortest,
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

    /// Redacts a JSON object in place, at any depth.
    pub(crate) fn redact_map(&self, map: &mut Map<String, Value>) {
        for (key, value) in map.iter_mut() {
            if self.matches(key) {
                *value = Value::String(REDACTED.to_owned());
            } else {
                self.redact_value(value);
            }
        }
    }

    fn redact_value(&self, value: &mut Value) {
        match value {
            Value::Object(map) => self.redact_map(map),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            _ => {}
        }
    }
}

/// Serializes `value` with the values under sensitive keys replaced.
pub(crate) struct Redacted<'a, T: ?Sized> {
    pub(crate) value: &'a T,
    pub(crate) redactor: &'a Redactor,
}

impl<T: Serialize + ?Sized> Serialize for Redacted<'_, T> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Redacting {
            inner: serializer,
            redactor: self.redactor,
        })
    }
}

/// A serializer that forwards to `inner`, wrapping every nested value so
/// that the keys of maps and structs are checked.
struct Redacting<'a, S> {
    inner: S,
    redactor: &'a Redactor,
}

impl<'a, S> Redacting<'a, S> {
    fn wrap<'v, T: ?Sized>(&self, value: &'v T) -> Redacted<'v, T>
    where
        'a: 'v,
    {
        Redacted {
            value,
            redactor: self.redactor,
        }
    }
}

/// A compound serializer of `inner`, with the redactor and, for maps,
/// whether the value about to come is under a sensitive key.
struct Compound<'a, C> {
    inner: C,
    redactor: &'a Redactor,
    redact_next: bool,
}

impl<'a, C> Compound<'a, C> {
    fn new(inner: C, redactor: &'a Redactor) -> Self {
        Compound {
            inner,
            redactor,
            redact_next: false,
        }
    }

    fn wrap<'v, T: ?Sized>(&self, value: &'v T) -> Redacted<'v, T>
    where
        'a: 'v,
    {
        Redacted {
            value,
            redactor: self.redactor,
        }
    }
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[inline]
            fn $method(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> {
                self.inner.$method($($arg),*)
            }
        )*
    };
}

impl<'a, S: Serializer> Serializer for Redacting<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<'a, S::SerializeSeq>;
    type SerializeTuple = Compound<'a, S::SerializeTuple>;
    type SerializeTupleStruct = Compound<'a, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<'a, S::SerializeTupleVariant>;
    type SerializeMap = Compound<'a, S::SerializeMap>;
    type SerializeStruct = Compound<'a, S::SerializeStruct>;
    type SerializeStructVariant = Compound<'a, S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let wrapped = self.wrap(value);
        self.inner.serialize_some(&wrapped)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let wrapped = self.wrap(value);
        self.inner.serialize_newtype_struct(name, &wrapped)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        if self.redactor.matches(variant) {
            return self
                .inner
                .serialize_newtype_variant(name, index, variant, REDACTED);
        }
        let wrapped = self.wrap(value);
        self.inner
            .serialize_newtype_variant(name, index, variant, &wrapped)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Ok(Compound::new(self.inner.serialize_seq(len)?, self.redactor))
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        Ok(Compound::new(
            self.inner.serialize_tuple(len)?,
            self.redactor,
        ))
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Ok(Compound::new(
            self.inner.serialize_tuple_struct(name, len)?,
            self.redactor,
        ))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Ok(Compound::new(
            self.inner
                .serialize_tuple_variant(name, index, variant, len)?,
            self.redactor,
        ))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Ok(Compound::new(self.inner.serialize_map(len)?, self.redactor))
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Ok(Compound::new(
            self.inner.serialize_struct(name, len)?,
            self.redactor,
        ))
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Ok(Compound::new(
            self.inner
                .serialize_struct_variant(name, index, variant, len)?,
            self.redactor,
        ))
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! elements {
    ($trait:ident, $method:ident) => {
        impl<C: ser::$trait> ser::$trait for Compound<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;

            #[inline]
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                let wrapped = self.wrap(value);
                self.inner.$method(&wrapped)
            }

            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    };
}

elements!(SerializeSeq, serialize_element);
elements!(SerializeTuple, serialize_element);
elements!(SerializeTupleStruct, serialize_field);
elements!(SerializeTupleVariant, serialize_field);

macro_rules! fields {
    ($trait:ident) => {
        impl<C: ser::$trait> ser::$trait for Compound<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;

            #[inline]
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), C::Error> {
                if self.redactor.matches(key) {
                    self.inner.serialize_field(key, REDACTED)
                } else {
                    let wrapped = self.wrap(value);
                    self.inner.serialize_field(key, &wrapped)
                }
            }

            fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
                self.inner.skip_field(key)
            }

            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    };
}

fields!(SerializeStruct);
fields!(SerializeStructVariant);

impl<C: ser::SerializeMap> ser::SerializeMap for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        self.redact_next = key.serialize(KeyCheck(self.redactor)).unwrap_or(false);
        self.inner.serialize_key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        if std::mem::take(&mut self.redact_next) {
            self.inner.serialize_value(REDACTED)
        } else {
            let wrapped = self.wrap(value);
            self.inner.serialize_value(&wrapped)
        }
    }

    #[inline]
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), C::Error> {
        if key.serialize(KeyCheck(self.redactor)).unwrap_or(false) {
            self.inner.serialize_entry(key, REDACTED)
        } else {
            let wrapped = self.wrap(value);
            self.inner.serialize_entry(key, &wrapped)
        }
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

/// Tells whether a map key is sensitive: only text keys can be.
struct KeyCheck<'a>(&'a Redactor);

/// Never produced: a key that is not text simply does not match.
#[derive(Debug)]
struct NotText;

impl std::fmt::Display for NotText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a text key")
    }
}

impl std::error::Error for NotText {}

impl ser::Error for NotText {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        NotText
    }
}

macro_rules! not_text {
    ($($method:ident($($ty:ty),*);)*) => {
        $(
            fn $method(self, $(_: $ty),*) -> Result<bool, NotText> {
                Ok(false)
            }
        )*
    };
}

impl Serializer for KeyCheck<'_> {
    type Ok = bool;
    type Error = NotText;
    type SerializeSeq = Impossible<bool, NotText>;
    type SerializeTuple = Impossible<bool, NotText>;
    type SerializeTupleStruct = Impossible<bool, NotText>;
    type SerializeTupleVariant = Impossible<bool, NotText>;
    type SerializeMap = Impossible<bool, NotText>;
    type SerializeStruct = Impossible<bool, NotText>;
    type SerializeStructVariant = Impossible<bool, NotText>;

    #[inline]
    fn serialize_str(self, v: &str) -> Result<bool, NotText> {
        Ok(self.0.matches(v))
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<bool, NotText> {
        Ok(self.0.matches(variant))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<bool, NotText> {
        value.serialize(self)
    }

    not_text! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<bool, NotText> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<bool, NotText> {
        Ok(false)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotText> {
        Err(NotText)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotText> {
        Err(NotText)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotText> {
        Err(NotText)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotText> {
        Err(NotText)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotText> {
        Err(NotText)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotText> {
        Err(NotText)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotText> {
        Err(NotText)
    }

    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result<bool, NotText> {
        Ok(self.0.matches(&value.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn redactor() -> Redactor {
        Redactor::new(
            DEFAULT_REDACTED_KEYS
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
        )
        .unwrap()
    }

    fn render(value: &impl Serialize) -> Value {
        let r = redactor();
        let text = serde_json::to_string(&Redacted {
            value,
            redactor: &r,
        })
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    proptest::proptest! {
        /// `matches` is exactly "the normalized key contains a normalized
        /// entry", for any entries (one byte long too) and keys.
        #[test]
        fn matching_is_containment_after_normalizing(
            entries in proptest::collection::vec("[a-dA-D_. -]{1,4}", 1..5),
            key in "[a-dA-D_. -]{0,12}",
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

    #[derive(serde::Serialize)]
    struct Login<'a> {
        user: &'a str,
        password: &'a str,
        nested: Nested,
    }

    #[derive(serde::Serialize)]
    struct Nested {
        token: u64,
        tries: Vec<Attempt>,
    }

    #[derive(serde::Serialize)]
    enum Attempt {
        Secret(String),
        Plain { api_key: String, ok: bool },
    }

    #[test]
    fn structs_maps_and_json_are_redacted_at_any_depth() {
        let login = Login {
            user: "ada",
            password: "hunter2",
            nested: Nested {
                token: 42,
                tries: vec![
                    Attempt::Secret("s".into()),
                    Attempt::Plain {
                        api_key: "k".into(),
                        ok: true,
                    },
                ],
            },
        };
        assert_eq!(
            render(&login),
            json!({
                "user": "ada",
                "password": REDACTED,
                "nested": {"token": REDACTED, "tries": [
                    {"Secret": REDACTED},
                    {"Plain": {"api_key": REDACTED, "ok": true}}
                ]}
            })
        );
        let map = BTreeMap::from([("Authorization", "Bearer x"), ("path", "/")]);
        assert_eq!(
            render(&map),
            json!({"Authorization": REDACTED, "path": "/"})
        );
        let value = json!({"a": [{"refresh_token": {"deep": 1}}], "b": null});
        assert_eq!(
            render(&value),
            json!({"a": [{"refresh_token": REDACTED}], "b": null})
        );
        let mut map = value.as_object().unwrap().clone();
        redactor().redact_map(&mut map);
        assert_eq!(Value::Object(map), render(&value));
    }

    #[test]
    fn non_text_keys_are_kept() {
        let map = BTreeMap::from([(1, "a"), (2, "b")]);
        assert_eq!(render(&map), json!({"1": "a", "2": "b"}));
    }
}
