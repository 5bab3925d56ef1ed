//! The generating mechanism for one candidate's interviews: context and early
//! behaviour first, then the outcome from a logistic model of those observables (its
//! probability is the ground truth), then the later events consistent with the
//! outcome. Pure: draws from the caller's RNG, returns values.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::world::{self, Region, Role, Source};
use crate::schema::{Channel, Education, EventType, NoShowGrade, Status};
use crate::time::{Micros, MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE, MICROS_PER_SECOND};

/// What happened (or will happen) to an interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Attended,
    NoShow,
    CancelledByCandidate,
    CancelledByCompany,
    Rescheduled,
}

impl Outcome {
    pub fn status(self) -> Status {
        match self {
            Outcome::Attended => Status::Attended,
            Outcome::NoShow => Status::NoShow,
            Outcome::CancelledByCandidate => Status::CancelledByCandidate,
            Outcome::CancelledByCompany => Status::CancelledByCompany,
            Outcome::Rescheduled => Status::Rescheduled,
        }
    }

    pub fn not_attend(self) -> bool {
        matches!(self, Outcome::NoShow | Outcome::CancelledByCandidate)
    }
}

/// A candidate: what stays the same across their interviews.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: u64,
    pub role: &'static Role,
    pub region: &'static Region,
    pub education: Option<Education>,
    pub education_logit: f64,
    pub fresh_graduate: bool,
    pub source: &'static Source,
    pub preferred: Option<Channel>,
    /// Persistent engagement trait (standard normal).
    pub engagement: f64,
}

/// The candidate's record so far, which raises or lowers the risk of the next interview.
#[derive(Debug, Clone, Copy, Default)]
pub struct History {
    pub no_shows: u32,
    pub cancellations: u32,
    pub attended: u32,
}

/// One event before rendering.
#[derive(Debug, Clone, Copy)]
pub struct Ev {
    pub ts: Micros,
    pub kind: EventType,
    pub channel: Option<Channel>,
    pub detail: &'static str,
}

/// Observable behaviours drawn before the outcome.
#[derive(Debug, Clone, Copy, Default)]
pub struct Behaviours {
    pub message_read: bool,
    pub jd_viewed: bool,
    pub company_intro_viewed: bool,
    pub link_clicked_ever: bool,
    pub link_clicked_24h: bool,
    pub confirmed: bool,
    pub questionnaire: bool,
    pub reminder_delivered: bool,
    pub reminder_two_channels: bool,
    pub reminder_on_preferred: bool,
}

/// One simulated interview, with its true probabilities and its events (unfiltered
/// by the as-of time; the chunk writer drops what has not happened yet).
#[derive(Debug, Clone)]
pub struct Interview {
    pub invited_at: Micros,
    pub scheduled_at: Micros,
    pub lead_days: f64,
    pub behaviours: Behaviours,
    pub p_not_attend: f64,
    pub p_no_show: f64,
    pub p_cancel_candidate: f64,
    pub outcome: Outcome,
    /// The true cause of a miss, cancellation or reschedule ("" when attended).
    pub cause: &'static str,
    pub grade: Option<NoShowGrade>,
    /// When the cancellation / reschedule was requested (None for attended / no-show).
    pub cancel_at: Option<Micros>,
    pub cost: f64,
    pub technical_no_show_with_link_error: bool,
    pub events: Vec<Ev>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|i| i.1).sum();
    let mut u = rng.random::<f64>() * total;
    for &(item, w) in items {
        if u < w {
            return item;
        }
        u -= w;
    }
    items[items.len() - 1].0
}

fn pick_index(rng: &mut ChaCha8Rng, weights: impl Iterator<Item = f64> + Clone) -> usize {
    let total: f64 = weights.clone().sum();
    let mut u = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        if u < w {
            return i;
        }
        u -= w;
        last = i;
    }
    last
}

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.random::<f64>() < p
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// Uniform instant in [lo, hi] (lo when the range is empty), rounded to whole seconds
/// or, sometimes, milliseconds, as clients log them.
fn between(rng: &mut ChaCha8Rng, lo: Micros, hi: Micros) -> Micros {
    let t = if hi <= lo { lo } else { rng.random_range(lo..=hi) };
    if chance(rng, 0.3) {
        t - t.rem_euclid(1000)
    } else {
        t - t.rem_euclid(MICROS_PER_SECOND)
    }
}

