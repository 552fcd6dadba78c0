"""C export: one self-contained C99 file (libc + libm) with the model, its protocol and a driver.

The file has three parts:

1. **Header** (``<prefix>_NSTATE``..., name arrays, default parameters in the
   scheme's units, initial state, input defaults, and the prototypes below) — the
   part to copy into a ``.h`` when embedding the model.
2. **Model**: ``<prefix>_rhs(t, y, p, u, dydt)``, ``<prefix>_jacobian(t, y, p, u, J)``
   (row-major, ``J[i*n + j] = d dydt_i / d y_j``) and
   ``<prefix>_observables(t, y, p, u, obs)``, written from the derived equations
   with readable local names.
3. **Protocol and driver**: the compiled protocol (segments, input terms, jumps;
   see :mod:`kinetics.schedule`), ``<prefix>_inputs(seg, t, u)`` and
   ``<prefix>_simulate(p, y0, n_out, t_out, y_out, rtol, atol)``, an adaptive
   Dormand-Prince 5(4) integrator that restarts at every protocol breakpoint and
   applies the jumps there (returns 0, or a negative code on failure). Compiled
   with ``-D<PREFIX>_MAIN`` it is a program printing ``time`` and the states as
   CSV: ``./model [n_points [t_end [rtol [atol]]]]``.

Identifiers that are C keywords, ``<math.h>`` functions or names the generated
code uses (``int``, ``exp``, ``y``...) are renamed with a trailing ``_``.

Examples
--------
>>> import kinetics as kx
>>> from kinetics.exporters import export
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> "void decay_rhs(double t" in export(s, "c")
True
"""
from __future__ import annotations

import re

import sympy

from ..codegen import CPrinter, c_statements
from ..escape import c_comment as _comment
from ..escape import c_string as _cstr
from ..odesystem import derive
from ._common import (GENERATED_BY, all_names, export_schedule, fmt_float, parameter_model_values, renaming_note,
                      safe_names)

FORMAT = "c"
SUFFIX = ".c"
DESCRIPTION = "self-contained C99: RHS, Jacobian, protocol and a DOPRI5 driver (gcc)"

RESERVED = frozenset("""
auto break case char const continue default do double else enum extern float for goto if inline int long
register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
_Bool _Complex _Imaginary bool true false NULL main
exp exp2 expm1 log log2 log10 log1p pow sqrt cbrt fabs fmin fmax floor ceil fmod sin cos tan asin acos atan atan2
sinh cosh tanh asinh acosh atanh erf erfc tgamma lgamma hypot round trunc copysign nan isnan isinf isfinite
INFINITY NAN HUGE_VAL M_PI M_E abs printf fprintf sprintf snprintf malloc free calloc realloc memset memcpy strtod
atoi atof exit stdout stderr
t y p u dydt J obs
""".split())


def _block(printer, exprs, targets, indent="    "):
    """C statements assigning ``exprs`` to ``targets`` with common subexpressions in temporaries."""
    return c_statements(exprs, targets, printer.names, indent)


def _arr(values, fmt=fmt_float, per_line=6):
    items = [fmt(v) for v in values]
    if not items:
        return "{0}"
    rows = [", ".join(items[k:k + per_line]) for k in range(0, len(items), per_line)]
    return "{\n    " + ",\n    ".join(rows) + "\n}"


