#!/usr/bin/env bash
# The installable package, as a department would use it: build a wheel, install it (not
# editable) into a fresh virtual environment outside the checkout, then validate, evaluate
# and collect the YAML decision tests of a copy of the bundled policies from there.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/policyengine-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT
.venv/bin/pip wheel -q --no-deps -w "$work/dist" .
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$work"/dist/policyengine-*.whl pytest
cp -r policies "$work/policies"
cd "$work"
venv/bin/policyengine validate policies
venv/bin/policyengine eval ldp.pay.annual_rate --fact level=PL-03 --fact step=2 --as-of 2008-06-01 --policies policies \
  --format text > eval.txt  # whole, then shown: `| head` would end it with 141 (its reader went away)
head -3 eval.txt
grep -Eq "decided .+64,?497" eval.txt  # PL-03 step 2, rates B (Appendix B, 12)
venv/bin/python -m pytest -q -p no:cacheprovider policies | tail -1
