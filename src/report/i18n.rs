//! Every label the HTML report prints, in English and Chinese, in one table so a
//! translation is reviewed in one place. Data values (roles, regions) are not translated.

/// The report's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Some(Lang::En),
            "zh" | "zh-cn" | "chinese" => Some(Lang::Zh),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }
}

/// (key, English, Chinese). Sentences use `{name}` placeholders filled by [`fill`].
const LABELS: &[(&str, &str, &str)] = &[
    ("title", "AI interview no-shows and cancellations", "AI 面试爽约与取消分析"),
    ("subtitle", "As of {as_of} ({tz}) · lake version {version} · noshow {noshow}", "截至 {as_of}（{tz}）· 数据湖版本 {version} · noshow {noshow}"),
    ("headline", "Headline figures", "核心指标"),
    ("closed_interviews", "Closed interviews", "已结束面试"),
    ("no_show_rate", "No-show rate", "爽约率"),
    ("cancel_rate", "Candidate cancellation rate", "候选人取消率"),
    ("company_cancel_rate", "Company cancellation rate", "公司取消率"),
    ("reschedule_rate", "Reschedule rate", "改期率"),
    ("no_show_cost", "Cost of no-show slots", "爽约造成的成本"),
    ("interval_note", "95 % interval {low} – {high}", "95% 区间 {low} – {high}"),
    ("findings", "What stands out", "主要发现"),
    ("no_findings", "No segment stands clearly above the overall rate.", "没有明显高于整体水平的细分群体。"),
    ("finding_segment", "{dimension} “{segment}”: no-show rate {rate} (95 % interval {low} – {high}), above the overall {overall}.", "{dimension}「{segment}」：爽约率 {rate}（95% 区间 {low} – {high}），高于整体的 {overall}。"),
    ("finding_cause", "Role “{role}”: the most common no-show cause is “{cause}” ({share} of its no-shows).", "岗位「{role}」：最常见的爽约原因是「{cause}」（占该岗位爽约的 {share}）。"),
    ("finding_channel", "Channel “{channel}” has the highest unread rate: {rate} of delivered messages were never read.", "渠道「{channel}」未读率最高：已送达消息中有 {rate} 未被阅读。"),
    ("finding_signal", "Candidates without “{signal}” before the slot missed {rr}× as often (95 % interval {low} – {high}).", "面试前未出现「{signal}」的候选人，爽约或取消的概率是其他人的 {rr} 倍（95% 区间 {low} – {high}）。"),
    ("rates_by_segment", "No-show rate by segment", "各细分群体的爽约率"),
    ("rates_note", "Dots are rates, whiskers their 95 % Wilson interval; the dashed line is the overall rate. Segments with fewer than {threshold} closed interviews are suppressed.", "圆点为爽约率，横线为 95% Wilson 区间；虚线为整体爽约率。已结束面试少于 {threshold} 场的群体不予显示。"),
    ("weekly_trend", "Weekly trend", "每周趋势"),
    ("causes", "Why candidates miss", "爽约原因"),
    ("causes_note", "Share of each recorded no-show cause within each role.", "各岗位内各类爽约原因的占比。"),
    ("cancellations", "Cancellations by reason", "取消原因"),
    ("funnel", "Invitation funnel", "邀约漏斗"),
    ("funnel_note", "Closed interviews except company cancellations; each step counts candidates who also reached every earlier step.", "不含公司取消的已结束面试；每一步只统计完成了之前所有步骤的候选人。"),
    ("channel_reach", "Reach and unread rate by channel", "各渠道触达率与未读率"),
    ("reach_rate", "Reach rate", "触达率"),
    ("unread_rate", "Unread rate", "未读率"),
    ("reminders", "Reminders", "提醒"),
    ("reminders_note", "No-show rate by the reminders received before the slot.", "按面试前收到的提醒统计的爽约率。"),
    ("miss_timing", "When misses happen after the last reminder", "最后一次提醒之后多久发生爽约"),
    ("timing", "Lead time", "提前邀约时长"),
    ("best_slots", "Lowest no-show slots per role", "各岗位爽约率最低的时段"),
    ("cost", "Cost of no-shows", "爽约成本"),
    ("cost_by_role", "By role", "按岗位"),
    ("cost_by_month", "By month", "按月份"),
    ("signals", "Behavioural signals before the slot", "面试前的行为信号"),
    ("signals_note", "Relative risk of a no-show or candidate cancellation without the signal versus with it (above 1: missing the signal goes with more misses).", "没有该信号与有该信号相比，爽约或候选人取消的相对风险（大于 1 表示缺少该信号时更容易缺席）。"),
    ("reinvites", "Re-invitations after a miss", "爽约后的再次邀约"),
    ("model", "Risk model", "风险模型"),
    ("suppressed", "suppressed", "已隐藏"),
    ("driver_flag", "{feature}: {or}× the odds of not attending", "{feature}：未出席几率为 {or} 倍"),
    ("driver_flag_absent", "without “{feature}”: {or}× the odds of not attending", "缺少“{feature}”：未出席几率为 {or} 倍"),
    ("driver_more", "each one more ({feature}): {or}× the odds of not attending", "每多一次（{feature}）：未出席几率为 {or} 倍"),
    ("driver_doubling", "{feature} doubling: {or}× the odds of not attending", "{feature}翻倍：未出席几率为 {or} 倍"),
    ("driver_level", "{feature} {level} (vs {reference}): {or}× the odds of not attending", "{feature}为{level}（对比{reference}）：未出席几率为 {or} 倍"),
    ("feature_invitation_delivered", "messages reached the device", "消息已送达"),
    ("feature_invitation_read", "invitation read", "已读邀约"),
    ("feature_jd_viewed", "viewed the job description", "查看过职位描述"),
    ("feature_company_intro_viewed", "viewed the company introduction", "查看过公司介绍"),
    ("feature_link_clicked", "opened the interview link", "打开过面试链接"),
    ("feature_link_clicked_last_24h", "opened the link in the last 24 h", "最近 24 小时打开过链接"),
    ("feature_link_errors", "link errors", "链接错误"),
    ("feature_questionnaire_completed", "questionnaire filled", "填写过问卷"),
    ("feature_confirmed", "confirmed the time", "已确认时间"),
    ("feature_log_hours_to_confirm", "time to confirm", "确认所用时间"),
    ("feature_reschedule_requests", "asked to reschedule", "申请改期"),
    ("feature_reminders", "reminders sent", "已发提醒"),
    ("feature_reminder_channels", "reminder channels", "提醒渠道数"),
    ("feature_reminder_on_preferred_channel", "reminded on the preferred channel", "在偏好渠道收到提醒"),
    ("feature_log_lead_time_hours", "lead time", "提前邀约时长"),
    ("feature_log_hours_left", "time left before the slot", "距面试剩余时间"),
    ("feature_prior_no_shows", "earlier no-shows", "既往爽约"),
    ("feature_prior_candidate_cancels", "earlier cancellations", "既往取消"),
    ("feature_prior_attended", "attended earlier interviews", "既往到场"),
    ("feature_role", "role", "岗位"),
    ("feature_region", "region", "地区"),
    ("feature_education", "education", "学历"),
    ("feature_fresh_graduate", "new graduate", "应届生"),
    ("feature_source", "source", "来源"),
    ("feature_preferred_channel", "preferred channel", "偏好渠道"),
    ("feature_slot_weekday", "weekday of the slot", "面试星期"),
    ("feature_slot_daypart", "time of day of the slot", "面试时段"),
    ("coverage", "These figures cover {closed} closed interviews with slots from {from} to {to}; {set_aside} rows of the exports were set aside at ingest (the lake's rejected table lists each with its reason).", "以下数据涵盖 {closed} 场已结束的面试，面试时间从 {from} 到 {to}；导入时共有 {set_aside} 行导出数据被剔除（数据湖的 rejected 表逐行列出原因）。"),
    ("changes", "What changed", "近期变化"),
    ("changes_note", "No-show rates of the last 28 days against the 28 days before, where the 95 % interval of the change (Newcombe) excludes no change; the largest first.", "最近 28 天与之前 28 天的爽约率对比，仅列出变化的 95% 区间（Newcombe 法）不含零的项，按变化幅度排序。"),
    ("no_changes", "No segment's no-show rate moved by more than chance between the two periods.", "两个时段之间，没有任何分组的爽约率变化超出随机波动。"),
    ("changes_overall", "The overall no-show rate", "整体爽约率"),
    ("change_up", "{what} rose from {previous} to {recent} ({change} points; 95 % interval {low} to {high}).", "{what}从 {previous} 升至 {recent}（{change} 个百分点；95% 区间 {low} 至 {high}）。"),
    ("change_down", "{what} fell from {previous} to {recent} ({change} points; 95 % interval {low} to {high}).", "{what}从 {previous} 降至 {recent}（{change} 个百分点；95% 区间 {low} 至 {high}）。"),
    ("loop", "Closing the loop: what the extra help changed", "闭环：额外跟进带来了什么变化"),
    ("loop_no_archive", "No scoring feed has been archived in this lake yet: once `noshow score` has run and the interviews it scored have outcomes, this section compares helped and held-out interviews.", "该数据湖中尚无已存档的评分名单：`noshow score` 运行且其评分的面试有了结果后，本节将对比获得跟进与对照组的面试。"),
    ("loop_no_outcomes", "None of the archived interviews has an outcome yet: the comparison appears once their slots have passed and a later export has been ingested.", "已存档的面试尚无结果：待面试时间过去并导入后续数据后，这里会显示对比。"),
    ("loop_counts", "{archived} interviews in archived feeds; {closed} with an outcome (attended, no-show or candidate cancellation); {outside} closed otherwise (company cancellation, reschedule) and left out; {open} still open or not yet in the lake.", "存档名单中共 {archived} 场面试；{closed} 场已有结果（到场、爽约或候选人取消）；{outside} 场以其他方式结束（公司取消、改期）未计入；{open} 场尚未结束或尚未入湖。"),
    ("loop_sentence", "Extra help for {scope} changed misses from {holdout} (held out) to {help} (helped), a difference of {low} to {high} points (95 % interval): about {prevented} misses prevented.", "对{scope}的额外跟进使缺席率从 {holdout}（对照组）变为 {help}（跟进组），差异的 95% 区间为 {low} 至 {high} 个百分点：约避免了 {prevented} 次缺席。"),
    ("loop_scope_high", "the high-risk band", "高风险档"),
    ("loop_scope_all", "all scored interviews", "全部评分面试"),
    ("loop_too_few", "Too few helped or held-out interviews with outcomes to compare yet.", "有结果的跟进组或对照组面试太少，暂无法比较。"),
    ("loop_effect", "Change in the miss rate, helped against held out", "缺席率变化：跟进组对比对照组"),
    ("loop_effect_note", "Size of the difference in miss rate (no-show or candidate cancellation) between helped and held-out interviews, with its 95 % interval (Newcombe); intention to treat: by arm as assigned.", "跟进组与对照组缺席率（爽约或候选人取消）差异的大小及其 95% 区间（Newcombe 法）；按分配组别分析（意向性分析）。"),
    ("loop_fewer", "fewer misses when helped", "跟进后缺席更少"),
    ("loop_more", "more misses when helped", "跟进后缺席更多"),
    ("loop_monitoring", "The model on its own outcomes", "模型在实际结果上的表现"),
    ("loop_monitoring_note", "Each interview's probability from the last feed before its slot. The held-out rows are the honest measure: help changes the outcome of the others.", "每场面试取其面试前最后一份名单中的概率。对照组的数字才是真实的衡量：跟进会改变其他面试的结果。"),
    ("band_all", "all", "全部"),
    ("band_high", "high risk", "高风险"),
    ("band_medium", "medium risk", "中风险"),
    ("band_low", "low risk", "低风险"),
    ("loop_drift", "Drift: are the interviews scored like those the model learnt from?", "漂移：评分的面试是否与模型训练时的面试相似？"),
    ("loop_drift_note", "Population stability index (PSI) of each model feature between the model's training window and the latest archived feed ({date}, {rows} interviews, model {version}): PSI = Σ (a − e) · ln(a / e) over the training deciles or levels, shares floored at 0.0001. Below half of [score] drift_warn_psi it is stable, from half of it moderate, from it a shift.", "各模型特征在模型训练窗口与最新存档名单（{date}，{rows} 场面试，模型 {version}）之间的群体稳定性指数（PSI）：PSI = Σ (a − e) · ln(a / e)，按训练十分位或类别计算，占比下限 0.0001。低于 [score] drift_warn_psi 的一半为稳定，达到一半为中等，达到该阈值为偏移。"),
    ("loop_drift_stable", "No feature has shifted: the interviews scored look like those the model was trained on.", "没有特征发生偏移：评分的面试与模型训练时的面试相似。"),
    ("loop_drift_shifted", "Shifted features ({n}): {features}. The model is scoring interviews unlike those it learnt from. Check the exports first (a missing trace log looks like this), and retrain once the change is real.", "{n} 个特征发生偏移（{features}）：模型正在为与训练时不同的面试评分。请先检查导出数据（缺少行为日志时就会如此），确认变化属实后再重新训练。"),
    ("loop_drift_none", "The archived feeds carry no drift figures (their model was trained by an older noshow): retrain, and the next feed will.", "存档名单中没有漂移数据（其模型由旧版 noshow 训练）：重新训练后，下一份名单就会包含。"),
    ("loop_drift_no_archive", "No drift figures yet: they come with the first archived scoring feed.", "尚无漂移数据：首份存档评分名单生成后即会出现。"),
    ("drift_stable", "stable", "稳定"),
    ("drift_moderate", "moderate", "中等"),
    ("drift_shift", "shift", "偏移"),
    ("col_feature", "Feature", "特征"),
    ("col_signal", "Signal", "信号"),
    ("col_miss_with", "Miss rate with", "有信号时缺席率"),
    ("col_miss_without", "Miss rate without", "无信号时缺席率"),
    ("col_relative_risk", "Relative risk", "相对风险"),
    ("col_interval", "95 % interval", "95% 区间"),
    ("col_psi", "PSI", "PSI"),
    ("col_level", "Level", "程度"),
    ("col_most_changed", "Most changed (training → feed)", "变化最大的区间（训练 → 名单）"),
    ("arm_all", "all", "全部"),
    ("arm_holdout", "held out", "对照组"),
    ("col_week", "Week", "周"),
    ("col_model_version", "Model", "模型"),
    ("col_arm", "Group", "组别"),
    ("col_interviews", "Interviews", "面试数"),
    ("col_auc", "AUC (95 %)", "AUC（95%）"),
    ("col_mean_p", "Mean predicted", "平均预测"),
    ("col_miss_rate", "Miss rate", "缺席率"),
    ("col_ece", "Calibration error", "校准误差"),
    ("more_findings", "… and {count} more findings in summary.json", "……另有 {count} 条发现，见 summary.json"),
    ("more_segments", "{count} more segments ({interviews} interviews): see the CSV table", "另有 {count} 个分组（{interviews} 场面试），见 CSV 表"),
    ("unknown", "unknown", "未知"),
    ("interviews", "interviews", "场面试"),
    ("segment", "Segment", "细分"),
    ("rate", "Rate", "比率"),
    ("rank", "Rank", "排名"),
    ("slot", "Slot", "时段"),
    ("acceptance_rate", "Accepted", "接受率"),
    ("reinvited", "Re-invited", "再次邀约"),
    ("misses", "Misses", "缺席"),
    ("cause", "Cause", "原因"),
    ("outcome", "Outcome", "结果"),
    ("footer", "Generated by noshow {noshow}. Tables behind every chart are in the same folder as Parquet and CSV; see the data dictionary in notebooks-export/README.md.", "由 noshow {noshow} 生成。每张图背后的数据表以 Parquet 和 CSV 格式保存在同一文件夹中，字段说明见 notebooks-export/README.md。"),
    // Confirmations, link errors, cancellation reasons.
    ("likely_cause_line", "{cause} (likely technical issue)", "{cause}（可能为技术问题）"),
    ("confirmations", "Confirmations", "确认情况"),
    ("confirmations_note", "Share of closed interviews (company cancellations left out) whose candidate confirmed the time before the slot; whiskers are 95 % Wilson intervals, the dashed line is the overall rate ({rate}). {within} of all interviews were confirmed within 24 hours of the invitation; the median confirmation came {median} after it.", "已结束面试（不含公司取消）中候选人在面试开始前确认时间的比例；横线为 95% Wilson 区间，虚线为整体确认率（{rate}）。全部面试中有 {within} 在邀约后 24 小时内确认；确认时间的中位数为邀约后 {median}。"),
    ("confirmation_by_role", "By role", "按岗位"),
    ("confirmation_by_channel", "By preferred channel", "按偏好渠道"),
    ("confirmation_weekly", "Confirmation rate by week", "每周确认率"),
    ("confirmation_time", "Time from invitation to confirmation", "从邀约到确认所用时间"),
    ("confirmation_no_show", "No-show rate: confirmed 24 h before the slot, or not", "面试前 24 小时是否已确认与爽约率"),
    ("confirmation_no_show_note", "Interviews still on 24 hours before the slot: invited by then and not cancelled before it (company cancellations and reschedules left out).", "面试前 24 小时仍有效的面试：当时已发出邀约且尚未取消（不含公司取消和改期）。"),
    ("confirmed_24h_true", "confirmed", "已确认"),
    ("confirmed_24h_false", "not confirmed", "未确认"),
    ("hours", "{n} h", "{n} 小时"),
    ("link_errors", "Link errors", "链接错误"),
    ("link_errors_note", "Share of closed interviews whose candidate hit at least one link error (an expired link, a camera denied, the network), by role and overall (dashed line, {rate}); {events} errors in all. A no-show closed without a recorded cause whose candidate clicked the link and hit an error before it was declared is counted in the cause charts as “unknown (likely technical issue)”: {likely} such no-shows.", "候选人至少遇到一次链接错误（链接过期、摄像头被拒、网络故障等）的已结束面试占比，按岗位及整体（虚线，{rate}）统计；共 {events} 次错误。未记录原因而被判定为爽约、且候选人在判定前点击链接并遇到错误的面试，在原因图中单独计为“未知（可能为技术问题）”：共 {likely} 场。"),
    ("link_errors_age", "Error codes by time since the invitation", "按距邀约时间划分的错误类型"),
    ("link_errors_age_note", "If links expire too early, expired links grow as a share of the errors with the time since the invitation.", "如果链接有效期过短，链接过期在错误中的占比会随距邀约时间增加而上升。"),
    ("cancel_reasons", "Reasons candidates give when cancelling", "候选人取消时填写的原因"),
    ("cancel_reasons_note", "Reason texts trimmed, case-folded and merged through the reason map of the config; reasons given in fewer than {threshold} interviews are pooled and never printed. {requests} cancel requests in all.", "原因文本已去除空格、统一大小写，并按配置中的原因对照表合并；少于 {threshold} 场面试给出的原因合并显示，不单独列出。共 {requests} 次取消申请。"),
    ("no_reason_given", "no reason given", "未填写原因"),
    // The model section.
    ("model_intro", "The model estimates, for each upcoming interview, the probability of a no-show or a candidate cancellation. It decides who gets more help first (a call, an extra reminder, a link check) and must never be used to reject anyone.", "模型为每场即将进行的面试估计爽约或候选人取消的概率，用于决定优先给谁更多帮助（电话、额外提醒、链接检查），绝不能用于淘汰任何候选人。"),
    ("model_version", "Model version", "模型版本"),
    ("model_test_window", "Test window (latest weeks, not used for fitting)", "测试窗口（最近几周，未用于拟合）"),
    ("model_auc", "AUC", "AUC"),
    ("model_auc_ci", "AUC (95 % DeLong interval)", "AUC（95% DeLong 区间）"),
    ("model_top10", "Misses caught by the top 10 % of scores", "得分最高 10% 覆盖的缺席"),
    ("model_top20", "Misses caught by the top 20 % of scores", "得分最高 20% 覆盖的缺席"),
    ("model_ece", "Calibration error (ECE)", "校准误差（ECE）"),
    ("model_calibration", "Calibration: predicted vs observed rate by decile", "校准：各十分位的预测率与实际率"),
    ("model_decile", "Decile", "十分位"),
    ("model_predicted", "Predicted", "预测"),
    ("model_observed", "Observed", "实际"),
    ("model_fairness", "Does it serve every group equally well?", "模型对各群体是否同样有效？"),
    ("model_group", "Group", "群体"),
    ("model_rows", "Interviews", "面试数"),
    ("model_base_rate", "Miss rate", "缺席率"),
    ("model_drivers", "What moves the risk (odds ratios with 95 % intervals)", "影响风险的因素（优势比及 95% 区间）"),
    ("model_suppressed", "fewer than {n} interviews: not shown", "少于 {n} 场面试：不显示"),
    ("model_withheld", "figures withheld", "数据不显示"),
    ("model_withheld_misses", "fewer than {n} misses", "缺席少于 {n} 次"),
    ("model_withheld_rows", "fewer than {n} test interviews", "测试面试少于 {n} 场"),
    ("model_penalty", "How strongly the model is held back (the L2 penalty)", "模型约束强度（L2 惩罚）的选择"),
    ("model_penalty_search", "Chosen on the data: each value of the grid was fitted on the weeks before each of the last {folds} training weeks ({from} – {to}) and scored on that week; {l2} had the lowest mean validation log loss ({loss}).", "由数据选择：对网格中的每个取值，分别用训练窗口最后 {folds} 周（{from} – {to}）中每一周之前的数据拟合，并在该周上评估；{l2} 的平均验证对数损失最低（{loss}）。"),
    ("model_penalty_fixed", "Fixed at {l2} (set by {by}): no search was run.", "固定为 {l2}（由 {by} 设定）：未进行搜索。"),
    ("model_penalty_subsample", "The search ran on a deterministic sample of {rows} of {of} training rows.", "搜索在 {of} 条训练记录中确定性抽取的 {rows} 条上进行。"),
    ("model_penalty_axis", "Mean validation log loss by penalty (lower is better; the chosen value in orange)", "各惩罚取值的平均验证对数损失（越低越好；橙色为选中值）"),
    ("model_recalibration", "Recalibration to recent weeks", "按最近几周重新校准"),
    ("model_recal_applied", "The intercept was re-estimated on the last {weeks} training weeks ({rows} interviews, {from} – {to}) and moved by {shift}; coefficients, ranking and AUC are unchanged. The test window before and after:", "截距在训练窗口最后 {weeks} 周（{rows} 场面试，{from} – {to}）上重新估计，变化 {shift}；系数、排序和 AUC 不变。测试窗口校准前后对比："),
    ("model_recal_not_applied", "The intercept was kept as fitted (no recalibration). The test window:", "截距保持拟合值（未重新校准）。测试窗口："),
    ("model_before", "As fitted", "校准前"),
    ("model_after", "Recalibrated", "校准后"),
    ("model_mean_p", "Mean predicted", "平均预测概率"),
    ("model_log_loss", "Log loss", "对数损失"),
    ("model_brier", "Brier score", "Brier 分数"),
    ("model_cal_legend", "grey: as fitted, blue: recalibrated; the dashed line is perfect calibration", "灰色：校准前，蓝色：校准后；虚线为完美校准"),
    ("model_no_model", "No model is in use: nothing is scored until a trained model passes the promotion checks. The newest model was kept as a candidate", "当前没有投入使用的模型：在训练出的模型通过上线检查之前不会评分。最新模型仅保留为候选版本"),
    // Dimensions.
    ("dim_role", "Role", "岗位"),
    ("dim_region", "Region", "地区"),
    ("dim_education", "Education", "学历"),
    ("dim_fresh_graduate", "New graduate", "应届生"),
    ("dim_source", "Source", "来源"),
    ("dim_preferred_channel", "Preferred channel", "偏好渠道"),
    ("dim_week", "Week", "周"),
    ("dim_lead_time", "Lead time", "提前时长"),
    // Funnel steps.
    ("step_invited", "Invited", "已邀约"),
    ("step_delivered", "Delivered", "已送达"),
    ("step_read", "Read", "已读"),
    ("step_confirmed", "Confirmed", "已确认"),
    ("step_link_clicked", "Link clicked", "点击链接"),
    ("step_joined", "Joined", "已进入"),
    ("step_completed", "Completed", "已完成"),
    // Reminder factors.
    ("factor_reminders_received", "Reminders received", "收到的提醒数"),
    ("factor_channels_used", "Reminder channels", "提醒渠道数"),
    ("factor_on_preferred_channel", "On preferred channel", "是否在偏好渠道"),
    ("factor_last_reminder_offset", "Last reminder", "最后一次提醒"),
    ("factor_offset", "Reminder at offset", "提醒时间点"),
    ("factor_channel", "Reminder channel", "提醒渠道"),
    // Signals.
    ("signal_jd_viewed", "viewed the job description", "查看职位描述"),
    ("signal_company_intro_viewed", "viewed the company introduction", "查看公司介绍"),
    ("signal_link_clicked_24h", "clicked the link in the last 24 h", "24 小时内点击链接"),
    ("signal_message_read", "read a message", "阅读消息"),
    ("signal_confirmed", "confirmed the time", "确认时间"),
    // Outcomes and booleans.
    ("outcome_no_show", "No-show", "爽约"),
    ("outcome_cancelled_by_candidate", "Candidate cancellation", "候选人取消"),
    ("initiated_candidate", "Candidate-initiated", "候选人发起"),
    ("initiated_company", "Company-initiated", "公司发起"),
    ("true", "yes", "是"),
    ("false", "no", "否"),
    ("weekday_1", "Mon", "周一"),
    ("weekday_2", "Tue", "周二"),
    ("weekday_3", "Wed", "周三"),
    ("weekday_4", "Thu", "周四"),
    ("weekday_5", "Fri", "周五"),
    ("weekday_6", "Sat", "周六"),
    ("weekday_7", "Sun", "周日"),
];

