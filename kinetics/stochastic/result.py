"""The result of an ensemble of exact stochastic runs."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError, did_you_mean

__all__ = ["SSAResult"]


@dataclass(frozen=True, eq=False)
class SSAResult:
    """Counts of ``n_runs`` exact stochastic runs on a time grid.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
    species : tuple of str
    counts : ndarray of int64, shape (n_runs, n_t, n_species)
        Molecule (or receptor) counts of every run at every grid time.
    omega : float
        Molecules per unit of species value: ``concentration = count / omega``.
    seed : int
        The root seed (run ``i`` used child stream ``i``).
    n_events : ndarray of int64, shape (n_runs,)
        Reactions fired per run.
    method : str
        The engine that ran (``"python"`` or ``"native"``).
    mode : str
        ``"volume"`` or ``"copies"``.

    Examples
    --------
    >>> r = SSAResult(t=np.array([0.0, 1.0]), species=("A",), counts=np.array([[[2], [1]], [[2], [3]]]),
    ...               omega=1.0, seed=0, n_events=np.array([1, 1]), method="python", mode="copies")
    >>> r.mean("A").tolist(), r.var("A").tolist(), r["A"].shape
    ([2.0, 2.0], [0.0, 2.0], (2, 2))
    """

    t: np.ndarray
    species: tuple
    counts: np.ndarray
    omega: float
    seed: int
    n_events: np.ndarray
    method: str = "python"
    mode: str = "copies"

    def __post_init__(self):
        for name in ("t", "counts", "n_events"):
            a = np.array(getattr(self, name))
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @property
    def n_runs(self) -> int:
        return int(self.counts.shape[0])

    def _index(self, name):
        if name not in self.species:
            raise ArgumentError(f"unknown species `{name}` in this result" + did_you_mean(str(name), self.species))
        return self.species.index(name)

    def _select(self, name):
        return self.counts.astype(float) if name is None else self.counts[:, :, self._index(name)].astype(float)

    def __getitem__(self, name) -> np.ndarray:
        """Counts of species ``name``, shape ``(n_runs, n_t)``."""
        return self.counts[:, :, self._index(name)]

    def concentration(self, name) -> np.ndarray:
        """Species ``name`` in the scheme's units (``count / omega``), shape ``(n_runs, n_t)``."""
        return self[name] / self.omega

    def mean(self, name=None) -> np.ndarray:
        """Mean count over runs: shape ``(n_t,)`` for one species, ``(n_t, n_species)`` for all."""
        return self._select(name).mean(axis=0)

    def var(self, name=None, ddof: int = 1) -> np.ndarray:
        """Variance of the count over runs (unbiased, ``ddof=1``, by default)."""
        if self.n_runs <= ddof:
            raise ArgumentError(f"a variance with ddof={ddof} needs more than {ddof} runs")
        return self._select(name).var(axis=0, ddof=ddof)

    def std(self, name=None, ddof: int = 1) -> np.ndarray:
        return np.sqrt(self.var(name, ddof))

    def quantile(self, q, name=None) -> np.ndarray:
        """Quantile(s) ``q`` of the count over runs (``numpy.quantile``, linear interpolation)."""
        q = np.asarray(q, dtype=float)
        if np.any((q < 0) | (q > 1)) or not np.all(np.isfinite(q)):
            raise ArgumentError(f"quantiles must be in [0, 1], got {q}")
        return np.quantile(self._select(name), q, axis=0)

    def __repr__(self) -> str:
        return (f"<SSAResult {self.n_runs} runs x {self.t.size} times x {len(self.species)} species, "
                f"omega={self.omega:g}, seed={self.seed}, {self.method}>")
