"""C export: one self-contained C99 file (libc + libm) with the model, its protocol and nmdakin's own integrator.

The file is what :func:`kinetics.simulate` runs natively, written out with a driver. In order:

1. **Header** (``<PREFIX>_NSTATE``..., name arrays, default parameters in the
   scheme's units, initial state, input defaults, and the prototypes below) — the
   part to copy into a ``.h`` when embedding the model.
2. **Model block**: :func:`kinetics.codegen.c_source` verbatim — the same text the
   native path compiles (``NK_NSTATE``..., ``static nk_rhs``/``nk_jac``) — and the
   public ``<prefix>_rhs(t, y, p, u, dydt)``, ``<prefix>_jacobian(t, y, p, u, J)``
   (row-major, ``J[i*n + j] = d dydt_i / d y_j``) on top of it, and
   ``<prefix>_observables(t, y, p, u, obs)`` with readable local names.
3. **Protocol**: the compiled schedule (see :mod:`kinetics.protocol.schedule`) as the static
   arrays :class:`kinetics.native.SegmentArrays` passes to the native solver
   (``boundaries``, ``const``, ``term_ptr/term_input/term_data``,
   ``jump_ptr/jump_index/jump_kind/jump_value``) and ``<prefix>_inputs(seg, t, u)``.
4. **Integrator**: ``kinetics/native/integrator.c`` verbatim (DOPRI5 with stiffness
   detection switching to RODAS4, dense output, restarts at every breakpoint with the
   jumps applied there). Its global symbols get the prefix (``nk_solve`` is
   ``<prefix>_nk_solve``...), so several exported models link into one program.
5. **Driver**: ``<prefix>_simulate(p, y0, n_out, t_out, y_out, rtol, atol)`` (method
   ``<PREFIX>_METHOD``, default 0 = auto) and ``<prefix>_simulate_ex(..., method, rtol,
   atol[], max_steps, stats[16])``: return 0 or the integrator's negative status
   (``<prefix>_nk_status_message`` says what it means). Outputs past the protocol's
   end continue its last segment. Compiled with ``-D<PREFIX>_MAIN`` it is a program
   printing ``time`` and the states as CSV:
   ``./model [n_points [t_end [rtol [atol [auto|dopri5|rodas]]]]]``.

Identifiers that are C keywords, ``<math.h>`` functions, macros of the integrator or
names the generated code uses (``int``, ``exp``, ``y``...) are renamed with a trailing ``_``.

Examples
--------
>>> import kinetics as kx
>>> from kinetics.exporters import export
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> src = export(s, "c")
>>> "void decay_rhs(double t" in src and src.count("nk_rodas_segment(nk_ctx") == 1
True
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import sympy

from ..codegen import MATH_CONSTANTS, CPrinter, c_source
from ..errors import ArgumentError
from ..escape import c_comment as _comment
from ..escape import c_string as _cstr
from ..odesystem import derive
from ._common import (GENERATED_BY, all_names, export_schedule, fmt_float, parameter_model_values, renaming_note,
                      safe_names)

FORMAT = "c"
SUFFIX = ".c"
DESCRIPTION = "self-contained C99: RHS, Jacobian, protocol and nmdakin's DOPRI5/RODAS4 integrator (gcc)"

RESERVED = frozenset("""
auto break case char const continue default do double else enum extern float for goto if inline int long
register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
_Bool _Complex _Imaginary bool true false NULL main
exp exp2 expm1 log log2 log10 log1p pow sqrt cbrt fabs fmin fmax floor ceil fmod sin cos tan asin acos atan atan2
sinh cosh tanh asinh acosh atanh erf erfc tgamma lgamma hypot round trunc copysign nan isnan isinf isfinite
INFINITY NAN HUGE_VAL M_PI M_E DBL_MIN DBL_MAX DBL_EPSILON abs printf fprintf sprintf snprintf malloc free calloc
realloc memset memcpy strtod strcmp atoi atof exit stdout stderr
t y p u dydt J obs
""".split())

#: Global (linker) symbols of the integrator template, renamed ``<prefix>_<symbol>`` in an export.
_TEMPLATE_GLOBALS = ("nk_solve", "nk_status_message", "nk_dims", "nk_abi_version", "nk_n_observables",
                     "nk_observables", "nk_n_roots")


@lru_cache(maxsize=1)
def _template() -> str:
    """``kinetics/native/integrator.c``, read like :mod:`kinetics.native` reads it."""
    return resources.files("kinetics.native").joinpath("integrator.c").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _template_macros() -> frozenset:
    return frozenset(re.findall(r"^\s*#\s*define\s+([A-Za-z_]\w*)", _template(), re.M))


def _arr(values, fmt=fmt_float, per_line=6, empty="{0}"):
    items = [fmt(v) for v in values]
    if not items:
        return empty
    rows = [", ".join(items[k:k + per_line]) for k in range(0, len(items), per_line)]
    return "{\n    " + ",\n    ".join(rows) + "\n}"


def _int(v) -> str:
    return str(int(v))


def _own_identifiers(pfx: str, P: str) -> set:
    """Identifiers this exporter defines at file scope (besides the model block and the template)."""
    lower = ("state_names param_names input_names observable_names default_params initial_state input_defaults "
             "rhs jacobian observables inputs simulate simulate_ex boundaries const term_ptr term_input term_data "
             "jump_ptr jump_index jump_kind jump_value").split()
    upper = "NSTATE NPARAM NINPUT NOBS NSEG T_END METHOD MAIN".split()
    return ({f"{pfx}_{x}" for x in lower} | {f"{P}_{x}" for x in upper}
            | {f"{pfx}_{g}" for g in _TEMPLATE_GLOBALS})


def _prefix(scheme_name: str, prefix, block: str) -> tuple:
    """``(prefix, PREFIX)``: a C identifier whose symbols clash with nothing in the model block or template."""
    if prefix is not None:
        if not isinstance(prefix, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", prefix):
            raise ArgumentError(f"`prefix` must be a C identifier, got {prefix!r}")
        pfx = prefix
    else:
        pfx = re.sub(r"[^A-Za-z0-9_]+", "_", scheme_name).strip("_") or "model"
        if pfx[0].isdigit():
            pfx = "m_" + pfx
    taken = set(re.findall(r"[A-Za-z_]\w*", block + "\n" + _template()))
    while True:
        clash = sorted(_own_identifiers(pfx, pfx.upper()) & taken)
        if not clash:
            return pfx, pfx.upper()
        if prefix is not None:
            raise ArgumentError(f"`prefix` {prefix!r} would define `{clash[0]}`, an identifier the model block or "
                                f"the integrator already uses; choose another prefix")
        pfx += "_model"


def export(scheme, *, protocol=None, t_end=None, prefix: str | None = None) -> str:
    """C99 source of the model, its protocol (if given), nmdakin's integrator and a driver.

    Parameters
    ----------
    protocol, t_end : optional
        The protocol compiled into the file (on ``[0, t_end]``); ``t_end`` is
        also the driver's default end time (100 time units without it).
    prefix : str, optional
        Prefix of every global symbol (default: the scheme name made an identifier).
    """
    from ..native import SegmentArrays

    if getattr(scheme, "events", ()):
        from ..errors import SchemeError

        raise SchemeError(f"scheme `{scheme.name}` has events, which the standalone C export does not run yet "
                          "(its driver has no event handling); simulate it with kinetics.simulate")
    schedule = export_schedule(scheme, protocol, t_end)
    s = scheme
    system = derive(s)
    block = c_source(system)                 # exactly what kinetics.native compiles for this scheme
    pfx, P = _prefix(s.name, prefix, block)
    taken = _template_macros() | set(re.findall(r"^\s*#\s*define\s+([A-Za-z_]\w*)", block, re.M))
    names = safe_names(all_names(s), RESERVED | taken | _own_identifiers(pfx, P), "C")
    pr = CPrinter(names)
    ns, npar, nin, nobs = len(s.species), len(s.parameters), len(s.inputs), len(s.observables)
    pvals = parameter_model_values(s)
    t_default = t_end if t_end is not None else 100.0
    state_index = {n: i for i, n in enumerate(s.species_names)}
    if schedule is not None:
        seg = SegmentArrays.from_schedule(schedule, state_index)
    else:
        seg = SegmentArrays.single(0.0, float(t_default), [u.default for u in s.inputs])

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
    L.append(" * Integrator: nmdakin's native one (kinetics/native/integrator.c: DOPRI5 switching to RODAS4 on")
    L.append(" * stiffness), the code kinetics.simulate runs.")
    L.append(f" * Build: cc -O2 -std=c99 -D{P}_MAIN model.c -lm  ->  "
             "./a.out [n_points [t_end [rtol [atol [auto|dopri5|rodas]]]]] */")
    L += ["#include <math.h>", "#include <stdio.h>", "#include <stdlib.h>", "#include <string.h>",
          *MATH_CONSTANTS.splitlines(), "",
          "/* ======================= header ======================= */",
          f"#define {P}_NSTATE {ns}", f"#define {P}_NPARAM {npar}", f"#define {P}_NINPUT {nin}",
          f"#define {P}_NOBS {nobs}", f"#define {P}_NSEG {seg.n_segments}",
          f"#define {P}_T_END {fmt_float(t_default)}",
          f"#ifndef {P}_METHOD", f"#define {P}_METHOD 0   /* 0 auto, 1 dopri5, 2 rodas */", "#endif",
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
          "                 double rtol, double atol);",
          f"int {pfx}_simulate_ex(const double *p, const double *y0, int n_out, const double *t_out, double *y_out,",
          "                    int method, double rtol, const double *atol, long max_steps, double *stats);",
          f"const char *{pfx}_nk_status_message(int status);", "",
          "/* ======================= model block (kinetics.codegen.c_source) ======================= */",
          block.rstrip(), "",
          f"void {pfx}_rhs(double t, const double *y, const double *p, const double *u, double *dydt)",
          "{", "    nk_rhs(t, y, p, u, dydt);", "}", "",
          f"void {pfx}_jacobian(double t, const double *y, const double *p, const double *u, double *J)",
          "{", "    nk_jac(t, y, p, u, J);", "}", "",
          f"void {pfx}_observables(double t, const double *y, const double *p, const double *u, double *obs)", "{",
          "    (void)t; (void)y; (void)p; (void)u; (void)obs;"]
    L += locals_for([sympy.Symbol(n) for n in s.observable_names])
    for k, n in enumerate(s.observable_names):
        L.append(f"    obs[{k}] = {names[n]};")
    L += ["}", ""]

    # protocol tables: the arrays kinetics.native passes to nk_solve
    L.append("/* ======================= protocol ======================= */")
    L.append(f"/* {seg.n_segments} segments on [{fmt_float(seg.t0)}, {fmt_float(seg.t_end)}]; inside segment s input i "
             "is const[s][i] + sum of its terms")
    L.append(" * (p + q*(t - t_ref))*exp(-rate*(t - t_ref)) (term_data rows: t_ref, rate, p, q); jumps (kind 0 add,")
    L.append(" * 1 set) act at segment starts. */")
    L += [f"static const double {pfx}_boundaries[] = {_arr(seg.boundaries)};",
          f"static const double {pfx}_const[] = {_arr(seg.const.ravel())};",
          f"static const int {pfx}_term_ptr[] = {_arr(seg.term_ptr, _int, 12)};",
          f"static const int {pfx}_term_input[] = {_arr(seg.term_input, _int, 12)};",
          f"static const double {pfx}_term_data[] = {_arr(seg.term_data.ravel(), fmt_float, 4, '{0, 0, 0, 0}')};",
          f"static const int {pfx}_jump_ptr[] = {_arr(seg.jump_ptr, _int, 12)};",
          f"static const int {pfx}_jump_index[] = {_arr(seg.jump_index, _int, 12)};",
          f"static const int {pfx}_jump_kind[] = {_arr(seg.jump_kind, _int, 12)};",
          f"static const double {pfx}_jump_value[] = {_arr(seg.jump_value)};", ""]

    L.append("/* ======================= integrator (kinetics/native/integrator.c) ======================= */")
    L += [f"#define {g} {pfx}_{g}" for g in _TEMPLATE_GLOBALS]
    L += [_template().rstrip(), ""]
    L += [_DRIVER.replace("PFX_", f"{pfx}_").replace("PFXU_", f"{P}_")]
    return "\n".join(L) + "\n"


_DRIVER = r"""/* ======================= driver ======================= */
void PFX_inputs(int seg, double t, double *u)
{
    int i, k;
    for (i = 0; i < PFXU_NINPUT; ++i) u[i] = PFX_const[seg * PFXU_NINPUT + i];
    for (k = PFX_term_ptr[seg]; k < PFX_term_ptr[seg + 1]; ++k) {
        const double *d = PFX_term_data + 4 * k;   /* t_ref, rate, p, q */
        const double dt = t - d[0];
        u[PFX_term_input[k]] += (d[2] + d[3] * dt) * exp(-d[1] * dt);
    }
}

