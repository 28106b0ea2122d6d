-- The API keeps each pupil's latest case, as far as the policy reads it, in the server's memory
-- (thuiszitters.register.latest). The register announces every change of that on the channel zaak_feiten, with the
-- pupil's leerling_ref as the payload, when the change commits: a new case, a deleted case (retention), and a change
-- of a column the policy reads or of what makes a case a pupil's latest. Every event updates its case's row; those
-- updates change none of these columns and announce nothing.
CREATE FUNCTION zaak_feiten_gewijzigd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('zaak_feiten', OLD.leerling_ref);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('zaak_feiten', NEW.leerling_ref);  -- the same pupil twice in one transaction: once
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER zaak_feiten_nieuw_of_weg
    AFTER INSERT OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION zaak_feiten_gewijzigd();

CREATE TRIGGER zaak_feiten_gewijzigd
    AFTER UPDATE ON cases
    FOR EACH ROW
    WHEN (
        (OLD.case_id, OLD.workflow_id, OLD.leerling_ref, OLD.geopend_op, OLD.sector, OLD.regio, OLD.school_brin,
         OLD.toegewezen, OLD.escalatie, OLD.afgesloten, OLD.route)
        IS DISTINCT FROM
        (NEW.case_id, NEW.workflow_id, NEW.leerling_ref, NEW.geopend_op, NEW.sector, NEW.regio, NEW.school_brin,
         NEW.toegewezen, NEW.escalatie, NEW.afgesloten, NEW.route)
    )
    EXECUTE FUNCTION zaak_feiten_gewijzigd();
