"""kinetics.export: the registry, options, atomic writes, bad input, LaTeX and JSON specifics."""
from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

import kinetics as kx
import kinetics.exporters as kexport
from kinetics.exporters import export, exporter, formats
from kinetics.jsonformat import read_json
from models import destexhe1994, mg_block

NMDA = mg_block.with_nmda_current(destexhe1994.five_state())
PROTOCOL = kx.Protocol([kx.pulses("glu", [10.0])])


def test_registry_has_every_format_with_a_suffix():
    assert sorted(formats()) == ["c", "json", "latex", "nmodl", "python", "sbml"]
    assert {exporter(f).suffix for f in formats()} == {".c", ".json", ".tex", ".mod", ".py", ".xml"}
    assert exporter("SBML").name == "sbml"                    # case-insensitive
    assert "protocol" in exporter("nmodl").options and "protocol" not in exporter("latex").options


def test_kinetics_export_is_the_function_and_exporters_the_package():
    import kinetics

    assert kinetics.export is export and kexport.export is export
    assert kinetics.export(NMDA, "json") == export(NMDA, "json")


def test_a_model_with_a_scheme_attribute_is_accepted():
    class Holder:
        scheme = NMDA

    assert export(Holder(), "json") == export(NMDA, "json")
    with pytest.raises(kx.ArgumentError, match="must be a kinetics.Scheme"):
        export(object(), "json")


def test_unknown_format_and_option_are_named():
    with pytest.raises(kx.ArgumentError, match=r"unknown export format `smbl`; did you mean `sbml`\?"):
        export(NMDA, "smbl")
    with pytest.raises(kx.ArgumentError, match=r"unknown option `protocl` for format `sbml`; did you mean `protocol`"):
        export(NMDA, "sbml", protocl=PROTOCOL)
    with pytest.raises(kx.ArgumentError, match="unknown option `protocol` for format `latex`"):
        export(NMDA, "latex", protocol=PROTOCOL)


@pytest.mark.parametrize("fmt", ["sbml", "nmodl", "c", "python"])
def test_protocol_needs_t_end(fmt):
    with pytest.raises(kx.ArgumentError, match="needs `t_end`"):
        export(NMDA, fmt, protocol=PROTOCOL)
    with pytest.raises(kx.ArgumentError, match="`t_end` must be a finite number > 0"):
        export(NMDA, fmt, protocol=PROTOCOL, t_end=-1.0)


def test_protocol_for_unknown_input_is_a_protocol_error():
    with pytest.raises(kx.ProtocolError, match=r"cannot export the protocol .*unknown input `gluu`; did you mean `glu`"):
        export(NMDA, "sbml", protocol=kx.Protocol([kx.pulses("gluu", [1.0])]), t_end=10.0)


def test_writes_atomically_and_returns_the_text(tmp_path):
    path = tmp_path / "nmda.xml"
    text = export(NMDA, "sbml", path)
    assert path.read_text() == text
    assert [p.name for p in tmp_path.iterdir()] == ["nmda.xml"]   # no temporary file left


def test_failed_export_leaves_existing_file_untouched(tmp_path):
    path = tmp_path / "nmda.xml"
    path.write_text("previous content")
    with pytest.raises(kx.ProtocolError):
        export(NMDA, "sbml", path, protocol=kx.Protocol([kx.pulses("nope", [1.0])]), t_end=5.0)
    assert path.read_text() == "previous content"
    assert len(list(tmp_path.iterdir())) == 1


def test_unwritable_paths_are_clear_errors(tmp_path):
    with pytest.raises(kx.ArgumentError, match="folder .* does not exist"):
        export(NMDA, "json", tmp_path / "missing" / "x.json")
    (tmp_path / "afile").write_text("")
    with pytest.raises(kx.ArgumentError, match="cannot write"):
        export(NMDA, "json", tmp_path / "afile" / "x.json")
    with pytest.raises(kx.ArgumentError, match="it is a folder"):
        export(NMDA, "json", tmp_path)


def test_a_folder_refusing_writes_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    """A read-only folder, made certain by refusing the temporary file (chmod means nothing to root)."""
    import kinetics.io

    calls = []

    def refuse(*args, **kwargs):
        calls.append(kwargs.get("dir"))
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(kinetics.io.tempfile, "mkstemp", refuse)
    with pytest.raises(kx.ArgumentError, match=r"^cannot write `.*x\.json`: Permission denied$"):
        export(NMDA, "json", tmp_path / "x.json")
    assert calls == [tmp_path]   # the refusal came from writing into that folder
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_is_a_clear_error_and_removes_the_temporary_file(tmp_path, monkeypatch):
    import kinetics.io

    (tmp_path / "x.json").write_text("previous content")

    def refuse(src, dst):
        assert os.path.exists(src)   # the complete temporary file was there to be renamed
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(kinetics.io.os, "replace", refuse)
    with pytest.raises(kx.ArgumentError, match=r"^cannot write `.*x\.json`: Permission denied$"):
        export(NMDA, "json", tmp_path / "x.json")
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert (tmp_path / "x.json").read_text() == "previous content"


