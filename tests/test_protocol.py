"""Tests of kinetics.protocol: components compile to schedules that reproduce their definitions."""
from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinetics import protocol as protocol_module
from kinetics.errors import KineticsError, ProtocolError
from kinetics.protocol import (
    Protocol,
    alpha,
    biexponential,
    exponential,
    jumps,
    pulses,
    ramp,
    regular_train,
    spike_train,
    steps,
    wash_in,
    waveform,
)
from kinetics.protocol.schedule import JUMP_ADD, JUMP_SET, Schedule

TOL = 1e-12


def grid_with(t0, t_end, extra=(), n=2001):
    """A fine grid on [t0, t_end] plus the given times (e.g. breakpoints) inside the window."""
    extra = np.asarray(extra, dtype=float)
    extra = extra[(extra >= t0) & (extra <= t_end)]
    return np.unique(np.concatenate([np.linspace(t0, t_end, n), extra]))


def values_of(sched: Schedule, name: str, t) -> np.ndarray:
    return sched.input_values(t)[:, sched.inputs.index(name)]


def assert_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=TOL, atol=TOL)


# --------------------------------------------------------------------------- direct formulas


def direct_pulses(t, times, amp, width):
    t = np.asarray(t)[:, None]
    on = (t >= np.asarray(times)) & (t < np.asarray(times) + width)
    return (on * amp).sum(axis=1)


def direct_steps(t, times, values, default):
    i = np.searchsorted(times, t, side="right") - 1
    return np.where(i < 0, default, np.asarray(values)[np.maximum(i, 0)])


def direct_exp_kernel(s, amp, tau):
    return np.where(s >= 0, amp * np.exp(-np.maximum(s, 0) / tau), 0.0)


def direct_alpha_kernel(s, amp, tau):
    s0 = np.maximum(s, 0)
    return np.where(s >= 0, amp * (s0 / tau) * np.exp(1 - s0 / tau), 0.0)


def direct_biexp_kernel(s, amp, tr, td):
    s0 = np.maximum(s, 0)
    lags = np.linspace(0, 10 * td, 200001)
    shape = np.exp(-lags / td) - np.exp(-lags / tr)
    # peak located analytically, checked against a brute-force search below
    tp = tr * td / (td - tr) * math.log(td / tr)
    assert abs(lags[np.argmax(shape)] - tp) < 1e-3
    norm = math.exp(-tp / td) - math.exp(-tp / tr)
    return np.where(s >= 0, amp * (np.exp(-s0 / td) - np.exp(-s0 / tr)) / norm, 0.0)


def direct_train(t, times, kernel_fn):
    t = np.asarray(t)
    return sum((kernel_fn(t - tk) for tk in times), np.zeros_like(t))


def direct_wash(t, time, c, tau, washout):
    t = np.asarray(t, dtype=float)
    if tau == 0:
        on = t >= time
        if washout is not None:
            on &= t < washout
        return np.where(on, c, 0.0)
    rise = np.where(t >= time, c * (1 - np.exp(-np.maximum(t - time, 0) / tau)), 0.0)
    if washout is None:
        return rise
    level = c * (1 - math.exp(-(washout - time) / tau))
    return np.where(t >= washout, level * np.exp(-np.maximum(t - washout, 0) / tau), rise)


# --------------------------------------------------------------------------- components vs. definitions


def test_pulses_match_definition_including_breakpoints_and_before_t0():
    times = [-0.5, 2.0, 2.5, 7.0, 12.0]          # first starts before t0; 2.0 and 2.5 overlap
    p = Protocol([pulses("glu", times, amplitude=0.7, width=1.25)])
    sched = p.schedule(0.0, 10.0, ["glu"], {"glu": 0.0})
    bps = sched.boundaries
    assert bps.tolist() == [0.0, 0.75, 2.0, 2.5, 3.25, 3.75, 7.0, 8.25, 10.0]
    t = grid_with(0.0, 10.0, bps)
    assert_close(values_of(sched, "glu", t), direct_pulses(t, times, 0.7, 1.25))
    # right-continuity at each edge, and the overlap adds
    assert values_of(sched, "glu", [2.0, 2.5, 3.25, 3.75, 0.75]).tolist() == [0.7, 1.4, 0.7, 0.0, 0.0]
    assert sched.input_values([0.0])[0, 0] == 0.7


