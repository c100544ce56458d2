//! How values read on a page: times in UTC, ages in days, counts with thousands
//! separators. Pure functions of their inputs (the caller passes `now`).

use rampart_store::Millis;

const DAY: Millis = 86_400_000;

/// `2026-11-29 14:03 UTC`.
pub(crate) fn datetime(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// How long ago `then` was at `now`, coarsely: `just now`, `5 min ago`, `3 h ago`,
/// `12 d ago`.
pub(crate) fn ago(now: Millis, then: Millis) -> String {
    let d = (now - then).max(0);
    match d {
        d if d < 60_000 => "just now".into(),
        d if d < 3_600_000 => format!("{} min ago", d / 60_000),
        d if d < DAY => format!("{} h ago", d / 3_600_000),
        d => format!("{} d ago", d / DAY),
    }
}

/// `12345` → `12,345`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` with its noun, singular or plural: `1 host`, `1,024 hosts`.
pub(crate) fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// `YYYY-MM-DD` (what `<input type="date">` submits) → the instant that day ends, 00:00
/// UTC of the next day: an exception "until 2026-12-31" applies through that day.
pub(crate) fn end_of_date(date: &str) -> Option<Millis> {
    let mut parts = date.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // Reject 2026-02-30 and the like: the day must survive the round trip.
    (civil_from_days(days) == (y, m, d)).then_some((days + 1) * DAY)
}

/// (year, month, day) → days since the Unix epoch (Howard Hinnant's
/// `days_from_civil`, the inverse of [`civil_from_days`]).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since the Unix epoch → (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_in_utc() {
        assert_eq!(datetime(0), "1970-01-01 00:00 UTC");
        // 2026-11-29 14:03:59 UTC
        assert_eq!(datetime(1_795_961_039_000), "2026-11-29 14:03 UTC");
        assert_eq!(datetime(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(datetime(-1000), "1969-12-31 23:59 UTC");
    }

    #[test]
    fn dates_end_at_midnight_utc_after_the_day() {
        assert_eq!(end_of_date("1970-01-01"), Some(DAY));
        assert_eq!(end_of_date("2026-11-29"), Some(1_795_996_800_000));
        assert_eq!(
            datetime(end_of_date("2024-02-29").unwrap()),
            "2024-03-01 00:00 UTC"
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "2026-1",
            "",
            "x-y-z",
            "2026-00-10",
        ] {
            assert_eq!(end_of_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn ages_and_counts() {
        assert_eq!(ago(1_000_000, 1_000_000), "just now");
        assert_eq!(ago(10 * 60_000, 0), "10 min ago");
        assert_eq!(ago(5 * 3_600_000, 0), "5 h ago");
        assert_eq!(ago(3 * DAY + 5, 0), "3 d ago");
        assert_eq!(ago(0, 5), "just now");
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
