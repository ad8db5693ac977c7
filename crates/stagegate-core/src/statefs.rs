//! Files under stagegate's own directories (the state dir `.stagegate/`, the
//! `file://` store and KV) are data, never a path to somewhere else: the
//! checkout controls them, so a committed symbolic link there is an attack.
//!
//! Every open here refuses to follow a symbolic link in the last component
//! (`O_NOFOLLOW`), every directory on the way is checked to be a real
//! directory (not a link to one), and anything that is not a regular file or a
//! directory (a FIFO, socket, device) is refused without being waited on
//! (`O_NONBLOCK`). "On the way" means below the root, and the root itself; of
//! a relative root every component is checked too (it lies in the checkout),
//! while an absolute root's parents are the operator's choice and trusted.
//!
//! Refusals are `io::Error`s of kind `InvalidData` whose message says what the
//! path is; callers name the path, so the user reads e.g. "cannot open
//! `.stagegate/forge.json`: it is a symbolic link …".

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// What a path is, in words, for refusals.
fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

fn refused(what: &str, expected: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "it is {what}, not {expected}; stagegate never follows links or opens special files in its own directories"
        ),
    )
}

/// Is this error one of our refusals (as opposed to a plain I/O error)?
pub fn is_refusal(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidData
}

/// The directories of `root` that must be real, outermost first.
fn chain(root: &Path) -> Vec<PathBuf> {
    if root.is_absolute() {
        return vec![root.to_path_buf()];
    }
    let mut out = Vec::new();
    let mut at = PathBuf::new();
    for c in root.components() {
        at.push(c);
        if matches!(c, Component::Normal(_)) {
            out.push(at.clone());
        }
    }
    out
}

