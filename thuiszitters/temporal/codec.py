"""Payload encryption: every payload that leaves the worker or a client is AES-256-GCM encrypted.

Temporal stores workflow inputs, signals, results and failures in its history. For this project those hold
personal data of children (date of birth, reasons, reports), so the Temporal server and anyone who can read
its database must see only ciphertext. The codec encrypts the whole serialized payload (metadata included, so
even the encoding of the original value is hidden) and labels the result with the id of the key that encrypted
it.

Key rotation while cases run: ``THUISZITTERS_CODEC_KEYS`` holds ``id:base64`` entries separated by commas,
oldest first. The newest (last) key encrypts; every listed key decrypts. Add a new key at the end, roll out,
and remove an old key only once no open case or retained history still needs it.

``python -m thuiszitters.temporal.codec new-key [--id ID]`` prints a fresh entry.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DefaultFailureConverter,
    EncodingPayloadConverter,
    FailureConverter,
    PayloadCodec,
    PayloadConverter,
)

from thuiszitters.settings import SettingsError

if TYPE_CHECKING:
    from thuiszitters.settings import Settings

ENCODING = b"binary/encrypted"
"""Value of the ``encoding`` metadata of an encrypted payload."""
KEY_ID_METADATA = "encryption-key-id"
"""Metadata entry that names the key an encrypted payload was encrypted with."""
KEY_SIZE = 32
"""AES-256: keys are exactly 32 bytes."""
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
UNDECRYPTABLE_ENCODING = b"binary/niet-te-ontsleutelen"
"""Encoding of what :class:`EncryptionCodec` returns for a payload it cannot decrypt, when asked to mark it."""
UNDECRYPTABLE_REASON_METADATA = "reden"


class DecryptionError(ValueError):
    """An encrypted payload cannot be decrypted; the message says why, never returns garbage."""


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM payload codec with key rotation: the last key encrypts, all keys decrypt.

    The key id is bound to the ciphertext as associated data, so a payload relabelled with another key id
    fails authentication instead of being decrypted under the wrong label.
    """

    def __init__(self, keys: Sequence[tuple[str, bytes]], *, mark_undecryptable: bool = False) -> None:
        """``mark_undecryptable``: a payload that cannot be decrypted is not an error of the decode call but becomes
        a marked payload that :class:`ProtectedPayloadConverter` refuses with the same :class:`DecryptionError`
        once a value is read from it. A worker needs this: Temporal decodes a whole workflow activation at once, so
        one signal encrypted with an unknown key (or tampered with) would otherwise fail every workflow task of the
        case; marked, the SDK drops that signal or rejects that update, and everything else goes on."""
        if not keys:
            raise ValueError("er is minstens één sleutel nodig om payloads te versleutelen")
        ciphers: dict[str, AESGCM] = {}
        for key_id, key in keys:
            _check_key_id(key_id)
            if len(key) != KEY_SIZE:
                raise ValueError(f"sleutel '{key_id}' is {len(key)} bytes; AES-256 vraagt precies {KEY_SIZE} bytes")
            if key_id in ciphers:
                raise ValueError(f"sleutel-id '{key_id}' komt meer dan eens voor; elke sleutel-id moet uniek zijn")
            ciphers[key_id] = AESGCM(key)
        self._ciphers = ciphers
        self._encrypt_key_id = keys[-1][0]
        self._mark_undecryptable = mark_undecryptable

    @property
    def encrypt_key_id(self) -> str:
        """The id of the key new payloads are encrypted with (the newest)."""
        return self._encrypt_key_id

    @property
    def key_ids(self) -> list[str]:
        """Ids of every key this codec can decrypt with, oldest first."""
        return list(self._ciphers)

    @classmethod
    def from_settings(cls, settings: Settings, *, mark_undecryptable: bool = False) -> EncryptionCodec:
        """Build the codec from ``THUISZITTERS_CODEC_KEYS``; a missing or malformed key is refused by name."""
        if not settings.codec_keys or not settings.codec_keys.strip():
            if settings.encryptie == "aan":
                raise SettingsError(
                    "THUISZITTERS_ENCRYPTIE staat aan (de standaard), maar THUISZITTERS_CODEC_KEYS is leeg: "
                    "zonder sleutel worden gegevens van leerlingen niet versleuteld opgeslagen. Zet "
                    "THUISZITTERS_CODEC_KEYS op 'id:base64' (maak er een met "
                    "'python -m thuiszitters.temporal.codec new-key'), of zet alleen voor lokale ontwikkeling "
                    "zonder echte gegevens THUISZITTERS_ENCRYPTIE=uit."
                )
            raise SettingsError(
                "THUISZITTERS_ENCRYPTIE staat uit en THUISZITTERS_CODEC_KEYS is leeg: er is geen sleutel "
                "om een codec mee te bouwen"
            )
        return cls(parse_keys(settings.codec_keys), mark_undecryptable=mark_undecryptable)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decode_one(payload) for payload in payloads]

    def _decode_one(self, payload: Payload) -> Payload:
        try:
            return self._decrypt(payload)
        except DecryptionError as error:
            if not self._mark_undecryptable:
                raise
            return Payload(
                metadata={"encoding": UNDECRYPTABLE_ENCODING, UNDECRYPTABLE_REASON_METADATA: str(error).encode()}
            )

    def _encrypt(self, payload: Payload) -> Payload:
        key_id = self._encrypt_key_id
        nonce = os.urandom(NONCE_SIZE)
        ciphertext = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
            data=nonce + ciphertext,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        raw_key_id = payload.metadata.get(KEY_ID_METADATA)
        if not raw_key_id:
            raise DecryptionError(
                f"versleutelde payload zonder '{KEY_ID_METADATA}': niet bekend met welke sleutel hij is versleuteld"
            )
        key_id = raw_key_id.decode(errors="replace")
        if not KEY_ID_PATTERN.fullmatch(key_id):  # never echo what a sender put there: it may be anything, any size
            raise DecryptionError(
                "versleutelde payload met een onleesbare sleutel-id (verwacht letters, cijfers, '.', '_' of '-', "
                "1 tot 64 tekens)"
            )
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError(
                f"onbekende sleutel-id '{key_id}': deze payload is versleuteld met een sleutel die deze "
                f"omgeving niet heeft (bekend: {', '.join(self._ciphers)}); voeg die sleutel toe aan "
                "THUISZITTERS_CODEC_KEYS"
            )
        if len(payload.data) < NONCE_SIZE + TAG_SIZE:
            raise DecryptionError(
                f"versleutelde payload (sleutel-id '{key_id}') is te kort om geldig te zijn: afgekapt of beschadigd"
            )
        nonce, ciphertext = payload.data[:NONCE_SIZE], payload.data[NONCE_SIZE:]
        try:
            plaintext = cipher.decrypt(nonce, ciphertext, key_id.encode())
        except InvalidTag as error:
            raise DecryptionError(
                f"versleutelde payload (sleutel-id '{key_id}') is niet te ontsleutelen: de authenticatie-tag "
                "klopt niet. De gegevens zijn gewijzigd of beschadigd, of de sleutel onder deze id is niet "
                "dezelfde als waarmee versleuteld is."
            ) from error
        try:
            return Payload.FromString(plaintext)
        except DecodeError as error:
            raise DecryptionError(
                f"ontsleutelde payload (sleutel-id '{key_id}') is geen geldige Temporal-payload"
            ) from error


