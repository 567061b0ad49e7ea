"""The emulator's router against werkzeug's (which it replaced), on the same route tables: the same
endpoint and parameters, the same 405 methods, the same 404, for the emulator's own table, for tables
made to exercise backtracking and trailing slashes, and for paths hypothesis makes up."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule

from hookmock.emulator.router import MethodNotAllowed, RouteNotFound, Router
from hookmock.emulator.routes import all_routes

EMULATOR = [(path, methods, endpoint) for path, methods, endpoint, _handler in all_routes()]
#: static and parameter segments at the same place, two methods on one path, nested parameters
TRICKY = [
    ("/a/<x>/c", ["GET"], "a_x_c"),
    ("/a/b/d", ["GET"], "a_b_d"),
    ("/a/<x>", ["POST"], "a_x"),
    ("/a/b", ["GET"], "a_b"),
    ("/a", ["GET", "PUT"], "a"),
    ("/p/<x>/<y>", ["GET"], "p_x_y"),
    ("/p/<x>/q", ["DELETE"], "p_x_q"),
]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get"]


_BUILT: dict[int, tuple[Map, Router]] = {}


def _built(table: list[tuple[str, list[str], str]]) -> tuple[Map, Router]:
    """Both routers of ``table``, built once (werkzeug's compiles each rule)."""
    if id(table) not in _BUILT:
        rules = [Rule(p, methods=m, endpoint=e) for p, m, e in table]
        _BUILT[id(table)] = (Map(rules, strict_slashes=False, merge_slashes=False), Router(table))
    return _BUILT[id(table)]


def _werkzeug(table: list[tuple[str, list[str], str]], method: str, path: str) -> object:
    try:
        return _built(table)[0].bind("localhost", path_info=path).match(method=method)
    except WerkzeugMethodNotAllowed as exc:
        return ("405", sorted(exc.valid_methods or []))
    except NotFound:
        return "404"


def _ours(table: list[tuple[str, list[str], str]], method: str, path: str) -> object:
    try:
        return _built(table)[1].match(method, path)
    except MethodNotAllowed as exc:
        return ("405", exc.allowed)
    except RouteNotFound:
        return "404"


def _paths(table: list[tuple[str, list[str], str]]) -> list[str]:
    out = {"/", "//", ""}
    for path, _m, _e in table:
        concrete = path.replace("<", "").replace(">", "")
        for variant in (path, concrete, "/x1".join(path.split("/<")[:1]) + "/x1"):
            out |= {variant, variant + "/", variant + "//", "/" + variant, variant + "/extra"}
    return sorted(out)


@pytest.mark.parametrize("table", [EMULATOR, TRICKY], ids=["emulator", "tricky"])
def test_the_same_answer_as_werkzeug_for_every_route_and_its_variants(table):
    for path in _paths(table):
        for method in METHODS:
            assert _ours(table, method, path) == _werkzeug(table, method, path), (method, path)


def test_backtracking_from_a_static_segment_to_a_parameter():
    router = Router(TRICKY)
    assert router.match("GET", "/a/b/c") == ("a_x_c", {"x": "b"})
    assert router.match("GET", "/a/b/d") == ("a_b_d", {})
    assert router.match("POST", "/a/b") == ("a_x", {"x": "b"})
    with pytest.raises(MethodNotAllowed) as wrong:
        router.match("DELETE", "/a/b")
    assert wrong.value.allowed == ["GET", "HEAD", "POST"]


SEGMENTS = st.sampled_from(
    ["a", "b", "c", "d", "p", "q", "", "x", "é", "%20", ".", "v1", "tasks", "_hookmock"]
)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(SEGMENTS | st.text(alphabet="abc/._-", max_size=4), max_size=6),
    method=st.sampled_from(METHODS),
    table=st.sampled_from([EMULATOR, TRICKY]),
)
def test_the_same_answer_as_werkzeug_for_made_up_paths(parts, method, table):
    path = "/" + "/".join(parts)
    assert _ours(table, method, path) == _werkzeug(table, method, path)


@pytest.mark.parametrize("path", ["", "a", "/a/", "/a//b", "/a/<x>y", "/a/<x>/<x>", "/a/<1x>", "/a/<x:int>"])
def test_a_route_path_it_cannot_match_as_werkzeug_did_is_refused(path):
    with pytest.raises(ValueError, match="route path"):
        Router([(path, ["GET"], "e")])


def test_routes_lists_head_where_get_is():
    assert Router([("/a", ["GET"], "a"), ("/b", ["post"], "b")]).routes() == [
        ("/a", frozenset({"GET", "HEAD"}), "a"),
        ("/b", frozenset({"POST"}), "b"),
    ]
