-- What the application's database role may do on the register (docs/people.md, "Audit log": the worker, the web
-- application, the codec server and the command-line tools connect as a login role that is a member of
-- thuiszitters_app; migrations run as the tables' owner). 005 and 006 granted the audit log, the local accounts,
-- the sessions and the directory's people what the login needs; this gives the rest of the register what the
-- worker (recording lines, tasks, calls, messages), the tools (lists, the report, loading the directory, retention)
-- and the health check need. The audit log keeps its own grants: SELECT and INSERT only, never UPDATE or DELETE.

GRANT SELECT, INSERT, UPDATE, DELETE
    ON cases, case_events, tasks, registrations, notifications, escalations, case_dossier, rol_adressen
    TO thuiszitters_app;
GRANT SELECT ON schema_migrations TO thuiszitters_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO thuiszitters_app;
