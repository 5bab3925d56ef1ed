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
        let env_key = std::env::var("NOSHOW_PSEUDONYM_KEY").ok();
        let env_file = std::env::var_os("NOSHOW_PSEUDONYM_KEY_FILE").map(PathBuf::from);
        Pseudonymizer::from_sources(env_key.as_deref(), env_file.as_deref(), key_file)
    }

    /// The key from its sources in order of precedence: the key itself, the file named
    /// by the environment, the configured file. A key file other users can read is refused.
    pub fn from_sources(env_key: Option<&str>, env_file: Option<&Path>, key_file: Option<&Path>) -> anyhow::Result<Option<Pseudonymizer>> {
        if let Some(key) = env_key {
            if !key.trim().is_empty() {
                return Pseudonymizer::from_key(key.trim().as_bytes()).map(Some);
            }
        }
        let Some(file) = env_file.or(key_file) else { return Ok(None) };
        check_private(file)?;
        let key = std::fs::read(file).with_context(|| format!("reading pseudonymisation key {}", file.display()))?;
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

    #[cfg(unix)]
    #[test]
    fn key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "0123456789abcdef-from-a-file\n").unwrap();
        for mode in [0o644, 0o640, 0o604] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let err = Pseudonymizer::from_sources(None, None, Some(&file)).unwrap_err();
            assert!(format!("{err:#}").contains("readable by other users"), "mode {mode:o}: {err:#}");
            // The environment's file name takes precedence over the configured one, and is checked too.
            assert!(Pseudonymizer::from_sources(None, Some(&file), None).is_err());
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let from_file = Pseudonymizer::from_sources(None, None, Some(&file)).unwrap().unwrap();
        let direct = Pseudonymizer::from_key(b"0123456789abcdef-from-a-file").unwrap();
        assert_eq!(from_file.pseudonym("c1"), direct.pseudonym("c1"), "the key file's trailing newline is not part of the key");
        // The key itself wins over any file; nothing configured means no key (no fallback).
        assert!(Pseudonymizer::from_sources(Some("0123456789abcdef-env"), Some(Path::new("/nonexistent")), None).unwrap().is_some());
        assert!(Pseudonymizer::from_sources(None, None, None).unwrap().is_none());
        assert!(Pseudonymizer::from_sources(Some("  "), None, None).unwrap().is_none());
    }
}
