-- Pending updates learn which findings they fix. `reported_category` is what the
-- agent's package manager said (security, other, or unknown for apk, which keeps no
-- security metadata); `category` becomes the effective class: security when reported so
-- or when the update reaches a finding's fixed version. `fixes` is a JSON array of
-- advisory ids; `severity` the worst of them.
ALTER TABLE pending_updates ADD COLUMN reported_category TEXT NOT NULL DEFAULT 'other';
ALTER TABLE pending_updates ADD COLUMN fixes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE pending_updates ADD COLUMN severity TEXT;
UPDATE pending_updates SET reported_category = category;
