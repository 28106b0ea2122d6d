"""The rules of the thuiszitters procedure, as pure functions over one case state: this module is their one face.

Nothing under ``workflows/`` does I/O or reads a clock: every function takes the moment it should reason about
(``now``), so the workflow can call them deterministically and tests can drive them without a Temporal server.
The workflow wires these rules to signals, updates, timers and activities; they decide:

- may this event happen now (:func:`check`), and what follows from it (:func:`apply`) — :mod:`workflows.events`;
- which terms lie ahead and when they fall (:func:`terms`) — :mod:`workflows.terms` — and what a term does when it
  passes (:func:`fire_due_terms`) — :mod:`workflows.firing`;
- which tasks are open for which role (:func:`open_tasks`) — :mod:`workflows.tasks`;
- what the case looks like from outside (:func:`status`) — :mod:`workflows.views`.

Effects (registration calls, notifications, register lines) are not carried out here: they are queued in
``CaseState.openstaand`` (:mod:`workflows.outbox`) with an idempotency key derived from the case and the event, and
the workflow takes them (:func:`take_effects`) and runs them as activities.
"""

from __future__ import annotations

from workflows.events import (
    apply,
    assign,
    check,
    describe_validation_error,
    fingerprint,
    is_duplicate,
    open_case,
    parse,
    receive,
    refuse,
    register_failure,
    responsible_question,
)
from workflows.firing import fire_due_terms
from workflows.outbox import (
    addressed_again,
    fits_in,
    in_queue_order,
    json_size,
    next_batch,
    next_portions,
    take_effects,
)
from workflows.state import MAX_AFGEWEZEN, MAX_TIJDLIJN, SYSTEEM, AndereSchool, CaseState, Weigering, weeks_at_home
from workflows.tasks import open_tasks
from workflows.terms import Termijn, Termijnsoort, moment_of, next_term, terms, zorgplicht_deadline
from workflows.views import details_markdown, static_summary, status

__all__ = [
    "MAX_AFGEWEZEN",
    "MAX_TIJDLIJN",
    "SYSTEEM",
    "AndereSchool",
    "CaseState",
    "Termijn",
    "Termijnsoort",
    "Weigering",
    "addressed_again",
    "apply",
    "assign",
    "check",
    "describe_validation_error",
    "details_markdown",
    "fingerprint",
    "fire_due_terms",
    "fits_in",
    "in_queue_order",
    "is_duplicate",
    "json_size",
    "moment_of",
    "next_batch",
    "next_portions",
    "next_term",
    "open_case",
    "open_tasks",
    "parse",
    "receive",
    "refuse",
    "register_failure",
    "responsible_question",
    "static_summary",
    "status",
    "take_effects",
    "terms",
    "weeks_at_home",
    "zorgplicht_deadline",
]
