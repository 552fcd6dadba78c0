"""The native SSA: generated C propensities, rate-constant bounds and a small C loop (direct method + thinning).

Same algorithm as :mod:`kinetics.stochastic.ssa`'s Python engine (see there, with its references), in C: the
rate constants ``k(t, p, u)`` and their interval upper bounds are generated from the scheme's sympy expressions
(:func:`kinetics.codegen.c_statements` and an interval-arithmetic printer), the propensities with their
combinatorial factors, and the state updates; compiled and cached by :func:`kinetics.native.build` with the ODE
right-hand side, loaded with ctypes. One call runs a whole chunk of runs with the GIL released.

Under time-varying inputs the C loop bounds lazily: a channel whose rate constant depends on no input driven in
the segment (nor on ``t``) keeps its exact propensity, and the other channels' bounds are computed over a
window only while one of them can fire (its combinatorial factor is > 0). Exact like the Python engine's
thinning (only the dominating rate differs), and much faster when a waveform drives a rate the current state
cannot use (e.g. the voltage-dependent unblock of MK-801-trapped receptors while none is trapped).

:meth:`NativeSSA.run_logged` runs one run with an event log of chosen states (the times and counts after each
change of one of them), for :mod:`kinetics.stochastic.hybrid`; it draws the same stream as :meth:`run_many`.

Random numbers: xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM Trans.
Math. Softw. 47, 2021), seeded per run with four 64-bit words from that run's ``SeedSequence`` child.
"""
from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, SchemeError, SolverError
from ..escape import c_comment
from .propensities import Channels, Unboundable, interval_lines

__all__ = ["NativeSSA", "native_ssa", "plan_arrays", "c_source"]

