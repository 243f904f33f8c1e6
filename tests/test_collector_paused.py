"""The app's long-lived cached builds (the city, its coverage, relation and plan basis) run with Python's cyclic
garbage collector paused, and nothing frozen out of its later scans (issue 17: a 100k city's full
collections rescanned millions of geometries during its first page)."""

from __future__ import annotations

import gc
import threading

from views import shared


def test_a_build_pauses_the_collector_then_resumes_it_freezing_nothing():
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    seen = {}

    @shared.long_lived
    def build(n):
        seen["enabled"] = gc.isenabled()
        return [[i] for i in range(n)]  # new container objects, tracked by the collector

    kept = build(1000)
    assert seen["enabled"] is False and gc.isenabled()
    assert gc.get_freeze_count() == frozen  # a freeze would pin other sessions' future garbage for good
    assert len(kept) == 1000


def test_nested_and_concurrent_builds_resume_it_once_the_last_ends():
    inner_done, release = threading.Event(), threading.Event()
    states = []

    @shared.long_lived
    def slow():
        inner_done.set()
        release.wait(10)
        states.append(gc.isenabled())

    @shared.long_lived
    def nested():
        states.append(gc.isenabled())
        return shared.long_lived(lambda: gc.isenabled())()

    worker = threading.Thread(target=slow)
    worker.start()
    inner_done.wait(10)
    assert nested() is False
    assert not gc.isenabled()  # the other build still runs
    release.set()
    worker.join(10)
    assert states == [False, False] and gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    try:
        shared.long_lived(lambda: None)()
        assert not gc.isenabled()
    finally:
        gc.enable()
