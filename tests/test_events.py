"""Discrete events (kinetics.Event, kinetics.events): analytic event times on every path, SBML semantics
(delay, persistence, priority, initial value), crossings between output points, and invalid events."""
import math
import warnings

import numpy as np
import pytest

import kinetics as kx
from kinetics.errors import ArgumentError, SchemeError

TIGHT = dict(rtol=1e-11, atol=1e-13)
NATIVE = ["auto", "dopri5", "rodas"]
SCIPY = ["RK45", "DOP853", "LSODA"]


def growth(events, k=1.0, extra=()):
    return kx.Scheme("growth", species=[kx.Species("A", 1.0), *extra],
                     parameters=[kx.Parameter("k", k, "1/ms")],
                     reactions=[kx.reaction("-> A", rate="k*A")], events=events)


@pytest.mark.parametrize("method", NATIVE + SCIPY)
def test_threshold_reset_of_exponential_growth(method):
    """A' = k A, reset to 1 when A > 2: A(t) = exp(k (t mod ln2/k)), events at n ln2/k."""
    k = 1.3
    s = growth([kx.Event("reset", "A > 2", {"A": "1"})], k=k)
    t = np.linspace(0, 5, 41)
    res = kx.simulate(s, t_end=5.0, t_eval=t, method=method, **TIGHT)
    period = math.log(2) / k
    expected = np.exp(k * np.mod(t, period))
    tol = 1e-6 if method == "LSODA" else 1e-8
    np.testing.assert_allclose(res["A"], expected, rtol=tol)
    assert res.stats["events_fired"] == int(5.0 // period) == 9


@pytest.mark.parametrize("method", ["auto", "rodas", "DOP853"])
def test_decay_with_refill_below_a_level(method):
    """A dose when a level falls below a value: A' = -k A, A < 0.25 -> A += 0.75 (refills to 1 every ln4/k)."""
    k = 0.7
    s = kx.Scheme("refill", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", k, "1/ms")],
                  reactions=[kx.reaction("A ->", "k")], events=[kx.Event("dose", "A < 0.25", {"A": "A + 0.75"})])
    t = np.linspace(0, 10, 101)
    res = kx.simulate(s, t_end=10.0, t_eval=t, method=method, **TIGHT)
    period = math.log(4) / k
    np.testing.assert_allclose(res["A"], np.exp(-k * np.mod(t, period)), rtol=1e-8)
    assert res.stats["events_fired"] == 5


def bouncing_ball(e=0.8, g=9.81, h0=1.0):
    return kx.Scheme("ball", species=[kx.Species("h", h0, nonnegative=False), kx.Species("v", 0.0, nonnegative=False)],
                     parameters=[kx.Parameter("g", g, "1"), kx.Parameter("eps", e, "1")],
                     rate_rules=[kx.RateRule("h", "v"), kx.RateRule("v", "-g")],
                     events=[kx.Event("bounce", "h < 0", {"h": "0", "v": "-eps*v"})], check_units=False)


def ball_state(t, e=0.8, g=9.81, h0=1.0):
    """Closed form: first impact at sqrt(2 h0/g) with speed v1 = sqrt(2 g h0), then flights of 2 e^n v1 / g."""
    v1 = math.sqrt(2 * g * h0)
    t_hit, v_up = math.sqrt(2 * h0 / g), None
    if t < t_hit:
        return h0 - 0.5 * g * t * t, -g * t
    v_up = e * v1
    while t >= t_hit + 2 * v_up / g:
        t_hit += 2 * v_up / g
        v_up *= e
    tau = t - t_hit
    return v_up * tau - 0.5 * g * tau * tau, v_up - g * tau


@pytest.mark.parametrize("method", ["auto", "rodas", "RK45"])
def test_bouncing_ball_closed_form(method):
    t = np.linspace(0, 2.5, 26)
    res = kx.simulate(bouncing_ball(), t_end=2.5, t_eval=t, method=method, **TIGHT)
    h, v = np.array([ball_state(x) for x in t]).T
    np.testing.assert_allclose(res["h"], h, atol=1e-8)
    np.testing.assert_allclose(res["v"], v, atol=1e-7)
    # impacts at 0.4515, 1.174, 1.752, 2.214 (< 2.5)
    assert res.stats["events_fired"] == 4


def delayed(persistent):
    """A' = 1 from 0; `arm` at A > 1 (t = 1) sets B = 1 after 0.5; `reset` at A > 1.2 (t = 1.2) sets A = 0."""
    return kx.Scheme("delayed", species=[kx.Species("A", 0.0), kx.Species("B", 0.0)],
                     reactions=[kx.reaction("-> A", rate="1"), kx.reaction("B -> B", "0")],
                     events=[kx.Event("arm", "A > 1", {"B": "B + 1"}, delay=0.5, persistent=persistent),
                             kx.Event("reset", "A > 1.2", {"A": "0"})], check_units=False)


@pytest.mark.parametrize("method", ["auto", "LSODA"])
def test_delayed_event_fires_exactly_delay_later(method):
    t = np.array([0.0, 1.0, 1.4999999, 1.5 + 1e-9, 2.0, 2.7 + 1e-9, 3.0])
    res = kx.simulate(delayed(True), t_end=3.0, t_eval=t, method=method, **TIGHT)
    # triggers at t = 1 and (after the reset at 1.2) at 2.2: B += 1 at 1.5 and at 2.7 (right-continuous)
    np.testing.assert_array_equal(res["B"], [0, 0, 0, 1, 1, 2, 2])
    np.testing.assert_allclose(res["A"], [0, 1, 0.2999999, 0.3, 0.8, 0.3, 0.6], atol=1e-8)
    # the event times are located to a few ulps: at 1.5 + 1e-9 the delayed firing (at 1.5 + ulps) is seen


def test_non_persistent_delayed_event_is_cancelled():
    res = kx.simulate(delayed(False), t_end=3.0, t_eval=[0.0, 3.0], **TIGHT)
    assert res["B"][-1] == 0.0               # the trigger turned false (reset at 1.2) before 1.5: cancelled
    assert res.stats["events_fired"] == 2    # the two resets


def test_delay_from_state_and_values_at_firing():
    """delay = A (evaluated at the trigger, A = 1): fires at t = 2; use_values_from_trigger_time=False takes A then."""
    s = kx.Scheme("d", species=[kx.Species("A", 0.0), kx.Species("B", 0.0), kx.Species("C", 0.0)],
                  reactions=[kx.reaction("-> A", rate="1"), kx.reaction("B -> B", "0")],
                  events=[kx.Event("late", "A > 1", {"B": "A"}, delay="A", use_values_from_trigger_time=False),
                          kx.Event("early", "A > 1", {"C": "A"}, delay="A")], check_units=False)
    res = kx.simulate(s, t_end=3.0, t_eval=[1.99, 2.0 + 1e-9, 3.0], **TIGHT)
    np.testing.assert_allclose(res["B"], [0.0, 2.0, 2.0], atol=1e-8)
    np.testing.assert_allclose(res["C"], [0.0, 1.0, 1.0], atol=1e-8)


@pytest.mark.parametrize("p1, p2, final", [(1, 2, 1.0), (2, 1, 2.0)])
def test_priorities_order_simultaneous_events(p1, p2, final):
    """Both fire at t >= 1; the higher priority fires first, so the lower one's value stays."""
    s = kx.Scheme("prio", species=[kx.Species("A", 0.0), kx.Species("X", 0.0)],
                  reactions=[kx.reaction("-> A", rate="1")],
                  events=[kx.Event("one", "t >= 1", {"X": "1"}, priority=p1),
                          kx.Event("two", "t >= 1", {"X": "2"}, priority=p2)], check_units=False)
    res = kx.simulate(s, t_end=2.0, t_eval=[0.5, 2.0], **TIGHT)
    assert res["X"].tolist() == [0.0, final]


def test_firing_triggers_another_event_at_the_same_time():
    """`a` sets X = 1 at t = 1; `b` (X > 0.5) is triggered by that and doubles A at the same instant."""
    s = kx.Scheme("cascade", species=[kx.Species("A", 1.0), kx.Species("X", 0.0)],
                  reactions=[kx.reaction("X -> X", "0"), kx.reaction("A -> A", "0")],
                  events=[kx.Event("a", "t >= 1", {"X": "1"}), kx.Event("b", "X > 0.5", {"A": "2*A"})],
                  check_units=False)
    res = kx.simulate(s, t_end=2.0, t_eval=[0.9, 1.0, 2.0], **TIGHT)
    assert res["A"].tolist() == [1.0, 2.0, 2.0]
    assert res["X"].tolist() == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("method", ["auto", "RK45"])
@pytest.mark.parametrize("initial_value, fired", [(False, 1), (True, 0)])
def test_initial_value_false_fires_at_t0(method, initial_value, fired):
    s = growth([kx.Event("start", "A > 0.5", {"A": "A + 10"}, initial_value=initial_value)], k=0.0)
    res = kx.simulate(s, t_end=1.0, t_eval=[0.0, 1.0], method=method, **TIGHT)
    assert res["A"].tolist() == [1.0 + 10 * fired] * 2       # right-continuous: t0 shows the post-event state
    assert res.stats["events_fired"] == fired


def oscillator(omega=20.0):
    """x = cos(omega t); counter C += 1 each time x rises through 0.9."""
    return kx.Scheme("osc", species=[kx.Species("x", 1.0, nonnegative=False), kx.Species("v", 0.0, nonnegative=False),
                                     kx.Species("C", 0.0)],
                     parameters=[kx.Parameter("w", omega, "1")],
                     rate_rules=[kx.RateRule("x", "v"), kx.RateRule("v", "-w**2*x"), kx.RateRule("C", "0")],
                     events=[kx.Event("count", "x > 0.9", {"C": "C + 1"})], check_units=False)


@pytest.mark.parametrize("method", ["auto", "rodas", "DOP853"])
def test_crossings_between_two_output_points_are_all_found(method):
    """31 upward crossings of 0.9 in [0, 10] (20 t = 2 pi n - acos 0.9), with outputs only at 0 and 10."""
    res = kx.simulate(oscillator(), t_end=10.0, t_eval=[0.0, 10.0], method=method, rtol=1e-9, atol=1e-12)
    n = math.floor((200 + math.acos(0.9)) / (2 * math.pi))
    assert n == 31
    assert res["C"][-1] == pytest.approx(n, abs=1e-9)
    assert res["x"][-1] == pytest.approx(math.cos(200.0), abs=1e-5)


def test_narrow_input_pulse_inside_one_output_interval():
    """A 1e-3-wide transmitter pulse between two outputs 10 apart still triggers (boundary crossing in C)."""
    s = kx.Scheme("pulse", species=[kx.Species("C", 0.0)], inputs=[kx.Input("glu", 0.0)],
                  reactions=[kx.reaction("C -> C", "0")],
                  events=[kx.Event("seen", "glu > 0.5", {"C": "C + 1"})], check_units=False)
    protocol = kx.Protocol([kx.pulses("glu", [3.0, 7.0], amplitude=1.0, width=1e-3)])
    for method in ("auto", "LSODA"):
        res = kx.simulate(s, protocol, t_end=10.0, t_eval=[0.0, 10.0], method=method)
        assert res["C"].tolist() == [0.0, 2.0]


def test_native_scipy_agree_1e8():
    t = np.linspace(0, 2.5, 51)
    ref = kx.simulate(bouncing_ball(), t_end=2.5, t_eval=t, method="DOP853", rtol=1e-12, atol=1e-14)
    for method in NATIVE:
        res = kx.simulate(bouncing_ball(), t_end=2.5, t_eval=t, method=method, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(res.y, ref.y, atol=1e-8)


def test_jit_path(monkeypatch):
    """The numba JIT path has no event roots yet: `auto` falls back to LSODA with a warning, `dopri5` refuses."""
    monkeypatch.setenv("NMDAKIN_BACKEND", "jit")
    s = growth([kx.Event("reset", "A > 2", {"A": "1"})], k=1.0)
    with pytest.raises(ArgumentError, match="native C path"):
        kx.simulate(s, t_end=1.0, method="dopri5")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = kx.simulate(s, t_end=1.0, t_eval=[1.0], rtol=1e-10, atol=1e-12)
    assert res.method == "LSODA" and any("JIT" in str(x.message) for x in w)
    assert res["A"][0] == pytest.approx(math.exp(1 - math.log(2)), rel=1e-6)


def test_events_without_events_unchanged_and_in_structure_key():
    base = growth([])
    a = growth([kx.Event("reset", "A > 2", {"A": "1"})])
    b = growth([kx.Event("reset", "A > 3", {"A": "1"})])
    assert len({base.structure_key(), a.structure_key(), b.structure_key()}) == 3
    assert "reset: when A > 2: A = 1" in a.summary()
    assert a.rename({"A": "Z"}).events[0].trigger == kx.parse_expression("piecewise(1, Z > 2, 0)").args[0].cond


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="ev", trigger="A + 1", assignments={"A": "0"}), "not a valid condition"),
    (dict(name="ev", trigger="A == 1", assignments={"A": "0"}), "cannot trigger"),
    (dict(name="ev", trigger="1 > 0", assignments={"A": "0"}), "constant"),
    (dict(name="ev", trigger=3, assignments={"A": "0"}), "must be a condition"),
    (dict(name="ev", trigger="A > 1", assignments={}), "no assignments"),
    (dict(name="ev", trigger="A > 1", assignments={"A": "0"}, delay=-1), "negative"),
    (dict(name="ev", trigger="A > 1", assignments={"A": "0"}, persistent="yes"), "True or False"),
    (dict(name="t", trigger="A > 1", assignments={"A": "0"}), "reserved"),
    (dict(name="ev", trigger="A > 1", assignments=[("A", "0"), ("A", "1")]), "twice"),
])
def test_invalid_event(kwargs, match):
    with pytest.raises(SchemeError, match=match):
        kx.Event(**kwargs)


