//! One chunk of the output: draws candidates and their interviews with the chunk's
//! own RNG stream, renders the export rows and event lines into per-file buffers
//! (with the format's legal noise: case, white space, timestamp forms, integer ids),
//! and counts exactly what it wrote. Pure: plan and chunk index in, bytes out.
//! (`write!` into a `Vec<u8>` cannot fail, hence the `let _ =`.)

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::faults::{self, EVENT_WARNING, INTERVIEW_WARNINGS};
use super::render::{push_csv_field, push_json_str, push_timestamp, TsForm};
use super::simulate::{self, Candidate, Ev, History, Interview, Outcome, SlotContext};
use super::tally::Tally;
use super::{mix64, world, Plan, CHUNK_SIZE, FIRST_INTERVIEW_ID, FIRST_ORPHAN_ID};
use crate::schema::{EventType, Status};
use crate::time::{Micros, MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE, MICROS_PER_SECOND};

/// Columns of `truth_interviews.csv`.
pub const TRUTH_HEADER: &str =
    "interview_id,candidate_id,p_not_attend,p_no_show,p_cancel_candidate,outcome,cause,status_written,upcoming,lead_days";

/// The bytes of one chunk, by destination, and its counts.
#[derive(Debug)]
pub struct ChunkOutput {
    pub interviews: Vec<Vec<u8>>,
    pub reexport: Vec<u8>,
    pub events: Vec<Vec<u8>>,
    pub truth: Vec<u8>,
    pub tally: Tally,
}

/// Share of closed interviews whose first export still shows them `scheduled`, with
/// the final row in the later re-export.
const P_REEXPORT: f64 = 0.06;
const P_DUPLICATE_EVENT: f64 = 0.004;
const P_ORPHAN: f64 = 0.002;
const P_NO_UPDATED_AT: f64 = 0.03;
const P_INTEGER_ID: f64 = 0.02;

/// Chunk-local state of the injected warnings: how many real rows still need one.
struct WarningsLeft {
    interview: [u32; 3],
    event: u32,
}

struct Writer<'a> {
    plan: &'a Plan,
    rng: ChaCha8Rng,
    out: ChunkOutput,
    dup_tail: Vec<Vec<u8>>,
    line: Vec<u8>,
    warnings: WarningsLeft,
    quoted_comma_left: bool,
    quoted_newline_left: bool,
}

fn eol(crlf: bool) -> &'static [u8] {
    if crlf {
        b"\r\n"
    } else {
        b"\n"
    }
}

/// Generates chunk `index` of `plan`.
pub fn generate_chunk(plan: &Plan, index: u64) -> ChunkOutput {
    let files = plan.files();
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
    rng.set_stream(index);
    let first = index * CHUNK_SIZE;
    let count = CHUNK_SIZE.min(plan.interviews - first);
    let k = if index == 0 { plan.bad_rows } else { 0 };
    let mut w = Writer {
        plan,
        rng,
        out: ChunkOutput {
            interviews: vec![Vec::with_capacity(count as usize * 200 / files); files],
            reexport: Vec::new(),
            events: vec![Vec::with_capacity(count as usize * 2600 / files); files],
            truth: Vec::with_capacity(count as usize * 90),
            tally: Tally::new(files),
        },
        dup_tail: vec![Vec::new(); files],
        line: Vec::with_capacity(512),
        warnings: WarningsLeft { interview: [k; 3], event: k },
        quoted_comma_left: index == 0,
        quoted_newline_left: index == 0,
    };

    let mut produced = 0u64;
    let mut candidate_no = 0u64;
    let mut events_buf: Vec<Ev> = Vec::with_capacity(64);
    let mut slots: Vec<(Micros, u32, u32)> = Vec::with_capacity(4);
    while produced < count {
        let cand = simulate::draw_candidate(&mut w.rng, mix64(((index << 32) | candidate_no) ^ 0x9e37_79b9_7f4a_7c15));
        candidate_no += 1;
        let n = world::INTERVIEWS_PER_CANDIDATE[pick(&mut w.rng)].0;
        draw_slots(&mut w.rng, plan, n.min((count - produced) as usize), &mut slots);
        let mut history = History::default();
        for &(scheduled_at, weekday, hour) in &slots {
            let interview_id = FIRST_INTERVIEW_ID + first + produced;
            produced += 1;
            let ctx = SlotContext { scheduled_at, as_of: plan.as_of, weekday, hour, miss_rate_trend: plan.miss_rate_trend };
            let iv = simulate::simulate(&mut w.rng, &cand, history, &ctx, std::mem::take(&mut events_buf));
            match iv.outcome {
                Outcome::NoShow => history.no_shows += 1,
                Outcome::CancelledByCandidate => history.cancellations += 1,
                Outcome::Attended => history.attended += 1,
                _ => {}
            }
            w.interview(interview_id, &cand, &iv);
            events_buf = iv.events;
        }
        if w.rng.random::<f64>() < P_ORPHAN * n as f64 {
            w.orphans(FIRST_ORPHAN_ID + first + produced);
        }
    }

    if k > 0 {
        for bad in faults::interview_rows(plan) {
            let buf = &mut w.out.interviews[bad.file];
            buf.extend_from_slice(&bad.text);
            buf.extend_from_slice(eol(Plan::interview_crlf(bad.file)));
            w.out.tally.interview_rows[bad.file] += 1;
            Tally::bump(&mut w.out.tally.interview_set_aside, bad.reason);
        }
        for bad in faults::event_lines(plan, FIRST_INTERVIEW_ID) {
            let buf = &mut w.out.events[bad.file];
            buf.extend_from_slice(&bad.text);
            buf.extend_from_slice(eol(Plan::events_crlf(bad.file)));
            w.out.tally.event_lines[bad.file] += 1;
            Tally::bump(&mut w.out.tally.event_set_aside, bad.reason);
        }
    }
    // Events delivered twice arrive again later in the same export.
    for (i, tail) in w.dup_tail.iter().enumerate() {
        w.out.events[i].extend_from_slice(tail);
    }
    w.out
}

