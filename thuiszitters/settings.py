"""Settings of the worker, the tools and the codec server, read from the environment in one place.

Every variable, its meaning and its default are listed once, in the settings table of ``docs/operations.md``; a test
holds that table and the fields below together. In short:

- ``Settings.from_env()`` is the one reader: ``THUISZITTERS_<FIELD>`` per field (``DATABASE_URL`` without the
  prefix), the per-system, per-role and per-region variables (``THUISZITTERS_<SYSTEEM>_URL``,
  ``THUISZITTERS_KANAAL_<ROL>``, ``THUISZITTERS_ADRES_<ROL>[_<REGIO>]``), with a Dutch :class:`SettingsError`
  naming the variable for every bad value. ``Settings(...)`` itself takes only the values it is given, never the
  process environment, so code and tests that build one get exactly what they wrote.
- Secrets (marked :data:`Secret`) may also come from a file: ``<VARIABLE>_FILE`` names it, or a file called
  ``<VARIABLE>`` in ``THUISZITTERS_SECRETS_DIR`` (for example ``/run/secrets``). Each secret comes from one place;
  two at once is refused, as is a file that cannot be read or is empty.
- Every yes/no setting takes the same words, in any case: ``ja``/``nee``, ``aan``/``uit``, ``true``/``false``,
  ``yes``/``no``, ``1``/``0``.
- A ``THUISZITTERS_*`` variable that is not a setting is warned about by name (:class:`SettingsWarning`), not
  refused: docker compose and the test suite use the prefix for variables of their own.

Temporal's own connection settings (address, namespace, TLS, API key, profiles) are not here: they come from
``temporalio.envconfig`` (``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, ``TEMPORAL_PROFILE``, ``temporal.toml``), see
:func:`thuiszitters.temporal.client.connect`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from workflows.contract import Rol
from workflows.effects import Systeem

PREFIX: Final = "THUISZITTERS_"
DEFAULT_TASK_QUEUE = "thuiszitters"
DEFAULT_MAX_CACHED_WORKFLOWS = 4_000
DEFAULT_PERIOD_DAYS = 730
"""The retention period (bewaartermijn) of closed cases in the register: two years."""
DEFAULT_WEBHOOK_BRON = "urn:nld:gemeente-rotterdam.thuiszitters"
"""The CloudEvents ``source`` of the webhooks: a URN in the ``nld`` namespace (NL GOV profile for CloudEvents); with
the municipality's OIN it becomes ``urn:nld:oin:<OIN>:systeem:thuiszitters``."""

NOT_SETTINGS: Final = frozenset(
    {
        "THUISZITTERS_IMAGE_TAG",  # docker compose: the image tag
        "THUISZITTERS_CODEC_PUBLIC_URL",  # docker compose: the codec server's address as the browser sees it
        "THUISZITTERS_FUZZ_SCALE",  # the test suite: how deep the fuzz tests go
    }
)
"""Variables with our prefix that belong to others, so they are not warned about."""

Kanaal = Literal["log", "smtp", "webhook"]


class SettingsError(ValueError):
    """A setting in the environment is missing or wrong; the message names the variable, in Dutch."""


class SettingsWarning(UserWarning):
    """A ``THUISZITTERS_*`` variable that no setting reads (a typo, or a setting that no longer exists)."""


# ----------------------------------------------------------------------------------------------- the vocabulary

YES: Final = ("ja", "aan", "true", "yes", "1")
NO: Final = ("nee", "uit", "false", "no", "0")
YES_NO_WORDS: Final = "ja/nee, aan/uit, true/false, yes/no, 1/0"


