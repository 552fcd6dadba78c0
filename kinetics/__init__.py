"""kinetics — symbolic reaction schemes to fast, stiff, tested simulations.

The engine of nmdakin. It knows nothing about NMDA receptors: a
:class:`Scheme` (species, parameters, inputs, reactions, observables, rate
rules — sympy) is derived into ODEs (:func:`derive`), compiled (numpy and a
native C fast path), and solved under a :class:`~kinetics.protocol.Protocol`
by :func:`simulate` / :func:`sweep`.

Examples
--------
>>> import kinetics as kx
>>> s = kx.Scheme("binding",
...     species=[kx.Species("R", 1.0, unit="1"), kx.Species("LR", 0.0, unit="1")],
...     parameters=[kx.Parameter("kon", 1.0, "1/(mM*ms)"), kx.Parameter("koff", 0.1, "1/ms")],
...     inputs=[kx.Input("L", 0.0, "mM")],
...     reactions=[kx.reaction("R <-> LR", "kon*L", "koff")])
>>> res = kx.simulate(s, kx.Protocol([kx.steps("L", [0.0], [0.1])]), t_end=50.0)
>>> round(float(res["LR"][-1]), 4)  # Bmax L/(Kd + L) with Kd = 0.1 mM
0.5
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Public names and the submodule that defines each; imported on first use so
# that `import kinetics` stays fast and a submodule can be used on its own.
_EXPORTS = {
    "KineticsError": "errors", "SchemeError": "errors", "ParseError": "errors", "UnitError": "errors",
    "ProtocolError": "errors", "SolverError": "errors", "CompilerError": "errors", "ArgumentError": "errors",
    "Species": "scheme", "Parameter": "scheme", "Input": "scheme", "Reaction": "scheme", "Observable": "scheme",
    "RateRule": "scheme", "Scheme": "scheme", "reaction": "scheme", "compose": "scheme",
    "UnitSystem": "units",
    "parse_expression": "expressions",
    "parse_scheme": "textformat", "read_scheme": "textformat", "format_scheme": "textformat",
    "write_scheme": "textformat",
    "OdeSystem": "odesystem", "derive": "odesystem",
    "Protocol": "protocol", "pulses": "protocol", "steps": "protocol", "ramp": "protocol",
    "waveform": "protocol", "wash_in": "protocol", "jumps": "protocol", "exponential": "protocol",
    "alpha": "protocol", "biexponential": "protocol", "regular_train": "protocol", "pairing_times": "protocol",
    "Schedule": "schedule",
    "simulate": "simulate", "sweep": "simulate",
    "Result": "result", "SweepResult": "result",
    "steady_state": "steady", "SteadyState": "steady",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kinetics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
