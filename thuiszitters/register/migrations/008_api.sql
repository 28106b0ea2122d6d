-- The API for other services (docs/api.md; thuiszitters/api/): its clients, and the answers it keeps so that a
-- retried request gets the first answer instead of a second event.

-- A client of the API: a system of a school, Kindkans, the LBA, Koers VO. It acts in one role with one scope, like a
-- person of the directory (thuiszitters.people.policy decides for it), and may send only the events listed here.
-- It authenticates with its secret at the API's token endpoint (stored as an argon2id hash only), or with an access
-- token of the municipality's OpenID provider whose client is this client_id (then geheim_hash may be NULL).
CREATE TABLE api_clients (
    client_id       text        PRIMARY KEY CHECK (client_id ~ '^[a-z0-9][a-z0-9_.-]{1,62}$'),
    naam            text        NOT NULL CHECK (length(naam) BETWEEN 1 AND 200),
    geheim_hash     text        CHECK (geheim_hash LIKE '$argon2id$%'),
    rol             text        NOT NULL,
    scholen         text[]      NOT NULL DEFAULT '{}',
    regio           text        CHECK (regio IN ('Noord', 'Zuid')),
    sector          text        CHECK (sector IN ('PO', 'VO')),
    alle            boolean     NOT NULL DEFAULT false,
    gebeurtenissen  text[]      NOT NULL DEFAULT '{}',
    mag_starten     boolean     NOT NULL DEFAULT false,
    per_minuut      integer     NOT NULL DEFAULT 600 CHECK (per_minuut BETWEEN 1 AND 100000),
    actief          boolean     NOT NULL DEFAULT true,
    bijgewerkt_op   timestamptz NOT NULL DEFAULT now()
);

-- The first answer to a request with an Idempotency-Key, per client and key, kept for a day. ``verzoek_hash`` is
-- the SHA-256 of the method, path and body: the same key with another request is refused. A row without ``status``
-- is a request still being handled (a second one with the same key waits for it). ``antwoord`` is the answer's body
-- exactly as it was sent (json, not jsonb, keeps its bytes). It can hold what people wrote (a case's status): it is
-- removed after a day, by the API itself.
CREATE TABLE api_idempotentie (
    client_id      text        NOT NULL,
    sleutel        text        NOT NULL CHECK (length(sleutel) BETWEEN 1 AND 200),
    verzoek_hash   text        NOT NULL CHECK (verzoek_hash ~ '^[0-9a-f]{64}$'),
    status         integer,
    antwoord       json,
    aangemaakt_op  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, sleutel)
);

CREATE INDEX api_idempotentie_aangemaakt_idx ON api_idempotentie (aangemaakt_op);

-- The application's database role (migration 005) reads the clients (their management runs as the tables' owner, or
-- as this role through thuiszitters-api-clients) and keeps the answers.
GRANT SELECT, INSERT, UPDATE ON api_clients TO thuiszitters_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON api_idempotentie TO thuiszitters_app;
