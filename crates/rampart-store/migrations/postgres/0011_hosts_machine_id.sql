-- A machine is one host: enrolment looks a host up by the machine id its agent reports,
-- so a re-installed machine joins its existing host instead of becoming a second one.
CREATE INDEX hosts_machine_id ON hosts(machine_id);
