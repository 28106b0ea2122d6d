"""The case's activities: each does one side effect, idempotently, keyed by the effect's ``sleutel``.

- ``vastleggen``: record a Vastlegging in the case register;
- ``registreren``: make a registration call to an outside system once;
- ``berichten``: render and deliver a notification to a role once;
- ``huidig_beleid``: the policy of this release, for a case started without one.

They implement the activities declared in :mod:`workflows.activities` (the names, arguments and results the workflow
calls), exactly those and with exactly those types: ``tests/activities/test_case_activities.py`` holds them together.
Register them with the worker as bound methods::

    activities = await CaseActivities.create(settings)
    Worker(..., activities=activities.all())
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.adapters import GEEN_ADRES, KANAAL_NIET_INGESTELD, BerichtKanaal, HttpRegistratieAdapter, channels_for
from activities.templates import render
from thuiszitters.people.directory import Directory
from thuiszitters.register.store import Register
from thuiszitters.settings import Kanaal, Settings, SettingsError
from workflows.contract import ROL_NAMEN, Rol
from workflows.effects import Bericht, Portie, Registratie, RegistratieUitkomst, Vastlegging, Verantwoordelijken
from workflows.policy import DEFAULT_BELEID, Beleid


def _activity_log() -> Any:
    """A logger bound to the running activity: ids and attempt only, never personal data."""
    info = activity.info()
    return structlog.get_logger("thuiszitters.activities").bind(
        workflow_id=info.workflow_id,
        run_id=info.workflow_run_id,
        activity=info.activity_type,
        attempt=info.attempt,
    )


def _reason(error: BaseException) -> str:
    if isinstance(error, ApplicationError):
        return error.message
    return f"onverwachte fout ({type(error).__name__})"


class CaseActivities:
    """A case's activities and their dependencies: the register, the registration adapter, the channels."""

    def __init__(
        self,
        settings: Settings,
        register: Register,
        adapter: HttpRegistratieAdapter | None = None,
        channels: Mapping[Kanaal, BerichtKanaal] | None = None,
        *,
        owns_register: bool = False,
    ) -> None:
        self.settings = settings
        self.register = register
        self.adapter = adapter or HttpRegistratieAdapter(settings)
        self.channels: dict[Kanaal, BerichtKanaal] = dict(channels or channels_for(settings))
        self._owns_register = owns_register

    @classmethod
    async def create(cls, settings: Settings) -> CaseActivities:
        """Connect to the register (``DATABASE_URL``), bring its schema up to date, and build the channels."""
        if not settings.database_url:
            raise SettingsError("instelling DATABASE_URL: verplicht voor de worker (het casusregister)")
        channels = channels_for(settings)  # a channel's bad setting (the webhook secret) stops the start here
        register = await Register.connect(settings.database_url, max_size=settings.database_pool_max)
        try:
            applied = await register.migrate()
        except BaseException:
            await register.close()
            raise
        if applied:
            structlog.get_logger("thuiszitters.activities").info("migraties_toegepast", migraties=applied)
        return cls(settings, register, channels=channels, owns_register=True)

    async def close(self) -> None:
        await self.adapter.aclose()
        for channel in self.channels.values():
            await channel.aclose()
        if self._owns_register:
            await self.register.close()

    def all(self) -> list[Callable[..., Any]]:
        """The activities, to hand to the worker."""
        return [
            self.vastleggen,
            self.registreren,
            self.berichten,
            self.uitvoeren,
            self.huidig_beleid,
            self.verantwoordelijken,
        ]

    # ------------------------------------------------------------------------------------------- activities

    @activity.defn(name="vastleggen")
    async def vastleggen(self, v: Vastlegging) -> None:
        """Record one line of the case register (phase, regie, escalation, open tasks)."""
        log = _activity_log().bind(volgnummer=v.volgnummer, gebeurtenis=v.gebeurtenis)
        if await self.register.record(v):
            log.info("vastgelegd", fase=v.fase, escalatie=v.escalatie.value)
        else:
            log.info("al_vastgelegd")

    @activity.defn(name="registreren")
    async def registreren(self, r: Registratie) -> RegistratieUitkomst:
        """Make a registration call once. A call already made returns its stored outcome without sending."""
        log = _activity_log().bind(systeem=r.systeem.value, actie=r.actie.value)
        stored = await self.register.claim_registration(r)
        if stored is not None:
            log.info("registratie_al_gedaan", verzonden=stored.verzonden)
            return stored
        try:
            uitkomst = await self.adapter.send(r)
        except Exception as error:
            definitief = isinstance(error, ApplicationError) and error.non_retryable
            await self.register.fail_registration(r.sleutel, _reason(error), definitief=definitief)
            log.warning("registratie_mislukt", definitief=definitief, fout=_reason(error))
            raise
        await self.register.finish_registration(r.sleutel, uitkomst)
        log.info("registratie_gedaan", verzonden=uitkomst.verzonden, status=uitkomst.antwoord_status)
        return uitkomst

    @activity.defn(name="berichten")
    async def berichten(self, b: Bericht) -> None:
        """Render a notification and deliver it once, through the channel set for the role."""
        kanaal = self.settings.kanaal(b.rol)
        log = _activity_log().bind(sjabloon=b.sjabloon.value, rol=b.rol.value, kanaal=kanaal)
        onderwerp, tekst = render(b)
        if await self.register.claim_notification(b, kanaal, onderwerp):
            log.info("bericht_al_verzonden")
            return
        channel = self.channels.get(kanaal)
        try:
            if channel is None:
                raise ApplicationError(
                    f"Bericht '{b.sjabloon.value}' aan {b.rol.value}: kanaal {kanaal} is niet beschikbaar",
                    type=KANAAL_NIET_INGESTELD,
                    non_retryable=True,
                )
            await channel.deliver(b, await self._address(b), onderwerp, tekst)
        except Exception as error:
            definitief = isinstance(error, ApplicationError) and error.non_retryable
            await self.register.fail_notification(b.sleutel, _reason(error), definitief=definitief)
            log.warning("bericht_mislukt", definitief=definitief, fout=_reason(error))
            raise
        await self.register.finish_notification(b.sleutel)
        log.info("bericht_verzonden")

    @activity.defn(name="uitvoeren")
    async def uitvoeren(self, portie: Portie) -> list[str | None]:
        """Carry out a portion of effects for one receiver in order, each through its own activity's code, so each is
        done once by its key. A refusal for good of a call or message is that effect's outcome and the next goes on,
        as the next activity would; anything that may pass fails the portion, to be tried again. After each effect it
        heartbeats the outcomes so far: a lost worker is noticed as soon as with one effect, and a new attempt goes on
        from the outcomes the server has. What came after the last heartbeat the server has is known by its key: done
        is skipped (the claims), and refused for good is not sent again (its reason is read back)."""
        details = activity.info().heartbeat_details
        redenen: list[str | None] = list(details[0]) if details else []
        for effect in portie.effecten[len(redenen) :]:
            redenen.append(await self._carry_out_in_portion(effect))
            activity.heartbeat(list(redenen))
        return redenen

    async def _carry_out_in_portion(self, effect: Vastlegging | Registratie | Bericht) -> str | None:
        """One effect of a portion: None when done, the reason when it was refused for good (now or before)."""
        if activity.info().attempt > 1 and not isinstance(effect, Vastlegging):
            read = self.register.registration if isinstance(effect, Registratie) else self.register.notification
            if (row := await read(effect.sleutel)) is not None and row.status == "mislukt":
                return row.fout or ""
        try:
            if isinstance(effect, Vastlegging):
                await self.vastleggen(effect)
            elif isinstance(effect, Registratie):
                await self.registreren(effect)
            else:
                await self.berichten(effect)
        except ApplicationError as error:
            if isinstance(effect, Vastlegging) or not error.non_retryable:
                raise
            return error.message
        return None

    async def _address(self, b: Bericht) -> str | None:
        """Where a message goes. With ``adressering=personen``, a version-2 case's message goes to the person assigned
        to the role in this case, else to the role's address for the pupil's school, region or sector in the
        directory; parents through their school (the case keeps no parents' addresses, see docs/privacy.md). No
        address there is final: the message becomes a task for a person, it never falls back to a role-wide inbox."""
        if self.settings.adressering == "rol" or b.contract_versie < 2:
            return self.settings.adres(b.rol, b.regio.value)
        rol = Rol.SCHOOL if b.rol is Rol.OUDERS else b.rol
        found = await Directory(self.register.pool).address_for(
            rol.value,
            persoon_id=None if b.rol is Rol.OUDERS else b.ontvanger,
            school_brin=b.school_brin,
            regio=b.regio.value,
            sector=b.sector.value,
        )
        if found is None:
            waar = f"school {b.school_brin}" if b.school_brin else f"regio {b.regio.value} ({b.sector.value})"
            via = " (de ouders bereikt het systeem via de school)" if b.rol is Rol.OUDERS else ""
            raise ApplicationError(
                f"voor {waar if rol is Rol.SCHOOL else f'{ROL_NAMEN[rol.value]} van {waar}'} staat niemand in de "
                f"personenlijst{via}; vraag de beheerder "
                "een persoon of adres toe te voegen en breng het bericht intussen zelf over",
                type=GEEN_ADRES,
                non_retryable=True,
            )
        return found

    @activity.defn(name="huidig_beleid")
    async def huidig_beleid(self) -> Beleid:
        """The policy of this release, for a case started without one: recorded once in its history, so the case
        keeps it when a later release changes the defaults."""
        return DEFAULT_BELEID

    @activity.defn(name="verantwoordelijken")
    async def verantwoordelijken(self, vraag: Verantwoordelijken) -> dict[str, str]:
        """Per role, the person responsible for a new case, from the directory of people (``thuiszitters.people``)."""
        found = await Directory(self.register.pool).responsible_for(
            vraag.sector.value, vraag.regio.value, vraag.school_brin, uit_buitenland=vraag.uit_buitenland
        )
        _activity_log().info("verantwoordelijken_gevonden", rollen=sorted(found))
        return found