@pytest.mark.parametrize("event, match", [
    (kx.Event("ev", "A > 1", {"Q": "0"}), "unknown species `Q`"),
    (kx.Event("ev", "A > 1", {"k": "0"}), "assigns parameter `k`"),
    (kx.Event("ev", "Z > 1", {"A": "0"}), "unknown name `Z`"),
    (kx.Event("ev", "A > 1", {"A": "Z"}), "unknown name `Z`"),
    (kx.Event("A", "A > 1", {"A": "0"}), "duplicate name `A`"),
])
def test_invalid_event_in_scheme(event, match):
    with pytest.raises(SchemeError, match=match):
        growth([event])


def test_two_events_with_one_name():
    with pytest.raises(SchemeError, match="duplicate name `ev`"):
        growth([kx.Event("ev", "A > 1", {"A": "0"}), kx.Event("ev", "A > 2", {"A": "0"})])


def test_negative_delay_at_run_time():
    s = growth([kx.Event("ev", "A > 1.5", {"A": "1"}, delay="1 - A")])
    with pytest.raises(kx.SolverError, match="delay of event `ev`"):
        kx.simulate(s, t_end=2.0)


def refill_scheme(*events):
    return kx.Scheme("refill", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.7, "1/ms")],
                     reactions=[kx.reaction("A ->", "k")], events=list(events))


