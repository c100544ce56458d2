use super::*;

fn ms(rfc3339: &str) -> Millis {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

#[test]
fn weekly_in_a_time_zone_keeps_its_wall_clock_time_across_dst() {
    // Mondays 07:00 in Berlin: 05:00 UTC in summer (CEST), 06:00 UTC in winter (CET);
    // 2026-10-25 is the switch back.
    let cron = "0 7 * * MON";
    let summer = next_run(cron, "Europe/Berlin", ms("2026-10-14T12:00:00Z")).unwrap();
    assert_eq!(summer, ms("2026-10-19T05:00:00Z"));
    let winter = next_run(cron, "Europe/Berlin", ms("2026-10-21T12:00:00Z")).unwrap();
    assert_eq!(winter, ms("2026-10-26T06:00:00Z"));
    // Strictly after: a run at the occurrence itself schedules the next week.
    assert_eq!(
        next_run(cron, "Europe/Berlin", winter).unwrap(),
        ms("2026-11-02T06:00:00Z")
    );
    assert_eq!(
        next_run("30 8 1 * *", "UTC", ms("2026-11-29T00:00:00Z")).unwrap(),
        ms("2026-12-01T08:30:00Z")
    );
    assert_eq!(
        next_run("@daily", "UTC", ms("2026-11-29T10:00:00Z")).unwrap(),
        ms("2026-11-30T00:00:00Z")
    );
}

#[test]
fn bad_expressions_and_zones_are_named() {
    let e = next_run("0 7 * *", "UTC", 0).unwrap_err();
    assert!(matches!(e, ScheduleError::Cron { .. }), "{e}");
    assert!(e.to_string().contains("0 7 * *"));
    let e = next_run("61 7 * * *", "UTC", 0).unwrap_err();
    assert!(matches!(e, ScheduleError::Cron { .. }), "{e}");
    let e = next_run("0 7 * * *", "Mars/Olympus", 0).unwrap_err();
    assert_eq!(e, ScheduleError::TimeZone("Mars/Olympus".into()));
    // Six fields (seconds) are not cron as operators write it.
    assert!(next_run("0 0 7 * * *", "UTC", 0).is_err());
}
