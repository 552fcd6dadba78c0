"""Protocols travel with models: the text syntax's protocol lines, JSON's "protocol", SBML events, and
`nmdakin simulate FILE` with the file's protocol and the --input/--pulse/--hold overrides (issue #13)."""
import csv
import json
import math
import warnings

import numpy as np
import pytest

import kinetics as kx
from kinetics.jsonformat import model_from_dict, read_json, read_json_model, scheme_to_dict, scheme_to_json
from kinetics.protocol import (Protocol, alpha, biexponential, exponential, jumps, pulses, ramp, regular_train, steps,
                               wash_in, waveform)
from kinetics.protocol.serialize import component_from_dict, protocol_from_list, protocol_to_list
from kinetics.textformat import format_scheme, parse_model
from models.cli import main

# The README's binding scheme: kon = 1/(uM*s) = 1/(mM*ms), koff = 0.1/s = 1e-4/ms, so Kd = 1e-4 mM (100 nM).
BIND = """scheme binding
species R = 1 [1]
species LR = 0 [1]
parameter kon = 1 [1/(uM*s)] source="a choice for the example"
parameter koff = 0.1 [1/s]
input L = 0 [mM]
observable bound_pct = 100*LR [1]
R <-> LR ; kon*L, koff
"""
KON, KOFF = 1.0, 1e-4                    # 1/(mM*ms), 1/ms


def lr_exact(t, L, t_on=0.0):
    """LR(t) of R <-> LR from LR = 0 with L applied from t_on: Bmax L/(Kd + L) (1 - exp(-(kon L + koff) t))."""
    k = KON * L + KOFF
    return np.where(t >= t_on, KON * L / k * (1.0 - np.exp(-k * (np.asarray(t) - t_on))), 0.0)


FULL = BIND + """
species Ca = 0 [mM]
input glu = 0 [mM]
input V = -65 [mV]
input drug = 0 [mM]
parameter kd = 0.05 [1/ms]
Ca -> ; kd
steps L times=[5, 20000] values=[1e-4, 2e-4]
pulses glu times=train(3, 20, 10) amplitude=[1, 0.5, 2] width=2
pulses drug times=7 width=0.5
ramp V times=[0, 100, 100, 250] values=[-70, -70, -100, 50]
waveform glu times=[10, 30] kernel=biexponential(100, 0.5, 3)
waveform drug times=[1] kernel=alpha(2, 3)
waveform drug times=[2] kernel=exponential(-1, 4)
wash_in drug time=1000 concentration=0.05 tau=2000 washout=30000
wash_in glu time=5 concentration=1
jumps Ca times=[30, 10] amount=[0.2, 0.1]
jumps Ca times=[50] amount=0 mode=set
t_end 40000
"""


def read_csv(path):
    with open(path) as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array(rows[1:], dtype=float)


# --------------------------------------------------------------------------- text syntax
def test_text_protocol_has_every_component_kind():
    m = parse_model(FULL)
    expected = Protocol([steps("L", [5, 20000], [1e-4, 2e-4]),
                         pulses("glu", regular_train(3, 20.0, 10.0), amplitude=[1, 0.5, 2], width=2),
                         pulses("drug", [7.0], width=0.5),
                         ramp("V", [0, 100, 100, 250], [-70, -70, -100, 50]),
                         waveform("glu", [10, 30], biexponential(100, 0.5, 3)),
                         waveform("drug", [1], alpha(2, 3)), waveform("drug", [2], exponential(-1, 4)),
                         wash_in("drug", 1000, 0.05, tau=2000, washout=30000), wash_in("glu", 5, 1),
                         jumps("Ca", [30, 10], [0.2, 0.1]), jumps("Ca", [50], 0.0, mode="set")])
    assert m.protocol == expected
    assert m.t_end == 40000.0 and m.scheme.species_names == ("R", "LR", "Ca")
    assert m.protocol.components[1].times == (10.0, 60.0, 110.0)          # train(3, 20 Hz, from 10 ms)


