"""The published contract holds: schemathesis generates requests from the app's own
/openapi.json (property-based, positive and negative) and checks every response against it:
no server error, a declared status, a declared content type, a body matching the declared
schema, 405 with the right Allow header for undeclared methods, 401 when the key is left out.

Generated ids rarely name anything, so a drawn share of the cases is pointed at real
decisions, rules and log records: the success bodies (every decision's shape, the public
and full log views, explanations) are checked too, not only the errors."""
import os
import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("fastapi")

from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402

import policyengine  # noqa: E402
from policyengine.http import app as build  # noqa: E402
from policyengine.http.keys import parse  # noqa: E402

AUDITOR = "auditor-key-for-schemathesis-0001"
SERVICE = "service-key-for-schemathesis-0001"
KEYS = parse(f"{AUDITOR} auditor\n{SERVICE} service\n", "keys")

_TMP = tempfile.TemporaryDirectory(prefix="policyengine-http-schema-")  # removed at exit
POLICIES = policyengine.load(Path(__file__).resolve().parents[1] / "policies")
APP = build(POLICIES, log=os.path.join(_TMP.name, "decisions.sqlite"), keys=KEYS)
DECISIONS = list(POLICIES.decisions)
RULES = sorted(POLICIES.rules)

# records the log endpoints can find: a decided, a refused and a confidential (6.3.1) one
_SEED = [("ldp.pay.annual_rate", {"level": "PL-03", "step": 1}, "2009-06-01"),
         ("ldp.pay.annual_rate", {"level": "PL-06", "step": 1}, "2009-06-01"),
         ("ldp.performance_pay", {"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5},
          "2009-04-01")]
RECORDS = []
for _decision, _facts, _as_of in _SEED:
    _d = POLICIES.evaluate(_decision, _facts, _as_of, log=os.path.join(_TMP.name, "decisions.sqlite"))
    RECORDS.append(_d.log_id)



@schemathesis.serializer("application/x-ndjson")
def _json_lines(ctx, value):
    """A JSON-lines batch is text.  Schemathesis's negative cases for a `type: string` body
    are other JSON values, which as text would be valid strings again; they are sent as bytes
    that are no text at all, which is what a non-string body means on the wire."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return b"\xff\xfe" + repr(value).encode("utf-8", "replace")


CONFIG = SchemathesisConfig.from_dict({
    "auth": {"openapi": {"APIKeyHeader": {"api_key": AUDITOR}}},
    # The facts of a decision are free-form in the one evaluate operation (each decision
    # publishes its own facts schema at GET /v1/decisions/{id}), so a schema-valid body may
    # rightly be refused as bad facts or not in force: 422 is a valid answer there.
    "operations": [{"include-path-regex": r":(evaluate|batch)$",
                    "checks": {"positive_data_acceptance": {
                        "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}}}],
})
# POST /v1/admin/reload is left in: with the auditor key it is always refused (403), so the
# policies never change under the test; the reload itself is tested in test_http.py.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


# examples per operation: kept small so the suite stays fast; raise it to hunt (e.g. 500)
EXAMPLES = int(os.environ.get("POLICYENGINE_SCHEMATHESIS_EXAMPLES", "30"))
REAL = {"decision": DECISIONS, "rule": RULES, "record_id": RECORDS}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """The generated path parameters, or the same with one of them a real id."""
    options = [st.just(path_parameters)]
    for name, pool in REAL.items():
        if path_parameters and name in path_parameters:
            options.append(st.sampled_from(pool).map(lambda value, n=name: {**path_parameters, n: value}))
    return st.one_of(options)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_response_matches_the_contract(case):
    case.call_and_validate()


@pytest.mark.parametrize("key", [AUDITOR, SERVICE], ids=["auditor", "service"])
@pytest.mark.parametrize("record", range(len(_SEED)))
def test_log_views_match_the_contract(record, key):
    """Each record in both views, and explained in both languages and formats."""
    rid = RECORDS[record]
    r = schema["/v1/log/{record_id}"]["GET"].Case(path_parameters={"record_id": rid},
                                                  headers={"X-API-Key": key}).call_and_validate()
    assert r.json().get("view") == ("public" if key == SERVICE else None)  # the key given is the one used
    for lang in ("en", "fr"):
        for fmt in ("text", "html"):
            r = schema["/v1/log/{record_id}/explain"]["GET"].Case(
                path_parameters={"record_id": rid}, query={"lang": lang, "format": fmt},
                headers={"X-API-Key": key}).call_and_validate()
            assert r.status_code == 200


def test_known_good_requests_match_the_contract():
    """One request of each kind that succeeds, checked against the declared 200 response."""
    key = {"X-API-Key": AUDITOR}
    ev = schema["/v1/decisions/{decision}:evaluate"]["POST"]
    for decision, facts, as_of in _SEED:
        for trace in ("none", "audit", "full"):
            r = ev.Case(path_parameters={"decision": decision}, media_type="application/json", headers=key,
                        body={"facts": facts, "as_of": as_of, "trace": trace, "lang": "fr"}).call_and_validate()
            assert r.status_code == (409 if facts.get("level") == "PL-06" and "step" in facts else 200)
    batch = schema["/v1/decisions/{decision}:batch"]["POST"]
    r = batch.Case(path_parameters={"decision": "ldp.pay.annual_rate"}, media_type="application/json", headers=key,
                   body=[{"facts": f, "as_of": a} for _, f, a in _SEED[:2]]).call_and_validate()
    assert r.status_code == 200
    for path, params in (("/v1/decisions", {}), ("/v1/decisions/{decision}", {"decision": "ldp.performance_pay"}),
                         ("/v1/rules/{rule}", {"rule": "ldp.pay.annual_rate"}), ("/healthz", {}), ("/readyz", {})):
        r = schema[path]["GET"].Case(path_parameters=params, headers=key).call_and_validate()
        assert r.status_code == 200
    r = schema["/v1/log"]["GET"].Case(query={"decision": "ldp.performance_pay"}, headers=key).call_and_validate()
    assert r.status_code == 200 and r.json()
    assert schema["/v1/log/verify"]["POST"].Case(headers=key).call_and_validate().json()["ok"] is True
