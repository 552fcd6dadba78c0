"""kinetics — symbolic reaction schemes to fast, stiff, tested simulations.

The engine of nmdakin. It knows nothing about NMDA receptors: a
:class:`Scheme` (species, parameters, inputs, reactions, observables, rate
rules — sympy) is derived into ODEs (:func:`derive`), compiled (numpy and a
native C fast path), solved under a :class:`~kinetics.protocol.Protocol`
by :func:`simulate` / :func:`sweep`, fitted to data by :func:`fit`
(:mod:`kinetics.fitting`), and exported by :func:`export` (LaTeX, SBML, NMODL,
C, Python, JSON) or read from SBML / JSON / NMODL (:func:`read_sbml`, :func:`read_json`,
:func:`read_nmodl`); a model file of any format with the protocol it carries is read by :func:`read_model`.

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
from .errors import (ArgumentError, CompilerError, KineticsError, ParseError, ProtocolError, SchemeError,
                     SolverError, UnitError)
from .executor import (DaskExecutor, Executor, ProcessExecutor, SerialExecutor, ThreadExecutor, as_executor,
                       connect_scheduler)
from .exporters import export
from .expressions import parse_expression
from .fitting import Dataset, FitParameter, FitResult, fit, profile
from .odesystem import OdeSystem, derive
from .model import CompiledModel, compile  # noqa: A004 - kinetics.compile(scheme) is the engine's verb
from .protocol import (Protocol, alpha, biexponential, exponential, jumps, pulses, ramp,
                       regular_train, steps, wash_in, waveform)
from .result import Result, SweepResult
from .jsonformat import read_json
from .io import ModelFile, read_model
from .sbml import read_sbml, read_sbml_model
from .nmodl import read_nmodl
from .protocol.schedule import Schedule
from .scheme import Event, Input, Observable, Parameter, RateRule, Reaction, Scheme, Species, compose, reaction
from .simulate import simulate, sweep
from .steady import SteadyState, steady_state
from .stochastic import ssa
from .textformat import format_scheme, parse_model, parse_scheme, read_scheme, write_scheme
from .units import UnitSystem

__version__ = "0.1.0"

__all__ = [
    "ArgumentError", "CompilerError", "KineticsError", "ParseError", "ProtocolError", "SchemeError", "SolverError",
    "UnitError", "parse_expression", "OdeSystem", "derive", "CompiledModel", "compile", "Protocol", "alpha", "biexponential", "exponential",
    "jumps", "pulses", "ramp", "regular_train", "steps", "wash_in", "waveform", "Result",
    "SweepResult", "Schedule", "Event", "Input", "Observable", "Parameter", "RateRule", "Reaction", "Scheme", "Species",
    "compose", "reaction", "simulate", "sweep", "SteadyState", "steady_state", "format_scheme", "parse_scheme",
    "read_scheme", "write_scheme", "UnitSystem", "Dataset", "FitParameter", "FitResult", "fit", "profile",
    "export", "read_json", "Executor", "SerialExecutor", "ThreadExecutor", "ProcessExecutor", "DaskExecutor",
    "as_executor", "connect_scheduler", "read_sbml", "read_sbml_model", "ssa", "ModelFile", "read_model",
    "parse_model", "read_nmodl",
]
