//! Scheduled reports: when each is due, and the runner that renders it and mails it.
//!
//! Schedules are five-field cron expressions (`0 7 * * MON`: Mondays at 07:00; croner's
//! extensions such as `L` and `#` work too) evaluated in the schedule's IANA time zone,
//! so "07:00 in Berlin" stays 07:00 across daylight-saving changes. The next due time is
//! computed here and stored, and the store's claim (a compare-and-set on that time)
//! makes one replica run each occurrence.

use std::str::FromStr as _;

use croner::Cron;
use croner::parser::{CronParser, Seconds};
use rampart_store::Millis;

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

#[cfg(test)]
mod tests;
