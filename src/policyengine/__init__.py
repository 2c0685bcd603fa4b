"""policyengine: Government of Canada HR policy as versioned, cited, traceable rules.

    policies = policyengine.load("policies")
    d = policies.evaluate("ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, as_of="2008-06-01")
"""
from .version import __version__  # noqa: E402

from .errors import (EvaluationError, InputError, NotInForceError, PolicyEngineError, PolicyError,  # noqa: E402
                     UnknownDecisionError)
from .policies import Policies, load  # noqa: E402

__all__ = ["load", "Policies", "PolicyError", "EvaluationError", "InputError", "NotInForceError", "PolicyEngineError",
           "UnknownDecisionError", "__version__"]
