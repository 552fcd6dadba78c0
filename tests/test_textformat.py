"""Tests of kinetics.textformat: the text syntax for schemes, its writer and its errors."""
import math
import os
import textwrap

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import kinetics.textformat as tf
from kinetics.errors import ParseError, SchemeError
from kinetics.scheme import RESERVED_NAMES, Input, Observable, Parameter, RateRule, Reaction, Scheme, Species, reaction
from kinetics.textformat import format_scheme, parse_scheme, read_scheme, write_scheme
from kinetics.units import UnitSystem

S = sympy.Symbol

DESTEXHE = '''\
# Destexhe, Mainen & Sejnowski 1994 five-state NMDA receptor
scheme destexhe1994
description "five-state NMDA receptor"
reference "Destexhe A, Mainen ZF, Sejnowski TJ (1994) J Comput Neurosci 1:195"
units time=ms concentration=mM voltage=mV
species C0 = 1 [1]
species C1 = 0 [1]  note="singly bound"
species C2 = 0 [1]
species O = 0 [1]
species Ca = 0 [mM]
species rho = 0.5 [1]
species V_offset = 0 [mV] nonnegative=false
parameter Rb = 5 [1/(uM*s)] source="Destexhe 1994, Table 1" bounds=(0, inf)
parameter Ru = 12.9 [1/s]
parameter Ro = 46.5 [1/s]
parameter Rc = 73.8 [1/s]
parameter k_in = 1 [mM/ms]
parameter tau = 100 [ms]
input glu = 0 [mM]
observable Popen = O [1]
reaction C0 <-> C1 ; 2*Rb*glu, Ru
C1 <-> C2 ; Rb*glu, 2*Ru          # "reaction" keyword optional when the line contains -> or <->
bind: C2 <-> O ; Ro, Rc            # optional reaction name before a colon
-> Ca ; rate = k_in*Popen          # general rate law (net flux)
ode rho = (-rho*(1 - rho)*(0.5 - rho))/tau     # rate rule
'''


def test_parse_destexhe_structure():
    s = parse_scheme(DESTEXHE)
    assert s.name == "destexhe1994"
    assert s.description == "five-state NMDA receptor"
    assert s.reference.startswith("Destexhe A, Mainen ZF")
    assert s.units == UnitSystem()
    assert s.species_names == ("C0", "C1", "C2", "O", "Ca", "rho", "V_offset")
    assert s.get_species("C0") == Species("C0", 1.0, unit="1")
    assert s.get_species("C1").note == "singly bound"
    assert s.get_species("V_offset") == Species("V_offset", 0.0, unit="mV", nonnegative=False)
    rb = s.get_parameter("Rb")
    assert rb == Parameter("Rb", 5.0, "1/(uM*s)", reference="Destexhe 1994, Table 1")
    assert s.get_parameter("Ru").unit == "1/s"
    assert s.get_input("glu") == Input("glu", 0.0, unit="mM")
    assert s.get_observable("Popen").expr == S("O")
    r0, r1, r2, r3 = s.reactions
    assert r0 == Reaction((("C0", 1),), (("C1", 1),), forward=2 * S("Rb") * S("glu"), reverse=S("Ru"))
    assert r1.forward == S("Rb") * S("glu") and r1.reverse == 2 * S("Ru") and r1.name == ""
    assert r2.name == "bind" and r2.reactants == (("C2", 1),) and r2.products == (("O", 1),)
    assert r3.reactants == () and r3.products == (("Ca", 1),) and r3.rate == S("k_in") * S("Popen")
    rho, tau = S("rho"), S("tau")
    assert s.rate_rules == (RateRule("rho", -rho * (1 - rho) * (sympy.Float(0.5) - rho) / tau),)
    assert s.parameter_factors()["Rb"] == 1.0 and s.parameter_factors()["Ru"] == 1e-3


def test_docstring_example_parses():
    example = tf.__doc__.split("Example\n-------\n::\n")[1].split(":func:")[0]
    s = parse_scheme(textwrap.dedent(example))
    assert s.name == "destexhe1994"
    assert [r.name for r in s.reactions] == ["", "", "desens", "bind"]
    assert parse_scheme(format_scheme(s)) == s


