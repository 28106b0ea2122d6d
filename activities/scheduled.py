"""The activities of the scheduled work (:mod:`workflows.scheduled`): each does one side effect.

- ``bewaartermijn_toepassen``: the retention period of the case register, through the same code as
  ``thuiszitters-bewaartermijn`` (:func:`thuiszitters.tools.retention.apply_retention`): one transaction under an
  advisory lock; a second run changes nothing.
- ``weekrapport_versturen``: one region's weekly report, from the same code as ``thuiszitters-rapport``
  (:mod:`thuiszitters.tools.report`), delivered to the region's coordinators the way the system reaches a role: the
  channel set for the coordinator (``THUISZITTERS_KANAAL_COORDINATOR``) and the address of
  ``THUISZITTERS_ADRESSERING`` (the region's coordinator address, or the directory of people's address for the
  region). The report holds counts and the workflow ids of the cases a coordinator should look at first; no names.

They implement the scheduled section of :mod:`workflows.activities`; ``tests/activities/test_case_activities.py``
holds the two together. Register them with the worker as bound methods, next to the case's::

    scheduled = ScheduledActivities(settings, case_activities.register)
    Worker(..., activities=[*case_activities.all(), *scheduled.all()])

Exactly once: a report's e-mail carries a ``Message-ID`` derived from its ``sleutel`` (``weekrapport:<per>:<regio>``),
so a receiving mail system drops a repeat after a retry; a region's report is its own activity, so a retry never
sends another region's again.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Callable
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.adapters import (
    BERICHT_TIJDELIJK_MISLUKT,
    GEEN_ADRES,
    KANAAL_NIET_INGESTELD,
    message_id,
    smtp_refusal,
)
from thuiszitters.people.directory import Directory
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.tools.report import (
    TERM_DAYS,
    RegisterRows,
    Report,
    StateFacts,
    build_report,
    dutch_date,
    fetch_rows,
    render_table,
)
from thuiszitters.tools.retention import apply_retention
from workflows.calendar import amsterdam_date
from workflows.contract import Escalatie, Regio, Rol, Sector
from workflows.scheduled_work import (
    Bewaartermijn,
    BewaartermijnSamenvatting,
    RegioRapport,
    WeekrapportRegio,
)

REPORT_KIND = "weekrapport"
MOST_REFERENCES = 25
"""Cases named in a report (past the twelve weeks, not escalated) at most; the rest are counted."""
SMTP_TIMEOUT_SECONDS = 10.0
_SECTOR_NAAM = {Sector.PO: "primair onderwijs", Sector.VO: "voortgezet onderwijs"}


def _activity_log() -> Any:
    """A logger bound to the running activity: ids and attempt only, never personal data."""
    info = activity.info()
    return structlog.get_logger("thuiszitters.activities").bind(
        workflow_id=info.workflow_id,
        run_id=info.workflow_run_id,
        activity=info.activity_type,
        attempt=info.attempt,
    )


class ScheduledActivities:
    """The scheduled work's activities and their dependencies: the settings and the case register."""

    def __init__(self, settings: Settings, register: Register) -> None:
        self.settings = settings
        self.register = register

    def all(self) -> list[Callable[..., Any]]:
        """The activities, to hand to the worker."""
        return [self.bewaartermijn_toepassen, self.weekrapport_versturen]

    # ------------------------------------------------------------------------------------------- retention

    @activity.defn(name="bewaartermijn_toepassen")
    async def bewaartermijn_toepassen(self, opdracht: Bewaartermijn) -> BewaartermijnSamenvatting:
        """Anonymise the closed cases past the period before the run's moment; say how many, per sector and region."""
        period_days = opdracht.na_dagen or self.settings.bewaartermijn_dagen
        async with self.register.pool.acquire() as connection:
            result = await apply_retention(
                connection, period_days=period_days, dry_run=opdracht.proefdraai, now=opdracht.moment
            )
        summary = BewaartermijnSamenvatting(
            bewaartermijn_dagen=result.period_days,
            afgesloten_voor=amsterdam_date(result.cutoff),
            proefdraai=result.dry_run,
            geanonimiseerd=result.anonymised,
            per_sector=dict(result.per_sector),
            per_regio=dict(result.per_regio),
            registraties=result.registrations,
            berichten=result.notifications,
            dossiers=result.dossiers,
            auditregels=result.audit_rows,
            open_zaken=result.open_cases,
            binnen_termijn=result.within_period,
            al_geanonimiseerd=result.already_anonymised,
        )
        _activity_log().info(
            "bewaartermijn_toegepast",
            geanonimiseerd=summary.geanonimiseerd,
            proefdraai=summary.proefdraai,
            bewaartermijn_dagen=summary.bewaartermijn_dagen,
        )
        return summary

    # --------------------------------------------------------------------------------------- weekly report

    @activity.defn(name="weekrapport_versturen")
    async def weekrapport_versturen(self, opdracht: WeekrapportRegio) -> RegioRapport:
        """Build the region's report as of ``per`` and deliver it to the region's coordinators."""
        kanaal = self.settings.kanaal(Rol.COORDINATOR)
        log = _activity_log().bind(regio=opdracht.regio.value, per=opdracht.per.isoformat(), kanaal=kanaal)
        rows = region_rows(await fetch_rows(self.register, opdracht.per), opdracht.regio, opdracht.sector)
        report = build_report(rows, opdracht.per)
        references = await self._references(overdue_not_escalated(rows, opdracht.per))
        onderwerp, tekst = report_message(report, opdracht, references)
        adres = await self._address(opdracht)
        if kanaal == "smtp":
            await self._mail(opdracht, adres, onderwerp, tekst)
        elif kanaal == "log":
            structlog.get_logger("thuiszitters.berichten").info(
                "rapport_gelogd", soort=REPORT_KIND, rol=Rol.COORDINATOR.value, regio=opdracht.regio.value
            )
        else:
            raise ApplicationError(
                f"{_what(opdracht)}: het weekrapport gaat per e-mail (kanaal smtp) of naar het log, niet via "
                f"kanaal {kanaal}; stel THUISZITTERS_KANAAL_COORDINATOR in op smtp",
                type=KANAAL_NIET_INGESTELD,
                non_retryable=True,
            )
        log.info("weekrapport_verzonden", open_zaken=report.open_total, over_termijn=report.overdue)
        return RegioRapport(
            regio=opdracht.regio,
            sector=opdracht.sector,
            open_zaken=report.open_total,
            over_termijn=report.overdue,
            over_termijn_niet_opgeschaald=report.overdue_not_escalated,
            opgeschaald=sum(count.value for count in report.open_escalated),
            kanaal=kanaal,
        )

    async def _references(self, case_ids: list[str]) -> list[str]:
        """The workflow ids (``thuiszitter-<leerling_ref>``) of these cases, the way a coordinator finds a case in
        the Web UI and the CLI."""
        if not case_ids:
            return []
        rows = await self.register.pool.fetch(
            "SELECT case_id, workflow_id FROM cases WHERE case_id = ANY($1::text[])", case_ids
        )
        found = {row["case_id"]: row["workflow_id"] for row in rows}
        return [found[case_id] for case_id in case_ids if case_id in found]

    async def _address(self, opdracht: WeekrapportRegio) -> str | None:
        """The region's coordinators: the address set for them (``adressering=rol``), or their address for the
        region in the directory of people (``adressering=personen``), where none is final."""
        if self.settings.adressering == "rol":
            return self.settings.adres(Rol.COORDINATOR, opdracht.regio.value)
        found = await Directory(self.register.pool).address_for(
            Rol.COORDINATOR.value, regio=opdracht.regio.value, sector=opdracht.sector.value
        )
        if found is None:
            raise ApplicationError(
                f"{_what(opdracht)}: voor de thuiszitterscoördinator van regio {opdracht.regio.value} staat niemand "
                "in de personenlijst; vraag de beheerder een adres voor de regio toe te voegen",
                type=GEEN_ADRES,
                non_retryable=True,
            )
        return found

    async def _mail(self, opdracht: WeekrapportRegio, adres: str | None, onderwerp: str, tekst: str) -> None:
        """Send the report by e-mail, its failures sorted as the notification channels sort theirs."""
        if not adres:
            raise ApplicationError(
                f"{_what(opdracht)}: geen e-mailadres ingesteld voor de coördinator van regio {opdracht.regio.value} "
                f"(THUISZITTERS_ADRES_COORDINATOR_{opdracht.regio.value.upper()})",
                type=KANAAL_NIET_INGESTELD,
                non_retryable=True,
            )
        settings = self.settings
        message = EmailMessage()
        message["From"] = settings.smtp_afzender
        message["To"] = adres
        message["Subject"] = onderwerp
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id(opdracht.sleutel, settings.smtp_afzender)
        message["Idempotency-Key"] = opdracht.sleutel
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(tekst)

        def send() -> None:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, settings.smtp_password or "")
                smtp.send_message(message, from_addr=settings.smtp_afzender, to_addrs=[adres])

        try:
            await asyncio.to_thread(send)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise smtp_refusal(_what(opdracht), min(codes) if codes else 550) from None
        except smtplib.SMTPResponseException as error:
            raise smtp_refusal(_what(opdracht), error.smtp_code) from None
        except (OSError, smtplib.SMTPException) as error:
            raise ApplicationError(
                f"{_what(opdracht)} is tijdelijk mislukt: de mailserver is niet bereikbaar "
                f"({type(error).__name__}); het wordt later opnieuw geprobeerd",
                type=BERICHT_TIJDELIJK_MISLUKT,
            ) from None


