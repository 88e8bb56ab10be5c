//! The protocol's types under the names this crate gives them. They are
//! named here rather than in lib.rs so that every format module can import
//! them from the module that defines the names without importing lib.rs,
//! which declares those modules.

/// The record every format reads and writes: the protocol's `LogRecord`.
pub use timber_core::LogRecord as Record;
/// The six raw formats: name ([`Format::as_str`]), content type
/// ([`Format::content_type`]) and parsing from a name (`"jsonl".parse()`).
pub use timber_core::RawFormat as Format;
