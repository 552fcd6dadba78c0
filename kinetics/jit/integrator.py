"""The native integrator (``kinetics/native/integrator.c``) ported line by line to numba.

Same methods (DOPRI5 with Hairer's stiffness detection switching to RODAS4, or either alone), same error
control and step-size controllers, same dense output, same segment handling (jumps at segment starts, outputs at a
boundary see the post-jump state, no right-hand side evaluation past a segment's end), same statistics and status
codes; see the C file for the method descriptions and references. What C fixes at compile time by macros is a run
time argument here:

============================  ==========================================================
C macro                       here
============================  ==========================================================
``NK_NSTATE``, ``NK_NINPUT``  the sizes of ``y`` and of ``seg_const``'s rows
``NK_NBLOCK``                 ``nblock`` (block lower-triangular sensitivity systems)
``NK_AUTONOMOUS``             ``autonomous``
``NK_CLAMP_TIME``             ``clamp`` (1; tests switch it off)
============================  ==========================================================

The model's functions are *first-class function* arguments of one fixed signature (:data:`FUNC_SIG`,
``f(t, y, p, u, out)`` on float64 arrays), so the integrator is compiled once for every model
(:func:`entry_points`; about 20 s, then loaded from the private disk cache of :mod:`kinetics.jit.diskcache`) and each
model compiles only its own small functions (:mod:`kinetics.jit.pycode`). The functions are called through pointers
to the arrays' first elements, which keeps both the model functions and their calls small for numba to compile.

The stage loops of both methods run over coefficient tables (one call site each of the right-hand side and of
the linear solver keeps the compiled code, and numba's compile time, small) but evaluate every sum in the C
code's order, so both paths take the same steps and produce the same numbers (the tests compare them).
"""
from __future__ import annotations

import math
import threading
from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["STATUS_MESSAGES", "N_STATS", "FUNC_SIG", "entry_points", "work_sizes"]

# Status codes (as in integrator.c).
OK = 0
ERR_STEP_TOO_SMALL = -1
ERR_MAX_STEPS = -2
ERR_NONFINITE = -3
ERR_SINGULAR = -4
ERR_BAD_ARGS = -5
SWITCH_TO_RODAS = 1

#: The C library's ``nk_status_message`` texts.
STATUS_MESSAGES = {
    OK: "success",
    ERR_STEP_TOO_SMALL: "step size became too small (below 16*eps*|t|)",
    ERR_MAX_STEPS: "maximum number of steps exceeded",
    ERR_NONFINITE: "non-finite value (NaN or inf) in the state or right-hand side",
    ERR_SINGULAR: "singular iteration matrix in the Rosenbrock method",
    ERR_BAD_ARGS: "invalid arguments",
    -6: "out of memory",
}

METHOD_AUTO, METHOD_DOPRI5, METHOD_RODAS = 0, 1, 2
DEFAULT_MAX_STEPS = 10000000
STIFF_HLAMBDA = 2.0
STIFF_COUNT = 15
NONSTIFF_RESET = 6
MAX_NONFINITE_RETRIES = 12
MAX_SINGULAR_RETRIES = 8
DBL_EPSILON = 2.220446049250313e-16
DBL_MIN = 2.2250738585072014e-308

#: Statistics per call: the 8 of :data:`kinetics.native.STATS_KEYS`, padding to 16 (as in C), then ``t_fail``.
N_STATS = 17

# counters (float64, in the order of the statistics)
NACC, NREJ, NFEV, NJEV, NLU, NSEG, NSWITCH, NRODAS = range(8)
# integer state
IO, NSTEP, MAXSTEPS, TLO, THI, TDEP, SEG, CLAMP, NBLOCK = range(9)
# float state
RTOL, H0, HMAX, TEND, TFAIL = range(5)

# Dormand-Prince 5(4) (see integrator.c)
DP_C2, DP_C3, DP_C4, DP_C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
DP_A21 = 1.0 / 5.0
DP_A31, DP_A32 = 3.0 / 40.0, 9.0 / 40.0
DP_A41, DP_A42, DP_A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
DP_A51, DP_A52, DP_A53, DP_A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
DP_A61, DP_A62, DP_A63, DP_A64, DP_A65 = (9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0,
                                          -5103.0 / 18656.0)
DP_A71, DP_A73, DP_A74, DP_A75, DP_A76 = (35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0,
                                          11.0 / 84.0)
DP_E1, DP_E3, DP_E4, DP_E5, DP_E6, DP_E7 = (71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0,
                                            22.0 / 525.0, -1.0 / 40.0)
