"""The model registry (models.registry): one static table of plasticity models, scheme builders and transforms."""
from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import models
from kinetics import Scheme
from kinetics.errors import ArgumentError, SchemeError
from models import registry

ROOT = Path(__file__).resolve().parent.parent


def _scheme_functions() -> dict:
    """Every public function of a models module that is annotated to return a Scheme (the test's own survey)."""
    out = {}
    for info in pkgutil.iter_modules(models.__path__):
        if info.name.startswith("_") or info.name == "cli":
            continue
        mod = importlib.import_module(f"models.{info.name}")
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name, None)
            fn = inspect.unwrap(obj) if callable(obj) else None
            if not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
                continue
            ret = inspect.signature(fn).return_annotation
            ret = ret if isinstance(ret, str) else getattr(ret, "__name__", "")
            if ret == "Scheme" or ret.endswith(".Scheme"):
                out[f"{info.name}.{name}"] = obj
    return out


def test_the_table_lists_every_scheme_function_of_the_library_and_nothing_else():
    table = {e.name: e for e in registry.available(("scheme", "transform"))}
    found = _scheme_functions()
    assert set(table) == set(found)
    for name, fn in found.items():
        entry = table[name]
        assert entry.load() is fn
        params = list(inspect.signature(fn).parameters.values())
        required = [p.name for p in params if p.default is inspect.Parameter.empty
                    and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if entry.kind == "transform":
            assert required and params[0].name == required[0], name     # takes the scheme first
        else:
            assert list(entry.requires) == required, name


def test_entries_are_unique_described_and_ordered():
    entries = registry.available()
    assert [e.kind for e in entries] == sorted((e.kind for e in entries), key=registry.KINDS.index)
    keys = [e.name.lower().replace("_", "-") for e in entries]
    assert len(keys) == len(set(keys))
    for e in entries:
        assert e.description and "\n" not in e.description and len(e.description) <= 120, e.name
    for e in registry.available("plasticity"):
        m = e.load()
        assert isinstance(m, registry.PlasticityModel) and m.name == e.name
        assert registry.get(e.name) is m                     # one shared instance
    assert isinstance(registry.available(), tuple)
    with pytest.raises(ArgumentError, match="unknown kind of model `schemes`; did you mean `scheme`"):
        registry.available("schemes")


def test_get_is_case_insensitive_and_names_the_closest_match():
    from models import destexhe1994

    assert models.get("Destexhe1994.Five-State") is destexhe1994.five_state
    assert models.get("GRAUPNER_BRUNEL-2012").name == "graupner-brunel-2012"
    with pytest.raises(ArgumentError, match=r"unknown model `destexhe1994.five_stat`; "
                                            r"did you mean `destexhe1994.five_state`"):
        models.get("destexhe1994.five_stat")
    with pytest.raises(ArgumentError, match="`synapse.scheme` is a scheme builder, not a plasticity model"):
        models.get("synapse.scheme", kind="plasticity")
    with pytest.raises(ArgumentError, match="must be a string"):
        models.get(3)
    mine = registry.GraupnerBrunelModel()
    assert models.get(mine) is mine


def test_importing_the_registry_imports_no_model_and_registers_nothing():
    code = ("import sys, models, models.registry as r; r.available(); "
            "print(sorted(m for m in sys.modules if m.startswith('models.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "['models.registry']"


def test_scheme_builder_accepts_only_listed_builders():
    from models import mg_block

    assert models.scheme_builder("mg_block.with_nmda_current") is mg_block.with_nmda_current
    for name, error, match in [
        ("synapse", ArgumentError, "must be MODULE.FUNCTION"),
        ("experiments.stdp", SchemeError, r"`stdp` is not a builder of `models.experiments`.*has none"),
        ("synapse.SynapseModel", SchemeError, r"choose one of \['scheme'\]"),
        ("numpy.zeros", SchemeError, "unknown model module `numpy`"),
    ]:
        with pytest.raises(error, match=match):
            models.scheme_builder(name)


def test_export_lists_the_builders_that_need_no_argument():
    from models.cli.export import library_builders

    builders = library_builders()
    assert set(builders) == {e.name for e in registry.available("scheme") if not e.requires}
    assert "pharmacokinetics.one_compartment" not in builders
    assert isinstance(builders["destexhe1994.two_state"](), Scheme)


def test_cli_models_lists_every_kind(tmp_path, capsys):
    from models.cli import main

    out = tmp_path / "m.json"
    assert main(["models", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    for e in registry.available():
        assert e.name in text
    rows = json.loads(out.read_text())["models"]
    assert [r["name"] for r in rows] == [e.name for e in registry.available()]
    assert rows[0]["sets"] and rows[-1]["kind"] == "transform"
    assert main(["models", "--kind", "transform"]) == 0
    text = capsys.readouterr().out
    assert "mg_block.with_nmda_current" in text and "graupner-brunel-2012" not in text


def test_export_takes_a_builder_that_needs_an_argument_with_it(tmp_path, capsys):
    from kinetics.jsonformat import read_json
    from models import pharmacokinetics
    from models.cli import main

    out = tmp_path / "pk.json"
    assert main(["export", "pharmacokinetics.one_compartment:imipramine", "-f", "json", "-o", str(out)]) == 0
    assert read_json(out) == pharmacokinetics.one_compartment("imipramine")
    assert main(["export", "pharmacokinetics", "-f", "json", "-o", str(out)]) == 2
    assert "needs its `drug`" in capsys.readouterr().err