def test_text_round_trip_is_exact_and_a_fixed_point():
    m = parse_model(FULL)
    text = format_scheme(m.scheme, protocol=m.protocol, t_end=m.t_end)
    back = parse_model(text)
    assert (back.scheme, back.protocol, back.t_end) == (m.scheme, m.protocol, m.t_end)
    assert format_scheme(back.scheme, protocol=back.protocol, t_end=back.t_end) == text
    assert "train" not in text and "pulses glu times=[10, 60, 110] amplitude=[1, 0.5, 2] width=2" in text
    odd = Protocol([pulses("L", [0.1, 1 / 3], amplitude=math.pi * 1e-5, width=1e-300)])      # reprs survive
    assert parse_model(format_scheme(m.scheme, protocol=odd)).protocol == odd


def test_write_scheme_and_read_model_file(tmp_path):
    m = parse_model(FULL)
    f = tmp_path / "full.txt"
    kx.write_scheme(m.scheme, f, protocol=m.protocol, t_end=m.t_end)
    back = kx.read_model(f)
    assert (back.scheme, back.protocol, back.t_end, back.source) == (m.scheme, m.protocol, 40000.0, str(f))


def test_read_scheme_refuses_a_file_with_a_protocol_rather_than_drop_it(tmp_path):
    f = tmp_path / "bind.txt"
    f.write_text(BIND + "steps L times=[0] values=[1e-4]\n")
    with pytest.raises(kx.ParseError, match=r"bind.txt:9: the model has a protocol .*kinetics.read_model\(path\)"):
        kx.read_scheme(f)
    with pytest.raises(kx.ParseError, match=r"has a `t_end`.*kinetics.parse_model\(text\)"):
        kx.parse_scheme(BIND + "t_end 5\n")
    m = kx.read_model(f)
    assert m.scheme == kx.parse_scheme(BIND) and len(m.protocol) == 1
    plain = kx.read_model(tmp_path / "bind.txt").protocol
    assert plain.inputs == ("L",)
    f.write_text(BIND)
    assert kx.read_model(f).protocol == Protocol.empty() and kx.read_model(f).t_end is None


@pytest.mark.parametrize("line, message", [
    ("pulses Lx times=[1]", "`pulses` of unknown input `Lx`; did you mean `L`?"),
    ("pulses LR times=[1]", "`pulses` of unknown input `LR` (`LR` is a species; `jumps` change species)"),
    ("jumps L times=[1] amount=1", "`jumps` of unknown species `L` (`L` is an input"),
    ("pulses L times=[1] width=-1", "pulses: `width` must be >= 0, got -1"),
    ("pulses L times=[1] width=0", "`width` must be > 0"),
    ("wash_in L time=1 concentration=1 tau=-2", "wash_in: `tau` must be >= 0"),
    ("wash_in L time=5 concentration=1 washout=1", "`washout` (1) must come after `time` (5)"),
    ("steps L times=[2, 1] values=[1, 2]", "steps: `times`"),
    ("steps L times=[1, 2] values=[1]", "`values` must have one entry per time (2), got 1"),
    ("pulse L times=[1]", "unknown keyword `pulse`; did you mean `pulses`?"),
    ("pulses L times=[1] widht=2", "unknown option `widht` for `pulses`; did you mean `width`?"),
    ("pulses L times=[1] width=2 width=3", "option `width` is given twice"),
    ("pulses L amplitude=2", "`pulses` needs `times=`, e.g. `pulses glu times="),
    ("pulses", "expected the input after `pulses`"),
    ("pulses L times=[1, x]", "expected a number for `times`, got `x]`"),
    ("pulses L times=[1 2]", "expected `,` or `]` in `times`"),
    ("pulses L times=train(2.5, 10)", "the number of times of `train` must be an integer, got 2.5"),
    ("pulses L times=train(3, -10)", "regular_train: `freq_hz` must be > 0"),
    ("pulses L times=train(3)", "`train` takes 2 or 3 numbers"),
    ("waveform L times=[1] kernel=gauss(1, 2)", "unknown kernel `gauss`; use one of exponential(amplitude, tau)"),
    ("waveform L times=[1] kernel=alpha(1)", "kernel `alpha` takes 2 numbers (amplitude, tau), got 1"),
    ("waveform L times=[1] kernel=alpha(1, 0)", "alpha: `tau` must be > 0"),
    ("jumps LR times=[1] amount=1 mode=mul", "expected `add` or `set` for `mode`, got `mul`"),
    ("pulses L times=[1] amplitude=__import__('os')", "expected a number for `amplitude`"),
    ("t_end -1", "`t_end` must be > 0"),
    ("t_end 1\nt_end 2", "`t_end` is given twice"),
])
def test_bad_protocol_lines_name_their_line(line, message):
    text = BIND + line + "\n"
    with pytest.raises(kx.ParseError) as exc:
        parse_model(text, source="m.txt")
    lineno = text.count("\n") if "\n" in line else BIND.count("\n") + 1
    assert str(exc.value).startswith(f"m.txt:{lineno}: ") and message in str(exc.value), str(exc.value)


