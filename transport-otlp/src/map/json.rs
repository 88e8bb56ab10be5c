//! A record's data read once from its JSON text into borrowed values
//! (strings without escapes are not copied), as OTLP maps them: integers
//! that fit an `i64` are ints, other numbers doubles, `null` no value.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value, borrowing from the text it was read from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// The members of a JSON object's text, in order; none for anything
    /// else (the client renders data as an object: nothing else comes).
    pub(crate) fn object(text: &'a str) -> Vec<(Cow<'a, str>, Json<'a>)> {
        match serde_json::from_str(text) {
            Ok(Json::Object(members)) => members,
            _ => Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// A member's name, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_str(JsonVisitor)? {
            Json::Str(s) => Ok(Key(s)),
            _ => Err(de::Error::custom("a member name is a string")),
        }
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(i64::try_from(v).map_or(Json::Double(v as f64), Json::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(Json::Double(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(4));
        while let Some((Key(key), value)) = map.next_entry::<Key<'de>, Json<'de>>()? {
            members.push((key, value));
        }
        Ok(Json::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_borrow_their_text_and_numbers_map_as_otlp_does() {
        let members = Json::object(
            r#"{"a":"x","b\n":"y\"","n":18446744073709551615,"i":-3,"f":0.5,"z":null,"l":[true,{}]}"#,
        );
        assert!(matches!(
            &members[0],
            (Cow::Borrowed("a"), Json::Str(Cow::Borrowed("x")))
        ));
        assert_eq!(members[1].0, "b\n");
        assert_eq!(members[1].1, Json::Str(Cow::Owned("y\"".into())));
        assert_eq!(members[2].1, Json::Double(u64::MAX as f64));
        assert_eq!(members[3].1, Json::Int(-3));
        assert_eq!(members[4].1, Json::Double(0.5));
        assert_eq!(members[5].1, Json::Null);
        assert_eq!(
            members[6].1,
            Json::Array(vec![Json::Bool(true), Json::Object(vec![])])
        );
        assert!(Json::object("[1]").is_empty());
    }
}
