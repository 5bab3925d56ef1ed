//! `events*.jsonl` → validated [`EventRow`]s and [`Problem`]s, as the input format says
//! (one object per line, repeated keys refused, ids as strings or integers, bad
//! required value = line set aside, bad optional value = null and a warning). Never
//! touches the lake.
//!
//! Each line is parsed by serde_json straight into borrowed slots for the six known
//! keys (no `serde_json::Value` tree); values of other keys are skipped by serde_json's
//! non-recursive skipper, so deep nesting cannot exhaust the stack.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use chrono_tz::Tz;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::files::{quote_value, raw_text, reasons, FileError, FileStats, InputFile, LineReader, Limits, ProgressTicker};
use super::record::{EventRow, InputKind, Origin, Problem, RowSink, Severity};
use crate::schema::{Channel, EventColumn as Field, EventType, LakeColumn, EVENT_KEYS};
use crate::time::parse_timestamp;

/// Keys of the format (the registry's input columns; a key's slot in a line's values
/// is its position there).
const NKEYS: usize = EVENT_KEYS.len();

/// Reads one `events*.jsonl` file, handing every non-blank line to `sink` in file
/// order. `progress` is called now and then with the bytes read from disk so far.
pub fn read_events(
    file: &InputFile,
    tz: Tz,
    sink: &mut dyn RowSink,
    progress: &dyn Fn(u64),
) -> Result<FileStats, FileError> {
    read_events_with(file, tz, sink, progress, Limits::default())
}

/// A JSON value of a known key, as far as validation needs it.
#[derive(Debug, Clone, PartialEq)]
enum Val<'a> {
    Absent,
    Null,
    Str(Cow<'a, str>),
    Unsigned(u64),
    Signed(i64),
    /// Any other type, named for the message (`a boolean`, `an array`, …).
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Val<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValVisitor)
    }
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Val<'de>, E> {
        Ok(Val::Unsigned(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Val<'de>, E> {
        Ok(Val::Signed(v))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Val<'de>, E> {
        Ok(Val::Other("a number that is not an integer"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Val<'de>, E> {
        Ok(Val::Other("a boolean"))
    }
    fn visit_unit<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_none<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Val::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Val::Other("an object"))
    }
}

/// An object key, borrowed from the line when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// One line, parsed: an object's known values (and the first repeated key, if any), or
/// what else the line held.
#[derive(Debug, PartialEq)]
enum Line<'a> {
    Object { values: [Val<'a>; NKEYS], repeated: Option<String> },
    NotObject(&'static str),
}

impl<'de> Deserialize<'de> for Line<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LineVisitor)
    }
}

struct LineVisitor;