def test_a_second_clamp_of_an_input_names_both_lines():
    with pytest.raises(kx.ParseError, match=r"^10: input `L` is already clamped on line 9"):
        parse_model(BIND + "steps L times=[0] values=[1]\nramp L times=[0, 1] values=[0, 1]\n")


def test_a_species_named_like_a_protocol_keyword_still_reacts():
    m = parse_model("scheme s\nspecies steps = 1\nparameter k = 1 [1/ms]\nsteps -> ; k\n"
                    "jumps steps times=[1] amount=1\n")
    assert m.scheme.reactions[0].reactants == (("steps", 1),) and m.protocol.species == ("steps",)


# --------------------------------------------------------------------------- JSON
def test_json_round_trip_and_read_json_refuses_a_protocol(tmp_path):
    m = parse_model(FULL)
    text = scheme_to_json(m.scheme, protocol=m.protocol, t_end=m.t_end)
    back = read_json_model(text)
    assert (back.scheme, back.protocol, back.t_end) == (m.scheme, m.protocol, m.t_end)
    assert json.loads(text)["protocol"][0] == {"kind": "steps", "input": "L", "times": [5.0, 20000.0],
                                               "values": [0.0001, 0.0002]}
    assert "protocol" not in scheme_to_dict(m.scheme) and read_json(scheme_to_json(m.scheme)) == m.scheme
    with pytest.raises(kx.ParseError, match=r"has a protocol.*kinetics.read_model\(path\)"):
        read_json(text)
    f = tmp_path / "m.json"
    kx.export(m.scheme, "json", f, protocol=m.protocol, t_end=m.t_end)
    assert kx.read_model(f).protocol == m.protocol and kx.read_model(f).t_end == 40000.0


@pytest.mark.parametrize("change, message", [
    (lambda d: d["protocol"].append({"kind": "pulse", "input": "L", "times": [1]}),
     "protocol[1]: unknown component kind 'pulse'; did you mean `pulses`?"),
    (lambda d: d["protocol"].append({"kind": "pulses", "input": "L", "times": [1], "widht": 1}),
     "protocol[1]: unknown field(s) 'widht' for `pulses`"),
    (lambda d: d["protocol"].append({"kind": "pulses", "input": "L"}), "protocol[1]: `pulses` needs `times`"),
    (lambda d: d["protocol"].append({"kind": "pulses", "input": "L", "times": ["1"]}),
     "protocol[1]: `times` must be a list of finite numbers"),
    (lambda d: d["protocol"].append({"kind": "pulses", "input": "L", "times": [1], "width": -1}),
     "protocol[1]: pulses: `width` must be >= 0"),
    (lambda d: d["protocol"].append({"kind": "waveform", "input": "L", "times": [1], "kernel": {"kind": "alpha"}}),
     "kernel `alpha` takes amplitude, tau; missing amplitude, tau"),
    (lambda d: d["protocol"].append({"kind": "pulses", "input": "Lx", "times": [1]}),
     "protocol[1]: `pulses` of unknown input `Lx`; did you mean `L`?"),
    (lambda d: d["protocol"].append({"kind": "jumps", "species": "L", "times": [1], "amount": 1}),
     "protocol[1]: `jumps` of unknown species `L`"),
    (lambda d: d["protocol"].append({"kind": "steps", "input": "L", "times": [9], "values": [1]}),
     "input `L` is clamped by both steps and steps"),
    (lambda d: d.update(t_end=-1), "t_end: must be > 0"),
    (lambda d: d.update(protocol={"kind": "steps"}), "protocol: expected a list of components"),
])
def test_bad_json_protocols_name_the_field(change, message):
    data = scheme_to_dict(kx.parse_scheme(BIND), protocol=Protocol([steps("L", [0.0], [1e-4])]))
    change(data)
    with pytest.raises(kx.ParseError) as exc:
        model_from_dict(data)
    assert message in str(exc.value), str(exc.value)


