//! The one registry of the lake's names: the vocabulary of the input format
//! (version 1), every column of the interview and event tables ([`InterviewColumn`],
//! [`EventColumn`]: name, type, nullability, role, in the v1 spec's order) and the
//! tables' schemas built from them. Code names a column by its variant and reads a
//! record batch through [`column`], never by position; a new column or event type is
//! added here, and the compiler then points at the code that must handle it.
//!
//! Enumerated values are matched case-insensitively and stored lower case. The lake's
//! column names are the input format's, plus `origin_file`/`origin_line` (where each
//! kept row came from) so any figure can be traced back to a line of an export.

use std::sync::Arc;

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in the order the spec lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored (lower-case) text.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value whose stored text is exactly `text` (the lake's own values).
            pub fn from_stored(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Matches trimmed text case-insensitively.
            pub fn parse(text: &str) -> Option<$name> {
                let t = text.trim();
                $(if t.eq_ignore_ascii_case($text) { return Some($name::$variant); })+
                None
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// `education`.
    Education {
        HighSchool => "high_school", Associate => "associate", Bachelor => "bachelor",
        Master => "master", Doctorate => "doctorate", Other => "other",
    }
);

vocabulary!(
    /// `preferred_channel` and event `channel`.
    Channel { Sms => "sms", Email => "email", App => "app", Dingtalk => "dingtalk", Wechat => "wechat", Phone => "phone" }
);

vocabulary!(
    /// Interview `status`.
    Status {
        Scheduled => "scheduled", Attended => "attended", NoShow => "no_show",
        CancelledByCandidate => "cancelled_by_candidate", CancelledByCompany => "cancelled_by_company",
        Rescheduled => "rescheduled",
    }
);

vocabulary!(
    /// `no_show_grade`.
    NoShowGrade { Unreachable => "unreachable", ForceMajeure => "force_majeure", NoReason => "no_reason" }
);

vocabulary!(
    /// Event `type`.
    EventType {
        InviteSent => "invite_sent", MessageDelivered => "message_delivered", MessageRead => "message_read",
        Confirmed => "confirmed", ReminderSent => "reminder_sent", JdViewed => "jd_viewed",
        CompanyIntroViewed => "company_intro_viewed", LinkClicked => "link_clicked", LinkError => "link_error",
        QuestionnaireCompleted => "questionnaire_completed", RescheduleRequested => "reschedule_requested",
        CancelRequested => "cancel_requested", Joined => "joined", Completed => "completed",
        ReinviteSent => "reinvite_sent", ReinviteAccepted => "reinvite_accepted",
    }
);

/// Parses a boolean of the input format: `true/false`, `1/0`, `yes/no`, any case.
pub fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") || t == "1" || t.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") || t == "0" || t.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// Parses a decimal of the input format: digits with an optional `.` fraction
/// (a leading `-` is accepted; no exponent, no thousands separator).
pub fn parse_decimal(text: &str) -> Option<f64> {
    let t = text.trim();
    let body = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let ok_int = !int.is_empty() && int.bytes().all(|c| c.is_ascii_digit());
    let ok_frac = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()));
    if ok_int && ok_frac {
        t.parse::<f64>().ok().filter(|v| v.is_finite())
    } else {
        None
    }
}

/// What a column holds, as the lake stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text (ids, enumerations' stored text, free text).
    Text,
    Bool,
    /// A decimal of the input format, as a 64-bit float.
    Decimal,
    /// An instant, in microseconds since the epoch, UTC.
    Instant,
    /// A line number (unsigned 64-bit).
    Line,
}

impl ColumnType {
    /// The Arrow type of the lake's Parquet files.
    pub fn arrow(self) -> DataType {
        match self {
            ColumnType::Text => DataType::Utf8,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Decimal => DataType::Float64,
            ColumnType::Instant => utc_micros(),
            ColumnType::Line => DataType::UInt64,
        }
    }
}

/// What a column is for, so code can ask for "the interview's attributes" rather
/// than list names again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Names the row or the row it belongs to (`interview_id`, `candidate_id`, `event_id`).
    Key,
    /// Describes the interview as booked: a one-way dimension of the report and a
    /// column the features carry (`role`, `region`, `education`, …).
    Attribute,
    /// An instant (`invited_at`, `scheduled_at`, `updated_at`, `ts`).
    Time,
    /// What happened or was recorded (`status`, `cause`, `cost`, an event's `type`, …).
    Fact,
    /// Where a lake row came from (`origin_file`, `origin_line`); not in the input.
    Lineage,
}

/// A column of a lake table, as code names it: the table's enum implements it.
pub trait LakeColumn: Copy + 'static {
    /// The column's name, in the input format and in the lake.
    fn name(self) -> &'static str;
    fn column_type(self) -> ColumnType;
    /// Whether the lake may hold a null (in the input: whether the field is optional).
    fn nullable(self) -> bool;
    fn role(self) -> Role;
    /// The Arrow field of the lake's schema.
    fn field(self) -> Field {
        Field::new(self.name(), self.column_type().arrow(), self.nullable())
    }
}