pub fn draw_candidate(rng: &mut ChaCha8Rng, id: u64) -> Candidate {
    let role = &world::ROLES[pick_index(rng, world::ROLES.iter().map(|r| r.weight))];
    let region = &world::REGIONS[pick_index(rng, world::REGIONS.iter().map(|r| r.weight))];
    let (education, _, education_logit) = world::EDUCATION[pick_index(rng, world::EDUCATION.iter().map(|e| e.1))];
    let source = &world::SOURCES[pick_index(rng, world::SOURCES.iter().map(|s| s.weight))];
    let fresh_graduate = chance(rng, source.fresh_graduate_share);
    let preferred = weighted(rng, world::PREFERRED_CHANNELS);
    Candidate {
        id,
        role,
        region,
        education,
        education_logit,
        fresh_graduate,
        source,
        preferred,
        engagement: normal(rng),
    }
}

/// Context the mechanism needs beyond the candidate.
pub struct SlotContext {
    pub scheduled_at: Micros,
    pub as_of: Micros,
    /// Local weekday (1 = Monday) and hour of the slot.
    pub weekday: u32,
    pub hour: u32,
    /// Change of the log-odds of not attending per week of slot time, zero at
    /// as-of (`--miss-rate-trend`; 0 leaves every draw as without it).
    pub miss_rate_trend: f64,
}

const OTHER_CHANNELS: &[(Channel, f64)] =
    &[(Channel::Sms, 0.3), (Channel::Email, 0.3), (Channel::App, 0.2), (Channel::Wechat, 0.2)];

