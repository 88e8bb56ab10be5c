//! The optional on-disk spool: batches that could not be delivered are
//! written here crash-safely, as the protocol's JSON records, and sent
//! first at the next start.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::config::settings::SpoolConfig;
use crate::record::log_record::LogRecord;
use crate::record::record::Record;
use crate::rt::wall_clock::now_millis;
use crate::transport::batch::{new_key, Batch, Resource};

const EXTENSION: &str = "batch.json";

/// Why a batch could not be spooled.
#[derive(Debug)]
enum SpoolError {
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
    fn write(&self, batch: &Batch) -> Result<(), SpoolError> {
        // Records of this crate's making serialize without fail.
        let body = serde_json::to_vec(&batch.log_records()).unwrap_or_default();
        let body = &body[..];
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

    /// Reads a spool file (its records; its key is in the name), under the
    /// resource its records carry (`current` if they carry none); `Err` for
    /// a corrupt or truncated one.
    pub(crate) fn read(&self, path: &Path, current: &Arc<Resource>) -> Result<Batch, String> {
        let bytes = fs::read(path).map_err(|e| e.to_string())?;
        let records: Vec<LogRecord> = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let resource = match records.first() {
            Some(LogRecord {
                source: Some(source),
                environment,
                version,
                ..
            }) => Arc::new(Resource::new(
                source.clone(),
                environment.unwrap_or(current.environment),
                version.clone(),
            )),
            _ => current.clone(),
        };
        let records = records.into_iter().map(Record::from).collect();
        Ok(Batch::with_key(resource, records, key_of(path)))
    }

    /// Writes batches, in order; a batch the spool has no room for is
    /// halved until what fits is written. Returns how many records were
    /// written, and why the others were not.
    pub(crate) fn spill(&self, batches: Vec<Batch>) -> (u64, Option<String>) {
        let mut todo: VecDeque<Batch> = batches.into();
        let (mut written, mut refused) = (0, 0);
        let mut last_error = None;
        while let Some(batch) = todo.pop_front() {
            match self.write(&batch) {
                Ok(()) => written += batch.len() as u64,
                Err(SpoolError::Full { .. }) if batch.len() > 1 => {
                    let (a, b) = batch.split();
                    todo.push_front(b);
                    todo.push_front(a);
                }
                Err(e) => {
                    refused += batch.len();
                    last_error = Some(e);
                }
            }
        }
        let report = last_error.map(|e| format!("{refused} record(s) not spooled: {e}"));
        (written, report)
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
    key.map_or_else(new_key, str::to_owned)
}
