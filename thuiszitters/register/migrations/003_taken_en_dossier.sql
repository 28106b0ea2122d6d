-- Contract version 2 (CONTRACT.md, PROCEDURE.md "Version 2"): tasks with a stable id that people finish, the
-- twelve-week check, who holds a role's tasks, and what people decided (the dossier and the documents).
--
-- An exception to 001's "no free text written by people": version 2 keeps what people decided in the register too
-- (PROCEDURE.md, "What people decided is kept"). It lives in two places only: ``case_dossier`` (the dossier and the
-- documents' descriptions) and ``tasks.toelichting`` (the note of a task finished by hand); Taskforce actions also
-- give ``tasks.omschrijving`` a text of people. Every such text is bounded in size by the contract (KeptText,
-- ShortText). The retention command (thuiszitters.tools.retention) removes them when it anonymises a case.
-- Lines of version-1 cases keep the defaults below, and their tasks (taak_id NULL) behave exactly as before.

ALTER TABLE cases
    ADD COLUMN contract_versie          smallint NOT NULL DEFAULT 1 CHECK (contract_versie >= 1),
    ADD COLUMN contactrol               text,
    ADD COLUMN leerplichtig_vanaf       date,
    ADD COLUMN check_stand              text CHECK (check_stand IN ('open', 'uitzicht', 'opgeschaald')),
    ADD COLUMN check_uiterlijk          date,
    ADD COLUMN check_herbeoordeling_op  date,
    ADD COLUMN kerngroep_bespreking_op  date,
    ADD COLUMN op_kerngroep_lijst       boolean NOT NULL DEFAULT false,
    ADD COLUMN toegewezen               jsonb   NOT NULL DEFAULT '{}'::jsonb;

-- Work lists by school (the join from cases to their open tasks goes through tasks_case_idx).
CREATE INDEX cases_open_school_idx ON cases (school_brin) WHERE NOT afgesloten;

-- Tasks of version 2 carry their stable id ('T3'), what the role reads, the person who holds them, and once
-- finished: by whom (door), through which event (via: 'taak_afgerond' when a person marked it done) and the note.
-- A task that fell away without being finished (absent from the next line) is closed with door and via NULL.
ALTER TABLE tasks
    ADD COLUMN taak_id         text,
    ADD COLUMN omschrijving    text,
    ADD COLUMN toegewezen_aan  text,
    ADD COLUMN door            text,
    ADD COLUMN via             text,
    ADD COLUMN toelichting     text;

-- Version-1 lines keep their key (one open task per case, role and code); version-2 tasks are keyed by their id,
-- open or closed, so two open tasks of one role may share a code (the actions of a Taskforce decision).
DROP INDEX tasks_open_once_idx;
CREATE UNIQUE INDEX tasks_open_once_v1_idx ON tasks (case_id, rol, taak) WHERE gesloten_op IS NULL AND taak_id IS NULL;
CREATE UNIQUE INDEX tasks_taak_id_idx ON tasks (case_id, taak_id) WHERE taak_id IS NOT NULL;
CREATE INDEX tasks_case_idx ON tasks (case_id);
-- Work lists across cases: tasks_open_per_role_idx (rol, uiterlijk) of 001 serves the lists per role; this one the
-- lists of a person. Overdue is not stored: it is uiterlijk before today, in the query.
CREATE INDEX tasks_open_assignee_idx ON tasks (toegewezen_aan, uiterlijk)
    WHERE gesloten_op IS NULL AND toegewezen_aan IS NOT NULL;

-- The latest dossier and documents of a case: texts written by people (bounded by the contract, see above).
-- A line carries them only when its event changed them; each part keeps the one of the highest-numbered line that
-- carried it, so lines that overtake each other never put an older dossier back.
CREATE TABLE case_dossier (
    case_id                text PRIMARY KEY REFERENCES cases (case_id),
    dossier                jsonb       NOT NULL DEFAULT '{}'::jsonb,
    dossier_volgnummer     integer,
    documenten             jsonb       NOT NULL DEFAULT '[]'::jsonb,
    documenten_volgnummer  integer,
    bijgewerkt_op          timestamptz NOT NULL
);
