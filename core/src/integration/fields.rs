//! Fields a bridge derives from another API's events: a message the
//! protocol accepts, an error's name and stack, where the event came from.

use crate::record::error_payload::{type_name_from_debug, ErrorPayload};
use crate::record::limits::{self, truncate_chars};

/// The `data` key under which a bridge keeps an event's target, when asked to.
pub const TARGET_KEY: &str = "target";
/// The `data` key under which a bridge keeps an event's module path, when asked to.
pub const MODULE_KEY: &str = "module";

/// A message the service accepts: `fallback` (the event's name or target)
/// when empty, cut at the protocol's limit (marked as cut) when too long.
///
/// ```
/// use timber_core::integration::message_or;
/// assert_eq!(message_or(String::new(), "event"), "event");
/// assert_eq!(message_or("x".repeat(20_000), "event").chars().count(), 10_000);
/// ```
pub fn message_or(message: String, fallback: &str) -> String {
    let message = if message.is_empty() {
        fallback.to_owned()
    } else {
        message
    };
    truncate_chars(message, limits::MESSAGE)
}

/// `errorName` and `errorStack` of an error value, with its cause chain.
pub fn error_fields(error: &(dyn std::error::Error + 'static)) -> (String, String) {
    match ErrorPayload::from_erased(error, "Error") {
        ErrorPayload::Error { name, stack, .. } => (name, stack),
        _ => ("Error".to_owned(), error.to_string()),
    }
}

/// `errorName` and `errorStack` of an error known only by its text (a
/// `Debug` or `Display` rendering): named by what its derived `Debug`
/// starts with, else `Error`.
///
/// ```
/// use timber_core::integration::error_fields_from_text;
/// assert_eq!(error_fields_from_text("Timeout(30)").0, "Timeout");
/// assert_eq!(error_fields_from_text("connection refused").0, "Error");
/// ```
pub fn error_fields_from_text(text: &str) -> (String, String) {
    let name = type_name_from_debug(text).unwrap_or("Error");
    (
        truncate_chars(name.to_owned(), limits::ERROR_NAME),
        truncate_chars(text.to_owned(), limits::ERROR_STACK),
    )
}