fn pick(rng: &mut ChaCha8Rng) -> usize {
    let mut u = rng.random::<f64>();
    for (i, (_, weight)) in world::INTERVIEWS_PER_CANDIDATE.iter().enumerate() {
        if u < *weight {
            return i;
        }
        u -= weight;
    }
    0
}

/// Up to `n` slots of one candidate, a week or more apart, within the window; slots
/// are on the half hour in local time, mostly on weekdays in office hours.
fn draw_slots(rng: &mut ChaCha8Rng, plan: &Plan, n: usize, slots: &mut Vec<(Micros, u32, u32)>) {
    slots.clear();
    let offset = i64::from(plan.offsets.at(plan.as_of)) * MICROS_PER_SECOND;
    let first_day = (plan.window_start + offset).div_euclid(MICROS_PER_DAY);
    let last_day = (plan.window_end + offset).div_euclid(MICROS_PER_DAY) - 1;
    let mut lo = first_day;
    for i in 0..n {
        let hi = if i == 0 { last_day } else { (lo + 49).min(last_day) };
        if lo > hi {
            break;
        }
        let mut day = rng.random_range(lo..=hi);
        // 1970-01-01 was a Thursday: weekday 1 = Monday.
        let mut weekday = ((day + 3).rem_euclid(7) + 1) as u32;
        if weekday >= 6 && rng.random::<f64>() < 0.75 {
            day += 8 - i64::from(weekday);
            weekday = 1;
            if day > last_day {
                break;
            }
        }
        let hour = if rng.random::<f64>() < 0.82 { rng.random_range(9..18) } else { rng.random_range(18..21) };
        let minute = if rng.random::<bool>() { 30 } else { 0 };
        let local = day * MICROS_PER_DAY + hour * MICROS_PER_HOUR + minute * MICROS_PER_MINUTE;
        let t = plan.offsets.local_to_utc(local);
        slots.push((t, weekday, hour as u32));
        lo = day + 7;
    }
    // Each slot is drawn at least a week after the previous one, so this only guards
    // the order the candidate's history relies on.
    slots.sort_by_key(|s| s.0);
}