def _what(opdracht: WeekrapportRegio) -> str:
    return f"Weekrapport {opdracht.per.isoformat()} aan coordinator ({opdracht.regio.value})"


# ------------------------------------------------------------------------------------------------ the report


def region_rows(rows: RegisterRows, regio: Regio, sector: Sector) -> RegisterRows:
    """The register's rows of one region's cases of one sector: what the region's coordinator may see."""
    cases = [c for c in rows.cases if c.regio == regio.value and c.sector == sector.value]
    ids = {c.case_id for c in cases}
    return RegisterRows(
        cases=cases,
        states=[s for s in rows.states if s.case_id in ids],
        escalations=[e for e in rows.escalations if e.case_id in ids],
    )


def overdue_not_escalated(rows: RegisterRows, per: date) -> list[str]:
    """The case ids of the open cases past the twelve-week term without any escalation on ``per``, longest at home
    first: the cases the report's 'waarvan niet opgeschaald' counts (:func:`~thuiszitters.tools.report.build_report`
    counts them the same way)."""
    latest: dict[str, StateFacts] = {}
    for state in rows.states:
        if amsterdam_date(state.tijd) <= per and (
            (known := latest.get(state.case_id)) is None or state.volgnummer > known.volgnummer
        ):
            latest[state.case_id] = state
    found = []
    for case in rows.cases:
        closed = amsterdam_date(case.afgesloten_op) if case.afgesloten_op else None
        is_open = amsterdam_date(case.geopend_op) <= per and (closed is None or closed > per)
        escalatie = latest[case.case_id].escalatie if case.case_id in latest else case.escalatie
        overdue = case.startdatum + timedelta(days=TERM_DAYS) < per
        if is_open and overdue and escalatie == Escalatie.GEEN.value:
            found.append(case)
    return [case.case_id for case in sorted(found, key=lambda c: (c.startdatum, c.case_id))]