def test_nmodl_export_watch_and_net_receive():
    """One WATCH per event, armed by a self-event from INITIAL; delays via net_send. (Checked by hand in NEURON 9:
    it compiles with nrnivmodl and refills at the analytic times.)"""
    from kinetics.exporters import export

    mod = export(refill_scheme(kx.Event("dose", "A < 0.25", {"A": "A + 0.75"}),
                               kx.Event("late", "A >= 2", {"A": "0.5"}, delay="k")), "nmodl")
    assert "    net_send(0, 999)  : arms the WATCH statements of the events" in mod
    assert "        WATCH (A < 0.25) 1000  : event dose" in mod
    assert "        WATCH (A > 2) 1001  : event late" in mod
    assert "        nk_e0_0 = A + 0.75\n        A = nk_e0_0" in mod
    assert "        net_send(1.0*k, 2001)" in mod
    assert "NET_RECEIVE(w_event) {" in mod


@pytest.mark.parametrize("event, match", [
    (kx.Event("ev", "A < 0.25 or t > 3", {"A": "1"}), "one relation"),
    (kx.Event("ev", "A < 0.25", {"A": "1"}, priority=1), "priority"),
    (kx.Event("ev", "A < 0.25", {"A": "1"}, initial_value=False), "initial_value"),
    (kx.Event("ev", "A < 0.25", {"A": "1"}, delay=1, persistent=False), "not persistent"),
    (kx.Event("ev", "A < 0.25", {"A": "1"}, delay="A"), "delay that depends"),
    (kx.Event("ev", "A < 0.25", {"A": "A + 1"}, delay=1), "use_values_from_trigger_time=False"),
])
def test_nmodl_export_refuses_what_neuron_cannot_express(event, match):
    from kinetics.exporters import export

    with pytest.raises(SchemeError, match=match):
        export(refill_scheme(event), "nmodl")