def yes_no(value: object) -> bool:
    """The one reading of a yes/no setting: Dutch or English, any case; anything else is refused."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, str | int) else None
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValueError(f"moet ja of nee zijn (een van {YES_NO_WORDS})")


def _on_off(value: object) -> str:
    return value if value in ("aan", "uit") else ("aan" if yes_no(value) else "uit")


YesNo = Annotated[bool, BeforeValidator(yes_no)]
"""A yes/no setting."""
OnOff = Annotated[Literal["aan", "uit"], BeforeValidator(_on_off)]
"""A yes/no setting kept as ``"aan"``/``"uit"`` for the code that reads it that way."""


class _SecretMarker:
    def __repr__(self) -> str:
        return "secret"


SECRET: Final = _SecretMarker()
Secret = Annotated[str | None, Field(repr=False), SECRET]
"""A setting that may also come from a file (``<VARIABLE>_FILE`` or the secrets directory); never in a repr."""


def is_secret(field: FieldInfo) -> bool:
    return SECRET in field.metadata


# -------------------------------------------------------------------------------------------------- the model


class Endpoint(BaseModel):
    """Where an outside system takes its registration calls (JSON over HTTP)."""

    model_config = ConfigDict(frozen=True)

    url: str
    token: Secret = None
    # Below the activity's start-to-close timeout (30 s), so an attempt ends by our hand, never by Temporal's.
    timeout_seconds: float = Field(default=10.0, gt=0, le=20)


ENDPOINT_VARIABLES: Final = {"url": "URL", "token": "TOKEN", "timeout_seconds": "TIMEOUT"}
"""The variable of each endpoint field: ``THUISZITTERS_<SYSTEEM>_<suffix>``."""


class Settings(BaseSettings):
    """Everything the worker, the tools and the codec server are told from outside; see ``docs/operations.md``.

    Field ``x`` is variable ``THUISZITTERS_X`` unless it has an alias (``DATABASE_URL``); ``endpoints``,
    ``kanalen`` and ``adressen`` come from one variable per system, role or region (:data:`GROUP_VARIABLES`)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, populate_by_name=True, extra="forbid")

    # The case register and the task queue.
    database_url: Secret = Field(default=None, alias="DATABASE_URL")
    database_pool_max: int = Field(default=10, ge=1, le=200)
    task_queue: str = DEFAULT_TASK_QUEUE
    # The worker creates or updates the Temporal Schedules of the recurring work at start (retention, weekly report;
    # thuiszitters.temporal.schedules); off for a worker that must leave them alone.
    schedules: OnOff = "aan"
    # Logs and metrics.
    log_format: Literal["console", "json"] = "console"
    log_level: str = "info"  # checked by thuiszitters.logs, which knows the level names
    metrics_address: str | None = None
    # How much one worker takes on at once (docs/performance.md); None: the SDK's default.
    max_cached_workflows: int = Field(default=DEFAULT_MAX_CACHED_WORKFLOWS, ge=1)
    max_concurrent_workflow_tasks: int | None = Field(default=None, ge=1)
    max_concurrent_activities: int | None = Field(default=None, ge=1)
    workflow_task_polls: int | None = Field(default=None, ge=2)
    # Payload encryption (see thuiszitters.temporal.codec): keys as 'id:base64', newest last, or explicitly off.
    encryptie: OnOff = "aan"
    codec_keys: Secret = None
    # The codec server.
    codec_server_token: Secret = None
    codec_server_cors_origin: str = "http://localhost:8233"
    codec_server_host: str = "127.0.0.1"
    codec_server_port: int = Field(default=8081, ge=1, le=65535)
    # The codec server's OpenID check (behind the hardened Web UI): on when an issuer is set; the static token then
    # no longer opens it. Roles: comma-separated values of the token's 'rol'/'roles' claim that may decode.
    codec_server_oidc_issuer: str | None = None
    codec_server_oidc_audience: str = "urn:thuiszitters:codec"
    codec_server_oidc_rollen: str = "coordinator,taskforce"
    # The web application (thuiszitters-web; docs/people.md, "Login"): where it listens, its session cookie (signed
    # with the secret; Secure unless switched off for local development over http) and how people log in: through
    # the OpenID provider (issuer, client), and with a local account of the case register when switched on.
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8000, ge=1, le=65535)
    web_public_url: str | None = None
    web_session_secret: Secret = None
    web_session_max_age: int = Field(default=8 * 60 * 60, ge=300, le=7 * 24 * 60 * 60)
    web_https_only: YesNo = True
    web_oidc_issuer: str | None = None
    web_oidc_client_id: str = "thuiszitters-web"
    web_oidc_client_secret: Secret = None
    web_lokale_accounts: YesNo = False
    # The API for other services (thuiszitters.api; docs/api.md): the secret that signs the access tokens of its own
    # token endpoint (none: it gives out no tokens, only the OpenID provider's are accepted), how long those last, and
    # the OpenID provider whose access tokens for this audience it accepts.
    api_token_secret: Secret = None
    api_token_ttl: int = Field(default=300, ge=60, le=3600)
    api_oidc_issuer: str | None = None
    api_oidc_audience: str = "urn:thuiszitters:api"
    # Who runs the command line (thuiszitters.tools.cli) when --persoon is not given: their persoon_id in the
    # directory of people, whose role the authorisation policy checks and the audit log records.
    persoon: str | None = None
    # Outside systems; a system without an endpoint gets a register entry marked 'niet verzonden'.
    endpoints: dict[Systeem, Endpoint] = Field(default_factory=dict)
    # Notifications: a channel per role, and the address of each role (per region for the coordinator).
    kanalen: dict[Rol, Kanaal] = Field(default_factory=dict)
    adressen: dict[str, str] = Field(default_factory=dict)
    # 'personen': a message of a version-2 case goes to the person assigned to the role, else to the role's address
    # for that school, region or sector in the directory of people (thuiszitters.people), never to a role-wide
    # inbox; parents are reached through their school. 'rol': the addresses above (version-1 cases always).
    adressering: Literal["rol", "personen"] = "rol"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_afzender: str = "thuiszitters@localhost"
    smtp_user: str | None = None
    smtp_password: Secret = None
    smtp_starttls: YesNo = False
    # The webhook channel: a CloudEvent per message (references only), signed per Standard Webhooks with the secret
    # ('whsec_' and base64 of 24 to 64 random bytes); the source names this system (a URN, NL GOV CloudEvents).
    webhook_url: str | None = None
    webhook_token: Secret = None
    webhook_secret: Secret = None
    webhook_bron: str = DEFAULT_WEBHOOK_BRON
    # Retention of closed cases in the register (thuiszitters.tools.retention).
    bewaartermijn_dagen: int = Field(default=DEFAULT_PERIOD_DAYS, ge=1)
    # Where secrets may lie as files, one per variable (for example /run/secrets).
    secrets_dir: Path | None = None

    def kanaal(self, rol: Rol) -> Kanaal:
        return self.kanalen.get(rol, "log")

    def adres(self, rol: Rol, regio: str | None = None) -> str | None:
        if regio is not None and (specifiek := self.adressen.get(f"{rol.value}_{regio.lower()}")):
            return specifiek
        return self.adressen.get(rol.value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values given: the environment is read by :meth:`from_env`, through :class:`EnvironmentSource`,
        so that it can read a given mapping (the tests', a child process's) as well as the process's own."""
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: the process environment).

        A bad value raises a :class:`SettingsError` naming its variable; an unknown ``THUISZITTERS_*`` variable
        gives a :class:`SettingsWarning`."""
        source = EnvironmentSource(cls, os.environ if env is None else env)
        values = source()
        if unknown := source.unknown():
            warnings.warn(
                f"onbekende instelling{'en' if len(unknown) > 1 else ''} genegeerd: {', '.join(unknown)} "
                "(zie de tabel met instellingen in docs/operations.md)",
                SettingsWarning,
                stacklevel=2,
            )
        try:
            return cls(**values)
        except ValidationError as error:
            raise SettingsError("; ".join(_describe(details) for details in error.errors())) from None

    @classmethod
    def variable(cls, field_name: str) -> str:
        """The environment variable of a field that has one variable of its own."""
        alias = cls.model_fields[field_name].alias
        return alias if alias else PREFIX + field_name.upper()

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Every variable (a pattern such as ``THUISZITTERS_<SYSTEEM>_URL`` for a group), to its field."""
        found: dict[str, str] = {}
        for name in cls.model_fields:
            for variable in GROUP_VARIABLES.get(name) or (cls.variable(name),):
                found[variable] = name
        return found

    @classmethod
    def secret_variables(cls) -> frozenset[str]:
        """The variables that may also come from a file."""
        return frozenset(
            {cls.variable(name) for name, field in cls.model_fields.items() if is_secret(field)}
            | {
                _endpoint_variable("<SYSTEEM>", name)
                for name, field in Endpoint.model_fields.items()
                if is_secret(field)
            }
        )


