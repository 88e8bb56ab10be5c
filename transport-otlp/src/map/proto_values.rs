//! The messages of an attribute's value for the protobuf body
//! ([`protobuf`](crate::map::protobuf)): `KeyValue`, `AnyValue` and its
//! lists, over borrowed values, and the field helpers both use.

use std::borrow::Cow;

use prost::bytes::BufMut;
use prost::encoding::{self, encoded_len_varint, key_len, WireType};
use prost::Message;

use crate::map::flat::Flat;
use crate::map::json::Json;

/// A view's fields are written, never read back: decoding skips them.
macro_rules! encode_only {
    () => {
        fn merge_field(
            &mut self,
            tag: u32,
            wire_type: prost::encoding::WireType,
            buf: &mut impl prost::bytes::Buf,
            ctx: prost::encoding::DecodeContext,
        ) -> Result<(), prost::DecodeError> {
            prost::encoding::skip_field(wire_type, tag, buf, ctx)
        }

        fn clear(&mut self) {}
    };
}
pub(crate) use encode_only;

/// prost's `encode_varint`, inlined: a record writes about fifty of them
/// (keys and lengths), and a call each was a third of its encoding time.
#[inline(always)]
pub(crate) fn put_varint(mut value: u64, buf: &mut impl BufMut) {
    while value >= 0x80 {
        buf.put_u8(value as u8 | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

/// A field's key (prost's `encode_key`, through [`put_varint`]).
#[inline(always)]
pub(crate) fn put_key(tag: u32, wire_type: WireType, buf: &mut impl BufMut) {
    put_varint(u64::from(tag << 3 | wire_type as u32), buf);
}

/// A varint field (an `int32`, `int64` or `bool`, sign-extended as prost does).
#[inline(always)]
pub(crate) fn put_int(tag: u32, value: i64, buf: &mut impl BufMut) {
    put_key(tag, WireType::Varint, buf);
    put_varint(value as u64, buf);
}

/// A nested message as field `tag` (prost's `message::encode`).
#[inline(always)]
pub(crate) fn put_message(tag: u32, message: &impl Message, buf: &mut impl BufMut) {
    put_key(tag, WireType::LengthDelimited, buf);
    put_varint(message.encoded_len() as u64, buf);
    message.encode_raw(buf);
}

/// A string field (left out when empty, as proto3 does).
pub(crate) fn str_len(tag: u32, s: &str) -> usize {
    if s.is_empty() {
        return 0;
    }
    key_len(tag) + encoded_len_varint(s.len() as u64) + s.len()
}

pub(crate) fn put_str(tag: u32, s: &str, buf: &mut impl BufMut) {
    if !s.is_empty() {
        put_bytes(tag, s.as_bytes(), buf);
    }
}

/// A length-delimited field, written even when empty (a oneof's value).
pub(crate) fn put_bytes(tag: u32, bytes: &[u8], buf: &mut impl BufMut) {
    put_key(tag, WireType::LengthDelimited, buf);
    put_varint(bytes.len() as u64, buf);
    buf.put_slice(bytes);
}

pub(crate) fn bytes_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

pub(crate) fn nested_len(tag: u32, message: &impl Message) -> usize {
    encoding::message::encoded_len(tag, message)
}

/// What an attribute's value is made of.
#[derive(Clone, Copy)]
pub(crate) enum Value<'a> {
    Json(&'a Json<'a>),
    Str(&'a str),
    Int(i64),
    Tags(&'a [String]),
}

impl Value<'_> {
    /// A flat member's value, as [`Json`] would read it.
    pub(crate) fn flat(value: Flat<'_>) -> Value<'_> {
        match value {
            Flat::Str(s) => Value::Str(s),
            Flat::Int(i) => Value::Int(i),
            Flat::Bool(true) => Value::Json(&Json::Bool(true)),
            Flat::Bool(false) => Value::Json(&Json::Bool(false)),
            Flat::Null => Value::Json(&Json::Null),
        }
    }
}

/// `KeyValue`.
pub(crate) struct KeyValue<'a> {
    key: &'a str,
    value: Value<'a>,
}

impl<'a> KeyValue<'a> {
    pub(crate) fn new(key: &'a str, value: Value<'a>) -> Self {
        KeyValue { key, value }
    }
}

impl KeyValue<'_> {
    /// Writes the key-value as field `tag` of its parent, computing the
    /// value's length once (prost's `message::encode` would ask for it twice).
    #[inline]
    pub(crate) fn encode_as(&self, tag: u32, buf: &mut impl BufMut) {
        let value = AnyValue(self.value);
        let value_len = value.encoded_len();
        let len =
            str_len(1, self.key) + key_len(2) + encoded_len_varint(value_len as u64) + value_len;
        put_key(tag, WireType::LengthDelimited, buf);
        put_varint(len as u64, buf);
        put_str(1, self.key, buf);
        put_key(2, WireType::LengthDelimited, buf);
        put_varint(value_len as u64, buf);
        value.encode_raw(buf);
    }
}

impl Message for KeyValue<'_> {
    #[inline]
    fn encode_raw(&self, buf: &mut impl BufMut) {
        put_str(1, self.key, buf);
        put_message(2, &AnyValue(self.value), buf);
    }

    #[inline]
    fn encoded_len(&self) -> usize {
        str_len(1, self.key) + nested_len(2, &AnyValue(self.value))
    }

    encode_only!();
}

/// `AnyValue`: its one value (none for JSON `null`).
pub(crate) struct AnyValue<'a>(pub(crate) Value<'a>);