def test_serialised_components_round_trip_one_by_one():
    for c in parse_model(FULL).protocol.components:
        d = protocol_to_list(Protocol([c]))[0]
        assert component_from_dict(json.loads(json.dumps(d))) == c
    assert protocol_from_list([]) == Protocol.empty()


# --------------------------------------------------------------------------- text, JSON and SBML agree
EXPERIMENT = BIND + """
species Ca = 0 [mM]
input glu = 0 [mM]
parameter kd = 0.05 [1/ms]
Ca -> ; kd
steps L times=[5, 20000] values=[1e-4, 2e-4]
pulses glu times=[10, 60, 110] amplitude=[1, 0.5, 2] width=2
jumps Ca times=[10, 30] amount=0.1
t_end 40000
"""


def test_text_json_and_sbml_files_simulate_to_the_same_trajectories(tmp_path, capsys):
    """`nmdakin simulate` of the same experiment as text, as JSON and as SBML (protocol as events): same CSV."""
    txt = tmp_path / "exp.txt"
    txt.write_text(EXPERIMENT)
    assert main(["export", str(txt), "-f", "json", "-o", str(tmp_path / "exp.json")]) == 0
    assert main(["export", str(txt), "-f", "sbml", "-o", str(tmp_path / "exp.xml")]) == 0  # t_end from the file
    tables = {}
    for suffix in ("txt", "json", "xml"):
        out = tmp_path / f"{suffix}.csv"
        assert main(["simulate", str(tmp_path / f"exp.{suffix}"), "--points", "401", "--csv", str(out),
                     "--rtol", "1e-10", "--atol", "1e-12"]) == 0
        header, data = read_csv(out)
        tables[suffix] = dict(zip([h.split(" [")[0] for h in header], data.T))
    assert "warning" not in capsys.readouterr().err
    assert set(tables["txt"]) == set(tables["json"]) == {"time", "R", "LR", "Ca", "bound_pct"} <= set(tables["xml"])
    for suffix in ("json", "xml"):
        for name, col in tables["txt"].items():
            np.testing.assert_allclose(tables[suffix][name], col, rtol=1e-6, atol=1e-12, err_msg=f"{suffix} {name}")
    t, lr = tables["txt"]["time"], tables["txt"]["LR"]
    assert t[-1] == 40000.0
    first = t <= 20000
    np.testing.assert_allclose(lr[first], lr_exact(t[first], 1e-4, t_on=5.0), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(tables["txt"]["bound_pct"], 100 * lr, rtol=1e-12)
    ca = tables["txt"]["Ca"]
    i = np.searchsorted(t, 100.0)                          # two 0.1 mM jumps (t = 10, 30), decay at 0.05/ms
    assert ca[i] == pytest.approx(0.1 * (math.exp(-0.05 * 90) + math.exp(-0.05 * 70)), rel=1e-6)


# --------------------------------------------------------------------------- nmdakin simulate
@pytest.fixture
def bind_file(tmp_path):
    f = tmp_path / "bind.txt"
    f.write_text(BIND)
    return f


def run(argv, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:                       # argparse's own errors
            code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_readme_binding_scheme_without_a_drive_warns_once_naming_the_input(bind_file, tmp_path, capsys):
    out = tmp_path / "o.csv"
    code, _, err = run(["simulate", bind_file, "--t-end", "60000", "--points", "3", "--csv", out], capsys)
    assert code == 0
    assert err.count("warning") == 1 and "nmdakin simulate: warning: input `L` is driven by nothing" in err
    assert "--input NAME=VALUE" in err
    header, data = read_csv(out)
    assert header == ["time [ms]", "R [1]", "LR [1]", "bound_pct [1]"]          # observables with units
    assert data[:, 2].tolist() == [0.0, 0.0, 0.0]


def test_input_option_drives_the_readme_binding_scheme(bind_file, tmp_path, capsys):
    out = tmp_path / "o.csv"
    code, stdout, err = run(["simulate", bind_file, "--t-end", "60000", "--points", "7", "--csv", out,
                             "--input", "L=1e-4", "--rtol", "1e-10", "--atol", "1e-12"], capsys)
    assert code == 0 and err == "" and "2 species + 1 observable" in stdout
    _, data = read_csv(out)
    np.testing.assert_allclose(data[:, 2], lr_exact(data[:, 0], 1e-4), rtol=1e-7, atol=1e-12)
    assert data[-1, 2] == pytest.approx(0.5, abs=1e-5)                             # Bmax L/(Kd + L), L = Kd


def test_the_files_protocol_and_t_end_drive_simulate_and_options_override_them(bind_file, tmp_path, capsys):
    bind_file.write_text(BIND + "steps L times=[0] values=[1e-4]\nt_end 60000\n")
    out = tmp_path / "o.csv"
    tol = ["--rtol", "1e-10", "--atol", "1e-12", "--points", "5", "--csv", out]
    assert run(["simulate", bind_file, *tol], capsys)[0] == 0
    _, data = read_csv(out)
    assert data[-1, 0] == 60000.0
    np.testing.assert_allclose(data[:, 2], lr_exact(data[:, 0], 1e-4), rtol=1e-7, atol=1e-12)

    assert run(["simulate", bind_file, "--t-end", "30000", "--hold", "L=9e-4", *tol], capsys)[0] == 0
    _, data = read_csv(out)                                # --hold replaces the file's steps; --t-end its t_end
    assert data[-1, 0] == 30000.0
    np.testing.assert_allclose(data[:, 2], lr_exact(data[:, 0], 9e-4), rtol=1e-7, atol=1e-12)

    assert run(["simulate", bind_file, "--input", "L=4e-4", *tol], capsys)[0] == 0
    _, data = read_csv(out)                                # --input: the value where nothing else sets L
    np.testing.assert_allclose(data[:, 2], lr_exact(data[:, 0], 4e-4), rtol=1e-7, atol=1e-12)

    # --pulse replaces the file's steps: one 1 mM pulse of 1 ms, then unbinding at koff
    assert run(["simulate", bind_file, "--pulse", "L=0", "--pulse-amplitude", "1", "--pulse-width", "1",
                *tol], capsys)[0] == 0
    _, data = read_csv(out)
    k = KON * 1 + KOFF
    lr1 = KON / k * (1 - math.exp(-k * 1.0))
    np.testing.assert_allclose(data[1:, 2], lr1 * np.exp(-KOFF * (data[1:, 0] - 1.0)), rtol=1e-6)

    # pulses ride on the --input value of the same input
    assert run(["simulate", bind_file, "--input", "L=1e-4", "--pulse", "L=0", "--pulse-amplitude", "1", *tol],
               capsys)[0] == 0
    _, data = read_csv(out)
    k_on = KON * (1 + 1e-4) + KOFF                        # L = 1 mM + 1e-4 mM during the pulse
    lr_on = KON * (1 + 1e-4) / k_on * (1 - math.exp(-k_on))
    k_after = KON * 1e-4 + KOFF                            # then relaxes to 0.5 at kon*1e-4 + koff
    np.testing.assert_allclose(data[1:, 2], 0.5 + (lr_on - 0.5) * np.exp(-k_after * (data[1:, 0] - 1.0)),
                               rtol=1e-6)


def test_readme_scheme_as_a_file_with_its_protocol_binds(tmp_path, capsys):
    """The README's own binding scheme, as a file: with protocol lines, or with --input, LR reaches Kd's 0.5."""
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    scheme = readme.split('parse_scheme("""', 1)[1].split('""")', 1)[0]
    f = tmp_path / "bind.txt"
    out = tmp_path / "o.csv"
    f.write_text(scheme)
    assert run(["simulate", f, "--t-end", "60000", "--points", "3", "--csv", out, "--input", "L=1e-4"],
               capsys)[0] == 0
    assert read_csv(out)[1][-1, 2] == pytest.approx(0.5, abs=1e-5)
    f.write_text(scheme + "steps L times=[0] values=[1e-4]   # 100 nM from t = 0\nt_end 60000\n")
    code, _, err = run(["simulate", f, "--points", "3", "--csv", out], capsys)
    assert code == 0 and err == ""
    assert read_csv(out)[1][-1, 2] == pytest.approx(0.5, abs=1e-5)


@pytest.mark.parametrize("extra, message", [
    (["--param", "L=1e-4"], "--param L=...: `L` is an input, not a parameter: use --input L=VALUE"),
    (["--input", "kon=2"], "--input kon=...: `kon` is not an input of scheme `binding` (`kon` is a parameter); "
                           "its inputs: L"),
    (["--hold", "Lx=1"], "--hold Lx=...: `Lx` is not an input of scheme `binding`; did you mean `L`?"),
    (["--pulse", "LR=1"], "`LR` is not an input of scheme `binding` (`LR` is a species)"),
    (["--hold", "L=1", "--hold", "L=2"], "--hold gives input `L` twice"),
    (["--input", "L=1", "--input", "L=2"], "--input gives input `L` twice"),
    (["--pulse-width", "2"], "--pulse-width only applies with --pulse INPUT=T1,T2,..."),
    (["--input", "L"], "expected NAME=VALUE, got 'L'"),
    (["--input", "L=x"], "value of 'L' is not a number: 'x'"),
    (["--pulse", "L=1,a"], "pulse times of 'L' must be numbers"),
])
def test_simulate_option_errors(bind_file, tmp_path, capsys, extra, message):
    out = tmp_path / "o.csv"
    code, _, err = run(["simulate", bind_file, "--t-end", "10", "--csv", out, *extra], capsys)
    assert code == 2 and message in err, err
    assert not out.exists()


def test_simulate_without_t_end_anywhere_says_so(bind_file, tmp_path, capsys):
    code, _, err = run(["simulate", bind_file, "--csv", tmp_path / "o.csv", "--input", "L=1"], capsys)
    assert code == 2 and f"give --t-end: `{bind_file}` has no `t_end`" in err


def test_bad_protocol_line_in_a_file_is_one_error_line(bind_file, tmp_path, capsys):
    bind_file.write_text(BIND + "pulses L times=[1] width=-1\n")
    code, _, err = run(["simulate", bind_file, "--t-end", "10", "--csv", tmp_path / "o.csv"], capsys)
    assert code == 2
    assert err.strip() == f"nmdakin simulate: error: {bind_file}:9: pulses: `width` must be >= 0, got -1"


# --------------------------------------------------------------------------- nmdakin export
def test_export_json_keeps_the_files_protocol_and_options_replace_it(bind_file, tmp_path, capsys):
    bind_file.write_text(BIND + "steps L times=[0] values=[1e-4]\npulses L times=[5] amplitude=1\nt_end 600\n")
    out = tmp_path / "b.json"
    assert main(["export", str(bind_file), "-f", "json", "-o", str(out)]) == 0
    m = kx.read_model(out)
    assert m.protocol == kx.read_model(bind_file).protocol and m.t_end == 600.0
    assert main(["export", str(bind_file), "-f", "json", "-o", str(out), "--hold", "L=2e-4", "--t-end", "9"]) == 0
    m = kx.read_model(out)
    assert m.protocol == Protocol([steps("L", [0.0], [2e-4])]) and m.t_end == 9.0
    assert main(["export", str(bind_file), "-f", "json", "-o", str(out), "--input", "L=3e-4"]) == 0
    m = kx.read_model(out)
    assert m.protocol == Protocol.empty() and m.scheme.get_input("L").default == 3e-4


def test_export_help_advertises_only_commands_that_exist(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = capsys.readouterr().out
    assert "export list" not in text and "nmdakin models" in text
    assert main(["models", "--kind", "scheme"]) == 0
