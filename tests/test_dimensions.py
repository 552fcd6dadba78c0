"""Dimensional consistency check (kinetics.dimensions): rules, checks, report, library models."""
from __future__ import annotations

import pytest

import kinetics as kx
from kinetics.dimensions import UnitIssue, check_units, dimension_text, format_unit_report
from kinetics.units import dimension


def _binding(kon_unit="1/(uM*s)", *, species_unit=None, units=None, koff_unit="1/s"):
    """A + B <-> AB with concentration species (scheme unit when species_unit is None)."""
    return kx.Scheme(
        "binding",
        species=[kx.Species("A", 1.0, unit=species_unit), kx.Species("B", 1.0, unit=species_unit),
                 kx.Species("AB", 0.0, unit=species_unit)],
        parameters=[kx.Parameter("kon", 5.0, kon_unit), kx.Parameter("koff", 10.0, koff_unit)],
        reactions=[kx.reaction("A + B <-> AB", "kon", "koff")],
        units=units or kx.UnitSystem(), check_units=False,  # some are wrong on purpose: the report is tested
    )


def _with_observables(*observables, inputs=(), parameters=()):
    """A one-state receptor (unit fraction) carrying the given observables."""
    return kx.Scheme(
        "obs",
        species=[kx.Species("C", 1.0, unit="1"), kx.Species("O", 0.0, unit="1")],
        parameters=[kx.Parameter("alpha", 1.0, "1/(mM*ms)"), kx.Parameter("beta", 0.1, "1/ms"), *parameters],
        inputs=[kx.Input("glu", 0.0, "mM"), *inputs],
        reactions=[kx.reaction("C <-> O", "alpha*glu", "beta")],
        observables=list(observables), check_units=False,  # some are wrong on purpose: the report is tested
    )


V = kx.Input("V", -65.0, "mV")
MG = kx.Input("Mg", 1.0, "mM")
G = kx.Parameter("g", 1.0, "nS")
E = kx.Parameter("E", 0.0, "mV", bounds=(-100, 100))


# --------------------------------------------------------------------------- consistent schemes
def test_consistent_binding_scheme_has_no_issues():
    assert check_units(_binding()) == []
    # the docstring scheme: fraction states, ligand as an input
    s = kx.Scheme("b", species=[kx.Species("R", 1.0, unit="1"), kx.Species("LR", 0.0, unit="1")],
                  parameters=[kx.Parameter("kon", 1.0, "1/(mM*ms)"), kx.Parameter("koff", 0.1, "1/ms")],
                  inputs=[kx.Input("L", 0.0, "mM")], reactions=[kx.reaction("R <-> LR", "kon*L", "koff")])
    assert check_units(s) == []
    assert format_unit_report(check_units(s), "b") == "Units of b: no dimensional inconsistencies found."


def test_unit_conversions_do_not_matter():
    # uM vs mM, s vs ms, per-second vs per-minute: same dimensions
    for kon in ("1/(uM*s)", "1/(mM*ms)", "1/(nM*min)", "/M/s", "mM^-1 ms^-1"):
        assert check_units(_binding(kon)) == [], kon
    assert check_units(_binding(species_unit="uM")) == []
    assert check_units(_binding(units=kx.UnitSystem(time="s", concentration="uM"))) == []
    s = _with_observables(kx.Observable("I", "g*O*(V - E)", unit="nA"),  # nS*mV = pA, same dimension as nA
                          kx.Observable("glu_uM", "1000*glu", unit="uM"),
                          inputs=[V], parameters=[G, E])
    assert check_units(s) == []


# --------------------------------------------------------------------------- mass action
def test_wrong_rate_constant_unit_in_a_bimolecular_reaction():
    issues = check_units(_binding("1/ms"))
    assert issues == [UnitIssue("reaction 0 (`A + B <-> AB`) forward rate",
                                "the rate constant `kon` has the wrong dimension", "1/ms", "1/(mM*ms)")]
    assert str(issues[0]) == ("reaction 0 (`A + B <-> AB`) forward rate: the rate constant `kon` has the wrong "
                              "dimension (inferred 1/ms, expected 1/(mM*ms))")
    # the texts are written in the scheme's unit system
    issues = check_units(_binding("1/ms", units=kx.UnitSystem(time="s", concentration="uM")))
    assert [(i.inferred, i.expected) for i in issues] == [("1/s", "1/(uM*s)")]
    # the reverse (first-order) constant declared as a second-order one
    issues = check_units(_binding(koff_unit="1/(mM*ms)"))
    assert [(i.where, i.inferred, i.expected) for i in issues] == \
        [("reaction 0 (`A + B <-> AB`) reverse rate", "1/(mM*ms)", "1/ms")]


