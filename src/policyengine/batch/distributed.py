"""evaluate_batch across a dask.distributed cluster.

The rows are cut into one part per worker thread (in order); each part is decided on a
worker by the same evaluate_batch, and the parts are put back together in order.  The
policies travel as their source files (what the decision log keeps), once per cluster:
each worker rebuilds the folder under its temporary directory and loads it once per
content hash, and checks that the hash it loaded is the one it was sent.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pyarrow as pa

_LOADED: dict = {}  # policy hash -> Policies, in each worker process


def _policies_on_worker(policy_hash: str, sources: dict):
    p = _LOADED.get(policy_hash)
    if p is None:
        from ..runtime.evaluator import PolicyEvaluator
        from ..source.loader import load_model
        root = Path(tempfile.mkdtemp(prefix=f"policyengine-{policy_hash[7:19]}-"))
        for rel, data in sources.items():
            f = root / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(data)
        p = PolicyEvaluator(load_model(root))
        if p.policy_hash != policy_hash:
            raise RuntimeError(f"the policies rebuilt on this worker hash to {p.policy_hash}, not {policy_hash}")
        _LOADED[policy_hash] = p
    return p


def _part(policy_hash, sources, decision, columns, offset, options):
    from .engine import evaluate_batch
    return evaluate_batch(_policies_on_worker(policy_hash, sources), decision, columns, row_offset=offset, **options)


def evaluate_distributed(policies, decision, data, client, **options) -> pa.Table:
    from .engine import _columns, metadata
    policies.rule(decision)  # an unknown decision is said here, not on a worker
    row_offset = options.pop("row_offset", 0)
    input_errors = options.pop("input_errors", None) or {}
    n, cols = _columns(data)
    workers = max(1, sum(client.nthreads().values()))
    size = max(1, -(-n // workers))
    # one object, under a key of its own: a dict scattered as such becomes one task per file, keyed
    # by the file's path, and a second call re-scattering the same keys races the first's release
    [sources] = client.scatter([dict(policies.sources)], broadcast=True, hash=False)
    futures = []
    for start in range(0, n, size):
        part = {k: v[start:start + size] for k, v in cols.items()}
        errs = {r - start: e for r, e in input_errors.items() if start <= r < start + size}
        futures.append(client.submit(_part, policies.policy_hash, sources, decision, part, row_offset + start,
                                     dict(options, input_errors=errs), pure=False))
    tables = client.gather(futures)
    if not tables:
        from .engine import evaluate_batch
        return evaluate_batch(policies, decision, data, row_offset=row_offset, **options)  # no rows
    metas = [metadata(t) for t in tables]
    meta = dict(metas[0])
    for k in ("rows", "columnar_rows", "scalar_rows", "numeric_rows", "paths", "scalar_evaluations", "input_errors"):
        meta[k] = sum(m[k] for m in metas)
    meta["statuses"] = {s: sum(m["statuses"][s] for m in metas) for s in meta["statuses"]}
    meta["fallbacks"] = [f for m in metas for f in m["fallbacks"]]
    meta["seconds"] = max(m["seconds"] for m in metas)
    meta["workers"] = workers
    meta["parts"] = len(tables)
    table = pa.concat_tables([t.replace_schema_metadata(None) for t in tables], promote_options="permissive")
    return table.replace_schema_metadata({b"policyengine": json.dumps(meta).encode()})