def test_pulses_per_pulse_amplitude_and_width_unsorted_input():
    times = np.array([5.0, 1.0, 3.0])
    amp = np.array([1.0, 2.0, 3.0])
    width = np.array([0.5, 4.0, 0.0])             # zero width: no effect, no breakpoint
    c = pulses("glu", times, amplitude=amp, width=width)
    assert c.times == (1.0, 3.0, 5.0) and c.amplitude == (2.0, 3.0, 1.0) and c.width == (4.0, 0.0, 0.5)
    sched = Protocol([c]).schedule(0.0, 8.0, ["glu"], {"glu": 0.25})
    assert sched.boundaries.tolist() == [0.0, 1.0, 5.0, 5.5, 8.0]
    t = grid_with(0.0, 8.0, sched.boundaries)
    expected = 0.25 + direct_pulses(t, [1.0], 2.0, 4.0) + direct_pulses(t, [5.0], 1.0, 0.5)
    assert_close(values_of(sched, "glu", t), expected)


def test_steps_match_definition_and_replace_the_default():
    times, values = [1.0, 4.0, 6.5], [-40.0, 10.0, -55.0]
    sched = Protocol([steps("V", times, values)]).schedule(0.0, 9.0, ["glu", "V"],
                                                           {"glu": 0.0, "V": -70.0})
    assert sched.boundaries.tolist() == [0.0, 1.0, 4.0, 6.5, 9.0]
    t = grid_with(0.0, 9.0, sched.boundaries)
    assert_close(values_of(sched, "V", t), direct_steps(t, times, values, -70.0))
    # clamp values are exact, right-continuous
    assert values_of(sched, "V", [0.999, 1.0, 4.0, 6.5, 9.0]).tolist() == [-70.0, -40.0, 10.0, -55.0, -55.0]
    assert np.all(values_of(sched, "glu", t) == 0.0)
    assert sched.term_data.shape == (0, 4)


def test_steps_entirely_before_t0_hold_their_last_value():
    sched = Protocol([steps("V", [-30.0, -10.0], [0.0, -20.0])]).schedule(0.0, 5.0, ["V"], {"V": -70.0})
    assert sched.boundaries.tolist() == [0.0, 5.0]
    assert sched.const.tolist() == [[-20.0]]


def test_ramp_matches_definition_through_points():
    times, values = [-2.0, 3.0, 5.0, 8.0], [-70.0, 20.0, 20.0, -100.0]   # starts before t0
    sched = Protocol([ramp("V", times, values)]).schedule(0.0, 10.0, ["V"], {"V": -65.0})
    assert sched.boundaries.tolist() == [0.0, 3.0, 5.0, 8.0, 10.0]
    t = grid_with(0.0, 10.0, sched.boundaries)
    assert_close(values_of(sched, "V", t), np.interp(t, times, values))
    # a ramp is a rate-0 term with q = slope; flat parts have no term
    rates = sched.term_data[:, 1]
    assert np.all(rates == 0.0)
    assert np.diff(sched.term_ptr).tolist() == [1, 0, 1, 0]
    assert sched.term_data[0, 3] == pytest.approx(90.0 / 5.0)
    assert sched.term_data[1, 3] == pytest.approx(-120.0 / 3.0)


def test_ramp_default_before_first_point_and_repeated_time_jumps():
    times, values = [2.0, 4.0, 4.0, 6.0], [-70.0, -70.0, -100.0, 50.0]
    sched = Protocol([ramp("V", times, values)]).schedule(0.0, 8.0, ["V"], {"V": -65.0})
    t = grid_with(0.0, 8.0, sched.boundaries)
    expected = np.where(t < 2.0, -65.0,
                        np.where(t < 4.0, -70.0,
                                 np.where(t < 6.0, -100.0 + 75.0 * (t - 4.0), 50.0)))
    assert_close(values_of(sched, "V", t), expected)
    assert values_of(sched, "V", [4.0]).tolist() == [-100.0]   # right-continuous at the jump


@pytest.mark.parametrize("kernel, fn", [
    (exponential(3.0, 2.0), lambda s: direct_exp_kernel(s, 3.0, 2.0)),
    (alpha(-1.5, 0.8), lambda s: direct_alpha_kernel(s, -1.5, 0.8)),
    (biexponential(100.0, 0.5, 3.0), lambda s: direct_biexp_kernel(s, 100.0, 0.5, 3.0)),
])
def test_waveform_kernels_match_definition(kernel, fn):
    spikes = [-4.0, -0.3, 1.0, 1.5, 6.0, 6.0]      # tails from before t0; a repeated spike counts twice
    sched = Protocol([waveform("V", spikes, kernel)]).schedule(0.0, 12.0, ["V"], {"V": -70.0})
    assert sched.boundaries.tolist() == [0.0, 1.0, 1.5, 6.0, 12.0]
    t = grid_with(0.0, 12.0, sched.boundaries, n=4001)
    assert_close(values_of(sched, "V", t), -70.0 + direct_train(t, spikes, fn))


