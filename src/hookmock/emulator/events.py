"""The events the control API fires: its overrides, checked against the provider's event set, and
the "Endpoint" of a mod.io history entry."""

from __future__ import annotations

from typing import Any

from .errors import ApiError

__all__ = ["check_faithful", "endpoint", "flat_overrides"]

#: The fields (flat override keys) that say which event a payload is: overriding one would send an
#: event outside the provider's set, so the control API asks for ``"unfaithful": true`` first.
_DEFINING: dict[str, tuple[str, ...]] = {
    "moda": ("id", "type", "api_version", "data__kind", "data__status"),
    "modio": ("event_name", "event", "event_uuid"),
}


def check_faithful(profile: str, flat: dict[str, Any]) -> None:
    """Refuse flat overrides that would change which event is sent (400 ``override_not_faithful``,
    naming them and ``"unfaithful": true``)."""
    defining = _DEFINING[profile]
    refused = sorted(
        k for k in flat for d in defining if k == d or k.startswith(d + "__") or d.startswith(k + "__")
    )
    if refused:
        raise ApiError(
            "invalid_request",
            "override_not_faithful",
            f"overrides of {', '.join(refused)} would change which event this is "
            f"({', '.join(defining)} define it): choose another event_type instead, or send "
            '"unfaithful": true to send such an event on purpose',
            details={"parameter": "overrides", "fields": refused},
        )


def endpoint(payload: Any) -> str | None:
    """The details' "Endpoint": the request that raised the event, ``"{request_method}
    {request_resource.resource_url}"`` (decided: mod.io names the field but shows no value); None
    for the Test button's PING, which no request raised."""
    if not isinstance(payload, dict):
        return None
    method = payload.get("request_method")
    resource = payload.get("request_resource")
    url = resource.get("resource_url") if isinstance(resource, dict) else None
    if not isinstance(method, str) or not isinstance(url, str):
        return None
    return f"{method} {url}"


def flat_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """``{"data": {"kind": "x"}}`` → ``{"data__kind": "x"}`` (the factory's override syntax);
    keys already written with ``__`` pass through."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f"{prefix}__{k}" if prefix else str(k), v)
        else:
            flat[prefix] = value

    for key, value in overrides.items():
        walk(str(key), value)
    return flat
