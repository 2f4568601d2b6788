"""Temporal payloads leave sonod's processes sealed (AES-256-GCM), each for one application, and come back in
only if sonod sealed them.

- No NID or name is stored in plaintext in Temporal's history.
- A payload sealed for one workflow is bound to its id (the SDK's serialization context): the id travels in the
  payload's metadata and in the cipher's associated data, so a sealed approval copied into another application's
  update does not open there.
- Whatever sonod did not seal (a `json/plain` start or update sent straight to Temporal's frontend or Web UI, a
  payload bound to another workflow, a tampered one) is handed to the SDK as a payload of the encoding
  `binary/refused`, which no converter reads: the update is rejected, the start's workflow task fails, and nothing
  reaches the workflow. The codec server (`decode`, for operators reading histories) raises instead.

Each payload names the key that sealed it; old keys stay readable after rotation.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
)

from sonod.settings import Settings

ENCODING = b"binary/encrypted"
REFUSED = b"binary/refused"
KEY_ID = "encryption-key-id"
BOUND_TO = "sonod-workflow-id"


class Unsealed(ValueError):
    """A payload that sonod did not seal for this workflow."""


class PiiCodec(PayloadCodec, WithSerializationContext):
    def __init__(self, key_id: str, keys: dict[str, bytes], workflow_id: str | None = None) -> None:
        self.key_id = key_id
        self.ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self.workflow_id = workflow_id

    @classmethod
    def from_settings(cls, settings: Settings) -> PiiCodec:
        keys = {kid: base64.b64decode(k) for kid, k in settings.payload_old_keys.items()}
        keys[settings.payload_key_id] = base64.b64decode(settings.payload_key)
        return cls(settings.payload_key_id, keys)

    def with_context(self, context: SerializationContext) -> PiiCodec:
        bound = copy.copy(self)
        bound.workflow_id = getattr(context, "workflow_id", None)
        return bound

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """For the SDK: what sonod did not seal for this workflow becomes a payload no converter reads."""
        out = []
        for payload in payloads:
            try:
                out.append(self.decrypt(payload))
            except Unsealed as refused:
                out.append(Payload(metadata={"encoding": REFUSED, "reason": str(refused).encode()}))
        return out

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(12)
        bound = self.workflow_id or ""
        sealed = self.ciphers[self.key_id].encrypt(nonce, payload.SerializeToString(), aad(self.key_id, bound))
        metadata = {"encoding": ENCODING, KEY_ID: self.key_id.encode()}
        if bound:
            metadata[BOUND_TO] = bound.encode()
        return Payload(metadata=metadata, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        """The payload sonod sealed; `Unsealed` for anything else. Outside a workflow's context (the codec server)
        any sealed payload opens, whichever workflow it is bound to."""
        if payload.metadata.get("encoding") != ENCODING:
            raise Unsealed("not sealed by sonod")
        kid = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        bound = payload.metadata.get(BOUND_TO, b"").decode(errors="replace")
        if self.workflow_id is not None and bound != self.workflow_id:
            raise Unsealed("sealed for another workflow" if bound else "sealed for no workflow")
        cipher = self.ciphers.get(kid)
        if cipher is None:
            raise Unsealed(f"sealed with an unknown key id {kid!r}")
        inner = Payload()
        try:
            inner.ParseFromString(cipher.decrypt(payload.data[:12], payload.data[12:], aad(kid, bound)))
        except InvalidTag:
            raise Unsealed("the seal does not match: tampered, or bound to another workflow") from None
        return inner


def aad(key_id: str, workflow_id: str) -> bytes:
    """Sealed payloads from before the binding carried the key id alone; they open only where no workflow asks."""
    return key_id.encode() + (b"\x00" + workflow_id.encode() if workflow_id else b"")


def data_converter(settings: Settings) -> DataConverter:
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=PiiCodec.from_settings(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
