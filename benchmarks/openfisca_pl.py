"""The PL pay rules of bench_batch.py as a minimal OpenFisca model (openfisca_core only).

A single entity (Person), one variable per fact, and the rules as vectorised formulas over
OpenFisca parameters built from the SAME tables the policy loads (policies.tables
"ldp.pl_step_rates" and "ldp.pl06_range", every version with its effective date), so
OpenFisca picks the version in force itself (parameters(period)).

  annual_rate    Appendix B, 12: pl.rates[level][step] (vectorial parameter indexing)
  new_salary     Appendix B, 10.7(12): salary increased by increase_pct, rounded half-up to
                 the nearest $100, up to the PL-06 job rate (pl.pl06.maximum); unchanged
                 when not eligible (10.7(1): PL-06 rated met most, met all or surpassed)
  award_eligible 10.7(4): eligible, and at the job rate or the rounded figure above it

OpenFisca computes a variable for all persons at one period, so cases are grouped by
period: for the annual rate, by the table version in force on the row's day (the period
is then that version's effective day); for performance pay, by the row's day (April 1 of
a year; the version in force is the previous April 2's). Each group is one Simulation
(SimulationBuilder.build_default_simulation + set_input on arrays + calculate), and the
results are scattered back to row order. The rounding is integer arithmetic: increase_pct
is given in hundredths of a per cent (int), salaries in whole dollars, so the result is
exact and can be compared with the Decimal reference; the rates are whole dollars, exact in
OpenFisca's float32.

Import fails (ImportError) without openfisca_core: bench_batch.py then skips OpenFisca.
"""
from __future__ import annotations

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.indexed_enums import Enum, EnumArray
from openfisca_core.parameters import ParameterNode
from openfisca_core.periods import DateUnit
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

Person = build_entity("person", "persons", "A PL participant", is_person=True)


class Level(Enum):
    PL_01 = "PL-01"
    PL_02 = "PL-02"
    PL_03 = "PL-03"
    PL_04 = "PL-04"
    PL_05 = "PL-05"
    PL_06 = "PL-06"


class Rating(Enum):
    surpassed = "surpassed"
    met_all = "met_all"
    met_most = "met_most"
    did_not_meet = "did_not_meet"
    unable_to_assess = "unable_to_assess"


LEVELS = [m.value for m in Level]
RATINGS = [m.name for m in Rating]
STEP_KEYS = np.asarray(["step_1", "step_2", "step_3"])


class level(Variable):
    value_type = Enum
    possible_values = Level
    default_value = Level.PL_01
    entity = Person
    definition_period = DateUnit.ETERNITY
    label = "PL level"


class step(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.ETERNITY
    label = "Step in the PL-01 to PL-05 range"


class salary(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.ETERNITY
    label = "Base salary, whole dollars"


class rating(Variable):
    value_type = Enum
    possible_values = Rating
    default_value = Rating.unable_to_assess
    entity = Person
    definition_period = DateUnit.ETERNITY
    label = "Performance rating"


class increase_hundredths(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.ETERNITY
    label = "In-range increase granted, in hundredths of a per cent"


class annual_rate(Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.DAY
    label = "Annual rate of pay (Appendix B, 12)"

    def formula(person, period, parameters):
        rates = parameters(period).pl.rates
        return rates[person("level", period)][STEP_KEYS[person("step", period) - 1]]


class eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.DAY
    label = "Entitled to performance pay (10.7(1))"

    def formula(person, period, parameters):
        r = person("rating", period)
        return (person("level", period) == Level.PL_06) * (
            (r == Rating.met_most) + (r == Rating.met_all) + (r == Rating.surpassed))


class job_rate(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "PL-06 job rate (top of the s. 12 range)"

    def formula(person, period, parameters):
        return np.full(person.count, int(parameters(period).pl.pl06.maximum), dtype=np.int64)


class increased_salary(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Salary after the in-range increase, rounded half-up to $100 (10.7(12))"

    def formula(person, period, parameters):
        x = person("salary", period).astype(np.int64) * (10_000 + person("increase_hundredths", period))
        return (x + 500_000) // 1_000_000 * 100


class new_salary(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.DAY
    label = "Salary after performance pay, up to the job rate (10.7(12))"

    def formula(person, period, parameters):
        capped = np.minimum(person("increased_salary", period), person("job_rate", period))
        return np.where(person("eligible", period), capped, person("salary", period))


class award_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.DAY
    label = "May be granted a performance award (10.7(4))"

    def formula(person, period, parameters):
        job = person("job_rate", period)
        return person("eligible", period) * (
            (person("salary", period) >= job) + (person("increased_salary", period) > job))


def _values(versions, cell) -> dict:
    return {"values": {v.effective.isoformat(): float(cell(v)) for v in versions}}


def build_system(policies) -> TaxBenefitSystem:
    """The model, with parameters taken from the policy's own table versions."""
    steps = policies.tables["ldp.pl_step_rates"].versions
    ranges = policies.tables["ldp.pl06_range"].versions
    rates = {m.name: {STEP_KEYS[s - 1]: _values(steps, lambda v, lv=m.value, s=s: v.cells[(lv, s)])
                      for s in (1, 2, 3)} for m in Level if m is not Level.PL_06}
    pl06 = {b: _values(ranges, lambda v, b=b: v.cells[(b,)]) for b in ("minimum", "maximum")}
    tbs = TaxBenefitSystem([Person])
    tbs.add_variables(level, step, salary, rating, increase_hundredths, annual_rate, eligible, job_rate,
                      increased_salary, new_salary, award_eligible)
    tbs.parameters = ParameterNode("", data={"pl": {"rates": rates, "pl06": pl06}})
    return tbs


def enum_codes(column, names) -> np.ndarray:
    """An Arrow string column as the indices of its values in `names` (an Enum's order)."""
    import pyarrow.compute as pc
    enc = pc.dictionary_encode(column).combine_chunks() if hasattr(column, "chunks") else pc.dictionary_encode(column)
    remap = np.asarray([names.index(v) for v in enc.dictionary.to_pylist()], dtype=np.int16)
    return remap[enc.indices.to_numpy()]


def simulate(tbs, groups, inputs: dict, outputs: list, n: int) -> dict:
    """For each (period, row indices) in groups: one Simulation of those rows with `inputs`
    (variable -> full-length array; enums as EnumArray indices), then calculate() each of
    `outputs`; returns {output: array in row order}."""
    out = {}
    for period, idx in groups:
        sim = SimulationBuilder().build_default_simulation(tbs, len(idx))
        for name, arr in inputs.items():
            enum = tbs.variables[name].possible_values if tbs.variables[name].value_type is Enum else None
            part = arr[idx]
            sim.set_input(name, period, EnumArray(part, enum) if enum is not None else part)
        for name in outputs:
            res = sim.calculate(name, period)
            if name not in out:
                out[name] = np.empty(n, dtype=res.dtype)
            out[name][idx] = res
    return out
