//! Finding the raw input files and reading them as capped, UTF-8-checked physical lines
//! (gzip, byte-order mark, LF/CRLF). Knows nothing of CSV or JSON: the readers in
//! `csv_reader` and `jsonl_reader` build rows from the lines this module hands out.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use super::record::InputKind;

/// The longest row (CSV record, all its physical lines together) or JSON line read whole.
/// A longer one is set aside as `line_too_long` and skipped without being held in
/// memory, so a 100 MB line costs no more memory than a 1 MiB one.
pub const MAX_ROW_BYTES: usize = 1 << 20;

/// The longest raw text kept in a [`Problem`](super::record::Problem); longer rows are
/// cut (at a character boundary) and marked as cut.
pub const MAX_RAW_BYTES: usize = 4 << 10;

/// Progress is reported after at least this many more bytes were read from disk.
const PROGRESS_STEP: u64 = 1 << 20;

/// The reason codes of problems the readers report (the `reason` column of
/// `LAKE/rejected/`).
pub mod reasons {
    /// A required field is absent, empty, or JSON `null`.
    pub const MISSING_FIELD: &str = "missing_field";
    pub const BAD_TIMESTAMP: &str = "bad_timestamp";
    /// Not one of the field's enumerated values.
    pub const BAD_ENUM: &str = "bad_enum";
    pub const BAD_BOOL: &str = "bad_bool";
    pub const BAD_DECIMAL: &str = "bad_decimal";
    /// A JSON value of the wrong type (an id that is a float or a boolean, a number
    /// where a string belongs).
    pub const BAD_TYPE: &str = "bad_type";
    /// `scheduled_at` more than a minute before `invited_at`.
    pub const SCHEDULED_BEFORE_INVITED: &str = "scheduled_before_invited";
    /// A CSV row with a different number of fields than the header.
    pub const WRONG_FIELD_COUNT: &str = "wrong_field_count";
    /// A CSV quote still open at the end of the file: the rest of the file is one row.
    pub const UNTERMINATED_QUOTE: &str = "unterminated_quote";
    /// A row or line longer than [`super::MAX_ROW_BYTES`].
    pub const LINE_TOO_LONG: &str = "line_too_long";
    pub const INVALID_JSON: &str = "invalid_json";
    pub const NOT_AN_OBJECT: &str = "not_an_object";
    pub const DUPLICATE_KEY: &str = "duplicate_key";
    /// A warning: an id field holds a placeholder such as `N/A` (the row is kept).
    pub const PLACEHOLDER_ID: &str = "placeholder_id";
}

/// Why a whole file (or the raw folder) cannot be read. Each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("raw folder {} does not exist", .0.display())]
    RawMissing(PathBuf),
    #[error("raw folder {} is not a folder", .0.display())]
    RawNotFolder(PathBuf),
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: io::Error,
    },
    #[error("{file}: not a valid gzip file ({source})")]
    BrokenGzip {
        file: String,
        #[source]
        source: io::Error,
    },
    #[error("{file}, line {line}: not UTF-8 text (format v1 files must be UTF-8; an export in GB18030/GBK or UTF-16 is read through an [[input.source]] block with `encoding`, see docs/input-mapping.md)")]
    NotUtf8 { file: String, line: u64 },
    #[error("{file}: empty file, no header row")]
    NoHeader { file: String },
    /// A whole file that cannot be decoded (a damaged or encrypted workbook, text not
    /// valid in the chosen encoding); the reason says what to do.
    #[error("{file}: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file}, line {line}: header row unreadable: {reason}")]
    BadHeader { file: String, line: u64, reason: String },
    #[error("{file}: missing required column(s) {} (the header has: {})", .columns.join(", "), .header.join(", "))]
    MissingColumns { file: String, columns: Vec<String>, header: Vec<String> },
    #[error("{file}: duplicate column name(s) {} in the header", .columns.join(", "))]
    DuplicateColumns { file: String, columns: Vec<String> },
}

/// One raw input file.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    /// Path relative to the raw folder, `/`-separated: the `file` of every origin.
    pub rel: Arc<str>,
    pub kind: InputKind,
    pub gzip: bool,
    /// Size on disk (compressed, for `.gz`): the total that progress counts towards.
    pub size: u64,
    /// Whether the reader hashes the bytes it reads ([`Content::sha256`]). Ingest
    /// turns it off for a file it has just hashed whose stamp can prove, after the
    /// read, that the file did not change in between (see `ingest::read_unchanged`).
    pub hash_on_read: bool,
}