def test_equivalent_to_python_construction():
    text = """
    scheme binding
    species R = 1 [1]
    species LR = 0 [1]
    parameter kon = 1 [1/(mM*ms)]
    parameter koff = 0.1 [1/ms]
    input L = 0 [mM]
    reaction R <-> LR ; kon*L, koff
    """
    built = Scheme(
        "binding",
        species=[Species("R", 1.0, unit="1"), Species("LR", 0.0, unit="1")],
        parameters=[Parameter("kon", 1.0, "1/(mM*ms)"), Parameter("koff", 0.1, "1/ms")],
        inputs=[Input("L", 0.0, "mM")],
        reactions=[reaction("R <-> LR", "kon*L", "koff")],
    )
    assert parse_scheme(textwrap.dedent(text)) == built


# --------------------------------------------------------------------------- round trip
def _rich_scheme():
    A, B, C, X, V, k1, k2, Vh, glu = (S(n) for n in ["A", "B", "C", "X", "V", "k1", "k2", "Vh", "glu"])
    return Scheme(
        name="rich_scheme_1",  # names are identifiers (kinetics.scheme.check_name); free text is the description
        species=[
            Species("A", 1.0, unit="mM", note='quote " and backslash \\ and # hash'),
            Species("B", 0.25),
            Species("C", 0.0, unit="1", note="line one\nline two\ttab"),
            Species("X", -70.0, unit="mV", nonnegative=False, note="ünïcödé µ — ok"),
        ],
        parameters=[
            Parameter("k1", 5.0, "1/(uM*s)", reference='Smith "et al." 2001, Table 2'),
            Parameter("k2", 0.1, "mM^-1 ms^-1", note="second"),
            Parameter("Vh", -20.5, "mV", bounds=(-math.inf, math.inf)),
            Parameter("frac", 0.5, "%", bounds=(0.0, 100.0), reference="x\\y"),
            Parameter("tiny", 1e-20, "1"),
            Parameter("third", 1 / 3, ""),
            Parameter("big", 1.5e300, "1"),
        ],
        inputs=[Input("glu", 0.0, "mM", note="transmitter"), Input("V", -65.0, "mV")],
        reactions=[
            Reaction((("A", 2), ("B", 1)), (("C", 1),), forward=k1 * glu, reverse=k2, name="bind"),
            Reaction((), (("A", 1),), rate=sympy.Piecewise((k1, V > Vh), (0, True)), name="influx"),
            Reaction((("C", 1),), (), forward=k2 * sympy.exp(-(V - Vh) / 10)),
            Reaction((("B", 1),), (("A", 1),), forward=sympy.Max(k1, k2) / (1 + sympy.exp(-V))),
        ],
        observables=[
            Observable("Popen", C / (A + B + C), unit="1", note="open fraction"),
            Observable("I", 2.5 * C * (V - 0), unit="pA"),
            Observable("gate", sympy.Heaviside(V - Vh, 1) * sympy.Min(A, B)),
        ],
        rate_rules=[RateRule("X", (Vh - X) / 10 + S("I") * 0.01)],
        units=UnitSystem(time="s", concentration="uM", charge="pC"),
        description='a "rich" scheme; with # and \\ characters',
        reference="Ref \u2028 with separator",
        check_units=False,  # a syntax fixture: its units do not fit together
    )


def test_round_trip_rich():
    s = _rich_scheme()
    text = format_scheme(s)
    again = parse_scheme(text)
    assert again == s
    assert format_scheme(again) == text
    assert "scheme rich_scheme_1\n" in text
    assert "bounds=(-inf, inf)" in text and "bounds=(0, 100)" in text
    assert "reaction bind: 2 A + B <-> C ; glu*k1, k2" in text
    assert "reaction influx: -> A ; rate = piecewise(k1, V > Vh, 0)" in text
    assert "units time=s concentration=uM voltage=mV current=pA conductance=nS charge=pC" in text
    assert "species B = 0.25\n" in text  # no unit written for a species without one