class UndecryptablePayloadConverter(EncodingPayloadConverter):
    """Reads a payload marked by ``EncryptionCodec(mark_undecryptable=True)``: always the codec's DecryptionError."""

    @property
    def encoding(self) -> str:
        return UNDECRYPTABLE_ENCODING.decode()

    def to_payload(self, value: Any) -> Payload | None:
        return None  # never writes: the marker only comes from decoding

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        reason = payload.metadata.get(UNDECRYPTABLE_REASON_METADATA, b"").decode(errors="replace")
        raise DecryptionError(reason or "versleutelde payload is niet te ontsleutelen")


class ProtectedPayloadConverter(CompositePayloadConverter):
    """The pydantic JSON payload converter, plus :class:`UndecryptablePayloadConverter` for marked payloads."""

    def __init__(self) -> None:
        super().__init__(*PydanticPayloadConverter().converters.values(), UndecryptablePayloadConverter())


class EncryptedFailureConverter(DefaultFailureConverter):
    """Failure converter that moves failure messages and stack traces into the encoded (encrypted) attributes.

    Without this, an exception message such as a validation error quoting a date of birth would be stored in
    the history in plain text.
    """

    def __init__(self) -> None:
        super().__init__(encode_common_attributes=True)


def payload_converter_class() -> type[PayloadConverter]:
    """The payload converter to use together with ``EncryptionCodec(mark_undecryptable=True)``."""
    return ProtectedPayloadConverter


