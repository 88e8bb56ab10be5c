//! JSON values as OTLP `AnyValue`s and back; a record's data, rendered as
//! JSON text by the client, read straight into attributes.

use std::fmt;

use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// A record's data (a JSON object's text) as attributes, its keys in order.
pub(crate) fn data_attributes(json: &str) -> Vec<KeyValue> {
    let mut reader = serde_json::Deserializer::from_str(json);
    match (&mut reader).deserialize_map(AnyVisitor) {
        Ok(JsonAny(Some(Any::KvlistValue(list)))) => list.values,
        // The client renders data as an object: nothing else comes here.
        _ => Vec::new(),
    }
}

/// A JSON value read straight into an OTLP value, as [`any_value`] maps a
/// `serde_json::Value`.
struct JsonAny(Option<Any>);

impl<'de> de::Deserialize<'de> for JsonAny {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyVisitor)
    }
}

struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = JsonAny;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<JsonAny, E> {
        Ok(JsonAny(None))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(Any::BoolValue(v))))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(Any::IntValue(v))))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(match i64::try_from(v) {
            Ok(i) => Any::IntValue(i),
            Err(_) => Any::DoubleValue(v as f64),
        })))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(Any::DoubleValue(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(Any::StringValue(v.to_owned()))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(Any::StringValue(v))))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonAny, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(JsonAny(value)) = seq.next_element()? {
            values.push(AnyValue { value });
        }
        Ok(JsonAny(Some(Any::ArrayValue(ArrayValue { values }))))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonAny, A::Error> {
        let mut values = Vec::with_capacity(map.size_hint().unwrap_or(4));
        while let Some((key, JsonAny(value))) = map.next_entry::<String, JsonAny>()? {
            values.push(key_value(key, value));
        }
        Ok(JsonAny(Some(Any::KvlistValue(KeyValueList { values }))))
    }
}

pub(crate) fn key_value(key: impl Into<String>, value: Option<Any>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value }),
        ..KeyValue::default()
    }
}

pub(crate) fn string(key: &str, value: &str) -> KeyValue {
    key_value(key, Some(Any::StringValue(value.to_owned())))
}

/// A JSON value as an OTLP `AnyValue`: objects become key-value lists,
/// arrays arrays, integers that fit an `i64` ints and other numbers
/// doubles, `null` an empty value.
///
/// ```
/// use opentelemetry_proto::tonic::common::v1::any_value::Value;
/// use timber_transport_otlp::any_value;
/// assert_eq!(any_value(&serde_json::json!(3)), Some(Value::IntValue(3)));
/// assert_eq!(any_value(&serde_json::json!(null)), None);
/// ```
pub fn any_value(value: &Value) -> Option<Any> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => Any::BoolValue(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Any::IntValue(i),
            None => Any::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Any::StringValue(s.clone()),
        Value::Array(items) => Any::ArrayValue(ArrayValue {
            values: items
                .iter()
                .map(|v| AnyValue {
                    value: any_value(v),
                })
                .collect(),
        }),
        Value::Object(map) => Any::KvlistValue(KeyValueList {
            values: map
                .iter()
                .map(|(k, v)| key_value(k.clone(), any_value(v)))
                .collect(),
        }),
    })
}

/// An OTLP `AnyValue` as JSON, the inverse of [`any_value`] (bytes become
/// an array of numbers, a non-finite double `null`).
pub fn json_value(value: Option<&Any>) -> Value {
    match value {
        None | Some(Any::StringValueStrindex(_)) => Value::Null,
        Some(Any::BoolValue(b)) => Value::Bool(*b),
        Some(Any::IntValue(i)) => Value::Number((*i).into()),
        Some(Any::DoubleValue(d)) => Number::from_f64(*d).map_or(Value::Null, Value::Number),
        Some(Any::StringValue(s)) => Value::String(s.clone()),
        Some(Any::BytesValue(b)) => Value::Array(b.iter().map(|x| Value::from(*x)).collect()),
        Some(Any::ArrayValue(a)) => Value::Array(
            a.values
                .iter()
                .map(|v| json_value(v.value.as_ref()))
                .collect(),
        ),
        Some(Any::KvlistValue(kv)) => Value::Object(
            kv.values
                .iter()
                .map(|kv| {
                    let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
                    (kv.key.clone(), json_value(value))
                })
                .collect(),
        ),
    }
}
