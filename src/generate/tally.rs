//! Exact counts of what the generator wrote (rows per file, duplicates, orphans, bad
//! rows by reason) and of the outcomes it drew, summed over chunks in order. These
//! become `expected.json` and the realised rates in `effects.json`.

use std::collections::BTreeMap;

use serde::Serialize;

/// Not-attend counts split by one binary observable: [n, not_attend] with and without.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Split {
    pub with: [u64; 2],
    pub without: [u64; 2],
}

impl Split {
    pub fn add(&mut self, flag: bool, not_attend: bool) {
        let cell = if flag { &mut self.with } else { &mut self.without };
        cell[0] += 1;
        cell[1] += u64::from(not_attend);
    }

    fn merge(&mut self, o: &Split) {
        for k in 0..2 {
            self.with[k] += o.with[k];
            self.without[k] += o.without[k];
        }
    }

    /// Not-attend rate without the behaviour over the rate with it.
    pub fn relative_risk_without(&self) -> Option<f64> {
        let rate = |c: [u64; 2]| (c[0] > 0).then(|| c[1] as f64 / c[0] as f64);
        match (rate(self.without), rate(self.with)) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        }
    }
}

pub type Counts = BTreeMap<&'static str, u64>;

fn merge_counts(a: &mut Counts, b: &Counts) {
    for (k, v) in b {
        *a.entry(k).or_default() += v;
    }
}

/// Everything counted while generating one chunk (or, merged, the whole run).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Real interviews (unique ids), including upcoming ones.
    pub interviews: u64,
    /// Data rows written to each regular interview export (bad rows included).
    pub interview_rows: Vec<u64>,
    /// Rows of the re-export; each supersedes an earlier row of the same interview.
    pub reexport_rows: u64,
    /// Lines written to each event export (duplicates and bad lines included).
    pub event_lines: Vec<u64>,
    /// Distinct valid events (orphans included).
    pub events_unique: u64,
    /// Extra identical copies of events already written.
    pub event_duplicates: u64,
    /// Valid events whose interview is in no export.
    pub orphan_events: u64,
    pub interview_set_aside: Counts,
    pub interview_warnings: Counts,
    pub interview_warning_fields: Counts,
    pub event_set_aside: Counts,
    pub event_warnings: Counts,
    pub event_warning_fields: Counts,
    /// Status of each interview's winning row, as written (after trimming / lower-casing).
    pub status_written: Counts,
    /// The drawn outcome of every interview, upcoming ones included.
    pub outcomes: Counts,
    /// Slots after the as-of time.
    pub upcoming: u64,
    /// Past slots whose record is still `scheduled`, with and without a `joined` event
    /// at or before as-of (the derived-status rule closes those older than the grace).
    pub past_scheduled_joined: u64,
    pub past_scheduled_not_joined: u64,
    pub events_by_type: Counts,
    pub integer_ids: u64,
    pub quoted_comma_fields: u64,
    pub quoted_newline_fields: u64,
    /// Sum of the true p_not_attend (for the mean).
    pub p_not_attend_sum: f64,
    /// Not-attend (no-show or candidate cancellation) by observable, over interviews
    /// neither cancelled by the company nor rescheduled.
    pub splits: BTreeMap<&'static str, Split>,
    /// No-shows in technical / other roles, and those with a link error.
    pub no_shows_technical: [u64; 2],
    pub no_shows_other: [u64; 2],
}

impl Tally {
    pub fn new(files: usize) -> Tally {
        Tally { interview_rows: vec![0; files], event_lines: vec![0; files], ..Tally::default() }
    }

    pub fn bump(counts: &mut Counts, key: &'static str) {
        *counts.entry(key).or_default() += 1;
    }

    pub fn merge(&mut self, o: &Tally) {
        self.interviews += o.interviews;
        for (a, b) in self.interview_rows.iter_mut().zip(&o.interview_rows) {
            *a += b;
        }
        self.reexport_rows += o.reexport_rows;
        for (a, b) in self.event_lines.iter_mut().zip(&o.event_lines) {
            *a += b;
        }
        self.events_unique += o.events_unique;
        self.event_duplicates += o.event_duplicates;
        self.orphan_events += o.orphan_events;
        merge_counts(&mut self.interview_set_aside, &o.interview_set_aside);
        merge_counts(&mut self.interview_warnings, &o.interview_warnings);
        merge_counts(&mut self.interview_warning_fields, &o.interview_warning_fields);
        merge_counts(&mut self.event_set_aside, &o.event_set_aside);
        merge_counts(&mut self.event_warnings, &o.event_warnings);
        merge_counts(&mut self.event_warning_fields, &o.event_warning_fields);
        merge_counts(&mut self.status_written, &o.status_written);
        merge_counts(&mut self.outcomes, &o.outcomes);
        self.upcoming += o.upcoming;
        self.past_scheduled_joined += o.past_scheduled_joined;
        self.past_scheduled_not_joined += o.past_scheduled_not_joined;
        merge_counts(&mut self.events_by_type, &o.events_by_type);
        self.integer_ids += o.integer_ids;
        self.quoted_comma_fields += o.quoted_comma_fields;
        self.quoted_newline_fields += o.quoted_newline_fields;
        self.p_not_attend_sum += o.p_not_attend_sum;
        for (k, s) in &o.splits {
            self.splits.entry(k).or_default().merge(s);
        }
        for k in 0..2 {
            self.no_shows_technical[k] += o.no_shows_technical[k];
            self.no_shows_other[k] += o.no_shows_other[k];
        }
    }

    pub fn interview_rows_total(&self) -> u64 {
        self.interview_rows.iter().sum::<u64>() + self.reexport_rows
    }

    pub fn event_lines_total(&self) -> u64 {
        self.event_lines.iter().sum()
    }
}
