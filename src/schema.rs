//! The vocabulary of the input format (version 1) and the lake's table schemas.
//!
//! Enumerated values are matched case-insensitively and stored lower case. The lake's
//! column names are the input format's, plus `origin_file`/`origin_line` (where each
//! kept row came from) so any figure can be traced back to a line of an export.

use std::sync::Arc;

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

/// Columns of `interviews*.csv`, in the spec's order, with whether each is required.
pub const INTERVIEW_COLUMNS: &[(&str, bool)] = &[
    ("interview_id", true), ("candidate_id", true), ("role", true), ("region", true),
    ("education", false), ("fresh_graduate", false), ("source", false), ("preferred_channel", false),
    ("invited_at", true), ("scheduled_at", true), ("status", true), ("cause", false),
    ("no_show_grade", false), ("cost", false), ("updated_at", false),
];

/// Keys of `events*.jsonl`, with whether each is required.
pub const EVENT_KEYS: &[(&str, bool)] = &[
    ("event_id", true), ("interview_id", true), ("ts", true), ("type", true), ("channel", false), ("detail", false),
];

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// `LAKE/interviews/`: one row per interview (the winning version).
pub fn interviews_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
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
    ]))
}

/// `LAKE/events/`: one row per distinct `event_id` (the first in reading order).
pub fn events_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Utf8, false),
        Field::new("interview_id", DataType::Utf8, false),
        Field::new("ts", utc_micros(), false),
        Field::new("type", DataType::Utf8, false),
        Field::new("channel", DataType::Utf8, true),
        Field::new("detail", DataType::Utf8, true),
        Field::new("origin_file", DataType::Utf8, false),
        Field::new("origin_line", DataType::UInt64, false),
    ]))
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
}
