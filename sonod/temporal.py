"""Connecting to Temporal, local or remote (TLS, API key), with sonod's data converter."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client, TLSConfig
from temporalio.common import SearchAttributeKey
from temporalio.runtime import Runtime

from sonod.codec import data_converter
from sonod.settings import Settings


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    tls: TLSConfig | bool = settings.temporal_tls or bool(settings.temporal_api_key)
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        tls = TLSConfig(client_cert=settings.temporal_tls_cert.read_bytes(),
                        client_private_key=settings.temporal_tls_key.read_bytes())
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, api_key=settings.temporal_api_key,
        tls=tls, data_converter=data_converter(settings), runtime=runtime,
    )


async def ensure_search_attributes(client: Client, keys: Sequence[SearchAttributeKey]) -> list[str]:
    """Register these search attributes in the namespace when missing; returns the names added."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace))
    have = set(existing.custom_attributes) | set(existing.system_attributes)
    missing = {k.name: IndexedValueType.ValueType(k.indexed_value_type) for k in keys if k.name not in have}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing))
    return sorted(missing)
