"""The schemathesis hooks of the contract test (:mod:`tests.thuiszitters.api.test_contract`), loaded by the
schemathesis command through ``SCHEMATHESIS_HOOKS``: every generated call carries a real access token of one demo
client, fetched from the live token endpoint (``CONTRACT_API_URL``, ``CONTRACT_CLIENT_ID``, ``CONTRACT_CLIENT_SECRET``)
and fetched again when the API answers 401; pupil references and Idempotency-Keys are steered towards calls that
reach a case (:func:`before_call`)."""

from __future__ import annotations

import itertools
import os
import re
from typing import Any

import requests
import schemathesis
from schemathesis import AuthContext, Case, HookContext

from thuiszitters.api.idempotentie import KEY
from workflows.contract import LEERLING_REF_PATTERN

TOKEN_PATH = "/v1/token"
KEY_HEADER = "Idempotency-Key"
LEERLING_REF = re.compile(LEERLING_REF_PATTERN)


@schemathesis.auth().skip_for(path=TOKEN_PATH)
class ClientCredentials:
    """OAuth2 client credentials of the demo client the test names, as a bearer token."""

    def get(self, case: Case[Any], context: AuthContext) -> str:
        response = requests.post(
            f"{os.environ['CONTRACT_API_URL']}{TOKEN_PATH}",
            data={
                "grant_type": "client_credentials",
                "client_id": os.environ["CONTRACT_CLIENT_ID"],
                "client_secret": os.environ["CONTRACT_CLIENT_SECRET"],
            },
            timeout=10,
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def set(self, case: Case[Any], data: str, context: AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


_calls = itertools.count(1)


@schemathesis.hook
def before_call(context: HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
    """Before each call, in every phase: half of the well-formed pupil references become one of the seeded cases
    (``CONTRACT_REFS``), so that reads and events reach a case workflow and not only "not found"; and two of every
    three well-formed Idempotency-Keys become a key of their own, since keys drawn from a small alphabet are mostly
    one used before for another request (422, rightly). What is not replaced stays in the run: unknown pupils,
    replays and refused reuse, and every malformed value."""
    number = next(_calls)
    refs = os.environ["CONTRACT_REFS"].split(",")
    path_parameters: dict[str, Any] = dict(case.path_parameters or {})
    ref = path_parameters.get("leerling_ref")
    if isinstance(ref, str) and LEERLING_REF.match(ref) and number % 2:
        case.path_parameters = {**path_parameters, "leerling_ref": refs[number // 2 % len(refs)]}
    key = case.headers.get(KEY_HEADER)
    if isinstance(key, str) and KEY.match(key) and number % 3:
        case.headers[KEY_HEADER] = f"contract-{number}"
