"""Temporal payloads leave the process encrypted (AES-256-GCM), so no NID or name is stored in plaintext.

Each payload names the key that sealed it; old keys stay readable after rotation.
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from sonod.settings import Settings

ENCODING = b"binary/encrypted"


class PiiCodec(PayloadCodec):
    def __init__(self, key_id: str, keys: dict[str, bytes]) -> None:
        self.key_id = key_id
        self.ciphers = {kid: AESGCM(key) for kid, key in keys.items()}

    @classmethod
    def from_settings(cls, settings: Settings) -> "PiiCodec":
        keys = {kid: base64.b64decode(k) for kid, k in settings.payload_old_keys.items()}
        keys[settings.payload_key_id] = base64.b64decode(settings.payload_key)
        return cls(settings.payload_key_id, keys)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(12)
        sealed = self.ciphers[self.key_id].encrypt(nonce, payload.SerializeToString(), self.key_id.encode())
        return Payload(metadata={"encoding": ENCODING, "encryption-key-id": self.key_id.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        kid = payload.metadata["encryption-key-id"].decode()
        cipher = self.ciphers.get(kid)
        if cipher is None:
            raise ValueError(f"payload sealed with unknown key id {kid!r}")
        inner = Payload()
        inner.ParseFromString(cipher.decrypt(payload.data[:12], payload.data[12:], kid.encode()))
        return inner


def data_converter(settings: Settings) -> DataConverter:
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=PiiCodec.from_settings(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


