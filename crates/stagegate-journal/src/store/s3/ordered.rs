//! A transfer's sha256, computed in file order on a thread of its own while the
//! network moves the file's ranges in parallel: the runtime's thread only
//! receives and sends, the hashing runs on the other core.
//!
//! Download: ranges are written in place (`pwrite` at their offset) as they
//! arrive; the hasher follows the contiguous written prefix, reading it back
//! from the page cache. Upload: the hasher reads the file once, in order, for
//! the whole file's sha256 and each part's CRC32; a part is sent, streamed from
//! the file, once its CRC32 is known, and S3 refuses a part whose bytes differ
//! from what was hashed (a file changed behind our back).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};

/// What the hasher reads at a time.
const READ: usize = 1 << 20;
/// It waits for this much new data (or the end) before reading again, so a
/// stream of small network chunks is not read back in small pieces.
const MIN_READ: u64 = 256 << 10;

/// How far each range of a download has been written: shared by the range
/// writers and the hasher that follows them.
pub struct Frontier {
    range: u64,
    total: u64,
    written: Vec<AtomicU64>,
    stop: AtomicBool,
    hasher: OnceLock<std::thread::Thread>,
}

impl Frontier {
    pub fn new(total: u64, range: u64) -> Arc<Frontier> {
        let ranges = total.div_ceil(range) as usize;
        Arc::new(Frontier {
            range,
            total,
            written: (0..ranges).map(|_| AtomicU64::new(0)).collect(),
            stop: AtomicBool::new(false),
            hasher: OnceLock::new(),
        })
    }

    pub fn ranges(&self) -> u64 {
        self.written.len() as u64
    }

    /// Start and end (exclusive) of range `i`.
    pub fn bounds(&self, i: u64) -> (u64, u64) {
        let start = i * self.range;
        (start, (start + self.range).min(self.total))
    }

    /// `n` more bytes of range `i` are in the file (a range is written in order).
    pub fn advance(&self, i: u64, n: u64) {
        self.written[i as usize].fetch_add(n, Ordering::Release);
        self.wake();
    }

    /// The download failed: the hasher stops.
    pub fn abort(&self) {
        self.stop.store(true, Ordering::Release);
        self.wake();
    }

    fn wake(&self) {
        if let Some(t) = self.hasher.get() {
            t.unpark();
        }
    }

    /// The end of the written prefix, starting the scan at range `*from`
    /// (advanced past every complete range).
    fn prefix(&self, from: &mut u64) -> u64 {
        while *from < self.ranges() {
            let (start, end) = self.bounds(*from);
            let done = self.written[*from as usize].load(Ordering::Acquire);
            if start + done < end {
                return start + done;
            }
            *from += 1;
        }
        self.total
    }
}

/// Follows a download's written prefix in `file` and returns its sha256 once
/// all `total` bytes are hashed; `None` when aborted. Blocking: run it on a
/// thread of its own.
pub fn follow(file: &File, frontier: &Frontier) -> std::io::Result<Option<[u8; 32]>> {
    let _ = frontier.hasher.set(std::thread::current());
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; READ];
    let (mut pos, mut from) = (0u64, 0u64);
    while pos < frontier.total {
        if frontier.stop.load(Ordering::Acquire) {
            return Ok(None);
        }
        let upto = frontier.prefix(&mut from);
        if upto - pos < MIN_READ.min(frontier.total - pos) {
            // Woken by every write; the timeout only bounds a missed wake-up.
            std::thread::park_timeout(Duration::from_millis(20));
            continue;
        }
        let n = (upto - pos).min(READ as u64) as usize;
        file.read_exact_at(&mut buf[..n], pos)?;
        hasher.update(&buf[..n]);
        pos += n as u64;
    }
    Ok(Some(hasher.finalize().into()))
}

/// One part of an upload, ready to go: its number (from 1), place and CRC32
/// (base64, as S3's `x-amz-checksum-crc32` wants it).
pub struct Part {
    pub number: i32,
    pub offset: u64,
    pub len: u64,
    pub crc32: String,
}