/* Simulate the compiled protocol with parameters p (scheme units) from the initial state y0 (at the protocol's
 * start, before its first jumps); store the state at each of the n_out sorted times t_out in y_out (row-major,
 * n_out x NSTATE). An output at a breakpoint sees the new segment (after its jumps); outputs past the protocol's
 * end continue its last segment. method: 0 auto, 1 dopri5, 2 rodas; atol: one value per state; max_steps <= 0:
 * the integrator's default; stats (may be NULL): 16 doubles, see nk_solve. Returns 0 or nk_solve's status. */
int PFX_simulate_ex(const double *p, const double *y0, int n_out, const double *t_out, double *y_out,
                    int method, double rtol, const double *atol, long max_steps, double *stats)
{
    double b[PFXU_NSEG + 1], y[PFXU_NSTATE];
    int n_seg = PFXU_NSEG;
    if (n_out < 1 || t_out == NULL || y0 == NULL || y_out == NULL) return NK_ERR_BAD_ARGS;
    memcpy(b, PFX_boundaries, sizeof b);
    memcpy(y, y0, sizeof y);
    if (t_out[n_out - 1] > b[PFXU_NSEG])
        b[PFXU_NSEG] = t_out[n_out - 1];          /* the last segment goes on */
    else                                            /* stop after the segment holding the last output */
        while (n_seg > 1 && b[n_seg - 1] > t_out[n_out - 1]) --n_seg;
    return nk_solve(p, y, n_seg, b, PFX_const, PFX_term_ptr, PFX_term_input, PFX_term_data,
                    PFX_jump_ptr, PFX_jump_index, PFX_jump_kind, PFX_jump_value,
                    n_out, t_out, y_out, method, rtol, atol, 0.0, 0.0, max_steps, stats, NULL, NULL);
}

