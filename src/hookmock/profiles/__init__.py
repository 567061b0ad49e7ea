"""The profile registry.

Every module in this package that defines ``PROFILE`` is a profile, found by its module name;
profiles from other packages register through the ``hookmock.profiles`` entry-point group or
:func:`register_profile`.  Adding a provider is one new module here and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..errors import UnknownProfile
from ._base import DEFAULT_TOLERANCE_S, EventSpec, Profile, Verdict

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "EventSpec",
    "Profile",
    "Verdict",
    "available_profiles",
    "builtin_profiles",
    "get_profile",
    "register_profile",
]

_registry: dict[str, Profile] = {}


def _builtin_names() -> list[str]:
    """Registry names of the modules here: ``standard_webhooks`` is ``standard-webhooks``."""
    return sorted(
        m.name.replace("_", "-") for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")
    )


def builtin_profiles() -> list[str]:
    """The names of the profiles shipped with hookmock (one module each in this package)."""
    return _builtin_names()


def register_profile(profile: Profile) -> None:
    """Make ``profile`` available by its ``name`` (replacing one of the same name)."""
    _registry[profile.name] = profile


def available_profiles() -> list[str]:
    names = set(_builtin_names()) | set(_registry)
    try:
        from importlib.metadata import entry_points

        names |= {ep.name for ep in entry_points(group="hookmock.profiles")}
    except Exception:  # pragma: no cover - broken metadata must not break the registry
        pass
    return sorted(names)


def get_profile(name: str | Profile) -> Profile:
    """The profile called ``name`` (``"moda"``, ``"modio"``, ``"standard-webhooks"``, …; a module
    name with ``_`` for ``-`` is accepted too); a Profile is returned as is."""
    if isinstance(name, Profile):
        return name
    if not isinstance(name, str):  # (a list or a table from a scenario file cannot be looked up)
        raise UnknownProfile(
            f"{name!r} is not a profile name; choose one of: {', '.join(available_profiles())}"
        )
    if name in _registry:
        return _registry[name]
    module_name = name.replace("-", "_")
    if module_name.isidentifier() and module_name.replace("_", "-") in _builtin_names():
        module = importlib.import_module(f"{__name__}.{module_name}")
        profile: Profile = module.PROFILE
        # kept under the registry name: the module-name alias must not show up as a profile of its own
        _registry[module_name.replace("_", "-")] = profile
        return profile
    from importlib.metadata import entry_points

    for ep in entry_points(group="hookmock.profiles"):
        if ep.name == name:
            loaded = ep.load()
            _registry[name] = loaded
            return loaded  # type: ignore[no-any-return,unused-ignore]
    raise UnknownProfile(f"unknown profile {name!r}; choose one of: {', '.join(available_profiles())}")
