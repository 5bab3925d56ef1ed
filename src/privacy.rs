//! Keyed pseudonyms for candidate ids and the small-segment suppression rule.
//!
//! The key comes from `NOSHOW_PSEUDONYM_KEY`, or from a file named by
//! `NOSHOW_PSEUDONYM_KEY_FILE` or `[privacy] key_file` that other users cannot read.
//! Without a key, callers must not write candidate-level tables at all: there is no
//! fallback to raw ids.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Segments with fewer closed interviews than this have their counts and rates nulled.
pub const DEFAULT_SUPPRESSION_THRESHOLD: u64 = 10;

/// Turns candidate ids into stable keyed pseudonyms (`c_` + 16 hex digits of HMAC-SHA256).
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(<key hidden>)")
    }
}

impl Pseudonymizer {
    pub fn from_key(key: &[u8]) -> anyhow::Result<Pseudonymizer> {
        if key.len() < 16 {
            bail!("the pseudonymisation key is too short ({} bytes; at least 16 are needed)", key.len());
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).context("building the pseudonymisation key")?;
        Ok(Pseudonymizer { mac })
    }

    /// The key from the environment or the key file; `Ok(None)` when none is configured.
    pub fn from_environment(key_file: Option<&Path>) -> anyhow::Result<Option<Pseudonymizer>> {
        if let Ok(key) = std::env::var("NOSHOW_PSEUDONYM_KEY") {
            if !key.trim().is_empty() {
                return Pseudonymizer::from_key(key.trim().as_bytes()).map(Some);
            }
        }
        let file: Option<PathBuf> = std::env::var_os("NOSHOW_PSEUDONYM_KEY_FILE")
            .map(PathBuf::from)
            .or_else(|| key_file.map(Path::to_path_buf));
        let Some(file) = file else { return Ok(None) };
        check_private(&file)?;
        let key = std::fs::read(&file).with_context(|| format!("reading pseudonymisation key {}", file.display()))?;
        let trimmed: &[u8] = key.trim_ascii();
        Pseudonymizer::from_key(trimmed).map(Some).with_context(|| format!("key file {}", file.display()))
    }

    /// The pseudonym of one candidate id.
    pub fn pseudonym(&self, candidate_id: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(candidate_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("c_{}", hex::encode(&digest[..8]))
    }
}

#[cfg(unix)]
fn check_private(file: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(file).with_context(|| format!("reading pseudonymisation key {}", file.display()))?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "pseudonymisation key {} is readable by other users (mode {:o}); run `chmod 600 {}`",
            file.display(),
            mode & 0o777,
            file.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_file: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// Whether a segment of `n` closed interviews is too small to publish.
pub fn suppressed(n: u64, threshold: u64) -> bool {
    n < threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_keyed_and_hide_the_id() {
        let a = Pseudonymizer::from_key(b"0123456789abcdef-key-one").unwrap();
        let b = Pseudonymizer::from_key(b"0123456789abcdef-key-two").unwrap();
        assert_eq!(a.pseudonym("cand-1"), a.pseudonym("cand-1"));
        assert_ne!(a.pseudonym("cand-1"), a.pseudonym("cand-2"));
        assert_ne!(a.pseudonym("cand-1"), b.pseudonym("cand-1"));
        assert!(!a.pseudonym("cand-1").contains("cand"));
        assert!(Pseudonymizer::from_key(b"short").is_err());
    }
}
