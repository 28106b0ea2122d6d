"""The payload codec: what the Temporal server stores is ciphertext, and stays readable after rotation."""

from __future__ import annotations

import base64
import os

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter

from thuiszitters.settings import Settings, SettingsError
from thuiszitters.temporal.codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    failure_converter_class,
    generate_key,
    main,
)
from thuiszitters.temporal.converter import build_data_converter

PERSONAL = {"leerling_ref": "LL-0042", "geboortedatum": "2014-03-17", "reden": "angstklachten sinds de zomer"}


def key() -> bytes:
    return os.urandom(32)


def entry(key_id: str, raw: bytes) -> str:
    return f"{key_id}:{base64.b64encode(raw).decode()}"


async def to_payloads(value: object) -> list[Payload]:
    return pydantic_data_converter.payload_converter.to_payloads([value])


async def test_round_trip_restores_the_original_payload() -> None:
    codec = EncryptionCodec([("a", key())])
    original = await to_payloads(PERSONAL)

    encoded = await codec.encode(original)
    decoded = await codec.decode(encoded)

    assert decoded == original
    assert pydantic_data_converter.payload_converter.from_payloads(decoded, [dict])[0] == PERSONAL


async def test_encoded_payload_contains_no_plaintext() -> None:
    codec = EncryptionCodec([("a", key())])
    original = await to_payloads(PERSONAL)

    [encoded] = await codec.encode(original)
    stored = encoded.SerializeToString()

    assert encoded.metadata["encoding"] == ENCODING
    assert encoded.metadata[KEY_ID_METADATA] == b"a"
    for secret in (b"2014-03-17", b"angstklachten", b"LL-0042", b"geboortedatum", b"json/plain"):
        assert secret not in stored


async def test_same_payload_encrypts_differently_each_time() -> None:
    codec = EncryptionCodec([("a", key())])
    original = await to_payloads(PERSONAL)

    first, second = await codec.encode(original), await codec.encode(original)

    assert first[0].data != second[0].data


async def test_rotation_keeps_old_payloads_readable_and_encrypts_with_newest() -> None:
    key_a, key_b = key(), key()
    before = EncryptionCodec([("a", key_a)])
    old = await before.encode(await to_payloads(PERSONAL))

    after = EncryptionCodec([("a", key_a), ("b", key_b)])
    new = await after.encode(await to_payloads(PERSONAL))

    assert await after.decode(old) == await to_payloads(PERSONAL)
    assert new[0].metadata[KEY_ID_METADATA] == b"b"
    assert after.encrypt_key_id == "b"
    # The old deployment cannot read what the new key wrote: roll out the new key list everywhere first.
    with pytest.raises(ValueError, match="onbekende sleutel-id 'b'"):
        await before.decode(new)


async def test_unknown_key_id_is_a_clear_error() -> None:
    encoded = await EncryptionCodec([("x", key())]).encode(await to_payloads(PERSONAL))

    with pytest.raises(ValueError, match=r"onbekende sleutel-id 'x'.*sleutel die deze omgeving niet heeft"):
        await EncryptionCodec([("y", key())]).decode(encoded)


async def test_tampered_ciphertext_is_refused() -> None:
    codec = EncryptionCodec([("a", key())])
    [encoded] = await codec.encode(await to_payloads(PERSONAL))
    tampered_data = bytearray(encoded.data)
    tampered_data[20] ^= 0x01
    tampered = Payload(metadata=dict(encoded.metadata), data=bytes(tampered_data))

    with pytest.raises(ValueError, match="authenticatie-tag klopt niet"):
        await codec.decode([tampered])


async def test_relabelled_key_id_is_refused_even_when_that_key_exists() -> None:
    key_a = key()
    codec = EncryptionCodec([("a", key_a), ("b", key_a)])
    [encoded] = await codec.encode(await to_payloads(PERSONAL))
    relabelled = Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"a"}, data=encoded.data)

    with pytest.raises(ValueError, match="authenticatie-tag klopt niet"):
        await codec.decode([relabelled])


async def test_truncated_payload_is_refused() -> None:
    codec = EncryptionCodec([("a", key())])
    truncated = Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"a"}, data=b"kort")

    with pytest.raises(ValueError, match="te kort"):
        await codec.decode([truncated])