/// Checks (and with `create`, makes) one directory; `Ok(false)` when it is
/// missing and not created.
fn real_dir(dir: &Path, create: bool) -> io::Result<bool> {
    for _ in 0..2 {
        match fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_dir() => return Ok(true),
            Ok(m) => return Err(refused(kind(&m), "a directory")),
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => match fs::create_dir(dir) {
                Ok(()) => return Ok(true),
                // Someone made it meanwhile: look at what it is.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("it keeps changing while being created"))
}

/// Checks every directory from `root` down to `root/rel` (creating missing
/// ones when `create`). `Err` names the first offending directory in its
/// message's path; `Ok(false)`: one is missing and `create` is off.
pub fn dirs(root: &Path, rel: &Path, create: bool) -> Result<bool, (PathBuf, io::Error)> {
    let mut all = chain(root);
    let mut at = root.to_path_buf();
    for c in rel.components() {
        match c {
            Component::Normal(_) => {
                at.push(c);
                all.push(at.clone());
            }
            Component::CurDir => {}
            _ => {
                let e = io::Error::new(io::ErrorKind::InvalidInput, "a state path must stay below its root");
                return Err((root.join(rel), e));
            }
        }
    }
    if create && root.is_absolute() {
        // An absolute root's parents are trusted: made as they are.
        if let Some(parent) = root.parent() {
            fs::create_dir_all(parent).map_err(|e| (parent.to_path_buf(), e))?;
        }
    }
    for dir in all {
        match real_dir(&dir, create) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(e) => return Err((dir, e)),
        }
    }
    Ok(true)
}

/// `mkdir -p root/rel`, every directory on the way real (see [`dirs`]).
pub fn create_dir_all(root: &Path, rel: &Path) -> Result<(), (PathBuf, io::Error)> {
    dirs(root, rel, true).map(|_| ())
}

fn parent_of(rel: &Path) -> &Path {
    rel.parent().unwrap_or(Path::new(""))
}

fn regular(file: File) -> io::Result<File> {
    let meta = file.metadata()?;
    if meta.is_file() { Ok(file) } else { Err(refused(kind(&meta), "a regular file")) }
}

/// Opens with `O_NOFOLLOW | O_NONBLOCK` and insists on a regular file.
fn open_nofollow(path: &Path, opts: &mut OpenOptions) -> io::Result<File> {
    opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    match opts.open(path) {
        Ok(f) => regular(f),
        // ELOOP: the last component is a link.
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(refused("a symbolic link", "a regular file")),
        // ENXIO: a FIFO without a writer (opened write-only), or a socket.
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => match fs::symlink_metadata(path) {
            Ok(m) => Err(refused(kind(&m), "a regular file")),
            Err(_) => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// A state file open for reading; `None` when it (or a directory on the
/// way) does not exist. `Err` carries the path it is about.
pub fn open_read(root: &Path, rel: &Path) -> Result<Option<File>, (PathBuf, io::Error)> {
    if !dirs(root, parent_of(rel), false)? {
        return Ok(None);
    }
    let path = root.join(rel);
    match open_nofollow(&path, OpenOptions::new().read(true)) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err((path, e)),
    }
}

/// The whole content of a state file, `None` when it does not exist.
pub fn read(root: &Path, rel: &Path) -> Result<Option<Vec<u8>>, (PathBuf, io::Error)> {
    let Some(f) = open_read(root, rel)? else { return Ok(None) };
    crate::bounded::read_file(f, crate::bounded::STATE_DOCUMENT).map(Some).map_err(|e| (root.join(rel), e))
}

/// A state file open for reading and appending (created if missing, its
/// directories too).
pub fn open_append(root: &Path, rel: &Path) -> Result<File, (PathBuf, io::Error)> {
    create_dir_all(root, parent_of(rel))?;
    let path = root.join(rel);
    open_nofollow(&path, OpenOptions::new().read(true).append(true).create(true)).map_err(|e| (path, e))
}

/// A state file open for reading and writing, created if missing, never
/// truncated: lock files.
pub fn open_rw(root: &Path, rel: &Path) -> Result<File, (PathBuf, io::Error)> {
    create_dir_all(root, parent_of(rel))?;
    let path = root.join(rel);
    open_nofollow(&path, OpenOptions::new().read(true).write(true).create(true).truncate(false)).map_err(|e| (path, e))
}

/// Creates or truncates a file for writing, refusing a link or special
/// file in its place. The caller has checked its directory ([`create_dir_all`]).
pub fn create_file(path: &Path) -> io::Result<File> {
    open_nofollow(path, OpenOptions::new().write(true).create(true).truncate(true))
}

/// Refuses a path that exists as anything but a regular file (a link, a
/// directory, a FIFO…); absent is fine.
pub fn absent_or_file(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) => Err(refused(kind(&m), "a regular file")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// How [`write_atomic`] may treat an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Replace it (or create it).
    Any,
    /// Create only: `Ok(false)` when the name is taken.
    Never,
}

/// Writes `bytes` to `root/rel` whole or not at all: a temporary file beside
/// it (removed again on any error), synced, renamed into place. A link or
/// special file in its place is refused, never replaced.
pub fn write_atomic(root: &Path, rel: &Path, bytes: &[u8], replace: Replace) -> Result<bool, (PathBuf, io::Error)> {
    let dir = root.join(parent_of(rel));
    create_dir_all(root, parent_of(rel))?;
    let path = root.join(rel);
    absent_or_file(&path).map_err(|e| (path.clone(), e))?;
    let mut tmp = tempfile::Builder::new().prefix(".tmp").tempfile_in(&dir).map_err(|e| (dir.clone(), e))?;
    tmp.write_all(bytes).map_err(|e| (tmp.path().to_path_buf(), e))?;
    tmp.as_file().sync_all().map_err(|e| (tmp.path().to_path_buf(), e))?;
    match replace {
        Replace::Any => tmp.persist(&path).map(|_| true).map_err(|e| (path, e.error)),
        Replace::Never => match tmp.persist_noclobber(&path) {
            Ok(_) => Ok(true),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err((path, e.error)),
        },
    }
}

/// Appends `line` (which ends in `\n`) to `file` whole or not at all: a file
/// that does not end in a newline (a torn last line) gets one first, so the
/// new line never glues onto it, and a failed write or sync is cut back to the
/// previous length. The caller holds whatever lock serialises appends.
pub fn append_line(file: &mut File, line: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    let len = file.metadata()?.len();
    let mut buf = Vec::with_capacity(line.len() + 1);
    if len > 0 {
        let mut last = [0u8; 1];
        file.read_exact_at(&mut last, len - 1)?;
        if last[0] != b'\n' {
            buf.push(b'\n');
        }
    }
    buf.extend_from_slice(line);
    let written = file.write_all(&buf).and_then(|()| file.sync_all());
    if let Err(e) = written {
        // Whole line or nothing: what was written of it is taken back.
        let _ = file.set_len(len);
        let _ = file.sync_all();
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_and_fifos_are_refused_and_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("state");
        fs::create_dir(&root).unwrap();
        let outside = d.path().join("outside");
        fs::write(&outside, "keep").unwrap();
        symlink(&outside, root.join("doc.json")).unwrap();
        let (path, e) = read(&root, Path::new("doc.json")).unwrap_err();
        assert!(is_refusal(&e) && path.ends_with("doc.json"), "{e}");
        let (_, e) = write_atomic(&root, Path::new("doc.json"), b"x", Replace::Any).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(fs::read_to_string(&outside).unwrap(), "keep");
        let out_dir = d.path().join("elsewhere");
        fs::create_dir(&out_dir).unwrap();
        symlink(&out_dir, root.join("sub")).unwrap();
        let (path, _) = write_atomic(&root, Path::new("sub/x.json"), b"x", Replace::Any).unwrap_err();
        assert!(path.ends_with("sub"));
        assert_eq!(fs::read_dir(&out_dir).unwrap().count(), 0);
        let fifo = root.join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let (_, e) = read(&root, Path::new("fifo")).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        let (_, e) = open_append(&root, Path::new("fifo")).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
    }

    #[test]
    fn an_append_never_glues_onto_a_torn_line() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("a.jsonl"), "{\"a\":1}\n{\"tor").unwrap();
        let mut f = open_append(d.path(), Path::new("a.jsonl")).unwrap();
        append_line(&mut f, b"{\"b\":2}\n").unwrap();
        let text = fs::read_to_string(d.path().join("a.jsonl")).unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"tor\n{\"b\":2}\n");
    }
}
