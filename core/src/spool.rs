//! The optional on-disk spool: batches that could not be delivered are
//! written here crash-safely and sent first at the next start.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::{now_millis, Batch};

const EXTENSION: &str = "batch.json";

/// Where and how much to spool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolConfig {
    /// The directory of the spool files (created if missing).
    pub dir: PathBuf,
    /// Most bytes the spool may hold; batches beyond are refused (and counted).
    pub max_bytes: u64,
}

/// Why a batch could not be spooled.
#[derive(Debug)]
pub(crate) enum SpoolError {
    Full { needed: u64, free: u64 },
    Io(io::Error),
}

impl std::fmt::Display for SpoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpoolError::Full { needed, free } => {
                write!(f, "spool full: {needed} bytes needed, {free} free")
            }
            SpoolError::Io(e) => write!(f, "spool write failed: {e}"),
        }
    }
}

pub(crate) struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    used: Mutex<u64>,
    seq: AtomicU64,
    /// Held while the client runs: one client per directory (two would
    /// send each other's files and set aside files still being written).
    lock: Mutex<Option<File>>,
}

impl Spool {
    /// Opens the spool, locking its directory for this client and removing
    /// what a crash left half-written.
    pub(crate) fn open(config: &SpoolConfig) -> io::Result<Spool> {
        fs::create_dir_all(&config.dir)?;
        let lock = File::create(config.dir.join(".lock"))?;
        match fs4::FileExt::try_lock(&lock) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "another client uses this spool directory (one client per directory)",
                ))
            }
            Err(fs4::TryLockError::Error(e)) => return Err(e),
        }
        // Only the lock holder writes here: a temporary file now is from a
        // writer that died before renaming it.
        for entry in fs::read_dir(&config.dir)?.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                let _ = fs::remove_file(path);
            }
        }
        let spool = Spool {
            dir: config.dir.clone(),
            max_bytes: config.max_bytes,
            used: Mutex::new(0),
            seq: AtomicU64::new(0),
            lock: Mutex::new(Some(lock)),
        };
        let used = spool
            .files()?
            .iter()
            .filter_map(|p| fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        *spool.used.lock().unwrap_or_else(|e| e.into_inner()) = used;
        Ok(spool)
    }

    /// Lets another client take the directory (this one has stopped).
    pub(crate) fn release(&self) {
        self.lock.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Spool files, oldest first (names start with the time they were written).
    pub(crate) fn files(&self) -> io::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(EXTENSION))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// Writes a batch: temporary file, fsync, rename, fsync of the directory,
    /// so a crash leaves either the whole file or none.
    pub(crate) fn write(&self, batch: &Batch) -> Result<(), SpoolError> {
        let body = batch.json();
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let needed = body.len() as u64;
        if *used + needed > self.max_bytes {
            return Err(SpoolError::Full {
                needed,
                free: self.max_bytes.saturating_sub(*used),
            });
        }
        let name = format!(
            "{:013}-{:06}-{}.{EXTENSION}",
            now_millis().max(0),
            self.seq.fetch_add(1, Ordering::Relaxed),
            batch.idempotency_key()
        );
        let tmp = self.dir.join(format!("{name}.tmp"));
        let write = || -> io::Result<()> {
            let mut file = File::create(&tmp)?;
            file.write_all(body)?;
            file.sync_all()?;
            fs::rename(&tmp, self.dir.join(&name))?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            SpoolError::Io(e)
        })?;
        *used += needed;
        Ok(())
    }

    /// Reads a spool file (the batch's body; its key is in the name);
    /// `Err` for a corrupt or truncated one.
    pub(crate) fn read(&self, path: &Path) -> Result<Batch, String> {
        let bytes = fs::read(path).map_err(|e| e.to_string())?;
        Batch::from_json(&bytes, key_of(path))
    }

    /// Deletes a delivered file.
    pub(crate) fn remove(&self, path: &Path) -> io::Result<()> {
        let len = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        fs::remove_file(path)?;
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(len);
        Ok(())
    }

    /// Moves a corrupt file aside (`.corrupt`), out of the way of later starts.
    pub(crate) fn set_aside(&self, path: &Path) -> PathBuf {
        let aside = path.with_extension("corrupt");
        let len = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if fs::rename(path, &aside).is_ok() {
            let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
            *used = used.saturating_sub(len);
        }
        aside
    }
}

/// The idempotency key in a spool file's name (`{time}-{seq}-{key}.batch.json`);
/// a fresh one when the name was changed.
fn key_of(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let key = name
        .strip_suffix(EXTENSION)
        .and_then(|n| n.strip_suffix('.'))
        .and_then(|n| n.rsplit('-').next())
        .filter(|k| k.len() == 32 && k.bytes().all(|b| b.is_ascii_alphanumeric()));
    key.map_or_else(crate::batch::new_key, str::to_owned)
}