DP_D1 = -12715105075.0 / 11282082432.0
DP_D3 = 87487479700.0 / 32700410799.0
DP_D4 = -10690763975.0 / 1880347072.0
DP_D5 = 701980252875.0 / 199316789632.0
DP_D6 = -1453857185.0 / 822651844.0
DP_D7 = 69997945.0 / 29380423.0

# RODAS4 (see integrator.c)
RO_GAMMA = 0.25
RO_C2, RO_C3, RO_C4 = 0.386, 0.21, 0.63
RO_D1, RO_D2, RO_D3, RO_D4 = 0.25, -0.1043, 0.1035, -0.3620000000000023e-01
RO_A21 = 1.544
RO_A31, RO_A32 = 0.9466785280815826, 0.2557011698983284
RO_A41, RO_A42, RO_A43 = 3.314825187068521, 2.896124015972201, 0.9986419139977817
RO_A51, RO_A52, RO_A53, RO_A54 = 1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950
RO_C21 = -5.6688
RO_C31, RO_C32 = -2.430093356833875, -0.2063599157091915
RO_C41, RO_C42, RO_C43 = -0.1073529058151375, -9.594562251023355, -20.47028614809616
RO_C51, RO_C52, RO_C53, RO_C54 = 7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160
RO_C61, RO_C62, RO_C63, RO_C64, RO_C65 = (8.083246795921522, -7.981132988064893, -31.52159432874371,
                                          16.31930543123136, -6.058818238834054)
RO_DN11, RO_DN12, RO_DN13, RO_DN14, RO_DN15 = (10.12623508344586, -7.487995877610167, -34.80091861555747,
                                               -7.992771707568823, 1.025137723295662)
RO_DN21, RO_DN22, RO_DN23, RO_DN24, RO_DN25 = (-0.6762803392801253, 6.087714651680015, 16.43084320892478,
                                               24.76722511418386, -6.594389125716872)

# the same coefficients as tables (rows: stages) for the stage loops
DP_C = np.array([0.0, DP_C2, DP_C3, DP_C4, DP_C5, 1.0])
DP_A = np.zeros((6, 5))
DP_A[1, :1] = [DP_A21]
DP_A[2, :2] = [DP_A31, DP_A32]
DP_A[3, :3] = [DP_A41, DP_A42, DP_A43]
DP_A[4, :4] = [DP_A51, DP_A52, DP_A53, DP_A54]
DP_A[5, :5] = [DP_A61, DP_A62, DP_A63, DP_A64, DP_A65]
RO_C = np.array([0.0, RO_C2, RO_C3, RO_C4, 1.0, 1.0])
RO_D = np.array([RO_D1, RO_D2, RO_D3, RO_D4, 0.0, 0.0])
RO_A = np.zeros((5, 4))
RO_A[1, :1] = [RO_A21]
RO_A[2, :2] = [RO_A31, RO_A32]
RO_A[3, :3] = [RO_A41, RO_A42, RO_A43]
RO_A[4, :4] = [RO_A51, RO_A52, RO_A53, RO_A54]
RO_CC = np.zeros((6, 5))
RO_CC[1, :1] = [RO_C21]
RO_CC[2, :2] = [RO_C31, RO_C32]
RO_CC[3, :3] = [RO_C41, RO_C42, RO_C43]
RO_CC[4, :4] = [RO_C51, RO_C52, RO_C53, RO_C54]
RO_CC[5, :5] = [RO_C61, RO_C62, RO_C63, RO_C64, RO_C65]
for _a in (DP_C, DP_A, RO_C, RO_D, RO_A, RO_CC):
    _a.setflags(write=False)

_entries_lock = threading.Lock()

#: Everything one solve needs besides the model's functions (the C ``nk_ctx``): arrays only, so numba passes
#: it by reference; mutable scalars live in ``cnt`` (statistics), ``iv`` (integers) and ``fv`` (floats).
Ctx = namedtuple("Ctx", "p seg_const term_input term_data atol t_out y_out u cnt iv fv")



# No reference counting (numba's ``_nrt=False``): the integrator allocates nothing (its work arrays come from the
# caller, :func:`work_sizes`), and without the atomic reference counts of every array view and argument a
# right-hand side call costs about as much as in C (measured: 160 -> 55 ns of overhead per call; with the small
# helpers inlined, 18 ns against C's 16 ns).
try:
    _OPTIONS = dict(nogil=True, cache=False, error_model="numpy", _nrt=False)
    njit(**_OPTIONS)
except (TypeError, KeyError):                  # pragma: no cover - a numba without the option
    _OPTIONS = dict(nogil=True, cache=False, error_model="numpy")
