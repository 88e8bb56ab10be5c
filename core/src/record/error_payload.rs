//! What `error()` accepts: data, an error value, or nothing.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::record::limits::{self, truncate_chars};

/// An error record's description: either structured data or an error value,
/// from which the client takes `errorName` (the type's name), `errorStack`
/// (the error and its whole `source()` chain; the client appends a
/// backtrace, see [`BacktraceMode`](crate::BacktraceMode)) and
/// `data.message` (the error's message).
///
/// [`Client::error`](crate::Client::error) builds one from what it is
/// given; build one yourself to choose the name:
/// `ErrorPayload::from_error(&err, "MyName")`.
///
/// ```
/// use timber_core::ErrorPayload;
/// use serde_json::json;
///
/// let err = "x".parse::<u32>().unwrap_err();
/// let ErrorPayload::Error { name, stack, message } = ErrorPayload::from(&err) else { panic!() };
/// assert_eq!(name, "ParseIntError");
/// assert_eq!(message, "invalid digit found in string");
/// assert_eq!(stack, "ParseIntError: invalid digit found in string");
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
    /// Extracts the message and the cause chain of an error value, naming it
    /// `type_name` (a type path such as `std::num::ParseIntError` is
    /// shortened as [`Client::error`](crate::Client::error) describes).
    pub fn from_error(error: &(dyn std::error::Error + 'static), type_name: &str) -> Self {
        Self::named(error, short_type_name(type_name))
    }

    /// Like [`from_error`](Self::from_error), with the name as given.
    pub(crate) fn named(error: &(dyn std::error::Error + 'static), name: String) -> Self {
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
        ErrorPayload::Error {
            name: truncate_chars(name, limits::ERROR_NAME),
            stack: truncate_chars(stack, limits::ERROR_STACK),
            message,
        }
    }

    /// Like [`from_error`](Self::from_error) for an error whose type is
    /// unknown here (a trait object, a boxed error, the root cause of an
    /// `anyhow` or `eyre` chain): named by [`best_name`].
    pub(crate) fn from_erased(error: &(dyn std::error::Error + 'static), fallback: &str) -> Self {
        let name = best_name(error).unwrap_or_else(|| fallback.to_owned());
        Self::named(error, name)
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

/// The name of an error whose type is erased: the type of a well-known
/// error (of std, or serde_json) found by downcasting, else the name its
/// derived `Debug` starts with (`ParseError { .. }`, or the variant of an
/// enum: `Timeout(30)`), else none.
pub(crate) fn best_name(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    macro_rules! known {
        ($($ty:ty),* $(,)?) => {
            $(if error.is::<$ty>() {
                return Some(short_type_name(std::any::type_name::<$ty>()));
            })*
        };
    }
    known!(
        std::io::Error,
        std::fmt::Error,
        std::num::ParseIntError,
        std::num::ParseFloatError,
        std::num::TryFromIntError,
        std::str::ParseBoolError,
        std::str::Utf8Error,
        std::string::FromUtf8Error,
        std::net::AddrParseError,
        std::time::SystemTimeError,
        std::sync::mpsc::RecvError,
        std::sync::mpsc::RecvTimeoutError,
        std::env::VarError,
        std::ffi::NulError,
        serde_json::Error,
        crate::error::Error,
        crate::error::ConfigError,
        crate::transport::error::TransportError,
    );
    let debug = format!("{error:?}");
    type_name_from_debug(&debug).map(str::to_owned)
}

/// Guesses an error's type from its `Debug` text: derived `Debug` starts
/// with the type (or variant) name, as in `ParseIntError { kind: .. }` or
/// `Timeout(30)`. Anything else yields `None`.
pub(crate) fn type_name_from_debug(debug: &str) -> Option<&str> {
    let end = debug
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(debug.len());
    let (path, rest) = debug.split_at(end);
    let name = path.rsplit("::").next().unwrap_or(path);
    let well_formed = name.starts_with(|c: char| c.is_ascii_uppercase())
        && !name.contains(':')
        && (rest.is_empty() || rest.starts_with(" {") || rest.starts_with('('));
    well_formed.then_some(name)
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
/// are shortened the same way (`Wrapper<my::Inner>` -> `Wrapper<Inner>`). A
/// type named plain `Error` keeps the nearest module that says whose error
/// it is (`std::io::error::Error` -> `io::Error`, `serde_json::error::Error`
/// -> `serde_json::Error`).
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut path: Vec<&str> = Vec::new();
    let mut start = 0;
    let flush = |out: &mut String, path: &mut Vec<&str>| {
        if let Some(last) = path.pop() {
            if last == "Error" {
                let owner = path
                    .iter()
                    .rev()
                    .find(|m| !matches!(**m, "error" | "errors" | ""));
                if let Some(owner) = owner {
                    out.push_str(owner);
                    out.push_str("::");
                }
            }
            out.push_str(last);
        }
        path.clear();
    };
    let bytes = full.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b':' if bytes.get(i + 1) == Some(&b':') => {
                path.push(&full[start..i]);
                i += 2;
                start = i;
                continue;
            }
            b'<' | b'>' | b',' | b' ' | b'&' | b'(' | b')' | b'[' | b']' | b';' | b'*' => {
                path.push(&full[start..i]);
                flush(&mut out, &mut path);
                out.push(bytes[i] as char);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    path.push(&full[start..]);
    flush(&mut out, &mut path);
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
        ErrorPayload::from_erased(e, "Error")
    }
}

impl From<&(dyn std::error::Error + Send + Sync + 'static)> for ErrorPayload {
    fn from(e: &(dyn std::error::Error + Send + Sync + 'static)) -> Self {
        ErrorPayload::from_erased(e, "Error")
    }
}

impl From<Box<dyn std::error::Error + Send + Sync>> for ErrorPayload {
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> Self {
        ErrorPayload::from_erased(&*e, "Error")
    }
}

impl From<Box<dyn std::error::Error>> for ErrorPayload {
    fn from(e: Box<dyn std::error::Error>) -> Self {
        ErrorPayload::from_erased(&*e, "Error")
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
        assert_eq!(short_type_name("std::io::error::Error"), "io::Error");
        assert_eq!(
            short_type_name("serde_json::error::Error"),
            "serde_json::Error"
        );
        assert_eq!(short_type_name("my_app::db::Error"), "db::Error");
        assert_eq!(short_type_name("Error"), "Error");
        assert_eq!(
            short_type_name("alloc::boxed::Box<std::io::error::Error>"),
            "Box<io::Error>"
        );
        assert_eq!(short_type_name("&[u8; 4]"), "&[u8; 4]");
    }

    #[test]
    fn erased_errors_are_named_by_downcast_or_derived_debug() {
        let io = std::io::Error::other("disk");
        assert_eq!(best_name(&io).as_deref(), Some("io::Error"));
        let boxed: Box<dyn std::error::Error> = "text".into();
        assert_eq!(best_name(&*boxed), None);
        let outer = Outer(io);
        assert_eq!(best_name(&outer).as_deref(), Some("Outer"));
    }

    #[test]
    fn type_names_come_from_derived_debug_only() {
        assert_eq!(
            type_name_from_debug("ParseIntError { kind: InvalidDigit }"),
            Some("ParseIntError")
        );
        assert_eq!(type_name_from_debug("Timeout(30)"), Some("Timeout"));
        assert_eq!(type_name_from_debug("Closed"), Some("Closed"));
        assert_eq!(type_name_from_debug("my::Error { x: 1 }"), Some("Error"));
        assert_eq!(type_name_from_debug("invalid digit found"), None);
        assert_eq!(type_name_from_debug("Connection refused"), None);
        assert_eq!(type_name_from_debug(""), None);
        assert_eq!(type_name_from_debug("\"quoted\""), None);
    }

    #[test]
    fn non_object_data_is_invalid() {
        assert_eq!(
            ErrorPayload::data("text"),
            ErrorPayload::Invalid("data must be a JSON object, got a string".into())
        );
    }
}
