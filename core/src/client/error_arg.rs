//! The second argument of `error()`: an error as Rust programs hold it, or data.

use std::error::Error as StdError;

use serde::Serialize;

use crate::client::emit::Draft;
use crate::record::error_payload::ErrorPayload;

/// What [`Client::error`](crate::Client::error) and [`Flow::error`](crate::Flow::error) accept as their second
/// argument: an error value, or the same data [`Client::info`](crate::Client::info) takes.
///
/// | argument | `errorName` |
/// |---|---|
/// | `&e` for any `E: std::error::Error` | the type's name: `ParseIntError`, `io::Error`, `MyError` |
/// | `&dyn Error` (`+ Send + Sync`), `Box<dyn Error>` (`+ Send + Sync`), or a reference to one | the erased type's best name (below) |
/// | `anyhow::Error` / `&anyhow::Error` (feature `anyhow`) | the best name of its root cause, else `anyhow::Error` |
/// | `eyre::Report` / `&eyre::Report` (feature `eyre`) | the best name of its root cause, else `eyre::Report` |
/// | an [`ErrorPayload`] | its own |
/// | data: `()`, `json!({..})`, a `Serialize` struct, `&HashMap<..>`, a `Map` | none: the record has `data` only |
///
/// Type names lose their module path (`std::num::ParseIntError` →
/// `ParseIntError`, generics too: `Wrapper<Inner>`), except that a type
/// named plain `Error` keeps the module that says whose it is
/// (`std::io::Error` → `io::Error`, `serde_json::Error` →
/// `serde_json::Error`, `my_app::db::Error` → `db::Error`). An erased
/// error's *best name* is its type's name when it is one of std's or
/// serde_json's error types (found by downcasting), else the name its
/// derived `Debug` output starts with (a struct's name, or an enum's
/// variant: `NotFound { .. }` → `NotFound`), else `Error`.
///
/// For an error value, `errorStack` holds `name: message`, the `source()`
/// chain after `Caused by:`, and a backtrace after `Backtrace:` (see
/// [`BacktraceMode`](crate::BacktraceMode)); `data.message` holds the
/// message.
///
/// ```
/// use std::collections::HashMap;
/// # #[path = "../../tests/double/mod.rs"] mod double;
/// # use double::MockTransport;
/// use timber_core::Client;
///
/// #[derive(serde::Serialize)]
/// struct Attempt { user: &'static str, tries: u32 }
///
/// let mock = MockTransport::new();
/// let client = Client::builder().source("s").api_key("k").transport(mock.clone()).build()?;
///
/// let parse = "x".parse::<u8>().unwrap_err();
/// let io = std::io::Error::other("disk full");
/// let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(parse.clone());
/// client
///     .error("parse failed", &parse, None)
///     .error("write failed", &io, None)
///     .error("boxed", boxed, None)
///     .error("login refused", Attempt { user: "ada", tries: 3 }, None)
///     .error("by map", &HashMap::from([("code", 7)]), None)
///     .flush()?;
///
/// let records = mock.records();
/// let names: Vec<_> = records.iter().map(|r| r.error_name.as_deref()).collect();
/// assert_eq!(names, [Some("ParseIntError"), Some("io::Error"), Some("ParseIntError"), None, None]);
/// assert_eq!(records[3].data.as_ref().unwrap()["tries"], 3);
/// # Ok::<(), timber_core::Error>(())
/// ```
///
/// The trait is sealed; its type parameter only tells the kinds of
/// argument apart and is always inferred.
pub trait ErrorOrData<Kind>: sealed::Emit<Kind> {}

impl<T: sealed::Emit<K>, K> ErrorOrData<K> for T {}

/// The kinds of argument [`ErrorOrData`] tells apart; inferred, never named.
pub mod kinds {
    /// Data: anything `Serialize`.
    #[derive(Debug)]
    pub enum Data {}
    /// `&E` for a concrete error type.
    #[derive(Debug)]
    pub enum Concrete {}
    /// A trait object, boxed or borrowed.
    #[derive(Debug)]
    pub enum Erased {}
    /// A borrowed box of a trait object.
    #[derive(Debug)]
    pub enum BorrowedBox {}
    /// A ready [`ErrorPayload`](crate::ErrorPayload).
    #[derive(Debug)]
    pub enum Payload {}
    /// An `anyhow::Error`, owned or borrowed.
    #[cfg(feature = "anyhow")]
    #[derive(Debug)]
    pub enum Anyhow {}
    /// An `eyre::Report`, owned or borrowed.
    #[cfg(feature = "eyre")]
    #[derive(Debug)]
    pub enum Eyre {}
}

