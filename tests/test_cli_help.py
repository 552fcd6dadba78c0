"""Every subcommand of ``nmdakin`` has a description, every option a help text, and no help shows reST markup."""
import argparse
import re

import pytest

from models.cli import build_parser, main, plain_text

REST = re.compile(r"``|:(?:mod|func|class|meth|attr|data|obj|exc|doc|ref):`")


def _walk(parser, path):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, path + [name])
            for a in action._choices_actions:
                yield path + [a.dest], "subcommand help", a.help
        elif not isinstance(action, argparse._HelpAction):
            yield path, "/".join(action.option_strings) or action.dest, action.help
    yield path, "description", parser.description


def test_every_option_has_plain_help():
    missing, markup = [], []
    for path, what, text in _walk(build_parser(), ["nmdakin"]):
        if not text or text is argparse.SUPPRESS or not str(text).strip():
            missing.append((" ".join(path), what))
        elif REST.search(text):
            markup.append((" ".join(path), what))
    assert missing == [] and markup == []


def test_plain_text_strips_roles_and_literals():
    assert plain_text("see :func:`~kinetics.simulate.sweep` and ``--json``") == "see sweep and --json"
    assert plain_text(":mod:`kinetics.fitting` fits") == "kinetics.fitting fits"


@pytest.mark.parametrize("argv", [["export", "--help"], ["single-channel", "fit", "--help"], ["binding", "--help"]])
def test_help_pages_print_without_markup(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.strip() and not REST.search(out)


def test_names_match_without_case():
    from kinetics.errors import did_you_mean
    from models import graupner_brunel2012 as gb
    from models import manipulations
    from models.cli.simulate import _method_name

    args = build_parser().parse_args(["pharmacology", "--conditions", "ap5", "mk801", "--json", "x.json"])
    assert args.conditions == ["AP5", "MK801"]
    assert _method_name("lsoda") == "LSODA" and _method_name("RODAS") == "rodas" and _method_name("x") == "x"
    assert gb.get_set("dp").name == gb.get_set("DP").name and manipulations.get("ap5") is manipulations.get("AP5")
    assert did_you_mean("lsodx", ["auto", "LSODA"]) == "; did you mean `LSODA`?"


def test_a_misspelt_choice_still_gets_a_suggestion(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["pharmacology", "--conditions", "AP6", "--json", "x.json"])
    assert exc.value.code == 2 and "did you mean `AP5`?" in capsys.readouterr().err
