//! What the readers hand the lake writer: validated rows with their origin, and
//! problems (rows set aside, or optional fields nulled with a warning).
//!
//! This is the seam between parsing (`csv_reader`, `jsonl_reader`) and merging /
//! writing (`merge`, `writer`): readers never touch the lake, the writer never parses.
//! The rows' fields are the registry's columns (`schema::InterviewColumn`,
//! `schema::EventColumn`), named alike.

use std::sync::Arc;

use crate::schema::{Channel, Education, EventType, NoShowGrade, Status};
use crate::time::Micros;

/// Where a row came from: the file (path relative to the raw folder) and the
/// physical line on which it starts (the CSV header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<str>,
    pub line: u64,
}

/// One valid row of `interviews*.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct InterviewRow {
    pub interview_id: String,
    pub candidate_id: String,
    pub role: String,
    pub region: String,
    pub education: Option<Education>,
    pub fresh_graduate: Option<bool>,
    pub source: Option<String>,
    pub preferred_channel: Option<Channel>,
    pub invited_at: Micros,
    pub scheduled_at: Micros,
    pub status: Status,
    pub cause: Option<String>,
    pub no_show_grade: Option<NoShowGrade>,
    pub cost: Option<f64>,
    pub updated_at: Option<Micros>,
    pub origin: Origin,
    /// Extra columns of a mapped export (`[input.source.extra]`): (name, value).
    pub extra: Vec<(Arc<str>, Option<String>)>,
}

/// One valid line of `events*.jsonl`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub event_id: String,
    pub interview_id: String,
    pub ts: Micros,
    pub event_type: EventType,
    pub channel: Option<Channel>,
    pub detail: Option<String>,
    pub origin: Origin,
}

/// Which input a problem was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InputKind {
    Interviews,
    Events,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::Interviews => "interviews",
            InputKind::Events => "events",
        }
    }
}

/// Whether the row was set aside or kept with a field nulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    SetAside,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::SetAside => "set_aside",
            Severity::Warning => "warning",
        }
    }
}

/// A row set aside, or a warning about a kept row. `reason` is a short stable code
/// (`bad_timestamp`, `missing_field`, `invalid_json`, …) that summaries group by;
/// `detail` says it in words for the person reading the rejected table.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub origin: Origin,
    pub kind: InputKind,
    pub severity: Severity,
    pub reason: &'static str,
    pub field: Option<String>,
    pub detail: String,
    /// The raw text of the row or line (capped in length by the reader).
    pub raw: String,
}

/// Receives what a reader finds, in reading order.
pub trait RowSink {
    fn interview(&mut self, row: InterviewRow);
    fn event(&mut self, row: EventRow);
    fn problem(&mut self, problem: Problem);
}
