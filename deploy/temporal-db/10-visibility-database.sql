-- Runs once, when the temporal-db volume is initialised: Temporal keeps its visibility records in a second
-- database next to 'temporal' (created by POSTGRES_DB). The temporal-schema job then creates the tables.
CREATE DATABASE temporal_visibility OWNER temporal;
