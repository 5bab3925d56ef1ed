//! The synthetic world: the vocabulary the generator draws from and every effect size
//! of its generating model, in one place so `effects.json` and docs/generator.md can
//! state exactly what the data was made from. Pure constants and small lookups.

use serde::Serialize;

use crate::schema::{Channel, Education};

/// A job role (or role family) as the HR system names it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Role {
    pub name: &'static str,
    pub weight: f64,
    /// Technical roles: link failures are the dominant no-show cause.
    pub technical: bool,
    /// Sales-like roles: candidates in a job miss working-hour slots.
    pub working_hours_sensitive: bool,
    /// Base cost of a slot (interviewer time, platform fee) in the company's currency.
    pub cost: f64,
    /// Additive effect on the log-odds of not attending.
    pub logit: f64,
}

pub const ROLES: &[Role] = &[
    Role { name: "software_engineer", weight: 0.22, technical: true, working_hours_sensitive: false, cost: 180.0, logit: 0.10 },
    Role { name: "data_engineer", weight: 0.10, technical: true, working_hours_sensitive: false, cost: 200.0, logit: 0.05 },
    Role { name: "sales", weight: 0.18, technical: false, working_hours_sensitive: true, cost: 90.0, logit: 0.30 },
    Role { name: "customer_service", weight: 0.15, technical: false, working_hours_sensitive: false, cost: 60.0, logit: 0.20 },
    Role { name: "operations", weight: 0.12, technical: false, working_hours_sensitive: false, cost: 80.0, logit: 0.0 },
    Role { name: "product_manager", weight: 0.07, technical: false, working_hours_sensitive: false, cost: 150.0, logit: -0.10 },
    Role { name: "销售", weight: 0.09, technical: false, working_hours_sensitive: true, cost: 90.0, logit: 0.30 },
    Role { name: "客服", weight: 0.07, technical: false, working_hours_sensitive: false, cost: 60.0, logit: 0.20 },
];

/// A region or site of the opening.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Region {
    pub name: &'static str,
    pub weight: f64,
    pub logit: f64,
    /// Probability that an SMS reaches the candidate (carriers block bulk SMS in some regions).
    pub sms_delivery: f64,
}

pub const REGIONS: &[Region] = &[
    Region { name: "华东", weight: 0.28, logit: 0.0, sms_delivery: 0.96 },
    Region { name: "华北", weight: 0.20, logit: 0.05, sms_delivery: 0.96 },
    Region { name: "华南", weight: 0.18, logit: 0.10, sms_delivery: 0.96 },
    Region { name: "西南", weight: 0.12, logit: 0.15, sms_delivery: 0.45 },
    Region { name: "north_america", weight: 0.12, logit: -0.10, sms_delivery: 0.97 },
    Region { name: "europe", weight: 0.10, logit: -0.05, sms_delivery: 0.97 },
];

/// Education levels with their weight and effect; `None` is "unknown" (empty field).
pub const EDUCATION: &[(Option<Education>, f64, f64)] = &[
    (Some(Education::HighSchool), 0.08, 0.25),
    (Some(Education::Associate), 0.12, 0.12),
    (Some(Education::Bachelor), 0.45, 0.0),
    (Some(Education::Master), 0.20, -0.10),
    (Some(Education::Doctorate), 0.04, -0.20),
    (Some(Education::Other), 0.03, 0.10),
    (None, 0.08, 0.15),
];

/// Candidate sources with weight, effect and the share of new graduates among them.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Source {
    pub name: &'static str,
    pub weight: f64,
    pub logit: f64,
    pub fresh_graduate_share: f64,
}

pub const SOURCES: &[Source] = &[
    Source { name: "campus", weight: 0.20, logit: 0.10, fresh_graduate_share: 0.85 },
    Source { name: "referral", weight: 0.15, logit: -0.35, fresh_graduate_share: 0.10 },
    Source { name: "job_board", weight: 0.45, logit: 0.15, fresh_graduate_share: 0.15 },
    Source { name: "headhunter", weight: 0.12, logit: -0.20, fresh_graduate_share: 0.02 },
    Source { name: "", weight: 0.08, logit: 0.0, fresh_graduate_share: 0.15 },
];

/// Preferred channels with weight; a few candidates have none on record.
pub const PREFERRED_CHANNELS: &[(Option<Channel>, f64)] = &[
    (Some(Channel::Sms), 0.25),
    (Some(Channel::Email), 0.18),
    (Some(Channel::App), 0.15),
    (Some(Channel::Dingtalk), 0.10),
    (Some(Channel::Wechat), 0.24),
    (Some(Channel::Phone), 0.03),
    (None, 0.05),
];

/// Probability that a message on `channel` reaches the candidate in `region`.
pub fn delivery_probability(channel: Channel, region: &Region) -> f64 {
    match channel {
        Channel::Sms => region.sms_delivery,
        Channel::Email => 0.90,
        Channel::App => 0.93,
        Channel::Phone => 0.75,
        Channel::Dingtalk | Channel::Wechat => 0.98,
    }
}