def test_c_export_refuses_events():
    from kinetics.exporters import export

    with pytest.raises(SchemeError, match="standalone C export"):
        export(refill_scheme(kx.Event("dose", "A < 0.25", {"A": "A + 0.75"})), "c")


def test_prefixed_and_composed_schemes_keep_their_events():
    a = growth([kx.Event("reset", "A > 2", {"A": "1"})]).prefixed("x_")
    b = growth([kx.Event("reset", "A > 2", {"A": "1"})]).prefixed("y_")
    both = a + b
    assert [ev.name for ev in both.events] == ["x_reset", "y_reset"]
    assert str(both.events[1]) == "y_reset: when y_A > 2: y_A = 1"
    res = kx.simulate(both, t_end=1.0, t_eval=[1.0], **TIGHT)
    assert res["x_A"][0] == res["y_A"][0] == pytest.approx(math.exp(1) / 2, rel=1e-9)


def test_sweep_with_events():
    """Growth at rate k reset at A > 2: A(1) = exp(k mod ln2) for each k."""
    s = growth([kx.Event("reset", "A > 2", {"A": "1"})])
    ks = np.array([0.5, 1.0, 2.0])
    sw = kx.sweep(s, {"k": ks}, t_end=1.0, rtol=1e-11, atol=1e-13, n_workers=1)
    np.testing.assert_allclose(sw["A"], np.exp(np.mod(ks, math.log(2))), rtol=1e-8)


