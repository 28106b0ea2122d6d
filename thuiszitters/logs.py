"""Structured logging for every process of the project, with personal data kept out of the logs.

``configure_logging(settings)`` is called once at the start of a process (worker, codec server, tools). It
sends both structlog and standard-library records (Temporal's SDK, aiohttp, asyncpg) through one chain: JSON
lines when ``THUISZITTERS_LOG_FORMAT=json``, a readable console format otherwise.

The last step before rendering removes personal data that reached a log call anyway: values of fields whose
name is a personal field (``geboortedatum``, ``reden``, ...), numbers that pass the BSN eleven-test, and the
``input_value`` that validation errors quote. Context such as ``workflow_id`` and ``run_id`` is merged from
:mod:`structlog.contextvars`, so callers bind it with ``structlog.contextvars.bound_contextvars(...)``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

import structlog
from pydantic import BaseModel
from structlog.typing import EventDict, Processor, WrappedLogger

from thuiszitters.settings import SettingsError

if TYPE_CHECKING:
    from thuiszitters.settings import Settings

REDACTED = "[verwijderd]"

PERSONAL_KEYS = frozenset(
    {
        "geboortedatum",
        "naam",
        "voornaam",
        "achternaam",
        "bsn",
        "adres",
        "email",
        "telefoon",
        "toelichting",
        "samenvatting",
        "besluit",
        "reden",
        "startdatum",
        "gegevens",
        "tekst",
        "body",
    }
)
"""A field is personal when its name, or a ``_``/``-``/``.``-separated part of its name, is listed here."""

SAFE_KEYS = frozenset({"fase_naam"})
"""Field names that contain a personal word but hold no personal data."""

_KEY_PARTS = re.compile(r"[_.\-]")
_NINE_DIGITS = re.compile(r"(?<![0-9A-Za-z])[0-9]{9}(?![0-9A-Za-z])")
_PYDANTIC_INPUT = re.compile(r"input_value=.*?(?=, input_type=)")
_MAX_DEPTH = 8
_STRUCTLOG_META = frozenset({"_record", "_from_structlog"})


def is_bsn(digits: str) -> bool:
    """True when ``digits`` is nine digits that pass the BSN eleven-test (``000000000`` excepted)."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    total = sum(int(digit) * weight for digit, weight in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def is_personal_key(key: str) -> bool:
    lowered = key.lower()
    if lowered in SAFE_KEYS:
        return False
    return lowered in PERSONAL_KEYS or any(part in PERSONAL_KEYS for part in _KEY_PARTS.split(lowered))


def redact_text(text: str) -> str:
    """Remove BSN-like numbers and quoted validation input from free text."""
    text = _NINE_DIGITS.sub(lambda match: REDACTED if is_bsn(match.group()) else match.group(), text)
    if "input_value=" in text:
        text = _PYDANTIC_INPUT.sub(f"input_value={REDACTED}", text)
    return text


def redact_value(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` with personal fields and BSNs replaced; models and dataclasses taken apart."""
    if depth > _MAX_DEPTH:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return REDACTED if is_bsn(str(value)) else value
    if isinstance(value, BaseModel):
        return redact_value(value.model_dump(mode="json"), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return redact_value(dataclasses.asdict(value), depth + 1)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and is_personal_key(key) else redact_value(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item, depth + 1) for item in value]
    return value


def redact_personal_data(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: values of personal fields and anything that is a BSN become '[verwijderd]'."""
    for key, value in list(event_dict.items()):
        if key in _STRUCTLOG_META:
            continue
        event_dict[key] = REDACTED if is_personal_key(key) else redact_value(value)
    return event_dict


def _level(settings: Settings) -> int:
    name = settings.log_level.strip().upper()
    level = logging.getLevelNamesMapping().get(name)
    if level is None:
        raise SettingsError(
            f"THUISZITTERS_LOG_LEVEL: onbekend niveau '{settings.log_level}'; "
            "kies debug, info, warning, error of critical"
        )
    return level


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Route structlog and standard logging through one redacting chain; calling again replaces it."""
    level = _level(settings)
    output = sys.stderr if stream is None else stream
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor
    if settings.log_format == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False, default=str)
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=output.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.StackInfoRenderer(),
            # Tracebacks become text before redaction, so exception messages are scrubbed too.
            structlog.processors.format_exc_info,
            redact_personal_data,
            renderer,
        ],
    )
    handler = logging.StreamHandler(output)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A structlog logger; its output follows :func:`configure_logging`."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