/// The label for `key`; the key itself when it has no translation (data values).
pub fn t(lang: Lang, key: &str) -> String {
    match LABELS.iter().find(|(k, _, _)| *k == key) {
        Some((_, en, zh)) => match lang {
            Lang::En => en.to_string(),
            Lang::Zh => zh.to_string(),
        },
        None => key.to_string(),
    }
}

/// The label for `prefix_key` when there is one, else `key` as a data value
/// ([`value`]).
pub fn t_or(lang: Lang, prefix: &str, key: &str) -> String {
    let full = format!("{prefix}{key}");
    if LABELS.iter().any(|(k, _, _)| *k == full) {
        t(lang, &full)
    } else {
        value(lang, key)
    }
}

/// Fills `{name}` placeholders.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_both_languages_present() {
        let mut seen = std::collections::HashSet::new();
        for (k, en, zh) in LABELS {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
            // Placeholders must agree so a sentence never loses a number in translation.
            let holes = |s: &str| s.match_indices('{').map(|(i, _)| s[i..].split('}').next().unwrap_or("").to_string()).collect::<std::collections::BTreeSet<_>>();
            assert_eq!(holes(en), holes(zh), "{k}");
        }
        assert_eq!(t(Lang::Zh, "no_show_rate"), "爽约率");
        assert_eq!(t(Lang::En, "software_engineer"), "software_engineer");
        assert_eq!(Lang::parse("ZH"), Some(Lang::Zh));
    }
}