/// What a reader did with one file. `rows_read` counts data rows (CSV) or non-blank
/// lines (JSONL); each produced either a kept row or exactly one set-aside problem, so
/// `rows_read - set_aside` rows were handed to the sink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStats {
    pub rows_read: u64,
    pub set_aside: u64,
    /// Warnings about kept rows (optional fields nulled).
    pub warnings: u64,
    /// Header names that are not columns of the format, as written (trimmed). Not sent
    /// to the sink: the caller warns about them once per file.
    pub unknown_columns: Vec<String>,
    /// What was actually read from disk: bytes and their SHA-256 (see [`LineReader::content`]).
    pub content: Content,
}

/// The bytes a reader took from disk, so the lake records exactly what it ingested
/// even when the file changed between its hashing and its reading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    pub bytes: u64,
    /// Empty when the file was read without hashing ([`InputFile::hash_on_read`]).
    pub sha256: String,
}

/// What kind of input a file name is, if any: `interviews*.csv` / `events*.jsonl`,
/// optionally `.gz`, case-sensitive.
pub fn classify(name: &str) -> Option<(InputKind, bool)> {
    let (stem, gzip) = match name.strip_suffix(".gz") {
        Some(s) => (s, true),
        None => (name, false),
    };
    let matches = |prefix: &str, suffix: &str| {
        stem.len() >= prefix.len() + suffix.len() && stem.starts_with(prefix) && stem.ends_with(suffix)
    };
    if matches("interviews", ".csv") {
        Some((InputKind::Interviews, gzip))
    } else if matches("events", ".jsonl") {
        Some((InputKind::Events, gzip))
    } else {
        None
    }
}

/// Every input file under `raw`, recursively, sorted by relative path (the reading
/// order); see [`discover_with_skips`].
pub fn discover(raw: &Path) -> Result<Vec<InputFile>, FileError> {
    discover_with_skips(raw).map(|(found, _)| found)
}

/// An entry of the raw folder that was not read, and why (the caller warns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub rel: String,
    pub why: String,
}

/// A file or folder name as text: invalid UTF-8 bytes are written `\xNN`, so two
/// different names never become the same text.
fn name_text(name: &std::ffi::OsStr) -> String {
    match name.to_str() {
        Some(s) => s.to_string(),
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::ffi::OsStrExt;
                let mut out = String::new();
                for chunk in name.as_bytes().utf8_chunks() {
                    out.push_str(chunk.valid());
                    for b in chunk.invalid() {
                        out.push_str(&format!("\\x{b:02X}"));
                    }
                }
                out
            }
            #[cfg(not(unix))]
            {
                name.to_string_lossy().into_owned()
            }
        }
    }
}

/// Every input file under `raw`, recursively, sorted by relative path, and what was
/// passed over. Only regular files are read. A symbolic link is followed when it
/// points to a file or folder inside the raw folder; one pointing outside it (to
/// `/proc/self/environ`, a device, another tree), a dangling one, a loop, a FIFO or a
/// socket is skipped and listed. A folder reached twice is read once. Files whose
/// names are not input names but look like exports (`.csv`, `.jsonl`, `.xlsx`, …) are
/// listed too, so a misnamed export is never passed over in silence.
pub fn discover_with_skips(raw: &Path) -> Result<(Vec<InputFile>, Vec<Skipped>), FileError> {
    discover_claimed(raw, &|_| None)
}

