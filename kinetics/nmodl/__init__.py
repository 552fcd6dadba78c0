"""Import NMODL (.mod) mechanisms — the kinetic synapse models published on ModelDB — as schemes.

:func:`read_nmodl` reads a .mod file with a grammar of its own (:mod:`kinetics.nmodl._parser`; no code in
the file is ever run, VERBATIM blocks are refused) into a neutral model, then runs its blocks symbolically
(:mod:`kinetics.nmodl._interp`) to build a :class:`~kinetics.scheme.Scheme`.
:func:`read_nmodl_model` also returns the NET_RECEIVE block as a protocol factory
(:meth:`NmodlModel.protocol`): the transmitter pulse of the ``Cdur`` pattern (``C = Cmax``,
``net_send(Cdur, 1)``, then ``C = 0``) becomes steps of the input ``C``, and ``A = A + weight*factor``
(Exp2Syn) jumps of states.

Supported
---------
* NEURON block: POINT_PROCESS or SUFFIX, RANGE, GLOBAL, NONSPECIFIC_CURRENT, USEION ... READ (inputs)
  WRITE (ion currents), POINTER (inputs), THREADSAFE;
* UNITS ``(abbrev) = (long name)``; PARAMETER and CONSTANT (values, units, ``<lo, hi>`` limits),
  ASSIGNED, STATE, INDEPENDENT (ignored);
* KINETIC blocks: ``~ A + 2 B <-> C (kf, kb)``, CONSERVE (implied by the reactions), COMPARTMENT
  ``volume {states}``; DERIVATIVE blocks: ``x' = expr``;
* INITIAL (run numerically at import: the states' initial values, the inputs' defaults), BREAKPOINT
  (``SOLVE block METHOD sparse | cnexp | derivimplicit | runge | euler``; the assigned variables it
  computes become observables), FUNCTION and PROCEDURE (inlined; ``if``/``else`` on a variable
  condition becomes ``piecewise``), LOCAL; TABLE is ignored: the exact function is used (NEURON
  interpolates in its table unless ``usetable_<mechanism> = 0``);
* NET_RECEIVE(weight) with ``if (flag == 0)``, ``net_send(delay, flag)``, assignments of inputs and
  increments of states, ``state_discontinuity``.

Values are used as the file writes them, as NEURON does (NMODL does no unit arithmetic: ``(1e-6) * g``
factors stay); each parameter keeps its declared unit where that unit is the scheme's unit of its kind
(the unit the file declares most), otherwise the declared text goes into the parameter's note.
Not supported, with an error naming the construct and its line: VERBATIM, INCLUDE, LINEAR/NONLINEAR,
``SOLVE ... STEADYSTATE``, WATCH, arrays, ``~ x << (flux)``, ion concentrations written, ``net_move``,
NET_RECEIVE with several arguments, INITIAL blocks that change a PARAMETER, UNITS constants
(``FARADAY = (faraday)``), FROM/WHILE loops, ``dt``/``area``/``diam``.
"""
from .read import NEURON_DEFAULTS, NmodlModel, read_nmodl, read_nmodl_model

__all__ = ["read_nmodl", "read_nmodl_model", "NmodlModel", "NEURON_DEFAULTS"]
