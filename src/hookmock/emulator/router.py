"""The emulator's router: its route table matched segment by segment, as werkzeug's router matched it.

The emulator used ``werkzeug.routing`` (``strict_slashes=False``, ``merge_slashes=False``); importing
it (and with it ``uuid``, ``platform``, ``difflib``, ``pprint``) was a tenth of ``hookmock serve``'s
start-up, for a table of about 40 plain routes.  This router does what that one did for them:

* a route path is ``/``-separated static segments and ``<name>`` parameters; a parameter matches one
  non-empty segment and reaches the handler as the client sent it (the server has percent-decoded
  the path);
* static segments are tried before a parameter at the same place (then the other way, if the rest
  of the path does not match);
* one trailing slash is accepted (``/v1/tasks/`` is ``/v1/tasks``); ``//`` anywhere else is not
  merged, so ``/v1//tasks`` is unknown;
* a GET route answers HEAD too;
* a path that a route matches with another method is :class:`MethodNotAllowed`, naming the methods
  of every route that matched the path; a path that no route matches is :class:`RouteNotFound`.

The path matched is the request's ``path`` (leading slashes folded into one, as werkzeug's Request
does).  A ``Connection: Upgrade`` / ``Upgrade: websocket`` request is matched as any other: the
emulator speaks no WebSocket, and a server may ignore ``Upgrade`` (RFC 9110 section 7.8).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MethodNotAllowed", "RouteNotFound", "Router"]


class RouteNotFound(Exception):
    """No route matches the path."""


class MethodNotAllowed(Exception):
    """A route matches the path, but not with this method; :attr:`allowed` is what would."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = sorted(set(allowed))
        super().__init__(", ".join(self.allowed))


class _Route:
    __slots__ = ("endpoint", "methods", "names", "path")

    def __init__(self, path: str, methods: Iterable[str], endpoint: str, names: list[str]) -> None:
        self.path = path
        self.methods = frozenset(m.upper() for m in methods)
        if "GET" in self.methods:
            self.methods |= {"HEAD"}
        self.endpoint = endpoint
        self.names = names


class _State:
    __slots__ = ("dynamic", "routes", "static")

    def __init__(self) -> None:
        self.static: dict[str, _State] = {}
        self.dynamic: _State | None = None
        self.routes: list[_Route] = []


class Router:
    """``match(method, path)`` -> ``(endpoint, path parameters)`` over ``(path, methods, endpoint)``."""

    def __init__(self, routes: Iterable[tuple[str, Iterable[str], str]] = ()) -> None:
        self._root = _State()
        self._routes: list[_Route] = []
        for path, methods, endpoint in routes:
            self.add(path, methods, endpoint)

    def add(self, path: str, methods: Iterable[str], endpoint: str) -> None:
        if not path.startswith("/") or path.endswith("/") or "//" in path:
            raise ValueError(f"route path {path!r}: give /segment/... without an empty segment")
        state = self._root
        names: list[str] = []
        for segment in path[1:].split("/"):
            if segment.startswith("<") and segment.endswith(">"):
                name = segment[1:-1]
                if not name.isidentifier() or name in names:
                    raise ValueError(f"route path {path!r}: parameter <{name}> must be a unique name")
                names.append(name)
                if state.dynamic is None:
                    state.dynamic = _State()
                state = state.dynamic
            elif "<" in segment or ">" in segment:
                raise ValueError(f"route path {path!r}: a parameter is a whole segment, <name>")
            else:
                state = state.static.setdefault(segment, _State())
        route = _Route(path, methods, endpoint, names)
        state.routes.append(route)
        self._routes.append(route)

    def routes(self) -> list[tuple[str, frozenset[str], str]]:
        """``(path, methods, endpoint)`` of every route, HEAD included where GET is."""
        return [(r.path, r.methods, r.endpoint) for r in self._routes]

    def match(self, method: str, path: str) -> tuple[str, dict[str, str]]:
        method = method.upper()
        parts = path.lstrip("/").split("/")
        wrong_method: set[str] = set()
        found = self._match(self._root, parts, 0, [], method, wrong_method)
        if found is None:
            if wrong_method:
                raise MethodNotAllowed(wrong_method)
            raise RouteNotFound(path)
        route, values = found
        return route.endpoint, dict(zip(route.names, values))

    def _match(
        self,
        state: _State,
        parts: list[str],
        i: int,
        values: list[str],
        method: str,
        wrong_method: set[str],
    ) -> tuple[_Route, list[str]] | None:
        if i == len(parts):
            return _pick(state, method, values, wrong_method)
        part = parts[i]
        nxt = state.static.get(part)
        if nxt is not None:
            found = self._match(nxt, parts, i + 1, values, method, wrong_method)
            if found is not None:
                return found
        if part and state.dynamic is not None:
            found = self._match(state.dynamic, parts, i + 1, [*values, part], method, wrong_method)
            if found is not None:
                return found
        if part == "" and i == len(parts) - 1:  # one trailing slash
            return _pick(state, method, values, wrong_method)
        return None


def _pick(
    state: _State, method: str, values: list[str], wrong_method: set[str]
) -> tuple[_Route, list[str]] | None:
    for route in state.routes:
        if method in route.methods:
            return route, values
        wrong_method.update(route.methods)
    return None