_C_LOOP = r"""
#include <stdint.h>
typedef struct { double lo, hi; } nks_iv;
static nks_iv nks_pt(double x) { nks_iv r = {x, x}; return r; }
static double nks_min4(double a, double b, double c, double d) {
    double m = a; if (b < m) m = b; if (c < m) m = c; if (d < m) m = d; return m; }
static double nks_max4(double a, double b, double c, double d) {
    double m = a; if (b > m) m = b; if (c > m) m = c; if (d > m) m = d; return m; }
static double nks_z(double x) { return x != x ? 0.0 : x; }
static nks_iv nks_add(nks_iv a, nks_iv b) { nks_iv r = {a.lo + b.lo, a.hi + b.hi}; return r; }
static nks_iv nks_mul(nks_iv a, nks_iv b) {
    double p1 = nks_z(a.lo * b.lo), p2 = nks_z(a.lo * b.hi), p3 = nks_z(a.hi * b.lo), p4 = nks_z(a.hi * b.hi);
    nks_iv r = {nks_min4(p1, p2, p3, p4), nks_max4(p1, p2, p3, p4)}; return r; }
static nks_iv nks_exp(nks_iv a) { nks_iv r = {exp(a.lo), exp(a.hi)}; return r; }
static nks_iv nks_log(nks_iv a) {
    nks_iv r = {a.lo > 0 ? log(a.lo) : -INFINITY, a.hi > 0 ? log(a.hi) : -INFINITY}; return r; }
static nks_iv nks_tanh(nks_iv a) { nks_iv r = {tanh(a.lo), tanh(a.hi)}; return r; }
static nks_iv nks_abs(nks_iv a) {
    nks_iv r;
    if (a.lo >= 0) { r = a; } else if (a.hi <= 0) { r.lo = -a.hi; r.hi = -a.lo; }
    else { r.lo = 0; r.hi = (-a.lo > a.hi ? -a.lo : a.hi); }
    return r; }
static nks_iv nks_powi(nks_iv a, int n) {
    nks_iv r;
    if (n == 0) return nks_pt(1.0);
    if (n < 0) {
        if (a.lo <= 0 && a.hi >= 0) { r.lo = -INFINITY; r.hi = INFINITY; return r; }
        nks_iv inv = {1.0 / a.hi, 1.0 / a.lo};
        return nks_powi(inv, -n);
    }
    double l = 1.0, h = 1.0;
    for (int i = 0; i < n; i++) { l *= a.lo; h *= a.hi; }
    if (n % 2 == 1 || a.lo >= 0) { r.lo = l; r.hi = h; }
    else if (a.hi <= 0) { r.lo = h; r.hi = l; }
    else { r.lo = 0; r.hi = l > h ? l : h; }
    return r; }
static nks_iv nks_powr(nks_iv a, double x) {
    nks_iv r;
    if (a.lo < 0) { r.lo = -INFINITY; r.hi = INFINITY; return r; }
    if (x >= 0) { r.lo = pow(a.lo, x); r.hi = pow(a.hi, x); }
    else { r.lo = a.hi > 0 ? pow(a.hi, x) : INFINITY; r.hi = a.lo > 0 ? pow(a.lo, x) : INFINITY; }
    return r; }

/* xoshiro256** 1.0 (Blackman & Vigna) */
static inline uint64_t nks_rotl(const uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint64_t nks_next(uint64_t *s) {
    const uint64_t result = nks_rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = nks_rotl(s[3], 45);
    return result; }
/* uniform in (0, 1] */
static inline double nks_u(uint64_t *s) { return ((nks_next(s) >> 11) + 1) * 0x1.0p-53; }

static void nks_inputs_at(int nin, const double *cst, int k0, int k1, const int *ti, const double *td,
                          double t, double *u) {
    for (int i = 0; i < nin; i++) u[i] = cst[i];
    for (int k = k0; k < k1; k++) {
        const double *d = td + 4 * k; double dt = t - d[0];
        u[ti[k]] += (d[2] + d[3] * dt) * exp(-d[1] * dt);
    }
}
static void nks_term_range(const double *d, double ta, double tb, double *lo, double *hi) {
    double da = ta - d[0], db = tb - d[0];
    double va = (d[2] + d[3] * da) * exp(-d[1] * da), vb = (d[2] + d[3] * db) * exp(-d[1] * db);
    double l = va < vb ? va : vb, h = va > vb ? va : vb;
    if (d[3] != 0.0 && d[1] != 0.0) {
        double dc = 1.0 / d[1] - d[2] / d[3];
        if (da < dc && dc < db) {
            double vc = (d[2] + d[3] * dc) * exp(-d[1] * dc);
            if (vc < l) l = vc;
            if (vc > h) h = vc;
        }
    }
    *lo += l; *hi += h;
}

#define NKS_MAXIN (NKS_NINPUT > 0 ? NKS_NINPUT : 1)
#define NKS_MAXPAR (NKS_NPARAM > 0 ? NKS_NPARAM : 1)

static int nks_checkk(const double *k, double t, double *err) {
    for (int j = 0; j < NKS_NCH; j++) {
        if (!(k[j] >= 0.0) || k[j] == INFINITY) {
            err[0] = j; err[1] = t; err[2] = k[j];
            return (k[j] != k[j] || k[j] == INFINITY) ? 2 : 1;
        }
    }
    return 0;
}

static int nks_checkk1(int j, double kj, double t, double *err) {
    if (!(kj >= 0.0) || kj == INFINITY) {
        err[0] = j; err[1] = t; err[2] = kj;
        return (kj != kj || kj == INFINITY) ? 2 : 1;
    }
    return 0;
}

/* every output time before t gets the current counts */
#define NKS_RECORD_BEFORE(t) \
    while (gi < ng && t_eval[gi] < (t)) { \
        for (int i = 0; i < NKS_NST; i++) out[(size_t)gi * NKS_NST + i] = x[i]; \
        gi++; \
    }

/* event log (hybrid simulation): time and watched counts after each change of a watched state */
#define NKS_LOG(t) do { \
        if (nlog < cap) { ev_t[nlog] = (t); \
            for (int w = 0; w < nw; w++) ev_x[(size_t)nlog * nw + w] = x[watch[w]]; } \
        nlog++; } while (0)

static int nks_pick(const double *a, double r) {
    int j = 0; double acc = a[0];
    while (acc <= r && j < NKS_NCH - 1) { j++; acc += a[j]; }
    while (a[j] <= 0.0 && j > 0) j--;
    return j;
}

/* Status: 0 ok, 1 negative rate constant, 2 nan/inf rate constant, 3 max_events, 4 no finite bound,
   5 bound violated, 6 jump to a negative count. err: [channel or state, t, value]. */
int nks_run(const double *p, const long long *n0, int nseg, const double *bnd, const double *cst,
            const int *tptr, const int *tin, const double *tdat, const int *jptr, const int *jtgt,
            const int *jkind, const long long *jval, const unsigned char *varying,
            int ng, const double *t_eval, const uint64_t *seed, long long max_events,
            long long *out, long long *n_fired, double *err,
            int nw, const int *watch, const unsigned char *wch, long long cap, double *ev_t, long long *ev_x,
            long long *n_ev)
{
    long long nlog = 0;
    uint64_t s[4] = {seed[0], seed[1], seed[2], seed[3]};
    if (!(s[0] | s[1] | s[2] | s[3])) s[0] = 1;
    long long x[NKS_NST];
    double k[NKS_NCH], c[NKS_NCH], a[NKS_NCH], u[NKS_MAXIN];
    nks_iv U[NKS_MAXIN], P[NKS_MAXPAR], T;
    double kb[NKS_NCH];
    for (int i = 0; i < NKS_NPARAM; i++) P[i] = nks_pt(p[i]);
    for (int i = 0; i < NKS_NST; i++) x[i] = n0[i];
    int gi = 0; long long fired = 0;
    for (int sg = 0; sg < nseg; sg++) {
        double ta = bnd[sg], tb = bnd[sg + 1], t = ta;
        const double *cs = cst + (size_t)sg * NKS_NINPUT;
        for (int q = jptr[sg]; q < jptr[sg + 1]; q++) {
            x[jtgt[q]] = jkind[q] == 1 ? jval[q] : x[jtgt[q]] + jval[q];
            if (x[jtgt[q]] < 0) {
                err[0] = jtgt[q]; err[1] = ta; err[2] = (double)x[jtgt[q]]; *n_fired = fired; return 6;
            }
        }
        if (nw > 0 && jptr[sg + 1] > jptr[sg]) NKS_LOG(ta);
        if (!varying[sg]) {
            nks_k(ta, p, cs, k);
            int st = nks_checkk(k, ta, err); if (st) { *n_fired = fired; return st; }
            for (int j = 0; j < NKS_NCH; j++) c[j] = k[j] * nks_scale[j];
            for (;;) {
                double a0 = nks_prop(x, c, a);
                if (a0 <= 0.0) break;
                t += -log(nks_u(s)) / a0;
                if (t >= tb) break;
                NKS_RECORD_BEFORE(t);
                int j = nks_pick(a, (1.0 - nks_u(s)) * a0);
                nks_apply(j, x);
                if (nw > 0 && wch[j]) NKS_LOG(t);
                if (++fired > max_events) { *n_fired = fired; return 3; }
            }
        } else {
            /* thinning, with bounds only where needed: a channel whose rate constant depends on no input driven
               in this segment (nor on t) has its exact, constant propensity; the others get an upper bound over
               a window [wa, wb] that starts when one of them can fire (its combinatorial factor > 0). */
            double h0 = (tb - ta) / 8.0, rmax = 0.0;
            for (int q = tptr[sg]; q < tptr[sg + 1]; q++) { double r = fabs(tdat[4 * q + 1]); if (r > rmax) rmax = r; }
            if (rmax > 0.0 && 0.5 / rmax < h0) h0 = 0.5 / rmax;
            unsigned char driven[NKS_MAXIN], vj[NKS_NCH];
            for (int i = 0; i < NKS_NINPUT; i++) driven[i] = 0;
            for (int q = tptr[sg]; q < tptr[sg + 1]; q++) driven[tin[q]] = 1;
            nks_inputs_at(NKS_NINPUT, cs, tptr[sg], tptr[sg + 1], tin, tdat, ta, u);
            nks_k(ta, p, u, k);
            double cx[NKS_NCH], cb[NKS_NCH];
            for (int j = 0; j < NKS_NCH; j++) {
                vj[j] = nks_vary(j, driven);
                cx[j] = k[j] * nks_scale[j];
                if (!vj[j]) {
                    int st = nks_checkk1(j, k[j], ta, err); if (st) { *n_fired = fired; return st; }
                }
            }
            double wb = ta;            /* end of the current bound window (none yet) */
            while (t < tb) {
                for (int j = 0; j < NKS_NCH; j++) c[j] = vj[j] ? 1.0 : cx[j];
                nks_prop(x, c, a);
                int anyv = 0;
                for (int j = 0; j < NKS_NCH; j++) if (vj[j] && a[j] > 0.0) { anyv = 1; break; }
                double wend = tb;
                if (anyv) {
                    if (t >= wb) {     /* a new window from t */
                        double wa = t;
                        wb = wa + h0; if (wb > tb || tb - wb < 1e-9 * (tb - ta)) wb = tb;
                        for (int i = 0; i < NKS_NINPUT; i++) { U[i].lo = cs[i]; U[i].hi = cs[i]; }
                        for (int q = tptr[sg]; q < tptr[sg + 1]; q++)
                            nks_term_range(tdat + 4 * q, wa, wb, &U[tin[q]].lo, &U[tin[q]].hi);
                        for (int i = 0; i < NKS_NINPUT; i++) {
                            U[i].lo -= 1e-12 * fabs(U[i].lo) + 1e-300;
                            U[i].hi += 1e-12 * fabs(U[i].hi) + 1e-300;
                        }
                        T.lo = wa; T.hi = wb;
                        nks_kbound(T, U, P, kb);
                        for (int j = 0; j < NKS_NCH; j++) {
                            cb[j] = (kb[j] > 0.0 ? kb[j] : 0.0) * nks_scale[j];
                            if (vj[j] && !(cb[j] < INFINITY)) {
                                err[0] = j; err[1] = wa; err[2] = wb; *n_fired = fired; return 4; }
                        }
                    }
                    wend = wb;
                    for (int j = 0; j < NKS_NCH; j++) if (vj[j]) c[j] = cb[j];
                } else {
                    for (int j = 0; j < NKS_NCH; j++) if (vj[j]) c[j] = 0.0;
                }
                double B = nks_prop(x, c, a);
                if (B <= 0.0) { t = wend; continue; }
                t += -log(nks_u(s)) / B;
                if (t >= wend) { t = wend; continue; }
                nks_inputs_at(NKS_NINPUT, cs, tptr[sg], tptr[sg + 1], tin, tdat, t, u);
                nks_k(t, p, u, k);
                int st = nks_checkk(k, t, err); if (st) { *n_fired = fired; return st; }
                double ck[NKS_NCH];
                for (int j = 0; j < NKS_NCH; j++) ck[j] = vj[j] ? k[j] * nks_scale[j] : cx[j];
                double a0 = nks_prop(x, ck, a);
                if (a0 > B * (1.0 + 1e-9)) { err[0] = a0; err[1] = t; err[2] = B; *n_fired = fired; return 5; }
                double r = (1.0 - nks_u(s)) * B;
                if (r >= a0) continue;
                NKS_RECORD_BEFORE(t);
                int j = nks_pick(a, r);
                nks_apply(j, x);
                if (nw > 0 && wch[j]) NKS_LOG(t);
                if (++fired > max_events) { *n_fired = fired; return 3; }
            }
        }
        while (gi < ng && (t_eval[gi] < tb || (sg == nseg - 1 && t_eval[gi] <= tb))) {
            for (int i = 0; i < NKS_NST; i++) out[(size_t)gi * NKS_NST + i] = x[i];
            gi++;
        }
    }
    *n_fired = fired;
    if (n_ev) *n_ev = nlog;
    return 0;
}

/* n runs one after the other; stops at the first failing run (its index in err[3]). */
int nks_run_many(int n, const double *p, const long long *n0, int nseg, const double *bnd, const double *cst,
                 const int *tptr, const int *tin, const double *tdat, const int *jptr, const int *jtgt,
                 const int *jkind, const long long *jval, const unsigned char *varying,
                 int ng, const double *t_eval, const uint64_t *seeds, long long max_events,
                 long long *out, long long *n_fired, double *err)
{
    for (int r = 0; r < n; r++) {
        int st = nks_run(p, n0, nseg, bnd, cst, tptr, tin, tdat, jptr, jtgt, jkind, jval, varying, ng, t_eval,
                         seeds + 4 * (size_t)r, max_events, out + (size_t)r * ng * NKS_NST, n_fired + r, err,
                         0, 0, 0, 0, 0, 0, 0);
        if (st) { err[3] = r; return st; }
    }
    return 0;
}
"""


