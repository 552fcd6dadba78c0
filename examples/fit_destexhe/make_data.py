"""Generate the synthetic EPSC recordings of this example (run from anywhere: ``python make_data.py``).

The "truth" is the Destexhe et al. (1994) five-state NMDA receptor with its published rates (Rb = 5 /uM/s,
Ru = 12.9, Rd = 8.4, Rr = 6.8, Ro = 46.5, Rc = 73.8 /s; ``models.destexhe1994.five_state()``) with the
Jahr-Stevens Mg2+ block and an NMDA current ``I_NMDA = g_NMDA * O * B * (V - E_NMDA)``
(``models.mg_block.with_nmda_current``, g_NMDA = 2 nS: a scale choice, E_NMDA = 0 mV), recorded in voltage
clamp at -60 mV in Mg2+-free solution, at three glutamate conditions:

* ``pulse_1ms``      one 1 mM x 1 ms pulse at t = 10 ms, recorded 0-500 ms;
* ``train_20Hz``     five such pulses at 20 Hz from t = 10 ms, recorded 0-600 ms;
* ``application_1s`` 1 mM for 1 s from t = 10 ms (desensitisation), recorded 0-1500 ms.

Sampling every 0.5 ms (values written with 7 significant digits); Gaussian noise with a standard deviation of
2 % of each trace's peak |I_NMDA| (fixed seed), written to the CSV as the ``sigma_I_NMDA`` column. These numbers
are choices for a demonstration, not measurements. The files are written atomically (``data/*.csv``); re-running
reproduces them exactly.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import kinetics as kx
from kinetics.fitting import Dataset
from models import destexhe1994, mg_block

HERE = Path(__file__).resolve().parent
SEED = 20240601
NOISE = 0.02          # noise sd as a fraction of the trace's peak |current|
DT = 0.5              # ms between samples
CLAMP = [kx.steps("V", [0.0], [-60.0]), kx.steps("Mg", [0.0], [0.0])]

#: name -> (protocol components of glutamate, end of the recording in ms)
CONDITIONS = {
    "pulse_1ms": ([kx.pulses("glu", [10.0], amplitude=1.0, width=1.0)], 500.0),
    "train_20Hz": ([kx.pulses("glu", kx.regular_train(5, 20.0, t0=10.0), amplitude=1.0, width=1.0)], 600.0),
    "application_1s": ([kx.pulses("glu", [10.0], amplitude=1.0, width=1000.0)], 1500.0),
}


def true_model():
    """The scheme that generated the data."""
    return mg_block.with_nmda_current(destexhe1994.five_state(), g_nmda=2.0)


def make_datasets(seed: int = SEED, noise: float = NOISE, dt: float = DT) -> list:
    """The three noisy recordings as Datasets (in memory)."""
    scheme = true_model()
    rng = np.random.default_rng(seed)
    out = []
    for name, (glu, t_end) in CONDITIONS.items():
        protocol = kx.Protocol(glu + CLAMP)
        t = np.arange(0.0, t_end + dt / 2, dt)
        clean = kx.simulate(scheme, protocol, t_end=t_end, t_eval=t, rtol=1e-10, atol=1e-12)["I_NMDA"]
        sigma = noise * float(np.max(np.abs(clean)))
        out.append(Dataset(name, t, {"I_NMDA": clean + rng.normal(0.0, sigma, t.size)}, protocol=protocol,
                           sigma={"I_NMDA": sigma}))
    return out


def main() -> None:
    (HERE / "data").mkdir(exist_ok=True)
    for ds in make_datasets():
        path = HERE / "data" / f"{ds.name}.csv"
        ds.to_csv(path, digits=7)
        print(f"wrote {path.relative_to(HERE)}: {ds.time.size} points, sigma {ds.sigma['I_NMDA'][0]:.4g} pA")


if __name__ == "__main__":
    main()
