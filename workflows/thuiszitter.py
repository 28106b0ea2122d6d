"""``ThuiszitterWorkflow``: one durable case per pupil, from melding to closure.

The workflow is the process and nothing else. What an event may do, which terms lie ahead and which tasks are
open is decided by :mod:`workflows.rules`; this class wires those rules to Temporal:

- every contract event is a signal and an update of the same name, received by one dynamic signal handler and one
  dynamic update handler that take the raw payload; the signal never fails (a refusal lands in
  ``status.afgewezen``), the update's validator refuses with a Dutch message;
- one durable timer at a time waits for the next term (or the next week boundary, to keep ``WekenThuis`` current);
- the effects an event or term queues are handed over to the workflow's own queue at once (so no event copies a
  backlog), and run in batches (at most ``PORTIE_BATCH``), one activity per receiver carrying that receiver's
  effects in their order (so nobody hears of a later step first), the receivers side by side, each effect keyed for
  exactly-once delivery; the activities are called by reference to their declarations in
  :mod:`workflows.activities`;
- search attributes and current details show the case in the Web UI without personal data, computed once per
  activation however many events it carried;
- the history is kept small by continuing as new with the whole state when Temporal suggests it, or after
  ``CONTINUE_AS_NEW_AFTER_EVENTS`` events, at a quiet moment; effects still waiting go along once they fit in
  ``PORTIE_BATCH_BYTES`` (what continue-as-new carries must stay far below the payload limit).
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import activities, rules
    from workflows import search_attributes as sa
    from workflows.calendar import amsterdam_date, amsterdam_moment
    from workflows.contract import CONTRACT_VERSIE, EVENTS, WORKFLOW_TYPE, Aanmelding, CaseStatus
    from workflows.effects import Bericht, Effect, Portie, Registratie, Vastlegging
    from workflows.rules import CaseState

ACTIVITY_TIMEOUT = timedelta(seconds=30)
CONTINUE_AS_NEW_AFTER_EVENTS = 1_000
PATCH_BELEID_VASTLEGGEN = "beleid-vastleggen"
PATCH_EFFECTEN_TEGELIJK = "effecten-tegelijk"
PATCH_EFFECTEN_IN_PORTIES = "effecten-in-porties"
PATCH_CONTRACT_V2 = "contract-v2"
"""New cases follow contract version 2 (CONTRACT.md); a case whose history began without this marker keeps
version 1 for its whole life, carried in its state through continue-as-new."""
PATCH_TOEWIJZEN_BIJ_START = "toewijzen-bij-start"
"""A new case of version 2 asks the directory of people who is responsible for it before its first messages go
out; cases that started before this marker were not assigned at the start."""
EFFECT_BATCH = 64
"""Effects scheduled at once (``effecten-in-porties``). A burst of events can queue thousands; scheduled all at once
they would make one workflow task of tens of megabytes, over the server's limit for a completion."""
PATCH_EFFECTEN_GEBUNDELD = "effecten-gebundeld"
"""Effects to one receiver go out together, in order, in one activity (``uitvoeren``) instead of one activity each
round after round: a burst costs a few activities per workflow task, and its events far fewer in the history."""
PORTIE_BATCH = 128
"""Effects carried out at once with ``effecten-gebundeld``, in one portion per receiver."""
PORTIE_MAX = 32
"""Effects in one portion: one activity, so this many calls to one slow partner in a row at most."""
PORTIE_BATCH_BYTES = 256_000
"""Bytes of JSON of the effects carried out at once (the first always goes, whatever its size), and of those a
continue-as-new carries along with the state, with ``effecten-gebundeld``: what one workflow task hands the server
stays far below the payload limit (2 MB) and mostly below the SDK's warning limit (512 KB), so each write of the case
in the server stays short (a register line carries the dossier when it changed). Counted without fields at their
default (``rules.json_size``): a field added with a default later does not move where a batch is cut."""
CONTINUE_AS_NEW_MAX_PENDING_BYTES = 1_000_000
"""Waiting effects go along with continue-as-new up to this size in JSON (``effecten-in-porties``; with
``effecten-gebundeld`` up to ``PORTIE_BATCH_BYTES``): the new run's input stays well below
Temporal's payload limit (2 MB). With more waiting, the case first carries out another batch."""
QUIET_BEFORE_CONTINUING = timedelta(seconds=1)
"""A case continues as new only once no event has come in for this long. Temporal refuses a continue-as-new while
events wait that the run has not seen (the workflow task fails and is tried again), so during a burst the case
waits for its end, unless the history has become very long (``CONTINUE_AS_NEW_FORCED_AT``)."""
CONTINUE_AS_NEW_FORCED_AT = 10 * CONTINUE_AS_NEW_AFTER_EVENTS
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=0,  # keep trying: a message is never lost to an outage
)
REFUSAL_TYPE = "Afgewezen"
_M = TypeVar("_M", bound=BaseModel)


