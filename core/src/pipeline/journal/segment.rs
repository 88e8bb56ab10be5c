//! One file of the journal: a header (the run it belongs to, the resource
//! of its records, how far that run had delivered), then frames, in a file
//! allocated at its full size and mapped into memory, so that appending a
//! frame is a copy into the page cache, which outlives a crash of the
//! process (`kill -9`, `abort`, a segfault).

use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use memmap2::MmapMut;

use super::codec::{self, Frame, Read, Write};
use crate::rt::os;

const MAGIC: &[u8; 8] = b"TMBRJRN2";
/// Where frames start; the header fits in what comes before.
pub(crate) const HEADER: usize = 4096;
const WATERMARK_AT: usize = 16;
const RESOURCE_AT: usize = 28;
/// The file name's ending.
pub(crate) const EXTENSION: &str = "journal";

/// A segment this process writes.
pub(crate) struct Segment {
    pub(crate) path: PathBuf,
    map: MmapMut,
    at: usize,
    /// The highest sequence number of a record in it (0 if none).
    pub(crate) last_seq: u64,
}

impl Segment {
    /// Creates `path`, `size` bytes allocated on disk (a full disk fails
    /// here, not at a later write), with its header.
    pub(crate) fn create(
        path: PathBuf,
        size: usize,
        run: u64,
        resource: &[u8],
        watermark: u64,
    ) -> io::Result<Segment> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        let made = (|| {
            fs4::FileExt::allocate(&file, size as u64)?;
            file.set_len(size as u64)?;
            os::map_file(&file)
        })();
        let mut map = match made {
            Ok(map) => map,
            Err(e) => {
                drop(file);
                let _ = fs::remove_file(&path);
                return Err(e);
            }
        };
        prefault(&mut map);
        Ok(Segment::with_header(path, map, run, resource, watermark))
    }

    /// Makes the segment file `old`, whose records are all resolved, the
    /// new segment `path`: its blocks and cached pages are reused rather
    /// than a file created and allocated. Its frames are zeroed first, from
    /// the first on, so that a crash at any point leaves a file that holds
    /// no frame (a zero length ends the frames), under either name.
    pub(crate) fn recycle(
        old: &Path,
        path: PathBuf,
        size: usize,
        run: u64,
        resource: &[u8],
    ) -> io::Result<Segment> {
        let file = OpenOptions::new().read(true).write(true).open(old)?;
        if file.metadata()?.len() != size as u64 {
            return Err(io::Error::other("a segment of another size"));
        }
        let mut map = os::map_file(&file)?;
        prefault(&mut map);
        map[HEADER..].fill(0);
        // Its watermark is set when it becomes the current segment.
        let segment = Segment::with_header(path, map, run, resource, 0);
        // Linked then unlinked, not renamed: a rename would replace a file
        // of that name (one a caller made meanwhile, being written).
        fs::hard_link(old, &segment.path)?;
        let _ = fs::remove_file(old);
        Ok(segment)
    }

    fn with_header(
        path: PathBuf,
        mut map: MmapMut,
        run: u64,
        resource: &[u8],
        watermark: u64,
    ) -> Segment {
        let resource = &resource[..resource.len().min(HEADER - RESOURCE_AT)];
        map[..8].copy_from_slice(MAGIC);
        map[8..16].copy_from_slice(&run.to_le_bytes());
        map[WATERMARK_AT..WATERMARK_AT + 8].copy_from_slice(&watermark.to_le_bytes());
        map[24..28].copy_from_slice(&(resource.len() as u32).to_le_bytes());
        map[RESOURCE_AT..RESOURCE_AT + resource.len()].copy_from_slice(resource);
        Segment {
            path,
            map,
            at: HEADER,
            last_seq: 0,
        }
    }

    /// Writes `frame`; false when it does not fit.
    pub(crate) fn append(&mut self, frame: Write<'_>) -> bool {
        let Some(size) = self
            .map
            .get_mut(self.at..)
            .and_then(|room| codec::write(room, frame))
        else {
            return false;
        };
        self.at += size;
        if let Write::Record(seq, _) = frame {
            self.last_seq = seq;
        }
        true
    }

    /// Records that everything below `watermark` is resolved.
    pub(crate) fn set_watermark(&mut self, watermark: u64) {
        self.map[WATERMARK_AT..WATERMARK_AT + 8].copy_from_slice(&watermark.to_le_bytes());
    }
}

/// A segment left by an earlier run, read back.
pub(crate) struct Written {
    pub(crate) run: u64,
    pub(crate) watermark: u64,
    pub(crate) resource: String,
    pub(crate) frames: Vec<Frame>,
    /// Whether the frames end in a torn or damaged one.
    pub(crate) torn: bool,
}

/// Faults every page of `map` in, writable, now (on the worker, making a
/// spare): a page of a file's map faults on its first write, and that
/// fault (a thousand for a segment) would otherwise fall on logging calls.
/// One call where the kernel offers it (`MADV_POPULATE_WRITE`, Linux 5.14),
/// else a write to each page.
fn prefault(map: &mut MmapMut) {
    #[cfg(target_os = "linux")]
    if map.advise(memmap2::Advice::PopulateWrite).is_ok() {
        return;
    }
    for page in (HEADER..map.len()).step_by(4096) {
        map[page] = 0;
    }
}

/// Reads a segment file; `Err` when it is not one (or cannot be read).
pub(crate) fn read(path: &Path) -> io::Result<Written> {
    let bytes = fs::read(path)?;
    let not_one = || io::Error::new(io::ErrorKind::InvalidData, "not a journal segment");
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(not_one());
    }
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
    let resource_len = u32::from_le_bytes(bytes[24..28].try_into().unwrap_or([0; 4])) as usize;
    let resource = bytes
        .get(RESOURCE_AT..RESOURCE_AT + resource_len)
        .ok_or_else(not_one)?;
    let mut written = Written {
        run: u64_at(8),
        watermark: u64_at(WATERMARK_AT),
        resource: String::from_utf8_lossy(resource).into_owned(),
        frames: Vec::new(),
        torn: false,
    };
    let mut at = HEADER;
    loop {
        match codec::read(&bytes[at..]) {
            Read::Frame(frame, len) => {
                written.frames.push(frame);
                at += len;
            }
            Read::End => break,
            Read::Torn => {
                written.torn = true;
                break;
            }
        }
    }
    Ok(written)
}

/// The journal's segment files in `dir`, in name order (run, then index).
pub(crate) fn list(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == EXTENSION))
        .collect();
    files.sort();
    Ok(files)
}
