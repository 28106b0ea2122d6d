-- Retention (thuiszitters.retention): a closed case past the retention period is anonymised. Its start date is then
-- rounded down to the month, so the weeks at home are kept first; and the moment of anonymisation is marked.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS weken_thuis smallint;
ALTER TABLE cases ADD COLUMN IF NOT EXISTS geanonimiseerd_op timestamptz;