def _endpoint_variable(systeem: str, field_name: str) -> str:
    return f"{PREFIX}{systeem.upper()}_{ENDPOINT_VARIABLES[field_name]}"


GROUP_VARIABLES: Final[Mapping[str, Sequence[str]]] = {
    "endpoints": [_endpoint_variable("<SYSTEEM>", name) for name in Endpoint.model_fields],
    "kanalen": [f"{PREFIX}KANAAL_<ROL>"],
    "adressen": [f"{PREFIX}ADRES_<ROL>[_<REGIO>]"],
}
"""The fields set by one variable per system, role or region, with the pattern of their variables."""


# ------------------------------------------------------------------------------------------------- the reader


class EnvironmentSource(PydanticBaseSettingsSource):
    """The settings in one mapping of environment variables, with secrets also from files.

    It notes every variable it looks at, so that whatever else carries the prefix can be named as unknown."""

    def __init__(self, settings_cls: type[Settings], environment: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.settings = settings_cls
        self.environment = environment
        self.seen: set[str] = set()
        directory = self._plain(settings_cls.variable("secrets_dir"))
        self.secrets_dir = Path(directory) if directory else None
        if self.secrets_dir is not None and not self.secrets_dir.is_dir():
            raise SettingsError(
                f"{settings_cls.variable('secrets_dir')}: '{directory}' "
                f"{'is geen map' if self.secrets_dir.exists() else 'bestaat niet'}"
            )

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        variable = self.settings.variable(field_name)
        return (self._secret(variable) if is_secret(field) else self._plain(variable)), field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings.model_fields.items():
            if name not in GROUP_VARIABLES and (value := self.get_field_value(field, name)[0]) is not None:
                values[name] = value
        values["endpoints"] = self._endpoints()
        values["kanalen"] = {
            rol.value: value for rol in Rol if (value := self._plain(f"{PREFIX}KANAAL_{rol.value.upper()}"))
        }
        values["adressen"] = self._adressen()
        return values

    def unknown(self) -> list[str]:
        """The ``THUISZITTERS_*`` variables no setting reads (after the source has been called)."""
        return sorted(
            name for name in self.environment if name.startswith(PREFIX) and name not in self.seen | NOT_SETTINGS
        )

    def _plain(self, variable: str) -> str | None:
        """The variable's value, stripped; empty counts as not set (compose passes ``${X:-}`` as empty)."""
        self.seen.add(variable)
        value = self.environment.get(variable, "").strip()
        return value or None

    def _secret(self, variable: str) -> str | None:
        """The value from the variable, from the file ``<VARIABLE>_FILE`` names, or from the secrets directory."""
        value = self._plain(variable)
        named = self._plain(f"{variable}_FILE")
        in_directory = self.secrets_dir / variable if self.secrets_dir is not None else None
        if in_directory is not None and not (in_directory.is_symlink() or in_directory.exists()):
            in_directory = None
        places = {
            variable: value,
            f"{variable}_FILE": named,
            f"{self.settings.variable('secrets_dir')} ({in_directory})": in_directory,
        }
        if len(set_in := [where for where, what in places.items() if what is not None]) > 1:
            raise SettingsError(
                f"{variable} is op meer dan één plaats gezet ({' en '.join(set_in)}); zet een geheim op één plaats"
            )
        if named is not None:
            return _read_secret(Path(named), f"{variable}_FILE: bestand '{named}'")
        if in_directory is not None:
            return _read_secret(in_directory, f"{variable}: bestand '{in_directory}'")
        return value

    def _endpoints(self) -> dict[str, dict[str, str]]:
        endpoints: dict[str, dict[str, str]] = {}
        for systeem in Systeem:
            endpoint = {
                name: value
                for name, field in Endpoint.model_fields.items()
                if (value := (self._secret if is_secret(field) else self._plain)(_endpoint_variable(systeem, name)))
            }
            if "url" in endpoint:  # a token or a timeout alone sets up nothing
                endpoints[systeem.value] = endpoint
        return endpoints

    def _adressen(self) -> dict[str, str]:
        adressen: dict[str, str] = {}
        prefix = f"{PREFIX}ADRES_"
        for variable in self.environment:
            key = variable.removeprefix(prefix).lower()
            if not variable.startswith(prefix) or not any(key == rol or key.startswith(f"{rol}_") for rol in Rol):
                continue
            if value := self._plain(variable):
                adressen[key] = value
        return adressen


def _read_secret(path: Path, what: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SettingsError(f"{what} bestaat niet") from None
    except IsADirectoryError:
        raise SettingsError(f"{what} is een map, geen bestand") from None
    except PermissionError:
        raise SettingsError(f"{what} is niet te lezen: geen leesrechten") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{what} is geen tekst (UTF-8)") from None
    except OSError as error:
        raise SettingsError(f"{what} is niet te lezen ({type(error).__name__})") from None
    if not value:
        raise SettingsError(f"{what} is leeg")
    return value


# ----------------------------------------------------------------------------------------------- the messages


def _describe(details: ErrorDetails) -> str:
    """One validation error in Dutch, named by its variable; the value is shown unless it is a secret."""
    variable, secret = _variable_at(details["loc"])
    value = details.get("input")
    shown = f", niet '{value}'" if isinstance(value, str | int | float) and not secret else ""
    return f"{variable}: {_reason(details)}{shown}"


def _variable_at(loc: tuple[int | str, ...]) -> tuple[str, bool]:
    head = str(loc[0])
    fields = Settings.model_fields
    name = next((name for name, field in fields.items() if head in (name, field.alias)), head)
    if name == "endpoints" and len(loc) == 3 and str(loc[2]) in ENDPOINT_VARIABLES:
        return _endpoint_variable(str(loc[1]), str(loc[2])), is_secret(Endpoint.model_fields[str(loc[2])])
    if name == "kanalen" and len(loc) >= 2:
        return f"{PREFIX}KANAAL_{str(loc[1]).upper()}", False
    if name == "adressen" and len(loc) >= 2:
        return f"{PREFIX}ADRES_{str(loc[1]).upper()}", False
    if name in fields and name not in GROUP_VARIABLES:
        return Settings.variable(name), is_secret(fields[name])
    return f"instelling {'.'.join(str(part) for part in loc)}", True


def _reason(details: ErrorDetails) -> str:
    kind = details["type"]
    context = details.get("ctx") or {}
    if kind == "value_error":
        return str(context.get("error", details["msg"]))
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "moet een geheel getal zijn"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return "moet een getal zijn"
    if kind == "greater_than_equal":
        return f"moet {_number(context['ge'])} of meer zijn"
    if kind == "greater_than":
        return f"moet meer dan {_number(context['gt'])} zijn"
    if kind == "less_than_equal":
        return f"mag hoogstens {_number(context['le'])} zijn"
    if kind == "less_than":
        return f"moet minder dan {_number(context['lt'])} zijn"
    if kind in ("literal_error", "enum"):
        return f"moet {str(context['expected']).replace(' or ', ' of ')} zijn"
    return f"ongeldige waarde ({details['msg']})"


def _number(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