def _payload_of(name: str, args: Sequence[RawValue]) -> Any:
    """The one payload of an event as a JSON value, or a refusal: the SDK hands over raw payloads, so nothing a
    sender puts in (several arguments, no JSON, a payload under a key this deployment lacks) fails a task."""
    if name not in EVENTS:
        return None  # the rules refuse the unknown event by its (shortened) name
    if len(args) > 1:
        raise rules.Weigering(f"{name}: de inhoud moet één JSON-object zijn")
    if not args:
        return None
    try:
        return workflow.payload_converter().from_payload(args[0].payload)
    except Exception:
        raise rules.Weigering(
            f"{name}: de inhoud is niet te lezen (geen JSON, of versleuteld met een sleutel die de zaak niet kent)"
        ) from None


@workflow.defn(name=WORKFLOW_TYPE)
class ThuiszitterWorkflow:
    @workflow.init
    def __init__(self, aanmelding: Aanmelding, voortzetting: CaseState | None = None) -> None:
        # The SDK only applies type hints when the number of arguments matches them: a fresh start carries one
        # argument (the contract's Aanmelding), a continued run two. So the arguments are validated here, which
        # also turns a malformed start input into a clear failure of the case instead of a retried task.
        aanmelding = _validated(Aanmelding, aanmelding, "aanmelding")
        self._pending: deque[Effect] = deque()
        self._state: CaseState
        if voortzetting is not None:
            self._take(_validated(CaseState, voortzetting, "voortzetting"))
        else:
            if aanmelding.startdatum > amsterdam_date(workflow.now()):
                raise ApplicationError(
                    "aanmelding: veld 'startdatum' ligt in de toekomst",
                    type="OngeldigeAanmelding",
                    non_retryable=True,
                )
            info = workflow.info()
            try:
                opened = rules.open_case(
                    aanmelding,
                    case_id=f"{info.workflow_id}:{info.first_execution_run_id}",
                    workflow_id=info.workflow_id,
                    now=workflow.now(),
                    versie=CONTRACT_VERSIE if workflow.patched(PATCH_CONTRACT_V2) else 1,
                )
            except rules.Weigering as refusal:
                raise ApplicationError(refusal.reden, type="OngeldigeAanmelding", non_retryable=True) from None
            self._take(opened)
        self._changed = False
        self._last_event = workflow.now()
        self._published: dict[str, Any] = {}
        self._escalatie_counted = self._state.escalatie
        if voortzetting is None:
            _count("thuiszitters_zaken_gestart", "Zaken gestart", sector=aanmelding.sector.value)

    @workflow.run
    async def run(self, aanmelding: Aanmelding, voortzetting: CaseState | None = None) -> CaseStatus:
        aanmelding = self._state.aanmelding  # the argument itself may arrive untyped (see __init__)
        if voortzetting is None and aanmelding.beleid is None and workflow.patched(PATCH_BELEID_VASTLEGGEN):
            # Started without a policy: take this release's policy once, recorded in the history.
            beleid = await workflow.execute_local_activity(
                activities.huidig_beleid, start_to_close_timeout=timedelta(seconds=10)
            )
            self._state = self._state.model_copy(update={"beleid": beleid})
        if voortzetting is None and self._state.versie >= 2 and workflow.patched(PATCH_TOEWIJZEN_BIJ_START):
            await self._assign_at_start()
        while True:
            self._take(rules.fire_due_terms(self._state, workflow.now()))
            await self._carry_out_effects()
            self._publish()
            if self._state.escalatie is not self._escalatie_counted:
                self._escalatie_counted = self._state.escalatie
                _count("thuiszitters_zaken_opgeschaald", "Zaken opgeschaald", niveau=self._state.escalatie.value)
            if self._state.afgesloten and not self._pending:
                uitkomst = self._state.uitkomst.value if self._state.uitkomst else "onbekend"
                _count("thuiszitters_zaken_afgesloten", "Zaken afgesloten", uitkomst=uitkomst)
                workflow.logger.info("zaak afgesloten", extra={"uitkomst": uitkomst})
                return rules.status(self._state, workflow.now())
            if self._changed:
                self._changed = False
                continue
            quiet_at: datetime | None = None
            if self._history_is_long() and workflow.all_handlers_finished():
                if not workflow.patched(PATCH_EFFECTEN_IN_PORTIES) or self._may_continue_as_new_now():
                    self._continue_as_new()
                quiet_at = self._last_event + QUIET_BEFORE_CONTINUING
            wake, summary = self._next_wake()
            if quiet_at is not None and quiet_at < wake:
                wake, summary = quiet_at, "rustig moment om als nieuwe run verder te gaan"
            with contextlib.suppress(asyncio.TimeoutError):  # the term has come: the loop fires it
                await workflow.wait_condition(
                    lambda: self._changed,
                    timeout=max(wake - workflow.now(), timedelta(seconds=1)),
                    timeout_summary=summary,
                )

    # Every event is a signal and an update of the same name (CONTRACT.md). They are dynamic handlers, so that the
    # SDK passes the raw payloads on whatever was sent: unknown names, several arguments or unreadable payloads are
    # refused by the rules like any other bad event, never a failed workflow task.
    @workflow.signal(dynamic=True, description="Een gebeurtenis uit CONTRACT.md (fire-and-forget).")
    def event_signal(self, name: str, args: Sequence[RawValue]) -> None:
        try:
            payload = _payload_of(name, args)
        except rules.Weigering as refusal:
            self._take(rules.refuse(self._state, name, refusal.reden, workflow.now()))
        else:
            self._take(rules.receive(self._state, name, payload, workflow.now()))
        self._changed = True
        self._last_event = workflow.now()

    @workflow.update(dynamic=True, description="Een gebeurtenis uit CONTRACT.md; geeft de nieuwe status terug.")
    def event_update(self, name: str, args: Sequence[RawValue]) -> CaseStatus:
        try:
            event = rules.parse(name, _payload_of(name, args), self._state.versie)
            self._take(rules.apply(self._state, name, event, workflow.now()))
        except rules.Weigering as refusal:  # only if the state moved between validator and handler
            raise ApplicationError(refusal.reden, type=REFUSAL_TYPE, non_retryable=True) from None
        self._changed = True
        self._last_event = workflow.now()
        return rules.status(self._state, workflow.now())

    @event_update.validator
    def validate_event(self, name: str, args: Sequence[RawValue]) -> None:
        try:
            event = rules.parse(name, _payload_of(name, args), self._state.versie)
            rules.check(self._state, name, event, workflow.now())
        except rules.Weigering as refusal:
            raise ApplicationError(refusal.reden, type=REFUSAL_TYPE, non_retryable=True) from None

    @workflow.query(name="status", description="De stand van de zaak (zie CONTRACT.md).")
    def status(self) -> CaseStatus:
        return rules.status(self._state, workflow.now())

    @staticmethod
    def _history_is_long() -> bool:
        """Temporal's suggestion, or our own bound: a short history replays fast and stays far from the limits."""
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() >= CONTINUE_AS_NEW_AFTER_EVENTS

    def _may_continue_as_new_now(self) -> bool:
        """No event for a moment (see ``QUIET_BEFORE_CONTINUING``), or a history too long to wait any longer."""
        if workflow.now() - self._last_event >= QUIET_BEFORE_CONTINUING:
            return True
        return workflow.info().get_current_history_length() >= CONTINUE_AS_NEW_FORCED_AT

    def _next_wake(self) -> tuple[datetime, str]:
        """The next term, or the next week boundary when that comes first (to keep WekenThuis current)."""
        now = workflow.now()
        weeks = rules.weeks_at_home(self._state, now)
        boundary = amsterdam_moment(self._state.startdatum + timedelta(weeks=weeks + 1), 0)
        termijn = rules.next_term(self._state)
        if termijn is not None and (moment := rules.moment_of(self._state, termijn)) <= boundary:
            return moment, f"termijn: {termijn.omschrijving} ({termijn.op.isoformat()})"
        return boundary, f"week {weeks + 1} thuis"

    async def _assign_at_start(self) -> None:
        """The people responsible for the case, from the directory; the messages queued at the melding then go to
        them (``ontvanger``) rather than to their role's address."""
        found = await workflow.execute_activity(
            activities.verantwoordelijken,
            rules.responsible_question(self._state),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary="personenlijst: wie is verantwoordelijk",
        )
        self._take(rules.assign(self._state, found, workflow.now()))
        self._pending = deque(rules.addressed_again(self._state, effect) for effect in self._pending)

    def _take(self, state: CaseState) -> None:
        """Make ``state`` the case's state and move the effects it queued to the workflow's own queue."""
        self._pending.extend(rules.take_effects(state))
        self._state = state

    def _continue_as_new(self) -> None:
        """A new run with the whole state, the effects still waiting included."""
        carried = self._state.model_copy(update={"openstaand": list(self._pending)})
        workflow.continue_as_new(args=[self._state.aanmelding, carried])

    async def _carry_out_effects(self) -> None:
        """Run the queued effects; a call refused for good becomes a task for a person.

        The effects queued by events or terms are each keyed on their own. The oldest run at once, grouped per
        receiver (``next_portions``): one activity per outside system, per role and for the register, each carrying
        its effects in their order, side by side with the others, so nobody hears of a later step first. Refusals are
        applied afterwards in queue order, so the tasks they create are numbered the same on every replay. Between
        batches, a history grown long continues as new with what is still waiting. Histories from before these
        changes run one activity per effect in batches (``next_batch``), or one by one, or all that wait at once."""
        while self._pending:
            if not workflow.patched(PATCH_EFFECTEN_TEGELIJK):
                effect = self._pending[0]
                reden = await self._carry_out(effect)
                self._settle(effect, reden)
                continue
            in_porties = workflow.patched(PATCH_EFFECTEN_IN_PORTIES)
            gebundeld = in_porties and workflow.patched(PATCH_EFFECTEN_GEBUNDELD)
            if gebundeld:
                portions = rules.next_portions(self._pending, PORTIE_BATCH, PORTIE_MAX, PORTIE_BATCH_BYTES)
                outcomes = await asyncio.gather(*(self._carry_out_portion(portion) for portion in portions))
                for reden in rules.in_queue_order(self._pending, portions, outcomes):
                    self._settle(self._pending[0], reden)
            else:
                batch = rules.next_batch(self._pending, EFFECT_BATCH) if in_porties else list(self._pending)
                redenen = await asyncio.gather(*(self._carry_out(effect) for effect in batch))
                for effect, reden in zip(batch, redenen, strict=True):
                    self._settle(effect, reden)
            if (
                in_porties
                and self._pending
                and self._history_is_long()
                and workflow.all_handlers_finished()
                and self._may_continue_as_new_now()
                and (
                    rules.fits_in(self._pending, PORTIE_BATCH_BYTES, rules.json_size)
                    if gebundeld
                    else rules.fits_in(self._pending, CONTINUE_AS_NEW_MAX_PENDING_BYTES)
                )
            ):
                self._continue_as_new()

    async def _carry_out(self, effect: Vastlegging | Registratie | Bericht) -> str | None:
        """One effect as its activity: None when done, the reason when the outside system refused it for good."""
        try:
            if isinstance(effect, Vastlegging):
                workflow.logger.info(
                    "gebeurtenis vastgelegd",
                    extra={"gebeurtenis": effect.gebeurtenis, "fase": effect.fase, "volgnummer": effect.volgnummer},
                )
                await workflow.execute_activity(
                    activities.vastleggen,
                    effect,
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=ACTIVITY_RETRY,
                    summary=f"register: {effect.gebeurtenis}",
                )
            elif isinstance(effect, Registratie):
                await workflow.execute_activity(
                    activities.registreren,
                    effect,
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=ACTIVITY_RETRY,
                    summary=effect.samenvatting,
                )
            else:
                await workflow.execute_activity(
                    activities.berichten,
                    effect,
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=ACTIVITY_RETRY,
                    summary=effect.samenvatting,
                )
        except ActivityError as error:
            if isinstance(effect, Vastlegging):
                raise  # the register is ours: it does not refuse, it is retried until it answers
            return _reason(error)
        return None

    async def _carry_out_portion(self, portion: list[Effect]) -> list[str | None]:
        """A portion for one receiver: a single effect as its own activity (as every case did before), more in one
        ``uitvoeren`` in their order. The outcome of each, as :meth:`_carry_out` gives it. The activity refuses
        nothing as a whole (a refusal for good is one effect's outcome, and everything else is tried again), so its
        failure, a cancellation, goes up as the register's does. An attempt may take a minute, whatever the portion's
        length: one that takes longer is tried again and goes on where it was, and an attempt cut off from the server
        stops by then."""
        if len(portion) == 1:
            return [await self._carry_out(portion[0])]
        if isinstance(first := portion[0], Vastlegging) and isinstance(last := portion[-1], Vastlegging):
            workflow.logger.info(
                "gebeurtenissen vastgelegd",
                extra={"aantal": len(portion), "volgnummer_van": first.volgnummer, "volgnummer_tot": last.volgnummer},
            )
        portie = Portie(effecten=portion)
        return await workflow.execute_activity(
            activities.uitvoeren,
            portie,
            start_to_close_timeout=2 * ACTIVITY_TIMEOUT,
            heartbeat_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary=portie.samenvatting,
        )

    def _settle(self, effect: Vastlegging | Registratie | Bericht, reden: str | None) -> None:
        """The effect at the head of the queue is done (or refused, which becomes a task for a person)."""
        if reden is not None and not isinstance(effect, Vastlegging):
            self._take(rules.register_failure(self._state, effect, reden, workflow.now()))
        settled = self._pending.popleft()
        assert settled is effect  # effects are settled oldest first; new ones only join at the end

    def _publish(self) -> None:
        """Search attributes (only when they change) and the current details for the Web UI."""
        now = workflow.now()
        state = self._state
        values: dict[str, Any] = {
            sa.FASE.name: state.fase,
            sa.REGIO.name: state.aanmelding.regio.value,
            sa.SECTOR.name: state.aanmelding.sector.value,
            sa.REGIEHOUDER.name: state.regiehouder.value,
            sa.ESCALATIE.name: state.escalatie.value,
            sa.WEKEN_THUIS.name: rules.weeks_at_home(state, now),
            sa.ROUTE.name: state.route or "geen",
            sa.AFGESLOTEN.name: state.afgesloten,
        }
        changed = [key for key in sa.ALL_KEYS if self._published.get(key.name) != values[key.name]]
        if changed:
            updates: list[Any] = [key.value_set(values[key.name]) for key in changed]
            workflow.upsert_search_attributes(updates)
            self._published = values
        workflow.set_current_details(rules.details_markdown(state, now))


def _count(name: str, description: str, **attributes: str) -> None:
    """A counter on the worker's metrics endpoint; Temporal's meter skips it during replay."""
    workflow.metric_meter().create_counter(name, description).add(1, attributes)


def _validated(model: type[_M], value: Any, what: str) -> _M:
    if isinstance(value, model):
        return value
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise ApplicationError(
            f"{what}: {rules.describe_validation_error(error)}",
            type="OngeldigeAanmelding",
            non_retryable=True,
        ) from None


def _reason(error: ActivityError) -> str:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or error)