impl<'de> Visitor<'de> for LineVisitor {
    type Value = Line<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Line<'de>, A::Error> {
        let mut values: [Val<'de>; NKEYS] = Default::default();
        let mut repeated: Option<String> = None;
        // Unknown keys are remembered only to notice repeats among them.
        let mut unknown: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match EVENT_KEYS.iter().position(|(k, _)| *k == key) {
                Some(i) if values[i] == Val::Absent => values[i] = map.next_value::<Val<'de>>()?,
                Some(_) => {
                    map.next_value::<IgnoredAny>()?;
                    repeated.get_or_insert_with(|| key.into_owned());
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                    if repeated.is_none() && !unknown.insert(key.clone()) {
                        repeated = Some(key.into_owned());
                    }
                }
            }
        }
        Ok(Line::Object { values, repeated })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Line<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Line::NotObject("an array"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Line<'de>, E> {
        Ok(Line::NotObject("a string"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Line<'de>, E> {
        Ok(Line::NotObject("a number"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Line<'de>, E> {
        Ok(Line::NotObject("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Line<'de>, E> {
        Ok(Line::NotObject("a number"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Line<'de>, E> {
        Ok(Line::NotObject("a boolean"))
    }
    fn visit_unit<E>(self) -> Result<Line<'de>, E> {
        Ok(Line::NotObject("null"))
    }
}

impl Default for Val<'_> {
    fn default() -> Self {
        Val::Absent
    }
}

/// Why a value is bad: for a required key the line is set aside, for an optional one
/// the event is kept with the value null and this becomes a warning.
#[derive(Debug)]
struct Bad {
    reason: &'static str,
    field: Option<&'static str>,
    detail: String,
}

fn missing(field: Field) -> Bad {
    Bad { reason: reasons::MISSING_FIELD, field: Some(field.name()), detail: format!("{} is missing, null or empty", field.name()) }
}

fn wrong_type(field: Field, expected: &str, got: &str) -> Bad {
    Bad { reason: reasons::BAD_TYPE, field: Some(field.name()), detail: format!("{} is {got}; expected {expected}", field.name()) }
}

fn type_name(v: &Val) -> &'static str {
    match v {
        Val::Unsigned(_) | Val::Signed(_) => "an integer",
        Val::Other(name) => name,
        Val::Str(_) => "a string",
        Val::Absent | Val::Null => "null",
    }
}

/// A string value, trimmed; `None` when absent, null or empty.
fn text<'v>(values: &'v [Val], field: Field) -> Option<Result<&'v str, Bad>> {
    match &values[field.position()] {
        Val::Absent | Val::Null => None,
        Val::Str(s) => {
            let t = s.trim();
            (!t.is_empty()).then_some(Ok(t))
        }
        other => Some(Err(wrong_type(field, "a string", type_name(other)))),
    }
}

/// An id: a string, or an integer read as its decimal text.
fn id(values: &[Val], field: Field) -> Result<String, Bad> {
    match &values[field.position()] {
        Val::Unsigned(n) => Ok(n.to_string()),
        Val::Signed(n) => Ok(n.to_string()),
        Val::Str(_) | Val::Absent | Val::Null => match text(values, field) {
            Some(Ok(s)) => Ok(s.to_string()),
            _ => Err(missing(field)),
        },
        other => Err(wrong_type(field, "a string or an integer", type_name(other))),
    }
}

fn bad_enum(field: Field, value: &str, all: impl Iterator<Item = &'static str>) -> Bad {
    Bad {
        reason: reasons::BAD_ENUM,
        field: Some(field.name()),
        detail: format!("{} {} is not one of {}", field.name(), quote_value(value), all.collect::<Vec<_>>().join(", ")),
    }
}

fn build_event(values: &[Val], tz: Tz, origin: Origin, warnings: &mut Vec<Bad>) -> Result<EventRow, Bad> {
    let event_id = id(values, Field::EventId)?;
    let interview_id = id(values, Field::InterviewId)?;
    let ts_text = text(values, Field::Ts).ok_or_else(|| missing(Field::Ts))??;
    let ts = parse_timestamp(ts_text, tz).map_err(|e| Bad {
        reason: reasons::BAD_TIMESTAMP,
        field: Some(Field::Ts.name()),
        detail: format!("ts {} is not a timestamp: {e}", quote_value(ts_text)),
    })?;
    let type_text = text(values, Field::Type).ok_or_else(|| missing(Field::Type))??;
    let event_type = EventType::parse(type_text)
        .ok_or_else(|| bad_enum(Field::Type, type_text, EventType::ALL.iter().map(|t| t.as_str())))?;
    let channel = match text(values, Field::Channel) {
        None => None,
        Some(Ok(c)) => match Channel::parse(c) {
            Some(ch) => Some(ch),
            None => {
                warnings.push(bad_enum(Field::Channel, c, Channel::ALL.iter().map(|c| c.as_str())));
                None
            }
        },
        Some(Err(bad)) => {
            warnings.push(bad);
            None
        }
    };
    let detail = match text(values, Field::Detail) {
        None => None,
        Some(Ok(d)) => Some(d.to_string()),
        Some(Err(bad)) => {
            warnings.push(bad);
            None
        }
    };
    Ok(EventRow { event_id, interview_id, ts, event_type, channel, detail, origin })
}

/// The common line in one pass, without serde: an object whose keys are all known,
/// unescaped and not repeated, and whose values are unescaped strings, plain integers
/// or `null`. `None` for anything else (an escape, another type, an unknown or
/// repeated key, a number that might not fit, bad JSON): serde_json then reads the
/// line and decides, so this changes no outcome, only the cost of the usual one.
/// At a million interviews serde_json's visitor was an eighth of ingest's CPU time.
fn scan_simple(line: &str) -> Option<Line<'_>> {
    let b = line.as_bytes();
    let ws = |i: &mut usize| {
        while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            *i += 1;
        }
    };
    // An unescaped string starting at `i` (on its opening quote): its text, and `i`
    // moved past the closing quote. Control characters need serde's verdict.
    let string = |i: &mut usize| -> Option<&str> {
        let start = *i + 1;
        let len = b.get(start..)?.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if b[start + len] != b'"' {
            return None;
        }
        *i = start + len + 1;
        // Quotes are ASCII, so both ends are character boundaries.
        line.get(start..start + len)
    };
    let mut values: [Val<'_>; NKEYS] = Default::default();
    let mut i = 0;
    ws(&mut i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    ws(&mut i);
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let key = string(&mut i)?;
            let slot = EVENT_KEYS.iter().position(|(k, _)| *k == key)?;
            if values[slot] != Val::Absent {
                return None;
            }
            ws(&mut i);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
            ws(&mut i);
            values[slot] = match *b.get(i)? {
                b'"' => Val::Str(Cow::Borrowed(string(&mut i)?)),
                b'n' if b[i..].starts_with(b"null") => {
                    i += 4;
                    Val::Null
                }
                c @ (b'-' | b'0'..=b'9') => {
                    let negative = c == b'-';
                    let digits_at = i + usize::from(negative);
                    let n = b[digits_at..].iter().take_while(|c| c.is_ascii_digit()).count();
                    // No leading zero, at most 18 digits (always fits), and no fraction or
                    // exponent after it: anything else is serde's to judge.
                    if n == 0 || n > 18 || (n > 1 && b[digits_at] == b'0') || matches!(b.get(digits_at + n), Some(b'.' | b'e' | b'E')) {
                        return None;
                    }
                    let magnitude: i64 = line[digits_at..digits_at + n].parse().ok()?;
                    i = digits_at + n;
                    // serde_json reads `-0` as the float -0.0, not as an integer.
                    if negative && magnitude == 0 {
                        return None;
                    }
                    if negative {
                        Val::Signed(-magnitude)
                    } else {
                        Val::Unsigned(magnitude as u64)
                    }
                }
                _ => return None,
            };
            ws(&mut i);
            match b.get(i) {
                Some(b',') => {
                    i += 1;
                    ws(&mut i);
                }
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    ws(&mut i);
    (i == b.len()).then_some(Line::Object { values, repeated: None })
}

/// Validates one non-blank line that fits the cap.
fn check_line(line: &str, tz: Tz, origin: Origin, warnings: &mut Vec<Bad>) -> Result<EventRow, Bad> {
    let parsed = match scan_simple(line) {
        Some(simple) => Ok(simple),
        None => serde_json::from_str::<Line>(line),
    };
    match parsed {
        Err(e) => Err(Bad { reason: reasons::INVALID_JSON, field: None, detail: format!("not valid JSON: {e}") }),
        Ok(Line::NotObject(what)) => Err(Bad {
            reason: reasons::NOT_AN_OBJECT,
            field: None,
            detail: format!("the line is {what}, not a JSON object"),
        }),
        Ok(Line::Object { repeated: Some(k), .. }) => Err(Bad {
            reason: reasons::DUPLICATE_KEY,
            field: None,
            detail: format!("key {} appears more than once", quote_value(&k)),
        }),
        Ok(Line::Object { values, repeated: None }) => build_event(&values, tz, origin, warnings),
    }
}

pub(crate) fn read_events_with(
    file: &InputFile,
    tz: Tz,
    sink: &mut dyn RowSink,
    progress: &dyn Fn(u64),
    limits: Limits,
) -> Result<FileStats, FileError> {
    read_lines(LineReader::open(file)?, file, tz, sink, progress, limits)
}

/// The reader over any lines (a file's, or an export transcoded into format v1 by
/// [`crate::ingest::mapped`]); origins name `file`.
pub(crate) fn read_lines(
    mut lines: LineReader,
    file: &InputFile,
    tz: Tz,
    sink: &mut dyn RowSink,
    progress: &dyn Fn(u64),
    limits: Limits,
) -> Result<FileStats, FileError> {
    let mut ticker = ProgressTicker::new(progress);
    let mut buf = Vec::with_capacity(4096);
    let mut stats = FileStats::default();
    let mut warnings = Vec::new();
    while let Some((meta, line)) = lines.read_line(limits.row_bytes, &mut buf)? {
        let skipped = if meta.complete { 0 } else { lines.skip_rest(&mut |_| {})? };
        if meta.complete && line.trim().is_empty() {
            continue;
        }
        stats.rows_read += 1;
        // An incomplete line kept exactly `row_bytes` bytes before the skipped rest.
        let total = if meta.complete { line.len() as u64 } else { limits.row_bytes as u64 + skipped };
        let origin = Origin { file: file.rel.clone(), line: meta.number };
        let problem = |severity, reason, field: Option<&str>, detail: String| Problem {
            origin: origin.clone(),
            kind: InputKind::Events,
            severity,
            reason,
            field: field.map(str::to_string),
            detail,
            raw: raw_text(line.as_bytes(), limits.raw_bytes, total),
        };
        warnings.clear();
        let checked = if meta.complete {
            check_line(line, tz, origin.clone(), &mut warnings)
        } else {
            Err(Bad {
                reason: reasons::LINE_TOO_LONG,
                field: None,
                detail: format!("line of {total} bytes is longer than the {} bytes a line may have", limits.row_bytes),
            })
        };
        match checked {
            Ok(event) => {
                for w in warnings.drain(..) {
                    stats.warnings += 1;
                    sink.problem(problem(Severity::Warning, w.reason, w.field, w.detail));
                }
                sink.event(event);
            }
            Err(bad) => {
                stats.set_aside += 1;
                sink.problem(problem(Severity::SetAside, bad.reason, bad.field, bad.detail));
            }
        }
        ticker.tick(&lines);
    }
    ticker.finish(&lines);
    stats.content = lines.content();
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::csv_reader::tests::{input, Collect};
    use crate::time::Micros;

    fn read_with(text: &[u8], tz: Tz, limits: Limits) -> Result<(FileStats, Collect), FileError> {
        let dir = tempfile::tempdir().unwrap();
        let f = input(dir.path(), "events.jsonl", text);
        let mut sink = Collect::default();
        let stats = read_events_with(&f, tz, &mut sink, &|_| {}, limits)?;
        Ok((stats, sink))
    }

    fn read(text: &str) -> (FileStats, Collect) {
        read_with(text.as_bytes(), chrono_tz::UTC, Limits::default()).unwrap()
    }

    fn utc(s: &str) -> Micros {
        parse_timestamp(s, chrono_tz::UTC).unwrap()
    }

    /// The single problem of a one-line file that was set aside.
    fn set_aside(line: &str) -> Problem {
        let (stats, sink) = read(line);
        assert_eq!((stats.rows_read, stats.set_aside, sink.events.len()), (1, 1, 0), "{line}");
        assert_eq!(sink.problems.len(), 1);
        sink.problems[0].clone()
    }

    #[test]
    fn key_positions_match_the_schema() {
        for (i, k) in [(Field::EventId, "event_id"), (Field::InterviewId, "interview_id"), (Field::Ts, "ts"), (Field::Type, "type"),
            (Field::Channel, "channel"), (Field::Detail, "detail")] {
            assert_eq!(EVENT_KEYS[i.position()].0, k);
        }
        assert_eq!(EVENT_KEYS.len(), NKEYS);
    }

    #[test]
    fn a_full_line_with_blank_lines_bom_and_crlf() {
        let text = "\u{feff}{\"event_id\":\"e1\",\"interview_id\":\" i1 \",\"ts\":\"2026-03-02 14:00:00+08:00\",\"type\":\"Reminder_Sent\",\"channel\":\"WeChat\",\"detail\":\"-1d\",\"extra\":{\"deep\":[1,2,{\"x\":null}]}}\r\n\
                    \r\n   \t\n\
                    {\"event_id\":7,\"interview_id\":-3,\"ts\":\"2026-03-02T06:00:00.25Z\",\"type\":\"joined\",\"detail\":\"请假\"}";
        let (stats, sink) = read(text);
        assert_eq!(FileStats { content: Default::default(), ..stats }, FileStats { rows_read: 2, ..FileStats::default() });
        let e = &sink.events[0];
        assert_eq!((e.event_id.as_str(), e.interview_id.as_str()), ("e1", "i1"));
        assert_eq!(e.ts, utc("2026-03-02T06:00:00Z"));
        assert_eq!((e.event_type, e.channel, e.detail.as_deref()), (EventType::ReminderSent, Some(Channel::Wechat), Some("-1d")));
        assert_eq!(e.origin.line, 1);
        let e = &sink.events[1];
        assert_eq!((e.event_id.as_str(), e.interview_id.as_str()), ("7", "-3"), "integer ids are read as decimal text");
        assert_eq!(e.ts, utc("2026-03-02T06:00:00Z") + 250_000);
        assert_eq!((e.channel, e.detail.as_deref(), e.origin.line), (None, Some("请假"), 4));
    }

    #[test]
    fn the_fast_scanner_takes_the_usual_line_and_leaves_the_rest_to_serde() {
        let usual = "{\"event_id\":\"100000001-00\",\"interview_id\":100000001,\"ts\":\"2026-07-25T16:48:59Z\",\"type\":\"invite_sent\",\"channel\":null} \r";
        let Some(Line::Object { values, repeated: None }) = scan_simple(usual) else { panic!("the usual line is scanned") };
        assert_eq!(values[Field::InterviewId.position()], Val::Unsigned(100000001));
        assert_eq!(values[Field::Channel.position()], Val::Null);
        assert_eq!(values[Field::Detail.position()], Val::Absent);
        assert_eq!(scan_simple(" { } "), Some(Line::Object { values: Default::default(), repeated: None }));
        let base = "\"interview_id\":\"i1\",\"ts\":\"2026-03-02 06:00:00\",\"type\":\"joined\"";
        for unusual in [
            format!("{{\"event_id\":\"e\\u0031\",{base}}}"),
            format!("{{\"event_id\":-0,{base}}}"),
            format!("{{\"event_id\":007,{base}}}"),
            format!("{{\"event_id\":1.0,{base}}}"),
            format!("{{\"event_id\":1e3,{base}}}"),
            format!("{{\"event_id\":1234567890123456789,{base}}}"),
            format!("{{\"event_id\":true,{base}}}"),
            format!("{{\"event_id\":\"e1\",{base},\"extra\":1}}"),
            format!("{{\"event_id\":\"e1\",{base},\"event_id\":\"e2\"}}"),
            format!("{{\"event_id\":\"e\t1\",{base}}}"),
            format!("{{\"event_id\":\"e1\",{base}}} x"),
            format!("{{\"event_id\":\"e1\",{base},}}"),
            format!("{{\"event_id\":nul,{base}}}"),
        ] {
            assert_eq!(scan_simple(&unusual), None, "{unusual}");
        }
    }

    #[test]
    fn lines_that_are_not_objects_or_not_json() {
        assert_eq!(set_aside("{\"event_id\": \"e1\",").reason, reasons::INVALID_JSON);
        assert_eq!(set_aside("{\"a\":1} {\"b\":2}").reason, reasons::INVALID_JSON);
        assert_eq!(set_aside("event_id=e1").reason, reasons::INVALID_JSON);
        for (line, what) in [("[1,2]", "an array"), ("\"text\"", "a string"), ("42", "a number"), ("null", "null"),
            ("true", "a boolean")] {
            let p = set_aside(line);
            assert_eq!(p.reason, reasons::NOT_AN_OBJECT, "{line}");
            assert!(p.detail.contains(what), "{}", p.detail);
            assert_eq!(p.raw, line);
        }
    }

    #[test]
    fn a_repeated_key_sets_the_line_aside_even_when_unknown_or_escaped() {
        let base = "\"interview_id\":\"i1\",\"ts\":\"2026-03-02 06:00:00\",\"type\":\"joined\"";
        for line in [
            format!("{{\"event_id\":\"e1\",{base},\"event_id\":\"e2\"}}"),
            format!("{{\"event_id\":\"e1\",{base},\"note\":1,\"note\":2}}"),
            format!("{{\"event_id\":\"e1\",{base},\"\\u0074s\":\"2026-03-02 07:00:00\"}}"),
        ] {
            let p = set_aside(&line);
            assert_eq!(p.reason, reasons::DUPLICATE_KEY, "{line}");
        }
        // Keys differing only in case are different keys.
        let (stats, _) = read(&format!("{{\"event_id\":\"e1\",{base},\"TS\":\"x\"}}"));
        assert_eq!(stats.set_aside, 0);
    }

    #[test]
    fn required_values_missing_null_empty_or_of_the_wrong_type() {
        let line = |event_id: &str, ts: &str, ty: &str| {
            format!("{{\"event_id\":{event_id},\"interview_id\":\"i1\",\"ts\":{ts},\"type\":{ty}}}")
        };
        let ok_ts = "\"2026-03-02 06:00:00\"";
        let cases = [
            (line("null", ok_ts, "\"joined\""), reasons::MISSING_FIELD, "event_id"),
            (line("\"  \"", ok_ts, "\"joined\""), reasons::MISSING_FIELD, "event_id"),
            (line("1.5", ok_ts, "\"joined\""), reasons::BAD_TYPE, "event_id"),
            (line("true", ok_ts, "\"joined\""), reasons::BAD_TYPE, "event_id"),
            (line("[\"e1\"]", ok_ts, "\"joined\""), reasons::BAD_TYPE, "event_id"),
            (line("\"e1\"", "1772431200", "\"joined\""), reasons::BAD_TYPE, "ts"),
            (line("\"e1\"", "\"2026-03-02\"", "\"joined\""), reasons::BAD_TIMESTAMP, "ts"),
            (line("\"e1\"", "\"2026-03-02 24:00:00\"", "\"joined\""), reasons::BAD_TIMESTAMP, "ts"),
            (line("\"e1\"", ok_ts, "\"left\""), reasons::BAD_ENUM, "type"),
            (line("\"e1\"", ok_ts, "null"), reasons::MISSING_FIELD, "type"),
            ("{\"event_id\":\"e1\",\"ts\":\"2026-03-02 06:00:00\",\"type\":\"joined\"}".to_string(),
                reasons::MISSING_FIELD, "interview_id"),
        ];
        for (text, reason, field) in cases {
            let p = set_aside(&text);
            assert_eq!((p.reason, p.field.as_deref()), (reason, Some(field)), "{text}: {}", p.detail);
            assert_eq!(p.raw, text);
            assert_eq!(p.kind, InputKind::Events);
        }
    }

    #[test]
    fn bad_optional_values_become_null_with_a_warning() {
        let text = "{\"event_id\":\"e1\",\"interview_id\":\"i1\",\"ts\":\"2026-03-02 06:00:00\",\"type\":\"joined\",\"channel\":\"fax\",\"detail\":5}\n\
                    {\"event_id\":\"e2\",\"interview_id\":\"i1\",\"ts\":\"2026-03-02 06:00:00\",\"type\":\"joined\",\"channel\":3,\"detail\":null}\n";
        let (stats, sink) = read(text);
        assert_eq!((stats.rows_read, stats.set_aside, stats.warnings), (2, 0, 3));
        assert!(sink.events.iter().all(|e| e.channel.is_none() && e.detail.is_none()));
        let got: Vec<_> = sink.warnings().iter().map(|p| (p.reason, p.field.as_deref().unwrap_or(""), p.origin.line)).collect();
        assert_eq!(got, [(reasons::BAD_ENUM, "channel", 1), (reasons::BAD_TYPE, "detail", 1), (reasons::BAD_TYPE, "channel", 2)]);
    }

    #[test]
    fn deep_nesting_never_blows_the_stack() {
        let depth = 200_000;
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let base = "\"event_id\":\"e1\",\"interview_id\":\"i1\",\"ts\":\"2026-03-02 06:00:00\",\"type\":\"joined\"";
        let text = format!(
            "{deep}\n{{{base},\"extra\":{deep}}}\n{{{base},\"detail\":{deep}}}\n{{\"event_id\":{deep}}}\n{}\n",
            "{\"a\":".repeat(depth)
        );
        let (stats, sink) = read(&text);
        assert_eq!(stats.rows_read, 5);
        let got: Vec<_> = sink.problems.iter().map(|p| (p.reason, p.origin.line, p.severity)).collect();
        assert_eq!(got, [
            (reasons::NOT_AN_OBJECT, 1, Severity::SetAside),
            (reasons::BAD_TYPE, 3, Severity::Warning),
            (reasons::BAD_TYPE, 4, Severity::SetAside),
            (reasons::INVALID_JSON, 5, Severity::SetAside),
        ]);
        assert_eq!(sink.events.len(), 2, "nesting inside an unknown key is fine");
        assert!(sink.problems.iter().all(|p| p.raw.len() < 5000), "raw text is capped");
    }

    #[test]
    fn a_line_too_long_is_set_aside_and_the_next_one_read() {
        let limits = Limits { row_bytes: 200, raw_bytes: 40 };
        let good = "{\"event_id\":\"e1\",\"interview_id\":\"i1\",\"ts\":\"2026-03-02 06:00:00\",\"type\":\"joined\"}";
        let long = format!("{{\"event_id\":\"e0\",\"detail\":\"{}\"}}", "中".repeat(500));
        let (stats, sink) = read_with(format!("{long}\n{good}\n").as_bytes(), chrono_tz::UTC, limits).unwrap();
        assert_eq!((stats.rows_read, stats.set_aside), (2, 1));
        let p = &sink.problems[0];
        assert_eq!((p.reason, p.origin.line), (reasons::LINE_TOO_LONG, 1));
        assert!(p.raw.starts_with("{\"event_id\":\"e0\"") && p.raw.contains(&format!("{} bytes", long.len())), "{}", p.raw);
        assert_eq!(sink.events[0].origin.line, 2);
    }

    #[test]
    fn nul_bytes_and_raw_control_characters() {
        // A raw NUL inside a JSON string is not valid JSON; an escaped one is.
        let raw_nul = "{\"event_id\":\"e\0\",\"interview_id\":\"i1\",\"ts\":\"2026-03-02 06:00:00\",\"type\":\"joined\"}";
        assert_eq!(set_aside(raw_nul).reason, reasons::INVALID_JSON);
        let escaped = "{\"event_id\":\"e\\u0000\",\"interview_id\":\"i1\",\"ts\":\"2026-03-02 06:00:00\",\"type\":\"joined\"}";
        let (_, sink) = read(escaped);
        assert_eq!(sink.events[0].event_id, "e\0");
        assert_eq!(set_aside("\0\0\0").reason, reasons::INVALID_JSON);
    }

    #[test]
    fn naive_times_are_local_in_the_zone_and_gaps_are_refused() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let line = |ts: &str| format!("{{\"event_id\":\"e\",\"interview_id\":\"i\",\"ts\":\"{ts}\",\"type\":\"joined\"}}");
        let (_, sink) = read_with(line("2026-03-09 10:00:00").as_bytes(), ny, Limits::default()).unwrap();
        assert_eq!(sink.events[0].ts, utc("2026-03-09T14:00:00Z"));
        let (stats, sink) = read_with(line("2026-03-08 02:30:00").as_bytes(), ny, Limits::default()).unwrap();
        assert_eq!((stats.set_aside, sink.problems[0].reason), (1, reasons::BAD_TIMESTAMP));
    }

    #[test]
    fn not_utf8_is_a_file_error() {
        let err = read_with(b"{}\n{\"a\":\"\xC0\xAF\"}\n", chrono_tz::UTC, Limits::default()).unwrap_err();
        assert!(matches!(err, FileError::NotUtf8 { line: 2, .. }), "{err}");
    }

    /// Property tests: arbitrary input never panics, every non-blank line is accounted
    /// for exactly once, and what each line becomes matches an independent reading
    /// through `serde_json::Value`.
    mod prop {
        use super::*;
        use crate::ingest::csv_reader::tests::assert_accounted;
        use proptest::prelude::*;
        use serde_json::Value;

        /// A JSON value from a plain integer (cheap to generate in debug builds).
        fn json_value(k: u32) -> String {
            match k % 24 {
                0 => format!("\"e{}\"", k / 24),
                1 => format!("{}", k / 24),
                2 => format!("-{}", k / 24),
                3 => "1.5".into(),
                4 => "1e3".into(),
                5 => "true".into(),
                6 => "null".into(),
                7 => "\"\"".into(),
                8 => "\"  \"".into(),
                9 => "[1,[2,{\"a\":null}]]".into(),
                10 => "{\"x\":{\"y\":[]}}".into(),
                11 => "\"2026-03-02 06:00:00\"".into(),
                12 => "\"2026-03-02T14:00:00+08:00\"".into(),
                13 => "\"2026-03-02\"".into(),
                14 => "\"JOINED\"".into(),
                15 => "\"reminder_sent\"".into(),
                16 => "\"wechat\"".into(),
                17 => "\"请假\"".into(),
                18 => "\"a\\u0000\\\"b\\n\"".into(),
                19 => "123456789012345678901234567890".into(),
                _ => format!("\"{}\"", "y".repeat(100 + (k / 24 % 300) as usize)),
            }
        }

        const KEYS: [&str; 9] = ["event_id", "interview_id", "ts", "type", "channel", "detail", "extra", "TS", "\\u0074ype"];

        /// A line: mostly an object with the required keys valid, some values and keys
        /// random (unknown keys, escaped and repeated keys), or a blank line, a
        /// non-object, broken JSON.
        fn line() -> impl Strategy<Value = String> {
            (0..100u32, proptest::collection::vec(any::<u32>(), 0..9)).prop_map(|(shape, picks)| {
                match shape {
                    0..=4 => return ["", "  ", "\t\r", "\r"][shape as usize % 4].to_string(),
                    5..=7 => return json_value(picks.first().copied().unwrap_or(0)),
                    8 => return "{\"event_id\":\"e1\",".to_string(),
                    _ => {}
                }
                let mut fields = vec![
                    ("event_id".to_string(), format!("\"e{shape}\"")),
                    ("interview_id".to_string(), "\"i1\"".to_string()),
                    ("ts".to_string(), "\"2026-03-02 06:00:00\"".to_string()),
                    ("type".to_string(), "\"joined\"".to_string()),
                ];
                for k in picks {
                    let key = KEYS[(k % 9) as usize].to_string();
                    let value = json_value(k / 9);
                    match fields.iter_mut().find(|(n, _)| *n == key) {
                        // Mostly replace a value; sometimes repeat the key.
                        Some(slot) if k % 7 != 0 => slot.1 = value,
                        _ => fields.push((key, value)),
                    }
                }
                let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", body.join(","))
            })
        }

        fn jsonl_file() -> impl Strategy<Value = String> {
            (any::<bool>(), proptest::collection::vec((line(), any::<bool>()), 0..30)).prop_map(|(bom, lines)| {
                let mut text = if bom { "\u{feff}".to_string() } else { String::new() };
                for (l, crlf) in lines {
                    text.push_str(&l);
                    text.push_str(if crlf { "\r\n" } else { "\n" });
                }
                text
            })
        }

        fn mutate(text: &str, edits: &[(usize, u8)]) -> String {
            let mut s = text.to_string();
            for &(at, op) in edits {
                if s.is_empty() {
                    break;
                }
                let mut i = at % s.len();
                while !s.is_char_boundary(i) {
                    i -= 1;
                }
                match op % 10 {
                    0 => s.insert(i, '"'),
                    1 => s.insert(i, '{'),
                    2 => s.insert(i, '}'),
                    3 => s.insert(i, ','),
                    4 => s.insert(i, '\n'),
                    5 => s.insert(i, '\\'),
                    6 => s.insert(i, '中'),
                    7 => s.insert(i, '['),
                    _ => {
                        s.remove(i);
                    }
                }
            }
            s
        }

        /// An object's entries in order, repeats included (`Value` would keep only one).
        struct Entries(Vec<(String, Value)>);

        impl<'de> Deserialize<'de> for Entries {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Entries;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                        let mut out = Vec::new();
                        while let Some(entry) = map.next_entry::<String, Value>()? {
                            out.push(entry);
                        }
                        Ok(Entries(out))
                    }
                }
                d.deserialize_map(V)
            }
        }

        /// What the format says a line becomes: `Ok((event_id, interview_id, ts, type,
        /// channel, detail, warnings))` or `Err((reason, field))`.
        #[allow(clippy::type_complexity)]
        fn expected(line: &str) -> Result<(String, String, Micros, EventType, Option<Channel>, Option<String>, usize), (&'static str, Option<&'static str>)> {
            let value: Value = serde_json::from_str(line).map_err(|_| (reasons::INVALID_JSON, None))?;
            if !value.is_object() {
                return Err((reasons::NOT_AN_OBJECT, None));
            }
            let Entries(entries) = serde_json::from_str(line).map_err(|_| (reasons::INVALID_JSON, None))?;
            let mut names: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
            names.sort_unstable();
            if names.windows(2).any(|w| w[0] == w[1]) {
                return Err((reasons::DUPLICATE_KEY, None));
            }
            let get = |k: &str| entries.iter().find(|(n, _)| n == k).map(|(_, v)| v).unwrap_or(&Value::Null);
            let id = |k: &'static str| match get(k) {
                Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                Value::String(_) | Value::Null => Err((reasons::MISSING_FIELD, Some(k))),
                Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
                _ => Err((reasons::BAD_TYPE, Some(k))),
            };
            let string = |k: &'static str| match get(k) {
                Value::String(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
                Value::String(_) | Value::Null => Ok(None),
                _ => Err((reasons::BAD_TYPE, Some(k))),
            };
            let event_id = id("event_id")?;
            let interview_id = id("interview_id")?;
            let ts_text = string("ts")?.ok_or((reasons::MISSING_FIELD, Some("ts")))?;
            let ts = parse_timestamp(&ts_text, chrono_tz::UTC).map_err(|_| (reasons::BAD_TIMESTAMP, Some("ts")))?;
            let type_text = string("type")?.ok_or((reasons::MISSING_FIELD, Some("type")))?;
            let event_type = EventType::parse(&type_text).ok_or((reasons::BAD_ENUM, Some("type")))?;
            let mut warnings = 0;
            let channel = match string("channel") {
                Ok(Some(c)) => Channel::parse(&c).or_else(|| {
                    warnings += 1;
                    None
                }),
                Ok(None) => None,
                Err(_) => {
                    warnings += 1;
                    None
                }
            };
            let detail = string("detail").unwrap_or_else(|_| {
                warnings += 1;
                None
            });
            Ok((event_id, interview_id, ts, event_type, channel, detail, warnings))
        }