def _interval_c(exprs, names: dict) -> list:
    """C statements computing ``kb[j]`` = an upper bound of ``exprs[j]``: the program of
    :func:`kinetics.stochastic.propensities.interval_program` over the ``nks_*`` interval helpers;
    raises :class:`Unboundable`."""
    assignments, outs = interval_lines(exprs, names, "nks_", lambda x: f"nks_pt({x!r})")
    return [f"    const nks_iv {v} = {text};" for v, text in assignments] + \
        [f"    kb[{j}] = {out}.hi;" for j, out in enumerate(outs)]


def c_source(ch: Channels) -> str:
    """The generated model block (ODE right-hand side, for the template, then the SSA functions)."""
    from ..codegen import c_source as ode_source, c_statements
    from ..odesystem import derive
    from ..scheme import TIME

    scheme = ch.scheme
    system = derive(scheme)
    names = {s.name: f"p[{i}]" for i, s in enumerate(system.p)}
    names.update({s.name: f"u[{i}]" for i, s in enumerate(system.u)})
    names[TIME.name] = "t"
    k_body = "\n".join(c_statements(ch.rate_constants, [f"k[{j}]" for j in range(ch.n_channels)], names))
    inames = {"t": "T"}
    inames.update({s.name: f"U[{i}]" for i, s in enumerate(system.u)})
    inames.update({s.name: f"P[{i}]" for i, s in enumerate(system.p)})
    try:
        _interval_c(ch.rate_constants, inames)
        boundable = 1
    except Unboundable:
        boundable = 0
    scale = ", ".join(repr(float(v)) for v in ch.scale)
    vary = []
    for j, kj in enumerate(ch.rate_constants):
        if kj.has(TIME):
            vary.append(f"    case {j}: return 1;")
            continue
        deps = [f"driven[{i}]" for i, u in enumerate(system.u) if kj.has(u)]
        if deps:
            vary.append(f"    case {j}: return {' || '.join(deps)};")
    vary = "\n".join(vary)
    return ode_source(system) + f"""
/* ---- SSA of scheme `{c_comment(scheme.name)}` ({ch.mode}) ---- */
#define NKS_NCH {ch.n_channels}
#define NKS_NST {len(scheme.species_names)}
#define NKS_NINPUT {len(system.u)}
#define NKS_NPARAM {len(system.p)}
int nks_boundable(void) {{ return {boundable}; }}
static const double nks_scale[NKS_NCH] = {{{scale}}};
/* does channel j's rate constant vary when the inputs flagged in `driven` vary (or with t)? */
static int nks_vary(int j, const unsigned char *driven)
{{
    (void)driven;
    switch (j) {{
{vary}
    default: return 0;
    }}
}}
static void nks_k(double t, const double *p, const double *u, double *k)
{{
    (void)t; (void)p; (void)u;
{k_body}
}}
"""


