"""``nmdakin``: options that other options make meaningless are refused with one clear line (never ignored
silently, nothing written), and names chosen on the command line match without case."""
from pathlib import Path

import pytest

from models.cli import build_parser, main

EXPERIMENT = Path(__file__).resolve().parents[1] / "examples" / "fit_destexhe" / "experiment.toml"

SCHEME = "scheme decay\nspecies A = 1 [mM]\nparameter k = 1 [1/ms]\nA -> ; k\n"

REFUSED = [
    (["chronic", "--drug", "ecs", "--dose", "10", "--days", "2", "--json", "{d}/o.json"],
     "--dose does not apply to --drug ecs"),
    (["stdp", "--seed", "3", "--dt", "10", "--json", "{d}/o.json"],
     "--seed only applies to a stochastic method (sde) (`graupner-brunel-2012` with method `exact` is deterministic)"),
    (["frequency", "--method", "ode", "--synapses", "5", "--step", "0.1", "--json", "{d}/o.json"],
     "--synapses and --step only apply to a stochastic method"),
    (["stdp", "--model", "synapse", "--seed", "1", "--json", "{d}/o.json"], "with method `ode` is deterministic"),
    (["simulate", "{d}/decay.txt", "--t-end", "1", "--csv", "{d}/o.csv", "--amounts", "A"],
     "--amounts applies to SBML files"),
    (["export", "destexhe1994", "-f", "sbml", "-o", "{d}/o.xml", "--pulse-width", "2"],
     "--pulse-width only applies with --pulse INPUT=T1,T2,... (they shape its pulses)"),
    (["export", "destexhe1994", "-f", "latex", "-o", "{d}/o.tex", "--t-end", "5"],
     "format `latex` has no simulated window"),
    (["export", "destexhe1994", "-f", "sbml", "-o", "{d}/o.xml", "--t-end", "5"],
     "--t-end is the end of the window of a protocol: give --pulse or --hold too"),
    (["binding", "saturation", "--radioligand", "mk801", "--kd-nM", "3", "--json", "{d}/o.json"],
     "--radioligand mk801 brings its own sourced constants; leave out --kd-nM"),
    (["binding", "kinetics", "--radioligand", "dcka", "--kon", "0.2", "--json", "{d}/o.json"], "leave out --kon"),
    (["binding", "saturation", "--kd-nM", "3", "--glycine-uM", "10", "--json", "{d}/o.json"],
     "--glycine-uM only applies to --radioligand mk801"),
    (["binding", "saturation", "--kd-nM", "3", "--efficiency", "0.4", "--volume-ml", "0.5", "--json", "{d}/o.json"],
     "--efficiency and --volume-ml only apply with --data TABLE"),
    (["binding", "competition", "--kd-nM", "3", "--ki-nM", "5", "--model", "hill", "--json", "{d}/o.json"],
     "--model only applies with --data TABLE"),
    (["binding", "competition", "--kd-nM", "3", "--ki-nM", "5", "--f-high", "0.4", "--ki-high-nM", "1",
      "--ki-low-nM", "100", "--json", "{d}/o.json"], "not both"),
    (["synapse-fit", "--check", "--starts", "2", "--json", "{d}/o.json"],
     "--starts only applies to a fit (--check compares the shipped sets without fitting)"),
    (["fit", str(EXPERIMENT), "--json", "{d}/o.json", "--connect-timeout", "3"],
     "--connect-timeout applies to --scheduler ADDRESS only"),
    (["fit", str(EXPERIMENT), "--json", "{d}/o.json", "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"],
     "--workers sets the local processes"),
    (["single-channel", "fit", "{d}/decay.txt", "--scheme", "{d}/decay.txt", "--tres", "50us", "--open", "A",
      "--agonist", "A", "--json", "{d}/o.json"], "--agonist adds a panel to the figure: give --plot PNG too"),
]


@pytest.mark.parametrize("argv, message", REFUSED, ids=[" ".join(a[:2]) + f" {i}" for i, (a, _) in enumerate(REFUSED)])
def test_meaningless_combinations_are_refused(argv, message, tmp_path, capsys):
    (tmp_path / "decay.txt").write_text(SCHEME)
    assert main([a.format(d=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"nmdakin {argv[0]}" in err and ": error: " in err and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decay.txt"]          # nothing written


def test_plasticity_names_match_without_case():
    from models.cli.stdp import _resolve_names

    args = build_parser().parse_args(["stdp", "--model", "SYNAPSE", "--condition", "ap5", "--set", "l5",
                                      "--json", "o.json"])
    _resolve_names(args)
    assert (args.model, args.condition, args.set, args.method) == ("synapse", "AP5", "L5", None)
    args = build_parser().parse_args(["frequency", "--method", "SDE", "--set", "Cortical_Slices", "--seed", "1",
                                      "--json", "o.json"])
    _resolve_names(args)
    assert (args.model, args.method, args.set) == ("graupner-brunel-2012", "sde", "cortical_slices")
    args = build_parser().parse_args(["stdp", "--method", "Analytic", "--json", "o.json"])
    _resolve_names(args)
    assert args.method == "analytic"                   # the alias, resolved to `exact` by the model


def test_choices_match_without_case():
    p = build_parser()
    assert p.parse_args(["export", "x", "-f", "JSON", "-o", "-"]).format == "json"
    assert p.parse_args(["binding", "kinetics", "--radioligand", "MK801", "--json", "o"]).radioligand == "mk801"
    assert p.parse_args(["chronic", "--drug", "ECS", "--days", "1", "--json", "o"]).drug == "ecs"
    assert p.parse_args(["models", "--kind", "Plasticity"]).kind == "plasticity"


def test_a_misspelt_plasticity_name_gets_a_suggestion(tmp_path, capsys):
    assert main(["stdp", "--model", "synapse", "--condition", "ap6", "--json", str(tmp_path / "o.json")]) == 2
    assert "did you mean `AP5`?" in capsys.readouterr().err
    assert main(["stdp", "--method", "sdee", "--json", str(tmp_path / "o.json")]) == 2
    assert "did you mean `sde`?" in capsys.readouterr().err


def test_the_exact_method_in_any_case_gives_the_same_curve(tmp_path):
    import json

    for name in ("exact", "EXACT"):
        assert main(["stdp", "--method", name, "--dt", "10", "-10", "--json", str(tmp_path / f"{name}.json")]) == 0
    lower, upper = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("exact", "EXACT"))
    assert upper["method"] == "exact" and upper["change"] == lower["change"]
    assert lower["change"][0] > 1 > lower["change"][1]            # dt = +10 ms potentiates, -10 ms depresses (DP)
