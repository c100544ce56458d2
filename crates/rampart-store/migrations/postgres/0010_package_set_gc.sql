-- Package sets are kept only while a host uses them: one agent sending a new
-- 200,000-package inventory after another grew the database by tens of megabytes each
-- time, because the inventory history held every set it had ever named. The history now
-- keeps the set's hash as an identifier only (no foreign key), so a set no host points
-- at can be deleted with its members.
ALTER TABLE inventory_history DROP CONSTRAINT IF EXISTS inventory_history_package_set_hash_fkey;

DELETE FROM package_sets
    WHERE NOT EXISTS (SELECT 1 FROM hosts h WHERE h.package_set_hash = package_sets.hash);
