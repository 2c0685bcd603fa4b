"""The decision log's backends for the tests that must hold on both: a fresh SQLite file, or
a fresh PostgreSQL database in the cluster POLICYENGINE_TEST_POSTGRES names (.ci/run starts
one with .ci/postgres.sh).  Without one the PostgreSQL cases skip, except where
POLICYENGINE_REQUIRE_POSTGRES=1 (CI), where they fail."""
import os
import sqlite3
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

BACKENDS = ["sqlite", "postgresql"]


def postgres_base() -> str:
    url = os.environ.get("POLICYENGINE_TEST_POSTGRES")
    if not url:
        if os.environ.get("POLICYENGINE_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL log tests are required here, but POLICYENGINE_TEST_POSTGRES is not set")
        pytest.skip("no PostgreSQL server: set POLICYENGINE_TEST_POSTGRES=postgresql://... "
                    "(`bash .ci/postgres.sh start DIR` starts one and prints it)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("POLICYENGINE_TEST_POSTGRES is set but psycopg is not installed (pip install -e '.[test]')")
    return url


def with_database(url: str, name: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


HEAVY = os.environ.get("POLICYENGINE_HEAVY") == "1"


@pytest.fixture(params=BACKENDS)
def log_target(request, tmp_path):
    """Where a new, empty log lives: a file path, or a postgresql:// URL of a new database.
    A test marked `slow_on_postgresql` (processes, many commits) runs on PostgreSQL in the
    heavy tier only (.ci/run runs it): on SQLite it runs every time."""
    if request.param == "sqlite":
        yield str(tmp_path / "decisions.sqlite")
        return
    if request.node.get_closest_marker("slow_on_postgresql") and not HEAVY:
        pytest.skip("on PostgreSQL in the heavy tier (POLICYENGINE_HEAVY=1, run by .ci/run)")
    import psycopg
    base = postgres_base()
    name = "pe_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield with_database(base, name)
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def tamper(target: str, *statements, params=()):
    """Change a log behind its back, as someone with the database would: triggers off, then SQL."""
    if target.startswith("postgresql://"):
        import psycopg
        with psycopg.connect(target, autocommit=True) as con:
            for t in ("records", "record_clauses", "blobs", "policy_versions", "meta"):
                con.execute(f"ALTER TABLE {t} DISABLE TRIGGER USER")
            for s in statements:
                con.execute(s.replace("?", "%s"), params if "?" in s else ())
        return
    con = sqlite3.connect(target)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    for s in statements:
        con.execute(s, params) if "?" in s else con.execute(s)
    con.commit()
    con.close()
