//! Project automation behind `cargo xtask` (see `main.rs` for the commands).
//!
//! A library as well as a binary so the integration tests can drive
//! `release` on a temporary copy of the repository.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arch;
pub mod bench;
pub mod ci;
pub mod cmd;
pub mod msrv;
pub mod package;
pub mod release;
pub mod soak;
pub mod workspace;

use std::path::PathBuf;

/// The workspace root: the parent of this crate's directory.
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}
