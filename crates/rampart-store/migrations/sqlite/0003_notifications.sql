-- Notifications (channels and the delivery outbox) and change requests, SQLite
-- flavour; migrations/postgres/0003_notifications.sql is the same schema.

-- Where events go. `config` is the kind's JSON settings (never a secret); `secret` is
-- the webhook signing secret or SMTP password sealed with the server's master key
-- (base64 of the seal envelope). `events` is a JSON array of event kinds.
CREATE TABLE notification_channels (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    config      TEXT NOT NULL,
    secret      TEXT,
    events      TEXT NOT NULL,
    project_id  TEXT REFERENCES projects(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    disabled_at INTEGER
);

-- The outbox: one row per (channel, event). `next_attempt_at` is also the lease of a
-- claimed row (a dispatcher that dies mid-send leaves it due again after the lease);
-- `claim_token` names the claim so a late result from an expired lease is ignored.
CREATE TABLE notification_deliveries (
    id              TEXT PRIMARY KEY,
    channel_id      TEXT NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event_kind      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claim_token     TEXT,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    UNIQUE (channel_id, event_id)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries(status, next_attempt_at);
CREATE INDEX notification_deliveries_channel ON notification_deliveries(channel_id);

-- Change requests: overdue security updates of a project, at most one open per
-- project (the partial unique index), updated in place while open.
CREATE TABLE change_requests (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    items        TEXT NOT NULL,
    external_ref TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    closed_at    INTEGER
);
CREATE UNIQUE INDEX change_requests_one_open ON change_requests(project_id) WHERE status = 'open';
CREATE INDEX change_requests_updated ON change_requests(updated_at);