/// Simulates one interview of `cand` given its slot and the candidate's history.
pub fn simulate(rng: &mut ChaCha8Rng, cand: &Candidate, history: History, slot: &SlotContext, events: Vec<Ev>) -> Interview {
    let mut events = events;
    events.clear();
    let scheduled_at = slot.scheduled_at;

    // Lead time: most invitations go out 1–10 days ahead; none after the as-of time.
    let lead_days_drawn = (0.35 + 1.1 * normal(rng)).exp().clamp(0.25, 21.0);
    let mut invited_at = scheduled_at - (lead_days_drawn * MICROS_PER_DAY as f64) as Micros;
    if invited_at > slot.as_of {
        invited_at = slot.as_of - rng.random_range(MICROS_PER_MINUTE..2 * MICROS_PER_HOUR);
    }
    invited_at -= invited_at.rem_euclid(MICROS_PER_SECOND);
    let lead = scheduled_at - invited_at;
    let lead_days = lead as f64 / MICROS_PER_DAY as f64;

    // Reminder plan and channels: company decisions, made before anything else.
    let policy: &[(i64, &str)] = weighted(rng, world::REMINDER_POLICIES);
    let first_channel = match cand.preferred {
        Some(p) if chance(rng, world::PREFERRED_CHANNEL_USE) => p,
        _ => weighted(rng, OTHER_CHANNELS),
    };
    let second_channel = if chance(rng, world::TWO_CHANNEL_SHARE) {
        let mut c = weighted(rng, OTHER_CHANNELS);
        if c == first_channel {
            c = if first_channel == Channel::Email { Channel::App } else { Channel::Email };
        }
        Some(c)
    } else {
        None
    };
    let channels: [Option<Channel>; 2] = [Some(first_channel), second_channel];
    let mut b = Behaviours::default();
    // Delivery of each (offset, channel): drawn now so the model sees it.
    let mut delivered = [[false; 2]; 4];
    for (i, &(offset_min, _)) in policy.iter().enumerate() {
        if scheduled_at - offset_min * MICROS_PER_MINUTE <= invited_at {
            continue;
        }
        let mut both = true;
        for (j, ch) in channels.iter().enumerate() {
            match ch {
                Some(ch) => {
                    delivered[i][j] = chance(rng, world::delivery_probability(*ch, cand.region));
                    if delivered[i][j] {
                        b.reminder_delivered = true;
                        if Some(*ch) == cand.preferred {
                            b.reminder_on_preferred = true;
                        }
                    }
                    both &= delivered[i][j];
                }
                None => both = false,
            }
        }
        if both {
            b.reminder_two_channels = true;
        }
    }

    // Early behaviour, correlated through the engagement latent.
    let beh = world::BEHAVIOUR;
    let w = beh.candidate_trait_weight;
    let e = w * cand.engagement + (1.0 - w * w).sqrt() * normal(rng);
    let p = |prop: world::Propensity| sigmoid(prop.base + prop.slope * e);
    let invite_channel = cand.preferred.unwrap_or(Channel::Email);
    let invite_delivered = chance(rng, world::delivery_probability(invite_channel, cand.region));
    b.message_read =
        chance(rng, p(if invite_delivered { beh.message_read_if_delivered } else { beh.message_read_if_not_delivered }));
    b.jd_viewed = chance(rng, p(if b.message_read { beh.jd_viewed_if_read } else { beh.jd_viewed_if_unread }));
    b.company_intro_viewed = chance(rng, p(beh.company_intro_viewed));
    b.link_clicked_ever = lead > 30 * MICROS_PER_HOUR && chance(rng, p(beh.link_clicked_ever));
    b.link_clicked_24h = chance(rng, p(beh.link_clicked_24h));
    b.confirmed = chance(rng, p(beh.confirmed));
    b.questionnaire = chance(rng, p(beh.questionnaire));

    // The outcome model: its probability is the ground truth.
    let m = world::NOT_ATTEND;
    let f = |x: bool| if x { 1.0 } else { 0.0 };
    let working_hours = (1..=5).contains(&slot.weekday) && (9..18).contains(&slot.hour);
    let ln_lead = (1.0 + lead_days).ln();
    let eta = m.intercept
        + cand.role.logit
        + cand.region.logit
        + cand.education_logit
        + cand.source.logit
        + m.fresh_graduate * f(cand.fresh_graduate)
        + m.no_message_read * f(!b.message_read)
        + m.no_jd_viewed * f(!b.jd_viewed)
        + m.no_company_intro_viewed * f(!b.company_intro_viewed)
        + m.no_link_clicked_ever * f(!b.link_clicked_ever)
        + m.no_link_clicked_24h * f(!b.link_clicked_24h)
        + m.not_confirmed * f(!b.confirmed)
        + m.no_questionnaire * f(!b.questionnaire)
        + m.reminder_delivered * f(b.reminder_delivered)
        + m.reminder_two_channels * f(b.reminder_two_channels)
        + m.reminder_on_preferred_channel * f(b.reminder_on_preferred)
        + m.ln_lead_days * ln_lead
        + m.prior_no_shows * f64::from(history.no_shows.min(3))
        + m.prior_cancellations * f64::from(history.cancellations.min(3))
        + m.prior_attended * f64::from(history.attended.min(3))
        + m.working_hours_slot_sales * f(working_hours && cand.role.working_hours_sensitive)
        + slot.miss_rate_trend * ((scheduled_at - slot.as_of) as f64 / (7 * MICROS_PER_DAY) as f64);
    let p_na_given_open = sigmoid(eta);
    let cs = world::CANCEL_SHARE;
    let cancel_share =
        sigmoid(cs.intercept + cs.ln_lead_days * ln_lead + cs.confirmed * f(b.confirmed) + cs.no_message_read * f(!b.message_read));
    let open = 1.0 - world::P_COMPANY_CANCEL - world::P_RESCHEDULE;
    let p_not_attend = open * p_na_given_open;
    let p_cancel_candidate = p_not_attend * cancel_share;
    let p_no_show = p_not_attend - p_cancel_candidate;

    let u = rng.random::<f64>();
    let outcome = if u < world::P_COMPANY_CANCEL {
        Outcome::CancelledByCompany
    } else if u < world::P_COMPANY_CANCEL + world::P_RESCHEDULE {
        Outcome::Rescheduled
    } else if chance(rng, p_na_given_open) {
        if chance(rng, cancel_share) {
            Outcome::CancelledByCandidate
        } else {
            Outcome::NoShow
        }
    } else {
        Outcome::Attended
    };

    // Cause and grade follow the mechanism.
    let no_reminder = !b.reminder_delivered;
    let (cause, grade) = match outcome {
        Outcome::Attended => ("", None),
        Outcome::NoShow => {
            let weights = [
                1.0 + 1.5 * f(!b.message_read) + 1.0 * f(no_reminder),
                if cand.role.technical { 2.2 } else { 0.45 },
                0.6 + 0.8 * f(working_hours && cand.role.working_hours_sensitive),
                if cand.fresh_graduate { 1.2 } else { 0.1 },
                0.25,
            ];
            let cause = world::NO_SHOW_CAUSES[pick_index(rng, weights.iter().copied())];
            let gw = world::grade_weights(cause);
            let grade = [NoShowGrade::Unreachable, NoShowGrade::ForceMajeure, NoShowGrade::NoReason]
                [pick_index(rng, gw.iter().copied())];
            (cause, Some(grade))
        }
        Outcome::CancelledByCandidate => {
            let weights = [
                1.0,
                if b.jd_viewed { 0.6 } else { 0.2 },
                0.35,
                0.35 * lead_days.min(10.0) / 5.0,
                if cand.fresh_graduate { 0.3 } else { 0.02 },
            ];
            (world::CANDIDATE_CANCEL_CAUSES[pick_index(rng, weights.iter().copied())], None)
        }
        Outcome::CancelledByCompany => (weighted(rng, world::COMPANY_CANCEL_CAUSES), None),
        Outcome::Rescheduled => (weighted(rng, world::RESCHEDULE_CAUSES), None),
    };

    // When a cancellation or reschedule is requested. Upcoming interviews keep their
    // request after the as-of time, so they are still `scheduled` in the export.
    let cancel_at = match outcome {
        Outcome::Attended | Outcome::NoShow => None,
        _ => {
            let lo = if scheduled_at > slot.as_of { invited_at.max(slot.as_of) } else { invited_at } + MICROS_PER_MINUTE;
            let hi = (scheduled_at - 30 * MICROS_PER_MINUTE).max(lo);
            // Requests lean towards the slot: the square root of a uniform draw.
            let t = lo + (((hi - lo) as f64) * rng.random::<f64>().sqrt()) as Micros;
            Some(t - t.rem_euclid(MICROS_PER_SECOND))
        }
    };
    let stop = cancel_at.unwrap_or(Micros::MAX);

    // Events before the slot.
    let push = |events: &mut Vec<Ev>, ts: Micros, kind: EventType, channel: Option<Channel>, detail: &'static str| {
        if ts <= stop {
            events.push(Ev { ts, kind, channel, detail });
        }
    };
    push(&mut events, invited_at, EventType::InviteSent, Some(invite_channel), "");
    let mut read_at = invited_at;
    if invite_delivered {
        let at = invited_at + rng.random_range(5..300) * MICROS_PER_SECOND;
        push(&mut events, at, EventType::MessageDelivered, Some(invite_channel), "");
        read_at = at;
    }
    // Half the invitations also go out by e-mail (or the app, for e-mail users).
    if chance(rng, 0.7) {
        let ch = if invite_channel == Channel::Email { Channel::App } else { Channel::Email };
        let at = invited_at + rng.random_range(1..30) * MICROS_PER_SECOND;
        push(&mut events, at, EventType::InviteSent, Some(ch), "");
        if chance(rng, world::delivery_probability(ch, cand.region)) {
            let d = at + rng.random_range(5..300) * MICROS_PER_SECOND;
            push(&mut events, d, EventType::MessageDelivered, Some(ch), "");
            if chance(rng, sigmoid(0.3 + 0.6 * e)) {
                let r = d + rng.random_range(60..6 * 3600) * MICROS_PER_SECOND;
                push(&mut events, r.min(scheduled_at), EventType::MessageRead, Some(ch), "");
            }
        }
    }
    let before_slot = scheduled_at - 60 * MICROS_PER_MINUTE;
    if b.message_read {
        let wait = (rng.random::<f64>().powi(2) * 6.0 * MICROS_PER_HOUR as f64) as Micros;
        read_at = (read_at + MICROS_PER_SECOND + wait).min(before_slot.max(read_at + MICROS_PER_SECOND));
        push(&mut events, read_at, EventType::MessageRead, Some(invite_channel), "");
        // Many reopen the invitation on the day to find the link again.
        if chance(rng, 0.5) {
            let t = between(rng, (scheduled_at - 8 * MICROS_PER_HOUR).max(read_at), before_slot.max(read_at));
            push(&mut events, t, EventType::MessageRead, Some(invite_channel), "");
        }
    }
    // Early behaviours happen more than 24 h before the slot when the lead time allows.
    let early_end = (scheduled_at - 24 * MICROS_PER_HOUR).max(read_at + MICROS_PER_MINUTE).min(before_slot.max(read_at));
    if b.confirmed {
        let t = between(rng, read_at + MICROS_PER_MINUTE, early_end);
        push(&mut events, t, EventType::Confirmed, None, "");
    }
    if b.jd_viewed {
        let views = rng.random_range(1..=3);
        for _ in 0..views {
            let t = between(rng, read_at, early_end);
            push(&mut events, t, EventType::JdViewed, None, "");
        }
    }
    if b.company_intro_viewed {
        for _ in 0..rng.random_range(1..=2) {
            let t = between(rng, read_at, early_end);
            push(&mut events, t, EventType::CompanyIntroViewed, None, "");
        }
    }
    if b.questionnaire {
        let t = between(rng, read_at + 5 * MICROS_PER_MINUTE, early_end);
        push(&mut events, t, EventType::QuestionnaireCompleted, None, "");
    }
    if b.link_clicked_ever {
        for _ in 0..rng.random_range(1..=2) {
            let t = between(rng, invited_at + MICROS_PER_MINUTE, scheduled_at - 25 * MICROS_PER_HOUR);
            push(&mut events, t, EventType::LinkClicked, None, "");
        }
    }
    if b.link_clicked_24h {
        let lo = (scheduled_at - 24 * MICROS_PER_HOUR).max(invited_at + MICROS_PER_MINUTE);
        // Candidates test the link, some more than once.
        for _ in 0..rng.random_range(1..=3) {
            let t = between(rng, lo, scheduled_at - 15 * MICROS_PER_MINUTE);
            push(&mut events, t, EventType::LinkClicked, None, "");
        }
    }

    // Reminders as planned, until a cancellation stops them.
    let attends = outcome == Outcome::Attended;
    for (i, &(offset_min, detail)) in policy.iter().enumerate() {
        let at = scheduled_at - offset_min * MICROS_PER_MINUTE;
        if at <= invited_at {
            continue;
        }
        for (j, ch) in channels.iter().enumerate() {
            let Some(ch) = *ch else { continue };
            let sent = at + rng.random_range(0..90) * MICROS_PER_SECOND;
            push(&mut events, sent, EventType::ReminderSent, Some(ch), detail);
            if delivered[i][j] {
                let d = sent + rng.random_range(2..120) * MICROS_PER_SECOND;
                push(&mut events, d, EventType::MessageDelivered, Some(ch), "");
                let p_read = sigmoid(0.9 + 0.8 * e + if attends { 0.8 } else { -0.4 });
                if chance(rng, p_read) {
                    let r = (d + rng.random_range(10..(offset_min * 30).max(20)) * MICROS_PER_SECOND).min(scheduled_at);
                    push(&mut events, r, EventType::MessageRead, Some(ch), "");
                    // The reminder carries the link; only candidates who click in that
                    // window anyway do, so the link observables keep their meaning.
                    let clicks = if offset_min > 24 * 60 { b.link_clicked_ever } else { b.link_clicked_24h };
                    if clicks && chance(rng, 0.5) {
                        let c = (r + rng.random_range(5..600) * MICROS_PER_SECOND).min(scheduled_at - MICROS_PER_MINUTE);
                        push(&mut events, c, EventType::LinkClicked, None, "");
                    }
                }
            }
        }
    }

    // At the slot.
    let mut technical_no_show_with_link_error = false;
    match outcome {
        Outcome::Attended => {
            let click = scheduled_at + rng.random_range(-8 * 60..3 * 60) * MICROS_PER_SECOND;
            push(&mut events, click, EventType::LinkClicked, None, "");
            let p_err = if cand.role.technical { world::ATTENDED_LINK_ERROR_TECH } else { world::ATTENDED_LINK_ERROR_OTHER };
            let mut joined = click + rng.random_range(5..120) * MICROS_PER_SECOND;
            if chance(rng, p_err) {
                let code = weighted(rng, world::LINK_ERROR_CODES);
                push(&mut events, click + 3 * MICROS_PER_SECOND, EventType::LinkError, None, code);
                joined += rng.random_range(60..600) * MICROS_PER_SECOND;
            }
            push(&mut events, joined, EventType::Joined, None, "");
            if chance(rng, 0.97) {
                let done = joined + rng.random_range(15 * 60..40 * 60) * MICROS_PER_SECOND;
                push(&mut events, done, EventType::Completed, None, "");
            }
        }
        Outcome::NoShow if cause == "technical_issue" => {
            let errors = rng.random_range(1..=3);
            let mut t = scheduled_at + rng.random_range(-10 * 60..5 * 60) * MICROS_PER_SECOND;
            for _ in 0..errors {
                push(&mut events, t, EventType::LinkClicked, None, "");
                let code = weighted(rng, world::LINK_ERROR_CODES);
                push(&mut events, t + 2 * MICROS_PER_SECOND, EventType::LinkError, None, code);
                t += rng.random_range(30..240) * MICROS_PER_SECOND;
            }
            technical_no_show_with_link_error = true;
        }
        Outcome::CancelledByCandidate => {
            if let Some(t) = cancel_at {
                events.push(Ev { ts: t, kind: EventType::CancelRequested, channel: None, detail: cancel_detail(rng, cause) });
            }
        }
        Outcome::Rescheduled => {
            if let Some(t) = cancel_at {
                events.push(Ev { ts: t, kind: EventType::RescheduleRequested, channel: None, detail: "" });
            }
        }
        _ => {}
    }

    // Re-invitation after a miss.
    if outcome.not_attend() && chance(rng, world::P_REINVITE) {
        let after = cancel_at.unwrap_or(scheduled_at);
        let sent = after + rng.random_range(2 * 3600..72 * 3600) * MICROS_PER_SECOND;
        let ch = cand.preferred.unwrap_or(Channel::Email);
        events.push(Ev { ts: sent, kind: EventType::ReinviteSent, channel: Some(ch), detail: "" });
        if chance(rng, world::reinvite_acceptance(cause)) {
            let acc = sent + rng.random_range(1800..48 * 3600) * MICROS_PER_SECOND;
            events.push(Ev { ts: acc, kind: EventType::ReinviteAccepted, channel: None, detail: "" });
        }
    }
    events.sort_by_key(|ev| ev.ts);

    let subsidy = if chance(rng, 0.1) { 50.0 } else { 0.0 };
    let cost = ((cand.role.cost * rng.random_range(0.8..1.25) + subsidy) * 100.0).round() / 100.0;
    Interview {
        invited_at,
        scheduled_at,
        lead_days,
        behaviours: b,
        p_not_attend,
        p_no_show,
        p_cancel_candidate,
        outcome,
        cause,
        grade,
        cancel_at,
        cost,
        technical_no_show_with_link_error,
        events,
    }
}