def test_round_trip_destexhe():
    s = parse_scheme(DESTEXHE)
    assert parse_scheme(format_scheme(s)) == s


def test_round_trip_minimal():
    s = Scheme("m", species=[Species("A", 1)], reactions=[reaction("A ->", "k")],
               parameters=[Parameter("k", 1.0)])
    text = format_scheme(s)
    assert parse_scheme(text) == s
    assert "parameter k = 1 [1]" in text
    assert "reaction A -> ; k" in text


def test_round_trip_composed_scheme():
    a = parse_scheme(DESTEXHE)
    b = a.prefixed("pre_", keep=["glu"], name="pre")
    both = a + b
    assert parse_scheme(format_scheme(both)) == both


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
_FLOAT = st.floats(min_value=0, max_value=1e300, allow_nan=False, allow_infinity=False)
# scheme names are identifiers (kinetics.scheme.check_name); free text goes in the description
_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,29}", fullmatch=True).filter(lambda s: s not in RESERVED_NAMES)


@settings(max_examples=100, deadline=None)
@given(note=_TEXT, ref=_TEXT, desc=_TEXT, name=_NAME, v0=_FLOAT, p=_FLOAT,
       lo=st.floats(max_value=0, allow_nan=False), neg=st.floats(allow_nan=False, allow_infinity=False))
def test_round_trip_random_values(note, ref, desc, name, v0, p, lo, neg):
    s = Scheme(
        name=name,
        species=[Species("A", v0, unit="mM", note=note), Species("B", neg, nonnegative=False)],
        parameters=[Parameter("k", p, "1/s", bounds=(lo, math.inf), reference=ref, note=note)],
        reactions=[reaction("A <-> B", "k", "2*k")],
        description=desc,
        reference=ref,
    )
    assert parse_scheme(format_scheme(s)) == s


def test_write_and_read(tmp_path):
    s = _rich_scheme()
    path = tmp_path / "rich.scheme"
    write_scheme(s, path)
    assert read_scheme(path) == s
    assert read_scheme(str(path)) == s
    assert path.stat().st_mode & 0o777 == 0o644
    # overwrite atomically, no temporary files left behind
    s2 = parse_scheme(DESTEXHE)
    write_scheme(s2, path)
    assert read_scheme(path) == s2
    assert sorted(os.listdir(tmp_path)) == ["rich.scheme"]
    assert path.read_bytes().decode("utf-8") == format_scheme(s2)


def test_write_failure_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "a.scheme"
    write_scheme(parse_scheme(DESTEXHE), path)
    before = path.read_text(encoding="utf-8")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("kinetics.io.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_scheme(_rich_scheme(), path)
    assert path.read_text(encoding="utf-8") == before
    assert sorted(os.listdir(tmp_path)) == ["a.scheme"]


def test_read_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="scheme file not found"):
        read_scheme(tmp_path / "nope.scheme")


def test_read_uses_file_stem_and_reports_path(tmp_path):
    p = tmp_path / "my_model.txt"
    p.write_text("species A = 1\nA -> ; k\nparameter k = 1\n", encoding="utf-8")
    assert read_scheme(p).name == "my_model"
    assert read_scheme(p, name="other").name == "other"
    bad = tmp_path / "bad.txt"
    bad.write_text("species A = 1\nspeces B = 2\n", encoding="utf-8")
    with pytest.raises(ParseError, match=r"bad\.txt:2: unknown keyword `speces`; did you mean `species`\?") as info:
        read_scheme(bad)
    assert info.value.line == 2 and info.value.source.endswith("bad.txt")