def test_kernel_peaks():
    assert biexponential(100.0, 0.5, 3.0).peak_time == pytest.approx(0.5 * 3.0 / 2.5 * math.log(6.0))
    for kernel, t_peak in [(biexponential(100.0, 0.5, 3.0), biexponential(1, 0.5, 3.0).peak_time),
                           (alpha(100.0, 2.0), 2.0)]:
        sched = Protocol([waveform("V", [0.0], kernel)]).schedule(0.0, 20.0, ["V"], {"V": 0.0})
        assert values_of(sched, "V", [t_peak])[0] == pytest.approx(100.0, rel=1e-13)
        t = np.linspace(0.0, 20.0, 20001)
        assert values_of(sched, "V", t).max() <= 100.0 * (1 + 1e-13)


def test_bap_rides_on_voltage_clamp():
    spikes = [5.0, 25.0]
    p = Protocol([steps("V", [0.0, 20.0], [-70.0, -50.0]),
                  waveform("V", spikes, biexponential(100.0, 0.5, 3.0))])
    sched = p.schedule(0.0, 40.0, ["V"], {"V": -65.0})
    t = grid_with(0.0, 40.0, sched.boundaries)
    expected = (direct_steps(t, [0.0, 20.0], [-70.0, -50.0], -65.0)
                + direct_train(t, spikes, lambda s: direct_biexp_kernel(s, 100.0, 0.5, 3.0)))
    assert_close(values_of(sched, "V", t), expected)


@pytest.mark.parametrize("time, tau, washout", [
    (2.0, 0.0, None), (2.0, 0.0, 6.0), (2.0, 1.5, None), (2.0, 1.5, 6.0),
    (-3.0, 1.5, -1.0),    # entirely before t0: only the washout tail remains
    (-3.0, 2.0, 4.0),     # rising before t0, washout inside
])
def test_wash_in_matches_definition(time, tau, washout):
    c = 0.05
    sched = Protocol([wash_in("drug", time, c, tau=tau, washout=washout)]).schedule(
        0.0, 15.0, ["drug"], {"drug": 0.0})
    t = grid_with(0.0, 15.0, sched.boundaries)
    assert_close(values_of(sched, "drug", t), direct_wash(t, time, c, tau, washout))
    inside = [x for x in (time, washout) if x is not None and 0.0 < x < 15.0]
    assert sched.boundaries.tolist() == [0.0] + inside + [15.0]


def test_all_components_together_and_unused_inputs_at_default():
    spikes = regular_train(6, 200.0, t0=1.0)                # 1, 6, ..., 26 ms
    p = Protocol([
        pulses("glu", spikes, amplitude=1.0, width=1.0),
        waveform("glu", spikes, exponential(0.2, 3.0)),       # a slow tail on top of the pulses
        ramp("V", [0.0, 30.0], [-70.0, -40.0]),
        waveform("V", spikes + 2.0, alpha(20.0, 1.0)),
        wash_in("drug", 10.0, 0.01, tau=4.0),
    ])
    sched = p.schedule(0.0, 40.0, ["glu", "V", "drug", "Mg"],
                       {"glu": 0.0, "V": -65.0, "drug": 0.0, "Mg": 1.0})
    t = grid_with(0.0, 40.0, sched.boundaries, n=8001)
    vals = sched.input_values(t)
    assert_close(vals[:, 0], direct_pulses(t, spikes, 1.0, 1.0)
                 + direct_train(t, spikes, lambda s: direct_exp_kernel(s, 0.2, 3.0)))
    assert_close(vals[:, 1], np.interp(t, [0.0, 30.0], [-70.0, -40.0])
                 + direct_train(t, spikes + 2.0, lambda s: direct_alpha_kernel(s, 20.0, 1.0)))
    assert_close(vals[:, 2], direct_wash(t, 10.0, 0.01, 4.0, None))
    assert np.all(vals[:, 3] == 1.0)


