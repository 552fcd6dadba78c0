"""Forward sensitivities (kinetics.fitting.sensitivity) and the objective's exact Jacobian against central finite
differences of plain simulations, to 1e-5 relative."""
import numpy as np
import sympy

import kinetics as kx
from kinetics.fitting import Dataset, FitParameter
from kinetics.fitting.objective import Objective
from kinetics.fitting.sensitivity import SensitivitySystem, augmented_segments
from kinetics.native import SegmentArrays
from models import destexhe1994, mg_block

TIGHT = dict(rtol=1e-11, atol=1e-13)


def model_vector(scheme):
    values, factors = scheme.parameter_values(), scheme.parameter_factors()
    return np.array([values[n] * factors[n] for n in scheme.parameter_names])


def central_fd_states(scheme, protocol, t, p, y0, index, kind, rel=1e-4):
    """dy/d(parameter or initial value) by central differences of the plain native solver."""
    system = kx.derive(scheme)
    sched = protocol.schedule(0.0, float(t[-1]), inputs=scheme.input_names,
                              defaults={u.name: u.default for u in scheme.inputs}, states=scheme.species_names)
    seg = SegmentArrays.from_schedule(sched, {n: i for i, n in enumerate(scheme.species_names)})
    solver = kx.compile(scheme).native_solver()
    base = p if kind == "p" else y0
    h = rel * max(abs(base[index]), 1.0 if kind == "y" else abs(base[index]))
    out = []
    for sign in (1, -1):
        pp, yy = p.copy(), y0.copy()
        (pp if kind == "p" else yy)[index] += sign * h
        out.append(solver.solve(pp, yy, seg, t, **TIGHT)[0])
    return (out[0] - out[1]) / (2 * h), sched


def test_destexhe_sensitivities_equal_central_differences():
    scheme = destexhe1994.five_state()
    protocol = kx.Protocol([kx.pulses("glu", kx.regular_train(3, 50.0, t0=5.0), amplitude=1.0, width=1.0)])
    t = np.linspace(0.0, 300.0, 301)
    p, y0 = model_vector(scheme), np.array([1.0, 0, 0, 0, 0])
    names = ["Rb", "Ru", "Rd", "Rr", "Ro", "Rc"]
    sens = kx.compile(scheme).sensitivity_solver(names, ["C0"])
    sched = protocol.schedule(0.0, 300.0, inputs=["glu"], defaults={"glu": 0.0}, states=scheme.species_names)
    y, dy, _ = sens.solve(p, y0, augmented_segments(sched, sens), t, **TIGHT)
    assert dy.shape == (301, 5, 7)
    plain = kx.simulate(scheme, protocol, t_end=300.0, t_eval=t, **TIGHT)
    assert np.allclose(y, plain.y, rtol=1e-9, atol=1e-12)
    for j, name in enumerate(names):
        fd, _ = central_fd_states(scheme, protocol, t, p, y0, scheme.parameter_names.index(name), "p")
        err = np.max(np.abs(dy[:, :, j] - fd)) / np.max(np.abs(fd))
        assert err < 1e-5, (name, err)
    fd, _ = central_fd_states(scheme, protocol, t, p, y0, 0, "y")
    assert np.max(np.abs(dy[:, :, 6] - fd)) / np.max(np.abs(fd)) < 1e-5


def test_nonlinear_binding_with_set_jump():
    """Bimolecular binding (Jacobian depends on y) and a `set` jump, which resets the sensitivities of the
    state it sets."""
    scheme = kx.Scheme(
        "bind", species=[kx.Species("L", 0.5), kx.Species("R", 1.0), kx.Species("LR", 0.0)],
        parameters=[kx.Parameter("kon", 2.0, "1/(mM*ms)"), kx.Parameter("koff", 0.3, "1/ms"),
                    kx.Parameter("kdeg", 0.05, "1/ms")],
        reactions=[kx.reaction("L + R <-> LR", "kon", "koff"), kx.reaction("L ->", "kdeg")])
    protocol = kx.Protocol([kx.jumps("L", [4.0], 0.8, mode="set"), kx.jumps("R", [6.0], 0.2)])
    t = np.linspace(0.0, 12.0, 121)
    p, y0 = model_vector(scheme), np.array([0.5, 1.0, 0.0])
    sens = kx.compile(scheme).sensitivity_solver(["kon", "koff", "kdeg"], ["R"])
    sched = protocol.schedule(0.0, 12.0, inputs=(), defaults={}, states=scheme.species_names)
    _, dy, _ = sens.solve(p, y0, augmented_segments(sched, sens), t, **TIGHT)
    for j, name in enumerate(["kon", "koff", "kdeg"]):
        fd, _ = central_fd_states(scheme, protocol, t, p, y0, j, "p")
        assert np.max(np.abs(dy[:, :, j] - fd)) / np.max(np.abs(fd)) < 1e-5, name
    fd, _ = central_fd_states(scheme, protocol, t, p, y0, 1, "y")
    assert np.max(np.abs(dy[:, :, 3] - fd)) / np.max(np.abs(fd)) < 1e-5
    # right after the set jump at t = 4, dL/dtheta = 0 exactly
    k = int(np.searchsorted(t, 4.0))
    assert np.all(dy[k, 0, :] == 0.0)