/// Code values the data holds (causes, grades, education, sources, channels, the
/// generator's roles and regions) as words: (code, English, Chinese). A value not
/// listed is shown as it is (a role already written in Chinese, say); `[labels.en]`
/// and `[labels.zh]` in the config add to or override this table.
const VALUES: &[(&str, &str, &str)] = &[
    ("forgot", "forgot", "忘记"),
    ("technical_issue", "technical issue", "技术问题"),
    ("schedule_conflict", "schedule conflict", "时间冲突"),
    ("unfamiliar_process", "unfamiliar with the process", "不熟悉流程"),
    ("emergency", "emergency", "突发情况"),
    ("role_mismatch", "role mismatch", "岗位不匹配"),
    ("found_another_job", "found another job", "已找到其他工作"),
    ("position_closed", "position closed", "职位关闭"),
    ("double_booking", "double booking", "重复预约"),
    ("failed_screening", "failed screening", "筛选未通过"),
    ("unknown", "unknown", "未知"),
    ("unreachable", "unreachable", "无法联系"),
    ("force_majeure", "force majeure", "不可抗力"),
    ("no_reason", "no reason given", "无理由"),
    ("high_school", "high school", "高中"),
    ("associate", "associate degree", "大专"),
    ("bachelor", "bachelor", "本科"),
    ("master", "master", "硕士"),
    ("doctorate", "doctorate", "博士"),
    ("other", "other", "其他"),
    ("job_board", "job board", "招聘网站"),
    ("campus", "campus", "校园招聘"),
    ("referral", "referral", "内部推荐"),
    ("headhunter", "headhunter", "猎头"),
    ("social_media", "social media", "社交媒体"),
    ("sms", "SMS", "短信"),
    ("email", "e-mail", "邮件"),
    ("app", "app", "应用推送"),
    ("dingtalk", "DingTalk", "钉钉"),
    ("wechat", "WeChat", "微信"),
    ("phone", "phone", "电话"),
    ("software_engineer", "software engineer", "软件工程师"),
    ("data_engineer", "data engineer", "数据工程师"),
    ("sales", "sales", "销售"),
    ("customer_service", "customer service", "客服"),
    ("operations", "operations", "运营"),
    ("product_manager", "product manager", "产品经理"),
    ("north_america", "North America", "北美"),
    ("europe", "Europe", "欧洲"),
    ("none", "none", "无"),
    ("interviewer_unavailable", "interviewer unavailable", "面试官无法出席"),
    ("no_reminder", "no reminder", "未发送提醒"),
    ("before_last_reminder", "before the last reminder", "在最后一次提醒之前"),
    ("no_cancel_request", "no cancel request", "无取消申请"),
    ("after_slot", "after the slot", "面试开始之后"),
    ("mon", "Monday", "周一"),
    ("tue", "Tuesday", "周二"),
    ("wed", "Wednesday", "周三"),
    ("thu", "Thursday", "周四"),
    ("fri", "Friday", "周五"),
    ("sat", "Saturday", "周六"),
    ("sun", "Sunday", "周日"),
    ("link_expired", "link expired", "链接过期"),
    ("camera_denied", "camera access denied", "摄像头权限被拒"),
    ("network", "network failure", "网络故障"),
    ("browser_unsupported", "browser not supported", "浏览器不支持"),
    ("not_confirmed", "not confirmed", "未确认"),
    ("before_invitation", "before the invitation", "早于邀约"),
    ("rare_reasons", "rarer reasons (pooled)", "其他少见原因（合并）"),
    ("all", "all", "全部"),
    ("morning", "morning", "上午"),
    ("afternoon", "afternoon", "下午"),
    ("evening", "evening", "晚上"),
    ("night", "night", "夜间"),
];

