-- Scheduled reports: what to render (report kind, scope, format), when (a cron
-- expression in a time zone, with the next due time precomputed so the scheduler's query
-- is an index range scan), and through which notification channels (a JSON array of
-- channel ids: an e-mail channel's recipients get the report attached, a webhook
-- channel a "report ready" event). Every run is kept with the event it emitted, whose
-- deliveries (and their retries and failures) are in the notification outbox.

CREATE TABLE report_schedules (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    report      TEXT NOT NULL,
    project_id  TEXT REFERENCES projects(id) ON DELETE CASCADE,
    format      TEXT NOT NULL,
    cron        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    channel_ids TEXT NOT NULL,
    enabled     INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    next_run_at INTEGER
);
CREATE INDEX report_schedules_due ON report_schedules(next_run_at);

CREATE TABLE report_runs (
    id          TEXT PRIMARY KEY,
    schedule_id TEXT NOT NULL REFERENCES report_schedules(id) ON DELETE CASCADE,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT NOT NULL,
    error       TEXT,
    event_id    TEXT,
    bytes       INTEGER,
    summary     TEXT
);
CREATE INDEX report_runs_schedule ON report_runs(schedule_id, started_at);
