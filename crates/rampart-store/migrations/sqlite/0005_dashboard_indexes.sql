-- Covering indexes for the dashboard's estate-wide aggregates (src/summary.rs): counts
-- per severity and hosts with a critical finding read only (severity_rank, host_id);
-- the most widespread vulnerable packages read only (package, host_id, severity_rank,
-- advisory_id), in package order. Without them each aggregate reads every findings row.
CREATE INDEX findings_severity_host ON findings(severity_rank, host_id);
CREATE INDEX findings_package_host ON findings(package, host_id, severity_rank, advisory_id);
DROP INDEX findings_severity;