async def test_unencrypted_payloads_pass_through_decode() -> None:
    codec = EncryptionCodec([("a", key())])
    plain = await to_payloads(PERSONAL)

    assert await codec.decode(plain) == plain


def test_from_settings_with_encryption_on_and_no_keys_explains_both_ways_out() -> None:
    with pytest.raises(SettingsError) as raised:
        EncryptionCodec.from_settings(Settings(encryptie="aan"))

    message = str(raised.value)
    assert "THUISZITTERS_CODEC_KEYS" in message
    assert "THUISZITTERS_ENCRYPTIE=uit" in message
    assert "lokale ontwikkeling" in message


def test_encryption_is_on_unless_switched_off() -> None:
    with pytest.raises(SettingsError, match="THUISZITTERS_CODEC_KEYS"):
        build_data_converter(Settings.from_env({}))


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("a:dit-is-geen-base64!", "sleutel 'a': de sleutel is geen geldige base64"),
        (entry("a", os.urandom(16)), "sleutel 'a': de sleutel is 16 bytes"),
        ("zonder-dubbelepunt", "sleutel 1: verwacht 'id:base64'"),
        (f"{entry('a', os.urandom(32))},{entry('a', os.urandom(32))}", "'a' komt meer dan eens voor"),
        (entry("met spatie", os.urandom(32)), "sleutel 1: de id mag alleen"),
    ],
)
def test_from_settings_names_the_problem(value: str, fragment: str) -> None:
    with pytest.raises(SettingsError, match="THUISZITTERS_CODEC_KEYS") as raised:
        EncryptionCodec.from_settings(Settings(codec_keys=value))

    assert fragment in str(raised.value)


def test_settings_errors_do_not_echo_key_material() -> None:
    short = base64.b64encode(os.urandom(16)).decode()

    with pytest.raises(SettingsError) as raised:
        EncryptionCodec.from_settings(Settings(codec_keys=f"a:{short}"))

    assert short not in str(raised.value)


def test_from_settings_keeps_key_order_newest_last() -> None:
    codec = EncryptionCodec.from_settings(Settings(codec_keys=f" {entry('k1', key())} , {entry('k2', key())},"))

    assert codec.key_ids == ["k1", "k2"]
    assert codec.encrypt_key_id == "k2"


def test_explicit_off_builds_a_converter_without_codec() -> None:
    converter = build_data_converter(Settings.from_env({"THUISZITTERS_ENCRYPTIE": "uit"}))

    assert converter.payload_codec is None


async def test_converter_with_encryption_on_encrypts_values_and_failure_messages() -> None:
    converter = build_data_converter(Settings(codec_keys=entry("k1", key())))

    [payload] = await converter.encode([PERSONAL])
    failure = Failure()
    await converter.encode_failure(ValueError("geboortedatum 2014-03-17 ongeldig"), failure)

    assert payload.metadata["encoding"] == ENCODING
    assert b"2014-03-17" not in payload.SerializeToString()
    assert b"2014-03-17" not in failure.SerializeToString()
    assert failure.message == "Encoded failure"
    assert await converter.decode([payload], [dict]) == [PERSONAL]
    decoded = await converter.decode_failure(failure)
    assert "2014-03-17" in str(decoded)


def test_failure_converter_encodes_common_attributes() -> None:
    converter = failure_converter_class()()
    failure = Failure()

    converter.to_failure(ValueError("reden: ernstige klachten"), pydantic_data_converter.payload_converter, failure)

    assert "ernstige klachten" not in failure.message
    assert failure.HasField("encoded_attributes")


def test_generate_key_gives_a_fresh_32_byte_key() -> None:
    first, second = generate_key(), generate_key()

    assert len(base64.b64decode(first, validate=True)) == 32
    assert first != second


def test_new_key_cli_prints_an_entry_that_settings_accept(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-key", "--id", "k2026"]) == 0

    printed = capsys.readouterr().out.strip()
    assert printed.startswith("k2026:")
    assert EncryptionCodec.from_settings(Settings(codec_keys=printed)).encrypt_key_id == "k2026"
