//! JSON values as OTLP `AnyValue`s and back, with the official types.

use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};
use serde_json::{Number, Value};

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