/* PFX_simulate_ex with method PFXU_METHOD and one atol for every state. */
int PFX_simulate(const double *p, const double *y0, int n_out, const double *t_out, double *y_out,
                 double rtol, double atol)
{
    double a[PFXU_NSTATE];
    int i;
    for (i = 0; i < PFXU_NSTATE; ++i) a[i] = atol;
    return PFX_simulate_ex(p, y0, n_out, t_out, y_out, PFXU_METHOD, rtol, a, 0, NULL);
}

#ifdef PFXU_MAIN
int main(int argc, char **argv)
{
    const int n = argc > 1 ? atoi(argv[1]) : 1001;
    const double t_end = argc > 2 ? strtod(argv[2], 0) : PFXU_T_END;
    const double rtol = argc > 3 ? strtod(argv[3], 0) : 1e-8;
    const double atol = argc > 4 ? strtod(argv[4], 0) : 1e-10;
    int method = PFXU_METHOD;
    double a[PFXU_NSTATE];
    double *t_out, *y_out;
    int i, j, rc;
    if (argc > 5) {
        if (!strcmp(argv[5], "auto")) method = 0;
        else if (!strcmp(argv[5], "dopri5")) method = 1;
        else if (!strcmp(argv[5], "rodas")) method = 2;
        else { fprintf(stderr, "method must be auto, dopri5 or rodas\n"); return 2; }
    }
    if (n < 2) { fprintf(stderr, "n_points must be >= 2\n"); return 2; }
    t_out = malloc(sizeof(double) * n);
    y_out = malloc(sizeof(double) * n * PFXU_NSTATE);
    if (!t_out || !y_out) { fprintf(stderr, "out of memory\n"); return 2; }
    for (i = 0; i < n; ++i) t_out[i] = PFX_boundaries[0] + (t_end - PFX_boundaries[0]) * i / (n - 1);
    for (j = 0; j < PFXU_NSTATE; ++j) a[j] = atol;
    rc = PFX_simulate_ex(PFX_default_params, PFX_initial_state, n, t_out, y_out, method, rtol, a, 0, NULL);
    if (rc) {
        fprintf(stderr, "integration failed (code %d): %s\n", rc, PFX_nk_status_message(rc));
        return 1;
    }
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
