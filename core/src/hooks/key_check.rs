//! Whether a map key is sensitive, asked of the key itself: map keys come
//! to a serializer as values of any type, and only text keys can match.

use serde::ser::{self, Impossible, Serialize, Serializer};

use crate::hooks::redactor::Redactor;

/// Tells whether a map key is sensitive: only text keys can be.
pub(crate) struct KeyCheck<'a>(pub(crate) &'a Redactor);

/// Never produced: a key that is not text simply does not match.
#[derive(Debug)]
pub(crate) struct NotText;

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
