"""PEtab in and out (kinetics.fitting.petab).

* The negative log-likelihood at the nominal parameters of three problems of the PEtab benchmark collection
  (tests/data/petab, BSD-3) equals the log-likelihood AMICI's test suite publishes for them, to 1e-3.
* A multistart fit of Boehm_JProteomeRes2014 reaches the collection's reported optimum.
* Laplace noise, log/log10 transformations and priors against closed forms on a decay model.
* write_petab: petab.lint passes and read_petab gives the nmdakin fit's likelihood back.
* Unsupported features are refused with PetabError naming them.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

import kinetics as kx
from kinetics.errors import KineticsError
from kinetics.fitting import Dataset, FitParameter, fit
from kinetics.fitting.petab import PetabError, read_petab, write_petab

DATA = Path(__file__).parent / "data" / "petab"


def _references():
    with open(DATA / "reference_llh.tsv") as fh:
        return {r["problem"]: float(r["llh"]) for r in csv.DictReader(fh, delimiter="\t")}


REFERENCES = _references()


def _benchmark(name, **kw):
    return read_petab(DATA / name / f"{name}.yaml", **kw)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_nllh_at_nominal_parameters_matches_amici_reference(name):
    problem = _benchmark(name)
    assert problem.nllh() == pytest.approx(-REFERENCES[name], abs=1e-3)


def test_boehm_structure_and_exact_gradient():
    problem = _benchmark("Boehm_JProteomeRes2014", rtol=1e-12, atol=1e-14)
    assert problem.x_names == ("Epo_degradation_BaF3", "k_exp_hetero", "k_exp_homo", "k_imp_hetero", "k_imp_homo",
                               "k_phos", "sd_pSTAT5A_rel", "sd_pSTAT5B_rel", "sd_rSTAT5A_rel")
    assert len(problem.datasets) == 1 and problem.measurements.shape[0] == 48
    x = problem.x_nominal + 0.05
    value, grad = problem.value_and_gradient(x)
    assert value == pytest.approx(problem.nllh(x), rel=1e-12)
    eps = 1e-5
    fd = [(problem.nllh(x + eps * e) - problem.nllh(x - eps * e)) / (2 * eps) for e in np.eye(x.size)]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-4)
    # a dict of linear values, a vector on the scales and the nominal values agree
    assert problem.nllh({"k_phos": 15766.5070195731}) == pytest.approx(problem.nllh(), abs=1e-9)


def test_boehm_multistart_reaches_the_reported_optimum():
    problem = _benchmark("Boehm_JProteomeRes2014")
    best_reported = problem.nllh()            # the collection's nominal values are its reported optimum
    # From the whole box (10^-5..10^5) about 2 % of the starts reach the optimum (3 of 144 starts, seeds 0-11 of
    # 12 starts each); this seed's design has one of them, so the test runs in seconds.
    res = problem.fit(n_starts=12, seed=3, executor="serial")
    assert -res.log_likelihood <= best_reported + 1e-2
    assert res.starts[res.best_start].cost == pytest.approx(-res.log_likelihood, abs=1e-5)
    assert len(res.starts) == 12 and res.n_data == 48 and res.names == problem.x_names
    assert res.values["k_phos"] == pytest.approx(15766.5, rel=0.05)
    assert "Boehm_JProteomeRes2014" in res.report()


# --------------------------------------------------------------------------- closed forms on a decay model
def _write(path: Path, rows: list[dict]):
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, cols, delimiter="\t")
        w.writeheader()
        w.writerows(rows)


DECAY = kx.Scheme("decay", species=[kx.Species("A", 2.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
                  reactions=[kx.reaction("A ->", "k")])
TIMES = [0.5, 1.0, 2.0, 3.0]
VALUES = [1.7, 1.1, 0.75, 0.4]


def _decay_problem(tmp_path: Path, *, observables=None, parameters=None, measurements=None, conditions=None,
                   yaml_extra="", problem_extra="", sbml=None):
    (tmp_path / "model.xml").write_text(sbml if sbml is not None else kx.export(DECAY, "sbml"))
    _write(tmp_path / "conditions.tsv", conditions or [{"conditionId": "c1", "conditionName": ""}])
    _write(tmp_path / "observables.tsv", observables or [
        {"observableId": "obs_a", "observableFormula": "scale * A", "noiseFormula": "noiseParameter1_obs_a",
         "observableTransformation": "lin", "noiseDistribution": "normal"}])
    _write(tmp_path / "measurements.tsv", measurements or [
        {"observableId": "obs_a", "simulationConditionId": "c1", "measurement": m, "time": t,
         "observableParameters": "", "noiseParameters": "sd"} for t, m in zip(TIMES, VALUES)])
    _write(tmp_path / "parameters.tsv", parameters or [
        {"parameterId": "k", "parameterScale": "log10", "lowerBound": 0.01, "upperBound": 10, "nominalValue": 0.4,
         "estimate": 1},
        {"parameterId": "scale", "parameterScale": "lin", "lowerBound": 0.1, "upperBound": 10, "nominalValue": 1.1,
         "estimate": 1},
        {"parameterId": "sd", "parameterScale": "log", "lowerBound": 0.01, "upperBound": 10, "nominalValue": 0.2,
         "estimate": 1}])
    (tmp_path / "problem.yaml").write_text(
        f"format_version: 1\nparameter_file: parameters.tsv\n{yaml_extra}problems:\n- sbml_files: [model.xml]\n"
        f"  condition_files: [conditions.tsv]\n  measurement_files: [measurements.tsv]\n"
        f"  observable_files: [observables.tsv]\n{problem_extra}")
    return tmp_path / "problem.yaml"


def _closed_form(transformation, distribution, k=0.4, scale=1.1, sd=0.2, a0=2.0):
    h = scale * a0 * np.exp(-k * np.array(TIMES))
    m = np.array(VALUES)
    f = {"lin": lambda v: v, "log": np.log, "log10": np.log10}[transformation]
    jac = {"lin": 0.0 * m, "log": np.log(m), "log10": np.log(m * np.log(10))}[transformation]
    r = (f(m) - f(h)) / sd
    if distribution == "normal":
        return float(np.sum(0.5 * np.log(2 * np.pi * sd ** 2) + 0.5 * r ** 2 + jac))
    return float(np.sum(np.log(2 * sd) + np.abs(r) + jac))


@pytest.mark.parametrize("transformation", ["lin", "log", "log10"])
@pytest.mark.parametrize("distribution", ["normal", "laplace"])
def test_noise_models_and_transformations_against_closed_forms(tmp_path, transformation, distribution):
    path = _decay_problem(tmp_path, observables=[
        {"observableId": "obs_a", "observableFormula": "scale * A", "noiseFormula": "noiseParameter1_obs_a",
         "observableTransformation": transformation, "noiseDistribution": distribution}])
    problem = read_petab(path, rtol=1e-11, atol=1e-13)
    assert problem.x_scales == ("log10", "lin", "log")
    assert problem.nllh() == pytest.approx(_closed_form(transformation, distribution), abs=1e-7)
    x = np.array([math.log10(0.7), 0.9, math.log(0.3)])
    assert problem.nllh(x) == pytest.approx(_closed_form(transformation, distribution, k=0.7, scale=0.9, sd=0.3),
                                            abs=1e-7)
    value, grad = problem.value_and_gradient(x)
    eps = 1e-6
    fd = [(problem.nllh(x + eps * e) - problem.nllh(x - eps * e)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)


def test_condition_table_initial_values_overrides_and_priors(tmp_path):
    # two conditions: A(0) set to a number and to an estimated parameter; noise given per row as numbers
    meas = [{"observableId": "obs_a", "simulationConditionId": c, "measurement": m, "time": t,
             "observableParameters": "", "noiseParameters": 0.1 * (i + 1)}
            for c in ("c1", "c2") for i, (t, m) in enumerate(zip(TIMES, VALUES))]
    params = [
        {"parameterId": "k", "parameterScale": "log10", "lowerBound": 0.01, "upperBound": 10, "nominalValue": 0.4,
         "estimate": 1, "objectivePriorType": "normal", "objectivePriorParameters": "0.5;0.2"},
        {"parameterId": "scale", "parameterScale": "lin", "lowerBound": 0.1, "upperBound": 10, "nominalValue": 1.1,
         "estimate": 1, "objectivePriorType": "parameterScaleLaplace", "objectivePriorParameters": "1;0.5"},
        {"parameterId": "a_start", "parameterScale": "lin", "lowerBound": 0.1, "upperBound": 10,
         "nominalValue": 3.0, "estimate": 1}]
    path = _decay_problem(tmp_path, measurements=meas, parameters=params,
                          conditions=[{"conditionId": "c1", "A": 2.0}, {"conditionId": "c2", "A": "a_start"}])
    problem = read_petab(path, rtol=1e-11, atol=1e-13)
    sd = 0.1 * np.arange(1, 5)
    expected = 0.0
    for a0 in (2.0, 3.0):
        h = 1.1 * a0 * np.exp(-0.4 * np.array(TIMES))
        expected += np.sum(0.5 * np.log(2 * np.pi * sd ** 2) + 0.5 * ((np.array(VALUES) - h) / sd) ** 2)
    assert problem.nllh() == pytest.approx(expected, abs=1e-7)
    prior = (0.5 * math.log(2 * math.pi * 0.04) + 0.5 * ((0.4 - 0.5) / 0.2) ** 2) + (math.log(1.0) + 0.1 / 0.5)
    assert problem.neg_log_prior() == pytest.approx(prior, abs=1e-12)
    x = problem.x_nominal + np.array([0.1, -0.2, 0.3])
    value, grad = problem.value_and_gradient(x)
    eps = 1e-6
    fd = [(problem.objective_value(x + eps * e) - problem.objective_value(x - eps * e)) / (2 * eps)
          for e in np.eye(3)]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)
    res = problem.fit(n_starts=3, executor="serial")      # L-BFGS-B (a Laplace prior is not a sum of squares)
    assert -res.log_likelihood + problem.neg_log_prior(res.starts[res.best_start].x) == \
        pytest.approx(res.starts[res.best_start].cost, abs=1e-6)
    assert res.starts[res.best_start].cost <= problem.objective_value() + 1e-9


# --------------------------------------------------------------------------- export
def test_write_petab_round_trip_lints_and_keeps_the_likelihood(tmp_path):
    petab_v1 = pytest.importorskip("petab.v1")
    s = kx.Scheme("binding", species=[kx.Species("A", 1.0), kx.Species("B", 0.0)],
                  parameters=[kx.Parameter("kf", 500.0, "1/s"), kx.Parameter("kr", 0.1, "1/ms")],
                  reactions=[kx.reaction("A <-> B", "kf", "kr")])
    t = np.linspace(0.0, 20.0, 15)
    rng = np.random.default_rng(0)

    def bound(a0, kf=0.5, kr=0.2):
        return a0 * kf / (kf + kr) * (1 - np.exp(-(kf + kr) * t))

    d1 = Dataset("cell1", time=t, data={"I": 2.0 * bound(1.0) + 0.02 * rng.standard_normal(t.size)},
                 observables={"I": "g*B"}, sigma=0.02)
    d2 = Dataset("cell2", time=t, data={"I": 3.0 * bound(2.0) + 0.05 * rng.standard_normal(t.size),
                                        "A": 2.0 - bound(2.0) + 0.05 * rng.standard_normal(t.size)},
                 observables={"I": "g*B"}, y0={"A": 2.0}, sigma={"I": 0.05, "A": "estimate"})
    res = fit(s, [d1, d2], [FitParameter("kf", bounds=(10.0, 5000.0)), FitParameter("kr", bounds=(0.01, 10)),
                            FitParameter("g", bounds=(0.1, 10), start=1.0, per_dataset=True)],
              n_starts=2, executor="serial")
    path = write_petab(res, tmp_path / "export")
    problem = petab_v1.Problem.from_yaml(str(path))
    assert not petab_v1.lint_problem(problem)
    back = read_petab(path)
    assert back.x_names == ("kf", "kr", "g__cell1", "g__cell2", "sigma_cell2_A")
    assert back.nllh() == pytest.approx(-res.log_likelihood, abs=1e-6)
    # the SBML value of kf is in the scheme's unit system (1/ms): 500/s = 0.5/ms
    assert back.theta()[0] == pytest.approx(res.values["kf"] / 1000.0, rel=1e-12)
    # an Objective (starts, initial noise estimate) is written too
    path2 = write_petab(res.objective, tmp_path / "objective", name="start")
    assert path2.name == "start.yaml"
    assert read_petab(path2).nllh() == pytest.approx(
        res.objective.cost(res.objective.x_start) + res.objective.log_sigma_sum()
        + 0.5 * res.objective.n_data * math.log(2 * math.pi), abs=1e-6)


def test_write_petab_refuses_what_pecab_cannot_hold(tmp_path):
    from kinetics.protocol import Protocol, steps

    d = Dataset("d", time=[0.0, 1.0], data={"A": [2.0, 1.0]}, sigma=0.1,
                protocol=Protocol([steps("u", [0.0], [1.0])]))
    s = kx.Scheme("decay_u", species=[kx.Species("A", 2.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
                  inputs=[kx.Input("u", 0.0)], reactions=[kx.reaction("A ->", "k*u")])
    from kinetics.fitting import Objective

    with pytest.raises(PetabError, match="protocol"):
        write_petab(Objective(s, d, ["k"]), tmp_path / "x")
    with pytest.raises(KineticsError, match="FitResult or an Objective"):
        write_petab(DECAY, tmp_path / "y")


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("change, match", [
    ({"measurements": [{"observableId": "obs_a", "preequilibrationConditionId": "c1", "simulationConditionId": "c1",
                        "measurement": 1.0, "time": 1.0, "noiseParameters": "sd"}]}, "pre-equilibration"),
    ({"measurements": [{"observableId": "obs_a", "simulationConditionId": "c1", "measurement": 1.0,
                        "time": "inf", "noiseParameters": "sd"}]}, "steady-state"),
    ({"observables": [{"observableId": "obs_a", "observableFormula": "A", "noiseFormula": "noiseParameter1_obs_a",
                       "noiseDistribution": "binomial"}]}, "noise distribution `binomial`"),
    ({"observables": [{"observableId": "obs_a", "observableFormula": "A", "noiseFormula": "noiseParameter1_obs_a",
                       "observableTransformation": "logit"}]}, "observableTransformation `logit`"),
    ({"observables": [{"observableId": "obs_a", "observableFormula": "__import__('os').getcwd()",
                       "noiseFormula": "1"}]}, "does not parse"),
    ({"observables": [{"observableId": "obs_a", "observableFormula": "B * A",
                       "noiseFormula": "noiseParameter1_obs_a"}]}, "uses `B`"),
    ({"conditions": [{"conditionId": "c1", "nonexistent": 1.0}]}, "column `nonexistent`"),
    ({"problem_extra": "  mapping_files: [mapping.tsv]\n"}, "mapping tables"),
    ({"yaml_extra": "extensions: {sciml: 1}\n"}, "extensions"),
    ({"measurements": [{"observableId": "obs_a", "simulationConditionId": "c1", "measurement": 1.0, "time": 1.0,
                        "noiseParameters": "sd;sd"}]}, "2 value"),
])
def test_unsupported_features_are_refused(tmp_path, change, match):
    path = _decay_problem(tmp_path, **change)
    with pytest.raises(PetabError, match=match):
        read_petab(path)


def test_events_and_petab2_are_refused(tmp_path):
    from kinetics.protocol import Protocol, steps

    s = kx.Scheme("decay_u", species=[kx.Species("A", 2.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
                  inputs=[kx.Input("u", 1.0)], reactions=[kx.reaction("A ->", "k*u")])
    xml = kx.export(s, "sbml", protocol=Protocol([steps("u", [0.0, 1.0], [1.0, 2.0])]), t_end=5.0)
    assert "<event" in xml
    with pytest.raises(PetabError, match="event"):
        read_petab(_decay_problem(tmp_path, sbml=xml))
    path = _decay_problem(tmp_path)
    path.write_text(path.read_text().replace("format_version: 1", "format_version: 2.0.0"))
    with pytest.raises(PetabError, match="PEtab 1"):
        read_petab(path)
    assert issubclass(PetabError, KineticsError)