# --------------------------------------------------------------------------- JSON
def test_json_is_lossless_for_awkward_values():
    s = kx.Scheme(
        "awkward",  # names are identifiers; awkward free text is in the description and notes
        species=[kx.Species("A", 0.1 + 0.2, unit="1", note="a\nmultiline \"note\""), kx.Species("B", 1e-300)],
        parameters=[kx.Parameter("k", 1 / 3, "1/(uM*s)", bounds=(-np.inf, np.inf), reference="ref & co"),
                    kx.Parameter("E", -70.0, "mV", bounds=(-100.0, 0.0))],
        inputs=[kx.Input("V", -65.0, "mV")],
        reactions=[kx.reaction("2 A <-> B", "k*exp(E/V)", "k/7", name="dimerise")],
        observables=[kx.Observable("p", "piecewise(A, V > -20, B)", unit="1")],
        rate_rules=[kx.RateRule("A", "heaviside(V + 50, 0.5)*1e-3")],
        units=kx.UnitSystem(time="s"), description="awkward \"name\" ü\u2028\x00", reference="r",
        check_units=False)  # awkward values, not units: `k/7` is not a first-order rate constant
    text = export(s, "json")
    back = read_json(text)
    assert back == s
    assert back.species[0].initial == 0.30000000000000004
    assert kx.derive(back).rhs == kx.derive(s).rhs


def test_json_reading_errors(tmp_path, monkeypatch):
    with pytest.raises(kx.ParseError, match="malformed JSON"):
        read_json('{"format": ')
    with pytest.raises(kx.ParseError, match="`format` is 'other'"):
        read_json('{"format": "other", "version": 1, "name": "x"}')
    with pytest.raises(kx.ParseError, match=r"species\[0\]: unknown field\(s\) 'colour'"):
        read_json('{"format": "nmdakin-scheme", "version": 1, "name": "x", "species": [{"name": "A", "colour": 1}]}')
    with pytest.raises(kx.ParseError, match="invalid JSON number `NaN`"):
        read_json('{"format": "nmdakin-scheme", "version": 1, "name": "x", "species": [{"name": "A", "initial": NaN}]}')
    with pytest.raises(kx.ParseError, match="no such file"):
        read_json(tmp_path / "none.json")
    # an expression that would run code is refused by the safe parser, and nothing runs
    evil = export(NMDA, "json").replace('"forward": "Rb*glu"', '"forward": "__import__(\'os\').system(\'touch pwned\')"',
                                        1)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(kx.ParseError, match=r"reactions\[0\]\.forward"):
        read_json(evil)
    assert not (tmp_path / "pwned").exists()


# --------------------------------------------------------------------------- LaTeX
def test_latex_has_scheme_equations_and_sourced_parameter_table():
    tex = export(NMDA, "latex")
    assert tex.count(r"\begin{document}") == 1 and tex.rstrip().endswith(r"\end{document}")
    assert r"C_{0} &\xrightleftharpoons[\mathrm{Ru}]{\mathrm{Rb} \mathrm{glu}} C_{1}" in tex
    assert r"\frac{\mathrm{d}O}{\mathrm{d}t} &= C_{2} \mathrm{Ro} - O \mathrm{Rc}" in tex
    # every parameter: declared value and unit, the value used, its source
    assert (r"$\mathrm{Ru}$ & $12.9\;\mathrm{s^{-1}}$ & $0.0129\;\mathrm{ms^{-1}}$ & "
            r"Destexhe A, Mainen ZF, Sejnowski TJ (1998)") in tex
    assert r"$5\;\mathrm{s^{-1}\,\mu M^{-1}}$ & $5\;\mathrm{mM^{-1}\,ms^{-1}}$" in tex
    for p in NMDA.parameters:
        if p.reference:
            assert p.reference.replace("&", r"\&") in tex
    fragment = export(NMDA, "latex", standalone=False)
    assert r"\documentclass" not in fragment and r"\subsection*" in fragment


