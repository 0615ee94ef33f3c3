"""The guard in conftest.py: a test on a heavy fixture without the `slow` marker stops the session at
collection, so `pytest -m "not slow"` cannot grow minutes without anybody noticing."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# the repository's conftest (its hooks and fixtures) in a throw-away test directory
CONFTEST = "from tests.conftest import *  # noqa: F403\n"
ON_A_FIXTURE_ON_THE_PIPELINE = """
import pytest

@pytest.fixture
def served(pipeline_project):
    return pipeline_project

{marker}
def test_serves(served):
    pass
"""


def _collect(pytester: pytest.Pytester, marker: str, *options: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_heavy=ON_A_FIXTURE_ON_THE_PIPELINE.format(marker=marker))
    return pytester.runpytest("--collect-only", "-p", "no:cacheprovider", *options)


def test_an_unmarked_test_on_a_heavy_fixture_stops_the_session(pytester: pytest.Pytester) -> None:
    """Requested through another fixture, and even when `-m "not slow"` would leave it out."""
    result = _collect(pytester, "", "-m", "not slow")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: tests on a heavy fixture must be marked @pytest.mark.slow*",
            "  test_heavy.py::test_serves: pipeline_project (runs the nine stages)",
        ]
    )


def test_the_marked_test_is_collected_and_left_out_of_the_fast_loop(pytester: pytest.Pytester) -> None:
    """The control: with the marker the same test is collected, and deselected by `-m "not slow"`."""
    assert _collect(pytester, "@pytest.mark.slow").ret == pytest.ExitCode.OK
    fast = _collect(pytester, "@pytest.mark.slow", "-m", "not slow")
    assert fast.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    fast.stdout.fnmatch_lines(["*1 deselected*"])


def test_tests_on_a_shared_build_share_an_xdist_group(pytester: pytest.Pytester) -> None:
    """Under `-n 2 --dist loadgroup` every test on the pipeline runs in the worker that builds it once."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_heavy=ON_A_FIXTURE_ON_THE_PIPELINE.format(marker="@pytest.mark.slow"))
    items, _ = pytester.inline_genitems("-p", "no:cacheprovider")
    [group] = [mark.args for item in items for mark in item.iter_markers("xdist_group")]
    assert group == ("pipeline_project",)
