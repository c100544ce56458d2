-- Per-package exposure, kept current inside the transactions that change findings
-- (Store::replace_findings, Store::delete_host; src/exposure.rs), so the dashboard's
-- "most widespread vulnerable packages" and estate-wide severity counts read a few rows
-- instead of aggregating every finding on each page view.
--
-- package_advisories: open findings per (package, advisory) over all hosts. A row exists
-- exactly while its count is positive, so a package's distinct advisories is its number
-- of rows here, which package_exposure.advisories keeps.
CREATE TABLE package_advisories (
    package     TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    findings    BIGINT NOT NULL,
    PRIMARY KEY (package, advisory_id)
);

-- package_exposure: per package with open findings, the hosts with at least one of them,
-- its distinct advisories, its findings per severity and the worst severity rank (4 =
-- critical … 0 = unknown). A row exists exactly while the package has findings.
CREATE TABLE package_exposure (
    package    TEXT PRIMARY KEY,
    hosts      BIGINT NOT NULL,
    advisories BIGINT NOT NULL,
    critical   BIGINT NOT NULL,
    high       BIGINT NOT NULL,
    medium     BIGINT NOT NULL,
    low        BIGINT NOT NULL,
    unknown    BIGINT NOT NULL,
    worst      BIGINT NOT NULL
);
-- The ranking (Store::top_vulnerable_packages) reads this index in order and stops.
CREATE INDEX package_exposure_rank ON package_exposure(hosts DESC, worst DESC, package);

INSERT INTO package_advisories (package, advisory_id, findings)
    SELECT package, advisory_id, COUNT(*) FROM findings GROUP BY package, advisory_id;
INSERT INTO package_exposure
    (package, hosts, advisories, critical, high, medium, low, unknown, worst)
    SELECT package, COUNT(DISTINCT host_id), COUNT(DISTINCT advisory_id),
           COUNT(CASE WHEN severity_rank = 4 THEN 1 END),
           COUNT(CASE WHEN severity_rank = 3 THEN 1 END),
           COUNT(CASE WHEN severity_rank = 2 THEN 1 END),
           COUNT(CASE WHEN severity_rank = 1 THEN 1 END),
           COUNT(CASE WHEN severity_rank NOT IN (1, 2, 3, 4) THEN 1 END),
           MAX(CASE WHEN severity_rank IN (1, 2, 3, 4) THEN severity_rank ELSE 0 END)
    FROM findings GROUP BY package;

-- Migration 0005's covering index served only the per-view aggregate replaced here;
-- dropping it saves a write per finding.
DROP INDEX findings_package_host;

-- The dashboard's other estate-wide figures (src/summary.rs), each read from a covering
-- index instead of the table: pending updates and hosts with a pending security update
-- from (category, host_id); hosts by days since their last update from last_updated_at
-- (on SQLite a host row carries its whole inventory, so scanning the table reads
-- thousands of pages for one integer each).
CREATE INDEX pending_updates_category_host ON pending_updates(category, host_id);
CREATE INDEX hosts_last_updated ON hosts(last_updated_at);