/// Reads the first `size` bytes of `file` in order: hands each part to `ready`
/// as soon as its CRC32 is known, and returns the sha256 of all of them. Stops
/// early (with `None`) when `ready` says so. Blocking: run it on a thread of its own.
pub fn parts(
    file: &File,
    size: u64,
    part_size: u64,
    mut ready: impl FnMut(Part) -> bool,
) -> std::io::Result<Option<[u8; 32]>> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; READ];
    let (mut pos, mut number) = (0u64, 1);
    while pos < size {
        let len = part_size.min(size - pos);
        let mut crc = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32IsoHdlc);
        let mut at = pos;
        while at < pos + len {
            let n = (pos + len - at).min(READ as u64) as usize;
            file.read_exact_at(&mut buf[..n], at).map_err(|e| shrank(e, size))?;
            hasher.update(&buf[..n]);
            crc.update(&buf[..n]);
            at += n as u64;
        }
        let crc32 = base64::engine::general_purpose::STANDARD.encode((crc.finalize() as u32).to_be_bytes());
        if !ready(Part { number, offset: pos, len, crc32 }) {
            return Ok(None);
        }
        pos += len;
        number += 1;
    }
    Ok(Some(hasher.finalize().into()))
}

fn shrank(e: std::io::Error, size: u64) -> std::io::Error {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        std::io::Error::new(e.kind(), format!("the file became shorter than {size} bytes while it was read"))
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn the_hasher_follows_ranges_written_out_of_order() {
        let bytes = data(3 * 1000 + 17);
        let tmp = tempfile::NamedTempFile::new().unwrap();
        let file = Arc::new(tmp.reopen().unwrap());
        let frontier = Frontier::new(bytes.len() as u64, 1000);
        let (f, fr) = (file.clone(), frontier.clone());
        let hasher = std::thread::spawn(move || follow(&f, &fr));
        // Last range first, the first one in two pieces, the rest after.
        for i in [3u64, 1, 0, 2] {
            let (start, end) = frontier.bounds(i);
            let (start, end) = (start as usize, end as usize);
            let mid = (start + end) / 2;
            for (a, b) in [(start, mid), (mid, end)] {
                file.write_all_at(&bytes[a..b], a as u64).unwrap();
                frontier.advance(i, (b - a) as u64);
            }
        }
        let got = hasher.join().unwrap().unwrap().unwrap();
        assert_eq!(got, <[u8; 32]>::from(Sha256::digest(&bytes)));
    }

    #[test]
    fn an_aborted_download_stops_the_hasher() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        let file = tmp.reopen().unwrap();
        let frontier = Frontier::new(10 << 20, 1 << 20);
        let fr = frontier.clone();
        let hasher = std::thread::spawn(move || follow(&file, &fr));
        frontier.abort();
        assert!(hasher.join().unwrap().unwrap().is_none());
    }

    #[test]
    fn parts_carry_their_crc32_and_the_whole_file_its_sha256() {
        let bytes = data(2500);
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), &bytes).unwrap();
        let mut seen = Vec::new();
        let sha = parts(tmp.as_file(), bytes.len() as u64, 1000, |p| {
            seen.push(p);
            true
        })
        .unwrap()
        .unwrap();
        assert_eq!(sha, <[u8; 32]>::from(Sha256::digest(&bytes)));
        let spans: Vec<_> = seen.iter().map(|p| (p.number, p.offset, p.len)).collect();
        assert_eq!(spans, [(1, 0, 1000), (2, 1000, 1000), (3, 2000, 500)]);
        let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, &bytes[1000..2000]) as u32;
        assert_eq!(seen[1].crc32, base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes()));
        // A file that shrank under the reader is an error, not a short upload.
        let err = parts(tmp.as_file(), 4000, 1000, |_| true).unwrap_err();
        assert!(err.to_string().contains("shorter"), "{err}");
    }
}