/// Declares a lake table's columns: an enum with one variant per column, in the
/// order of the input format (the v1 CSV header's order for interviews), followed by
/// the lineage columns every kept row carries. The variant's position is its place in
/// the input format's list and in the lake's schema.
macro_rules! lake_table {
    ($(#[$doc:meta])* $name:ident {
        $($variant:ident => $text:literal, $ty:ident, $null:ident, $role:ident;)+
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant,)+ OriginFile, OriginLine }

        impl $name {
            /// Every column, in the lake's order (the input format's, then lineage).
            pub const ALL: &'static [$name] = &[$($name::$variant,)+ $name::OriginFile, $name::OriginLine];

            /// The input format's columns (or keys), in the spec's order, with whether
            /// each is required.
            pub const INPUT: &'static [(&'static str, bool)] = &[$(($text, lake_table!(@required $null)),)+];

            /// The column of this name (exact), among every column of the table.
            pub fn from_name(name: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|c| c.name() == name)
            }

            /// Position in [`Self::INPUT`] (for input columns) and in the lake's schema.
            pub fn position(self) -> usize {
                self as usize
            }

            /// The lake table's Arrow schema (without the extra columns of mapped exports).
            pub fn schema() -> SchemaRef {
                Arc::new(Schema::new($name::ALL.iter().map(|c| c.field()).collect::<Vec<_>>()))
            }
        }

        impl LakeColumn for $name {
            fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)+ $name::OriginFile => "origin_file", $name::OriginLine => "origin_line" }
            }
            fn column_type(self) -> ColumnType {
                match self { $($name::$variant => ColumnType::$ty,)+ $name::OriginFile => ColumnType::Text, $name::OriginLine => ColumnType::Line }
            }
            fn nullable(self) -> bool {
                match self { $($name::$variant => lake_table!(@nullable $null),)+ $name::OriginFile | $name::OriginLine => false }
            }
            fn role(self) -> Role {
                match self { $($name::$variant => Role::$role,)+ $name::OriginFile | $name::OriginLine => Role::Lineage }
            }
        }
    };
    (@required required) => { true };
    (@required optional) => { false };
    (@nullable required) => { false };
    (@nullable optional) => { true };
}

lake_table!(
    /// Columns of `interviews*.csv` and of `LAKE/interviews/` (one row per interview,
    /// the winning version). The lake's rows are in (`scheduled_at`, `interview_id`)
    /// order, in folders by UTC month of `scheduled_at` ([`InterviewColumn::ORDER`]).
    InterviewColumn {
        InterviewId => "interview_id", Text, required, Key;
        CandidateId => "candidate_id", Text, required, Key;
        Role => "role", Text, required, Attribute;
        Region => "region", Text, required, Attribute;
        Education => "education", Text, optional, Attribute;
        FreshGraduate => "fresh_graduate", Bool, optional, Attribute;
        Source => "source", Text, optional, Attribute;
        PreferredChannel => "preferred_channel", Text, optional, Attribute;
        InvitedAt => "invited_at", Instant, required, Time;
        ScheduledAt => "scheduled_at", Instant, required, Time;
        Status => "status", Text, required, Fact;
        Cause => "cause", Text, optional, Fact;
        NoShowGrade => "no_show_grade", Text, optional, Fact;
        Cost => "cost", Decimal, optional, Fact;
        UpdatedAt => "updated_at", Instant, optional, Time;
    }
);

lake_table!(
    /// Keys of `events*.jsonl` and columns of `LAKE/events/` (one row per distinct
    /// `event_id`, the first in reading order). The lake's rows are in (`ts`,
    /// `event_id`) order, in folders by UTC month of `ts` ([`EventColumn::ORDER`]).
    EventColumn {
        EventId => "event_id", Text, required, Key;
        InterviewId => "interview_id", Text, required, Key;
        Ts => "ts", Instant, required, Time;
        Type => "type", Text, required, Fact;
        Channel => "channel", Text, optional, Fact;
        Detail => "detail", Text, optional, Fact;
    }
);

impl InterviewColumn {
    /// The lake's row order and month folders: by this time, then this id.
    pub const ORDER: [InterviewColumn; 2] = [InterviewColumn::ScheduledAt, InterviewColumn::InterviewId];
}

impl EventColumn {
    /// The lake's row order and month folders: by this time, then this id.
    pub const ORDER: [EventColumn; 2] = [EventColumn::Ts, EventColumn::EventId];
}

/// Columns of `interviews*.csv`, in the spec's order, with whether each is required.
pub const INTERVIEW_COLUMNS: &[(&str, bool)] = InterviewColumn::INPUT;

/// Keys of `events*.jsonl`, with whether each is required.
pub const EVENT_KEYS: &[(&str, bool)] = EventColumn::INPUT;