def test_fraction_species_use_their_own_unit():
    # C (fraction) -> O: alpha*glu must be 1/ms; an alpha declared 1/ms makes it mM/ms
    bad = _with_observables().with_parameters()  # consistent first
    assert check_units(bad) == []
    s = bad.replace(parameters=(kx.Parameter("alpha", 1.0, "1/ms"), kx.Parameter("beta", 0.1, "1/ms")))
    issues = check_units(s)
    assert [(i.where, i.inferred, i.expected) for i in issues] == \
        [("reaction 0 (`C <-> O`) forward rate", "mM/ms", "1/ms")]


def test_reaction_between_species_of_different_units_is_reported():
    s = kx.Scheme("mixed", species=[kx.Species("R", 1.0, unit="1"), kx.Species("L", 1.0, unit="uM"),
                                    kx.Species("RL", 0.0, unit="1")],
                  parameters=[kx.Parameter("kon", 1.0, "1/(uM*s)"), kx.Parameter("koff", 1.0, "1/s")],
                  reactions=[kx.reaction("R + L <-> RL", "kon", "koff")], check_units=False)
    issues = check_units(s)
    assert len(issues) == 1
    assert issues[0].where == "reaction 0 (`R + L <-> RL`)"
    assert "species of different dimensions" in issues[0].message
    assert "`L` [mM]" in issues[0].message and "`R` [1]" in issues[0].message


def test_general_rate_law_and_rate_rules_need_species_unit_per_time():
    def scheme(rate, rule):
        return kx.Scheme("ca", species=[kx.Species("Ca", 1e-4, unit="mM"), kx.Species("w", 0.0, unit="1")],
                         parameters=[kx.Parameter("k", 1.0, "1/ms"), kx.Parameter("J", 1.0, "uM/s"),
                                     kx.Parameter("tau", 10.0, "ms")],
                         reactions=[kx.reaction("-> Ca", rate=rate)], rate_rules=[kx.RateRule("w", rule)],
                         check_units=False)

    assert check_units(scheme("J - k*Ca", "(1 - w)/tau")) == []
    issues = check_units(scheme("k - J", "1 - w"))
    assert [(i.where, i.inferred, i.expected) for i in issues if i.inferred] == \
        [("rate rule of `w`", "1", "1/ms")]
    # k - J: terms of different dimensions (the rate is then unknown, not reported twice)
    assert [i.where for i in issues if not i.inferred] == ["reaction 0 (`-> Ca`) rate"]
    assert "`k` [1/ms]" in issues[0].message and "[mM/ms]" in issues[0].message


# --------------------------------------------------------------------------- expression rules
def test_sum_of_concentration_and_time_is_reported():
    tau = kx.Parameter("tau", 10.0, "ms")
    issues = check_units(_with_observables(kx.Observable("bad", "glu + tau"), parameters=[tau]))
    assert len(issues) == 1
    assert issues[0].where == "observable `bad`"
    assert issues[0].message == "terms of a sum of different dimensions: `glu` [mM], `tau` [ms]"
    # comparisons and min/max/piecewise branches follow the same rule
    for expr in ("piecewise(1, glu > tau, 0)", "max(glu, tau)", "piecewise(glu, O > 0.5, tau)"):
        issues = check_units(_with_observables(kx.Observable("bad", expr), parameters=[tau]))
        assert len(issues) == 1, expr
        assert "[mM]" in issues[0].message and "[ms]" in issues[0].message, expr
    # zero fits every dimension; thresholds of the same dimension are fine
    th = kx.Parameter("theta", 0.1, "uM")
    assert check_units(_with_observables(kx.Observable("ok", "piecewise(glu, glu > theta, 0) + max(0, glu)"),
                                         parameters=[th])) == []


def test_exp_of_a_dimensional_symbol_is_reported():
    issues = check_units(_with_observables(kx.Observable("x", "exp(-V)"), inputs=[V]))
    assert issues == [UnitIssue("observable `x`", "the argument of exp must be dimensionless: `-V`", "mV", "1")]
    for expr in ("log(glu)", "tanh(V)", "sigmoid(V)"):
        issues = check_units(_with_observables(kx.Observable("x", expr), inputs=[V]))
        assert [(i.inferred, i.expected) for i in issues] == [(dimension_text(dimension(
            "mM" if "glu" in expr else "mV")), "1")], expr
    # a dimensionless argument built from parameters is fine
    vh = kx.Parameter("Vh", 16.0, "mV")
    assert check_units(_with_observables(kx.Observable("x", "exp(-V/Vh) + sigmoid((V + E)/Vh)"),
                                         inputs=[V], parameters=[vh, E])) == []


