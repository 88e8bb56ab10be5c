//! What `error()` accepts: data, an error value, or nothing.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::validate::{limits, truncate_chars};

/// The second argument of [`Client::error`](crate::Client::error): either
/// structured data or an error value, from which the client takes
/// `errorName` (the type's name), `errorStack` (the error, its whole
/// `source()` chain, and a backtrace when `RUST_BACKTRACE` enables one) and
/// `data.message` (the error's message).
///
/// ```
/// use timber_core::ErrorPayload;
/// use serde_json::json;
///
/// let err = "x".parse::<u32>().unwrap_err();
/// let ErrorPayload::Error { name, stack, message } = ErrorPayload::from(&err) else { panic!() };
/// assert_eq!(name, "ParseIntError");
/// assert_eq!(message, "invalid digit found in string");
/// assert!(stack.starts_with("ParseIntError: invalid digit found in string"));
///
/// assert!(matches!(ErrorPayload::from(json!({"code": 7})), ErrorPayload::Data(_)));
/// assert!(matches!(ErrorPayload::from(()), ErrorPayload::None));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ErrorPayload {
    /// No data.
    None,
    /// Structured data.
    Data(Map<String, Value>),
    /// An extracted error.
    Error {
        /// `errorName`.
        name: String,
        /// `errorStack`.
        stack: String,
        /// Goes into `data.message`.
        message: String,
    },
    /// Data that is not a JSON object: reported as invalid.
    Invalid(String),
}

impl ErrorPayload {
    /// Extracts name, message, cause chain and backtrace from an error value.
    pub fn from_error(error: &(dyn std::error::Error + 'static), type_name: &str) -> Self {
        let name = short_type_name(type_name);
        let message = error.to_string();
        let mut stack = format!("{name}: {message}");
        let mut cause = error.source();
        if cause.is_some() {
            stack.push_str("\n\nCaused by:");
        }
        let mut i = 0;
        while let Some(e) = cause {
            let _ = write!(stack, "\n  {i}: {e}");
            cause = e.source();
            i += 1;
        }
        let backtrace = Backtrace::capture();
        if backtrace.status() == BacktraceStatus::Captured {
            let _ = write!(stack, "\n\nBacktrace:\n{backtrace}");
        }
        ErrorPayload::Error {
            name: truncate_chars(name, limits::ERROR_NAME),
            stack: truncate_chars(stack, limits::ERROR_STACK),
            message,
        }
    }

    /// Serializes data; `null` means none, an object is kept, the rest is invalid.
    pub fn data(data: impl serde::Serialize) -> Self {
        match serde_json::to_value(data) {
            Ok(Value::Null) => ErrorPayload::None,
            Ok(Value::Object(map)) => ErrorPayload::Data(map),
            Ok(other) => ErrorPayload::Invalid(format!(
                "data must be a JSON object, got {}",
                json_kind(&other)
            )),
            Err(e) => ErrorPayload::Invalid(e.to_string()),
        }
    }
}

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `core::num::error::ParseIntError` -> `ParseIntError`; generic arguments
/// are shortened the same way (`Wrapper<my::Inner>` -> `Wrapper<Inner>`).
fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    for c in full.chars() {
        match c {
            ':' => segment.clear(),
            '<' | '>' | ',' | ' ' | '&' | '(' | ')' | '[' | ']' | ';' => {
                out.push_str(&segment);
                segment.clear();
                out.push(c);
            }
            _ => segment.push(c),
        }
    }
    out.push_str(&segment);
    out
}

impl From<()> for ErrorPayload {
    fn from(_: ()) -> Self {
        ErrorPayload::None
    }
}

impl From<Value> for ErrorPayload {
    fn from(v: Value) -> Self {
        // Already JSON: take it apart instead of serializing a copy.
        match v {
            Value::Null => ErrorPayload::None,
            Value::Object(map) => ErrorPayload::Data(map),
            other => ErrorPayload::Invalid(format!(
                "data must be a JSON object, got {}",
                json_kind(&other)
            )),
        }
    }
}

impl From<Map<String, Value>> for ErrorPayload {
    fn from(map: Map<String, Value>) -> Self {
        ErrorPayload::Data(map)
    }
}

impl<E: std::error::Error + 'static> From<&E> for ErrorPayload {
    fn from(e: &E) -> Self {
        ErrorPayload::from_error(e, std::any::type_name::<E>())
    }
}

impl From<&(dyn std::error::Error + 'static)> for ErrorPayload {
    fn from(e: &(dyn std::error::Error + 'static)) -> Self {
        ErrorPayload::from_error(e, "Error")
    }
}

impl From<&(dyn std::error::Error + Send + Sync + 'static)> for ErrorPayload {
    fn from(e: &(dyn std::error::Error + Send + Sync + 'static)) -> Self {
        ErrorPayload::from_error(e, "Error")
    }
}

impl From<Box<dyn std::error::Error + Send + Sync>> for ErrorPayload {
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> Self {
        ErrorPayload::from_error(&*e, "Error")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("loading config failed")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn the_whole_cause_chain_is_in_the_stack() {
        let err = Outer(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ));
        let ErrorPayload::Error {
            name,
            stack,
            message,
        } = ErrorPayload::from(&err)
        else {
            panic!("not an error payload")
        };
        assert_eq!(name, "Outer");
        assert_eq!(message, "loading config failed");
        assert!(
            stack.starts_with("Outer: loading config failed\n\nCaused by:\n  0: no such file"),
            "{stack}"
        );
    }

    #[test]
    fn type_names_are_shortened_including_generics() {
        assert_eq!(
            short_type_name("core::num::error::ParseIntError"),
            "ParseIntError"
        );
        assert_eq!(
            short_type_name("a::Wrapper<b::c::Inner, u8>"),
            "Wrapper<Inner, u8>"
        );
    }

    #[test]
    fn non_object_data_is_invalid() {
        assert_eq!(
            ErrorPayload::data("text"),
            ErrorPayload::Invalid("data must be a JSON object, got a string".into())
        );
    }
}
