-- The directory of people (docs/people.md, "Directory"): who works on cases, in which role, and for which schools,
-- region or sector; and the shared address of a role for one school, region or sector.
--
-- Only people who work for an organisation in the procedure are here. Parents are not (data minimisation): they
-- act as the role 'ouders', and the school knows them; the directory has no row, no role and no address for them.
-- persoon_id is the pseudonymous id that events carry as `persoon` (CONTRACT.md, version 2), never a name: the
-- display name and the e-mail address live in this table only, so a case's history never holds them.
-- thuiszitters.people.directory is the one writer and reader; its models check the same rules with Dutch messages,
-- the CHECKs below keep the table true whoever writes to it.

CREATE TABLE personen (
    persoon_id     text PRIMARY KEY CHECK (persoon_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
    naam           text        NOT NULL CHECK (length(naam) BETWEEN 1 AND 200),
    email          text        CHECK (length(email) <= 254 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    -- An inactive person keeps their rows (who acted in a case stays explainable) but is never chosen or addressed.
    actief         boolean     NOT NULL DEFAULT true,
    -- Where the row came from: a file loaded by thuiszitters-personen, or the login (OpenID Connect).
    bron           text        NOT NULL CHECK (bron IN ('bestand', 'oidc')),
    bijgewerkt_op  timestamptz NOT NULL DEFAULT now()
);

-- The roles of a person, each with one scope: the schools (BRIN codes) of a school, SCP or Leerplicht person; the
-- region of a coordinator, ouderfunctionaris or wijkteam; the sector of the Koersloket (Koers VO: VO only); or all
-- cases (alle) for Leerplicht city-wide, Leerplicht absoluut verzuim and the Taskforce. A beheerder manages the
-- directory and has no cases: no scope at all.
-- A person may hold a role more than once with another scope (a coordinator of Noord and of Zuid).
CREATE TABLE persoon_rollen (
    persoon_id  text    NOT NULL REFERENCES personen (persoon_id) ON DELETE CASCADE,
    rol         text    NOT NULL CHECK (rol IN (
        'school', 'scp', 'koersloket', 'leerplicht', 'leerplicht_absoluut_verzuim', 'ouderfunctionaris',
        'coordinator', 'wijkteam', 'taskforce', 'beheerder')),
    scholen     text[]  NOT NULL DEFAULT '{}' CHECK (
        array_position(scholen, NULL) IS NULL
        AND (cardinality(scholen) = 0
             OR array_to_string(scholen, ' ') ~ '^[0-9]{2}[A-Z]{2}( [0-9]{2}[A-Z]{2})*$')),
    regio       text    CHECK (regio IN ('Noord', 'Zuid')),
    sector      text    CHECK (sector IN ('PO', 'VO')),
    alle        boolean NOT NULL DEFAULT false,
    -- Exactly one kind of scope, the one that fits the role (a beheerder: none).
    CONSTRAINT persoon_rollen_bereik CHECK (
        num_nonnulls(NULLIF(cardinality(scholen), 0), regio, sector, NULLIF(alle, false))
            = CASE WHEN rol = 'beheerder' THEN 0 ELSE 1 END
        AND CASE
            WHEN rol IN ('school', 'scp') THEN cardinality(scholen) > 0
            WHEN rol = 'leerplicht' THEN cardinality(scholen) > 0 OR alle
            WHEN rol IN ('coordinator', 'ouderfunctionaris', 'wijkteam') THEN regio IS NOT NULL
            WHEN rol = 'koersloket' THEN sector = 'VO'
            WHEN rol = 'beheerder' THEN true
            ELSE alle  -- leerplicht_absoluut_verzuim, taskforce
        END
    )
);

CREATE INDEX persoon_rollen_persoon_idx ON persoon_rollen (persoon_id);
CREATE INDEX persoon_rollen_rol_idx ON persoon_rollen (rol);
-- Who works for a school: scholen @> ARRAY['12AB'].
CREATE INDEX persoon_rollen_scholen_idx ON persoon_rollen USING gin (scholen);

-- The address of a role for one school, one region or one sector: the zorgcoördinator mailbox of a school, the
-- coordinator team of Noord, the Koersloket. A message goes here when no active person holds the role in a case.
-- There is deliberately no address for a role as a whole: a message about a pupil never goes to a city-wide inbox.
CREATE TABLE rol_adressen (
    rol            text NOT NULL CHECK (rol IN (
        'school', 'scp', 'koersloket', 'leerplicht', 'leerplicht_absoluut_verzuim', 'ouderfunctionaris',
        'coordinator', 'wijkteam', 'taskforce')),
    school_brin    text CHECK (school_brin ~ '^[0-9]{2}[A-Z]{2}$'),
    regio          text CHECK (regio IN ('Noord', 'Zuid')),
    sector         text CHECK (sector IN ('PO', 'VO')),
    email          text NOT NULL
        CHECK (length(email) <= 254 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    bijgewerkt_op  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rol_adressen_bereik CHECK (
        num_nonnulls(school_brin, regio, sector) = 1
        AND CASE
            WHEN rol IN ('school', 'scp') THEN school_brin IS NOT NULL
            WHEN rol = 'leerplicht' THEN sector IS NULL  -- per school or per region
            WHEN rol = 'koersloket' THEN sector = 'VO'
            ELSE regio IS NOT NULL
        END
    )
);

-- One address per role and scope (the three scopes never share a value, so COALESCE keeps them apart).
CREATE UNIQUE INDEX rol_adressen_sleutel_idx ON rol_adressen (rol, (COALESCE(school_brin, regio, sector)));
