"""kinetics.data — measured data in: recordings (ABF, NWB) and tables (CSV, TSV) as fitting datasets.

* :func:`read_table` — a CSV/TSV table read tolerantly with pandas (sniffed separator, ``time (s)`` headers,
  units, blank cells as missing values) into a :class:`Table`, then ``.dataset()`` / ``.datasets()``
  (:mod:`kinetics.data.tables`; :meth:`kinetics.fitting.Dataset.from_csv` uses it).
* :func:`read_abf`, :func:`read_nwb` — sweeps of an Axon ABF file (pyabf) or of the patch-clamp series of an
  NWB file (pynwb), with their units and recorded command, as :class:`Sweep` objects; :meth:`Sweep.dataset`
  subtracts a baseline, corrects a linear leak when asked, converts units and builds the protocol from the
  command (voltage steps and ramps) plus what the user adds (transmitter pulses, drug applications);
  :func:`load_datasets` does it all for a file in one call (:mod:`kinetics.data.recordings`).

pyabf and pynwb are imported only when such a file is read.
"""
from __future__ import annotations

from .recordings import Sweep, command_protocol, load_datasets, read_abf, read_nwb, read_sweeps
from .tables import DataFileNotFoundError, Table, read_table

__all__ = ["Table", "read_table", "DataFileNotFoundError", "Sweep", "read_abf", "read_nwb", "read_sweeps",
           "load_datasets", "command_protocol"]