/// [`discover_with_skips`], where `claim(rel)` names the kind of a file a mapped
/// source (`[[input.source]]`) reads; unclaimed files follow the v1 names.
pub fn discover_claimed(raw: &Path, claim: &dyn Fn(&str) -> Option<InputKind>) -> Result<(Vec<InputFile>, Vec<Skipped>), FileError> {
    let meta = match std::fs::metadata(raw) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(FileError::RawMissing(raw.to_path_buf())),
        Err(e) => return Err(io_error(raw, e)),
    };
    if !meta.is_dir() {
        return Err(FileError::RawNotFolder(raw.to_path_buf()));
    }
    let root = std::fs::canonicalize(raw).map_err(|e| io_error(raw, e))?;
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let mut seen_dirs = HashSet::new();
    let mut stack = vec![(raw.to_path_buf(), String::new())];
    while let Some((dir, rel_dir)) = stack.pop() {
        // Canonical paths break symlink cycles; a folder that cannot be canonicalised
        // is still read once under its own path.
        let key = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        if !seen_dirs.insert(key) {
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|e| io_error(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, e))?;
            let path = entry.path();
            let name = name_text(&entry.file_name());
            let rel = if rel_dir.is_empty() { name.clone() } else { format!("{rel_dir}/{name}") };
            let mut skip = |why: &str| skipped.push(Skipped { rel: rel.clone(), why: why.to_string() });
            let link = std::fs::symlink_metadata(&path).map_err(|e| io_error(&path, e))?;
            if link.file_type().is_symlink() {
                match std::fs::canonicalize(&path) {
                    Ok(target) if target.starts_with(&root) => {}
                    Ok(_) => {
                        skip("a symbolic link to outside the raw folder");
                        continue;
                    }
                    Err(_) => {
                        skip("a dangling or looping symbolic link");
                        continue;
                    }
                }
            }
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(_) => {
                    skip("cannot be examined");
                    continue;
                }
            };
            if meta.is_dir() {
                stack.push((path, rel));
            } else if meta.is_file() {
                if let Some(kind) = claim(&rel) {
                    let gzip = name.to_ascii_lowercase().ends_with(".gz");
                    found.push(InputFile { path, rel: Arc::from(rel), kind, gzip, size: meta.len(), hash_on_read: true });
                    continue;
                }
                match classify(&name) {
                    Some((kind, gzip)) => found.push(InputFile { path, rel: Arc::from(rel), kind, gzip, size: meta.len(), hash_on_read: true }),
                    None if looks_like_an_export(&name) => {
                        skip("not named interviews*.csv or events*.jsonl (optionally .gz): rename it to be read")
                    }
                    None => {}
                }
            } else {
                skip("not a regular file (a FIFO, socket or device)");
            }
        }
    }
    found.sort_by(|a, b| a.rel.cmp(&b.rel));
    skipped.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok((found, skipped))
}

fn looks_like_an_export(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
    [".csv", ".jsonl", ".json", ".tsv", ".xlsx", ".xls", ".ndjson"].iter().any(|ext| lower.ends_with(ext))
}

fn io_error(path: &Path, source: io::Error) -> FileError {
    FileError::Io { file: path.display().to_string(), source }
}