def test_jahr_stevens_literals_are_not_reported():
    # Jahr & Stevens (1990): B = 1/(1 + exp(-0.062 V) [Mg]/3.57), V in mV, [Mg] in mM
    for b in ("1/(1 + exp(-0.062*V)*Mg/3.57)", "1/(1 + Mg/3.57*exp(-V/16.13))", "sigmoid((V + 20)/5)"):
        s = _with_observables(kx.Observable("B", b, unit="1"), kx.Observable("I", "g*O*B*(V - E)", unit="pA"),
                              inputs=[V, MG], parameters=[G, E])
        assert check_units(s) == [], b
    # the literal only excuses a product with a dimensional quantity inside the function
    issues = check_units(_with_observables(kx.Observable("B", "1/(1 + exp(-V)*Mg/3.57)"), inputs=[V, MG]))
    assert [i.message for i in issues] == [
        "the argument of exp must be dimensionless: `-V`",
        # exp(-V) counts as dimensionless, so Mg/3.57 (outside any function) is a concentration added to 1
        "terms of a sum of different dimensions: `1` [1], `0.2801120448179272*Mg*exp(-V)` [mM]"]


def test_literal_added_to_a_dimensional_quantity_outside_functions_is_reported():
    issues = check_units(_with_observables(kx.Observable("x", "V + 27"), inputs=[V]))
    assert [i.message for i in issues] == ["terms of a sum of different dimensions: `27` [1], `V` [mV]"]


def test_inputs_without_unit_are_unknown_and_never_reported():
    u = kx.Input("drive", 0.0)
    s = _with_observables(kx.Observable("x", "exp(drive) + drive*glu + log(drive)"), inputs=[u])
    assert check_units(s) == []


def test_symbolic_exponents_use_the_value_of_dimensionless_parameters():
    hill = [kx.Parameter("n", 4.0, "1"), kx.Parameter("K", 0.7, "uM")]
    ok = _with_observables(kx.Observable("act", "glu^n/(K^n + glu^n)", unit="1"), parameters=hill)
    assert check_units(ok) == []
    bad = _with_observables(kx.Observable("act", "glu^n/(K + glu^n)"), parameters=hill)
    issues = check_units(bad)
    assert len(issues) == 1  # the sum (then unknown: no follow-up issue)
    assert issues[0].message == "terms of a sum of different dimensions: `K` [mM], `glu**n` [mM^4]"


def test_heaviside_depends_on_the_sign_only():
    th = kx.Parameter("theta", 0.1, "uM")
    assert check_units(_with_observables(kx.Observable("h", "heaviside(glu - theta)", unit="1"),
                                         parameters=[th])) == []
    tau = kx.Parameter("tau", 1.0, "ms")
    issues = check_units(_with_observables(kx.Observable("h", "heaviside(glu - tau)"), parameters=[tau]))
    assert len(issues) == 1 and "`-tau` [ms]" in issues[0].message


# --------------------------------------------------------------------------- observables
def test_declared_observable_unit_mismatch_is_reported():
    s = _with_observables(kx.Observable("I", "g*O*(V - E)", unit="nS"), inputs=[V], parameters=[G, E])
    assert check_units(s) == [UnitIssue("observable `I`", "the expression does not have the declared unit `nS`",
                                        "pA", "nS")]
    # other expressions use the declared unit, so one wrong declaration is one issue
    s = _with_observables(kx.Observable("G", "g*O", unit="pA"), kx.Observable("I", "G*(V - E)", unit="pA"),
                          inputs=[V], parameters=[G, E])
    issues = check_units(s)
    assert [(i.where, i.inferred, i.expected) for i in issues] == [("observable `G`", "nS", "pA"),
                                                                  ("observable `I`", "mV*pA", "pA")]


