//! Scheduled reports: when each is due, and the runner that renders it and mails it.
//!
//! Schedules are five-field cron expressions (`0 7 * * MON`: Mondays at 07:00; croner's
//! extensions such as `L` and `#` work too) evaluated in the schedule's IANA time zone,
//! so "07:00 in Berlin" stays 07:00 across daylight-saving changes. The next due time is
//! computed here and stored, and the store's claim (a compare-and-set on that time)
//! makes one replica run each occurrence.
//!
//! The runner ([`run_due`], called by the notification dispatcher each round, so it
//! stops with it on shutdown) claims each due schedule, renders its report exactly as
//! the download API does (`api::reports::render_report`), and hands a `report.ready`
//! event carrying the summary and the file to the schedule's channels through the
//! outbox ([`crate::notifier::emit_to`]); the dispatcher then mails it. Each run is
//! recorded: `queued` with the event id, or `failed` with the reason. [`send_now`] is
//! the same without the claim ("send now" leaves the schedule's timing alone).

use std::str::FromStr as _;

use croner::Cron;
use croner::parser::{CronParser, Seconds};
use rampart_notify::event::ReportReady;
use rampart_notify::{Attachment, Event, Payload};
use rampart_reports::{Format, Scope};
use rampart_store::{Millis, ReportRun, ReportSchedule};

use crate::api::reports::{ReportKind, render_report};
use crate::{ApiError, AppState};

/// Why a schedule's timing was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("invalid cron expression {cron:?}: {reason}")]
    Cron { cron: String, reason: String },
    #[error("unknown time zone {0:?} (use an IANA name such as Europe/Berlin or UTC)")]
    TimeZone(String),
    #[error("cron expression {0:?} never fires")]
    Never(String),
}

fn parse(cron: &str) -> Result<Cron, ScheduleError> {
    let error = |reason: String| ScheduleError::Cron {
        cron: cron.to_owned(),
        reason,
    };
    // Vixie cron's five fields; the `@weekly`-style nicknames are accepted as well.
    let parser = CronParser::builder().seconds(Seconds::Disallowed).build();
    let trimmed = cron.trim();
    let parsed = if trimmed.starts_with('@') {
        Cron::from_str(trimmed)
    } else {
        parser.parse(trimmed)
    };
    parsed.map_err(|e| error(e.to_string()))
}

/// The first time strictly after `after` (Unix ms) that `cron` fires in `timezone`.
pub fn next_run(cron: &str, timezone: &str, after: Millis) -> Result<Millis, ScheduleError> {
    let cron = parse(cron)?;
    let tz = jiff::tz::TimeZone::get(timezone)
        .map_err(|_| ScheduleError::TimeZone(timezone.to_owned()))?;
    let start = jiff::Timestamp::from_millisecond(after)
        .map_err(|_| ScheduleError::Never(cron.pattern.to_string()))?
        .to_zoned(tz);
    let next = cron
        .find_next_occurrence(&start, false)
        .map_err(|_| ScheduleError::Never(cron.pattern.to_string()))?;
    Ok(next.timestamp().as_millisecond())
}

/// Runs every schedule due now that this server claims; returns how many it ran
/// (queued or failed). A schedule another replica claimed first is skipped.
pub async fn run_due(state: &AppState) -> Result<usize, rampart_store::Error> {
    let now = state.now();
    let mut ran = 0;
    for schedule in state.store().due_report_schedules(now).await? {
        let Some(seen) = schedule.next_run_at else {
            continue;
        };
        // A stored schedule was validated on write; should its timing fail now (a
        // time zone removed from the database), it stops instead of firing each round.
        let next = next_run(&schedule.cron, &schedule.timezone, now);
        let Some(run) = state
            .store()
            .claim_report_schedule(&schedule.id, seen, next.as_ref().ok().copied(), now)
            .await?
        else {
            continue;
        };
        let run = match next {
            Ok(_) => execute(state, &schedule, &run).await?,
            Err(e) => {
                let reason = format!("{e}; the schedule is paused until it is corrected");
                state
                    .store()
                    .finish_report_run(&run.id, Err(&reason), None, None, state.now())
                    .await?
            }
        };
        log_run(&schedule, &run);
        ran += 1;
    }
    Ok(ran)
}

/// Renders and queues `schedule`'s report now, outside its timing.
pub async fn send_now(
    state: &AppState,
    schedule: &ReportSchedule,
) -> Result<ReportRun, rampart_store::Error> {
    let run = state
        .store()
        .start_report_run(&schedule.id, state.now())
        .await?;
    let run = execute(state, schedule, &run).await?;
    log_run(schedule, &run);
    Ok(run)
}

fn log_run(schedule: &ReportSchedule, run: &ReportRun) {
    match &run.error {
        None => {
            tracing::info!(schedule = %schedule.name, run = %run.id, event = ?run.event_id, "scheduled report queued")
        }
        Some(e) => {
            tracing::warn!(schedule = %schedule.name, run = %run.id, error = %e, "scheduled report failed")
        }
    }
}

/// Renders the report, queues its event and records the run's outcome.
async fn execute(
    state: &AppState,
    schedule: &ReportSchedule,
    run: &ReportRun,
) -> Result<ReportRun, rampart_store::Error> {
    let outcome = render_and_queue(state, schedule).await;
    let now = state.now();
    match outcome {
        Ok((event_id, bytes, summary)) => {
            let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
            state
                .store()
                .finish_report_run(&run.id, Ok(&event_id), Some(bytes), Some(&summary), now)
                .await
        }
        Err(e) => {
            let reason = match e {
                ApiError::Internal(detail) => detail,
                other => other.to_string(),
            };
            state
                .store()
                .finish_report_run(&run.id, Err(&reason), None, None, now)
                .await
        }
    }
}

/// The report as the download API renders it, as a `report.ready` event with the
/// file attached, queued to the schedule's channels. Returns the event id, the size
/// of the file and the summary.
async fn render_and_queue(
    state: &AppState,
    schedule: &ReportSchedule,
) -> Result<(String, usize, String), ApiError> {
    let kind = schedule
        .report
        .parse::<ReportKind>()
        .map_err(ApiError::bad_request)?;
    let format = schedule
        .format
        .parse::<Format>()
        .map_err(ApiError::bad_request)?;
    let scope = match &schedule.project_id {
        None => Scope::Estate,
        Some(id) => {
            let project = state.store().get_project(id).await?;
            Scope::Project {
                id: project.id,
                name: project.name,
            }
        }
    };
    let rendered = render_report(state, kind, scope, None, format).await?;
    let now = state.now();
    let mut event = Event::new(
        Payload::ReportReady(ReportReady {
            report: kind.as_str().to_owned(),
            title: format!("{}: {}", schedule.name, rendered.title),
            project_id: schedule.project_id.clone(),
            summary: rendered.summary.clone(),
            url: None,
        }),
        schedule.project_id.iter().cloned().collect(),
        now,
    );
    let size = rendered.bytes.len();
    event.attachments.push(Attachment {
        filename: rendered.file_name,
        content_type: rendered.format.content_type().to_owned(),
        content: rendered.bytes,
    });
    crate::notifier::emit_to(state.store(), &schedule.channel_ids, &event, now).await?;
    Ok((event.id, size, rendered.summary))
}

#[cfg(test)]
mod tests;