def report_message(report: Report, opdracht: WeekrapportRegio, references: list[str]) -> tuple[str, str]:
    """The subject and text of one region's report, in Dutch: counts, and the cases to look at first by their
    workflow id; no names."""
    per = dutch_date(report.per, weekday=True)
    wie = f"{_SECTOR_NAAM[opdracht.sector]} ({opdracht.sector.value}), regio {opdracht.regio.value}"
    onderwerp = (
        f"Weekrapport thuiszitters {opdracht.sector.value} {opdracht.regio.value}, stand per {dutch_date(report.per)}"
    )
    lines = [
        "Beste thuiszitterscoördinator,",
        "",
        f"Dit is het weekrapport van de thuiszitters in het {wie}, met de stand per {per}, uit het zaakregister. "
        "Het bevat aantallen en zaakverwijzingen, geen namen.",
        "",
    ]
    if references:
        lines.append(
            f"Over de twaalfwekentermijn en nog niet opgeschaald: {report.overdue_not_escalated} "
            f"{'zaak' if report.overdue_not_escalated == 1 else 'zaken'}. Bekijk deze eerst (workflow-id in de "
            "Web UI of met 'thuiszitters status'):"
        )
        lines += [f"  - {reference}" for reference in references[:MOST_REFERENCES]]
        if len(references) > MOST_REFERENCES:
            lines.append(f"  en {len(references) - MOST_REFERENCES} andere")
    else:
        lines.append("Geen open zaak is over de twaalfwekentermijn zonder opschaling.")
    lines += [
        "",
        render_table(report),
        "",
        "Dit bericht is verstuurd door het casussysteem thuiszitters Rotterdam; het komt elke maandag.",
    ]
    return onderwerp, "\n".join(lines)