/// Why [`column`] found no usable column in a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnError {
    #[error("it has no column {0}")]
    Missing(&'static str),
    #[error("column {0} has an unexpected type")]
    WrongType(&'static str),
}

/// The column `c` of a record batch read from the lake, by name, as the Arrow array
/// type `A` (`StringArray`, `TimestampMicrosecondArray`, …).
pub fn column<A: Array + 'static>(batch: &RecordBatch, c: impl LakeColumn) -> Result<&A, ColumnError> {
    let array = batch.column_by_name(c.name()).ok_or(ColumnError::Missing(c.name()))?;
    array.as_any().downcast_ref::<A>().ok_or(ColumnError::WrongType(c.name()))
}

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// `LAKE/interviews/`: one row per interview (the winning version).
pub fn interviews_schema() -> SchemaRef {
    InterviewColumn::schema()
}

/// `LAKE/events/`: one row per distinct `event_id` (the first in reading order).
pub fn events_schema() -> SchemaRef {
    EventColumn::schema()
}

/// `LAKE/rejected/`: rows set aside (`severity = "set_aside"`) and kept rows whose
/// optional field was nulled (`severity = "warning"`).
pub fn rejected_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("file", DataType::Utf8, false),
        Field::new("line", DataType::UInt64, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("field", DataType::Utf8, true),
        Field::new("raw", DataType::Utf8, false),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_match_case_insensitively() {
        assert_eq!(Status::parse(" No_Show "), Some(Status::NoShow));
        assert_eq!(Channel::parse("WeChat"), Some(Channel::Wechat));
        assert_eq!(EventType::parse("joined").map(EventType::as_str), Some("joined"));
        assert_eq!(Education::parse("phd"), None);
    }

    #[test]
    fn booleans_and_decimals() {
        assert_eq!(parse_bool("YES"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("y"), None);
        assert_eq!(parse_decimal("12.50"), Some(12.5));
        for bad in ["1,000", "1e3", ".5", "5.", "", "nan", "inf"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }

    /// The schemas as they were spelled out before the registry: the lake's bytes
    /// depend on every name, type, nullability and position.
    #[test]
    fn the_registry_builds_the_lake_schemas_field_for_field() {
        let interviews = Schema::new(vec![
            Field::new("interview_id", DataType::Utf8, false),
            Field::new("candidate_id", DataType::Utf8, false),
            Field::new("role", DataType::Utf8, false),
            Field::new("region", DataType::Utf8, false),
            Field::new("education", DataType::Utf8, true),
            Field::new("fresh_graduate", DataType::Boolean, true),
            Field::new("source", DataType::Utf8, true),
            Field::new("preferred_channel", DataType::Utf8, true),
            Field::new("invited_at", utc_micros(), false),
            Field::new("scheduled_at", utc_micros(), false),
            Field::new("status", DataType::Utf8, false),
            Field::new("cause", DataType::Utf8, true),
            Field::new("no_show_grade", DataType::Utf8, true),
            Field::new("cost", DataType::Float64, true),
            Field::new("updated_at", utc_micros(), true),
            Field::new("origin_file", DataType::Utf8, false),
            Field::new("origin_line", DataType::UInt64, false),
        ]);
        let events = Schema::new(vec![
            Field::new("event_id", DataType::Utf8, false),
            Field::new("interview_id", DataType::Utf8, false),
            Field::new("ts", utc_micros(), false),
            Field::new("type", DataType::Utf8, false),
            Field::new("channel", DataType::Utf8, true),
            Field::new("detail", DataType::Utf8, true),
            Field::new("origin_file", DataType::Utf8, false),
            Field::new("origin_line", DataType::UInt64, false),
        ]);
        assert_eq!(*interviews_schema(), interviews);
        assert_eq!(*events_schema(), events);
        for (i, c) in InterviewColumn::ALL.iter().enumerate() {
            assert_eq!((c.position(), InterviewColumn::from_name(c.name())), (i, Some(*c)));
        }
        for (i, c) in EventColumn::ALL.iter().enumerate() {
            assert_eq!((c.position(), EventColumn::from_name(c.name())), (i, Some(*c)));
        }
        // The input lists are the lake's columns before lineage, required = not null.
        for (input, c) in INTERVIEW_COLUMNS.iter().zip(InterviewColumn::ALL) {
            assert_eq!(*input, (c.name(), !c.nullable()));
        }
        assert_eq!(INTERVIEW_COLUMNS.len(), InterviewColumn::ALL.len() - 2);
        assert_eq!(EVENT_KEYS.iter().map(|k| k.0).collect::<Vec<_>>(), ["event_id", "interview_id", "ts", "type", "channel", "detail"]);
    }

    #[test]
    fn the_report_dimensions_are_the_attributes_and_the_week() {
        let attributes: Vec<&str> =
            InterviewColumn::ALL.iter().filter(|c| c.role() == Role::Attribute).map(|c| c.name()).collect();
        assert_eq!(crate::analytics::DIMENSIONS, [attributes, vec!["week"]].concat());
    }
}