def _full_source(ch: Channels) -> str:
    """Model block + the interval helpers and loop (the bound and propensity functions go between them)."""
    head = c_source(ch)
    loop_helpers, loop_main = _C_LOOP.split("#define NKS_MAXIN", 1)
    scheme = ch.scheme
    from ..odesystem import derive

    system = derive(scheme)
    inames = {"t": "T"}
    inames.update({s.name: f"U[{i}]" for i, s in enumerate(system.u)})
    inames.update({s.name: f"P[{i}]" for i, s in enumerate(system.p)})
    try:
        b_body = "\n".join(_interval_c(ch.rate_constants, inames))
    except Unboundable as exc:
        b_body = f"    /* not boundable: {c_comment(str(exc))} */\n" \
                 f"    for (int j = 0; j < NKS_NCH; j++) kb[j] = INFINITY;"
    props = []
    for j, reac in enumerate(ch.reactants):
        f = [f"c[{j}]"]
        for i, a in reac:
            f += [f"(double)x[{i}]"] + [f"(double)(x[{i}] - {m})" for m in range(1, a)]
        props.append(f"    a[{j}] = {' * '.join(f)}; a0 += a[{j}];")
    cases = []
    for j, row in enumerate(ch.change):
        ups = " ".join(f"x[{i}] += {int(d)};" for i, d in enumerate(row) if d != 0)
        cases.append(f"    case {j}: {ups} break;")
    gen = f"""
static void nks_kbound(nks_iv T, const nks_iv *U, const nks_iv *P, double *kb)
{{
    (void)T; (void)U; (void)P;
{b_body}
}}
static double nks_prop(const long long *x, const double *c, double *a)
{{
    double a0 = 0.0;
{chr(10).join(props)}
    return a0;
}}
static void nks_apply(int j, long long *x)
{{
    switch (j) {{
{chr(10).join(cases)}
    default: break;
    }}
}}
"""
    return head + loop_helpers + gen + "#define NKS_MAXIN" + loop_main


