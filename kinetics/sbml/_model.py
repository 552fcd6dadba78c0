"""The result of an SBML import: :class:`SbmlModel` (scheme, protocol of the events, SBML symbols)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy

from ..errors import ArgumentError, SolverError, did_you_mean
from ..model import compile  # noqa: A004 - kinetics.compile(scheme)
from ..protocol import Protocol
from ..scheme import TIME, Scheme


@dataclass(frozen=True)
class SbmlModel:
    """An imported SBML model: the scheme, the protocol made of its events, and its SBML symbols.

    Attributes
    ----------
    scheme : Scheme
    protocol : Protocol
        Time-triggered SBML events as steps and jumps (empty if none, or if the events are
        ``scheme.events``: when one of them is not time-only, all are).
    source : str or None
        File name.
    species : tuple of str
        SBML species ids, in document order.
    symbols : dict
        SBML id -> sympy expression (in scheme names) of the symbol value SBML
        math sees (a species' concentration unless ``hasOnlySubstanceUnits``).
    amounts : dict
        SBML species id -> sympy expression of its amount.
    concentrations : dict
        SBML species id -> sympy expression of its concentration (amount / compartment size; species in
        0-dimensional compartments have none).
    varying : tuple of str
        Ids of parameters and compartments that change over time (rules, events).
    renamed : dict
        SBML id -> scheme name, for ids that had to be renamed.
    t_end : float or None
        End time stored by an nmdakin SBML export (``None`` otherwise).

    Examples
    --------
    >>> m = read_sbml_model("model.xml")                             # doctest: +SKIP
    >>> df = m.simulate(t_end=10.0, t_eval=np.linspace(0, 10, 101))  # doctest: +SKIP
    """

    scheme: Scheme
    protocol: Protocol
    source: str | None
    species: tuple
    symbols: dict = field(repr=False)
    amounts: dict = field(repr=False)
    concentrations: dict = field(repr=False, default_factory=dict)
    varying: tuple = ()
    renamed: dict = field(default_factory=dict)
    t_end: float | None = None

    @property
    def columns(self) -> tuple:
        """Output columns of :meth:`simulate`: every species id, then the varying parameters/compartments."""
        return tuple(self.species) + tuple(v for v in self.varying if v not in self.species)

    def values(self, result, ids=None, amounts=(), concentrations=()) -> dict:
        """Values of SBML symbols over a :class:`~kinetics.result.Result` of this model's scheme.

        Parameters
        ----------
        result : Result
            A simulation of :attr:`scheme` (e.g. ``simulate(m.scheme, m.protocol, ...)``).
        ids : sequence of str, optional
            SBML ids (default :attr:`columns`): species, parameters, compartments, species references,
            reactions used in math, assignment-rule targets. Each is its symbol value (what SBML math sees:
            a species' concentration unless ``hasOnlySubstanceUnits``).
        amounts, concentrations : sequence of str
            Species ids reported as amounts, or as concentrations, instead of their symbol value.

        Returns
        -------
        dict
            SBML id -> numpy array over ``result.t``.

        Raises
        ------
        ArgumentError
            An unknown id, a non-species in ``amounts``/``concentrations``, an id in both, or the
            concentration of a species in a 0-dimensional compartment.

        Examples
        --------
        >>> import kinetics as kx
        >>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
        ...               reactions=[kx.reaction("A ->", "k")])
        >>> m = kx.read_sbml_model(kx.export(s, "sbml"))
        >>> res = kx.simulate(m.scheme, m.protocol, t_end=2.0, t_eval=[0.0, 2.0])
        >>> v = m.values(res, ["A", "k"], amounts=["A"])
        >>> v["k"].tolist(), round(float(v["A"][-1]), 6)
        ([0.5, 0.5], 0.367879)
        """
        ids = self.columns if ids is None else tuple(ids)
        amounts, concentrations = set(amounts), set(concentrations)
        for what, names in (("amounts", amounts), ("concentrations", concentrations)):
            for a in names:
                if a not in self.amounts:
                    raise ArgumentError(f"`{what}` names `{a}`, which is not a species of the SBML model"
                                        + did_you_mean(a, self.amounts))
        both = amounts & concentrations
        if both:
            raise ArgumentError(f"species asked both as amount and as concentration: {', '.join(sorted(both))}")
        for c in concentrations:
            if c not in self.concentrations:
                raise ArgumentError(f"species `{c}` is in a 0-dimensional compartment: it has no concentration")
        model = compile(self.scheme)
        pvals = dict(zip(model.parameter_names, model.parameter_vector(result.params, check_bounds=False).tolist()))
        out = {}
        for i in ids:
            if i not in self.symbols:
                raise ArgumentError(f"unknown SBML id `{i}`" + did_you_mean(i, self.symbols))
            expr = self.amounts[i] if i in amounts else self.concentrations[i] if i in concentrations \
                else self.symbols[i]
            out[i] = _evaluate_on(expr, result, pvals)
        return out

    def simulate(self, t_end: float, t_eval=None, *, ids=None, amounts=(), concentrations=(), **options):
        """Simulate with the model's protocol; a pandas DataFrame with ``time`` and the SBML ids ``ids``
        (default :attr:`columns`), as :meth:`values` computes them.

        ``options`` go to :func:`kinetics.simulate` (``rtol``, ``atol``, ``method``, ``t0``...).

        Examples
        --------
        >>> import kinetics as kx
        >>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
        ...               reactions=[kx.reaction("A ->", "k")])
        >>> df = kx.read_sbml_model(kx.export(s, "sbml")).simulate(2.0, [0.0, 1.0, 2.0], ids=["A", "k"])
        >>> list(df.columns)
        ['time', 'A', 'k']
        """
        import pandas as pd

        from ..simulate import simulate

        res = simulate(self.scheme, self.protocol, t_end=t_end, t_eval=t_eval, **options)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            vals = self.values(res, ids, amounts=amounts, concentrations=concentrations)
        if options.get("nonfinite", "raise") == "raise":
            for k, v in vals.items():
                bad = ~np.isfinite(np.asarray(v, dtype=float))
                if bad.any():
                    t_bad = float(res.t[int(np.argmax(bad))])
                    raise SolverError(f"SBML symbol `{k}` is not finite (NaN or inf) from t = {t_bad:.9g}; pass "
                                      f"nonfinite='warn' to get the values anyway", t=t_bad, method=res.method)
        return pd.DataFrame({"time": res.t, **vals})


def _evaluate_on(expr, result, pvals) -> np.ndarray:
    n = result.t.size
    expr = sympy.sympify(expr)
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    if not syms:
        return np.full(n, float(expr))
    args = []
    for s in syms:
        if s == TIME:
            args.append(result.t)
        elif s.name in pvals:
            args.append(np.full(n, pvals[s.name]))
        else:
            args.append(np.asarray(result[s.name], dtype=float))
    from ..codegen import lambdify_modules

    f = sympy.lambdify(syms, expr, modules=lambdify_modules())
    return np.broadcast_to(np.asarray(f(*args), dtype=float), (n,)).copy()
