//! Scheduled reports and their runs.
//!
//! The scheduler asks for schedules whose `next_run_at` has passed, then *claims* each
//! one by moving `next_run_at` to the following occurrence with a compare-and-set on the
//! value it read. Only one server replica's claim succeeds, so a report is mailed once
//! however many replicas share the database, and a server that was down for a week
//! runs each missed schedule once, not once per missed occurrence.

use crate::users::affected;
use crate::{
    Error, Millis, Page, Paged, Result, RowExt, Store, found, from_json, new_id, to_json, with_pool,
};

/// A scheduled report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportSchedule {
    pub id: String,
    pub name: String,
    /// `compliance` or `findings` (validated by the server).
    pub report: String,
    /// The project the report covers; `None` for the whole estate.
    pub project_id: Option<String>,
    /// `csv`, `json` or `pdf`.
    pub format: String,
    /// Cron expression, evaluated in `timezone`.
    pub cron: String,
    /// IANA time zone name (`Europe/Berlin`, `UTC`).
    pub timezone: String,
    /// The notification channels it goes to (e-mail channels attach the file).
    pub channel_ids: Vec<String>,
    pub enabled: bool,
    /// The user who created it (reports are rendered with what that role may read).
    pub created_by: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// When it is next due; `None` while disabled.
    pub next_run_at: Option<Millis>,
}

/// The settings of a schedule, for create and replace.
#[derive(Clone, Debug)]
pub struct ReportScheduleSpec<'a> {
    pub name: &'a str,
    pub report: &'a str,
    pub project_id: Option<&'a str>,
    pub format: &'a str,
    pub cron: &'a str,
    pub timezone: &'a str,
    pub channel_ids: &'a [String],
    pub enabled: bool,
    /// Computed by the caller from `cron` and `timezone` (`None` when disabled).
    pub next_run_at: Option<Millis>,
}

/// One run of a schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRun {
    pub id: String,
    pub schedule_id: String,
    pub started_at: Millis,
    pub finished_at: Option<Millis>,
    /// `running`, then `queued` (the report was rendered and its event handed to the
    /// notification outbox, which tracks each delivery) or `failed`.
    pub status: String,
    pub error: Option<String>,
    /// The `report_ready` event the run emitted.
    pub event_id: Option<String>,
    /// Size of the attached report.
    pub bytes: Option<i64>,
    /// The summary mailed in the body.
    pub summary: Option<String>,
}

const SCHEDULE_COLUMNS: &str = "id, name, report, project_id, format, cron, timezone, \
     channel_ids, enabled, created_by, created_at, updated_at, next_run_at";
const RUN_COLUMNS: &str =
    "id, schedule_id, started_at, finished_at, status, error, event_id, bytes, summary";

fn schedule(row: &impl RowExt) -> Result<ReportSchedule> {
    Ok(ReportSchedule {
        id: row.text("id")?,
        name: row.text("name")?,
        report: row.text("report")?,
        project_id: row.opt_text("project_id")?,
        format: row.text("format")?,
        cron: row.text("cron")?,
        timezone: row.text("timezone")?,
        channel_ids: from_json("report channels", &row.text("channel_ids")?)?,
        enabled: row.int("enabled")? != 0,
        created_by: row.text("created_by")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        next_run_at: row.opt_int("next_run_at")?,
    })
}

fn run(row: &impl RowExt) -> Result<ReportRun> {
    Ok(ReportRun {
        id: row.text("id")?,
        schedule_id: row.text("schedule_id")?,
        started_at: row.int("started_at")?,
        finished_at: row.opt_int("finished_at")?,
        status: row.text("status")?,
        error: row.opt_text("error")?,
        event_id: row.opt_text("event_id")?,
        bytes: row.opt_int("bytes")?,
        summary: row.opt_text("summary")?,
    })
}