/// Reminder policies (offsets before the slot, in minutes, with their text) and weights.
pub const REMINDER_POLICIES: &[(&[(i64, &str)], f64)] = &[
    (&[], 0.05),
    (&[(1440, "-1d")], 0.12),
    (&[(1440, "-1d"), (120, "-2h")], 0.23),
    (&[(4320, "-3d"), (1440, "-1d"), (60, "-1h")], 0.30),
    (&[(4320, "-3d"), (1440, "-1d"), (120, "-2h"), (60, "-1h")], 0.30),
];

/// Share of interviews whose reminders go out on two channels.
pub const TWO_CHANNEL_SHARE: f64 = 0.55;
/// Share of reminders sent on the candidate's preferred channel (when one is known).
pub const PREFERRED_CHANNEL_USE: f64 = 0.65;

/// Outcomes decided before the candidate's behaviour matters.
pub const P_COMPANY_CANCEL: f64 = 0.035;
pub const P_RESCHEDULE: f64 = 0.04;

/// Coefficients of the logistic model of not attending (no-show or candidate
/// cancellation), given the interview was neither cancelled by the company nor
/// rescheduled. Each `no_*` feature is 1 when the behaviour did not happen.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct NotAttendModel {
    pub intercept: f64,
    pub fresh_graduate: f64,
    pub no_message_read: f64,
    pub no_jd_viewed: f64,
    pub no_company_intro_viewed: f64,
    pub no_link_clicked_ever: f64,
    pub no_link_clicked_24h: f64,
    pub not_confirmed: f64,
    pub no_questionnaire: f64,
    pub reminder_delivered: f64,
    pub reminder_two_channels: f64,
    pub reminder_on_preferred_channel: f64,
    /// Per unit of ln(1 + lead time in days).
    pub ln_lead_days: f64,
    /// Per earlier no-show of the same candidate (capped at 3).
    pub prior_no_shows: f64,
    /// Per earlier candidate cancellation (capped at 3).
    pub prior_cancellations: f64,
    /// Per earlier attended interview (capped at 3).
    pub prior_attended: f64,
    /// Working-hours slot (Mon–Fri 09–18 local) for a working-hours-sensitive role.
    pub working_hours_slot_sales: f64,
}

pub const NOT_ATTEND: NotAttendModel = NotAttendModel {
    intercept: -1.9,
    fresh_graduate: 0.35,
    no_message_read: 0.40,
    no_jd_viewed: 0.20,
    no_company_intro_viewed: 0.12,
    no_link_clicked_ever: 0.10,
    no_link_clicked_24h: 0.40,
    not_confirmed: 0.45,
    no_questionnaire: 0.15,
    reminder_delivered: -0.55,
    reminder_two_channels: -0.45,
    reminder_on_preferred_channel: -0.25,
    ln_lead_days: 0.22,
    prior_no_shows: 0.55,
    prior_cancellations: 0.30,
    prior_attended: -0.15,
    working_hours_slot_sales: 0.35,
};

/// Logistic share of candidate cancellations among those who do not attend.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CancelShareModel {
    pub intercept: f64,
    pub ln_lead_days: f64,
    pub confirmed: f64,
    pub no_message_read: f64,
}

pub const CANCEL_SHARE: CancelShareModel =
    CancelShareModel { intercept: -1.07, ln_lead_days: 0.35, confirmed: 0.45, no_message_read: -0.6 };

/// Behaviour propensities: logit = base + slope * engagement (a per-interview latent
/// mixing a persistent candidate trait and noise), so behaviours are correlated.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Propensity {
    pub base: f64,
    pub slope: f64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Behaviour {
    pub message_read_if_delivered: Propensity,
    pub message_read_if_not_delivered: Propensity,
    pub jd_viewed_if_read: Propensity,
    pub jd_viewed_if_unread: Propensity,
    pub company_intro_viewed: Propensity,
    pub link_clicked_ever: Propensity,
    pub link_clicked_24h: Propensity,
    pub confirmed: Propensity,
    pub questionnaire: Propensity,
    /// Weight of the persistent candidate trait in the engagement latent.
    pub candidate_trait_weight: f64,
}

pub const BEHAVIOUR: Behaviour = Behaviour {
    message_read_if_delivered: Propensity { base: 1.4, slope: 0.6 },
    message_read_if_not_delivered: Propensity { base: -1.8, slope: 0.5 },
    jd_viewed_if_read: Propensity { base: 0.9, slope: 0.5 },
    jd_viewed_if_unread: Propensity { base: -0.2, slope: 0.5 },
    company_intro_viewed: Propensity { base: -0.2, slope: 0.5 },
    link_clicked_ever: Propensity { base: 0.0, slope: 0.5 },
    link_clicked_24h: Propensity { base: 0.2, slope: 0.5 },
    confirmed: Propensity { base: 1.0, slope: 0.6 },
    questionnaire: Propensity { base: 0.1, slope: 0.5 },
    candidate_trait_weight: 0.7,
};

