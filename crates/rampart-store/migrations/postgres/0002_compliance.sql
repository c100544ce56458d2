-- Compliance (issue 4), PostgreSQL flavour: project standards, software policies, risk exceptions,
-- unauthorized package findings, first-seen times of pending updates, per-host
-- compliance snapshots, daily trend rows and scan runs. migrations/sqlite/
-- 0002_compliance.sql is the same schema with SQLite types.

-- A project's standard; a project without a row uses rampart_core's defaults.
CREATE TABLE compliance_standards (
    project_id                TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    max_pending_security_days BIGINT NOT NULL,
    critical_findings_allowed BIGINT NOT NULL,
    last_updated_alert_days   BIGINT NOT NULL,
    stale_after_checkins      BIGINT NOT NULL,
    checkin_interval_secs     BIGINT NOT NULL,
    full_scan_interval_hours  BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);

-- Allow and deny lists of package-name globs, JSON arrays of strings.
CREATE TABLE software_policies (
    project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    allow      TEXT NOT NULL,
    deny       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- scope: 'host' (host_id set), 'project' (project_id set) or 'estate'.
-- status: requested, approved, denied, revoked; expiry is judged at read time.
CREATE TABLE risk_exceptions (
    id                TEXT PRIMARY KEY,
    advisory_id       TEXT NOT NULL,
    scope             TEXT NOT NULL,
    host_id           TEXT REFERENCES hosts(id) ON DELETE CASCADE,
    project_id        TEXT REFERENCES projects(id) ON DELETE CASCADE,
    reason            TEXT NOT NULL,
    ticket            TEXT,
    expires_at        BIGINT NOT NULL,
    status            TEXT NOT NULL,
    requested_by      TEXT NOT NULL,
    requested_by_name TEXT NOT NULL,
    requested_at      BIGINT NOT NULL,
    decided_by        TEXT,
    decided_by_name   TEXT,
    decided_at        BIGINT,
    expiry_warned_at  BIGINT
);
CREATE INDEX risk_exceptions_advisory ON risk_exceptions(advisory_id);
CREATE INDEX risk_exceptions_status ON risk_exceptions(status, expires_at);

-- Packages a software policy refuses. first_seen is the server clock when Rampart first
-- found it; observed_at the agent's observation time of that inventory (agent clock),
-- so time-to-detect = first_seen - observed_at.
CREATE TABLE unauthorized_packages (
    host_id     TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    package     TEXT NOT NULL,
    version     TEXT NOT NULL,
    project_id  TEXT,
    rule        TEXT NOT NULL,
    first_seen  BIGINT NOT NULL,
    observed_at BIGINT,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (host_id, package)
);
CREATE INDEX unauthorized_packages_package ON unauthorized_packages(package);

-- Since when an update for (name, arch) has been pending on a host; survives
-- re-inventories while the update stays pending. arch '' when the agent sent none.
CREATE TABLE pending_update_since (
    host_id    TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    arch       TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (host_id, name, arch)
);

-- The last evaluation of each host: state, reasons (JSON array of
-- rampart_core::compliance::Reason), counts, and when time alone changes it.
CREATE TABLE host_compliance (
    host_id            TEXT PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
    state              TEXT NOT NULL,
    stale              BIGINT NOT NULL,
    reasons            TEXT NOT NULL,
    excepted           TEXT NOT NULL,
    critical           BIGINT NOT NULL,
    high               BIGINT NOT NULL,
    pending_security   BIGINT NOT NULL,
    evaluated_at       BIGINT NOT NULL,
    state_since        BIGINT NOT NULL,
    next_evaluation_at BIGINT
);
CREATE INDEX host_compliance_next ON host_compliance(next_evaluation_at);

-- One row per UTC day and scope ('' = the estate, else a project id).
CREATE TABLE compliance_trend (
    day              BIGINT NOT NULL,
    scope            TEXT NOT NULL,
    hosts            BIGINT NOT NULL,
    non_compliant    BIGINT NOT NULL,
    critical         BIGINT NOT NULL,
    high             BIGINT NOT NULL,
    pending_security BIGINT NOT NULL,
    recorded_at      BIGINT NOT NULL,
    PRIMARY KEY (scope, day)
);

-- Full re-evaluations: scheduled or requested ("scan now"). project_id NULL = estate.
CREATE TABLE compliance_scans (
    id           TEXT PRIMARY KEY,
    project_id   TEXT REFERENCES projects(id) ON DELETE CASCADE,
    trigger_kind TEXT NOT NULL,
    requested_by TEXT,
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT,
    hosts        BIGINT NOT NULL DEFAULT 0,
    non_compliant BIGINT NOT NULL DEFAULT 0,
    error        TEXT
);
CREATE INDEX compliance_scans_project ON compliance_scans(project_id, started_at);
