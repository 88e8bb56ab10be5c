//! Redaction as data is rendered: a serializer that wraps the one writing
//! the data, so that the values under sensitive keys become `"[REDACTED]"`
//! at any depth, whatever the data's type. The one redaction mechanism of
//! the crate: data given as values, as maps, and data a hook replaced all
//! pass through it.

use serde::ser::{self, Serialize, Serializer};

use crate::hooks::key_check::KeyCheck;
use crate::hooks::redactor::{Redactor, REDACTED};
use crate::record::data::{Data, DataError};

/// Renders `value` as a record's data, through redaction when there is a
/// redactor (see [`Data::new`] for what is refused).
pub(crate) fn render_data(
    value: impl Serialize,
    redactor: Option<&Redactor>,
) -> Result<Option<Data>, DataError> {
    match redactor {
        None => Data::render(|out| serde_json::to_writer(out, &value), false),
        Some(redactor) => Data::render(
            |out| {
                serde_json::to_writer(
                    out,
                    &Redacted {
                        value: &value,
                        redactor,
                    },
                )
            },
            true,
        ),
    }
}

/// Data rendered elsewhere (by a hook), rendered again through redaction.
pub(crate) fn redact_data(data: &Data, redactor: &Redactor) -> Data {
    let value: serde_json::Value = serde_json::from_slice(data.as_bytes()).unwrap_or_default();
    match render_data(value, Some(redactor)) {
        Ok(Some(data)) => data,
        _ => data.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::redactor::DEFAULT_REDACTED_KEYS;
    use serde_json::{json, Value};
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
        let data = render_data(value, Some(&r)).unwrap().unwrap();
        serde_json::from_str(data.as_str()).unwrap()
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
        let plain = Data::new(&value).unwrap().unwrap();
        let again = redact_data(&plain, &redactor());
        assert!(again.is_redacted());
        assert_eq!(
            serde_json::from_str::<Value>(again.as_str()).unwrap(),
            render(&value)
        );
    }

    #[test]
    fn non_text_keys_are_kept() {
        let map = BTreeMap::from([(1, "a"), (2, "b")]);
        assert_eq!(render(&map), json!({"1": "a", "2": "b"}));
    }
}
