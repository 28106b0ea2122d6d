-- The audit log (docs/people.md, "Audit log"; thuiszitters/people/audit.py): one row for every read of a case
-- (status, timeline, documents), every list, export and action, allowed or refused: who (persoon_id, rol), through
-- which channel (kanaal), what (actie), on which case, with what result, and why a refusal was refused (reden).
--
-- case_id is the register's case id (cases.case_id: "<workflow id>:<first run id>"), so "who looked at this case"
-- finds exactly one case, also when a pupil has had several; NULL for what concerns no single case (a list, an
-- export). No data of the child is kept: the case id carries only the pupil's pseudonymous reference.
--
-- Append-only, in three ways:
-- * the application's role (thuiszitters_app, below) may INSERT and SELECT, nothing else;
-- * a trigger refuses every UPDATE and DELETE, and TRUNCATE, whoever asks, except the one narrow anonymisation
--   audit_anonimiseer_zaak() makes (below);
-- * a hash chain makes any change that slips past both visible (AuditLog.verify, thuiszitters-audit controleer).
--
-- The chain. A trigger, not the caller, fills in the id, the time, the salt, the digests and the hashes, under an
-- advisory lock held to the end of the inserting transaction: appends are serialised, so concurrent ones still form
-- one chain (and the unique vorige_hash forbids a fork outright). Each row's hash is SHA-256 over the canonical text
-- of the previous row's hash and the row's content (audit_log_inhoud; audit.py computes the same text and checks
-- every row); the first row's previous hash is 64 zeros.
--
-- Anonymisation. The content covers the person and the case not as they are but through a digest salted per row:
-- persoon_digest = SHA-256(zout || persoon_id), zaak_digest = SHA-256(zout || case_id), zout 16 random bytes. When
-- retention anonymises a case (thuiszitters/tools/retention.py), audit_anonimiseer_zaak() gives the case's audit rows
-- the case's new id ('geanonimiseerd-<n>'), replaces each person by a pseudonym that holds only within that case
-- ('geanonimiseerd-persoon-<k>', in order of first appearance), and erases the salt. The digests and hashes stay as
-- they were, so the chain still verifies; without the salt the digests no longer tie a row to a person or a case.
-- A row with its salt is checked in full; an anonymised row in all but who and which case, which are gone by design.

CREATE SEQUENCE audit_log_id_seq AS bigint;

CREATE TABLE audit_log (
    -- A bigserial whose value the insert trigger draws after taking the lock, so ids follow the chain.
    id             bigint PRIMARY KEY,
    tijd           timestamptz NOT NULL,
    -- Not a reference to personen (migration 004): a refused request of someone unknown is recorded too.
    persoon_id     text        NOT NULL CHECK (length(persoon_id) BETWEEN 1 AND 200),
    rol            text        NOT NULL CHECK (length(rol) BETWEEN 1 AND 100),
    kanaal         text        NOT NULL CHECK (kanaal IN ('web', 'api', 'cli', 'codec')),
    actie          text        NOT NULL CHECK (length(actie) BETWEEN 1 AND 100),
    case_id        text        CHECK (length(case_id) BETWEEN 1 AND 200),
    resultaat      text        NOT NULL CHECK (resultaat IN ('toegestaan', 'geweigerd')),
    reden          text        CHECK (length(reden) <= 500),
    zout           bytea       CHECK (octet_length(zout) = 16),
    persoon_digest text        NOT NULL,
    zaak_digest    text,
    vorige_hash    text        NOT NULL UNIQUE,
    hash           text        NOT NULL,
    CHECK ((case_id IS NULL) = (zaak_digest IS NULL))
);

ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;

CREATE INDEX audit_log_zaak_idx ON audit_log (case_id, id) WHERE case_id IS NOT NULL;
CREATE INDEX audit_log_persoon_idx ON audit_log (persoon_id, tijd);