/// Counts bytes read from disk, so progress is in the same unit as [`InputFile::size`]
/// even through gzip,
/// and hashes them.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
    /// `None`: count only.
    hash: Option<Rc<RefCell<Sha256>>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        if let Some(hash) = &self.hash {
            hash.borrow_mut().update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Streaming UTF-8 check across chunk boundaries: a character may be split between the
/// kept and the skipped part of a long line.
#[derive(Default)]
struct Utf8Check {
    pending: [u8; 4],
    npending: usize,
}

impl Utf8Check {
    fn feed(&mut self, mut bytes: &[u8]) -> bool {
        if self.npending > 0 {
            let need = match self.pending[0] {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            let take = (need - self.npending).min(bytes.len());
            self.pending[self.npending..self.npending + take].copy_from_slice(&bytes[..take]);
            self.npending += take;
            bytes = &bytes[take..];
            if self.npending < need {
                return true;
            }
            if std::str::from_utf8(&self.pending[..need]).is_err() {
                return false;
            }
            self.npending = 0;
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => true,
            // An incomplete character at the very end: wait for the next chunk.
            Err(e) if e.error_len().is_none() => {
                let tail = &bytes[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.npending = tail.len();
                true
            }
            Err(_) => false,
        }
    }

    /// Holds the start of a character cut by the cap (at most 3 bytes).
    fn hold(&mut self, tail: &[u8]) {
        let n = tail.len().min(4);
        self.pending[..n].copy_from_slice(&tail[..n]);
        self.npending = n;
    }

    /// At a line end: a character cut by the newline is not UTF-8.
    fn finish(&mut self) -> bool {
        let ok = self.npending == 0;
        self.npending = 0;
        ok
    }
}

/// How a physical line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineMeta {
    /// 1-based physical line number.
    pub number: u64,
    /// False when the line was longer than the cap asked for: the kept bytes are its
    /// start, and the caller must call [`LineReader::skip_rest`] before the next line.
    pub complete: bool,
}

/// Physical lines of one input file (split on `\n`; a `\r` before it is left in the
/// line for the caller), decompressed, BOM removed, every byte checked to be UTF-8.
pub struct LineReader {
    inner: Box<dyn BufRead>,
    file: String,
    gzip: bool,
    line: u64,
    utf8: Utf8Check,
    disk_bytes: Rc<Cell<u64>>,
    disk_hash: Option<Rc<RefCell<Sha256>>>,
    rest_pending: bool,
    /// The byte read past the cap of an incomplete line, handed to `skip_rest`.
    overflow: Option<u8>,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl LineReader {
    /// Opens `file` for reading (through gzip when its name ends in `.gz`).
    pub fn open(file: &InputFile) -> Result<LineReader, FileError> {
        let display = file.path.display().to_string();
        let raw = File::open(&file.path).map_err(|e| FileError::Io { file: display.clone(), source: e })?;
        let disk_bytes = Rc::new(Cell::new(0));
        let disk_hash = file.hash_on_read.then(|| Rc::new(RefCell::new(Sha256::new())));
        let counted = Counting { inner: raw, count: disk_bytes.clone(), hash: disk_hash.clone() };
        let mut decoded: Box<dyn Read> = if file.gzip {
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(256 << 10, counted)))
        } else {
            Box::new(counted)
        };
        // Look at the first three bytes for a BOM; put them back when they are not one.
        let mut head = [0u8; 3];
        let mut got = 0;
        while got < 3 {
            match decoded.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(classify_io(&display, file.gzip, e)),
            }
        }
        let prefix = if &head[..got] == UTF8_BOM { Vec::new() } else { head[..got].to_vec() };
        let inner = Box::new(BufReader::with_capacity(256 << 10, Cursor::new(prefix).chain(decoded)));
        Ok(LineReader::assemble(inner, display, file.gzip, disk_bytes, disk_hash))
    }

    fn assemble(
        inner: Box<dyn BufRead>,
        file: String,
        gzip: bool,
        disk_bytes: Rc<Cell<u64>>,
        disk_hash: Option<Rc<RefCell<Sha256>>>,
    ) -> LineReader {
        LineReader { inner, file, gzip, line: 0, utf8: Utf8Check::default(), disk_bytes, disk_hash, rest_pending: false, overflow: None }
    }

    /// Lines of text already in memory (an export transcoded into format v1);
    /// `display` names it in errors.
    pub fn from_text(bytes: Vec<u8>, display: String) -> LineReader {
        let disk_bytes = Rc::new(Cell::new(0));
        let disk_hash = Some(Rc::new(RefCell::new(Sha256::new())));
        let counted = Counting { inner: Cursor::new(bytes), count: disk_bytes.clone(), hash: disk_hash.clone() };
        LineReader::assemble(Box::new(BufReader::with_capacity(256 << 10, counted)), display, false, disk_bytes, disk_hash)
    }

    /// Bytes read from disk so far (compressed bytes for gzip).
    pub fn disk_bytes(&self) -> u64 {
        self.disk_bytes.get()
    }

    /// The bytes read from disk so far and their SHA-256: after the last line, the
    /// whole file as it was read.
    pub fn content(&self) -> Content {
        let sha256 = self.disk_hash.as_ref().map(|h| hex::encode(h.borrow().clone().finalize())).unwrap_or_default();
        Content { bytes: self.disk_bytes.get(), sha256 }
    }

    /// The number of the last line returned (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// The file's path as error messages show it.
    pub fn display_name(&self) -> &str {
        &self.file
    }

    /// Bytes that are not UTF-8 in a `.gz` file are more often a corrupt stream whose
    /// checksum has not been reached yet: read on to the end, and call it a broken
    /// gzip if that fails.
    fn not_utf8(&mut self) -> FileError {
        if self.gzip {
            if let Err(e) = io::copy(&mut self.inner, &mut io::sink()) {
                return classify_io(&self.file, self.gzip, e);
            }
        }
        FileError::NotUtf8 { file: self.file.clone(), line: self.line }
    }

    /// Reads the next physical line into `buf` (cleared first), keeping at most `cap`
    /// bytes of it, and returns it as text: all of it for a complete line, the whole
    /// characters of the kept part for an incomplete one. `None` at the end of the file.
    pub fn read_line<'b>(&mut self, cap: usize, buf: &'b mut Vec<u8>) -> Result<Option<(LineMeta, &'b str)>, FileError> {
        if self.rest_pending {
            self.skip_rest(&mut |_| {})?;
        }
        buf.clear();
        // One byte more than the cap, so a newline right at the cap still ends a line
        // that fits. `read_until` finds the newline with std's word-at-a-time memchr.
        let limit = cap as u64 + 1;
        let n = (&mut self.inner)
            .take(limit)
            .read_until(b'\n', buf)
            .map_err(|e| classify_io(&self.file, self.gzip, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let complete = if buf.last() == Some(&b'\n') {
            buf.pop();
            true
        } else {
            // Either the end of the file (a last line without newline) or the cap.
            buf.len() <= cap
        };
        if !complete {
            // The byte past the cap belongs to the part the caller skips.
            self.overflow = buf.pop();
        }
        self.rest_pending = !complete;
        let buf: &'b Vec<u8> = buf;
        let text = match std::str::from_utf8(buf) {
            Ok(text) => text,
            // A character cut by the cap: its end comes with the skipped part.
            Err(e) if !complete && e.error_len().is_none() => {
                let valid = e.valid_up_to();
                self.utf8.hold(&buf[valid..]);
                std::str::from_utf8(&buf[..valid]).unwrap_or_default()
            }
            Err(_) => return Err(self.not_utf8()),
        };
        Ok(Some((LineMeta { number: self.line, complete }, text)))
    }

    /// After an incomplete line: reads the rest of it, handing each chunk to `seen`
    /// without keeping it. Returns how many bytes were skipped.
    pub fn skip_rest(&mut self, seen: &mut dyn FnMut(&[u8])) -> Result<u64, FileError> {
        let mut skipped = 0u64;
        if !self.rest_pending {
            return Ok(0);
        }
        self.rest_pending = false;
        if let Some(b) = self.overflow.take() {
            let ok = self.utf8.feed(&[b]);
            seen(&[b]);
            skipped += 1;
            if !ok {
                return Err(self.not_utf8());
            }
        }
        loop {
            let avail = fill(&mut self.inner, &self.file, self.gzip)?;
            if avail.is_empty() {
                break;
            }
            let (chunk_len, done) = match find_newline(avail) {
                Some(p) => (p, true),
                None => (avail.len(), false),
            };
            let chunk = &avail[..chunk_len];
            let ok = self.utf8.feed(chunk);
            seen(chunk);
            skipped += chunk_len as u64;
            self.inner.consume(chunk_len + usize::from(done));
            if !ok {
                return Err(self.not_utf8());
            }
            if done {
                break;
            }
        }
        if !self.utf8.finish() {
            return Err(self.not_utf8());
        }
        Ok(skipped)
    }
}

/// The next buffered bytes (empty at the end of the file). A free function so the
/// buffer borrows only the reader, not the UTF-8 state beside it.
fn fill<'a>(inner: &'a mut Box<dyn BufRead>, file: &str, gzip: bool) -> Result<&'a [u8], FileError> {
    loop {
        match inner.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(classify_io(file, gzip, e)),
        }
    }
    // The buffer is filled now, so this returns it without reading again.
    inner.fill_buf().map_err(|e| classify_io(file, gzip, e))
}

