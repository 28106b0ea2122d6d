"""Logs: JSON lines in production, and no personal data of a child in them, whoever makes the log call."""

from __future__ import annotations

import io
import json
import logging
from datetime import date

import pytest
import structlog
from pydantic import BaseModel

from thuiszitters.logs import configure_logging, get_logger, is_bsn
from thuiszitters.settings import Settings, SettingsError

VALID_BSN = "111222333"  # passes the eleven-test
NOT_A_BSN = "123456789"  # nine digits, fails the eleven-test
BIRTH_DATE = "2014-03-17"
REASON = "angstklachten na pesten"


class Leerling(BaseModel):
    leerling_ref: str
    geboortedatum: date
    reden: str


def configure(log_format: str, level: str = "info") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(Settings.model_validate({"log_format": log_format, "log_level": level}), stream=stream)
    return stream


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_bsn_eleven_test() -> None:
    assert is_bsn(VALID_BSN)
    assert is_bsn("123456782")
    assert not is_bsn(NOT_A_BSN)
    assert not is_bsn("000000000")
    assert not is_bsn("12345678")


@pytest.mark.usefixtures("restore_logging")
def test_personal_fields_and_bsn_never_reach_the_output() -> None:
    stream = configure("json")
    log = get_logger("thuiszitters.test")

    log.info(
        "aanmelding_ontvangen",
        leerling_ref="LL-0042",
        geboortedatum=BIRTH_DATE,
        reden=REASON,
        kenmerk=VALID_BSN,
        ouder_email="ouder@example.org",
        aantal=3,
    )
    log.info(f"bsn in de tekst {VALID_BSN}", nummer=int(VALID_BSN), gewoon_nummer=NOT_A_BSN)

    output = stream.getvalue()
    for secret in (BIRTH_DATE, REASON, VALID_BSN, "ouder@example.org"):
        assert secret not in output
    first, second = json_lines(stream)
    assert first["geboortedatum"] == "[verwijderd]"
    assert first["reden"] == "[verwijderd]"
    assert first["ouder_email"] == "[verwijderd]"
    assert first["leerling_ref"] == "LL-0042"
    assert first["aantal"] == 3
    assert second["nummer"] == "[verwijderd]"
    assert second["gewoon_nummer"] == NOT_A_BSN


@pytest.mark.usefixtures("restore_logging")
def test_models_and_nested_values_are_redacted() -> None:
    stream = configure("json")
    leerling = Leerling(leerling_ref="LL-0042", geboortedatum=date(2014, 3, 17), reden=REASON)

    get_logger("thuiszitters.test").info("status", leerling=leerling, extra={"toelichting": REASON})

    [line] = json_lines(stream)
    assert line["leerling"] == {
        "leerling_ref": "LL-0042",
        "geboortedatum": "[verwijderd]",
        "reden": "[verwijderd]",
    }
    assert line["extra"] == {"toelichting": "[verwijderd]"}


@pytest.mark.usefixtures("restore_logging")
def test_standard_library_logging_goes_through_the_same_redaction() -> None:
    stream = configure("json")

    logging.getLogger("temporalio.worker").warning(
        "taak mislukt voor %s", VALID_BSN, extra={"geboortedatum": BIRTH_DATE}
    )

    [line] = json_lines(stream)
    assert line["logger"] == "temporalio.worker"
    assert line["level"] == "warning"
    assert line["event"] == "taak mislukt voor [verwijderd]"
    assert line["geboortedatum"] == "[verwijderd]"


@pytest.mark.usefixtures("restore_logging")
def test_exception_text_quoting_input_is_scrubbed() -> None:
    stream = configure("json")
    invoer = {"leerling_ref": "LL-0042", "geboortedatum": "17-03-2014 geheim", "reden": "x"}

    try:
        Leerling.model_validate(invoer)
    except ValueError:
        get_logger("thuiszitters.test").exception("aanmelding_ongeldig")

    [line] = json_lines(stream)
    assert "ValidationError" in str(line["exception"])
    assert "17-03-2014 geheim" not in stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_json_format_gives_one_parseable_object_per_line() -> None:
    stream = configure("json")
    log = get_logger("thuiszitters.test")

    with structlog.contextvars.bound_contextvars(workflow_id="thuiszitter-LL-0042", run_id="abc"):
        log.info("eerste", fase=1)
    log.warning("tweede")
    log.debug("wordt niet getoond op niveau info")

    lines = json_lines(stream)
    assert [line["event"] for line in lines] == ["eerste", "tweede"]
    assert lines[0]["workflow_id"] == "thuiszitter-LL-0042"
    assert lines[0]["run_id"] == "abc"
    assert "workflow_id" not in lines[1]
    assert lines[1]["level"] == "warning"
    assert all("timestamp" in line for line in lines)


@pytest.mark.usefixtures("restore_logging")
def test_console_format_is_readable_text_and_redacted() -> None:
    stream = configure("console", level="debug")

    get_logger("thuiszitters.test").debug("oudergesprek_vastgelegd", reden=REASON, fase=2)

    output = stream.getvalue()
    assert "oudergesprek_vastgelegd" in output
    assert REASON not in output
    assert not output.lstrip().startswith("{")


def test_unknown_log_level_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="THUISZITTERS_LOG_LEVEL"):
        configure_logging(Settings(log_level="praatgraag"), stream=io.StringIO())