# --------------------------------------------------------------------------- text, report, errors
def test_dimension_text_and_report():
    assert dimension_text(dimension("1/(uM*s)")) == "1/(mM*ms)"
    assert dimension_text(dimension("nS*mV")) == "pA"
    assert dimension_text(dimension("J/(mol*K)")) == "mV*fC/(mmol*K)"
    assert dimension_text(dimension("1/(uM*s)"), kx.UnitSystem(time="s", concentration="uM")) == "1/(uM*s)"
    assert dimension_text(dimension("1")) == "1" and dimension_text(None) == "unknown"
    issues = check_units(_binding("1/ms")) + check_units(_with_observables(kx.Observable("x", "exp(-V)"),
                                                                           inputs=[V]))
    report = format_unit_report(issues, "demo")
    assert report.splitlines() == [
        "Units of demo: 2 dimensional inconsistencies",
        "  - reaction 0 (`A + B <-> AB`) forward rate: the rate constant `kon` has the wrong dimension "
        "(inferred 1/ms, expected 1/(mM*ms))",
        "  - observable `x`: the argument of exp must be dimensionless: `-V` (inferred mV, expected 1)",
    ]


def test_check_units_needs_a_scheme():
    with pytest.raises(kx.ArgumentError, match="must be a kinetics.Scheme"):
        check_units("A -> B")


# --------------------------------------------------------------------------- the library
def _library():
    from models import calcium, destexhe1994, mg_block
    from models.cli.export import library_builders

    out = {}
    for name, builder in library_builders().items():
        try:
            out[name] = builder()
        except kx.KineticsError:
            continue  # builders that need a receptor (calcium.spine_calcium) are built below
    for rate_set in destexhe1994.rate_set_names():
        for factors in (False, True):
            out[f"destexhe1994.five_state:{rate_set}:{factors}"] = destexhe1994.five_state(
                rate_set, statistical_factors=factors)
    out["mg_block(five_state)"] = mg_block.with_nmda_current(destexhe1994.five_state())
    out["mg_block(two_state)"] = mg_block.with_nmda_current(destexhe1994.two_state())
    out["calcium(nmda+vgcc)"] = calcium.spine_calcium(mg_block.with_nmda_current(destexhe1994.five_state()),
                                                      vgcc=True)
    return out


def test_library_models():
    lib = _library()
    assert len(lib) >= 20
    for name, scheme in lib.items():
        issues = check_units(scheme)
        assert issues == [], (name, format_unit_report(issues))


# --------------------------------------------------------------------------- checked when a scheme is built
def _decay(koff_unit, **kw):
    return kx.Scheme("decay", species=[kx.Species("A", 1.0), kx.Species("B", 0.0)],
                     parameters=[kx.Parameter("koff", 0.1, koff_unit)], reactions=[kx.reaction("A -> B", "koff")],
                     **kw)


def test_a_first_order_rate_in_per_concentration_raises_at_build():
    with pytest.raises(kx.UnitError) as err:
        _decay("1/mM")
    msg = str(err.value)
    assert msg.startswith("scheme `decay`: reaction 0 (`A -> B`) forward rate: the rate constant `koff` has the "
                          "wrong dimension (inferred 1/mM, expected 1/ms)")
    assert "check_units=False" in msg
    assert isinstance(err.value, kx.SchemeError) and isinstance(err.value, ValueError)
    assert [(i.inferred, i.expected, i.component) for i in err.value.issues] == [("1/mM", "1/ms", ("reaction", 0))]
    assert _decay("1/s").reactions  # the right unit builds


def test_a_second_order_rate_of_the_wrong_order_raises_at_build():
    with pytest.raises(kx.UnitError, match=r"reaction 0 \(`A \+ B <-> AB`\) forward rate: the rate constant `kon` "
                                           r"has the wrong dimension \(inferred 1/ms, expected 1/\(mM\*ms\)\)"):
        _binding("1/ms", species_unit="uM").replace(check_units=True)
    assert _binding(species_unit="uM").replace(check_units=True).check_units is True


def test_mismatched_terms_and_exponents_with_units_raise_at_build():
    tau = kx.Parameter("tau", 10.0, "ms")
    with pytest.raises(kx.UnitError, match=r"observable `bad`: terms of a sum of different dimensions: "
                                           r"`glu` \[mM\], `tau` \[ms\]"):
        _with_observables(kx.Observable("bad", "glu + tau"), parameters=[tau]).replace(check_units=True)
    with pytest.raises(kx.UnitError, match=r"the exponent of `2\*\*tau` must be dimensionless \(inferred ms"):
        _with_observables(kx.Observable("bad", "2**tau"), parameters=[tau]).replace(check_units=True)
    with pytest.raises(kx.UnitError, match="2 dimensional errors"):  # every issue is listed
        _with_observables(kx.Observable("a", "glu + tau"), kx.Observable("b", "exp(V)"),
                          inputs=[V], parameters=[tau]).replace(check_units=True)