        fn check(text: &str, limits: Limits) -> Result<(), TestCaseError> {
            let (stats, sink) = read_with(text.as_bytes(), chrono_tz::UTC, limits)
                .map_err(|e| TestCaseError::fail(format!("unexpected error {e}")))?;
            assert_accounted(&stats, &sink);
            let body = text.strip_prefix('\u{feff}').unwrap_or(text);
            let mut kept = sink.events.iter();
            let mut set_aside = sink.set_aside().into_iter();
            let mut rows = 0;
            for (i, line) in body.split('\n').enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                rows += 1;
                let number = i as u64 + 1;
                let was_kept = sink.order.iter().any(|&(l, t)| l == number && t == 'k');
                let warnings = sink.warnings().iter().filter(|p| p.origin.line == number).count();
                match (line.len() > limits.row_bytes, expected(line)) {
                    (true, _) => {
                        let p = set_aside.next().unwrap();
                        prop_assert_eq!((p.reason, p.origin.line), (reasons::LINE_TOO_LONG, number));
                    }
                    (false, Ok((event_id, interview_id, ts, event_type, channel, detail, nwarn))) => {
                        prop_assert!(was_kept, "line {} should be kept: {}", number, line);
                        let e = kept.next().unwrap();
                        prop_assert_eq!((&e.event_id, &e.interview_id, e.ts, e.event_type), (&event_id, &interview_id, ts, event_type));
                        prop_assert_eq!((e.channel, &e.detail, warnings), (channel, &detail, nwarn));
                    }
                    (false, Err((reason, field))) => {
                        let p = set_aside.next().unwrap();
                        prop_assert_eq!(p.origin.line, number);
                        prop_assert_eq!((p.reason, p.field.as_deref()), (reason, field), "{}", line);
                    }
                }
            }
            prop_assert_eq!(stats.rows_read, rows);
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

            #[test]
            fn generated_files_match_an_independent_reading(text in jsonl_file()) {
                check(&text, Limits { row_bytes: 300, raw_bytes: 64 })?;
            }

            #[test]
            fn damaged_files_match_an_independent_reading(
                text in jsonl_file(),
                edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..12),
            ) {
                check(&mutate(&text, &edits), Limits { row_bytes: 300, raw_bytes: 64 })?;
            }

            /// The serde-free scanner, where it answers, answers as serde_json does.
            #[test]
            fn the_fast_scanner_agrees_with_serde_json(
                text in jsonl_file(),
                edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
            ) {
                for line in mutate(&text, &edits).lines() {
                    if let Some(fast) = scan_simple(line) {
                        let slow = serde_json::from_str::<Line>(line);
                        prop_assert!(slow.as_ref().is_ok_and(|slow| *slow == fast), "{}: {:?} vs {:?}", line, fast, slow);
                    }
                }
            }

            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
                if let Ok((stats, sink)) = read_with(&bytes, chrono_tz::UTC, Limits { row_bytes: 200, raw_bytes: 32 }) {
                    assert_accounted(&stats, &sink);
                }
            }
        }
    }
}
