"""Run only by tests/test_ci_guard.py (the name keeps it out of normal collection)."""

import pytest


def test_that_skips():
    pytest.skip("a probe that always skips")