def failure_converter_class() -> type[FailureConverter]:
    """The failure converter to use together with :class:`EncryptionCodec`."""
    return EncryptedFailureConverter


def parse_keys(value: str) -> list[tuple[str, bytes]]:
    """Parse ``'id:base64,id2:base64'`` (oldest first); errors name the entry but never echo key material."""
    keys: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for position, entry in enumerate(_entries(value), start=1):
        key_id, separator, encoded = entry.partition(":")
        key_id, encoded = key_id.strip(), encoded.strip()
        if not separator or not key_id or not encoded:
            raise SettingsError(
                f"THUISZITTERS_CODEC_KEYS, sleutel {position}: verwacht 'id:base64', "
                "bijvoorbeeld 'k2025:<44 tekens base64>'"
            )
        if not KEY_ID_PATTERN.match(key_id):
            raise SettingsError(
                f"THUISZITTERS_CODEC_KEYS, sleutel {position}: de id mag alleen letters, cijfers, "
                "'.', '_' en '-' bevatten (1 tot 64 tekens)"
            )
        if key_id in seen:
            raise SettingsError(f"THUISZITTERS_CODEC_KEYS: sleutel-id '{key_id}' komt meer dan eens voor")
        seen.add(key_id)
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise SettingsError(
                f"THUISZITTERS_CODEC_KEYS, sleutel '{key_id}': de sleutel is geen geldige base64"
            ) from error
        if len(key) != KEY_SIZE:
            raise SettingsError(
                f"THUISZITTERS_CODEC_KEYS, sleutel '{key_id}': de sleutel is {len(key)} bytes, "
                f"AES-256 vraagt precies {KEY_SIZE} bytes "
                "(maak er een met 'python -m thuiszitters.temporal.codec new-key')"
            )
        keys.append((key_id, key))
    if not keys:
        raise SettingsError("THUISZITTERS_CODEC_KEYS bevat geen sleutels")
    return keys


def generate_key() -> str:
    """A fresh random AES-256 key, base64-encoded."""
    return base64.b64encode(AESGCM.generate_key(bit_length=KEY_SIZE * 8)).decode()


def _entries(value: str) -> Iterable[str]:
    return (entry.strip() for entry in value.split(",") if entry.strip())


def _check_key_id(key_id: str) -> None:
    if not KEY_ID_PATTERN.match(key_id):
        raise ValueError(
            f"sleutel-id {key_id!r} is ongeldig: alleen letters, cijfers, '.', '_' en '-' (1 tot 64 tekens)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m thuiszitters.temporal.codec",
        description="Sleutelbeheer voor de versleuteling van Temporal-payloads.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    new_key = commands.add_parser(
        "new-key",
        help="maak een nieuwe sleutel als 'id:base64'",
        description=(
            "Drukt een nieuwe sleutel af als 'id:base64'. Zet hem ACHTERAAN in THUISZITTERS_CODEC_KEYS "
            "(de laatste sleutel versleutelt, alle sleutels ontsleutelen) en bewaar hem als geheim."
        ),
    )
    new_key.add_argument(
        "--id", dest="key_id", default=None, help="sleutel-id (standaard: k plus de datum van vandaag, UTC)"
    )
    arguments = parser.parse_args(argv)
    key_id = arguments.key_id or "k" + datetime.now(UTC).strftime("%Y%m%d")
    if not KEY_ID_PATTERN.match(key_id):
        parser.error("de id mag alleen letters, cijfers, '.', '_' en '-' bevatten (1 tot 64 tekens)")
    sys.stdout.write(f"{key_id}:{generate_key()}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