_jit = njit(**_OPTIONS)
_jit_inline = njit(**_OPTIONS, inline="always")
_PTR = types.CPointer(types.float64)
#: The numba signature of a model function ``f(t, y, p, u, out)``: pointers to the arrays' first elements.
FUNC_SIG = types.void(types.float64, _PTR, _PTR, _PTR, _PTR)
_FTYPE = types.FunctionType(FUNC_SIG)


@intrinsic
def _ptr(typingctx, arr):
    """The address of a contiguous float64 array's first element, as a ``double *``."""
    if not isinstance(arr, types.Array) or arr.dtype != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return context.make_array(arr)(context, builder, args[0]).data

    return _PTR(arr), codegen


@_jit_inline
def eval_inputs(c, t):
    n_in = c.seg_const.shape[1]
    if n_in == 0:
        c.u[0] = 0.0
        return
    s = c.iv[SEG]
    for i in range(n_in):
        c.u[i] = c.seg_const[s, i]
    for k in range(c.iv[TLO], c.iv[THI]):
        dt = t - c.term_data[k, 0]
        v = c.term_data[k, 2] + c.term_data[k, 3] * dt
        if c.term_data[k, 1] != 0.0:
            v *= math.exp(-c.term_data[k, 1] * dt)
        c.u[c.term_input[k]] += v


@_jit_inline
def fcall(rhs, c, t, y, f):
    if c.iv[CLAMP] != 0 and t > c.fv[TEND]:
        t = c.fv[TEND]
    eval_inputs(c, t)
    rhs(t, _ptr(y), _ptr(c.p), _ptr(c.u), _ptr(f))
    c.cnt[NFEV] += 1.0


@_jit_inline
def jcall(jac, c, t, y, J):
    eval_inputs(c, t)
    jac(t, _ptr(y), _ptr(c.p), _ptr(c.u), _ptr(J))
    c.cnt[NJEV] += 1.0


@_jit_inline
def all_finite(v):
    for i in range(v.size):
        if not math.isfinite(v[i]):
            return False
    return True


@_jit
def jac_finite(J, n, nb):
    if nb < n:
        for i in range(n):
            for j in range(nb):
                if not math.isfinite(J[i * n + j]):
                    return False
        return True
    return all_finite(J)


@_jit
def err_norm(c, e, ya, yb):
    n = e.size
    s = 0.0
    rtol = c.fv[RTOL]
    for i in range(n):
        a = abs(ya[i])
        b = abs(yb[i])
        sk = c.atol[i] + rtol * (a if a > b else b)
        if sk < DBL_MIN:
            sk = DBL_MIN
        r = e[i] / sk
        s += r * r
    return math.sqrt(s / n)


@_jit_inline
def emit(c, y):
    io = c.iv[IO]
    for j in range(y.size):
        c.y_out[io, j] = y[j]
    c.iv[IO] = io + 1


@_jit_inline
def hmin(t):
    m = abs(t)
    return 16.0 * DBL_EPSILON * m if m > 0.0 else 1e-300


@_jit_inline
def tres(c, t):
    tend = c.fv[TEND]
    return hmin(t if abs(t) > abs(tend) else tend)


@_jit
def hinit(rhs, c, t, y, f0, order, hmax, y1, f1):
    n = y.size
    rtol = c.fv[RTOL]
    dnf = 0.0
    dny = 0.0
    der2 = 0.0
    for i in range(n):
        sk = c.atol[i] + rtol * abs(y[i])
        if sk < DBL_MIN:
            sk = DBL_MIN
        dnf += (f0[i] / sk) * (f0[i] / sk)
        dny += (y[i] / sk) * (y[i] / sk)
    dnf /= n
    dny /= n
    if dnf <= 1e-10 or dny <= 1e-10:
        h = 1e-6
    else:
        h = 0.01 * math.sqrt(dny / dnf)
    if h > hmax:
        h = hmax
    for i in range(n):
        y1[i] = y[i] + h * f0[i]
    tend = c.fv[TEND]
    fcall(rhs, c, t + h if t + h < tend else tend, y1, f1)
    for i in range(n):
        sk = c.atol[i] + rtol * abs(y[i])
        if sk < DBL_MIN:
            sk = DBL_MIN
        d = (f1[i] - f0[i]) / sk
        der2 += d * d
    der2 = math.sqrt(der2 / n) / h
    der12 = math.sqrt(dnf)
    if der2 > der12:
        der12 = der2
    if not math.isfinite(der12):
        der12 = 1e300
    if der12 <= 1e-15:
        h1 = h * 1e-3
        if h1 < 1e-6:
            h1 = 1e-6
    else:
        h1 = (0.01 / der12) ** (1.0 / order)
    h = 100.0 * h if 100.0 * h < h1 else h1
    if h < 100.0 * hmin(t):
        h = 100.0 * hmin(t)
    if h > hmax:
        h = hmax
    return h