/// `ArrayValue` or `KeyValueList`: repeated field 1.
enum List<'a> {
    Json(&'a [Json<'a>]),
    Members(&'a [(Cow<'a, str>, Json<'a>)]),
    Tags(&'a [String]),
}

impl Message for List<'_> {
    #[inline]
    fn encode_raw(&self, buf: &mut impl BufMut) {
        match self {
            List::Json(items) => items
                .iter()
                .for_each(|v| put_message(1, &AnyValue(Value::Json(v)), buf)),
            List::Members(members) => members
                .iter()
                .for_each(|(k, v)| put_message(1, &KeyValue::new(k, Value::Json(v)), buf)),
            List::Tags(tags) => tags
                .iter()
                .for_each(|t| put_message(1, &AnyValue(Value::Str(t)), buf)),
        }
    }

    #[inline]
    fn encoded_len(&self) -> usize {
        match self {
            List::Json(items) => items
                .iter()
                .map(|v| nested_len(1, &AnyValue(Value::Json(v))))
                .sum(),
            List::Members(members) => members
                .iter()
                .map(|(k, v)| nested_len(1, &KeyValue::new(k, Value::Json(v))))
                .sum(),
            List::Tags(tags) => tags
                .iter()
                .map(|t| nested_len(1, &AnyValue(Value::Str(t))))
                .sum(),
        }
    }

    encode_only!();
}

impl Message for AnyValue<'_> {
    #[inline]
    fn encode_raw(&self, buf: &mut impl BufMut) {
        match self.0 {
            Value::Str(s) => put_bytes(1, s.as_bytes(), buf),
            Value::Int(i) => put_int(3, i, buf),
            Value::Tags(tags) => put_message(5, &List::Tags(tags), buf),
            Value::Json(json) => match json {
                Json::Null => {}
                Json::Str(s) => put_bytes(1, s.as_bytes(), buf),
                Json::Bool(b) => put_int(2, i64::from(*b), buf),
                Json::Int(i) => put_int(3, *i, buf),
                Json::Double(d) => encoding::double::encode(4, d, buf),
                Json::Array(items) => put_message(5, &List::Json(items), buf),
                Json::Object(members) => put_message(6, &List::Members(members), buf),
            },
        }
    }

    #[inline]
    fn encoded_len(&self) -> usize {
        match self.0 {
            Value::Str(s) => bytes_len(1, s.len()),
            Value::Int(i) => encoding::int64::encoded_len(3, &i),
            Value::Tags(tags) => nested_len(5, &List::Tags(tags)),
            Value::Json(json) => match json {
                Json::Null => 0,
                Json::Str(s) => bytes_len(1, s.len()),
                Json::Bool(b) => encoding::bool::encoded_len(2, b),
                Json::Int(i) => encoding::int64::encoded_len(3, i),
                Json::Double(d) => encoding::double::encoded_len(4, d),
                Json::Array(items) => nested_len(5, &List::Json(items)),
                Json::Object(members) => nested_len(6, &List::Members(members)),
            },
        }
    }

    encode_only!();
}