def test_the_opt_out_is_kept_by_derived_schemes_and_files(tmp_path):
    s = _decay("1/mM", check_units=False)
    assert s.check_units is False
    for derived in (s.with_parameters(koff=0.2), s.rename({"A": "A2"}), s.replace(description="d"),
                    s + kx.Scheme("c", species=[kx.Species("C")], parameters=[kx.Parameter("k", 1.0, "1/ms")],
                                  reactions=[kx.reaction("C ->", "k")])):
        assert derived.check_units is False
    assert "units time=ms concentration=mM voltage=mV current=pA conductance=nS check=off" in kx.format_scheme(s)
    assert kx.parse_scheme(kx.format_scheme(s)).check_units is False
    from kinetics.jsonformat import read_json

    assert read_json(kx.export(s, "json")).check_units is False
    assert '"check_units"' not in kx.export(_decay("1/s"), "json")
    assert kx.read_sbml(kx.export(s, "sbml")).check_units is False
    assert kx.read_sbml(kx.export(_decay("1/s"), "sbml")).check_units is True
    with pytest.raises(kx.SchemeError, match="must be True or False"):
        _decay("1/s", check_units="no")


def test_undeclared_units_are_silent_at_build():
    # species without a unit: the order of a bimolecular rate constant is undecidable
    assert _binding("1/ms").replace(check_units=True).check_units
    # parameters without a unit (dimensionless by default) and bare numbers may carry the unit system's unit
    kx.Scheme("u", species=[kx.Species("A", 1.0, unit="1")], parameters=[kx.Parameter("k", 0.1)],
              reactions=[kx.reaction("A ->", "k")], rate_rules=[kx.RateRule("A", "1e-3*heaviside(0.5 - A)")])
    kx.Scheme("n", species=[kx.Species("A", 1.0, unit="uM")], inputs=[kx.Input("V", -65.0, "mV")],
              reactions=[kx.reaction("A ->", "0.5*exp(-0.062*V)"), kx.reaction("-> A", rate="2.5")],
              observables=[kx.Observable("x", "V + 27")])
    # inputs without a unit are unknown
    kx.Scheme("i", species=[kx.Species("A", 1.0)], inputs=[kx.Input("drive")],
              reactions=[kx.reaction("A ->", "drive")])
    # ... and the fuller report still finds the undeclared bimolecular rate constant
    assert len(check_units(_binding("1/ms"))) == 1


def test_the_check_at_build_uses_parameter_values_of_symbolic_exponents():
    hill = [kx.Parameter("n", 1.0, "1"), kx.Parameter("K", 0.7, "uM")]
    ok = _with_observables(kx.Observable("act", "glu^n/(K + glu^n)"), parameters=hill).replace(check_units=True)
    with pytest.raises(kx.UnitError, match=r"`K` \[mM\], `glu\*\*n` \[mM\^2\]"):
        ok.with_parameters(n=2.0)
    assert ok.with_parameters(n=1.0).check_units


def test_readers_say_where_the_unit_error_is(tmp_path):
    text = ("scheme decay\nspecies A = 1\nparameter koff = 0.1 [1/mM]\n"
            "parameter k = 1 [1/ms]\nA -> ; k\nA -> ; koff\n")
    path = tmp_path / "decay.txt"
    path.write_text(text)
    with pytest.raises(kx.UnitError) as err:
        kx.read_scheme(path)
    assert err.value.line == 6 and err.value.source == str(path)
    assert str(err.value).startswith(f"{path}:6: scheme `decay`: reaction 1 (`A ->`) forward rate: the rate constant "
                                     "`koff` has the wrong dimension (inferred 1/mM, expected 1/ms)")
    assert kx.parse_scheme(text.replace("scheme decay", "scheme decay\nunits check=off")).check_units is False
    with pytest.raises(kx.ParseError, match="`check` takes `on` or `off`"):
        kx.parse_scheme(text.replace("scheme decay", "scheme decay\nunits check=maybe"))
    from kinetics.jsonformat import read_json

    doc = kx.export(_decay("1/s"), "json").replace('"1/s"', '"1/mM"')
    jpath = tmp_path / "decay.json"
    jpath.write_text(doc)
    with pytest.raises(kx.UnitError,
                       match=rf"^{jpath}: scheme `decay`: reaction 0 .* \(inferred 1/mM, expected 1/ms\)"):
        read_json(jpath)
    with pytest.raises(kx.ParseError, match="check_units: must be true or false"):
        read_json(doc.replace('"rate_rules": []', '"rate_rules": [], "check_units": "no"'))


def test_library_models_are_checked_when_built():
    for name, scheme in _library().items():
        assert scheme.check_units is True, name  # built with the check, and it passed
