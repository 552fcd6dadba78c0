"""Names are identifiers by one rule; free text reaches generated code only escaped (:mod:`kinetics.escape`).

Every compiled path is fed hostile text — a C ``__attribute__((constructor))`` that writes a marker file,
Python, NMODL ``VERBATIM`` and LaTeX ``\\input`` payloads, newlines, comment terminators — and the output is
actually compiled and run (gcc, the native solver, a Python subprocess, NEURON's ``nrnivmodl``): the marker
file must not appear and the simulation must still be right.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import re
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import kinetics as kx
from kinetics import escape
from kinetics.errors import ParseError, SchemeError
from kinetics.exporters import ExportWarning, export
from kinetics.jsonformat import read_json
from kinetics.scheme import RESERVED_NAMES, check_name, name_from_text, qualified_name
from kinetics.textformat import parse_scheme, read_scheme

HAVE_CC = shutil.which("gcc") is not None or shutil.which("cc") is not None
K = 0.5  # the decay rate of the test scheme (1/ms): A(t) = exp(-K t)


# --------------------------------------------------------------------------- payloads
def c_payload(marker: Path) -> str:
    """Valid C at file scope once a comment is closed: runs when the library/program is loaded."""
    return (f'x */ int system(const char *); __attribute__((constructor)) static void nk_pwn(void) '
            f'{{ system("touch {marker}"); }} /*')


def py_payload(marker: Path) -> str:
    """Closes a docstring and runs code (valid Python whatever follows on the docstring's first line)."""
    return f'x"""\nimport os; os.system("touch {marker}")\n"""'


PY_TEXT = '"""\\\n# \'\'\' \\N{oops} \\'   # quotes, a backslash-newline, an invalid \\N escape, a trailing backslash


def nmodl_payload(marker: Path) -> str:
    """Ends a `:` comment line and the PARAMETER block, then a top-level VERBATIM block: a C++ initialiser that
    runs when NEURON loads the mechanism (valid NMODL when pasted raw into an input's note)."""
    return (f"x\n}}\nVERBATIM\n#include <stdlib.h>\nstatic int nk_pwn = system(\"touch {marker}\");\n"
            f"ENDVERBATIM\nPARAMETER {{")


def nmodl_title_payload(marker: Path) -> str:
    """nocmodl pastes the TITLE unescaped into a C++ string literal: this closes it (valid C++ as a TITLE)."""
    return f'x"; static int nk_pwn2 = system("touch {marker}"); static const char *nk_y = "x'


LATEX_PAYLOAD = ("\n\n\\input{/etc/passwd} ^^5cinput{/etc/passwd} \\immediate\\write18{touch pwned} $x$ %\n"
                 "\\end{document}")


def hostile(marker: Path) -> str:
    """Every payload at once, plus comment terminators, controls, a bidi override and a line separator."""
    return " | ".join([c_payload(marker), py_payload(marker), PY_TEXT, nmodl_payload(marker),
                       nmodl_title_payload(marker), "\nENDCOMMENT\nCOMMENT\n", LATEX_PAYLOAD,
                       "*/ ??/ \\", "ENDCOMMENT endcomment VERBATIM verbatim", "</p><x>&amp;&#0;]]>",
                       "\r\x0b\x0c\x1b[31m\u202e\u2028\u2029 µ ﬁ —"])


def decay(text: str = "", name: str = "decay") -> kx.Scheme:
    """``A -> ; k`` (A(t) = exp(-K t)) with ``text`` in every free-text field."""
    return kx.Scheme(
        name,
        species=[kx.Species("A", 1.0, unit="1", note=text)],
        parameters=[kx.Parameter("k", K, "1/ms", reference=text, note=text)],
        inputs=[kx.Input("s", 1.0, "1", note=text)],   # not pulsed: a PARAMETER of the NMODL export
        reactions=[kx.reaction("A ->", "k*s")],
        observables=[kx.Observable("Aobs", "A", unit="1", note=text)],
        description=text, reference=text)


def with_name(scheme: kx.Scheme, name: str) -> kx.Scheme:
    """``scheme`` with a name the rule refuses, bypassing it: what the escaping alone must survive."""
    object.__setattr__(scheme, "name", name)
    return scheme


def _no_marker(marker: Path):
    assert not marker.exists(), f"the payload ran: {marker} was created"


def _c_code_outside_comments(src: str) -> str:
    """C source without its comments and string literals (what the compiler treats as code)."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src[i] in "\"'":
            q, j = src[i], i + 1
            while j < n and src[j] != q:
                j += 2 if src[j] == "\\" else 1
            out.append(q + q)
            i = j + 1
        else:
            out.append(src[i])
            i += 1
    return "".join(out)


# --------------------------------------------------------------------------- the name rule
BAD_NAMES = ["x */ y", "a\nb", "a b", "é", "µ", "μ", "Ω", "1a", "", "_a", "t", "lambda", "a-b", "a.b", "a[b]",
             "x\x00", "glun1_glun2[destexhe1994,AP5]"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_every_kind_of_name_is_checked_by_the_one_rule(name):
    makers = {
        "scheme": lambda n: decay(name=n),
        "species": lambda n: kx.Species(n, 1.0),
        "parameter": lambda n: kx.Parameter(n, 1.0, "1/ms"),
        "input": lambda n: kx.Input(n, 0.0, "mM"),
        "observable": lambda n: kx.Observable(n, "1"),
        "reaction": lambda n: kx.Reaction((("A", 1),), (), forward="1", name=n),
        "rate rule": lambda n: kx.RateRule(n, "1"),
        "reactant": lambda n: kx.Reaction(((n, 1),), (), forward="1"),
    }
    for kind, make in makers.items():
        if kind == "reaction" and name == "":
            continue  # an unnamed reaction
        with pytest.raises(SchemeError) as info:
            make(name)
        msg = str(info.value)
        assert "not a valid name" in msg or "reserved" in msg or "non-empty" in msg, (kind, msg)
        with pytest.raises(SchemeError):
            check_name(name)


def test_the_error_explains_why_names_are_ascii():
    with pytest.raises(SchemeError) as info:
        kx.Species("µ", 1.0)
    msg = str(info.value)
    assert "ASCII" in msg and "SBML" in msg and "C and NMODL" in msg and "NFKC" in msg and "'μ'" in msg


def test_nfkc_makes_compatibility_characters_the_same_name():
    assert check_name("ﬁ") == "fi" and check_name("ａ") == "a"
    assert kx.Species("ﬁ", 1.0).name == "fi"
    # an expression written with `ﬁ` (Python's parser normalises it), a sympy Symbol("ﬁ") and a component
    # declared as `ﬁ` are one and the same
    s = kx.Scheme("x", species=[kx.Species("ﬁ", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
                  reactions=[kx.reaction("ﬁ -> ", "k*ﬁ"),
                             kx.Reaction((("fi", 1),), (), forward=sympy.Symbol("ﬁ"))])
    assert s.species_names == ("fi",)
    assert {sym.name for r in s.reactions for e in r.expressions() for sym in e.free_symbols} == {"fi", "k"}
    assert {sym.name for sym in kx.derive(s).rhs[0].free_symbols} == {"fi", "k"}
    assert s.get_species("ﬁ").name == "fi" and s.with_initial({"ﬁ": 2.0}).species[0].initial == 2.0
    # two names that are one after normalisation: a duplicate, whatever the kinds
    base = {"species": [kx.Species("fi", 1.0)], "reactions": [kx.reaction("fi ->", "1")]}
    for field, other in (("species", kx.Species("ﬁ", 0.0)), ("parameters", kx.Parameter("ﬁ", 1.0, "1")),
                         ("inputs", kx.Input("ﬁ", 0.0)), ("observables", kx.Observable("ﬁ", "1"))):
        kw = {**base, field: base.get(field, []) + [other]}
        with pytest.raises(SchemeError, match="duplicate name `fi`.*NFKC"):
            kx.Scheme("x", **kw)


def test_micro_sign_and_greek_mu_are_refused_not_confused():
    for mu in ("µ", "μ"):
        with pytest.raises(SchemeError, match="ASCII"):
            kx.Parameter(mu, 1.0, "1")
        with pytest.raises(SchemeError, match="ASCII"):
            kx.reaction(f"{mu} -> ", "1")
        with pytest.raises(ParseError, match="ASCII"):
            parse_scheme(f"scheme x\nspecies {mu} = 1\n{mu} -> ; 1\n")


def test_renaming_and_composing_keep_names_valid():
    s = decay()
    assert s.rename({"A": "ﬁ"}).species_names == ("fi",)
    with pytest.raises(SchemeError, match="ASCII"):
        s.rename({"A": "A */"})
    both = kx.compose([s, s.prefixed("pre_", keep=["s"])])
    assert both.name == "decay__pre_decay" and check_name(both.name) == both.name


def test_library_names_are_identifiers():
    from models import calcium, destexhe1994, glun1_glun2, graupner_brunel2012, kampa2004, mg_block
    from models import manipulations as mp
    from models import presynaptic_tltd as pt

    assert glun1_glun2.scheme().name == "glun1_glun2__destexhe1994_AP5_CK7_MK801"
    assert graupner_brunel2012.scheme().name == "graupner_brunel2012__DP"
    assert kampa2004.scheme().name == "kampa2004__modeldb50207"
    five = destexhe1994.five_state()
    assert five.name == "destexhe1994_five_state__destexhe1994"
    assert mg_block.with_nmda_current(five).name == "destexhe1994_five_state__destexhe1994__mg_block"
    assert calcium.spine_calcium(mg_block.with_nmda_current(five)).name.startswith("spine_calcium__nmda_")
    assert mp.apply(pt.presynaptic(), "7CK").name == "presynaptic_tltd__7CK"
    assert qualified_name("x", "AP5+SP", "a b") == "x__AP5_SP_a_b"
    assert name_from_text("2 nmda-model.v1") == "m_2_nmda_model_v1" and name_from_text("t") == "t_"


# --------------------------------------------------------------------------- names through every reader
def test_text_format_applies_the_rule_with_line_numbers(tmp_path):
    base = "species A = 1\nparameter k = 1 [1/ms]\nA -> ; k\n"
    for head in ('scheme "x */ y"\n', 'scheme "a\\nb"\n', "scheme é\n", "scheme 1x\n"):
        with pytest.raises(ParseError, match=r"^1: scheme name .* not a valid name"):
            parse_scheme(head + base)
    with pytest.raises(ParseError, match=r"^3: duplicate name `fi`: already declared as a species on line 2"):
        parse_scheme("scheme x\nspecies fi = 1\nspecies ﬁ = 0\nfi -> ; 1\n")
    with pytest.raises(ParseError, match=r"^2: reaction name 'µ' is not a valid name"):
        parse_scheme("scheme x\nµ: A -> ; 1\nspecies A = 1\n")
    s = parse_scheme("scheme x\nspecies ﬁ = 1\nparameter k = 1 [1/ms]\nobservable o = 2*ﬁ\n"
                     "ﬁ -> ; k*fi\node fi = -k*ﬁ\n")
    assert s.species_names == ("fi",) and str(s.get_observable("o").expr) == "2*fi"
    assert s.reactions[0].reactants == (("fi", 1),) and s.rate_rules[0].species == "fi"
    # without a `scheme` line the file's stem, made a name, names the scheme
    p = tmp_path / "my model *-1.txt"
    p.write_text(base)
    assert read_scheme(p).name == "my_model_1"


def test_json_applies_the_rule():
    doc = json.loads(export(decay(), "json"))
    for bad in ("x */ y", "a\nb", "µ"):
        with pytest.raises(ParseError, match="not a valid name"):
            read_json(json.dumps({**doc, "name": bad}))
        bad_doc = json.loads(json.dumps(doc))
        bad_doc["parameters"][0]["name"] = bad
        with pytest.raises(ParseError, match="not a valid name"):
            read_json(json.dumps(bad_doc))
    dup = json.loads(json.dumps(doc))
    dup["inputs"][0]["name"] = "ﬁ"
    dup["parameters"][0]["name"] = "fi"
    dup["reactions"][0]["forward"] = "fi*ﬁ"
    with pytest.raises(ParseError, match="duplicate name `fi`"):
        read_json(json.dumps(dup))
    norm = json.loads(json.dumps(doc))
    norm["species"][0]["name"] = "Ａ"   # fullwidth: NFKC "A"
    assert read_json(json.dumps(norm)) == decay()


def _sbml_doc(model_id: str | None, model_name: str | None):
    libsbml = pytest.importorskip("libsbml")
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    if model_id is not None:
        assert m.setId(model_id) == libsbml.LIBSBML_OPERATION_SUCCESS
    if model_name is not None:
        m.setName(model_name)
    c = m.createCompartment()
    for call, value in (("setId", "c"), ("setSize", 1.0), ("setConstant", True)):
        getattr(c, call)(value)
    sp = m.createSpecies()
    for call, value in (("setId", "A"), ("setCompartment", "c"), ("setInitialConcentration", 1.0),
                        ("setHasOnlySubstanceUnits", False), ("setBoundaryCondition", False), ("setConstant", False)):
        getattr(sp, call)(value)
    p = m.createParameter()
    for call, value in (("setId", "k"), ("setValue", K), ("setConstant", True)):
        getattr(p, call)(value)
    r = m.createReaction()
    for call, value in (("setId", "R1"), ("setReversible", False)):
        getattr(r, call)(value)
    ref = r.createReactant()
    for call, value in (("setSpecies", "A"), ("setStoichiometry", 1.0), ("setConstant", True)):
        getattr(ref, call)(value)
    r.createKineticLaw().setMath(libsbml.parseL3Formula("k*A"))
    return libsbml.writeSBMLToString(doc)


def test_sbml_free_text_model_name_is_kept_as_text_and_the_id_names_the_scheme(tmp_path):
    from kinetics.sbml import read_sbml

    marker = tmp_path / "PWNED"
    name = c_payload(marker) + "\nsecond line"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = read_sbml(_sbml_doc("safe_id", name))
    assert s.name == "safe_id"
    assert s.description.startswith(" ".join(name.split()))      # the free text, for display
    s2 = read_sbml(_sbml_doc(None, "my model */ 2"))              # no id: the name made a name
    assert s2.name == "my_model_2" and "my model */ 2" in s2.description
    # nmdakin's own annotation carries the scheme name: a hostile one is not used
    xml = export(decay(), "sbml")
    assert 'name="decay"' in xml
    evil = xml.replace(' name="decay" unit_time=', ' name="x */ y" unit_time=', 1)
    assert evil != xml
    assert read_sbml(evil).name == "decay"
    # and whatever the name was, exports of the imported scheme compile without running anything
    if HAVE_CC:
        _compile_and_run_c(s, tmp_path, marker)


# --------------------------------------------------------------------------- escaping functions
_ANY = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60) | st.sampled_from(
    ["*/", "/*", "??/", "\\", '"""', "\\N{x}", "ENDCOMMENT", "endverbatim", "\\input{x}", "^^5c", "\n\r\x00"])


@settings(max_examples=300, deadline=None)
@given(text=_ANY)
def test_escape_functions_keep_text_inside_its_literal_or_comment(text):
    for f in (escape.c_comment, escape.py_comment, escape.nmodl_comment, escape.latex_text, escape.latex_comment):
        out = f(text)
        assert "\n" not in out and "\r" not in out and "\x00" not in out and "\u2028" not in out
    c = escape.c_comment(text)
    assert "*/" not in c and "/*" not in c and "??" not in c and not c.endswith(("\\", "*", "/"))
    nm = escape.nmodl_comment(text)
    assert nm.isascii() and not re.search(r"(?i)verbatim|end\s*comment", nm)
    assert eval(escape.py_string(text)) == text                        # noqa: S307 (our own literal)
    assert eval('"""' + escape.py_docstring(text) + '"""') == text     # noqa: S307
    rest = re.sub(r"\\[&%$#_{}]|\\text(?:backslash|asciitilde|asciicircum)\{\}", "", escape.latex_text(text))
    assert not set(rest) & set("\\{}$&#^_%~")
    x = escape.xml_text(text)
    assert not re.search("[\x00-\x1f\ufffe\uffff]", x) and not re.sub("&(amp|#9|#10|#13);", "", x).count("&")


def test_c_comment_examples():
    assert escape.c_comment("a */ b /* c\nd") == "a * / b / * c d"
    assert escape.c_comment("end\\") == "end\\."     # no line splice onto the next line
    assert escape.c_comment("??/ x") == "? ?/ x"     # no trigraph
    assert escape.c_comment("a *") == "a * "         # cannot meet a `/` the caller writes next


@pytest.mark.skipif(not HAVE_CC, reason="no C compiler")
def test_c_string_is_the_text_byte_for_byte(tmp_path):
    texts = ['a "quoted" \\ back', "??/ trigraph ??=", "newline\nand\ttab\x01", "µ ﬁ — \u202e", "0\x00after"[:1]]
    prog = ["#include <stdio.h>", "int main(void) {"]
    prog += [f"    fputs({escape.c_string(t)}, stdout); fputc(0, stdout);" for t in texts]
    prog += ["    return 0;", "}"]
    src = tmp_path / "s.c"
    src.write_text("\n".join(prog) + "\n")
    exe = tmp_path / "s"
    subprocess.run([shutil.which("gcc") or "cc", "-std=c99", "-Wall", "-Werror", "-o", str(exe), str(src)],
                   check=True, capture_output=True)
    out = subprocess.run([str(exe)], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [t.encode() for t in texts]


# --------------------------------------------------------------------------- the native solver (compiled C)
@pytest.mark.skipif(not HAVE_CC, reason="no C compiler")
def test_native_source_escapes_the_scheme_name_and_nothing_runs(tmp_path):
    from kinetics import native
    from kinetics.codegen import c_source
    from kinetics.fitting.sensitivity import SensitivitySystem
    from kinetics.odesystem import OdeSystem

    marker = tmp_path / "PWNED"
    system = OdeSystem(decay())          # a private instance: the derive() cache is not touched
    system.name = c_payload(marker)      # a name the rule refuses: only the escaping stands in the way
    sens = SensitivitySystem(system, parameters=["k"], initial=["A"])
    for src in (c_source(system), sens.c_source()):
        ctypes.CDLL(str(native.build(src, cache_dir=tmp_path / "cache")))   # dlopen runs any constructor
        _no_marker(marker)
        assert "__attribute__" not in _c_code_outside_comments(src)


@pytest.mark.skipif(not HAVE_CC, reason="no C compiler")
def test_simulate_refuses_the_hostile_scheme_name_and_runs_hostile_text_harmlessly(tmp_path, monkeypatch):
    from models.cli import main

    monkeypatch.setenv("NMDAKIN_CACHE_DIR", str(tmp_path / "cache"))
    marker = tmp_path / "PWNED"
    body = "species A = 1 [1]\nparameter k = 0.5 [1/ms]\nA -> ; k\n"
    # the exact attack: a text scheme named with a constructor, through text, JSON and SBML
    name = c_payload(marker)
    (tmp_path / "evil.txt").write_text(f"scheme {json.dumps(name)}\n" + body)
    doc = json.loads(export(decay(), "json"))
    (tmp_path / "evil.json").write_text(json.dumps({**doc, "name": name}))
    for f in ("evil.txt", "evil.json"):
        rc = main(["simulate", str(tmp_path / f), "--t-end", "2", "--points", "5", "--csv", str(tmp_path / "out.csv")])
        _no_marker(marker)
        assert rc == 2 and not (tmp_path / "out.csv").exists()
    (tmp_path / "evil.xml").write_text(_sbml_doc("decay", name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["simulate", str(tmp_path / "evil.xml"), "--t-end", "2", "--points", "5",
                     "--csv", str(tmp_path / "sbml.csv")]) == 0
    _check_decay_csv(tmp_path / "sbml.csv")
    # hostile free text in every field: simulates (natively), nothing runs, the result is right
    text = hostile(marker)
    (tmp_path / "text.txt").write_text(kx.format_scheme(decay(text)))
    assert read_scheme(tmp_path / "text.txt") == decay(text)
    assert main(["simulate", str(tmp_path / "text.txt"), "--t-end", "2", "--points", "5", "--method", "dopri5",
                 "--csv", str(tmp_path / "text.csv")]) == 0
    _check_decay_csv(tmp_path / "text.csv")
    res = kx.simulate(decay(text), t_end=2.0, t_eval=np.linspace(0, 2, 5), method="rodas")
    assert np.allclose(res["A"], np.exp(-K * res.t), rtol=1e-5)
    _no_marker(marker)


def _check_decay_csv(path: Path):
    header = path.read_text().splitlines()[0].split(",")
    names = [h.split(" [")[0] for h in header]                    # `time [ms]`, `A [mM]` (text) or `time`, `A`
    values = np.loadtxt(path, delimiter=",", skiprows=1)
    data = dict(zip(names, values.T))
    assert np.allclose(data["A"], np.exp(-K * data["time"]), rtol=1e-5, atol=1e-8)


# --------------------------------------------------------------------------- C export
def _compile_and_run_c(scheme, tmp_path: Path, marker: Path):
    src = export(scheme, "c", prefix="m")
    (tmp_path / "model.c").write_text(src)
    exe = tmp_path / "model"
    cc = shutil.which("gcc") or shutil.which("cc")
    build = subprocess.run([cc, "-O1", "-std=c99", "-DM_MAIN", "-o", str(exe), str(tmp_path / "model.c"), "-lm"],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    run = subprocess.run([str(exe), "5", "2"], capture_output=True, text=True, timeout=60)
    _no_marker(marker)
    assert run.returncode == 0, run.stderr
    (tmp_path / "c.csv").write_text(run.stdout)
    _check_decay_csv(tmp_path / "c.csv")
    # the integrator template (kinetics/native/integrator.c, verbatim and once) declares its exported symbols with
    # __attribute__((visibility("default"))); everything else the exporter writes must have no attribute at all
    template = (Path(kx.__file__).parent / "native" / "integrator.c").read_text()
    assert src.count(template.rstrip()) == 1
    assert "__attribute__" not in _c_code_outside_comments(src.replace(template.rstrip(), ""))


@pytest.mark.skipif(not HAVE_CC, reason="no C compiler")
def test_c_export_with_hostile_text_compiles_and_runs_without_the_payload(tmp_path):
    marker = tmp_path / "PWNED"
    # a parameter source alone (it used to be written unescaped into the header comment)
    s = decay()
    s = s.replace(parameters=(kx.Parameter("k", K, "1/ms", reference=c_payload(marker)),))
    _compile_and_run_c(s, tmp_path, marker)
    # the scheme name, were it to bypass the rule
    _compile_and_run_c(with_name(decay(), c_payload(marker)), tmp_path, marker)
    # hostile text in every field
    _compile_and_run_c(decay(hostile(marker)), tmp_path, marker)


# --------------------------------------------------------------------------- Python export
def test_python_export_with_hostile_text_runs_without_the_payload(tmp_path):
    marker = tmp_path / "PWNED"
    text = hostile(marker)
    for k, scheme in enumerate([with_name(decay(), py_payload(marker)), decay(text)]):
        path = tmp_path / f"model{k}.py"
        path.write_text(export(scheme, "python"))
        script = (f"import runpy, sys\nns = runpy.run_path({str(path)!r})\n"
                  "import json\nprint(json.dumps([ns['__doc__'], ns['PARAMETER_SOURCES']['k'][2]]))\n")
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
        _no_marker(marker)
        assert run.returncode == 0, run.stderr[-2000:]
        doc, source = json.loads(run.stdout)
        assert source == scheme.parameters[0].reference         # the literal holds the text exactly
        assert scheme.description in doc and scheme.name in doc   # ... and so does the docstring
        cli = subprocess.run([sys.executable, str(path), "--points", "5", "--t-end", "2"], capture_output=True,
                             text=True, timeout=120)
        assert cli.returncode == 0, cli.stderr[-2000:]
        (tmp_path / "py.csv").write_text(cli.stdout)
        _check_decay_csv(tmp_path / "py.csv")
    _no_marker(marker)


# --------------------------------------------------------------------------- NMODL export
def _check_nmodl_structure(mod: str, payload_bits) -> None:
    lines = mod.splitlines()
    assert mod.isascii()                             # nocmodl refuses any other byte
    assert not re.search(r"(?i)verbatim", mod), "a VERBATIM block (or the word) in the export"
    assert [x for x in lines if x.strip() == "COMMENT"] == ["COMMENT"]
    assert [x for x in lines if re.search(r"(?i)end\s*comment", x)] == ["ENDCOMMENT"]
    start, end = lines.index("COMMENT"), lines.index("ENDCOMMENT")
    for i, line in enumerate(lines):
        first = min((line.index(b) for b in payload_bits if b in line), default=None)
        if first is not None:   # a payload: inside the COMMENT block, the TITLE, or after a `:`
            assert start < i < end or line.startswith("TITLE ") or ":" in line[:first], \
                f"payload outside a comment on line {i + 1}: {line!r}"


def test_nmodl_export_keeps_hostile_text_in_comments(tmp_path):
    marker = tmp_path / "PWNED"
    text = hostile(marker)
    for scheme in (decay(text), with_name(decay(text), nmodl_payload(marker))):  # name: bypassing the rule
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExportWarning)
            mod = export(scheme, "nmodl", name="nk_decay", voltage="parameter")
        _check_nmodl_structure(mod, ["system(", "touch", "__attribute__"])
        assert '"' not in mod.splitlines()[0] and "\\" not in mod.splitlines()[0]   # the TITLE
        # the input's note sits in a `:` comment of the PARAMETER block, on one line
        assert re.search(r"^    s = 1\.0 \(1\) : input; [^\n]*system\(", mod, re.M)


def _nrnivmodl():
    exe = shutil.which("nrnivmodl")
    if exe is None:
        candidate = Path(sys.executable).with_name("nrnivmodl")
        exe = str(candidate) if candidate.exists() else None
    return exe


@pytest.mark.peer
@pytest.mark.slow
def test_nmodl_export_with_hostile_text_compiles_in_neuron_without_the_payload(tmp_path):
    pytest.importorskip("neuron")
    exe = _nrnivmodl()
    if exe is None:
        pytest.skip("nrnivmodl not found (pip install neuron)")
    marker = tmp_path / "PWNED"
    env = {**os.environ, "PATH": str(Path(exe).parent) + os.pathsep + os.environ.get("PATH", "")}
    note = decay()
    note = note.replace(inputs=(kx.Input("s", 1.0, "1", note=nmodl_payload(marker)),))
    cases = {"nk_title": with_name(decay(), nmodl_title_payload(marker)),   # a name bypassing the rule (TITLE)
             "nk_note": note,                                             # an input's note (a `:` comment)
             "nk_all": decay(hostile(marker))}                            # hostile text in every field
    for mech, scheme in cases.items():
        folder = tmp_path / mech
        folder.mkdir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExportWarning)
            export(scheme, "nmodl", folder / f"{mech}.mod", name=mech, voltage="parameter")
        build = subprocess.run([exe, "."], cwd=folder, capture_output=True, text=True, env=env, timeout=600)
        _no_marker(marker)
        assert build.returncode == 0, (build.stdout[-3000:], build.stderr[-3000:])
        script = f"""
from neuron import h
h.load_file("stdrun.hoc")
sec = h.Section(name="soma")
pp = h.{mech}(sec(0.5))
t, a = h.Vector().record(h._ref_t), h.Vector().record(pp._ref_A)
h.finitialize(-65)
h.continuerun(2.0)
print(repr((t[-1], a[-1])))
"""
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=folder,
                             timeout=300)
        _no_marker(marker)                                             # loading the mechanism ran nothing
        assert run.returncode == 0, run.stderr[-3000:]
        t_last, a_last = eval(run.stdout.strip().splitlines()[-1])     # noqa: S307 (our own output)
        assert t_last == pytest.approx(2.0) and math.isclose(a_last, math.exp(-K * t_last), rel_tol=1e-2)


# --------------------------------------------------------------------------- LaTeX export
def test_latex_export_has_no_unescaped_commands_from_text(tmp_path):
    marker = tmp_path / "PWNED"
    for scheme in (decay(hostile(marker)), with_name(decay(LATEX_PAYLOAD), LATEX_PAYLOAD)):
        tex = export(scheme, "latex")
        body = "\n".join(x for x in tex.splitlines() if not x.startswith("%"))   # `%` lines: one-line comments
        for command in ("\\input", "\\write", "\\immediate", "^^"):
            assert command not in body, command
        assert body.count("\\begin{document}") == 1 and body.count("\\end{document}") == 1
        assert body.rstrip().endswith("\\end{document}")
        assert "\\textbackslash{}input\\{/etc/passwd\\}" in body        # the text is there, as text


# --------------------------------------------------------------------------- SBML and JSON exports
def test_sbml_export_is_well_formed_and_keeps_hostile_text_as_text(tmp_path):
    pytest.importorskip("libsbml")
    from kinetics.sbml import read_sbml

    text = hostile(tmp_path / "PWNED")
    scheme = decay(text)
    xml = export(scheme, "sbml")
    root = ET.fromstring(xml)                        # well-formed XML
    assert not [e for e in root.iter() if e.tag.endswith("}script") or e.tag == "x"]
    back = read_sbml(xml)
    kept = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)   # only what XML cannot hold is dropped
    assert back.description == kept and back.reference == kept
    assert back.parameters[0].reference == kept
    assert back.species[0].note == " ".join(kept.split())   # read from the notes, whitespace collapsed


def test_json_export_round_trips_hostile_text(tmp_path):
    scheme = decay(hostile(tmp_path / "PWNED"))
    text = export(scheme, "json")
    assert read_json(text) == scheme
    assert json.loads(text)["description"] == scheme.description


def test_reserved_names_are_a_frozenset_the_rule_uses():
    assert {"t", "pi", "lambda"} <= RESERVED_NAMES
    for n in ("t", "pi", "lambda"):
        with pytest.raises(SchemeError, match="reserved"):
            check_name(n)