def test_a_trigger_true_only_for_a_moment_needs_max_step():
    """x = cos(20 t) exceeds 0.99999 for ~4.5e-4 around each peak: with max_step below that every peak is found
    (the 4 samples per step may miss it on long steps; a tangency is never seen)."""
    s = oscillator().replace(events=(kx.Event("count", "x > 0.99999", {"C": "C + 1"}),))
    res = kx.simulate(s, t_end=10.0, t_eval=[0.0, 10.0], rtol=1e-10, atol=1e-12, max_step=4e-4)
    assert res["C"][-1] == pytest.approx(31, abs=1e-9)          # peaks at 2 pi n / 20, n = 1..31


@pytest.mark.parametrize("method", ["auto", "RK45"])
def test_protocol_jump_triggers_an_event_at_its_time(method):
    """A decays; the protocol sets A = 5 at t = 2 (a jump), which makes `A > 3` true there: A is halved at once."""
    s = kx.Scheme("jumped", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
                  reactions=[kx.reaction("A ->", "k")], events=[kx.Event("halve", "A > 3", {"A": "A/2"})])
    protocol = kx.Protocol([kx.jumps("A", [2.0], 5.0, mode="set")])
    res = kx.simulate(s, protocol, t_end=4.0, t_eval=[1.0, 2.0, 4.0], method=method, **TIGHT)
    np.testing.assert_allclose(res["A"], [math.exp(-0.5), 2.5, 2.5 * math.exp(-1.0)], rtol=1e-8)
    assert res.stats["events_fired"] == 1


@pytest.mark.parametrize("method", ["auto", "RK45"])
def test_event_at_the_end_time_is_in_the_last_output(method):
    s = growth([kx.Event("stop", "t >= 2", {"A": "0"})], k=0.5)
    res = kx.simulate(s, t_end=2.0, t_eval=[0.0, 1.0, 2.0], method=method, **TIGHT)
    np.testing.assert_allclose(res["A"], [1.0, math.exp(0.5), 0.0], rtol=1e-9)


def test_python_export_refuses_events():
    from kinetics.exporters import export

    with pytest.raises(SchemeError, match="standalone Python export"):
        export(refill_scheme(kx.Event("dose", "A < 0.25", {"A": "A + 0.75"})), "python")