fn find_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Errors decoding a `.gz` file are a broken gzip; anything else is plain I/O.
fn classify_io(file: &str, gzip: bool, source: io::Error) -> FileError {
    let decode_error = matches!(
        source.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
    );
    if gzip && decode_error {
        FileError::BrokenGzip { file: file.to_string(), source }
    } else {
        FileError::Io { file: file.to_string(), source }
    }
}

/// Calls `progress` with the bytes read from disk, at most every [`PROGRESS_STEP`].
pub(crate) struct ProgressTicker<'a> {
    progress: &'a dyn Fn(u64),
    last: u64,
}

impl<'a> ProgressTicker<'a> {
    pub(crate) fn new(progress: &'a dyn Fn(u64)) -> Self {
        ProgressTicker { progress, last: 0 }
    }

    pub(crate) fn tick(&mut self, lines: &LineReader) {
        let now = lines.disk_bytes();
        if now >= self.last + PROGRESS_STEP {
            self.last = now;
            (self.progress)(now);
        }
    }

    pub(crate) fn finish(&mut self, lines: &LineReader) {
        (self.progress)(lines.disk_bytes());
    }
}

/// The caps a reader works with; tests shrink them to reach the limits with small data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub row_bytes: usize,
    pub raw_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { row_bytes: MAX_ROW_BYTES, raw_bytes: MAX_RAW_BYTES }
    }
}