class NativeSSA:
    """The loaded native SSA library of one :class:`Channels` (structure, mode, Omega)."""

    def __init__(self, ch: Channels, path: Path):
        from .. import native

        self.channels = ch
        native._check_loadable(Path(path))
        lib = ctypes.CDLL(str(path))
        self.boundable = bool(lib.nks_boundable())
        P = ctypes.c_void_p
        lib.nks_run_many.argtypes = [ctypes.c_int, P, P, ctypes.c_int, P, P, P, P, P, P, P, P, P, P,
                                     ctypes.c_int, P, P, ctypes.c_longlong, P, P, P]
        lib.nks_run_many.restype = ctypes.c_int
        lib.nks_run.argtypes = [P, P, ctypes.c_int, P, P, P, P, P, P, P, P, P, P, ctypes.c_int, P, P,
                                ctypes.c_longlong, P, P, P, ctypes.c_int, P, P, ctypes.c_longlong, P, P, P]
        lib.nks_run.restype = ctypes.c_int
        self._lib = lib
        self.n_states = len(ch.scheme.species_names)

    def run_many(self, p, plan_arrays, n0, t_eval, seeds, max_events):
        """Counts ``(n, n_t, n_states)`` and reactions fired ``(n,)`` of ``n = len(seeds)`` runs."""
        (nseg, bnd, cst, tptr, tin, tdat, jptr, jtgt, jkind, jval, varying) = plan_arrays
        self._check_plan(varying)
        n = len(seeds)
        t_eval = np.ascontiguousarray(t_eval, dtype=float)
        out = np.zeros((n, t_eval.size, self.n_states), dtype=np.int64)
        fired = np.zeros(n, dtype=np.int64)
        err = np.zeros(4)
        p = np.ascontiguousarray(p, dtype=float)
        n0 = np.ascontiguousarray(n0, dtype=np.int64)
        seeds = np.ascontiguousarray(seeds, dtype=np.uint64)

        def ptr(a):
            return a.ctypes.data_as(ctypes.c_void_p)

        st = self._lib.nks_run_many(n, ptr(p), ptr(n0), nseg, ptr(bnd), ptr(cst), ptr(tptr), ptr(tin), ptr(tdat),
                                    ptr(jptr), ptr(jtgt), ptr(jkind), ptr(jval), ptr(varying), t_eval.size,
                                    ptr(t_eval), ptr(seeds), int(max_events), ptr(out), ptr(fired), ptr(err))
        if st:
            self._raise(st, err, max_events)
        return out, fired

    def run_logged(self, p, plan_arrays, n0, t_eval, seed, max_events, watch, capacity=4096):
        """One run with an event log of the states ``watch`` (indices): counts ``(n_t, n_states)``, reactions
        fired, and the times ``(k,)`` and watched counts ``(k, len(watch))`` after every reaction (or protocol
        jump) that changes a watched state. Same random stream as :meth:`run_many` for the same seed."""
        (nseg, bnd, cst, tptr, tin, tdat, jptr, jtgt, jkind, jval, varying) = plan_arrays
        self._check_plan(varying)
        t_eval = np.ascontiguousarray(t_eval, dtype=float)
        p = np.ascontiguousarray(p, dtype=float)
        n0 = np.ascontiguousarray(n0, dtype=np.int64)
        seed = np.ascontiguousarray(seed, dtype=np.uint64).reshape(4)
        watch = np.ascontiguousarray(watch, dtype=np.intc)
        wch = np.ascontiguousarray((self.channels.change[:, watch] != 0).any(axis=1), dtype=np.uint8)
        nw = int(watch.size)

        def ptr(a):
            return a.ctypes.data_as(ctypes.c_void_p)

        cap = max(int(capacity), 1)
        while True:
            out = np.zeros((t_eval.size, self.n_states), dtype=np.int64)
            fired = np.zeros(1, dtype=np.int64)
            err = np.zeros(4)
            ev_t = np.empty(cap)
            ev_x = np.empty((cap, max(nw, 1)), dtype=np.int64)
            n_ev = np.zeros(1, dtype=np.int64)
            st = self._lib.nks_run(ptr(p), ptr(n0), nseg, ptr(bnd), ptr(cst), ptr(tptr), ptr(tin), ptr(tdat),
                                   ptr(jptr), ptr(jtgt), ptr(jkind), ptr(jval), ptr(varying), t_eval.size,
                                   ptr(t_eval), ptr(seed), int(max_events), ptr(out), ptr(fired), ptr(err),
                                   nw, ptr(watch), ptr(wch), cap, ptr(ev_t), ptr(ev_x), ptr(n_ev))
            if st:
                self._raise(st, err, max_events)
            k = int(n_ev[0])
            if k <= cap:
                return out, int(fired[0]), ev_t[:k].copy(), ev_x[:k, :nw].copy()
            cap = k                      # the log overflowed: run again (same stream) with room for every event

    def _check_plan(self, varying):
        if varying.any() and not self.boundable:
            raise SchemeError(f"scheme `{self.channels.scheme.name}`: the thinning method needs an upper bound of "
                              "every rate constant over time-varying inputs, and it cannot bound one of them; "
                              "use piecewise-constant inputs (steps, pulses) instead")

    def _raise(self, st, err, max_events):
        if st:
            labels = self.channels.labels
            if st == 1:
                raise SchemeError(f"the rate constant of channel `{labels[int(err[0])]}` is negative ({err[2]:g}) at "
                                  f"t = {err[1]:g}: a propensity must be >= 0 (check the parameters and the "
                                  "protocol's inputs)")
            if st == 2:
                raise SolverError(f"the rate constant of channel `{labels[int(err[0])]}` is {err[2]} at t = {err[1]:g}")
            if st == 3:
                raise SolverError(f"more than {max_events} reactions in one run (max_events)")
            if st == 4:
                raise SchemeError(f"scheme `{self.channels.scheme.name}`: the rate constant of channel "
                                  f"`{labels[int(err[0])]}` has no finite upper bound over [{err[1]:g}, {err[2]:g}] "
                                  "(thinning needs one)")
            if st == 5:
                raise SolverError(f"internal error: propensity {err[0]:g} above its bound {err[2]:g} at t = {err[1]:g}")
            if st == 6:
                raise ArgumentError(f"a jump at t = {err[1]:g} makes the count of "
                                    f"`{self.channels.state_names[int(err[0])]}` negative ({err[2]:g})")
            raise SolverError(f"native SSA failed with status {st}")


