"""Scheme construction, validation errors, composition and renaming."""
import math

import pytest
import sympy

from kinetics import (Input, Observable, Parameter, RateRule, Scheme, SchemeError, Species, compose, reaction)


def binding():
    return Scheme(
        "binding",
        species=[Species("R", 1.0, unit="1"), Species("LR", 0.0, unit="1")],
        parameters=[Parameter("kon", 1.0, "1/(mM*ms)"), Parameter("koff", 0.1, "1/ms")],
        inputs=[Input("L", 0.0, "mM")],
        reactions=[reaction("R <-> LR", "kon*L", "koff")],
        observables=[Observable("occupancy", "LR/(R + LR)")],
    )


def test_names_and_flux():
    s = binding()
    assert s.species_names == ("R", "LR")
    assert s.parameter_names == ("kon", "koff")
    R, LR, kon, koff, L = sympy.symbols("R LR kon koff L")
    assert sympy.simplify(s.reactions[0].flux() - (kon * L * R - koff * LR)) == 0


def test_mass_action_has_no_hidden_statistical_factor():
    s = Scheme("dimer", species=[Species("A", 1.0), Species("A2", 0.0)], parameters=[Parameter("k", 2.0, "1/(mM*ms)")],
               reactions=[reaction("2 A -> A2", "k")])
    A, k = sympy.symbols("A k")
    assert s.reactions[0].flux() == k * A**2


def test_structure_key_ignores_values_but_not_structure():
    a = binding()
    assert a.structure_key() == a.with_parameters(koff=0.5).with_initial(R=0.5).structure_key()
    b = a.replace(reactions=(reaction("R <-> LR", "2*kon*L", "koff"),))
    assert a.structure_key() != b.structure_key()
    assert hash(a) == hash(binding()) and a == binding()


def test_unknown_name_suggests_closest():
    with pytest.raises(SchemeError, match=r"unknown name `kofff`.*did you mean `koff`"):
        Scheme("x", species=[Species("R", 1.0), Species("LR")], parameters=[Parameter("koff", 1.0, "1/ms")],
               reactions=[reaction("R -> LR", "kofff")])


def test_unknown_species_in_reaction():
    with pytest.raises(SchemeError, match=r"unknown species `C3`.*did you mean `C2`"):
        Scheme("x", species=[Species("C1", 1.0), Species("C2")], parameters=[Parameter("k", 1.0, "1/ms")],
               reactions=[reaction("C1 -> C3", "k")])


def test_duplicate_names():
    with pytest.raises(SchemeError, match=r"duplicate name `k`"):
        Scheme("x", species=[Species("k", 1.0)], parameters=[Parameter("k", 1.0, "1/ms")],
               reactions=[reaction("k ->", "k")])


@pytest.mark.parametrize("value, match", [(-1.0, "outside its bounds.*non-negative"), (math.inf, "finite"),
                                          (math.nan, "finite"), ("abc", "must be a number")])
def test_bad_parameter_values(value, match):
    with pytest.raises(SchemeError, match=match):
        Parameter("k", value, "1/ms")


def test_negative_initial_needs_opt_in():
    with pytest.raises(SchemeError, match="negative"):
        Species("A", -1.0)
    assert Species("V", -65.0, nonnegative=False).initial == -65.0


def test_empty_and_inconsistent_schemes():
    with pytest.raises(SchemeError, match="no species"):
        Scheme("x", reactions=[reaction("-> A", "1")])
    with pytest.raises(SchemeError, match="nothing changes"):
        Scheme("x", species=[Species("A", 1.0)])
    with pytest.raises(SchemeError, match="reserved"):
        Species("t", 1.0)
    with pytest.raises(SchemeError, match="reverse rate constant"):
        reaction("A <-> B", "k")


def test_observable_cycle_is_an_error():
    with pytest.raises(SchemeError, match="cycle"):
        Scheme("x", species=[Species("A", 1.0)], reactions=[reaction("A ->", "a")],
               observables=[Observable("a", "b + 1"), Observable("b", "a*2")])


def test_bad_unit_is_an_error():
    with pytest.raises(SchemeError, match="unknown unit"):
        Parameter("k", 1.0, "1/mSec")


def test_parameter_unit_conversion_to_scheme_units():
    s = Scheme("x", species=[Species("A", 1.0)], parameters=[Parameter("Rb", 5.0, "1/(uM*s)"), Parameter("k", 12.9, "1/s")],
               inputs=[Input("glu", 1.0, "mM")], reactions=[reaction("A ->", "Rb*glu + k")])
    f = s.parameter_factors()
    assert f["Rb"] == pytest.approx(1.0)      # 5 /uM/s = 5 /mM/ms
    assert f["k"] == pytest.approx(1e-3)      # 12.9 /s = 0.0129 /ms


def test_compose_shares_symbols_and_sums_rate_rules():
    receptor = binding()
    calcium = Scheme("calcium", species=[Species("Ca", 0.0), Species("LR", 0.0, unit="1")],
                     parameters=[Parameter("k_ca", 1.0, "1/ms"), Parameter("tau_ca", 20.0, "ms")],
                     rate_rules=[RateRule("Ca", "k_ca*LR - Ca/tau_ca")])
    syn = receptor + calcium
    assert syn.species_names == ("R", "LR", "Ca")
    assert len(syn.reactions) == 1 and len(syn.rate_rules) == 1
    bad = calcium.with_initial(LR=0.5)
    with pytest.raises(SchemeError, match="species `LR` differs"):
        compose([receptor, bad])


def test_prefixed_keeps_shared_names():
    pre = binding().prefixed("pre_", keep=["L"])
    assert pre.species_names == ("pre_R", "pre_LR")
    assert "L" in pre.input_names and "pre_kon" in pre.parameter_names
    both = pre + binding().prefixed("post_", keep=["L"])
    assert set(both.species_names) == {"pre_R", "pre_LR", "post_R", "post_LR"}
    assert both.input_names == ("L",)


def test_with_parameters_returns_new_scheme_and_validates():
    s = binding()
    s2 = s.with_parameters(koff=0.2)
    assert s.get_parameter("koff").value == 0.1 and s2.get_parameter("koff").value == 0.2
    with pytest.raises(SchemeError, match="did you mean `koff`"):
        s.with_parameters(kof=1.0)
    with pytest.raises(SchemeError, match="bounds"):
        s.with_parameters(koff=-1.0)


def test_summary_mentions_everything():
    text = binding().summary()
    for piece in ("R <-> LR", "L*kon", "koff", "occupancy", "1/(mM*ms)"):
        assert piece in text