/// The raw text of a row for a problem: at most `cap` bytes, cut at a character
/// boundary, with a note of how much was cut.
pub(crate) fn raw_text(bytes: &[u8], cap: usize, total_len: u64) -> String {
    let kept = &bytes[..bytes.len().min(cap)];
    let valid = match std::str::from_utf8(kept) {
        Ok(s) => s,
        // Cut inside a character: keep the whole characters before it.
        Err(e) => std::str::from_utf8(&kept[..e.valid_up_to()]).unwrap_or_default(),
    };
    let mut text = valid.to_string();
    if (valid.len() as u64) < total_len {
        text.push_str(&format!("… [cut: {total_len} bytes in all]"));
    }
    text
}

/// A value quoted for a problem's detail, cut to a readable length.
pub(crate) fn quote_value(value: &str) -> String {
    const MAX_CHARS: usize = 80;
    match value.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => format!("{:?}…", &value[..at]),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> InputFile {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let (kind, gzip) = classify(name).unwrap_or((InputKind::Interviews, name.ends_with(".gz")));
        InputFile { rel: Arc::from(name), kind, gzip, size: bytes.len() as u64, path, hash_on_read: true }
    }

    fn lines_of(file: &InputFile, cap: usize) -> Result<Vec<(u64, bool, Vec<u8>, u64)>, FileError> {
        let mut r = LineReader::open(file)?;
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some((meta, text)) = r.read_line(cap, &mut buf)? {
            let text = text.as_bytes().to_vec();
            let skipped = if meta.complete { 0 } else { r.skip_rest(&mut |_| {})? };
            out.push((meta.number, meta.complete, text, skipped));
        }
        Ok(out)
    }

    #[test]
    fn names_are_matched_case_sensitively() {
        assert_eq!(classify("interviews.csv"), Some((InputKind::Interviews, false)));
        assert_eq!(classify("interviews-2026-03.csv.gz"), Some((InputKind::Interviews, true)));
        assert_eq!(classify("events_w1.jsonl"), Some((InputKind::Events, false)));
        assert_eq!(classify("events.jsonl.gz"), Some((InputKind::Events, true)));
        for no in ["Interviews.csv", "interviews.CSV", "interview.csv", "events.json", "events.jsonl.gz.bak",
            "interviews.csv.gzip", "xinterviews.csv", "interviews", ".csv"] {
            assert_eq!(classify(no), None, "{no}");
        }
    }

    #[test]
    fn discover_recurses_and_sorts_by_relative_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("w2/deep")).unwrap();
        std::fs::create_dir_all(root.join("w1")).unwrap();
        for rel in ["w2/deep/events-b.jsonl.gz", "w2/interviews.csv", "w1/events.jsonl", "interviews-z.csv",
            "notes.txt", "w1/Events.jsonl"] {
            std::fs::write(root.join(rel), b"").unwrap();
        }
        let found = discover(root).unwrap();
        let rels: Vec<&str> = found.iter().map(|f| &*f.rel).collect();
        assert_eq!(rels, ["interviews-z.csv", "w1/events.jsonl", "w2/deep/events-b.jsonl.gz", "w2/interviews.csv"]);
        assert!(found[2].gzip && found[2].kind == InputKind::Events);
        assert!(matches!(discover(&root.join("nope")), Err(FileError::RawMissing(_))));
        let err = discover(&root.join("notes.txt")).unwrap_err();
        assert!(matches!(err, FileError::RawNotFolder(_)), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn discover_survives_a_symlink_cycle() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/events.jsonl"), b"").unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("a/loop")).unwrap();
        let found = discover(dir.path()).unwrap();
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn bom_crlf_and_a_last_line_without_newline() {
        let dir = tempfile::tempdir().unwrap();
        let f = write_file(dir.path(), "events.jsonl", b"\xEF\xBB\xBFab\r\n\r\nc\nd");
        let lines = lines_of(&f, 100).unwrap();
        let texts: Vec<&[u8]> = lines.iter().map(|l| &l.2[..]).collect();
        assert_eq!(texts, [&b"ab\r"[..], b"\r", b"c", b"d"]);
        assert_eq!(lines.iter().map(|l| l.0).collect::<Vec<_>>(), [1, 2, 3, 4]);
    }

    #[test]
    fn long_lines_are_cut_and_the_rest_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let f = write_file(dir.path(), "events.jsonl", b"12345\n123456\n1234567890\nx");
        let lines = lines_of(&f, 5).unwrap();
        assert_eq!(lines[0], (1, true, b"12345".to_vec(), 0));
        assert_eq!(lines[1], (2, false, b"12345".to_vec(), 1));
        assert_eq!(lines[2], (3, false, b"12345".to_vec(), 5));
        assert_eq!(lines[3], (4, true, b"x".to_vec(), 0));
    }

    #[test]
    fn not_utf8_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = write_file(dir.path(), "events.jsonl", b"ok\nfine \xE4\xB8\xAD\nbad \xFF here\n");
        let err = lines_of(&f, 100).unwrap_err();
        assert!(matches!(err, FileError::NotUtf8 { line: 3, .. }), "{err}");
        assert!(err.to_string().contains("events.jsonl, line 3"), "{err}");
        // A character cut by the end of a line is not UTF-8 either.
        let f = write_file(dir.path(), "events2.jsonl", b"ok \xE4\xB8\nx\n");
        assert!(matches!(lines_of(&f, 100), Err(FileError::NotUtf8 { line: 1, .. })));
        // But one split by the cap, in the kept and skipped parts, is fine.
        let f = write_file(dir.path(), "events3.jsonl", "ab中文\nx".as_bytes());
        let lines = lines_of(&f, 3).unwrap();
        assert_eq!(lines[0].3, 5);
        // And bad bytes in the skipped part are still found.
        let f = write_file(dir.path(), "events4.jsonl", b"abcdef\xFFgh\nx");
        assert!(matches!(lines_of(&f, 3), Err(FileError::NotUtf8 { line: 1, .. })));
    }

    #[test]
    fn gzip_is_read_and_a_broken_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all("\u{feff}a\n中\n".as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        // Two gzip members back to back are one stream (as `cat a.gz b.gz` makes).
        let mut two = gz.clone();
        two.extend_from_slice(&gz);
        let f = write_file(dir.path(), "events.jsonl.gz", &two);
        let lines = lines_of(&f, 100).unwrap();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[1].2, "中".as_bytes());
        assert_eq!(lines[2].2, "\u{feff}a".as_bytes(), "a BOM is only removed at the start of the file");

        let truncated = write_file(dir.path(), "events-t.jsonl.gz", &gz[..gz.len() - 10]);
        let err = lines_of(&truncated, 100).unwrap_err();
        assert!(matches!(err, FileError::BrokenGzip { .. }), "{err}");
        assert!(err.to_string().contains("events-t.jsonl.gz"), "{err}");
        let plain = write_file(dir.path(), "events-p.jsonl.gz", b"{\"not\": \"gzip\"}\n");
        assert!(matches!(lines_of(&plain, 100), Err(FileError::BrokenGzip { .. })));
        let mut corrupt = gz.clone();
        let mid = corrupt.len() / 2;
        corrupt[mid] ^= 0xFF;
        let corrupt = write_file(dir.path(), "events-c.jsonl.gz", &corrupt);
        let err = lines_of(&corrupt, 100).unwrap_err();
        assert!(matches!(err, FileError::BrokenGzip { .. }), "{err}");
    }

    #[test]
    fn raw_text_is_capped_at_a_character_boundary() {
        assert_eq!(raw_text("ab".as_bytes(), 10, 2), "ab");
        let t = raw_text("中文字".as_bytes(), 4, 9);
        assert!(t.starts_with("中…"), "{t}");
        assert!(t.contains("9 bytes"), "{t}");
        assert_eq!(quote_value("销售"), "\"销售\"");
        assert!(quote_value(&"x".repeat(500)).len() < 100);
    }
}
