//! Client configuration: the validated [`Config`] a client runs with, its
//! [`ClientBuilder`], the settings read from the environment ([`ENV_VARS`]),
//! and the [`OverflowPolicy`] of the queue.

pub(crate) mod builder;
pub(crate) mod check;
pub(crate) mod env;
pub(crate) mod from_env;
pub(crate) mod hooks;
pub(crate) mod overflow;
pub(crate) mod settings;

pub use builder::ClientBuilder;
pub use env::{EnvVar, ENV_VARS};
pub use overflow::OverflowPolicy;
pub use settings::{Config, OnError, RawValidator, SpoolConfig, DEFAULT_BASE_URL};