@_jit
def lu(A, piv, n, nb):
    for k in range(nb):
        p = k
        amax = abs(A[k * n + k])
        for i in range(k + 1, nb):
            a = abs(A[i * n + k])
            if a > amax:
                amax = a
                p = i
        piv[k] = p
        if not (amax > 0.0) or not math.isfinite(amax):
            return 1
        if p != k:
            for j in range(nb):
                tmp = A[k * n + j]
                A[k * n + j] = A[p * n + j]
                A[p * n + j] = tmp
        inv = 1.0 / A[k * n + k]
        for i in range(k + 1, nb):
            lik = A[i * n + k] * inv
            A[i * n + k] = lik
            if lik != 0.0:
                for j in range(k + 1, nb):
                    A[i * n + j] -= lik * A[k * n + j]
    return 0


@_jit
def lu_solve_block(LU, piv, b, off, n, nb):
    for i in range(nb):
        p = piv[i]
        if p != i:
            tmp = b[off + i]
            b[off + i] = b[off + p]
            b[off + p] = tmp
    for i in range(1, nb):
        s = b[off + i]
        for j in range(i):
            s -= LU[i * n + j] * b[off + j]
        b[off + i] = s
    for i in range(nb - 1, -1, -1):
        s = b[off + i]
        for j in range(i + 1, nb):
            s -= LU[i * n + j] * b[off + j]
        b[off + i] = s / LU[i * n + i]


