"""The thuiszitters case system: one durable Temporal workflow per pupil who stays home from school."""