impl Writer<'_> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    /// Writes an enumerated value, now and then in other case or padded, as the spec allows.
    fn push_enum(&mut self, text: &str) {
        let u = self.rng.random::<f64>();
        let line = &mut self.line;
        if u < 0.97 {
            line.extend_from_slice(text.as_bytes());
        } else if u < 0.98 {
            line.extend(text.bytes().map(|b| b.to_ascii_uppercase()));
        } else if u < 0.99 {
            let mut up = true;
            for b in text.bytes() {
                line.push(if up { b.to_ascii_uppercase() } else { b });
                up = b == b'_';
            }
        } else {
            line.push(b' ');
            line.extend_from_slice(text.as_bytes());
            line.push(b' ');
        }
    }

    /// Writes a free string, now and then with surrounding white space.
    fn push_free(&mut self, text: &str) {
        if self.chance(0.01) {
            self.line.extend_from_slice(b"  ");
            push_csv_field(&mut self.line, text);
            self.line.push(b' ');
        } else {
            push_csv_field(&mut self.line, text);
        }
    }

    fn push_ts(&mut self, t: Micros) {
        let form = TsForm::pick(self.rng.random::<f64>());
        push_timestamp(&mut self.line, t, form, &self.plan.offsets);
    }

    fn interview(&mut self, interview_id: u64, cand: &Candidate, iv: &Interview) {
        let plan = self.plan;
        let as_of = plan.as_of;
        let upcoming = iv.scheduled_at > as_of;
        let joined_by_as_of = iv.events.iter().any(|e| e.kind == EventType::Joined && e.ts <= as_of);

        // The status HR has recorded by the as-of time.
        let since_slot = as_of - iv.scheduled_at;
        let status = match iv.outcome {
            _ if upcoming => Status::Scheduled,
            Outcome::Attended | Outcome::NoShow
                if since_slot < 15 * MICROS_PER_MINUTE || (since_slot < MICROS_PER_DAY && self.chance(0.5)) =>
            {
                Status::Scheduled
            }
            o => o.status(),
        };
        let t = &mut self.out.tally;
        t.interviews += 1;
        Tally::bump(&mut t.status_written, status.as_str());
        Tally::bump(&mut t.outcomes, iv.outcome.status().as_str());
        t.p_not_attend_sum += iv.p_not_attend;
        if upcoming {
            t.upcoming += 1;
        } else if status == Status::Scheduled {
            if joined_by_as_of {
                t.past_scheduled_joined += 1;
            } else {
                t.past_scheduled_not_joined += 1;
            }
        }
        if !matches!(iv.outcome, Outcome::CancelledByCompany | Outcome::Rescheduled) {
            let na = iv.outcome.not_attend();
            let b = &iv.behaviours;
            for (name, flag) in [
                ("message_read", b.message_read),
                ("jd_viewed", b.jd_viewed),
                ("company_intro_viewed", b.company_intro_viewed),
                ("link_clicked_ever", b.link_clicked_ever),
                ("link_clicked_24h", b.link_clicked_24h),
                ("confirmed", b.confirmed),
                ("questionnaire_completed", b.questionnaire),
                ("reminder_delivered", b.reminder_delivered),
                ("reminder_two_channels", b.reminder_two_channels),
                ("reminder_on_preferred_channel", b.reminder_on_preferred),
                ("fresh_graduate", cand.fresh_graduate),
                ("technical_role", cand.role.technical),
            ] {
                t.splits.entry(name).or_default().add(flag, na);
            }
        }
        if iv.outcome == Outcome::NoShow {
            let cell = if cand.role.technical { &mut t.no_shows_technical } else { &mut t.no_shows_other };
            cell[0] += 1;
            cell[1] += u64::from(iv.technical_no_show_with_link_error);
        }

        // Cause, grade and updated_at of the recorded status.
        let closed = status != Status::Scheduled;
        let cause_recorded = closed && iv.outcome != Outcome::Attended && self.chance(world::CAUSE_RECORDED);
        let grade = if status == Status::NoShow && self.chance(world::GRADE_RECORDED) { iv.grade } else { None };
        let updated_at = if closed {
            let base = iv.cancel_at.unwrap_or(iv.scheduled_at + 20 * MICROS_PER_MINUTE);
            let delay = self.rng.random_range(60..36 * 3600) * MICROS_PER_SECOND;
            (base + delay).min(as_of)
        } else {
            (iv.invited_at + self.rng.random_range(1..3600) * MICROS_PER_SECOND).min(as_of)
        };
        let reexport = closed && iv.scheduled_at < as_of - 2 * MICROS_PER_DAY && self.chance(P_REEXPORT);
        let file = plan.period_of(iv.scheduled_at);
        let crlf = Plan::interview_crlf(file);

        // Quoted fields (a comma, a line break) go on a cause in a file with LF endings.
        let mut cause_text: std::borrow::Cow<'static, str> = iv.cause.into();
        if cause_recorded && !crlf {
            if self.quoted_comma_left && iv.outcome == Outcome::CancelledByCandidate {
                self.quoted_comma_left = false;
                self.out.tally.quoted_comma_fields += 1;
                cause_text = format!("{}, exam week", iv.cause).into();
            } else if self.quoted_newline_left && iv.outcome == Outcome::CancelledByCompany {
                self.quoted_newline_left = false;
                self.out.tally.quoted_newline_fields += 1;
                cause_text = format!("{}\nheadcount frozen until Q3", iv.cause).into();
            }
        }

        let row = RowValues {
            interview_id,
            status,
            cause: if cause_recorded { &cause_text } else { "" },
            grade: grade.map(|g| g.as_str()).unwrap_or(""),
            updated_at: if !reexport && self.chance(P_NO_UPDATED_AT) { None } else { Some(updated_at) },
        };
        if reexport {
            // The first export caught the interview before it closed.
            let stale = RowValues {
                interview_id,
                status: Status::Scheduled,
                cause: "",
                grade: "",
                updated_at: Some(iv.invited_at + self.rng.random_range(60..3600) * MICROS_PER_SECOND),
            };
            self.render_row(cand, iv, &stale, true);
            self.finish_row(Some(file), crlf);
            self.render_row(cand, iv, &row, false);
            self.finish_row(None, false);
            self.out.tally.reexport_rows += 1;
        } else {
            self.render_row(cand, iv, &row, true);
            self.finish_row(Some(file), crlf);
        }

        // Ids stay unique as integers (id * 100 + seq), so at most 100 events each.
        for (seq, ev) in iv.events.iter().filter(|e| e.ts <= as_of).take(100).enumerate() {
            self.event(interview_id, seq as u32, ev, false);
        }
        let _ = writeln!(
            self.out.truth,
            "{interview_id},cand-{:016x},{:.6},{:.6},{:.6},{},{},{},{},{:.3}",
            cand.id,
            iv.p_not_attend,
            iv.p_no_show,
            iv.p_cancel_candidate,
            iv.outcome.status().as_str(),
            iv.cause,
            status.as_str(),
            upcoming,
            iv.lead_days,
        );
    }

    fn finish_row(&mut self, file: Option<usize>, crlf: bool) {
        self.line.extend_from_slice(eol(crlf));
        match file {
            Some(f) => {
                self.out.interviews[f].extend_from_slice(&self.line);
                self.out.tally.interview_rows[f] += 1;
            }
            None => self.out.reexport.extend_from_slice(&self.line),
        }
    }

    /// Renders one interview row into `self.line`; `may_warn` lets it carry an injected
    /// bad optional value.
    fn render_row(&mut self, cand: &Candidate, iv: &Interview, row: &RowValues<'_>, may_warn: bool) {
        self.line.clear();
        let _ = write!(self.line, "{},cand-{:016x},", row.interview_id, cand.id);
        self.push_free(cand.role.name);
        self.line.push(b',');
        self.push_free(cand.region.name);
        self.line.push(b',');
        let warn = if may_warn { self.warnings.interview.iter().position(|&n| n > 0) } else { None };
        if let Some(i) = warn {
            self.warnings.interview[i] -= 1;
            let (field, reason, _) = INTERVIEW_WARNINGS[i];
            Tally::bump(&mut self.out.tally.interview_warnings, reason);
            Tally::bump(&mut self.out.tally.interview_warning_fields, field);
        }
        let bad_value = |i: usize, left: u32| INTERVIEW_WARNINGS[i].2[left as usize % INTERVIEW_WARNINGS[i].2.len()];
        match (warn, cand.education) {
            (Some(0), _) => push_csv_field(&mut self.line, bad_value(0, self.warnings.interview[0])),
            (_, Some(e)) => self.push_enum(e.as_str()),
            (_, None) => {}
        }
        self.line.push(b',');
        if warn == Some(1) {
            push_csv_field(&mut self.line, bad_value(1, self.warnings.interview[1]));
        } else if self.chance(0.96) {
            let forms: [(&str, &str); 4] = [("true", "false"), ("1", "0"), ("yes", "no"), ("TRUE", "False")];
            let (yes, no) = forms[self.rng.random_range(0..4)];
            self.line.extend_from_slice(if cand.fresh_graduate { yes } else { no }.as_bytes());
        }
        self.line.push(b',');
        self.push_free(cand.source.name);
        self.line.push(b',');
        if let Some(c) = cand.preferred {
            self.push_enum(c.as_str());
        }
        self.line.push(b',');
        self.push_ts(iv.invited_at);
        self.line.push(b',');
        self.push_ts(iv.scheduled_at);
        self.line.push(b',');
        self.push_enum(row.status.as_str());
        self.line.push(b',');
        push_csv_field(&mut self.line, row.cause);
        self.line.push(b',');
        if !row.grade.is_empty() {
            self.push_enum(row.grade);
        }
        self.line.push(b',');
        if warn == Some(2) {
            push_csv_field(&mut self.line, bad_value(2, self.warnings.interview[2]));
        } else if self.chance(0.96) {
            let _ = write!(self.line, "{:.2}", iv.cost);
        }
        self.line.push(b',');
        if let Some(u) = row.updated_at {
            self.push_ts(u);
        }
    }

    fn orphans(&mut self, orphan_id: u64) {
        let n = self.rng.random_range(1..=3);
        for seq in 0..n {
            let ts = self.plan.as_of - self.rng.random_range(60..20 * 86_400) * MICROS_PER_SECOND;
            let kind = [EventType::MessageRead, EventType::LinkClicked, EventType::JdViewed][self.rng.random_range(0..3)];
            self.event(orphan_id, seq, &Ev { ts, kind, channel: None, detail: "" }, true);
        }
    }

    /// Writes one event line to the export of its time, sometimes twice.
    fn event(&mut self, interview_id: u64, seq: u32, ev: &Ev, orphan: bool) {
        let file = self.plan.period_of(ev.ts);
        self.line.clear();
        self.line.extend_from_slice(b"{\"event_id\":");
        if self.chance(P_INTEGER_ID) {
            let _ = write!(self.line, "{}", interview_id * 100 + u64::from(seq));
            self.out.tally.integer_ids += 1;
        } else {
            let _ = write!(self.line, "\"{interview_id}-{seq:02}\"");
        }
        self.line.extend_from_slice(b",\"interview_id\":");
        if self.chance(P_INTEGER_ID) {
            let _ = write!(self.line, "{interview_id}");
            self.out.tally.integer_ids += 1;
        } else {
            let _ = write!(self.line, "\"{interview_id}\"");
        }
        self.line.extend_from_slice(b",\"ts\":\"");
        self.push_ts(ev.ts);
        self.line.extend_from_slice(b"\",\"type\":\"");
        self.push_enum(ev.kind.as_str());
        self.line.push(b'"');
        let mut warned = false;
        match ev.channel {
            Some(_) if !orphan && self.warnings.event > 0 => {
                self.warnings.event -= 1;
                let values = EVENT_WARNING.2;
                self.line.extend_from_slice(b",\"channel\":");
                push_json_str(&mut self.line, values[self.warnings.event as usize % values.len()]);
                Tally::bump(&mut self.out.tally.event_warnings, EVENT_WARNING.1);
                Tally::bump(&mut self.out.tally.event_warning_fields, EVENT_WARNING.0);
                warned = true;
            }
            Some(c) => {
                self.line.extend_from_slice(b",\"channel\":\"");
                self.push_enum(c.as_str());
                self.line.push(b'"');
            }
            None if self.chance(0.005) => self.line.extend_from_slice(b",\"channel\":null"),
            None => {}
        }
        if !ev.detail.is_empty() {
            self.line.extend_from_slice(b",\"detail\":");
            push_json_str(&mut self.line, ev.detail);
        }
        if self.chance(0.005) {
            // Unknown keys are ignored by the spec; webhooks add their own.
            self.line.extend_from_slice(b",\"source\":\"webhook\"");
        }
        self.line.push(b'}');
        self.line.extend_from_slice(eol(Plan::events_crlf(file)));
        self.out.events[file].extend_from_slice(&self.line);
        let t = &mut self.out.tally;
        t.event_lines[file] += 1;
        t.events_unique += 1;
        Tally::bump(&mut t.events_by_type, ev.kind.as_str());
        if orphan {
            t.orphan_events += 1;
        }
        if !warned && self.rng.random::<f64>() < P_DUPLICATE_EVENT {
            self.dup_tail[file].extend_from_slice(&self.line);
            let t = &mut self.out.tally;
            t.event_lines[file] += 1;
            t.event_duplicates += 1;
        }
    }
}

struct RowValues<'a> {
    interview_id: u64,
    status: Status,
    cause: &'a str,
    grade: &'a str,
    updated_at: Option<Micros>,
}
