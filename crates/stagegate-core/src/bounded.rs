//! Reading what stagegate did not write, with a ceiling: a server's answer
//! (Consul, ServiceNow) or a document of the state directory is read into
//! memory only up to a bound, so a hostile peer or a planted file costs an
//! error, never all of the runner's memory.
//!
//! A leaf: it imports nothing else from the crate.

use std::io::{self, Read};

/// A server's answer: JSON documents of a few kilobytes; Consul caps a value at 512 KiB.
pub const ANSWER: usize = 8 << 20;

/// A listing of many keys (Consul `?recurse`): the App's pending requests,
/// about a kilobyte each — room for tens of thousands.
pub const LISTING: usize = 64 << 20;

/// A document of the state directory (records, registries, the local forge).
pub const STATE_DOCUMENT: u64 = 256 << 20;

/// A lock file: one small JSON record.
pub const LOCK_FILE: u64 = 64 << 10;

/// Why an answer was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the answer is larger than {}; not read", size(*.limit as u64))]
    TooLarge { limit: usize },
    #[error("{0}")]
    Http(#[from] reqwest::Error),
}

/// The body of `resp`, refused once it passes `limit` bytes.
pub async fn body(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if out.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// [`body`] as text (invalid UTF-8 replaced).
pub async fn text(resp: reqwest::Response, limit: usize) -> Result<String, BodyError> {
    body(resp, limit).await.map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// All of an open file, refused (`InvalidData`) when it is larger than
/// `limit` bytes: at once when its size says so (a sparse terabyte costs
/// nothing), else once reading passes the bound.
pub fn read_file(f: std::fs::File, limit: u64) -> io::Result<Vec<u8>> {
    if f.metadata()?.len() > limit {
        return Err(too_large(limit));
    }
    read(f, limit)
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("larger than {}: not a file stagegate wrote", size(limit)))
}

/// All of `r`, refused (`InvalidData`) once it passes `limit` bytes.
pub fn read(r: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    r.take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(out)
}

/// A bound in words: `8 MiB`, `64 KiB`.
pub fn size(n: u64) -> String {
    if n >= 1 << 20 { format!("{} MiB", n >> 20) } else { format!("{} KiB", n >> 10) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_up_to_its_bound_and_refused_past_it() {
        assert_eq!(read(&b"0123456789"[..], 10).unwrap(), b"0123456789");
        let e = read(&b"0123456789A"[..], 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // An endless source ends at the bound.
        assert!(read(io::repeat(b'x'), 1 << 20).is_err());
    }
}