impl Store {
    /// Creates a schedule; [`Error::Conflict`] when the name is taken,
    /// [`Error::NotFound`] when the project does not exist.
    pub async fn create_report_schedule(
        &self,
        spec: ReportScheduleSpec<'_>,
        created_by: &str,
        now: Millis,
    ) -> Result<ReportSchedule> {
        let id = new_id(now);
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO report_schedules (id, name, report, project_id, format, cron,
                     timezone, channel_ids, enabled, created_by, created_at, updated_at,
                     next_run_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)",
            )
            .bind(&id)
            .bind(spec.name)
            .bind(spec.report)
            .bind(spec.project_id)
            .bind(spec.format)
            .bind(spec.cron)
            .bind(spec.timezone)
            .bind(to_json(&spec.channel_ids))
            .bind(i64::from(spec.enabled))
            .bind(created_by)
            .bind(now)
            .bind(spec.next_run_at)
            .execute(pool)
            .await
            .map_err(Error::on_write("report schedule"))?;
        });
        self.get_report_schedule(&id).await
    }

    /// Replaces a schedule's settings (its creator and creation time stay).
    pub async fn update_report_schedule(
        &self,
        id: &str,
        spec: ReportScheduleSpec<'_>,
        now: Millis,
    ) -> Result<ReportSchedule> {
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE report_schedules SET name = $2, report = $3, project_id = $4,
                     format = $5, cron = $6, timezone = $7, channel_ids = $8, enabled = $9,
                     updated_at = $10, next_run_at = $11
                 WHERE id = $1",
            )
            .bind(id)
            .bind(spec.name)
            .bind(spec.report)
            .bind(spec.project_id)
            .bind(spec.format)
            .bind(spec.cron)
            .bind(spec.timezone)
            .bind(to_json(&spec.channel_ids))
            .bind(i64::from(spec.enabled))
            .bind(now)
            .bind(spec.next_run_at)
            .execute(pool)
            .await
            .map_err(Error::on_write("report schedule"))?;
            affected("report schedule", done.rows_affected())?;
        });
        self.get_report_schedule(id).await
    }

    pub async fn get_report_schedule(&self, id: &str) -> Result<ReportSchedule> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SCHEDULE_COLUMNS} FROM report_schedules WHERE id = $1"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(id).fetch_optional(pool).await?;
            schedule(&found("report schedule", row)?)
        })
    }

    /// Every schedule, by name.
    pub async fn list_report_schedules(&self) -> Result<Vec<ReportSchedule>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SCHEDULE_COLUMNS} FROM report_schedules ORDER BY name, id"
        ));
        with_pool!(self, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter().map(schedule).collect()
        })
    }

    pub async fn delete_report_schedule(&self, id: &str) -> Result<()> {
        with_pool!(self, pool => {
            let done = sqlx::query("DELETE FROM report_schedules WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
            affected("report schedule", done.rows_affected())
        })
    }

    /// Enabled schedules due at `now`, earliest first.
    pub async fn due_report_schedules(&self, now: Millis) -> Result<Vec<ReportSchedule>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SCHEDULE_COLUMNS} FROM report_schedules
             WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= $1
             ORDER BY next_run_at, id"
        ));
        with_pool!(self, pool => {
            let rows = sqlx::query(sql).bind(now).fetch_all(pool).await?;
            rows.iter().map(schedule).collect()
        })
    }

    /// Claims a due schedule: moves `next_run_at` from `seen` (the value the caller read)
    /// to `next`, and opens a run. `Ok(None)` when another server claimed it first (or
    /// it was edited since it was read).
    pub async fn claim_report_schedule(
        &self,
        id: &str,
        seen: Millis,
        next: Option<Millis>,
        now: Millis,
    ) -> Result<Option<ReportRun>> {
        let run = ReportRun {
            id: new_id(now),
            schedule_id: id.to_owned(),
            started_at: now,
            finished_at: None,
            status: "running".into(),
            error: None,
            event_id: None,
            bytes: None,
            summary: None,
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE report_schedules SET next_run_at = $3
                 WHERE id = $1 AND next_run_at = $2 AND enabled = 1",
            )
            .bind(id)
            .bind(seen)
            .bind(next)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            sqlx::query(
                "INSERT INTO report_runs (id, schedule_id, started_at, status)
                 VALUES ($1, $2, $3, 'running')",
            )
            .bind(&run.id)
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(Some(run))
    }

    /// Opens a run outside the schedule ("send now"), leaving `next_run_at` alone.
    pub async fn start_report_run(&self, schedule_id: &str, now: Millis) -> Result<ReportRun> {
        let id = new_id(now);
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO report_runs (id, schedule_id, started_at, status)
                 VALUES ($1, $2, $3, 'running')",
            )
            .bind(&id)
            .bind(schedule_id)
            .bind(now)
            .execute(pool)
            .await
            .map_err(Error::on_write("report schedule"))?;
        });
        self.get_report_run(&id).await
    }

    /// Records how a run ended: `Ok(event id)` when the report was rendered and its
    /// event queued, `Err(reason)` when it failed.
    pub async fn finish_report_run(
        &self,
        run_id: &str,
        outcome: std::result::Result<&str, &str>,
        bytes: Option<i64>,
        summary: Option<&str>,
        now: Millis,
    ) -> Result<ReportRun> {
        let (status, event_id, error) = match outcome {
            Ok(event) => ("queued", Some(event), None),
            Err(reason) => ("failed", None, Some(reason)),
        };
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE report_runs SET finished_at = $2, status = $3, error = $4,
                     event_id = $5, bytes = $6, summary = $7
                 WHERE id = $1",
            )
            .bind(run_id)
            .bind(now)
            .bind(status)
            .bind(error)
            .bind(event_id)
            .bind(bytes)
            .bind(summary)
            .execute(pool)
            .await?;
            affected("report run", done.rows_affected())?;
        });
        self.get_report_run(run_id).await
    }

    pub async fn get_report_run(&self, id: &str) -> Result<ReportRun> {
        with_pool!(self, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {RUN_COLUMNS} FROM report_runs WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?;
            run(&found("report run", row)?)
        })
    }

    /// A schedule's runs, newest first.
    pub async fn list_report_runs(
        &self,
        schedule_id: &str,
        page: Page,
    ) -> Result<Paged<ReportRun>> {
        with_pool!(self, pool => {
            let total = sqlx::query("SELECT COUNT(*) AS n FROM report_runs WHERE schedule_id = $1")
                .bind(schedule_id)
                .fetch_one(pool)
                .await?
                .int("n")?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {RUN_COLUMNS} FROM report_runs WHERE schedule_id = $1
                 ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3"
            )))
            .bind(schedule_id)
            .bind(i64::from(page.limit))
            .bind(i64::try_from(page.offset).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await?;
            Ok(Paged {
                items: rows.iter().map(run).collect::<Result<_>>()?,
                total: total as u64,
            })
        })
    }
}