/// The reason a candidate gives when cancelling; some in Chinese, as typed in the app.
fn cancel_detail(rng: &mut ChaCha8Rng, cause: &'static str) -> &'static str {
    let chinese = chance(rng, 0.3);
    match (cause, chinese) {
        ("schedule_conflict", true) => "时间冲突",
        ("emergency", true) => "临时有事",
        ("found_another_job", true) => "已找到工作",
        ("role_mismatch", true) => "岗位不合适",
        _ => cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ctx(scheduled_at: Micros, as_of: Micros) -> SlotContext {
        SlotContext { scheduled_at, as_of, weekday: 3, hour: 10, miss_rate_trend: 0.0 }
    }

    #[test]
    fn probabilities_are_consistent_and_events_are_ordered() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let as_of = 1_780_000_000 * MICROS_PER_SECOND;
        for k in 0..2000 {
            let cand = draw_candidate(&mut rng, k);
            let slot = as_of - MICROS_PER_DAY * 10 + (k as i64 % 20) * MICROS_PER_DAY;
            let iv = simulate(&mut rng, &cand, History::default(), &ctx(slot, as_of), Vec::new());
            assert!(iv.invited_at <= as_of && iv.invited_at < iv.scheduled_at);
            assert!((iv.p_no_show + iv.p_cancel_candidate - iv.p_not_attend).abs() < 1e-12);
            assert!(iv.p_not_attend > 0.0 && iv.p_not_attend < 1.0);
            assert!(iv.events.windows(2).all(|w| w[0].ts <= w[1].ts));
            assert_eq!(iv.events.first().map(|e| e.kind), Some(EventType::InviteSent));
            let joined = iv.events.iter().any(|e| e.kind == EventType::Joined);
            assert_eq!(joined, iv.outcome == Outcome::Attended);
            if let Some(t) = iv.cancel_at {
                // Nothing the candidate does before the slot comes after the request.
                assert!(iv.events.iter().all(|e| e.ts <= t || matches!(e.kind, EventType::ReinviteSent | EventType::ReinviteAccepted)));
                if slot > as_of {
                    assert!(t > as_of, "upcoming interviews keep their request after as-of");
                }
            }
        }
    }

    #[test]
    fn technical_no_shows_come_with_link_errors() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let as_of = 1_780_000_000 * MICROS_PER_SECOND;
        let mut seen = 0;
        for k in 0..5000 {
            let cand = draw_candidate(&mut rng, k);
            let iv = simulate(&mut rng, &cand, History::default(), &ctx(as_of - 5 * MICROS_PER_DAY, as_of), Vec::new());
            if iv.outcome == Outcome::NoShow && iv.cause == "technical_issue" {
                seen += 1;
                assert!(iv.events.iter().any(|e| e.kind == EventType::LinkError && !e.detail.is_empty()));
            }
        }
        assert!(seen > 20, "only {seen} technical no-shows");
    }
}
