"""The decisions reference lists, under each public decision, the clauses it applies."""
import policyengine
from policyengine.tools import reference


def test_performance_pay_lists_the_clauses_it_applies():
    md = reference.markdown(policyengine.load("policies"))
    section = md.split("### `ldp.performance_pay`\n", 1)[1].split("\n### ", 1)[0]
    applies = next(line for line in section.splitlines() if line.startswith("Applies: "))
    cited = applies[len("Applies: "):].split("; ")
    for clause in ("Appendix B, 10.7(1)", "Appendix B, 10.7(3)", "Appendix B, 10.7(12)", "Appendix B, 13"):
        assert clause in cited
    # in reading order, numbers compared as numbers
    assert cited.index("Appendix B, 10.7(3)") < cited.index("Appendix B, 10.7(12)") < cited.index("Appendix B, 13")