def test_components_after_t_end_are_ignored():
    p = Protocol([pulses("glu", [50.0]), waveform("glu", [60.0], exponential(1.0, 1.0)),
                  jumps("Ca", [70.0], 1.0)])
    sched = p.schedule(0.0, 10.0, ["glu"], {"glu": 0.0}, states=["Ca"])
    assert sched.boundaries.tolist() == [0.0, 10.0]
    assert sched.const.tolist() == [[0.0]]
    assert sched.term_data.shape == (0, 4) and sched.jump_value.size == 0


def test_pulse_ending_exactly_at_t_end_and_starting_at_t0():
    sched = Protocol([pulses("glu", [0.0, 9.0])]).schedule(0.0, 10.0, ["glu"], {"glu": 0.0})
    assert sched.boundaries.tolist() == [0.0, 1.0, 9.0, 10.0]
    assert values_of(sched, "glu", [0.0, 1.0, 9.0, 10.0]).tolist() == [1.0, 0.0, 1.0, 1.0]


# --------------------------------------------------------------------------- breakpoints


def test_sixty_pulse_train_breakpoints():
    # 60 pulses at 1 Hz from t = 1000 ms, 1 ms wide, window [0, 61000] ms.
    train = regular_train(60, 1.0, t0=1000.0)
    p = Protocol([pulses("glu", train)])
    bps = p.breakpoints(0.0, 61000.0)
    inside = bps[1:-1]
    # 60 starts + 60 ends inside the window, plus t0 and t_end: 122 boundaries, 121 segments.
    assert inside.size == 120
    assert bps.size == 122
    assert bps[0] == 0.0 and bps[-1] == 61000.0
    np.testing.assert_array_equal(inside, np.sort(np.concatenate([train, train + 1.0])))
    sched = p.schedule(0.0, 61000.0, ["glu"], {"glu": 0.0})
    np.testing.assert_array_equal(sched.boundaries, bps)
    assert sched.n_segments == 121
    assert sched.const[:, 0].tolist() == [0.0] + [1.0, 0.0] * 60


def test_benchmark_style_train_starting_at_t0():
    # The benchmark protocol: pulses at 10 + 1000 k, t_end = 60000; the last pulse ends at 59011.
    train = 10.0 + 1000.0 * np.arange(60)
    bps = Protocol([pulses("glu", times=train)]).breakpoints(0.0, 60000.0)
    assert bps.size == 122 and bps[1] == 10.0 and bps[-2] == 59011.0


def test_breakpoints_merge_nearby_times():
    eps = 1e-14 * 100.0
    p = Protocol([pulses("glu", [10.0, 10.0 + eps, 20.0], width=5.0),
                  jumps("Ca", [20.0 - eps], 1.0)])
    bps = p.breakpoints(0.0, 100.0)
    # a merged cluster is represented by its earliest time
    assert bps.tolist() == [0.0, 10.0, 15.0, 20.0 - eps, 25.0, 100.0]
    s = p.schedule(0.0, 100.0, ["glu"], {"glu": 0.0}, states=["Ca"])
    assert s.const[:, 0].tolist() == [0.0, 2.0, 0.0, 1.0, 0.0]
    assert s.jump_ptr.tolist() == [0, 0, 0, 0, 1, 1]      # the jump starts segment 3
    # a time within the tolerance of t_end or t0 does not create a sliver segment
    p2 = Protocol([pulses("glu", [1e-13, 50.0], width=50.0 - 1e-12)])
    assert p2.breakpoints(0.0, 100.0).tolist() == [0.0, 1e-13 + (50.0 - 1e-12), 100.0]
    s = p2.schedule(0.0, 100.0, ["glu"], {"glu": 0.0})
    assert s.const[:, 0].tolist() == [1.0, 1.0]


def test_breakpoints_are_strictly_increasing_and_include_jumps_and_ramp_kinks():
    p = Protocol([ramp("V", [1.0, 2.0, 3.0], [0.0, 1.0, 1.0]), jumps("Ca", [2.5, 2.5], 1.0),
                  wash_in("d", 4.0, 1.0, tau=1.0, washout=6.0)])
    assert p.breakpoints(0.0, 10.0).tolist() == [0.0, 1.0, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0]


# --------------------------------------------------------------------------- term folding