def export(scheme, *, protocol=None, t_end=None, prefix: str | None = None) -> str:
    """C99 source of the model, its protocol (if given) and a driver.

    Parameters
    ----------
    protocol, t_end : optional
        The protocol compiled into the file (on ``[0, t_end]``); ``t_end`` is
        also the driver's default end time (100 time units without it).
    prefix : str, optional
        Prefix of every global symbol (default: the scheme name made an identifier).
    """
    schedule = export_schedule(scheme, protocol, t_end)
    s = scheme
    system = derive(s)
    pfx = prefix or re.sub(r"[^A-Za-z0-9_]+", "_", s.name).strip("_") or "model"
    if pfx[0].isdigit():
        pfx = "m_" + pfx
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", pfx):
        from ..errors import ArgumentError

        raise ArgumentError(f"`prefix` must be a C identifier, got {prefix!r}")
    P = pfx.upper()
    names = safe_names(all_names(s), RESERVED, "C")
    pr = CPrinter(names)
    ns, npar, nin, nobs = len(s.species), len(s.parameters), len(s.inputs), len(s.observables)
    pvals = parameter_model_values(s)

    obs_expr = {o.name: o.expr for o in s.observables}
    obs_order = s.observable_order()

    def locals_for(exprs):
        """Declarations of the states, parameters, inputs and observables that ``exprs`` use."""
        used = set()
        for e in exprs:
            used |= {x.name for x in sympy.sympify(e).free_symbols}
        for n in reversed(obs_order):  # observables pull in what they use
            if n in used:
                used |= {x.name for x in obs_expr[n].free_symbols}
        out = [f"    const double {names[n]} = y[{i}];" for i, n in enumerate(s.species_names) if n in used]
        out += [f"    const double {names[n]} = p[{i}];" for i, n in enumerate(s.parameter_names) if n in used]
        out += [f"    const double {names[n]} = u[{i}];" for i, n in enumerate(s.input_names) if n in used]
        out += [f"    const double {names[n]} = {pr.doprint(obs_expr[n])};" for n in obs_order if n in used]
        return out

    # free text (description, references, units) only inside this comment, through kinetics.escape.c_comment
    L = [f"/* {_comment(s.name)}: generated by {GENERATED_BY}. Self-contained C99 (libc + libm).",
         f" * Units: {_comment(s.units)}. States, parameters (p, in these units) and inputs (u) in the orders below."]
    if s.description:
        L.append(f" * {_comment(s.description)}")
    if s.reference:
        L.append(f" * Reference: {_comment(s.reference)}")
    for line in renaming_note(names):
        L.append(f" * {_comment(line)}")
    L.append(" * Parameters (value in the scheme's units; declared value, unit and source):")
    for par in s.parameters:
        L.append(f" *   p[{s.parameter_names.index(par.name)}] {par.name} = {fmt_float(pvals[par.name])}  "
                 + _comment(f"({fmt_float(par.value)} {par.unit}{'; ' + par.reference if par.reference else ''})"))
    L.append(f" * Build: cc -O2 -std=c99 -D{P}_MAIN model.c -lm  ->  ./a.out [n_points [t_end [rtol [atol]]]] */")
    L += ["#include <math.h>", "#include <stdio.h>", "#include <stdlib.h>", "#include <string.h>",
          "#ifndef M_PI", "#define M_PI 3.14159265358979323846", "#endif", "",
          "/* ======================= header ======================= */",
          f"#define {P}_NSTATE {ns}", f"#define {P}_NPARAM {npar}", f"#define {P}_NINPUT {nin}",
          f"#define {P}_NOBS {nobs}",
          f"#define {P}_T_END {fmt_float(t_end if t_end is not None else 100.0)}",
          f"const char *const {pfx}_state_names[] = {{{', '.join(_cstr(x) for x in s.species_names)}}};",
          f"const char *const {pfx}_param_names[] = {{{', '.join(_cstr(x) for x in s.parameter_names) or '0'}}};",
          f"const char *const {pfx}_input_names[] = {{{', '.join(_cstr(x) for x in s.input_names) or '0'}}};",
          f"const char *const {pfx}_observable_names[] = {{{', '.join(_cstr(x) for x in s.observable_names) or '0'}}};",
          f"const double {pfx}_default_params[] = {_arr([pvals[n] for n in s.parameter_names])};",
          f"const double {pfx}_initial_state[] = {_arr([sp.initial for sp in s.species])};",
          f"const double {pfx}_input_defaults[] = {_arr([u.default for u in s.inputs])};",
          f"void {pfx}_rhs(double t, const double *y, const double *p, const double *u, double *dydt);",
          f"void {pfx}_jacobian(double t, const double *y, const double *p, const double *u, double *J);",
          f"void {pfx}_observables(double t, const double *y, const double *p, const double *u, double *obs);",
          f"void {pfx}_inputs(int seg, double t, double *u);",
          f"int {pfx}_simulate(const double *p, const double *y0, int n_out, const double *t_out, double *y_out,",
          "                 double rtol, double atol);", "",
          "/* ======================= model ======================= */"]

    # rhs: observables as locals, then N v + rate rules
    rhs = list(system.rhs_with_observables)
    L += [f"void {pfx}_rhs(double t, const double *y, const double *p, const double *u, double *dydt)", "{",
          "    (void)t; (void)y; (void)p; (void)u;"]
    L += locals_for(rhs)
    L += _block(pr, rhs, [f"dydt[{i}]" for i in range(ns)])
    L += ["}", ""]
    L += [f"void {pfx}_jacobian(double t, const double *y, const double *p, const double *u, double *J)", "{",
          "    (void)t; (void)y; (void)p; (void)u;"]
    jac = system.jacobian
    flat, tg = [], []
    for i in range(ns):
        for j in range(ns):
            if jac[i, j] != 0:
                flat.append(jac[i, j])
                tg.append(f"J[{i * ns + j}]")
    L += locals_for(flat)
    L.append(f"    memset(J, 0, sizeof(double) * {ns * ns});")
    L += _block(pr, flat, tg)
    L += ["}", ""]
    L += [f"void {pfx}_observables(double t, const double *y, const double *p, const double *u, double *obs)", "{",
          "    (void)t; (void)y; (void)p; (void)u; (void)obs;"]
    L += locals_for([sympy.Symbol(n) for n in s.observable_names])
    for k, n in enumerate(s.observable_names):
        L.append(f"    obs[{k}] = {names[n]};")
    L += ["}", ""]

    # protocol tables
    L.append("/* ======================= protocol ======================= */")
    if schedule is not None:
        sc = schedule
        state_index = {n: i for i, n in enumerate(s.species_names)}
        L.append(f"/* {len(sc.boundaries) - 1} segments on [0, {fmt_float(sc.t_end)}]; inside segment s input i is")
        L.append(" * const[s][i] + sum of its terms (p + q*(t - t_ref))*exp(-rate*(t - t_ref)); jumps act at segment starts. */")
        L += [f"#define {P}_NSEG {sc.n_segments}",
              f"static const double {pfx}_boundaries[] = {_arr(sc.boundaries)};",
              f"static const double {pfx}_const[] = {_arr(sc.const.ravel()) if nin else '{0}'};",
              f"static const int {pfx}_term_ptr[] = {_arr(sc.term_ptr, str, 12)};",
              f"static const int {pfx}_term_input[] = {_arr(sc.term_input, str, 12)};",
              f"static const double {pfx}_term_data[] = {_arr(sc.term_data.ravel(), fmt_float, 4)};",
              f"static const int {pfx}_jump_ptr[] = {_arr(sc.jump_ptr, str, 12)};",
              f"static const int {pfx}_jump_target[] = {_arr([state_index[x] for x in sc.jump_target], str, 12)};",
              f"static const int {pfx}_jump_set[] = {_arr(sc.jump_kind, str, 12)};",
              f"static const double {pfx}_jump_value[] = {_arr(sc.jump_value)};"]
    else:
        L += [f"#define {P}_NSEG 1", f"static const double {pfx}_boundaries[] = {{0.0, {P}_T_END}};",
              f"static const double {pfx}_const[] = {_arr([u.default for u in s.inputs]) if nin else '{0}'};",
              f"static const int {pfx}_term_ptr[] = {{0, 0}};", f"static const int {pfx}_term_input[] = {{0}};",
              f"static const double {pfx}_term_data[] = {{0}};", f"static const int {pfx}_jump_ptr[] = {{0, 0}};",
              f"static const int {pfx}_jump_target[] = {{0}};", f"static const int {pfx}_jump_set[] = {{0}};",
              f"static const double {pfx}_jump_value[] = {{0}};"]
    L += [_DRIVER.replace("PFX_", f"{pfx}_").replace("PFXU_", f"{P}_")]
    return "\n".join(L) + "\n"


