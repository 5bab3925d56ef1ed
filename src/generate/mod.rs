//! Synthetic interview logs in the input format, for the demo, the tests and the
//! benchmarks, with the effects HR teams report built in (docs/generator.md).
//!
//! The work is cut into fixed-size chunks of interviews, each with its own seeded RNG
//! stream, so the bytes depend only on the seed and the flags, never on the thread
//! count. `chunk::generate_chunk` is pure (plan in, bytes and tallies out); the
//! command in `cmd/generate.rs` runs chunks in parallel and streams them to disk in
//! chunk order. Nothing here reads or writes files, except `export_style`, which
//! rewrites the interview exports just written in an HR system's own style.

pub mod chunk;
pub mod export_style;
pub mod faults;
pub mod outcomes;
pub mod render;
pub mod simulate;
pub mod tally;
pub mod world;

use chrono_tz::Tz;

use crate::time::{Micros, MICROS_PER_DAY};
use render::OffsetTable;

/// Interviews per chunk: the unit of parallel work and of RNG streams. Changing it
/// changes the output for a given seed.
pub const CHUNK_SIZE: u64 = 4096;
/// Slots span this many weeks before the as-of time …
pub const WEEKS_BEFORE: i64 = 26;
/// … and this many after it (the upcoming interviews a scoring run sees).
pub const WEEKS_AFTER: i64 = 2;
/// Each export file covers this many weeks of slots (interviews) or of event times.
pub const WEEKS_PER_FILE: i64 = 4;
/// The most bad rows of each kind `--bad-rows` may ask for: all of them go into the
/// first chunk, whose rows carry the warnings.
pub const MAX_BAD_ROWS: u32 = 200;
/// First interview id; ids are decimal so events can carry them as JSON integers.
pub const FIRST_INTERVIEW_ID: u64 = 100_000_000;
/// Orphan events point at ids from here on, which no export holds.
pub const FIRST_ORPHAN_ID: u64 = 900_000_000;

const WEEK: Micros = 7 * MICROS_PER_DAY;

/// Why generation settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("--interviews must be between 1 and 100000000 (got {0})")]
    Interviews(u64),
    #[error("--bad-rows must be at most {MAX_BAD_ROWS} (got {0})")]
    BadRows(u32),
    #[error("--bad-rows {bad_rows} needs at least {need} interviews to carry its warnings (got {got})")]
    TooFewForFaults { bad_rows: u32, need: u64, got: u64 },
}

/// Everything a chunk needs, fixed before any generation starts.
#[derive(Debug, Clone)]
pub struct Plan {
    pub interviews: u64,
    pub seed: u64,
    pub as_of: Micros,
    pub tz: Tz,
    pub bad_rows: u32,
    pub window_start: Micros,
    pub window_end: Micros,
    pub offsets: OffsetTable,
    /// Log-odds of not attending added per week of slot time, zero at as-of (so the
    /// miss rate rises over the window for a positive value). Default 0.
    pub miss_rate_trend: f64,
}

/// Header of the regular interview exports, in the spec's column order.
pub const INTERVIEW_HEADER: &str = "interview_id,candidate_id,role,region,education,fresh_graduate,source,\
preferred_channel,invited_at,scheduled_at,status,cause,no_show_grade,cost,updated_at";
/// The re-export comes from another report of the HR system: same columns, other
/// spelling (the spec matches header names trimmed and case-insensitively).
pub const REEXPORT_HEADER: &str = "Interview_ID,Candidate_ID,Role,Region,Education,Fresh_Graduate,Source,\
Preferred_Channel,Invited_At,Scheduled_At, Status ,Cause,No_Show_Grade,Cost,Updated_At";

impl Plan {
    pub fn new(interviews: u64, seed: u64, as_of: Micros, tz: Tz, bad_rows: u32) -> Result<Plan, PlanError> {
        if interviews == 0 || interviews > 100_000_000 {
            return Err(PlanError::Interviews(interviews));
        }
        if bad_rows > MAX_BAD_ROWS {
            return Err(PlanError::BadRows(bad_rows));
        }
        // Warnings go onto real rows of the first chunk; keep them a small share of it.
        let need = u64::from(bad_rows) * 20;
        if need > interviews.min(CHUNK_SIZE) {
            return Err(PlanError::TooFewForFaults { bad_rows, need, got: interviews });
        }
        let window_start = as_of - WEEKS_BEFORE * WEEK;
        let window_end = as_of + WEEKS_AFTER * WEEK;
        // Invitations go out up to three weeks ahead and re-invitations follow misses.
        let offsets = OffsetTable::new(tz, window_start - 5 * WEEK, window_end + 2 * WEEK);
        Ok(Plan { interviews, seed, as_of, tz, bad_rows, window_start, window_end, offsets, miss_rate_trend: 0.0 })
    }

    pub fn chunks(&self) -> u64 {
        self.interviews.div_ceil(CHUNK_SIZE)
    }

    /// How many regular export files of each kind.
    pub fn files(&self) -> usize {
        ((WEEKS_BEFORE + WEEKS_AFTER) / WEEKS_PER_FILE) as usize
    }

    /// The export period an instant falls in (clamped to the first and last file).
    pub fn period_of(&self, t: Micros) -> usize {
        let i = (t - self.window_start).div_euclid(WEEKS_PER_FILE * WEEK);
        i.clamp(0, self.files() as i64 - 1) as usize
    }

    pub fn interview_file_name(i: usize) -> String {
        format!("interviews-{:03}.csv", i + 1)
    }

    pub fn events_file_name(i: usize) -> String {
        format!("events-{:03}.jsonl", i + 1)
    }

    /// Sorts after every `interviews-NNN.csv`, as a later export would.
    pub const REEXPORT_FILE: &'static str = "interviews-reexport.csv";

    /// One interview export and one event export use Windows line endings.
    pub fn interview_crlf(i: usize) -> bool {
        i == 1
    }

    pub fn events_crlf(i: usize) -> bool {
        i == 2
    }

    /// The first interview export starts with a UTF-8 byte-order mark.
    pub fn interview_bom(i: usize) -> bool {
        i == 0
    }
}

/// Bijective 64-bit mix (the splitmix64 finaliser): distinct inputs give distinct
/// pseudonymous candidate ids.
pub fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