@_jit
def lu_solve(LU, piv, b, n, nb):
    lu_solve_block(LU, piv, b, 0, n, nb)
    if nb < n:
        for blk in range(1, n // nb):
            off = blk * nb
            for i in range(nb):
                row = (off + i) * n
                s = b[off + i]
                for j in range(nb):
                    s -= LU[row + j] * b[j]
                b[off + i] = s
            lu_solve_block(LU, piv, b, off, n, nb)


@_jit
def finish_tiny(c, t, y, f):
    tend = c.fv[TEND]
    dt = tend - t
    for i in range(y.size):
        y[i] += dt * f[i]
    n_out = c.t_out.size
    while c.iv[IO] < n_out and c.t_out[c.iv[IO]] < tend:
        emit(c, y)


@_jit
def dopri5_segment(rhs, c, t, y, detect_stiff, w):
    """Returns ``(status, t, h_next)``; status SWITCH_TO_RODAS hands the segment over to rodas."""
    beta, safe, facmin, facmax = 0.04, 0.9, 0.2, 10.0
    expo1 = 0.2 - 0.75 * beta
    n = y.size
    K = w[:7]
    k1, k2, k3, k4, k5, k6, k7 = w[0], w[1], w[2], w[3], w[4], w[5], w[6]
    ys, yn, er, r5 = w[7], w[8], w[9], w[10]
    tend = c.fv[TEND]
    n_out = c.t_out.size
    facold = 1e-4
    reject = False
    nonsti = 0
    iasti = 0
    nbad = 0

    hmax = tend - t
    if c.fv[HMAX] > 0.0 and c.fv[HMAX] < hmax:
        hmax = c.fv[HMAX]

    fcall(rhs, c, t, y, k1)
    if not all_finite(k1):
        c.fv[TFAIL] = t
        return ERR_NONFINITE, t, 0.0
    if c.fv[H0] > 0.0:
        h = c.fv[H0] if c.fv[H0] < hmax else hmax
    else:
        h = hinit(rhs, c, t, y, k1, 5, hmax, k2, k3)

    while True:
        last = False
        if tend - t <= tres(c, t):
            finish_tiny(c, t, y, k1)
            return OK, tend, 0.0
        if c.iv[NSTEP] >= c.iv[MAXSTEPS]:
            c.fv[TFAIL] = t
            return ERR_MAX_STEPS, t, 0.0
        if h < hmin(t):
            c.fv[TFAIL] = t
            return (ERR_NONFINITE if nbad else ERR_STEP_TOO_SMALL), t, 0.0
        if t + 1.01 * h >= tend:
            h = tend - t
            last = True
        tn = tend if last else t + h
        c.iv[NSTEP] += 1

        # stages 2..6 (one loop: one call site of the right-hand side keeps the compiled code small)
        for s in range(1, 6):
            if s == 1:
                for i in range(n):
                    ys[i] = y[i] + h * DP_A21 * k1[i]
            else:
                for i in range(n):
                    acc = DP_A[s, 0] * K[0, i]
                    for j in range(1, s):
                        acc += DP_A[s, j] * K[j, i]
                    ys[i] = y[i] + h * acc
            fcall(rhs, c, tn if s == 5 else t + DP_C[s] * h, ys, K[s])   # ys keeps stage 6's argument
        # 5th-order solution and the FSAL stage k7 = f(tn, yn)
        for i in range(n):
            yn[i] = y[i] + h * (DP_A71 * k1[i] + DP_A73 * k3[i] + DP_A74 * k4[i] + DP_A75 * k5[i]
                                + DP_A76 * k6[i])
        fcall(rhs, c, tn, yn, k7)
        for i in range(n):
            er[i] = h * (DP_E1 * k1[i] + DP_E3 * k3[i] + DP_E4 * k4[i] + DP_E5 * k5[i] + DP_E6 * k6[i]
                         + DP_E7 * k7[i])
        err = err_norm(c, er, y, yn)

        if not math.isfinite(err):
            c.cnt[NREJ] += 1.0
            nbad += 1
            if nbad > MAX_NONFINITE_RETRIES:
                c.fv[TFAIL] = t
                return ERR_NONFINITE, t, 0.0
            h *= 0.25
            reject = True
            continue
        nbad = 0

        fac11 = err ** expo1
        fac = fac11 / facold ** beta / safe
        if fac < 1.0 / facmax:
            fac = 1.0 / facmax
        if fac > 1.0 / facmin:
            fac = 1.0 / facmin
        hnew = h / fac

        if err <= 1.0:
            stiff_now = False
            facold = err if err > 1e-4 else 1e-4
            c.cnt[NACC] += 1.0
            if not all_finite(yn):
                c.fv[TFAIL] = tn
                return ERR_NONFINITE, t, 0.0
            if detect_stiff:
                stnum = 0.0
                stden = 0.0
                for i in range(n):
                    a = k7[i] - k6[i]
                    b = yn[i] - ys[i]
                    stnum += a * a
                    stden += b * b
                if stden > 0.0 and h * math.sqrt(stnum / stden) > STIFF_HLAMBDA:
                    nonsti = 0
                    iasti += 1
                    if iasti >= STIFF_COUNT:
                        stiff_now = True
                else:
                    nonsti += 1
                    if nonsti >= NONSTIFF_RESET:
                        iasti = 0
            if c.iv[IO] < n_out and c.t_out[c.iv[IO]] < tn:
                for i in range(n):
                    ydiff = yn[i] - y[i]
                    bspl = h * k1[i] - ydiff
                    er[i] = bspl
                    k2[i] = ydiff - h * k7[i] - bspl
                    r5[i] = h * (DP_D1 * k1[i] + DP_D3 * k3[i] + DP_D4 * k4[i] + DP_D5 * k5[i]
                                 + DP_D6 * k6[i] + DP_D7 * k7[i])
                while c.iv[IO] < n_out and c.t_out[c.iv[IO]] < tn:
                    io = c.iv[IO]
                    th = (c.t_out[io] - t) / h
                    th1 = 1.0 - th
                    for i in range(n):
                        c.y_out[io, i] = y[i] + th * ((yn[i] - y[i])
                                                      + th1 * (er[i] + th * (k2[i] + th1 * r5[i])))
                    c.iv[IO] = io + 1
            for i in range(n):
                y[i] = yn[i]
                k1[i] = k7[i]
            t = tn
            if not last:
                while c.iv[IO] < n_out and c.t_out[c.iv[IO]] == t:
                    emit(c, y)
            if last:
                return OK, t, 0.0
            if hnew > hmax:
                hnew = hmax
            if reject and hnew > h:
                hnew = h
            reject = False
            if stiff_now:
                return SWITCH_TO_RODAS, t, hnew
            h = hnew
        else:
            f = fac11 / safe
            if f > 1.0 / facmin:
                f = 1.0 / facmin
            h /= f
            reject = True
            c.cnt[NREJ] += 1.0


@_jit
def rodas_segment(rhs, jac, c, t, y, h_start, w, J, W, piv):
    """Returns ``(status, t)``."""
    safe, fac1, fac2 = 0.9, 5.0, 1.0 / 6.0
    n = y.size
    nb = c.iv[NBLOCK]
    f0, ft = w[0], w[1]
    K = w[2:8]
    k1, k2, k3, k4, k5, k6 = w[2], w[3], w[4], w[5], w[6], w[7]
    ys, yn, fs, q1, q2 = w[8], w[9], w[10], w[11], w[12]
    tend = c.fv[TEND]
    n_out = c.t_out.size
    hacc = 0.0
    erracc = 1e-2
    reject = False
    first = True
    naccseg = 0
    nbad = 0
    nsing = 0

    hmax = tend - t
    if c.fv[HMAX] > 0.0 and c.fv[HMAX] < hmax:
        hmax = c.fv[HMAX]
    fcall(rhs, c, t, y, f0)
    if not all_finite(f0):
        c.fv[TFAIL] = t
        return ERR_NONFINITE, t
    if h_start > 0.0:
        h = h_start
    elif c.fv[H0] > 0.0:
        h = c.fv[H0]
    else:
        h = hinit(rhs, c, t, y, f0, 4, hmax, ys, fs)
    if h > hmax:
        h = hmax

    while True:
        if tend - t <= tres(c, t):
            finish_tiny(c, t, y, f0)
            return OK, tend
        jcall(jac, c, t, y, J)
        if not jac_finite(J, n, nb):
            c.fv[TFAIL] = t
            return ERR_NONFINITE, t
        if c.iv[TDEP] != 0:
            d = math.sqrt(DBL_EPSILON * (abs(t) if abs(t) > 1e-5 else 1e-5))
            td = t + d if t + d <= tend else t - d
            d = td - t
            fcall(rhs, c, td, y, ft)
            for i in range(n):
                ft[i] = (ft[i] - f0[i]) / d
        else:
            for i in range(n):
                ft[i] = 0.0

        while True:
            last = False
            if c.iv[NSTEP] >= c.iv[MAXSTEPS]:
                c.fv[TFAIL] = t
                return ERR_MAX_STEPS, t
            if h < hmin(t):
                c.fv[TFAIL] = t
                if nbad:
                    return ERR_NONFINITE, t
                return (ERR_SINGULAR if nsing else ERR_STEP_TOO_SMALL), t
            if t + 1.01 * h >= tend:
                h = tend - t
                last = True
            tn = tend if last else t + h
            c.iv[NSTEP] += 1

            dg = 1.0 / (RO_GAMMA * h)
            if nb < n:
                for i in range(n):
                    for j in range(nb):
                        W[i * n + j] = -J[i * n + j]
                for i in range(nb):
                    W[i * n + i] += dg
            else:
                for i in range(n * n):
                    W[i] = -J[i]
                for i in range(n):
                    W[i * n + i] += dg
            c.cnt[NLU] += 1.0
            if lu(W, piv, n, nb):
                c.cnt[NREJ] += 1.0
                nsing += 1
                if nsing > MAX_SINGULAR_RETRIES:
                    c.fv[TFAIL] = t
                    return ERR_SINGULAR, t
                h *= 0.5
                reject = True
                continue
            nsing = 0
            ih = 1.0 / h

            # the six stages (one loop: one call site each of the right-hand side and the solver)
            for s in range(6):
                ks = K[s]
                if s == 0:
                    for i in range(n):
                        ks[i] = f0[i] + h * RO_D1 * ft[i]
                else:
                    if s == 5:
                        for i in range(n):          # the embedded solution Y5 + k5
                            ys[i] += k5[i]
                    else:
                        for i in range(n):
                            acc = y[i]
                            for j in range(s):
                                acc += RO_A[s, j] * K[j, i]
                            ys[i] = acc
                    fcall(rhs, c, tn if s >= 4 else t + RO_C[s] * h, ys, fs)
                    for i in range(n):
                        acc = RO_CC[s, 0] * K[0, i]
                        for j in range(1, s):
                            acc += RO_CC[s, j] * K[j, i]
                        if s < 4:
                            ks[i] = fs[i] + h * RO_D[s] * ft[i] + acc * ih
                        else:
                            ks[i] = fs[i] + acc * ih
                lu_solve(W, piv, ks, n, nb)
            for i in range(n):
                yn[i] = ys[i] + k6[i]
            err = err_norm(c, k6, y, yn)

            if not math.isfinite(err):
                c.cnt[NREJ] += 1.0
                nbad += 1
                if nbad > MAX_NONFINITE_RETRIES:
                    c.fv[TFAIL] = t
                    return ERR_NONFINITE, t
                h *= 0.25
                reject = True
                continue
            nbad = 0

            fac = err ** 0.25 / safe
            if fac > fac1:
                fac = fac1
            if fac < fac2:
                fac = fac2
            hnew = h / fac

            if err <= 1.0:
                if naccseg > 0:
                    fg = (hacc / h) * (err * err / erracc) ** 0.25 / safe
                    if fg > fac1:
                        fg = fac1
                    if fg < fac2:
                        fg = fac2
                    if fg > fac:
                        fac = fg
                    hnew = h / fac
                hacc = h
                erracc = err if err > 1e-2 else 1e-2
                naccseg += 1
                c.cnt[NACC] += 1.0
                c.cnt[NRODAS] += 1.0
                if not all_finite(yn):
                    c.fv[TFAIL] = tn
                    return ERR_NONFINITE, t
                if c.iv[IO] < n_out and c.t_out[c.iv[IO]] < tn:
                    for i in range(n):
                        q1[i] = (RO_DN11 * k1[i] + RO_DN12 * k2[i] + RO_DN13 * k3[i] + RO_DN14 * k4[i]
                                 + RO_DN15 * k5[i])
                        q2[i] = (RO_DN21 * k1[i] + RO_DN22 * k2[i] + RO_DN23 * k3[i] + RO_DN24 * k4[i]
                                 + RO_DN25 * k5[i])
                    while c.iv[IO] < n_out and c.t_out[c.iv[IO]] < tn:
                        io = c.iv[IO]
                        th = (c.t_out[io] - t) / h
                        th1 = 1.0 - th
                        for j in range(n):
                            c.y_out[io, j] = th1 * y[j] + th * (yn[j] + th1 * (q1[j] + th * q2[j]))
                        c.iv[IO] = io + 1
                for i in range(n):
                    y[i] = yn[i]
                t = tn
                if last:
                    return OK, t
                while c.iv[IO] < n_out and c.t_out[c.iv[IO]] == t:
                    emit(c, y)
                if hnew > hmax:
                    hnew = hmax
                if reject and hnew > h:
                    hnew = h
                reject = False
                first = False
                h = hnew
                fcall(rhs, c, t, y, f0)
                if not all_finite(f0):
                    c.fv[TFAIL] = t
                    return ERR_NONFINITE, t
                break
            else:
                c.cnt[NREJ] += 1.0
                reject = True
                h = 0.1 * h if first else hnew


@_jit
def bad_args(p, y, boundaries, seg_const, term_ptr, term_input, jump_ptr, jump_index, jump_kind, t_out,
             method, rtol, atol, h0, hmax):
    n = y.size
    n_seg = boundaries.size - 1
    if n_seg < 1 or atol.size != n or seg_const.shape[0] < n_seg:
        return True
    if method < METHOD_AUTO or method > METHOD_RODAS:
        return True
    if not (rtol >= 0.0) or not math.isfinite(rtol):
        return True
    if not (h0 >= 0.0) or not (hmax >= 0.0) or not math.isfinite(h0):
        return True
    for i in range(n):
        if not (atol[i] >= 0.0) or not math.isfinite(atol[i]):
            return True
        if atol[i] == 0.0 and rtol == 0.0:
            return True
    for s in range(n_seg + 1):
        if not math.isfinite(boundaries[s]):
            return True
    for s in range(n_seg):
        if not (boundaries[s + 1] > boundaries[s]):
            return True
    n_in = seg_const.shape[1]
    if term_ptr.size < n_seg + 1 or term_ptr[0] < 0:
        return True
    for s in range(n_seg):
        if term_ptr[s + 1] < term_ptr[s]:
            return True
        for k in range(term_ptr[s], term_ptr[s + 1]):
            if k >= term_input.size or term_input[k] < 0 or term_input[k] >= n_in:
                return True
    if jump_ptr.size < n_seg + 1 or jump_ptr[0] < 0:
        return True
    for s in range(n_seg):
        if jump_ptr[s + 1] < jump_ptr[s]:
            return True
        for k in range(jump_ptr[s], jump_ptr[s + 1]):
            if k >= jump_index.size or jump_index[k] < 0 or jump_index[k] >= n:
                return True
            if jump_kind[k] != 0 and jump_kind[k] != 1:
                return True
    for i in range(t_out.size):
        if not (t_out[i] >= boundaries[0]) or not (t_out[i] <= boundaries[n_seg]):
            return True
        if i > 0 and not (t_out[i] >= t_out[i - 1]):
            return True
    return False


@_jit
def solve(rhs, jac, p, y, boundaries, seg_const, term_ptr, term_input, term_data, jump_ptr, jump_index,
          jump_kind, jump_value, t_out, y_out, method, rtol, atol, h0, hmax, max_steps, stats, nblock,
          autonomous, clamp, work, iwork):
    """``nk_solve``: integrate the whole schedule; ``stats[0:8]`` statistics, ``stats[16]`` t_fail."""
    for k in range(stats.size):
        stats[k] = 0.0
    stats[16] = boundaries[0]
    if bad_args(p, y, boundaries, seg_const, term_ptr, term_input, jump_ptr, jump_index, jump_kind, t_out,
                method, rtol, atol, h0, hmax):
        return ERR_BAD_ARGS
    n = y.size
    n_seg = boundaries.size - 1
    nb = nblock if 0 < nblock < n and n % nblock == 0 else n
    n_in1 = max(seg_const.shape[1], 1)
    iv = iwork[:9]
    iv[:] = 0
    iv[MAXSTEPS] = max_steps if max_steps > 0 else DEFAULT_MAX_STEPS
    iv[CLAMP] = clamp
    iv[NBLOCK] = nb
    fv = work[:5]
    fv[:] = 0.0
    fv[RTOL] = rtol
    fv[H0] = h0
    fv[HMAX] = hmax
    fv[TFAIL] = boundaries[0]
    cnt = work[5:13]
    cnt[:] = 0.0
    u = work[13:13 + n_in1]
    u[:] = 0.0
    c = Ctx(p, seg_const, term_input, term_data, atol, t_out, y_out, u, cnt, iv, fv)
    o = 13 + n_in1
    w = work[o:o + 13 * n].reshape((13, n))
    J = work[o + 13 * n:o + 13 * n + n * n]
    W = work[o + 13 * n + n * n:o + 13 * n + 2 * n * n]
    piv = iwork[9:9 + n]
    n_out = t_out.size
    status = OK
    for s in range(n_seg):
        t = boundaries[s]
        fv[TEND] = boundaries[s + 1]
        iv[SEG] = s
        iv[TLO] = term_ptr[s]
        iv[THI] = term_ptr[s + 1]
        iv[TDEP] = 0 if (autonomous != 0 and iv[THI] == iv[TLO]) else 1
        for k in range(jump_ptr[s], jump_ptr[s + 1]):
            if jump_kind[k] == 0:
                y[jump_index[k]] += jump_value[k]
            else:
                y[jump_index[k]] = jump_value[k]
        if not all_finite(y):
            fv[TFAIL] = t
            status = ERR_NONFINITE
            break
        while iv[IO] < n_out and t_out[iv[IO]] <= t:
            emit(c, y)
        if method == METHOD_RODAS:
            status, t = rodas_segment(rhs, jac, c, t, y, 0.0, w, J, W, piv)
        else:
            status, t, hsw = dopri5_segment(rhs, c, t, y, method == METHOD_AUTO, w)
            if status == SWITCH_TO_RODAS:
                cnt[NSWITCH] += 1.0
                status, t = rodas_segment(rhs, jac, c, t, y, hsw, w, J, W, piv)
        if status != OK:
            break
    if status == OK:
        while iv[IO] < n_out:
            emit(c, y)
    for k in range(8):
        stats[k] = cnt[k]
    stats[NSEG] = n_seg
    stats[16] = boundaries[n_seg] if status == OK else fv[TFAIL]
    return status


@_jit
def observe(obs, t, Y, P, p_stride, U, u_stride, O):
    """Observables at ``n`` points (``nk_observables``): rows of ``Y``, ``P``, ``U`` (stride 0: row 0)."""
    n = O.shape[0]
    for i in range(n):
        obs(t[i], _ptr(Y[i]), _ptr(P[i if p_stride else 0]), _ptr(U[i if u_stride else 0]), _ptr(O[i]))


_vec = types.float64[::1]
_i32 = types.Array(types.int32, 1, "C", readonly=True)
_rvec = types.Array(types.float64, 1, "C", readonly=True)
_rmat = types.Array(types.float64, 2, "C", readonly=True)
_mat = types.float64[:, ::1]
_i64, _f64 = types.int64, types.float64
#: ``solve``'s signature: the schedule's arrays, ``t_out`` and ``atol`` are read-only.
SOLVE_SIG = types.int64(_FTYPE, _FTYPE, _vec, _vec, _rvec, _rmat, _i32, _i32, _rmat, _i32, _i32, _i32, _rvec,
                        _rvec, _mat, _i64, _f64, _rvec, _f64, _f64, _i64, _vec, _i64, _i64, _i64, _vec,
                        types.int64[::1])
OBSERVE_SIG = types.void(_FTYPE, _vec, _mat, _mat, _i64, _mat, _i64, _mat)


def work_sizes(n_state: int, n_input: int) -> tuple:
    """Sizes of ``solve``'s work arrays ``work`` (float64) and ``iwork`` (int64) for a model (C's ``malloc``)."""
    return 13 + max(n_input, 1) + 13 * n_state + 2 * n_state * n_state, 9 + n_state


_entries: dict = {}


def entry_points() -> dict:
    """``{"solve", "observe"}``: the integrator's entry points, compiled on first use in this process and shared by
    every model (see :func:`kinetics.jit.diskcache.compiled` for the on-disk cache of the compiled code)."""
    if not _entries:
        from .diskcache import compiled

        with _entries_lock:
            if not _entries:
                _entries["observe"] = compiled(observe.py_func, OBSERVE_SIG)
                _entries["solve"] = compiled(solve.py_func, SOLVE_SIG)
    return _entries