_DRIVER = r"""
void PFX_inputs(int seg, double t, double *u)
{
    int i, k;
    for (i = 0; i < PFXU_NINPUT; ++i) u[i] = PFX_const[seg * (PFXU_NINPUT > 0 ? PFXU_NINPUT : 1) + i];
    for (k = PFX_term_ptr[seg]; k < PFX_term_ptr[seg + 1]; ++k) {
        const double *d = PFX_term_data + 4 * k;   /* t_ref, rate, p, q */
        const double dt = t - d[0];
        u[PFX_term_input[k]] += (d[2] + d[3] * dt) * exp(-d[1] * dt);
    }
}

/* Adaptive Dormand-Prince 5(4) (Dormand & Prince 1980; step-size control as in Hairer, Norsett & Wanner,
 * Solving ODEs I, Sec. II.4), from *t to `target` inside segment `seg`, landing exactly on `target`.
 * *h carries the step size between calls (0: choose one). Returns 0 or a negative code. */
static int PFX_advance(const double *p, int seg, double *t, double *y, double target, double *h,
                       double rtol, double atol, long *steps)
{
    enum { N = PFXU_NSTATE };
    static const double c2 = 1.0/5, c3 = 3.0/10, c4 = 4.0/5, c5 = 8.0/9;
    static const double a21 = 1.0/5;
    static const double a31 = 3.0/40, a32 = 9.0/40;
    static const double a41 = 44.0/45, a42 = -56.0/15, a43 = 32.0/9;
    static const double a51 = 19372.0/6561, a52 = -25360.0/2187, a53 = 64448.0/6561, a54 = -212.0/729;
    static const double a61 = 9017.0/3168, a62 = -355.0/33, a63 = 46732.0/5247, a64 = 49.0/176, a65 = -5103.0/18656;
    static const double b1 = 35.0/384, b3 = 500.0/1113, b4 = 125.0/192, b5 = -2187.0/6784, b6 = 11.0/84;
    static const double e1 = 71.0/57600, e3 = -71.0/16695, e4 = 71.0/1920, e5 = -17253.0/339200,
                        e6 = 22.0/525, e7 = -1.0/40;
    double yt[N], ynew[N], k1[N], k2[N], k3[N], k4[N], k5[N], k6[N], k7[N];
    double u[PFXU_NINPUT > 0 ? PFXU_NINPUT : 1];
    int i;
    while (*t < target) {
        double hh, tn, err, fac;
        int last = 0;
        PFX_inputs(seg, *t, u);
        PFX_rhs(*t, y, p, u, k1);
        if (*h <= 0.0) {   /* initial step (simplified from Hairer et al.) */
            double d0 = 0.0, d1 = 0.0;
            for (i = 0; i < N; ++i) {
                const double sc = atol + rtol * fabs(y[i]);
                d0 += (y[i] / sc) * (y[i] / sc);
                d1 += (k1[i] / sc) * (k1[i] / sc);
            }
            d0 = sqrt(d0 / N); d1 = sqrt(d1 / N);
            *h = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
        }
        for (;;) {
            hh = *h;
            if (*t + hh >= target) { hh = target - *t; last = 1; } else last = 0;
            if (++*steps > 50000000L) return -2;
            if (hh <= 1e-14 * (fabs(*t) > 1.0 ? fabs(*t) : 1.0) && !last) return -1;
            for (i = 0; i < N; ++i) yt[i] = y[i] + hh * a21 * k1[i];
            PFX_inputs(seg, *t + c2 * hh, u); PFX_rhs(*t + c2 * hh, yt, p, u, k2);
            for (i = 0; i < N; ++i) yt[i] = y[i] + hh * (a31 * k1[i] + a32 * k2[i]);
            PFX_inputs(seg, *t + c3 * hh, u); PFX_rhs(*t + c3 * hh, yt, p, u, k3);
            for (i = 0; i < N; ++i) yt[i] = y[i] + hh * (a41 * k1[i] + a42 * k2[i] + a43 * k3[i]);
            PFX_inputs(seg, *t + c4 * hh, u); PFX_rhs(*t + c4 * hh, yt, p, u, k4);
            for (i = 0; i < N; ++i) yt[i] = y[i] + hh * (a51 * k1[i] + a52 * k2[i] + a53 * k3[i] + a54 * k4[i]);
            PFX_inputs(seg, *t + c5 * hh, u); PFX_rhs(*t + c5 * hh, yt, p, u, k5);
            for (i = 0; i < N; ++i)
                yt[i] = y[i] + hh * (a61 * k1[i] + a62 * k2[i] + a63 * k3[i] + a64 * k4[i] + a65 * k5[i]);
            tn = last ? target : *t + hh;
            PFX_inputs(seg, tn, u); PFX_rhs(tn, yt, p, u, k6);
            for (i = 0; i < N; ++i)
                ynew[i] = y[i] + hh * (b1 * k1[i] + b3 * k3[i] + b4 * k4[i] + b5 * k5[i] + b6 * k6[i]);
            PFX_rhs(tn, ynew, p, u, k7);
            err = 0.0;
            for (i = 0; i < N; ++i) {
                const double sc = atol + rtol * (fabs(y[i]) > fabs(ynew[i]) ? fabs(y[i]) : fabs(ynew[i]));
                const double ei = hh * (e1 * k1[i] + e3 * k3[i] + e4 * k4[i] + e5 * k5[i] + e6 * k6[i]
                                        + e7 * k7[i]) / sc;
                err += ei * ei;
            }
            err = sqrt(err / N);
            if (!(err == err)) err = 1e10;
            fac = err > 0.0 ? 0.9 * pow(err, -0.2) : 5.0;
            if (fac > 5.0) fac = 5.0;
            if (fac < 0.2) fac = 0.2;
            if (err <= 1.0) {
                for (i = 0; i < N; ++i) {
                    if (!isfinite(ynew[i])) return -3;
                    y[i] = ynew[i];
                }
                *t = tn;
                if (!last) *h = hh * fac;
                break;
            }
            *h = hh * (fac < 1.0 ? fac : 0.5);
        }
    }
    return 0;
}

/* Simulate from the protocol's start with parameters p (scheme units) and initial state y0; store the state
 * at each of the n_out sorted times t_out in y_out (row-major, n_out x NSTATE). Inputs are right-continuous
 * and jumps act at segment starts: an output exactly at a breakpoint sees the new segment.
 * Returns 0, -1 (step size underflow), -2 (too many steps), -3 (non-finite state), -4 (bad arguments). */
int PFX_simulate(const double *p, const double *y0, int n_out, const double *t_out, double *y_out,
                 double rtol, double atol)
{
    double y[PFXU_NSTATE];
    double t, h = 0.0;
    long steps = 0;
    int seg, i, out = 0, rc;
    if (n_out < 1 || !(rtol > 0) || !(atol > 0)) return -4;
    for (i = 0; i < n_out; ++i)
        if (!(t_out[i] >= PFX_boundaries[0]) || (i && t_out[i] < t_out[i - 1])) return -4;
    memcpy(y, y0, sizeof y);
    for (seg = 0; seg < PFXU_NSEG && out < n_out; ++seg) {
        const int final = seg == PFXU_NSEG - 1;
        const double hi = PFX_boundaries[seg + 1];
        int k;
        for (k = PFX_jump_ptr[seg]; k < PFX_jump_ptr[seg + 1]; ++k) {
            const int j = PFX_jump_target[k];
            y[j] = PFX_jump_set[k] ? PFX_jump_value[k] : y[j] + PFX_jump_value[k];
        }
        t = PFX_boundaries[seg];
        h = 0.0;
        while (out < n_out && (t_out[out] < hi || final)) {
            rc = PFX_advance(p, seg, &t, y, t_out[out], &h, rtol, atol, &steps);
            if (rc) return rc;
            memcpy(y_out + (size_t)out * PFXU_NSTATE, y, sizeof y);
            ++out;
        }
        if (!final && out < n_out) {
            rc = PFX_advance(p, seg, &t, y, hi, &h, rtol, atol, &steps);
            if (rc) return rc;
        }
    }
    return 0;
}

#ifdef PFXU_MAIN
int main(int argc, char **argv)
{
    const int n = argc > 1 ? atoi(argv[1]) : 1001;
    const double t_end = argc > 2 ? strtod(argv[2], 0) : PFXU_T_END;
    const double rtol = argc > 3 ? strtod(argv[3], 0) : 1e-8;
    const double atol = argc > 4 ? strtod(argv[4], 0) : 1e-10;
    double *t_out, *y_out;
    int i, j, rc;
    if (n < 2) { fprintf(stderr, "n_points must be >= 2\n"); return 2; }
    t_out = malloc(sizeof(double) * n);
    y_out = malloc(sizeof(double) * n * PFXU_NSTATE);
    if (!t_out || !y_out) { fprintf(stderr, "out of memory\n"); return 2; }
    for (i = 0; i < n; ++i) t_out[i] = PFX_boundaries[0] + (t_end - PFX_boundaries[0]) * i / (n - 1);
    rc = PFX_simulate(PFX_default_params, PFX_initial_state, n, t_out, y_out, rtol, atol);
    if (rc) { fprintf(stderr, "integration failed (code %d)\n", rc); return 1; }
    printf("time");
    for (j = 0; j < PFXU_NSTATE; ++j) printf(",%s", PFX_state_names[j]);
    printf("\n");
    for (i = 0; i < n; ++i) {
        printf("%.17g", t_out[i]);
        for (j = 0; j < PFXU_NSTATE; ++j) printf(",%.17g", y_out[(size_t)i * PFXU_NSTATE + j]);
        printf("\n");
    }
    free(t_out); free(y_out);
    return 0;
}
#endif
"""