def test_augmented_jacobian_is_the_jacobian_of_the_augmented_rhs():
    scheme = kx.Scheme(
        "mm", species=[kx.Species("S", 1.0), kx.Species("P", 0.0)],
        parameters=[kx.Parameter("vmax", 1.0, "mM/ms"), kx.Parameter("km", 0.5, "mM")],
        inputs=[kx.Input("u", 1.0)],
        reactions=[kx.reaction("S -> P", rate="u*vmax*S/(km + S)")])
    sens = SensitivitySystem(kx.derive(scheme), ["vmax", "km"], ["S"])
    states = list(kx.derive(scheme).y) + [s for block in sens.z for s in block]
    direct = sens.rhs.jacobian(sympy.Matrix(states))
    assert (sens.jacobian - direct).applyfunc(sympy.simplify) == sympy.zeros(sens.n_aug, sens.n_aug)
    # block structure: zero above the diagonal blocks, J on the diagonal
    n = sens.n_state
    assert sens.jacobian[0:n, n:] == sympy.zeros(n, sens.n_aug - n)
    assert sens.jacobian[n:2 * n, n:2 * n] == kx.derive(scheme).jacobian


def test_objective_jacobian_matches_finite_differences_of_residuals():
    """Chain rule through log10/linear scales, unit factors (1/s declared, 1/ms in the model), observable
    expressions with observation parameters, per-dataset parameters and a fitted initial value."""
    scheme = mg_block.with_nmda_current(destexhe1994.five_state())
    clamp = [kx.steps("V", [0.0], [-60.0]), kx.steps("Mg", [0.0], [0.5])]
    t = np.linspace(0.0, 200.0, 201)
    dsets = []
    for name, amp in (("a", 1.0), ("b", 0.3)):
        prot = kx.Protocol([kx.pulses("glu", [5.0], amplitude=amp, width=2.0)] + clamp)
        clean = kx.simulate(scheme, prot, t_end=200.0, t_eval=t)
        dsets.append(Dataset(name, t, {"I": clean["I_NMDA"] * 1.1 + 0.05, "O": clean["O"]}, protocol=prot,
                             sigma={"I": 0.01, "O": np.full(t.size, 0.002)},
                             observables={"I": "scale*I_NMDA + base"}, parameters={"scale": 1.0}))
    params = [FitParameter("Ru", bounds=(1.0, 100.0)), FitParameter("Rc", bounds=(10.0, 500.0)),
              FitParameter("Rd"), FitParameter("g_NMDA", bounds=(0.1, 10.0)),
              FitParameter("scale", bounds=(0.5, 2.0), per_dataset=True),
              FitParameter("base", bounds=(-1.0, 1.0), start=0.0),
              FitParameter("C0(0)", bounds=(0.5, 1.0), start=0.9, scale="linear")]
    obj = Objective(scheme, dsets, params, rtol=1e-11, atol=1e-13)
    assert obj.names == ("Ru", "Rc", "Rd", "g_NMDA", "scale[a]", "scale[b]", "base", "C0(0)")
    assert [p.scale for p in obj.parameters] == ["log10"] * 6 + ["linear"] * 2
    x = obj.x_start + np.array([0.05, -0.03, 0.02, 0.01, 0.02, -0.01, 0.03, -0.02])
    r, J = obj.residuals(x, jacobian=True)
    assert J.shape == (r.size, 8)
    h = 1e-5
    for i in range(8):
        e = np.zeros(8)
        e[i] = h
        fd = (obj.residuals(x + e) - obj.residuals(x - e)) / (2 * h)
        err = np.max(np.abs(J[:, i] - fd)) / np.max(np.abs(fd))
        assert err < 1e-5, (obj.names[i], err)
    # a per-dataset parameter only moves its own dataset's residuals
    n_a = 2 * t.size
    assert np.all(J[n_a:, obj.names.index("scale[a]")] == 0)
    assert np.all(J[:n_a, obj.names.index("scale[b]")] == 0)


def test_stiff_sensitivities_with_the_block_factorisation():
    """RODAS on the augmented system factorises only the states' block (NK_NBLOCK): Robertson's stiff
    problem (rates 0.04, 1e4, 3e7), three parameter sensitivities and one initial-value sensitivity against
    central differences of plain RODAS solves."""
    s = kx.Scheme("robertson_sens", species=[kx.Species("A", 1.0), kx.Species("B", 0.0), kx.Species("C", 0.0)],
                  parameters=[kx.Parameter("k1", 0.04, "1/ms"), kx.Parameter("k2", 3e7, "1/ms"),
                              kx.Parameter("k3", 1e4, "1/ms")],
                  reactions=[kx.reaction("A -> B", "k1"), kx.reaction("2B -> B + C", "k2"),
                             kx.reaction("B + C -> A + C", "k3")])
    t = np.array([0.0, 0.4, 4.0, 40.0, 400.0])
    p, y0 = model_vector(s), np.array([1.0, 0.0, 0.0])
    names = ["k1", "k2", "k3"]
    sens = kx.compile(s).sensitivity_solver(names, ["A"])
    sched = kx.Protocol.empty().schedule(0.0, 400.0, inputs=[], defaults={}, states=s.species_names)
    y, dy, _ = sens.solve(p, y0, augmented_segments(sched, sens), t, method="rodas", **TIGHT)
    seg = SegmentArrays.from_schedule(sched, {n: i for i, n in enumerate(s.species_names)})
    solver = kx.compile(s).native_solver()
    for j, name in enumerate(names + ["A(0)"]):
        out = []
        for sign in (1, -1):
            pp, yy = p.copy(), y0.copy()
            if j < 3:
                pp[j] *= 1 + sign * 1e-5
                h = 1e-5 * p[j]
            else:
                yy[0] += sign * 1e-5
                h = 1e-5
            out.append(solver.solve(pp, yy, seg, t, method="rodas", **TIGHT)[0])
        fd = (out[0] - out[1]) / (2 * h)
        scale = np.max(np.abs(fd), axis=0) + 1e-300
        err = np.max(np.abs(dy[:, :, j] - fd) / scale)
        assert err < 1e-4, (name, err)
