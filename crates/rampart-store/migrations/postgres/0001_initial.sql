-- Rampart's schema, PostgreSQL flavour. migrations/sqlite/0001_initial.sql is the same
-- schema with SQLite types; keep the two in step (the conformance suite runs on both).
-- Conventions: ids are TEXT generated in Rust (UUIDv7), times are BIGINT Unix
-- milliseconds from the server's clock, flags are nullable timestamps (revoked_at, ...),
-- JSON documents are TEXT.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT,
    UNIQUE (user_id, name)
);

CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE project_selectors (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (project_id, key)
);

CREATE TABLE enrolment_tokens (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
    labels     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    max_uses   BIGINT NOT NULL,
    uses       BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT
);

CREATE TABLE package_sets (
    hash          TEXT PRIMARY KEY,
    package_count BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE package_set_members (
    set_hash       TEXT NOT NULL REFERENCES package_sets(hash) ON DELETE CASCADE,
    position       BIGINT NOT NULL,
    name           TEXT NOT NULL,
    version        TEXT NOT NULL,
    arch           TEXT,
    source_name    TEXT,
    source_version TEXT,
    format         TEXT NOT NULL,
    PRIMARY KEY (set_hash, position)
);
CREATE INDEX package_set_members_name ON package_set_members(name);

CREATE TABLE hosts (
    id                TEXT PRIMARY KEY,
    hostname          TEXT NOT NULL,
    machine_id        TEXT,
    os_id             TEXT NOT NULL DEFAULT '',
    os_version        TEXT NOT NULL DEFAULT '',
    os_pretty_name    TEXT,
    ecosystem         TEXT,
    first_seen        BIGINT NOT NULL,
    last_seen         BIGINT NOT NULL,
    last_inventory_at BIGINT,
    last_updated_at   BIGINT,
    state_hash        TEXT,
    package_set_hash  TEXT REFERENCES package_sets(hash),
    inventory         TEXT
);
CREATE INDEX hosts_hostname ON hosts(hostname);
CREATE INDEX hosts_package_set ON hosts(package_set_hash);

CREATE TABLE host_labels (
    host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (host_id, key)
);
CREATE INDEX host_labels_key_value ON host_labels(key, value);

CREATE TABLE agents (
    id               TEXT PRIMARY KEY,
    host_id          TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    cert_serial      TEXT NOT NULL UNIQUE,
    cert_fingerprint TEXT NOT NULL UNIQUE,
    enrolled_at      BIGINT NOT NULL,
    revoked_at       BIGINT
);
CREATE INDEX agents_host ON agents(host_id);

CREATE TABLE pending_updates (
    host_id   TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    position  BIGINT NOT NULL,
    name      TEXT NOT NULL,
    arch      TEXT,
    installed TEXT NOT NULL,
    candidate TEXT NOT NULL,
    origin    TEXT NOT NULL,
    category  TEXT NOT NULL,
    PRIMARY KEY (host_id, position)
);

CREATE TABLE inventory_history (
    id               TEXT PRIMARY KEY,
    host_id          TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    received_at      BIGINT NOT NULL,
    state_hash       TEXT NOT NULL,
    package_set_hash TEXT NOT NULL REFERENCES package_sets(hash)
);
CREATE INDEX inventory_history_host ON inventory_history(host_id, received_at);

CREATE TABLE findings (
    host_id          TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    advisory_id      TEXT NOT NULL,
    package          TEXT NOT NULL,
    installed        TEXT NOT NULL,
    source           TEXT NOT NULL,
    advisory_package TEXT NOT NULL,
    compared_version TEXT NOT NULL,
    aliases          TEXT NOT NULL,
    fixed            TEXT,
    severity         TEXT NOT NULL,
    severity_rank    BIGINT NOT NULL,
    cvss             DOUBLE PRECISION,
    cvss_vector      TEXT,
    ecosystem        TEXT NOT NULL,
    reason           TEXT NOT NULL,
    first_seen       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (host_id, advisory_id, package, installed)
);
CREATE INDEX findings_advisory ON findings(advisory_id);
CREATE INDEX findings_severity ON findings(severity_rank);
CREATE INDEX findings_package ON findings(package);

CREATE TABLE advisories (
    id         TEXT PRIMARY KEY,
    source     TEXT NOT NULL,
    modified   TEXT,
    document   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX advisories_source ON advisories(source);

CREATE TABLE feeds (
    source        TEXT PRIMARY KEY,
    imported_at   BIGINT NOT NULL,
    record_count  BIGINT NOT NULL,
    problem_count BIGINT NOT NULL,
    generation    BIGINT NOT NULL
);