def test_exponential_train_folds_to_one_term_per_segment():
    train = regular_train(60, 10.0)                   # 60 spikes, 100 ms apart
    p = Protocol([waveform("glu", train, exponential(1.0, 150.0))])
    sched = p.schedule(0.0, 6500.0, ["glu"], {"glu": 0.0})
    per_segment = np.diff(sched.term_ptr)
    assert sched.n_segments == 60
    assert per_segment.max() == 1
    assert np.all(sched.term_data[:, 0] == sched.boundaries[:-1])      # t_ref at the segment start
    t = grid_with(0.0, 6500.0, sched.boundaries, n=20001)
    assert_close(values_of(sched, "glu", t),
                 direct_train(t, train, lambda s: direct_exp_kernel(s, 1.0, 150.0)))


def test_biexponential_and_alpha_trains_fold_to_a_couple_of_terms():
    train = regular_train(60, 20.0)
    p = Protocol([waveform("V", train, biexponential(100.0, 0.5, 3.0)),
                  waveform("V", train + 1.0, alpha(1.0, 2.0)),
                  pulses("glu", train)])
    sched = p.schedule(0.0, 3100.0, ["glu", "V"], {"glu": 0.0, "V": -70.0})
    # one term per distinct rate of V (1/3, 1/2 and 2), none for the square pulses
    assert np.diff(sched.term_ptr).max() == 3
    assert set(sched.term_input.tolist()) == {1}
    t = grid_with(0.0, 3100.0, sched.boundaries, n=20001)
    expected = (-70.0 + direct_train(t, train, lambda s: direct_biexp_kernel(s, 100.0, 0.5, 3.0))
                + direct_train(t, train + 1.0, lambda s: direct_alpha_kernel(s, 1.0, 2.0)))
    assert_close(values_of(sched, "V", t), expected)


def test_underflowed_terms_are_dropped_but_tiny_ones_kept():
    # tau = 1: exp(-600) ~ 2.6e-261 is kept; exp(-5000) underflows to 0 and is dropped.
    p = Protocol([waveform("glu", [0.0], exponential(1.0, 1.0)), pulses("glu", [600.0, 5000.0])])
    sched = p.schedule(0.0, 6000.0, ["glu"], {"glu": 0.0})
    assert sched.boundaries.tolist() == [0.0, 600.0, 601.0, 5000.0, 5001.0, 6000.0]
    assert np.diff(sched.term_ptr).tolist() == [1, 1, 1, 0, 0]
    assert sched.term_data[1, 2] == pytest.approx(math.exp(-600.0), rel=1e-12)


# --------------------------------------------------------------------------- jumps


def test_jump_layout_targets_and_kinds():
    p = Protocol([
        jumps("Ca", [5.0, 1.0, 5.0], [0.1, 0.2, 0.3]),      # two at t = 5, kept in the given order
        jumps("rho", [5.0], 0.5, mode="set"),                 # same time, later component: after
        jumps("Ca", [-1.0, 0.0, 10.0, 12.0], 9.0),            # before t0 dropped; at t0 kept; at t_end dropped
    ])
    sched = p.schedule(0.0, 10.0, ["glu"], {"glu": 0.0}, states=["Ca", "rho", "O"])
    assert sched.boundaries.tolist() == [0.0, 1.0, 5.0, 10.0]
    assert sched.jump_ptr.tolist() == [0, 1, 2, 5]
    assert sched.jump_target == ("Ca", "Ca", "Ca", "Ca", "rho")
    assert sched.jump_kind.tolist() == [JUMP_ADD, JUMP_ADD, JUMP_ADD, JUMP_ADD, JUMP_SET]
    assert sched.jump_value.tolist() == [9.0, 0.2, 0.1, 0.3, 0.5]
    assert sched.jump_ptr.dtype == np.int32 and sched.jump_kind.dtype == np.int32


def test_jumps_only_protocol_has_default_inputs():
    sched = Protocol([jumps("Ca", regular_train(3, 100.0, t0=5.0), 0.1)]).schedule(
        0.0, 30.0, ["V"], {"V": -70.0}, states=["Ca"])
    assert sched.boundaries.tolist() == [0.0, 5.0, 15.0, 25.0, 30.0]
    assert np.all(sched.const == -70.0)
    assert sched.jump_ptr.tolist() == [0, 0, 1, 2, 3]


# --------------------------------------------------------------------------- trains


def test_regular_train_and_spike_train():
    assert regular_train(3, 1.0).tolist() == [0.0, 1000.0, 2000.0]
    assert regular_train(0, 5.0).size == 0
    t = regular_train(60, 3.0, t0=7.0)
    assert t[0] == 7.0 and np.allclose(np.diff(t), 1000.0 / 3.0, rtol=1e-13)
    assert spike_train([3.0, 1.0]).tolist() == [1.0, 3.0]
    with pytest.raises(ProtocolError, match="finite"):
        spike_train([1.0, np.inf])
    with pytest.raises(ProtocolError, match="freq_hz.*> 0"):
        regular_train(3, 0.0)


