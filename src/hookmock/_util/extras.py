"""The optional extras: what a lean install (``pip install hookmock``) leaves out, and the message
that says which extra to install when a feature needs it.

The lean install is the emulator and the CLI.  ``hookmock[pytest]`` adds what the pytest plugin needs,
``hookmock[hypothesis]`` what :mod:`hookmock.strategies` needs (``asgi`` and ``storm`` are older extras
with their own messages).
"""

from __future__ import annotations

#: extra name -> the top-level modules it provides that hookmock imports.
EXTRAS: dict[str, tuple[str, ...]] = {
    "pytest": ("pytest", "_pytest", "pluggy"),
    "hypothesis": ("hypothesis",),
}


def missing_extra(exc: ModuleNotFoundError, *, feature: str, extra: str) -> ModuleNotFoundError:
    """A clear error for ``exc``, raised while importing what ``extra`` provides for ``feature``.

    Raise it ``from exc``.  When the missing module is not one the extra provides (a broken install
    of the extra itself, say), ``exc`` is returned unchanged so that its own message is kept.
    """
    top = (exc.name or "").split(".")[0]
    if top not in EXTRAS[extra]:
        return exc
    return ModuleNotFoundError(
        f"{feature} needs {top}, which is not installed (a lean install of hookmock leaves it out): "
        f'pip install "hookmock[{extra}]"',
        name=exc.name,
    )