def plan_arrays(plan) -> tuple:
    """The Python engine's per-segment plan as the C loop's flat arrays."""
    nseg = len(plan)
    bnd = np.array([seg[0] for seg in plan] + [plan[-1][1]], dtype=float)
    nin = len(plan[0][2])
    cst = np.array([seg[2] for seg in plan], dtype=float).reshape(nseg, nin)
    tptr = np.zeros(nseg + 1, dtype=np.int32)
    jptr = np.zeros(nseg + 1, dtype=np.int32)
    tin, tdat, jtgt, jkind, jval = [], [], [], [], []
    for s, seg in enumerate(plan):
        for term in seg[3]:
            tin.append(term[0])
            tdat.append(term[1:])
        for j in seg[4]:
            jtgt.append(j[0])
            jkind.append(j[1])
            jval.append(j[2])
        tptr[s + 1] = len(tin)
        jptr[s + 1] = len(jtgt)
    return (nseg, bnd, np.ascontiguousarray(cst), tptr, np.array(tin, dtype=np.int32),
            np.array(tdat, dtype=float).reshape(-1, 4), jptr, np.array(jtgt, dtype=np.int32),
            np.array(jkind, dtype=np.int32), np.array(jval, dtype=np.int64))


_LOADED: dict = {}
_LOCK = threading.Lock()


def native_ssa(ch: Channels) -> NativeSSA:
    """The compiled (cached on disk by :func:`kinetics.native.build`) and loaded native SSA of ``ch``.

    Raises :class:`~kinetics.errors.CompilerError` without a working C compiler.
    """
    from .. import native

    key = (ch.scheme.structure_key(), ch.mode, ch.omega)
    with _LOCK:
        hit = _LOADED.get(key)
    if hit is not None:
        return hit
    path = native.build(_full_source(ch))
    hit = NativeSSA(ch, path)
    with _LOCK:
        _LOADED[key] = hit
    return hit