def test_read_invalid_utf8(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes(b"scheme x\nspecies A = 1 note=\"caf\xe9\"\n")
    with pytest.raises(ParseError, match=r":2: file is not valid UTF-8"):
        read_scheme(p)


def test_bom_crlf_and_continuation():
    text = "\ufeffscheme x\r\nspecies A = 1\r\nparameter k = 1 \\\r\n   [1/s]\r\nA -> ; \\\n k\r\n"
    s = parse_scheme(text)
    assert s.get_parameter("k").unit == "1/s"
    assert s.reactions[0].forward == S("k")


def test_name_argument_overrides():
    assert parse_scheme(DESTEXHE, name="renamed").name == "renamed"


def test_declarations_in_any_order():
    text = "A -> B ; k\nscheme late\nspecies A = 1\nspecies B = 0\nparameter k = 2 [1/s]\n"
    s = parse_scheme(text)
    assert s.name == "late" and s.species_names == ("A", "B")


def test_observables_with_conditions_and_options():
    text = """scheme x
species A = 1
units check=off
input V = -65 [mV]
observable g = piecewise(1, V > -20 and V <= 0, 0) [1] note="gate"
observable h = min(A, 1)
A -> ; g
"""
    s = parse_scheme(text)
    V = S("V")
    g = s.get_observable("g")
    assert g.expr == sympy.Piecewise((1, sympy.And(V > -20, V <= 0)), (0, True))
    assert g.unit == "1" and g.note == "gate"
    assert s.get_observable("h").unit is None


def test_reaction_keyword_and_special_names():
    text = """scheme x
species species = 1
species input = 0
parameter k = 1
species -> input ; k
reaction input -> ; k
"""
    s = parse_scheme(text)
    assert s.reactions[0].reactants == (("species", 1),)
    assert s.reactions[1].reactants == (("input", 1),)
    assert parse_scheme(format_scheme(s)) == s


def test_loading_never_runs_code(tmp_path):
    marker = tmp_path / "pwned"
    payloads = [
        f"A -> ; __import__('os').system('touch {marker}')",
        f"observable o = open('{marker}', 'w')",
        "ode A = ().__class__.__bases__[0].__subclasses__()",
        f"A -> ; rate = exec(\"open('{marker}', 'w')\")",
    ]
    for p in payloads:
        text = f"scheme x\nspecies A = 1\nparameter k = 1\n{p}\n"
        with pytest.raises(ParseError, match=r"^4: "):
            parse_scheme(text)
    assert not marker.exists()


# --------------------------------------------------------------------------- errors
BASE = "scheme x\nspecies A = 1\nspecies B = 0\nparameter k = 1 [1/ms]\nA -> B ; k\n"  # lines 1-5


@pytest.mark.parametrize("extra, pattern", [
    ("paramter q = 1", r"^f\.txt:6: unknown keyword `paramter`; did you mean `parameter`\?"),
    ("hello", r"^f\.txt:6: unknown keyword `hello`"),
    ("2 A B", r"^f\.txt:6: expected a keyword"),
    ("species C 1", r"^f\.txt:6: expected `=` after `species C`"),
    ("parameter q", r"^f\.txt:6: expected `=` after `parameter q`"),
    ("species = 1", r"^f\.txt:6: expected a name after `species`"),
    ("species C = abc", r"^f\.txt:6: expected a number for species `C`, got `abc`"),
    ("species C = 1x", r"^f\.txt:6: expected a number for species `C`, got `1x`"),
    ("species C = nan", r"^f\.txt:6: expected a number"),
    ("species C = 1e999", r"^f\.txt:6: number for species `C` is too large"),
    ("species C = 1 [mM", r"^f\.txt:6: unbalanced brackets: `\[` is never closed"),
    ("observable P = (A + B", r"^f\.txt:6: unbalanced brackets: `\(` is never closed"),
    ("observable P = A + B)", r"^f\.txt:6: unbalanced brackets: unexpected `\)`"),
    ("species C = 1 note=\"open", r"^f\.txt:6: unterminated string"),
    ("species C = 1 note=\"bad \\q\"", r"^f\.txt:6: unknown escape `\\q`"),
    ("species C = 1 note=unquoted", r"^f\.txt:6: expected a quoted string for `note`"),
    ("species C = 1 colour=\"red\"", r"^f\.txt:6: unknown option `colour` for a species"),
    ("parameter q = 1 [1] sorce=\"x\"", r"^f\.txt:6: unknown option `sorce`.*did you mean `source`\?"),
    ("parameter q = 1 [1] note=\"a\" note=\"b\"", r"^f\.txt:6: option `note` is given twice"),
    ("parameter q = 1 [1] note=\"a\"note=\"b\"", r"^f\.txt:6: expected a space after the value of `note`"),
    ("parameter q = 1 [1] bounds=(0 inf)", r"^f\.txt:6: expected `,` between the bounds"),
    ("parameter q = 1 [1] bounds=0", r"^f\.txt:6: expected `\(LOW, HIGH\)`"),
    ("parameter q = 1 [1] bounds=(0, x)", r"^f\.txt:6: expected a number for the upper bound"),
    ("parameter q = 5 [1] bounds=(0, 1)", r"^f\.txt:6: value of parameter `q` \(5\.0\) is outside its bounds"),
    ("parameter q = -1 [1]", r"^f\.txt:6: .*rate constants must be non-negative"),
    ("parameter q = 1 [1] [mM]", r"^f\.txt:6: the unit `\[\.\.\.\]` of a parameter must come right after"),
    ("parameter q = 1 [mMol]", r"^f\.txt:6: unknown unit `mMol`; did you mean `mmol`\?"),
    ("parameter q = 1 [ms-1]", r"^f\.txt:6: write powers with `\^`"),
    ("species C = 1 nonnegative=maybe", r"^f\.txt:6: expected `true` or `false` for `nonnegative`"),
    ("species C = -1", r"^f\.txt:6: initial value of species `C` is negative"),
    ("species A = 2", r"^f\.txt:6: duplicate name `A`: already declared as a species on line 2"),
    ("parameter A = 2", r"^f\.txt:6: duplicate name `A`: already declared as a species on line 2"),
    ("input k = 2", r"^f\.txt:6: duplicate name `k`: already declared as a parameter on line 4"),
    ("species t = 1", r"^f\.txt:6: species name `t` is reserved"),
    ("species _x = 1", r"^f\.txt:6: .*reserved"),
    ("units time=xs", r"^f\.txt:6: unit system: unknown time unit `xs`; did you mean `s`\?"),
    ("units tme=ms", r"^f\.txt:6: unknown unit kind `tme`; did you mean `time`\?"),
    ("units time=ms time=s", r"^f\.txt:6: unit kind `time` is given twice"),
    ("units time ms", r"^f\.txt:6: expected `kind=unit` pairs"),
    ("scheme y", r"^f\.txt:6: `scheme` is given twice \(first on line 1\)"),
    ("description nope", r"^f\.txt:6: expected a quoted string for `description`"),
    ("description \"a\" \"b\"", r"^f\.txt:6: unexpected text after `description`"),
    ("reference \"a\"\nreference \"b\"", r"^f\.txt:7: `reference` is given twice \(first on line 6\)"),
    ("observable P = foo(A)", r"^f\.txt:6: unknown function `foo`"),
    ("observable P = Bb + 1", r"^f\.txt:6: unknown name `Bb`; did you mean `B`\?"),
    ("observable P =", r"^f\.txt:6: expected an expression for observable `P`"),
    ("observable P = A < 1", r"^f\.txt:6: comparison is only allowed"),
    ("reaction A -> B", r"^f\.txt:6: expected `;` and rate constants after reaction `A -> B`"),
    ("reaction A B ; k", r"^f\.txt:6: expected `->` or `<->` in reaction `A B ; k`"),
    ("A -> B ; kk", r"^f\.txt:6: unknown name `kk`; did you mean `k`\?"),
    ("A -> B ; k ; k", r"^f\.txt:6: a reaction line has one `;`"),
    ("A -> B ;", r"^f\.txt:6: expected rate constants after `;`"),
    ("A -> B ; k,", r"^f\.txt:6: expected rate constants after `;`"),
    ("A <-> B ; k", r"^f\.txt:6: reversible reaction `A <-> B` needs two rate constants"),
    ("A -> B ; k, k", r"^f\.txt:6: irreversible reaction `A -> B` takes one rate constant, got 2"),
    ("A <-> B ; k, k, k", r"^f\.txt:6: reversible reaction `A <-> B` needs two rate constants"),
    ("A <-> B ; rate = k*A", r"^f\.txt:6: reaction `A <-> B` with a general rate law must be written with `->`"),
    ("A -> B ; rate =", r"^f\.txt:6: expected an expression for the rate"),
    ("A -> Q ; k", r"^f\.txt:6: unknown species `Q` in reaction `A -> Q`"),
    ("A -> Bb ; k", r"^f\.txt:6: unknown species `Bb`.*did you mean `B`\?"),
    ("A -> k ; k", r"^f\.txt:6: unknown species `k` .*`k` is a parameter, not a species"),
    ("0 A -> B ; k", r"^f\.txt:6: .*positive integer"),
    ("A -> B -> A ; k", r"^f\.txt:6: .*2 arrows"),
    ("-> ; k", r"^f\.txt:6: .*neither reactants nor products"),
    ("1bad: A -> B ; k", r"^f\.txt:6: "),
    ("ode Q = 1", r"^f\.txt:6: `ode` for unknown species `Q`"),
    ("ode k = 1", r"^f\.txt:6: `ode` for unknown species `k` \(`k` is a parameter\)"),
    ("ode A = k\node A = 1", r"^f\.txt:7: species `A` has two `ode` rules \(first on line 6\)"),
    ("ode A = k^", r"^f\.txt:6: syntax error"),
])
def test_errors_with_line_numbers(extra, pattern):
    with pytest.raises(ParseError, match=pattern) as info:
        parse_scheme(BASE + extra + "\n", source="f.txt")
    assert info.value.line is not None and info.value.line >= 6
    assert info.value.source == "f.txt"


@pytest.mark.parametrize("text, pattern", [
    ("scheme\n", r"^1: expected a name after `scheme`"),
    ("scheme a b\n", r"^1: unexpected text after `scheme`: `b`"),
    ("scheme \"\"\n", r"^1: the scheme name is empty"),
    ("scheme x\nspecies A = 1 \\", r"^2: the last line ends with `\\`"),
])
def test_header_errors(text, pattern):
    with pytest.raises(ParseError, match=pattern):
        parse_scheme(text)


def test_scheme_level_errors():
    with pytest.raises(ParseError, match=r"missing `scheme NAME` line"):
        parse_scheme("species A = 1\nA -> ; 1\n")
    with pytest.raises(ParseError, match=r"has no reactions and no rate rules") as info:
        parse_scheme("scheme s\nspecies A = 1\n")
    assert info.value.line is None
    with pytest.raises(ParseError, match=r"has no species"):
        parse_scheme("scheme s\nparameter k = 1\n")
    # observable cycle: reported on the line of the observable that starts it
    text = "scheme s\nspecies A = 1\nA -> ; P\nobservable P = Q + A\nobservable Q = P\n"
    with pytest.raises(ParseError, match=r"^4: observables of scheme `s` depend on each other in a cycle: P -> Q -> P"):
        parse_scheme(text)
    with pytest.raises(ParseError, match=r"must be a string"):
        parse_scheme(b"scheme x")
    # ParseError is a SchemeError and a ValueError
    with pytest.raises(SchemeError):
        parse_scheme("bogus")
    with pytest.raises(ValueError):
        parse_scheme("bogus")


def test_comments_and_strings():
    text = 'scheme x # trailing comment\ndescription "has # inside" # real comment\n' \
           'species A = 1 # note="not an option"\nparameter k = 1\nA -> ; k\n'
    s = parse_scheme(text)
    assert s.description == "has # inside"
    assert s.get_species("A").note == ""


def test_format_rejects_unwritable():
    s = Scheme("m", species=[Species("A", 1)], parameters=[Parameter("k", 1.0)],
               reactions=[Reaction((("A", 1),), (), forward=sympy.Function("f")(S("k")))])
    with pytest.raises(SchemeError, match="cannot write"):
        format_scheme(s)
    with pytest.raises(SchemeError, match="needs a Scheme"):
        format_scheme("not a scheme")
