-- The login of the web application (docs/people.md, "Login"; thuiszitters/web/): local accounts, and the sessions
-- of people who are logged in.
--
-- Most people log in through the organisation's OpenID provider; a local account is for those the provider does
-- not know (a password of this register, switched on with THUISZITTERS_WEB_LOKALE_ACCOUNTS). An account belongs to
-- a person of the directory (migration 004) and goes when the person's row goes. The password is stored only as an
-- argon2id hash (thuiszitters.web.accounts). After five failed attempts in a row the account is locked for fifteen
-- minutes: the count and the lock live here, so they hold across every process of the web application.

CREATE TABLE lokale_accounts (
    persoon_id         text        PRIMARY KEY REFERENCES personen (persoon_id) ON DELETE CASCADE,
    wachtwoord_hash    text        NOT NULL CHECK (wachtwoord_hash LIKE '$argon2id$%'),
    -- Failed attempts since the last success or the last lock (the fifth locks the account and starts again at 0).
    mislukte_pogingen  integer     NOT NULL DEFAULT 0 CHECK (mislukte_pogingen BETWEEN 0 AND 1000),
    geblokkeerd_tot    timestamptz,
    laatst_ingelogd_op timestamptz,
    bijgewerkt_op      timestamptz NOT NULL DEFAULT now()
);

-- A session of the web application. The browser holds a signed cookie with a random session key; only its SHA-256
-- digest is stored here. A session counts while it has not ended and its time has not run out: logging out ends it
-- here, so a copy of the cookie opens nothing afterwards, and neither does a cookie older than the session's
-- maximum age (THUISZITTERS_WEB_SESSION_MAX_AGE).
CREATE TABLE web_sessies (
    sessie_digest text        PRIMARY KEY CHECK (sessie_digest ~ '^[0-9a-f]{64}$'),
    persoon_id    text        NOT NULL REFERENCES personen (persoon_id) ON DELETE CASCADE,
    begonnen_op   timestamptz NOT NULL DEFAULT now(),
    verloopt_op   timestamptz NOT NULL,
    beeindigd_op  timestamptz,
    CHECK (verloopt_op > begonnen_op)
);

CREATE INDEX web_sessies_persoon_idx ON web_sessies (persoon_id) WHERE beeindigd_op IS NULL;
CREATE INDEX web_sessies_verloopt_idx ON web_sessies (verloopt_op);

-- What the web application's login role (a member of thuiszitters_app, migration 005) may do: check and count
-- passwords, keep sessions, and read the directory and store who logged in through the provider (their name and
-- address; their roles stay as the directory has them). Setting a password also works as this role.
GRANT SELECT, INSERT, UPDATE ON lokale_accounts TO thuiszitters_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON web_sessies TO thuiszitters_app;
GRANT SELECT, INSERT, UPDATE ON personen TO thuiszitters_app;
GRANT SELECT, INSERT, DELETE ON persoon_rollen TO thuiszitters_app;