# --------------------------------------------------------------------------- errors


def test_errors_are_protocol_and_value_errors():
    with pytest.raises(ProtocolError) as info:
        pulses("glu", [1.0], width=-1.0)
    assert isinstance(info.value, ValueError) and isinstance(info.value, KineticsError)


def test_negative_width():
    with pytest.raises(ProtocolError, match=r"pulses: `width` must be >= 0, got -1"):
        pulses("glu", [1.0, 2.0], width=-1.0)
    with pytest.raises(ProtocolError, match=r"pulses: `width` must be >= 0; width\[1\] = -0.5"):
        pulses("glu", [1.0, 2.0], width=[1.0, -0.5])


def test_non_finite_times_and_values():
    with pytest.raises(ProtocolError, match=r"pulses: `times` must be finite; times\[1\] = nan"):
        pulses("glu", [1.0, np.nan])
    with pytest.raises(ProtocolError, match=r"waveform: `times` must be finite; times\[0\] = inf"):
        waveform("V", [np.inf], exponential(1.0, 1.0))
    with pytest.raises(ProtocolError, match="jumps: `amount` must be finite"):
        jumps("Ca", [1.0], np.inf)
    with pytest.raises(ProtocolError, match="wash_in: `time` must be finite"):
        wash_in("drug", np.nan, 1.0)
    with pytest.raises(ProtocolError, match="steps: `values` must be finite"):
        steps("V", [0.0], [np.nan])


def test_unknown_input_and_species_with_did_you_mean():
    p = Protocol([pulses("glu2", [1.0])])
    with pytest.raises(ProtocolError, match=r"protocol drives unknown input `glu2`; did you mean `glu`\?"):
        p.schedule(0.0, 10.0, ["glu", "V"], {"glu": 0.0, "V": -70.0})
    p = Protocol([jumps("Caa", [1.0], 1.0)])
    with pytest.raises(ProtocolError, match=r"protocol jumps unknown species `Caa`; did you mean `Ca`\?"):
        p.schedule(0.0, 10.0, ["glu"], {"glu": 0.0}, states=["C0", "Ca"])
    with pytest.raises(ProtocolError, match=r"unknown species `Caa`$"):
        p.schedule(0.0, 10.0, ["glu"], {"glu": 0.0})


def test_bad_defaults():
    p = Protocol([pulses("glu", [1.0])])
    with pytest.raises(ProtocolError, match="no default value for input `V`"):
        p.schedule(0.0, 10.0, ["glu", "V"], {"glu": 0.0})
    with pytest.raises(ProtocolError, match="unknown input `Vm`; did you mean `V`"):
        p.schedule(0.0, 10.0, ["glu", "V"], {"glu": 0.0, "V": 0.0, "Vm": 1.0})
    with pytest.raises(ProtocolError, match="must be finite"):
        p.schedule(0.0, 10.0, ["glu"], {"glu": np.nan})


@pytest.mark.parametrize("t0, t_end, message", [
    (0.0, 0.0, r"`t_end` \(0\) must be greater than `t0` \(0\)"),
    (5.0, 1.0, "must be greater than"),
    (0.0, np.inf, "`t_end` must be finite"),
    (np.nan, 1.0, "`t0` must be finite"),
])
def test_bad_window(t0, t_end, message):
    p = Protocol([pulses("glu", [1.0])])
    with pytest.raises(ProtocolError, match=message):
        p.schedule(t0, t_end, ["glu"], {"glu": 0.0})
    with pytest.raises(ProtocolError, match=message):
        p.breakpoints(t0, t_end)


