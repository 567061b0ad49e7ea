"""Unseeded ids are unique, also across a fork (the generator is re-seeded in the child)."""

from __future__ import annotations

import os
import sys

import pytest

from hookmock.ids import crockford_id, is_crockford_id


def test_many_ids_are_unique_and_well_formed() -> None:
    ids = [crockford_id("whd", ms=1) for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert all(is_crockford_id(i, "whd") for i in ids[:100])


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="needs os.fork")
def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write its next ids and leave at once
        os.close(read)
        os.write(write, "\n".join(crockford_id("whd", ms=1) for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    parent = {crockford_id("whd", ms=1) for _ in range(50)}
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    child = set(b"".join(chunks).decode().split("\n"))
    assert len(child) == 50 and not parent & child
