"""The decision API over HTTP (README, "HTTP API"; issue 14), through the ASGI test client:
every endpoint, every error category as RFC 9457 problem details, API keys and roles, the
LDP 6.3.1 public view for callers whose work does not require more, request ids into the
log, and reloading the policies atomically (a broken folder refused, the old one kept)."""
import json
import shutil
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

pytest.importorskip("fastapi")
with warnings.catch_warnings():  # starlette's note about httpx versions, at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

import policyengine  # noqa: E402
from policyengine import InputError  # noqa: E402
from policyengine.audit.log import DecisionLog  # noqa: E402
from policyengine.audit.redact import view as redacted  # noqa: E402
from policyengine.http import api as http_api, keys as keyring  # noqa: E402
from policyengine.version import __version__  # noqa: E402

ROOT = Path(__file__).resolve().parents[1] / "policies"
PROBLEM = "application/problem+json"
SERVICE, AUDITOR, ADMIN = "service-key-0123456789", "auditor-key-0123456789", "admin-key-0123456789abc"
KEYS_TEXT = f"""\
# test keys
{SERVICE} service payroll system
{AUDITOR} auditor   # the internal audit team: a comment, not a name
{ADMIN} admin
"""
PL03 = {"facts": {"level": "PL-03", "step": 1}, "as_of": "2009-06-01"}
PERF = {"facts": {"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5}, "as_of": "2009-04-01"}


def key(k):
    return {"X-API-Key": k}


@pytest.fixture(scope="module")
def policies():
    return policyengine.load(ROOT)


@pytest.fixture(scope="module")
def log_path(tmp_path_factory):
    return tmp_path_factory.mktemp("http") / "decisions.sqlite"


@pytest.fixture(scope="module")
def client(policies, log_path):
    api = policyengine.http.app(policies, log=str(log_path), keys=keyring.parse(KEYS_TEXT, "keys"))
    with TestClient(api, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def perf(client):
    """ldp.performance_pay for subject E123, logged: the confidential record of the log tests."""
    r = client.post("/v1/decisions/ldp.performance_pay:evaluate", json={**PERF, "subject_id": "E123"},
                    headers={**key(SERVICE), "X-Request-ID": "perf-req-1"})
    assert r.status_code == 200, r.text
    return r.json()


def problem(r, status, kind):
    """The response is problem details of that status and kind, with no stack trace."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["type"].endswith("/" + kind) and body["title"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body


# -- evaluate ------------------------------------------------------------------------------------
def test_evaluate_gives_the_decision_its_record_id_and_a_location(client, policies, log_path):
    r = client.post("/v1/decisions/ldp.pay.annual_rate:evaluate", json={**PL03, "known_on": "2009-04-10"},
                    headers=key(SERVICE))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    # known_on passed through: the 2009 rates were approved 2009-04-23 (Appendix B s. 12, Pay Note)
    assert (body["value"], body["known_on"], body["status"]) == ("62581", "2009-04-10", "decided")
    assert body["versions_excluded"][0]["excluded"]["approved"] == "2009-04-23"
    assert r.headers["location"] == f"/v1/log/{body['log_id']}"
    assert body["policy_hash"] == policies.policy_hash == r.headers["x-policy-hash"]
    # the Decision.to_dict() shape, exactly, plus the record id
    expected = policies.evaluate("ldp.pay.annual_rate", PL03["facts"], PL03["as_of"], known_on="2009-04-10")
    assert {k: v for k, v in body.items() if k != "log_id"} == json.loads(json.dumps(expected.to_dict()))
    with DecisionLog(log_path) as dl:
        assert dl.get(body["log_id"])["value"] == "62581"
    later = client.post("/v1/decisions/ldp.pay.annual_rate:evaluate", json={**PL03, "known_on": "2009-05-01"},
                        headers=key(SERVICE)).json()
    assert later["value"] == "63520"


def test_presume_trace_and_lang_are_passed_through(client):
    presumed = client.post("/v1/decisions/ldp.performance_pay:evaluate", json=PERF, headers=key(SERVICE)).json()
    assert presumed["status"] == "decided" and presumed["value"]["new_salary"] == "93500"
    assert "signed_assignment_plan" in {a["fact"] for a in presumed["assumptions"]}
    strict = client.post("/v1/decisions/ldp.performance_pay:evaluate", json={**PERF, "presume": False},
                         headers=key(SERVICE)).json()
    assert strict["status"] == "undetermined" and "signed_assignment_plan" in strict["missing"]
    assert strict["presume"] is False
    none = client.post("/v1/decisions/ldp.pay.annual_rate:evaluate", json={**PL03, "trace": "none", "lang": "fr"},
                       headers=key(SERVICE)).json()
    assert none["trace"] is None and none["clauses"] is None and none["value"] == "63520"
    assert none["explanation"].startswith("Décision")


def test_request_id_is_echoed_and_kept_in_the_log_record(client, log_path, perf):
    with DecisionLog(log_path) as dl:
        assert dl.get(perf["log_id"])["request_id"] == "perf-req-1"
    got = client.get(f"/v1/log/{perf['log_id']}", headers={**key(AUDITOR), "X-Request-ID": "audit-7"})
    assert got.headers["x-request-id"] == "audit-7" and got.json()["request_id"] == "perf-req-1"
    generated = client.get("/v1/decisions", headers=key(SERVICE)).headers["x-request-id"]
    assert len(generated) == 32 and int(generated, 16) >= 0
    unsafe = client.get("/v1/decisions", headers={**key(SERVICE), "X-Request-ID": "a b\tc"})
    assert unsafe.headers["x-request-id"] != "a b\tc" and len(unsafe.headers["x-request-id"]) == 32
    # the access log line carries it too
    assert problem(client.get("/v1/rules/nope", headers={**key(SERVICE), "X-Request-ID": "r-404"}),
                   404, "unknown-rule")["request_id"] == "r-404"


def test_access_log_line_names_the_request(client, caplog):
    with caplog.at_level("INFO", logger="policyengine.http.access"):
        client.get("/v1/decisions", headers={**key(SERVICE), "X-Request-ID": "access-1"})
    assert any("access-1 GET /v1/decisions 200" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("method,path,body,headers", [
    ("GET", "/healthz", None, {}),
    ("GET", "/readyz", None, {}),
    ("GET", "/openapi.json", None, {}),
    ("GET", "/v1/decisions", None, key(SERVICE)),
    ("GET", "/v1/decisions", None, {}),                       # 401
    ("POST", "/v1/admin/reload", None, key(SERVICE)),         # 403
    ("GET", "/v1/decisions/ldp.pay.anual_rate", None, key(SERVICE)),  # 404
    ("DELETE", "/v1/decisions", None, key(SERVICE)),          # 405
    ("POST", "/v1/decisions/ldp.pay.annual_rate:evaluate", b"{", key(SERVICE)),  # 400
    ("POST", "/v1/decisions/ldp.pay.annual_rate:batch", json.dumps([PL03]).encode(), key(SERVICE)),
])
def test_every_response_carries_the_policy_hash(client, policies, method, path, body, headers):
    r = client.request(method, path, content=body, headers={**headers, "content-type": "application/json"})
    assert r.headers["x-policy-hash"] == policies.policy_hash
    assert r.headers["x-request-id"]


# -- errors as problem details -------------------------------------------------------------------
def test_bad_facts_are_422_listing_each_fact(client):
    r = client.post("/v1/decisions/ldp.pay.annual_rate:evaluate",
                    json={"facts": {"level": "PL-09", "stp": 1}, "as_of": "2009-06-01"}, headers=key(SERVICE))
    body = problem(r, 422, "bad-facts")
    assert {p["fact"] for p in body["problems"]} == {"level", "stp"}
    assert any("did you mean 'step'" in p["problem"] for p in body["problems"])
    assert body["instance"] == "/v1/decisions/ldp.pay.annual_rate:evaluate"


def test_unknown_decision_is_404_with_did_you_mean(client):
    for path in ("/v1/decisions/ldp.pay.anual_rate:evaluate", "/v1/decisions/ldp.pay.anual_rate:batch"):
        body = problem(client.post(path, json=PL03 if "evaluate" in path else [PL03], headers=key(SERVICE)),
                       404, "unknown-decision")
        assert "did you mean 'ldp.pay.annual_rate'" in body["detail"]
    body = problem(client.get("/v1/decisions/ldp.pay.anual_rate", headers=key(SERVICE)), 404, "unknown-decision")
    assert "did you mean 'ldp.pay.annual_rate'" in body["detail"]


def test_refused_is_409_with_its_citation_and_record(client, log_path):
    r = client.post("/v1/decisions/ldp.pay.annual_rate:evaluate",
                    json={"facts": {"level": "PL-06", "step": 1}, "as_of": "2009-06-01"}, headers=key(SERVICE))
    body = problem(r, 409, "refused")
    assert body["citation"] == "Appendix B, 12" and body["clause"] == "ldp.B.12"
    assert "salary range" in body["detail"]
    assert body["decision_record"]["status"] == "refused"
    assert r.headers["location"] == f"/v1/log/{body['log_id']}"  # refusals are logged too
    with DecisionLog(log_path) as dl:
        assert dl.get(body["log_id"])["status"] == "refused"


def test_not_in_force_is_422_with_the_instruments_dates(client):
    body = problem(client.post("/v1/decisions/ldp.pay.annual_rate:evaluate",
                               json={**PL03, "as_of": "2013-06-01"}, headers=key(SERVICE)), 422, "not-in-force")
    assert body["instrument"] == "ldp"
    assert "2006-04-02" in body["detail"] and "2012-04-03" in body["detail"] and "2013-06-01" in body["detail"]


def test_malformed_json_is_400(client):
    for path in ("/v1/decisions/ldp.pay.annual_rate:evaluate", "/v1/decisions/ldp.pay.annual_rate:batch"):
        body = problem(client.post(path, content=b'{"facts": {', headers={**key(SERVICE),
                                                                          "content-type": "application/json"}),
                       400, "malformed-json")
        assert body["detail"]


def test_a_request_that_does_not_match_the_api_is_422(client):
    body = problem(client.post("/v1/decisions/ldp.pay.annual_rate:evaluate",
                               json={**PL03, "as_of": "June 1", "trace": "loud", "extra": 1}, headers=key(SERVICE)),
                   422, "bad-request")
    assert {p["where"] for p in body["problems"]} == {"body.as_of", "body.trace", "body.extra"}
    problem(client.post("/v1/decisions/ldp.pay.annual_rate:evaluate", json={**PL03, "presume": 0},
                        headers=key(SERVICE)), 422, "bad-request")  # strict: 0 is not a boolean


def test_a_body_over_the_limit_is_413(policies):
    small = policyengine.http.app(policies, max_body=300)
    big = json.dumps({**PL03, "subject_id": "x" * 200, "facts": {"level": "PL-03", "step": 1, "pad": "y" * 200}})

    def chunks():  # no Content-Length: the limit is met while reading
        yield big[:150].encode()
        yield big[150:].encode()

    with TestClient(small, raise_server_exceptions=False) as c:
        for path in ("/v1/decisions/ldp.pay.annual_rate:evaluate", "/v1/decisions/ldp.pay.annual_rate:batch"):
            for content in (big.encode(), chunks()):
                r = c.post(path, content=content, headers={"content-type": "application/json",
                                                           "X-Request-ID": "big-1"})
                body = problem(r, 413, "body-too-large")
                assert "300 bytes" in body["detail"] and body["request_id"] == "big-1"
                assert r.headers["x-request-id"] == "big-1"
                assert r.headers["x-policy-hash"] == policies.policy_hash
        assert c.post("/v1/decisions/ldp.pay.annual_rate:evaluate", json=PL03).status_code == 200


def test_missing_or_unknown_key_is_401(client):
    for headers in ({}, key("not-a-key-at-all-0000"), {"Authorization": "Bearer wrong-key-0000000000"}):
        r = client.get("/v1/decisions", headers=headers)
        problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/v1/decisions", headers={"Authorization": f"Bearer {SERVICE}"}).status_code == 200
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):  # operations need no key
        assert client.get(path).status_code == 200


def test_role_too_low_is_403(client):
    for k in (SERVICE, AUDITOR):
        body = problem(client.post("/v1/admin/reload", headers=key(k)), 403, "forbidden")
        assert "admin" in body["detail"]


def test_an_unexpected_error_is_a_500_without_a_stack_trace(policies, caplog):
    api = policyengine.http.app(policies)

    class Broken:
        def __getattr__(self, name):
            return getattr(policies, name)

        def evaluate(self, *a, **k):
            raise RuntimeError("boom at /srv/secret/path")

    api.state.engine.policies = Broken()
    with TestClient(api, raise_server_exceptions=False) as c, caplog.at_level("ERROR", logger="policyengine.http"):
        r = c.post("/v1/decisions/ldp.pay.annual_rate:evaluate", json=PL03, headers={"X-Request-ID": "oops-1"})
    body = problem(r, 500, "internal")
    assert "boom" not in r.text and "secret" not in r.text
    assert body["request_id"] == r.headers["x-request-id"] == "oops-1"
    assert any("oops-1" in rec.getMessage() for rec in caplog.records)  # the log has it, with the request id


def test_unknown_path_and_method_are_problems(client):
    problem(client.get("/v2/nothing"), 404, "not-found")
    r = client.get("/v1/log/verify", headers=key(SERVICE))
    problem(r, 405, "method-not-allowed")
    assert r.headers["allow"] == "POST"
    r = client.get("/v1/decisions/ldp.pay.annual_rate:evaluate", headers=key(SERVICE))
    assert r.status_code == 405 and r.headers["allow"] == "POST"


# -- describing decisions and rules --------------------------------------------------------------
def test_decisions_are_listed_with_their_facts(client, policies):
    r = client.get("/v1/decisions", headers=key(SERVICE))
    listed = {d["id"]: d for d in r.json()}
    assert set(listed) == set(policies.decisions)
    rate = listed["ldp.pay.annual_rate"]
    assert rate["citation"] == "Appendix B, 12" and rate["facts"] == ["level", "step"]
    assert rate["label"]["en"] and rate["label"]["fr"] and rate["label"]["en"] != rate["label"]["fr"]


def test_a_decision_describes_its_facts_as_json_schema(client, policies):
    body = client.get("/v1/decisions/ldp.pay.annual_rate", headers=key(SERVICE)).json()
    schema = body["facts_schema"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["properties"]["level"]["enum"] == ["PL-01", "PL-02", "PL-03", "PL-04", "PL-05", "PL-06"]
    assert schema["properties"]["step"]["type"] == "integer"
    assert schema["properties"]["level"]["x-label"] == {"en": "PL group and level", "fr": "Groupe et niveau PL"}
    assert body["policy_hash"] == policies.policy_hash and body["text"]


def test_a_rule_gives_citation_text_labels_and_versions(client):
    body = client.get("/v1/rules/ldp.pay.annual_rate", headers=key(SERVICE)).json()
    assert (body["citation"], body["clause"], body["instrument"], body["decision"]) == \
        ("Appendix B, 12", "ldp.B.12", "ldp", True)
    assert "Salary Determination Table" in body["text"] and body["label"]["fr"]
    assert body["versions"] and all("effective" in v and "to" in v for v in body["versions"])
    body = problem(client.get("/v1/rules/ldp.pay.anual_rate", headers=key(SERVICE)), 404, "unknown-rule")
    assert "did you mean 'ldp.pay.annual_rate'" in body["detail"]


def test_openapi_document_and_docs(client):
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    for path, method in [("/v1/decisions/{decision}:evaluate", "post"), ("/v1/decisions/{decision}:batch", "post"),
                         ("/v1/decisions", "get"), ("/v1/decisions/{decision}", "get"), ("/v1/rules/{rule}", "get"),
                         ("/v1/log/{record_id}", "get"), ("/v1/log", "get"), ("/v1/log/{record_id}/explain", "get"),
                         ("/v1/log/verify", "post"), ("/v1/admin/reload", "post"), ("/healthz", "get"),
                         ("/readyz", "get")]:
        assert method in doc["paths"][path], path
    errors = doc["paths"]["/v1/decisions/{decision}:evaluate"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "413", "422"} <= set(errors)
    assert set(errors["422"]["content"]) == {PROBLEM}
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


# -- the log: public view unless the role allows the full one (6.3.1) ----------------------------
def test_a_service_key_sees_the_public_view(client, policies, log_path, perf):
    r = client.get(f"/v1/log/{perf['log_id']}", headers=key(SERVICE))
    shown = r.json()
    assert shown["view"] == "public" and shown["redaction"]["basis"]["citation"] == "6.3.1"
    salary_range = {"salary_range": {"minimum": "87911", "maximum": "97703"}}
    assert shown["value"] == {"eligible": "[withheld]", "award_eligible": "[withheld]",
                              "new_salary": salary_range, "increase": salary_range}
    assert shown["facts"]["salary"] == salary_range
    assert shown["facts"]["level"] == shown["facts"]["rating"] == "[withheld]"
    assert "93500" not in r.text and "89000" not in r.text and "PL-06" not in json.dumps(shown["facts"])
    with DecisionLog(log_path) as dl:  # exactly what redact.view shows in the public view
        assert shown == json.loads(json.dumps(redacted(dl.get(perf["log_id"]), policies, "public")))


def test_an_auditor_sees_the_full_record(client, log_path, perf):
    shown = client.get(f"/v1/log/{perf['log_id']}", headers=key(AUDITOR)).json()
    assert "view" not in shown
    assert shown["value"]["new_salary"] == "93500" and shown["facts"]["salary"] == "89000"
    assert shown["subject"] == "E123"
    with DecisionLog(log_path) as dl:
        assert shown == dl.get(perf["log_id"])
    assert client.get(f"/v1/log/{perf['log_id'][:8]}", headers=key(AUDITOR)).json()["id"] == perf["log_id"]


def test_explanations_in_french_text_and_html(client, perf):
    url = f"/v1/log/{perf['log_id']}/explain"
    public = client.get(url, params={"lang": "fr"}, headers=key(SERVICE))
    assert public.headers["content-type"].startswith("text/plain")
    assert public.text.startswith("Décision") and "Vue publique" in public.text
    assert "échelle de traitement 87\u00a0911\u00a0$–97\u00a0703\u00a0$" in public.text and "93\u00a0500" not in public.text
    full = client.get(url, params={"lang": "fr", "format": "text"}, headers=key(AUDITOR)).text
    assert "new_salary = 93\u00a0500\u00a0$" in full and "Vue publique" not in full
    html = client.get(url, params={"lang": "fr", "format": "html"}, headers=key(SERVICE))
    assert html.headers["content-type"].startswith("text/html")
    assert html.text.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html.text and "93\u00a0500" not in html.text
    assert "93\u00a0500" in client.get(url, params={"lang": "fr", "format": "html"}, headers=key(AUDITOR)).text
    problem(client.get(url, params={"format": "pdf"}, headers=key(SERVICE)), 422, "bad-request")


def test_log_list_with_filters(client, perf):
    today = datetime.now(timezone.utc).date()
    rows = client.get("/v1/log", params={"decision": "ldp.performance_pay", "subject": "E123"},
                      headers=key(AUDITOR)).json()
    assert [r["id"] for r in rows] == [perf["log_id"]]
    assert rows[0]["value"]["new_salary"] == "93500"
    public = client.get("/v1/log", params={"subject": "E123"}, headers=key(SERVICE)).json()
    assert public[0]["value"] == "[withheld]"  # a summary's value may be a specific salary
    dated = client.get("/v1/log", params={"subject": "E123", "from": str(today), "to": str(today)},
                       headers=key(AUDITOR)).json()
    assert [r["id"] for r in dated] == [perf["log_id"]]
    assert client.get("/v1/log", params={"from": str(today + timedelta(days=1))}, headers=key(AUDITOR)).json() == []
    everything = client.get("/v1/log", headers=key(AUDITOR)).json()
    assert len(everything) >= 2 and [r["seq"] for r in everything] == sorted(r["seq"] for r in everything)
    assert len(client.get("/v1/log", params={"limit": 1}, headers=key(AUDITOR)).json()) == 1
    for bad in ({"from": "2009-02-30"}, {"to": "June"}, {"limit": -1}):
        problem(client.get("/v1/log", params=bad, headers=key(SERVICE)), 422, "bad-request")


def test_unknown_records(client):
    problem(client.get("/v1/log/abcdef0123456789", headers=key(AUDITOR)), 404, "unknown-record")
    problem(client.get("/v1/log/abc", headers=key(AUDITOR)), 404, "unknown-record")  # prefix too short
    problem(client.get("/v1/log/xyz", headers=key(AUDITOR)), 404, "not-found")  # not a record id at all


def test_verify(client, log_path, perf):
    body = client.post("/v1/log/verify", headers=key(SERVICE)).json()
    with DecisionLog(log_path) as dl:
        seq, digest = dl.head()
    assert body["ok"] is True and body["checked"] == seq and body["head"] == f"{seq}:{digest}"
    assert client.post("/v1/log/verify", params={"head": body["head"]}, headers=key(SERVICE)).json()["ok"] is True
    wrong = client.post("/v1/log/verify", params={"head": f"1:{'0' * 64}"}, headers=key(SERVICE)).json()
    assert wrong["ok"] is False and wrong["problem"]
    problem(client.post("/v1/log/verify", params={"head": "garbage"}, headers=key(SERVICE)), 422, "bad-request")


def test_without_a_log_the_log_endpoints_say_so(policies):
    with TestClient(policyengine.http.app(policies)) as c:
        r = c.post("/v1/decisions/ldp.pay.annual_rate:evaluate", json=PL03)
        assert r.status_code == 200 and "log_id" not in r.json() and "location" not in r.headers
        problem(c.get("/v1/log"), 404, "no-log")
        problem(c.post("/v1/log/verify"), 404, "no-log")
        assert c.get("/readyz").json()["log"] is None


def test_without_keys_every_caller_is_a_service(policies, tmp_path):
    log = tmp_path / "anon.sqlite"
    with TestClient(policyengine.http.app(policies, log=str(log))) as c:
        rid = c.post("/v1/decisions/ldp.performance_pay:evaluate", json=PERF).json()["log_id"]
        assert c.get(f"/v1/log/{rid}").json()["view"] == "public"
        problem(c.post("/v1/admin/reload"), 403, "forbidden")


# -- batch ---------------------------------------------------------------------------------------
def lines(r):
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in r.text.splitlines()]


def test_batch_of_a_json_array_reports_a_bad_row_and_decides_the_others(client, log_path):
    cases = [PL03, {"facts": {"level": "PL-09", "step": 1}, "as_of": "2009-06-01"}, "not a case",
             {**PL03, "known_on": "2009-04-10", "subject_id": "E9"},
             {"facts": {"level": "PL-06", "step": 1}, "as_of": "2009-06-01"},
             {**PL03, "as_of": "2013-06-01"}]
    rows = lines(client.post("/v1/decisions/ldp.pay.annual_rate:batch", json=cases,
                             headers={**key(SERVICE), "X-Request-ID": "batch-1"}))
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["value"] == "63520" and rows[3]["value"] == "62581"
    assert rows[1]["problem"]["status"] == 422 and rows[1]["problem"]["problems"][0]["fact"] == "level"
    assert rows[2]["problem"]["status"] == 422  # not an object: that row's problem
    assert rows[4]["status"] == "refused" and rows[4]["messages"][0]["citation"] == "Appendix B, 12"
    assert rows[5]["problem"]["status"] == 422 and "not in force" in rows[5]["problem"]["detail"]
    with DecisionLog(log_path) as dl:
        record = dl.get(rows[3]["log_id"])
        assert (record["request_id"], record["subject"], record["value"]) == ("batch-1", "E9", "62581")


def test_batch_of_json_lines(client):
    body = "\n".join([json.dumps(PL03), "", "{not json", json.dumps({**PL03, "facts": {"level": "PL-04", "step": 2}}),
                      json.dumps({"facts": {}, "as_of": "2009-06-01"})]) + "\n"
    rows = lines(client.post("/v1/decisions/ldp.pay.annual_rate:batch", content=body.encode(),
                             headers={**key(SERVICE), "content-type": "application/x-ndjson"}))
    assert [r["row"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["value"] == "63520" and rows[0]["log_id"]
    assert rows[1]["problem"]["status"] == 400  # the malformed line only
    assert rows[2]["status"] == "decided" and rows[2]["value"]
    assert rows[3]["status"] == "undetermined" and set(rows[3]["missing"]) == {"level", "step"}


def test_batch_rows_view_is_the_batch_backend_and_agrees_with_the_decision_view(policies, client):
    cases = [PL03, {"facts": {"level": "PL-09", "step": 1}, "as_of": "2009-06-01"}, "not a case",
             {**PL03, "known_on": "2009-04-10", "subject_id": "E9"},
             {"facts": {"level": "PL-06", "step": 1}, "as_of": "2009-06-01"},
             {"facts": {"step": 2}, "as_of": "2009-06-01"}, {**PL03, "as_of": "2013-06-01"}]
    with TestClient(policyengine.http.app(policies)) as c:  # no log: the rows view is allowed
        rows = lines(c.post("/v1/decisions/ldp.pay.annual_rate:batch?view=rows", json=cases))
        full = lines(c.post("/v1/decisions/ldp.pay.annual_rate:batch", json=cases))
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    # Appendix B, 12: PL-03 step 2, rates C (2009-04-02); as known on 2009-04-10, rates B (C approved 2009-04-23)
    assert rows[0]["value"] == "63520" and rows[3]["value"] == "62581" and rows[3]["subject_id"] == "E9"
    for r, f in zip(rows, full):
        if "problem" in f:
            assert r["problem"]["status"] == f["problem"]["status"]
            continue
        assert {k: r[k] for k in ("status", "value", "clauses", "missing")} == \
               {k: f[k] for k in ("status", "value", "clauses", "missing")}
        assert [a["fact"] for a in f["assumptions"]] == r["assumptions"]
    assert rows[4]["messages"][0]["citation"] == "Appendix B, 12"
    assert "not in force" in rows[6]["problem"]["problems"][0]["problem"]
    # a logging server keeps its contract: every decision is logged, so no rows view
    problem(client.post("/v1/decisions/ldp.pay.annual_rate:batch?view=rows", json=[PL03], headers=key(SERVICE)),
            422, "rows-view-not-logged")


def test_batch_size_is_bounded(client, monkeypatch):
    monkeypatch.setattr(http_api, "MAX_BATCH", 3)
    body = problem(client.post("/v1/decisions/ldp.pay.annual_rate:batch", json=[PL03] * 4, headers=key(SERVICE)),
                   422, "batch-too-large")
    assert "at most 3" in body["detail"]
    problem(client.post("/v1/decisions/ldp.pay.annual_rate:batch", json={"facts": {}}, headers=key(SERVICE)),
            422, "bad-request")


# -- operations ----------------------------------------------------------------------------------
def test_healthz_and_readyz(client, policies, log_path):
    assert client.get("/healthz").json()["status"] == "alive"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "policy_hash": policies.policy_hash, "engine_version": __version__,
                            "log": str(log_path), "problems": []}


def test_readyz_is_503_when_the_log_cannot_be_opened(policies, tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with TestClient(policyengine.http.app(policies, log=str(folder)), raise_server_exceptions=False) as c:
        r = c.get("/readyz")
        assert r.status_code == 503
        assert r.json()["status"] == "not ready" and "is a folder" in r.json()["problems"][0]
        assert c.get("/healthz").status_code == 200  # alive, just not ready
        # a decision that cannot be logged is not acknowledged
        body = problem(c.post("/v1/decisions/ldp.pay.annual_rate:evaluate", json=PL03), 503, "log-unavailable")
        assert "is a folder" in body["detail"]


def test_reload_swaps_the_policies_and_refuses_a_broken_folder(tmp_path):
    root = tmp_path / "policies"
    shutil.copytree(ROOT, root)
    api = policyengine.http.app(str(root), log=str(tmp_path / "log.sqlite"),
                                keys=keyring.parse(KEYS_TEXT, "keys"))
    with TestClient(api, raise_server_exceptions=False) as c:
        old = c.get("/readyz").json()["policy_hash"]
        first = c.post("/v1/decisions/ldp.pay.annual_rate:evaluate", json=PL03, headers=key(SERVICE)).json()
        questionnaires = root / "etm" / "questionnaires.yaml"
        questionnaires.write_text(questionnaires.read_text(encoding="utf-8") + "\n# amended\n", encoding="utf-8")

        r = c.post("/v1/admin/reload", headers=key(ADMIN))
        assert r.status_code == 200, r.text
        new = r.json()["policy_hash"]
        assert r.json()["status"] == "reloaded" and new != old and r.headers["x-policy-hash"] == new
        after = c.post("/v1/decisions/ldp.pay.annual_rate:evaluate", json=PL03, headers=key(SERVICE))
        assert after.json()["policy_hash"] == new == after.headers["x-policy-hash"]
        # a record made before the reload is still explained under its own policies
        assert c.get(f"/v1/log/{first['log_id']}", headers=key(AUDITOR)).json()["policy_hash"] == old
        assert "Décision" in c.get(f"/v1/log/{first['log_id']}/explain", params={"lang": "fr"},
                                   headers=key(AUDITOR)).text

        pay = root / "ldp" / "pay.yaml"
        pay.write_text(pay.read_text(encoding="utf-8") + "\nrules: [unclosed\n", encoding="utf-8")
        body = problem(c.post("/v1/admin/reload", headers=key(ADMIN)), 422, "bad-policies")
        assert body["problems"] and any("pay.yaml" in p for p in body["problems"])
        assert c.get("/readyz").json()["policy_hash"] == new  # the old policies kept
        kept = c.post("/v1/decisions/ldp.pay.annual_rate:evaluate", json=PL03, headers=key(SERVICE))
        assert kept.status_code == 200 and kept.headers["x-policy-hash"] == new and kept.json()["value"] == "63520"


def test_a_request_keeps_the_policies_it_started_with(policies):
    """What a reload swaps is the state's reference; a request holds the object it took."""
    api = policyengine.http.app(policies)
    state = api.state.engine

    class Req:
        class state:
            pass

    taken = state.serving(Req)
    state.policies = object()  # what a reload does, as one assignment
    assert taken is policies and Req.state.policy_hash == policies.policy_hash


# -- keys ----------------------------------------------------------------------------------------
def test_keys_file_is_parsed_with_roles_and_names():
    keys = keyring.parse(KEYS_TEXT, "keys")
    assert {k: (c.role, c.name) for k, c in keys.items()} == {
        SERVICE: ("service", "payroll system"), AUDITOR: ("auditor", "key on line 3"),
        ADMIN: ("admin", "key on line 4")}
    assert keys[ADMIN].may("auditor") and keys[AUDITOR].may("service") and not keys[SERVICE].may("auditor")


@pytest.mark.parametrize("text,message", [
    ("short service\n", "keys.txt:1: the key is shorter than 16 characters"),
    (f"{SERVICE} root\n", "keys.txt:1: role 'root' is not one of service, auditor, admin"),
    (f"# only a comment\n{SERVICE}\n", "keys.txt:2: expected 'KEY ROLE [NAME]'"),
    (f"{SERVICE} service\n{SERVICE} auditor\n", "keys.txt:2: the same key appears twice"),
    ("# nothing\n\n", "keys.txt: no keys"),
])
def test_keys_file_problems_are_clear(tmp_path, text, message):
    path = tmp_path / "keys.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as e:
        keyring.load(str(path))
    assert message.replace("keys.txt", str(path)) in e.value.problems


def test_keys_from_the_environment_or_none(tmp_path, monkeypatch):
    monkeypatch.setenv(keyring.ENV, f"{AUDITOR} auditor")
    assert keyring.load(None)[AUDITOR].role == "auditor"
    monkeypatch.delenv(keyring.ENV)
    assert keyring.load(None) is None
    with pytest.raises(InputError, match="cannot read the key file"):
        keyring.load(str(tmp_path / "missing.txt"))
    monkeypatch.setenv(keyring.ENV, "tooshort admin")
    with pytest.raises(InputError, match=r"\$POLICYENGINE_API_KEYS:1: the key is shorter than 16"):
        keyring.load(None)


def test_without_keys_the_server_refuses_other_hosts(monkeypatch):
    import argparse

    from policyengine.http import server
    monkeypatch.delenv(keyring.ENV, raising=False)
    args = argparse.Namespace(keys=None, host="0.0.0.0", port=0, policies=str(ROOT), log=None, workers=1,
                              max_body=1000)
    with pytest.raises(InputError, match="loopback only"):
        server.run(args)
    assert server._is_loopback("127.0.0.1") and server._is_loopback("::1") and not server._is_loopback("10.0.0.1")


# -- the plain path of :evaluate (no FastAPI dependencies, no pydantic model) ------------------------
_KEYS = keyring.parse(KEYS_TEXT, "keys")
_HEADERS = [(b"content-type", b"application/json"), (b"x-api-key", SERVICE.encode())]


def test_the_plain_path_takes_the_usual_request_and_leaves_the_rest():
    plain = http_api._plain_request
    body = {**PL03, "known_on": "2009-05-01", "trace": "full", "lang": "fr", "presume": False, "subject_id": "E1"}
    who, *fields = plain(_HEADERS, json.dumps(body).encode(), _KEYS)
    assert who.role == "service" and fields == [PL03["facts"], "2009-06-01", "2009-05-01", "full", False, "fr", "E1"]
    assert plain(_HEADERS, json.dumps(PL03).encode(), None)  # no keys: anyone on loopback is a service
    for headers in ([(b"content-type", b"application/json")],  # no key: 401 from the documented route
                    [(b"content-type", b"text/plain"), (b"x-api-key", SERVICE.encode())],
                    [(b"x-api-key", SERVICE.encode())]):
        assert plain(headers, json.dumps(PL03).encode(), _KEYS) is None
    assert plain([(b"content-type", b"application/json; charset=utf-8"),
                  (b"authorization", f"Bearer {AUDITOR}".encode())], json.dumps(PL03).encode(), _KEYS)
    for raw in (b"", b"{", b"[]", b'{"as_of": "2009-06-01\\n"}', b'{"as_of": "2009-06-01", "presume": 1}',
                b'{"as_of": "2009-06-01", "subject_id": "\\ud800"}', b'{"as_of": "2009-06-01", "x": 1}',
                b'{"as_of": "2009-06-01", "facts": null}', b'{"facts": {}}'):
        assert plain(_HEADERS, raw, _KEYS) is None, raw


_any_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                     max_size=3), max_leaves=6)
_days = st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\n?\Z") | st.text(max_size=12)
_fields = {"facts": st.dictionaries(st.text(max_size=4), _any_json, max_size=3) | _any_json, "as_of": _days,
           "known_on": st.none() | _days, "trace": st.sampled_from(["none", "audit", "full", "AUDIT"]) | _any_json,
           "lang": st.none() | st.sampled_from(["en", "fr", "de"]) | _any_json, "presume": _any_json,
           "subject_id": st.none() | st.text(max_size=210) | st.just("x" * 201) | _any_json, "extra": _any_json}


@given(st.fixed_dictionaries({}, optional=_fields))
@settings(max_examples=400, deadline=None)
def test_the_plain_path_says_yes_only_where_the_model_does(body):
    """Where the hand check takes a body, EvaluateRequest accepts it with the same values."""
    try:
        raw = json.dumps(body).encode()
    except UnicodeEncodeError:
        return
    taken = http_api._plain_request(_HEADERS, raw, _KEYS)
    try:
        model = http_api.EvaluateRequest.model_validate(json.loads(raw))
    except Exception:  # noqa: BLE001 - pydantic's ValidationError
        model = None
    if taken is not None:
        assert model is not None, body
        assert taken[1:] == (model.facts, model.as_of, model.known_on, model.trace, model.presume, model.lang,
                             model.subject_id)


def test_logged_requests_in_flight_together_share_commits(policies, tmp_path):
    """Group commit: each request gets its own record id once it is committed; the log keeps
    one chain and every acknowledged record."""
    import asyncio

    import httpx
    api = policyengine.http.app(policies, log=str(tmp_path / "d.sqlite"))
    state = api.state.engine

    async def many():
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await asyncio.gather(*(c.post("/v1/decisions/ldp.pay.annual_rate:evaluate",
                                                 json={**PL03, "subject_id": f"E{i}"}) for i in range(40)))
    answers = asyncio.run(many())
    assert all(r.status_code == 200 for r in answers)
    ids = [r.json()["log_id"] for r in answers]
    assert len(set(ids)) == 40 and all(r.headers["location"] == f"/v1/log/{i}" for r, i in zip(answers, ids))
    assert state.writer.groups < 40  # some shared a transaction
    state.writer.close()
    with DecisionLog.open(tmp_path / "d.sqlite") as dl:
        assert dl.head()[0] == 40 and dl.verify().ok
        assert {dl.get(i)["subject"] for i in ids} == {f"E{i}" for i in range(40)}