/// No-show causes. Weights are computed per interview in `simulate` from the mechanism
/// (unread messages → forgot; technical role → technical_issue; …).
pub const NO_SHOW_CAUSES: &[&str] = &["forgot", "technical_issue", "schedule_conflict", "unfamiliar_process", "emergency"];
pub const CANDIDATE_CANCEL_CAUSES: &[&str] =
    &["schedule_conflict", "role_mismatch", "emergency", "found_another_job", "unfamiliar_process"];
pub const COMPANY_CANCEL_CAUSES: &[(&str, f64)] =
    &[("position_closed", 0.45), ("double_booking", 0.2), ("failed_screening", 0.2), ("interviewer_unavailable", 0.15)];
pub const RESCHEDULE_CAUSES: &[(&str, f64)] = &[("schedule_conflict", 0.7), ("emergency", 0.2), ("technical_issue", 0.1)];

/// Share of no-shows and cancellations whose cause HR recorded.
pub const CAUSE_RECORDED: f64 = 0.88;
/// Share of no-shows that got a grade.
pub const GRADE_RECORDED: f64 = 0.95;

/// Link error codes for technical failures, with weights.
pub const LINK_ERROR_CODES: &[(&str, f64)] =
    &[("link_expired", 0.35), ("camera_denied", 0.25), ("network", 0.30), ("browser_unsupported", 0.10)];
/// Probability that an attending candidate hits a (recovered) link error first.
pub const ATTENDED_LINK_ERROR_TECH: f64 = 0.07;
pub const ATTENDED_LINK_ERROR_OTHER: f64 = 0.03;

/// Re-invitations after a no-show or candidate cancellation.
pub const P_REINVITE: f64 = 0.65;

/// Probability the candidate accepts a re-invitation, by the (true) cause of the miss.
pub fn reinvite_acceptance(cause: &str) -> f64 {
    match cause {
        "forgot" => 0.70,
        "technical_issue" => 0.80,
        "unfamiliar_process" => 0.55,
        "schedule_conflict" => 0.75,
        "emergency" => 0.65,
        "role_mismatch" => 0.15,
        "found_another_job" => 0.10,
        _ => 0.45,
    }
}

/// Grade of a no-show, by its true cause: (unreachable, force_majeure, no_reason) weights.
pub fn grade_weights(cause: &str) -> [f64; 3] {
    match cause {
        "forgot" => [0.55, 0.0, 0.45],
        "technical_issue" => [0.15, 0.60, 0.25],
        "schedule_conflict" => [0.30, 0.0, 0.70],
        "unfamiliar_process" => [0.40, 0.0, 0.60],
        "emergency" => [0.15, 0.85, 0.0],
        _ => [0.4, 0.1, 0.5],
    }
}

/// How many interviews a candidate has over the window: (count, weight).
pub const INTERVIEWS_PER_CANDIDATE: &[(usize, f64)] = &[(1, 0.50), (2, 0.25), (3, 0.15), (4, 0.10)];

/// Everything above, for `effects.json`.
#[derive(Debug, Serialize)]
pub struct Effects {
    pub roles: &'static [Role],
    pub regions: &'static [Region],
    pub education: Vec<(String, f64, f64)>,
    pub sources: &'static [Source],
    pub not_attend: NotAttendModel,
    pub cancel_share: CancelShareModel,
    pub behaviour: Behaviour,
    pub p_company_cancel: f64,
    pub p_reschedule: f64,
    pub two_channel_share: f64,
    pub preferred_channel_use: f64,
    pub p_reinvite: f64,
}

pub fn effects() -> Effects {
    Effects {
        roles: ROLES,
        regions: REGIONS,
        education: EDUCATION
            .iter()
            .map(|(e, w, l)| (e.map(|e| e.as_str().to_string()).unwrap_or_else(|| "unknown".into()), *w, *l))
            .collect(),
        sources: SOURCES,
        not_attend: NOT_ATTEND,
        cancel_share: CANCEL_SHARE,
        behaviour: BEHAVIOUR,
        p_company_cancel: P_COMPANY_CANCEL,
        p_reschedule: P_RESCHEDULE,
        two_channel_share: TWO_CHANNEL_SHARE,
        preferred_channel_use: PREFERRED_CHANNEL_USE,
        p_reinvite: P_REINVITE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(ws: impl Iterator<Item = f64>) -> f64 {
        ws.sum()
    }

    #[test]
    fn weights_sum_to_one() {
        for (name, s) in [
            ("roles", total(ROLES.iter().map(|r| r.weight))),
            ("regions", total(REGIONS.iter().map(|r| r.weight))),
            ("education", total(EDUCATION.iter().map(|e| e.1))),
            ("sources", total(SOURCES.iter().map(|s| s.weight))),
            ("channels", total(PREFERRED_CHANNELS.iter().map(|c| c.1))),
            ("policies", total(REMINDER_POLICIES.iter().map(|p| p.1))),
            ("per candidate", total(INTERVIEWS_PER_CANDIDATE.iter().map(|p| p.1))),
        ] {
            assert!((s - 1.0).abs() < 1e-9, "{name} weights sum to {s}");
        }
    }
}
