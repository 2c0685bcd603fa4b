"""Test-session settings that let the suite run in parallel (pyproject.toml: `-n auto`).

The session keeps its model cache in a temporary folder of its own, which the xdist workers
and the commands the tests run inherit (XDG_CACHE_HOME): tests never read or write the
user's ~/.cache, and the workers share what they cache, which is safe (each entry is
written to a temporary file and renamed into place).  `-n auto` counts the CPUs this process
may run on: psutil's count of physical cores ignores the affinity mask and may see one core
where two are usable."""
import os
import shutil
import tempfile

import pytest

_CACHE = None
_BEFORE = None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS") or not hasattr(os, "sched_getaffinity"):
        return None  # xdist's own count
    return len(os.sched_getaffinity(0))


def pytest_configure(config):
    global _CACHE, _BEFORE
    if hasattr(config, "workerinput"):  # an xdist worker: the controller made the folder and set it
        return
    _BEFORE = os.environ.get("XDG_CACHE_HOME")
    _CACHE = tempfile.mkdtemp(prefix="policyengine-test-cache-")
    os.environ["XDG_CACHE_HOME"] = _CACHE


def pytest_unconfigure(config):
    if _CACHE is None:
        return
    shutil.rmtree(_CACHE, ignore_errors=True)
    if _BEFORE is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = _BEFORE


# The slowest files first: xdist (--dist loadfile) hands files out in collection order, so a slow
# file collected last keeps one worker busy while the other waits.  Measured with
# `pytest --durations=0`; a file not listed keeps its place after these.
_SLOW_FIRST = ("test_site_browser.py", "test_site.py", "test_batch_numbers.py", "test_cli_grammar.py", "test_batch.py",
               "test_batch_cli.py",
               "test_log_backends.py", "test_http_shutdown.py", "test_http.py", "test_audit.py",
               "test_semantics_properties.py", "test_diff.py")


def pytest_collection_modifyitems(session, config, items):
    rank = {name: n for n, name in enumerate(_SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
