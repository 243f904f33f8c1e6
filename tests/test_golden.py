"""The CLI's outputs on the sample are what tests/golden/sample.json recorded.

A restructuring changes no result: the same data gives the same numbers and files. When a change
is meant to change results, run ``python tests/golden/record.py --write`` and say why in the commit.
"""

import json

import pytest

from tests.golden.record import RECORD, record

# The recording runs every CLI command on the sample: about a minute under load.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh():
    return record()


@pytest.fixture(scope="module")
def recorded():
    return json.loads(RECORD.read_text(encoding="utf-8"))


def test_every_recorded_output_is_produced_again(fresh, recorded):
    assert sorted(fresh) == sorted(recorded)
    assert sorted(fresh["files"]) == sorted(recorded["files"])


@pytest.mark.parametrize("key", sorted(json.loads(RECORD.read_text(encoding="utf-8"))))
def test_output_is_unchanged(fresh, recorded, key):
    assert fresh[key] == recorded[key]