-- One field of the canonical text: '-' for NULL, else its length in characters, ':' and the value. Unambiguous,
-- whatever the values contain.
CREATE FUNCTION audit_log_veld(waarde text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN waarde IS NULL THEN '-' ELSE length(waarde) || ':' || waarde END
$$;

CREATE FUNCTION audit_log_digest(zout bytea, waarde text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(zout || convert_to(waarde, 'UTF8')), 'hex')
$$;

-- What a row's hash covers, in this order; the time as UTC with microseconds.
CREATE FUNCTION audit_log_inhoud(r audit_log) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT audit_log_veld(r.vorige_hash) || audit_log_veld(r.id::text)
        || audit_log_veld(to_char(r.tijd AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'))
        || audit_log_veld(r.persoon_digest) || audit_log_veld(r.rol) || audit_log_veld(r.kanaal)
        || audit_log_veld(r.actie) || audit_log_veld(r.zaak_digest) || audit_log_veld(r.resultaat)
        || audit_log_veld(r.reden)
$$;

CREATE FUNCTION audit_log_keten() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    vorige text;
BEGIN
    -- One append at a time, until this transaction ends: the next waits here and then reads this row as the last.
    PERFORM pg_advisory_xact_lock(7361402915005);
    SELECT hash INTO vorige FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.id := nextval('audit_log_id_seq');
    NEW.tijd := clock_timestamp();
    NEW.zout := uuid_send(gen_random_uuid());
    NEW.persoon_digest := audit_log_digest(NEW.zout, NEW.persoon_id);
    NEW.zaak_digest := audit_log_digest(NEW.zout, NEW.case_id);
    NEW.vorige_hash := coalesce(vorige, repeat('0', 64));
    NEW.hash := encode(sha256(convert_to(audit_log_inhoud(NEW), 'UTF8')), 'hex');
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_keten BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_keten();

-- Refuses every change but the anonymisation: only inside audit_anonimiseer_zaak(), only the salt erased and the
-- person and case replaced by pseudonyms, every column the chain covers unchanged.
CREATE FUNCTION audit_log_alleen_toevoegen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF current_setting('thuiszitters.audit_anonimiseren', true) = 'aan'
           AND OLD.zout IS NOT NULL AND NEW.zout IS NULL
           AND NEW.persoon_id LIKE 'geanonimiseerd-%' AND NEW.case_id LIKE 'geanonimiseerd-%'
           AND (NEW.id, NEW.tijd, NEW.rol, NEW.kanaal, NEW.actie, NEW.resultaat, NEW.reden, NEW.persoon_digest,
                NEW.zaak_digest, NEW.vorige_hash, NEW.hash)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.tijd, OLD.rol, OLD.kanaal, OLD.actie, OLD.resultaat, OLD.reden, OLD.persoon_digest,
                OLD.zaak_digest, OLD.vorige_hash, OLD.hash)
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'het auditlog wordt alleen aangevuld: % is niet toegestaan', TG_OP;
END
$$;

CREATE TRIGGER audit_log_alleen_toevoegen BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_alleen_toevoegen();
CREATE TRIGGER audit_log_niet_legen BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_alleen_toevoegen();

-- The anonymisation path, for retention: the audit rows of case `oud`, once the register has anonymised it as
-- `nieuw` (in the same transaction: the case row `nieuw` is marked geanonimiseerd_op and `oud` is gone). Runs as
-- its owner, the role that ran this migration, so the application's role needs no UPDATE on the table; returns the
-- number of rows changed.
CREATE FUNCTION audit_anonimiseer_zaak(oud text, nieuw text) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    aantal integer;
BEGIN
    IF nieuw NOT LIKE 'geanonimiseerd-%'
       OR EXISTS (SELECT FROM cases WHERE case_id = oud)
       OR NOT EXISTS (SELECT FROM cases WHERE case_id = nieuw AND geanonimiseerd_op IS NOT NULL) THEN
        RAISE EXCEPTION 'zaak % is niet geanonimiseerd als %: de auditregels blijven zoals ze zijn', oud, nieuw;
    END IF;
    PERFORM set_config('thuiszitters.audit_anonimiseren', 'aan', true);
    WITH personen AS (
        SELECT persoon_id, row_number() OVER (ORDER BY min(id)) AS nummer
        FROM audit_log WHERE case_id = oud
        GROUP BY persoon_id
    )
    UPDATE audit_log a
    SET case_id = nieuw, persoon_id = 'geanonimiseerd-persoon-' || p.nummer, zout = NULL
    FROM personen p
    WHERE a.case_id = oud AND a.persoon_id = p.persoon_id;
    GET DIAGNOSTICS aantal = ROW_COUNT;
    PERFORM set_config('thuiszitters.audit_anonimiseren', '', true);
    RETURN aantal;
END
$$;

-- A SECURITY DEFINER function must not find tables of the caller's making: only this schema, temporary ones last.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_anonimiseer_zaak(text, text) SET search_path = %I, pg_temp', current_schema());
END
$$;

-- The application's role. Roles belong to the whole server, not to one database: it may exist already (another
-- database on the server, or a migration running at the same moment), and that is fine. The application connects
-- as a login role that is a member of it (docs/people.md).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'thuiszitters_app') THEN
        CREATE ROLE thuiszitters_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

REVOKE ALL ON audit_log FROM PUBLIC;
GRANT SELECT, INSERT ON audit_log TO thuiszitters_app;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO thuiszitters_app;
REVOKE ALL ON FUNCTION audit_anonimiseer_zaak(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_anonimiseer_zaak(text, text) TO thuiszitters_app;