static OVERRIDES: std::sync::OnceLock<std::collections::HashMap<(Lang, String), String>> = std::sync::OnceLock::new();

/// The config's `[labels.en]` / `[labels.zh]` (set once, before rendering).
pub fn set_value_labels(en: &std::collections::BTreeMap<String, String>, zh: &std::collections::BTreeMap<String, String>) {
    let mut map = std::collections::HashMap::new();
    for (k, v) in en {
        map.insert((Lang::En, k.clone()), v.clone());
    }
    for (k, v) in zh {
        map.insert((Lang::Zh, k.clone()), v.clone());
    }
    let _ = OVERRIDES.set(map);
}

thread_local! {
    /// The raw data values the page being rendered shows (see [`with_page_values`]).
    static PAGE_VALUES: std::cell::RefCell<std::collections::HashSet<String>> = Default::default();
}

/// Runs `f` with `values` as the raw data values of the page it renders, so [`value`]
/// can tell two values apart that would read the same: an export holding both `sales`
/// and `销售` gets two rows, labelled `销售（sales）` and `销售` in Chinese, rather than
/// two rows both called 销售. Per thread: rendering is single-threaded, and pages
/// rendered side by side (tests) do not see each other's values.
pub fn with_page_values<R>(values: impl IntoIterator<Item = String>, f: impl FnOnce() -> R) -> R {
    let before = PAGE_VALUES.with(|v| v.replace(values.into_iter().collect()));
    let out = f();
    PAGE_VALUES.with(|v| *v.borrow_mut() = before);
    out
}

/// A data value as people read it: the override, else the table's word, else the
/// value itself (in English, a snake_case code becomes words). A word that is itself
/// another raw value on the page keeps its code beside it (see [`with_page_values`]).
pub fn value(lang: Lang, code: &str) -> String {
    let word = word_for(lang, code);
    if word != code && PAGE_VALUES.with(|v| v.borrow().contains(&word)) {
        return match lang {
            Lang::En => format!("{word} ({code})"),
            // The English word rather than the code: a Chinese page shows no codes.
            Lang::Zh => format!("{word}（{}）", word_for(Lang::En, code)),
        };
    }
    word
}

fn word_for(lang: Lang, code: &str) -> String {
    if let Some(v) = OVERRIDES.get().and_then(|m| m.get(&(lang, code.to_string()))) {
        return v.clone();
    }
    match VALUES.iter().find(|(k, _, _)| *k == code) {
        Some((_, en, zh)) => match lang {
            Lang::En => en.to_string(),
            Lang::Zh => zh.to_string(),
        },
        None if lang == Lang::En && code.contains('_') && code.is_ascii() => code.replace('_', " "),
        None => code.to_string(),
    }
}
