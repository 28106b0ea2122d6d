"""Who may send which event (CONTRACT.md version 2, "Who acted"): the permission table, enforced by the rules.

The web application and the API check the same table before an event reaches a case (and set ``door`` from the
logged-in person); the rules check it again, so a service that sends events itself cannot claim another role.
"""

from __future__ import annotations

from workflows.contract import Door, Gebeurtenis, Opschalen, Route, Sector, TaakAfgerond, Vrijstelling

_D = Door

PERMISSIONS: dict[str, dict[str, tuple[Door, ...]]] = {
    # event: {sector or "*": roles}
    "melding": {"PO": (_D.SCHOOL, _D.SCP), "VO": (_D.SCHOOL, _D.KOERSLOKET)},
    "oudergesprek": {"PO": (_D.SCHOOL, _D.SCP), "VO": (_D.SCHOOL, _D.KOERSLOKET)},
    "wachtlijst": {"PO": (_D.SCHOOL, _D.SCP), "VO": (_D.SCHOOL, _D.KOERSLOKET)},
    "leerplicht_registratie": {"*": (_D.LEERPLICHT, _D.LEERPLICHT_ABSOLUUT_VERZUIM)},
    "startdatum_correctie": {"*": (_D.LEERPLICHT, _D.LEERPLICHT_ABSOLUUT_VERZUIM)},
    "plan_van_aanpak": {"*": (_D.SCHOOL,)},
    "zorgplicht_verlengd": {"*": (_D.SCHOOL,)},
    "uitschrijving": {"*": (_D.SCHOOL,)},
    "route": {"PO": (_D.SCHOOL, _D.SCP), "VO": (_D.SCHOOL, _D.KOERSLOKET)},
    "aanmelding_andere_school": {"*": (_D.SCHOOL, _D.OUDERS)},
    "voortgang": {"*": tuple(Door)},
    "document_toegevoegd": {"*": tuple(Door)},
    "beoordeling": {"PO": (_D.SCP, _D.COORDINATOR), "VO": (_D.KOERSLOKET,)},
    "huisbezoek": {"*": (_D.TASKFORCE,)},
    "taskforce_besluit": {"*": (_D.TASKFORCE,)},
    "leerplicht_interventie": {"*": (_D.LEERPLICHT,)},
    "passende_plek": {"*": (_D.SCHOOL, _D.SCP, _D.KOERSLOKET, _D.WIJKTEAM, _D.TASKFORCE)},
    "afronden": {"PO": (_D.SCP,), "VO": (_D.KOERSLOKET,)},
    "toewijzen": {"*": (_D.SCHOOL, _D.SCP, _D.KOERSLOKET, _D.LEERPLICHT, _D.COORDINATOR)},
    "gegevens_wijzigen": {"*": (_D.SCHOOL, _D.SCP, _D.KOERSLOKET, _D.LEERPLICHT, _D.COORDINATOR)},
    "intrekken": {"*": (_D.SCHOOL, _D.SCP, _D.KOERSLOKET, _D.LEERPLICHT, _D.COORDINATOR)},
}
"""The table of CONTRACT.md version 2 where it depends on the event and sector alone; the rows that depend on the
payload (``opschalen``, ``route`` 3.4, ``vrijstelling``, ``afronden`` for a pupil from abroad, ``taak_afgerond``)
are decided in :func:`allowed_roles`."""

ESCALATION_ROLES: dict[tuple[str, str], tuple[Door, ...]] = {
    ("coordinator", "PO"): (_D.SCHOOL, _D.SCP),
    ("coordinator", "VO"): (),
    ("taskforce", "PO"): (_D.COORDINATOR,),
    ("taskforce", "VO"): (_D.KOERSLOKET,),
}


def allowed_roles(
    name: str, event: Gebeurtenis, *, sector: Sector, uit_buitenland: bool, task_role: str | None = None
) -> tuple[Door, ...]:
    """The roles that may send ``event`` in a case of ``sector``; ``task_role`` is the role of the task that a
    ``taak_afgerond`` names (None when the case has no such open task)."""
    if isinstance(event, Opschalen):
        return ESCALATION_ROLES[(event.niveau, sector.value)]
    if isinstance(event, Vrijstelling):
        if event.status == "aangevraagd":
            return (_D.OUDERS, _D.LEERPLICHT)
        return (_D.LEERPLICHT,)
    if isinstance(event, TaakAfgerond):
        return tuple(door for door in Door if door.value == task_role)
    if name == "afronden" and uit_buitenland:
        return (_D.LEERPLICHT_ABSOLUUT_VERZUIM,)
    rows = PERMISSIONS[name]
    roles = rows.get(sector.value, rows.get("*", ()))
    if isinstance(event, Route) and event.route == "3.4":
        roles = (*roles, _D.WIJKTEAM)
    return roles
