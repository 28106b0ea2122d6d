"""The one data converter of the project: pydantic JSON, encrypted by the payload codec when encryption is on.

The worker, the intake script, the CLI, the tests and the replayer all build their converter here, so a payload
written by one can always be read by the others.
"""

from __future__ import annotations

import dataclasses

import structlog
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from thuiszitters.settings import Settings


def build_data_converter(settings: Settings) -> DataConverter:
    """Pydantic JSON payloads; with ``encryptie=aan`` every payload and failure is encrypted (AES-GCM)."""
    if settings.encryptie == "uit":
        structlog.get_logger("thuiszitters.temporal.converter").warning(
            "encryptie staat UIT (THUISZITTERS_ENCRYPTIE=uit): payloads worden onversleuteld opgeslagen; "
            "alleen voor lokale ontwikkeling"
        )
        return pydantic_data_converter
    from thuiszitters.temporal.codec import EncryptionCodec, failure_converter_class, payload_converter_class

    # A payload this deployment cannot decrypt (a sender with another key, a forgery) is marked instead of failing
    # the whole decode: Temporal decodes a workflow activation at once, so one such signal would otherwise fail
    # every workflow task of the case. Reading a value from the mark raises the codec's DecryptionError.
    codec = EncryptionCodec.from_settings(settings, mark_undecryptable=True)
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        payload_converter_class=payload_converter_class(),
        failure_converter_class=failure_converter_class(),
    )