pub(crate) mod sealed {
    use super::*;

    /// Describes itself in an error record; the one method of [`ErrorOrData`].
    pub trait Emit<Kind> {
        #[doc(hidden)]
        fn describe(self, draft: &mut Draft<'_>);
    }
}

use sealed::Emit;

/// An error value: described now, with a backtrace captured (unresolved)
/// per the client's setting.
fn described(draft: &mut Draft<'_>, payload: ErrorPayload) {
    draft.payload(payload).backtrace();
}

impl<T: Serialize> Emit<kinds::Data> for T {
    #[inline]
    fn describe(self, draft: &mut Draft<'_>) {
        draft.data(self);
    }
}

impl<E: StdError + 'static> Emit<kinds::Concrete> for &E {
    fn describe(self, draft: &mut Draft<'_>) {
        described(
            draft,
            ErrorPayload::from_error(self, std::any::type_name::<E>()),
        )
    }
}

macro_rules! erased {
    ($kind:ident: $($ty:ty),* $(,)?) => {
        $(impl Emit<kinds::$kind> for $ty {
            fn describe(self, draft: &mut Draft<'_>) {
                described(draft, ErrorPayload::from_erased(&*self, "Error"))
            }
        })*
    };
}

erased!(Erased:
    &(dyn StdError + 'static),
    &(dyn StdError + Send + 'static),
    &(dyn StdError + Send + Sync + 'static),
    Box<dyn StdError + 'static>,
    Box<dyn StdError + Send + 'static>,
    Box<dyn StdError + Send + Sync + 'static>,
);

macro_rules! borrowed_box {
    ($($ty:ty),* $(,)?) => {
        $(impl Emit<kinds::BorrowedBox> for $ty {
            fn describe(self, draft: &mut Draft<'_>) {
                (&**self).describe(draft)
            }
        })*
    };
}

borrowed_box!(
    &Box<dyn StdError + 'static>,
    &Box<dyn StdError + Send + 'static>,
    &Box<dyn StdError + Send + Sync + 'static>,
);

impl Emit<kinds::Payload> for ErrorPayload {
    fn describe(self, draft: &mut Draft<'_>) {
        match self {
            payload @ ErrorPayload::Error { .. } => described(draft, payload),
            payload => {
                draft.payload(payload);
            }
        }
    }
}

/// Describes an error chain by its outermost message and its root cause's type.
#[cfg(any(feature = "anyhow", feature = "eyre"))]
fn chain_payload(
    error: &(dyn StdError + Send + Sync + 'static),
    root: &(dyn StdError + 'static),
    fallback: &str,
) -> ErrorPayload {
    let name = crate::record::error_payload::best_name(root).unwrap_or_else(|| fallback.to_owned());
    ErrorPayload::named(error, name)
}

#[cfg(feature = "anyhow")]
impl Emit<kinds::Anyhow> for &anyhow::Error {
    fn describe(self, draft: &mut Draft<'_>) {
        described(
            draft,
            chain_payload(self.as_ref(), self.root_cause(), "anyhow::Error"),
        )
    }
}

#[cfg(feature = "anyhow")]
impl Emit<kinds::Anyhow> for anyhow::Error {
    fn describe(self, draft: &mut Draft<'_>) {
        (&self).describe(draft)
    }
}

#[cfg(feature = "eyre")]
impl Emit<kinds::Eyre> for &eyre::Report {
    fn describe(self, draft: &mut Draft<'_>) {
        described(
            draft,
            chain_payload(self.as_ref(), self.root_cause(), "eyre::Report"),
        )
    }
}

#[cfg(feature = "eyre")]
impl Emit<kinds::Eyre> for eyre::Report {
    fn describe(self, draft: &mut Draft<'_>) {
        (&self).describe(draft)
    }
}
