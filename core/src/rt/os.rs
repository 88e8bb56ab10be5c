//! What the operating system offers that `std` does not: the crate's only
//! `unsafe` code, each block with why it holds.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;

use memmap2::{MmapMut, MmapOptions};

/// Maps `file` (already sized and allocated) for reading and writing (the
/// journal faults its pages in before callers write them).
///
/// The map is only sound while nobody else truncates or writes the file:
/// the journal's files live in a spool directory that one client at a time
/// holds locked, and are only ever written through this map. A file that
/// another program shrinks anyway makes later access fault (`SIGBUS`), as
/// with any memory-mapped store.
pub(crate) fn map_file(file: &File) -> io::Result<MmapMut> {
    // SAFETY: memmap2's contract is that the file is not modified or
    // truncated behind the map for as long as it lives. The caller holds
    // the spool directory's exclusive lock, created the file itself (this
    // run, or it is one of this run's segments being recycled, checked to
    // have its full length) with its final length allocated on disk (no
    // hole a write could fail to back), and writes it only through one map
    // at a time; the map is dropped before the file is deleted.
    unsafe { MmapOptions::new().map_mut(file) }
}

/// Registers `hook` to run when the process exits (`std::process::exit`
/// from any thread, or `main` returning), after the exiting thread's own
/// thread-locals are torn down and while every other thread still runs.
#[cfg(unix)]
pub(crate) fn at_exit(hook: extern "C" fn()) -> io::Result<()> {
    // SAFETY: `atexit` only stores the function pointer, which stays valid
    // for the life of the process (a function item, not a closure); the C
    // library calls it with no arguments on the exiting thread, matching
    // its `extern "C" fn()` type; `hook` must not unwind, which its callers
    // ensure by catching every panic inside it.
    let refused = unsafe { libc::atexit(hook) } != 0;
    if refused {
        return Err(io::Error::other(
            "the C library refused another exit handler",
        ));
    }
    Ok(())
}

/// Without a C library exit handler: an error saying so.
#[cfg(not(unix))]
pub(crate) fn at_exit(_hook: extern "C" fn()) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "exit hooks are only offered on Unix",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_opened_read_only_is_not_mapped_for_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("segment");
        std::fs::write(&path, [0u8; 4096]).unwrap();
        let read_only = File::open(&path).unwrap();
        assert!(map_file(&read_only).is_err());
        let writable = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let mut map = map_file(&writable).unwrap();
        map[0] = 7;
        drop(map);
        assert_eq!(std::fs::read(&path).unwrap()[0], 7, "written through");
    }

    #[cfg(unix)]
    #[test]
    fn exit_hooks_are_accepted() {
        extern "C" fn nothing() {}
        at_exit(nothing).unwrap();
    }
}