def test_latex_equations_render_with_matplotlib_mathtext():
    """matplotlib's TeX-subset renderer parses every ODE and observable (a real parser of the math)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.mathtext import math_to_image

    from kinetics.exporters.latex import equations

    for scheme in (NMDA, destexhe1994.two_state()):
        for lhs, rhs in equations(scheme):
            math_to_image(f"${lhs} = {rhs}$", io.BytesIO(), format="png")


def test_latex_compiles_with_a_tex_engine(tmp_path):
    engine = next((e for e in ("pdflatex", "lualatex", "xelatex") if shutil.which(e)), None)
    if engine is None:
        pytest.skip("no LaTeX engine (pdflatex, lualatex or xelatex) on this machine; the LaTeX is checked without one "
                    "in test_export_library.py (structure, packages, content read back, mathtext)")
    export(NMDA, "latex", tmp_path / "nmda.tex")
    run = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "nmda.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "nmda.pdf").stat().st_size > 1000


def test_latex_escapes_text_and_accepts_symbols():
    s = NMDA.replace(description="50% of 100$ & #1 {x}_y ~ ^")
    tex = export(s, "latex", symbols={"Rb": "R_b"})
    assert r"50\% of 100\$ \& \#1 \{x\}\_y \textasciitilde{} \textasciicircum{}" in tex
    assert r"R_b \mathrm{glu}" in tex
    with pytest.raises(kx.ArgumentError, match="`symbols` must map"):
        export(s, "latex", symbols=["Rb"])


# --------------------------------------------------------------------------- SBML and NMODL details
def test_sbml_expresses_pulses_as_events_and_waveforms_as_rules():
    libsbml = pytest.importorskip("libsbml")
    protocol = kx.Protocol([kx.pulses("glu", [10.0, 30.0]), kx.steps("V", [0.0], [-40.0]),
                            kx.waveform("V", [20.0], kx.exponential(50.0, 2.0)), kx.jumps("O", [0.0], 0.1)])
    doc = libsbml.readSBMLFromString(export(NMDA, "sbml", protocol=protocol, t_end=50.0))
    m = doc.getModel()
    triggers = sorted(libsbml.formulaToL3String(m.getEvent(i).getTrigger().getMath()) for i in range(m.getNumEvents()))
    assert triggers == ["time >= 10 ms", "time >= 11 ms", "time >= 20 ms", "time >= 30 ms", "time >= 31 ms"]
    assert m.getParameter("glu").getValue() == 0.0 and not m.getParameter("glu").getConstant()
    rule = libsbml.formulaToL3String(m.getAssignmentRule("V").getMath())
    assert "exp(" in rule and "V_tref" in rule
    assert m.getSpecies("O").getInitialAmount() == pytest.approx(0.1)   # the jump at t = 0 is the initial value


def test_nmodl_options_and_errors():
    mod = export(NMDA, "nmodl", name="nmda5", voltage="pointer")
    assert "POINT_PROCESS nmda5" in mod and "POINTER V" in mod and "THREADSAFE" not in mod
    mod = export(NMDA, "nmodl")
    assert "NONSPECIFIC_CURRENT i" in mod and "i = 0.001*I_NMDA" in mod
    with pytest.raises(kx.ArgumentError, match="`voltage` must be"):
        export(NMDA, "nmodl", voltage="clamp")
    with pytest.raises(kx.ArgumentError, match="`pulsed` names `glutamate`"):
        export(NMDA, "nmodl", pulsed=["glutamate"])
    with pytest.raises(kx.ProtocolError, match="different widths"):
        export(NMDA, "nmodl", protocol=kx.Protocol([kx.pulses("glu", [1.0, 5.0], width=[1.0, 2.0])]), t_end=10.0)
    with pytest.raises(kx.ArgumentError, match="block='kinetic' needs mass-action"):
        export(NMDA.replace(rate_rules=(kx.RateRule("O", "0"),)), "nmodl", block="kinetic")


def test_neuron_driver_refuses_what_the_mechanism_cannot_do(tmp_path):
    from kinetics.exporters.nmodl import neuron_script

    bap = kx.Protocol([kx.waveform("V", [5.0], kx.exponential(10.0, 2.0))])
    with pytest.raises(kx.ProtocolError, match="waveform components cannot be reproduced"):
        neuron_script(NMDA, bap, t_end=10.0, t_eval=[0.0, 10.0], mod_dir=str(tmp_path), csv="x.csv",
                      voltage="parameter")
    with pytest.raises(kx.ProtocolError, match="only a holding step"):
        neuron_script(NMDA, kx.Protocol([kx.steps("V", [5.0], [0.0])]), t_end=10.0, t_eval=[0.0, 10.0],
                      mod_dir=str(tmp_path), csv="x.csv", voltage="v")


def test_long_expressions_are_split_for_nocmodl():
    import sympy

    species = [kx.Species(f"X{i}_s", 1.0, "1") for i in range(60)]
    rate = sympy.Add(*[sympy.Symbol(f"X{i}_s") * sympy.Symbol("k") for i in range(60)])
    s = kx.Scheme("long", species=species + [kx.Species("Y", 0.0, "1")],
                  parameters=[kx.Parameter("k", 0.1, "1/ms")], reactions=[kx.reaction("-> Y", rate=rate)])
    mod = export(s, "nmodl")
    assert max(len(line) for line in mod.splitlines()) < 300
    assert "LOCAL nk_l1" in mod


def test_nmodl_renames_states_whose_initial_value_name_is_taken():
    # nocmodl stores the initial value of state X1 in `X10`, which is the state X10 here
    s = kx.Scheme("many", species=[kx.Species(f"X{i}", 1.0, "1") for i in range(11)],
                  parameters=[kx.Parameter("k", 0.1, "1/ms")], reactions=[kx.reaction("X1 -> X10", "k")])
    with pytest.warns(kexport.ExportWarning, match="`X1` -> `X1_`"):
        mod = export(s, "nmodl")
    assert "~ X1_ <-> X10 (k, 0)" in mod
