"""Make one named callable of the app fail once, for one event: "processing failed, the retry
must still apply the effect".

A receiver that records the event id as seen and *then* does its work loses the event when the
work fails: the sender retries, the retry hits "duplicate -> 200", and the effect is never
applied.  To show it, make the work fail on its first call for one event, deliver, and check the
retry still applies the effect::

    with hookmock.fail_once(app_module, "apply_effect", event_id=event["id"]) as failure:
        delivery = hookmock_sender.send(app, event)   # attempt 1: 500, attempt 2: 2xx
    assert failure.fired
    assert store.count(event["id"]) == 1

``hookmock.audit(app, fail_once=(app_module, "apply_effect"))`` runs the audit's
``retry-after-failure`` check the same way; over HTTP, ``--fail-once-url TEMPLATE`` names a
hook of the integrator's test build that arms such a failure (see :func:`.effect.url_hook`).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..errors import UsageError

__all__ = ["FailOnce", "InjectedFailure", "fail_once", "failure_hook"]

_MISSING = object()


class InjectedFailure(RuntimeError):
    """The failure :func:`fail_once` raises (an ordinary exception: the app's own error handling
    turns it into whatever it turns a failed job into, usually a 500)."""


def _mentions(value: Any, needle: str, depth: int = 0) -> bool:
    """Whether ``value`` (an argument of the patched callable) carries the event id."""
    if isinstance(value, str):
        return needle in value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return needle.encode() in bytes(value)
    if depth >= 4:
        return False
    if isinstance(value, Mapping):
        return any(
            _mentions(k, needle, depth + 1) or _mentions(v, needle, depth + 1) for k, v in value.items()
        )
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_mentions(v, needle, depth + 1) for v in value)
    attrs = getattr(value, "__dict__", None)
    if isinstance(attrs, dict) and not inspect.isroutine(value) and not inspect.ismodule(value):
        return any(_mentions(v, needle, depth + 1) for v in attrs.values())
    return False


class FailOnce:
    """Patches ``target.name`` while active: its first call for ``event_id`` (a call whose
    arguments carry the id: a string, bytes, dict, list or object holding it) raises
    ``exception``; every other call runs the original.  Without ``event_id`` the first call fails.
    ``match(*args, **kwargs) -> bool`` replaces the argument search.  Use it as a context manager.
    """

    def __init__(
        self,
        target: Any,
        name: str,
        *,
        event_id: str | None = None,
        match: Callable[..., bool] | None = None,
        exception: BaseException | type[BaseException] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise UsageError(
                f"fail_once: name={name!r} must be the name of a callable attribute of {target!r}"
            )
        try:
            original = getattr(target, name)
        except AttributeError:
            raise UsageError(
                f"fail_once: {target!r} has no attribute {name!r}; name the function that does the "
                "receiver's work (a module function, or a method of the app)"
            ) from None
        if not callable(original):
            raise UsageError(f"fail_once: {target!r}.{name} is not callable ({type(original).__name__})")
        self.target = target
        self.name = name
        self.event_id = event_id
        self.match = match
        self.exception = exception
        #: How many calls were made while active, and how many of them failed (0 or 1).
        self.calls = 0
        self.failures = 0
        self._lock = threading.Lock()
        self._saved: Any = _MISSING
        self._active = False

    def __repr__(self) -> str:
        what = f" for {self.event_id!r}" if self.event_id else ""
        return f"<fail_once {getattr(self.target, '__name__', type(self.target).__name__)}.{self.name}{what}>"

    @property
    def fired(self) -> bool:
        """Whether the injected failure happened."""
        return self.failures > 0

    def _should_fail(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        if self.failures:
            return False
        if self.match is not None:
            return bool(self.match(*args, **kwargs))
        if self.event_id is None:
            return True
        return _mentions(args, self.event_id) or _mentions(kwargs, self.event_id)

    def _failure(self) -> BaseException:
        if self.exception is None:
            what = f" for event {self.event_id}" if self.event_id else ""
            return InjectedFailure(f"hookmock.fail_once: {self.name} failed on purpose{what} (first call)")
        return self.exception() if isinstance(self.exception, type) else self.exception

    def __enter__(self) -> FailOnce:
        if self._active:
            raise UsageError(f"{self!r} is already active")
        static = inspect.getattr_static(self.target, self.name)
        original = getattr(self.target, self.name)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls += 1
                fail = self._should_fail(args, kwargs)
                if fail:
                    self.failures += 1
            if fail:
                raise self._failure()
            return original(*args, **kwargs)

        patched: Any = wrapper
        if inspect.isclass(self.target) and isinstance(static, (staticmethod, classmethod)):
            patched = staticmethod(wrapper)  # ``original`` is already bound (or plain)
        elif inspect.isclass(self.target) and inspect.isfunction(static):
            patched = static_wrapper(self, static)
        try:
            self._saved = vars(self.target).get(self.name, _MISSING)
        except TypeError:  # no __dict__ (slots): setattr below will say so
            self._saved = _MISSING
        setattr(self.target, self.name, patched)
        self._active = True
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._active:
            return
        if self._saved is _MISSING:
            with contextlib.suppress(AttributeError):
                delattr(self.target, self.name)
        else:
            setattr(self.target, self.name, self._saved)
        self._active = False


def static_wrapper(failure: FailOnce, function: Callable[..., Any]) -> Callable[..., Any]:
    """A method patched on a class: ``self`` stays the first argument."""

    @functools.wraps(function)
    def method(*args: Any, **kwargs: Any) -> Any:
        with failure._lock:
            failure.calls += 1
            fail = failure._should_fail(args[1:], kwargs)
            if fail:
                failure.failures += 1
        if fail:
            raise failure._failure()
        return function(*args, **kwargs)

    return method


def fail_once(
    target: Any,
    name: str,
    *,
    event_id: str | None = None,
    match: Callable[..., bool] | None = None,
    exception: BaseException | type[BaseException] | None = None,
) -> FailOnce:
    """Make ``target.name`` fail on its first call for ``event_id`` (a context manager); see
    :class:`FailOnce`.  ``target`` is a module, a class or an object (e.g. the app)."""
    return FailOnce(target, name, event_id=event_id, match=match, exception=exception)


#: ``arm(event_id)``: a context manager around one delivery and its retry; it yields the active
#: :class:`FailOnce` (in-process) or ``None`` (an HTTP hook: whether it fired is not known).
FailureHook = Callable[[str], contextlib.AbstractContextManager[FailOnce | None]]


def failure_hook(
    spec: Any, *, allow_targets: tuple[str, ...] = (), ca_file: str | None = None
) -> FailureHook | None:
    """The audit's fail-once hook from what the caller gave: ``None``; ``(target, "name")`` or an
    inactive :func:`fail_once` (in-process); a URL template with ``{event_id}`` (HTTP, POSTed to
    arm); or a callable ``arm(event_id)`` of your own."""
    if spec is None:
        return None
    if isinstance(spec, str):
        from .effect import url_hook

        arm_url = url_hook(spec, allow_targets=allow_targets, ca_file=ca_file)

        @contextlib.contextmanager
        def over_http(event_id: str) -> Iterator[FailOnce | None]:
            arm_url(event_id)
            yield None

        return over_http
    if isinstance(spec, FailOnce):
        target, name, exception = spec.target, spec.name, spec.exception
    elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], str):
        target, name, exception = spec[0], spec[1], None
        FailOnce(target, name)  # checks the name now, before the audit starts
    elif callable(spec):
        arm = spec

        @contextlib.contextmanager
        def custom(event_id: str) -> Iterator[FailOnce | None]:
            arm(event_id)
            yield None

        return custom
    else:
        raise UsageError(
            f"fail_once={spec!r}: give (app_or_module, 'function_name'), a URL template with {{event_id}}, "
            "or a callable arm(event_id)"
        )

    def in_process(event_id: str) -> FailOnce:
        return FailOnce(target, name, event_id=event_id, exception=exception)

    return in_process
