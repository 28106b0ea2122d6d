-- The case register: what the coordinators and the Kerngroep read, and the once-only record of every side effect.
-- Only what each purpose needs; no free text written by people (the workflow history holds that, encrypted).

-- One row per case: its latest known state (from the newest Vastlegging).
CREATE TABLE cases (
    case_id          text PRIMARY KEY,
    workflow_id      text        NOT NULL,
    leerling_ref     text        NOT NULL,
    sector           text        NOT NULL CHECK (sector IN ('PO', 'VO')),
    regio            text        NOT NULL CHECK (regio IN ('Noord', 'Zuid')),
    school_brin      text,
    leerplichtig     boolean     NOT NULL,
    startdatum       date        NOT NULL,
    fase             smallint    NOT NULL CHECK (fase BETWEEN 0 AND 4),
    regiehouder      text        NOT NULL
        CHECK (regiehouder IN ('school', 'wijkteam', 'taskforce', 'leerplicht_absoluut_verzuim')),
    escalatie        text        NOT NULL CHECK (escalatie IN ('geen', 'coordinator', 'taskforce')),
    route            text,
    wachtlijst       boolean     NOT NULL,
    afgesloten       boolean     NOT NULL,
    uitkomst         text,
    laatste_volgnummer integer   NOT NULL,
    geopend_op       timestamptz NOT NULL,
    afgesloten_op    timestamptz,
    bijgewerkt_op    timestamptz NOT NULL
);

CREATE INDEX cases_open_idx ON cases (regio, fase) WHERE NOT afgesloten;
CREATE INDEX cases_leerling_idx ON cases (leerling_ref);

-- The phase history: one row per Vastlegging, numbered per case.
CREATE TABLE case_events (
    case_id      text        NOT NULL REFERENCES cases (case_id),
    volgnummer   integer     NOT NULL,
    tijd         timestamptz NOT NULL,
    gebeurtenis  text        NOT NULL,
    door         text,
    fase         smallint    NOT NULL,
    regiehouder  text        NOT NULL,
    escalatie    text        NOT NULL,
    UNIQUE (case_id, volgnummer)
);

-- Tasks per role: the open ones are those of the latest Vastlegging; closed ones keep their history.
CREATE TABLE tasks (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      text        NOT NULL REFERENCES cases (case_id),
    rol          text        NOT NULL,
    taak         text        NOT NULL,
    uiterlijk    date,
    geopend_op   timestamptz NOT NULL,
    gesloten_op  timestamptz
);

CREATE UNIQUE INDEX tasks_open_once_idx ON tasks (case_id, rol, taak) WHERE gesloten_op IS NULL;
CREATE INDEX tasks_open_per_role_idx ON tasks (rol, uiterlijk) WHERE gesloten_op IS NULL;

-- Registration calls to outside systems, made once per sleutel.
CREATE TABLE registrations (
    sleutel          text PRIMARY KEY,
    case_id          text        NOT NULL,
    systeem          text        NOT NULL,
    actie            text        NOT NULL,
    gegevens         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status           text        NOT NULL DEFAULT 'in_behandeling'
        CHECK (status IN ('in_behandeling', 'verzonden', 'niet_verzonden', 'mislukt')),
    antwoord_status  integer,
    kenmerk          text,
    fout             text,
    pogingen         integer     NOT NULL DEFAULT 0,
    aangemaakt_op    timestamptz NOT NULL DEFAULT now(),
    verzonden_op     timestamptz
);

CREATE INDEX registrations_case_idx ON registrations (case_id);
CREATE INDEX registrations_attention_idx ON registrations (status) WHERE status IN ('in_behandeling', 'mislukt');

-- Notifications to roles, sent once per sleutel. The text itself is not kept: it can be rendered again.
CREATE TABLE notifications (
    sleutel        text PRIMARY KEY,
    case_id        text        NOT NULL,
    rol            text        NOT NULL,
    sjabloon       text        NOT NULL,
    kanaal         text        NOT NULL CHECK (kanaal IN ('log', 'smtp', 'webhook')),
    onderwerp      text        NOT NULL,
    status         text        NOT NULL DEFAULT 'in_behandeling'
        CHECK (status IN ('in_behandeling', 'verzonden', 'mislukt')),
    fout           text,
    pogingen       integer     NOT NULL DEFAULT 0,
    aangemaakt_op  timestamptz NOT NULL DEFAULT now(),
    verzonden_op   timestamptz
);

CREATE INDEX notifications_case_idx ON notifications (case_id);

-- Escalations: the first moment a case reached each level.
CREATE TABLE escalations (
    case_id  text        NOT NULL REFERENCES cases (case_id),
    niveau   text        NOT NULL CHECK (niveau IN ('coordinator', 'taskforce')),
    tijd     timestamptz NOT NULL,
    UNIQUE (case_id, niveau)
);