def test_unsorted_step_times():
    with pytest.raises(ProtocolError, match=r"steps: `times` must be strictly increasing; times\[2\] = 1"):
        steps("V", [0.0, 5.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(ProtocolError, match="strictly increasing"):
        steps("V", [0.0, 0.0], [1.0, 2.0])
    with pytest.raises(ProtocolError, match=r"ramp: `times` must be sorted"):
        ramp("V", [0.0, 5.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(ProtocolError, match="one entry per time"):
        steps("V", [0.0, 1.0], [1.0])


def test_unknown_mode():
    with pytest.raises(ProtocolError, match=r"unknown mode `ad`; did you mean `add`\?"):
        jumps("Ca", [1.0], 1.0, mode="ad")
    with pytest.raises(ProtocolError, match="unknown mode `increment`"):
        jumps("Ca", [1.0], 1.0, mode="increment")


def test_other_validation():
    with pytest.raises(ProtocolError, match="exponential: `tau` must be > 0"):
        exponential(1.0, 0.0)
    with pytest.raises(ProtocolError, match="alpha: `tau` must be > 0"):
        alpha(1.0, -1.0)
    with pytest.raises(ProtocolError, match="`tau_rise` .* must be smaller than `tau_decay`"):
        biexponential(1.0, 3.0, 0.5)
    with pytest.raises(ProtocolError, match="wash_in: `tau` must be >= 0"):
        wash_in("drug", 0.0, 1.0, tau=-1.0)
    with pytest.raises(ProtocolError, match="`washout` .* must come after `time`"):
        wash_in("drug", 5.0, 1.0, washout=5.0)
    with pytest.raises(ProtocolError, match="`kernel` must be made by"):
        waveform("V", [1.0], 3.0)
    with pytest.raises(ProtocolError, match="`input` must be a non-empty string"):
        pulses("", [1.0])
    with pytest.raises(ProtocolError, match="must be 1-D"):
        pulses("glu", [[1.0, 2.0]])
    with pytest.raises(ProtocolError, match="clamped by both steps and ramp"):
        Protocol([steps("V", [0.0], [1.0]), ramp("V", [1.0], [2.0])])
    with pytest.raises(ProtocolError, match="clamped by both"):
        Protocol([steps("V", [0.0], [1.0])]) + Protocol([steps("V", [5.0], [2.0])])
    with pytest.raises(ProtocolError, match="not a protocol component"):
        Protocol([1.0])
    with pytest.raises(ProtocolError, match="combine protocols with p1 \\+ p2"):
        Protocol([Protocol.empty()])


# --------------------------------------------------------------------------- Protocol API


def test_protocol_is_immutable_and_concatenates():
    a = Protocol([pulses("glu", [1.0])])
    b = Protocol([jumps("Ca", [2.0], 0.1)])
    c = a + b
    assert c.components == a.components + b.components and len(c) == 2
    assert Protocol.empty() == Protocol() and len(Protocol.empty()) == 0
    assert a + Protocol.empty() == a
    assert c == Protocol([pulses("glu", [1.0]), jumps("Ca", [2.0], 0.1)])
    assert hash(c) == hash(Protocol([pulses("glu", [1.0]), jumps("Ca", [2.0], 0.1)]))
    with pytest.raises(AttributeError):
        c.components = ()
    with pytest.raises(AttributeError):
        c.components[0].times = (3.0,)
    with pytest.raises(TypeError):
        a + 1
    assert c.inputs == ("glu",) and c.species == ("Ca",)


def test_empty_protocol_schedule():
    sched = Protocol.empty().schedule(0.0, 10.0, ["glu", "V"], {"glu": 0.0, "V": -70.0})
    assert sched.boundaries.tolist() == [0.0, 10.0]
    assert sched.const.tolist() == [[0.0, -70.0]]
    assert sched.term_ptr.tolist() == [0, 0] and sched.jump_ptr.tolist() == [0, 0]
    assert sched.term_data.shape == (0, 4) and sched.jump_target == ()


def test_schedule_arrays_are_read_only_and_typed():
    p = Protocol([waveform("V", [1.0], exponential(1.0, 1.0)), jumps("Ca", [2.0], 1.0)])
    s = p.schedule(0.0, 5.0, ["V"], {"V": 0.0}, states=["Ca"])
    for arr in (s.boundaries, s.const, s.term_ptr, s.term_input, s.term_data, s.jump_ptr,
                s.jump_kind, s.jump_value):
        assert not arr.flags.writeable
    assert s.term_ptr.dtype == s.term_input.dtype == np.int32
    assert s.term_data.dtype == s.const.dtype == np.float64


def test_describe():
    p = Protocol([pulses("glu", regular_train(60, 1.0)), steps("V", [0.0], [-70.0]),
                  waveform("V", [5.0], biexponential(100.0, 0.5, 3.0)),
                  wash_in("APV", 10.0, 0.05, tau=100.0, washout=500.0),
                  jumps("Ca", [1.0, 2.0], 0.1)])
    text = p.describe()
    lines = text.splitlines()
    assert lines[0] == "Protocol with 5 components:"
    assert len(lines) == 6
    assert lines[1] == "  pulses on `glu`: 60 x amplitude 1, width 1; t = 0, 1000, ..., 59000 (60 times)"
    assert "biexponential(amplitude=100, tau_rise=0.5, tau_decay=3)" in lines[3]
    assert "washout at 500" in lines[4]
    assert lines[5] == "  jumps of `Ca`: add 0.1; t = 1, 2"
    assert "pulses('glu')" in repr(p)


def test_docstring_examples():
    result = doctest.testmod(protocol_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10
    assert result.failed == 0


# --------------------------------------------------------------------------- property tests


EIGHTHS = st.integers(min_value=-80, max_value=800).map(lambda k: k / 8.0)


@settings(max_examples=200, deadline=None)
@given(
    onsets=st.lists(EIGHTHS, min_size=0, max_size=25),
    widths=st.lists(st.integers(min_value=0, max_value=80).map(lambda k: k / 8.0), min_size=25, max_size=25),
    amps=st.lists(st.floats(min_value=-10, max_value=10, allow_nan=False), min_size=25, max_size=25),
    window=st.tuples(st.integers(-40, 400), st.integers(1, 400)),
    probes=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30),
)
def test_random_pulse_trains_match_direct_sum(onsets, widths, amps, window, probes):
    n = len(onsets)
    t0, t_end = window[0] / 4.0, window[0] / 4.0 + window[1] / 4.0
    p = Protocol([pulses("glu", onsets, amplitude=amps[:n], width=widths[:n])]) if n else Protocol()
    sched = p.schedule(t0, t_end, ["glu"], {"glu": 0.0})
    # random times plus every onset/offset inside the window (exact: multiples of 1/8)
    edges = np.concatenate([onsets, np.add(onsets, widths[:n])]) if n else np.empty(0)
    t = np.concatenate([t0 + (t_end - t0) * np.asarray(probes),
                        edges[(edges >= t0) & (edges <= t_end)], [t0, t_end]])
    on, w, a = np.asarray(onsets), np.asarray(widths[:n]), np.asarray(amps[:n])
    expected = direct_pulses(t, on, a, w) if n else 0 * t
    # t_end belongs to the last segment: there the value is the left limit
    at_end = t == t_end
    if n:
        expected[at_end] = (((t_end > on) & (t_end <= on + w)) * a).sum()
    np.testing.assert_allclose(values_of(sched, "glu", t), expected, rtol=1e-12, atol=1e-12)
    # boundaries: t0, t_end and every distinct edge of a non-empty pulse strictly inside
    live = np.asarray(widths[:n]) > 0 if n else np.zeros(0, bool)
    real = np.concatenate([np.asarray(onsets)[live], (np.asarray(onsets) + np.asarray(widths[:n]))[live]]) \
        if n else np.empty(0)
    inside = np.unique(real[(real > t0) & (real < t_end)])
    assert sched.boundaries.tolist() == [t0] + inside.tolist() + [t_end]


@settings(max_examples=100, deadline=None)
@given(
    onsets=st.lists(st.floats(min_value=-50, max_value=150, allow_nan=False), min_size=1, max_size=20),
    width=st.floats(min_value=0.01, max_value=30),
    tau=st.floats(min_value=0.05, max_value=50),
    probes=st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=1, max_size=30),
)
def test_random_trains_with_kernels_match_direct_sum(onsets, width, tau, probes):
    p = Protocol([pulses("glu", onsets, amplitude=0.5, width=width),
                  waveform("glu", onsets, exponential(2.0, tau)),
                  waveform("glu", onsets, alpha(1.0, tau))])
    sched = p.schedule(0.0, 100.0, ["glu"], {"glu": 0.0})
    t = np.asarray(probes)
    edges = np.concatenate([onsets, np.add(onsets, width)])
    # stay clear of breakpoints that merging may have moved by up to 1e-10
    t = t[np.min(np.abs(t[:, None] - edges[None, :]), axis=1) > 1e-9]
    expected = (direct_pulses(t, onsets, 0.5, width)
                + direct_train(t, onsets, lambda s: direct_exp_kernel(s, 2.0, tau))
                + direct_train(t, onsets, lambda s: direct_alpha_kernel(s, 1.0, tau)))
    np.testing.assert_allclose(values_of(sched, "glu", t), expected, rtol=1e-12, atol=1e-12)
    assert np.diff(sched.term_ptr).max(initial=0) <= 1
