//! Random tokens: a `$GITHUB_OUTPUT` delimiter, a `::stop-commands::` fence.
//! A leaf module.

/// 128 random bits as hex, from the kernel; the clock and pid when
/// `/dev/urandom` cannot be read.
pub fn hex128() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        use sha2::Digest;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let seed = format!("{nanos}-{}-{:p}", std::process::id(), &bytes);
        bytes.copy_from_slice(&sha2::Sha256::digest(seed.as_bytes())[..16]);
    }
    hex::encode(bytes)
}
