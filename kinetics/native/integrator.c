/* ==========================================================================
 * nmdakin native integrator template (C99, libc + libm only).
 *
 * This file is appended to a generated model block that provides
 *
 *     #define NK_NSTATE  n      number of states
 *     #define NK_NPARAM  m      number of parameters
 *     #define NK_NINPUT  k      number of inputs (may be 0)
 *     static void nk_rhs(double t, const double *y, const double *p,
 *                        const double *u, double *f);
 *     static void nk_jac(double t, const double *y, const double *p,
 *                        const double *u, double *J);   J[i*n+j] = df_i/dy_j
 *
 * and optionally
 *
 *     #define NK_AUTONOMOUS 1   nk_rhs does not use `t` except through `u`;
 *                               then df/dt is taken as 0 inside segments
 *                               whose inputs are constant (no input terms).
 *     #define NK_NOBS q         number of observables (>= 0), and if q > 0
 *     static void nk_obs(double t, const double *y, const double *p,
 *                        const double *u, double *o);   o[0..q-1]
 *                               (without them, or with NK_NOBS -1, the
 *                               library has no observables)
 *     #define NK_NROOT r        number of event root functions (>= 0), and
 *                               if r > 0
 *     static void nk_roots(double t, const double *y, const double *p,
 *                          const double *u, double *g);   g[0..r-1]
 *     static const int nk_root_strict[r];
 *                               atom i is true when g_i > 0 (strict 1) or
 *                               g_i >= 0 (strict 0).  After every accepted
 *                               step the atoms are evaluated at NK_ROOT_SAMPLES
 *                               points of the step's dense output; when one
 *                               changes its truth value the earliest change is
 *                               located by bisection on the dense output and
 *                               nk_solve returns NK_EVENT with the state at the
 *                               first time t* where the new value holds
 *                               (t_fail = t*, g(t*) in root_g).  A change of
 *                               truth across a segment boundary (an input or
 *                               jump) also returns NK_EVENT, at the boundary.
 *                               Without NK_NROOT (or 0) nothing is checked.
 *
 * It exports `nk_solve` (the whole integration of a piecewise-smooth
 * schedule), `nk_observables` (observables at many points),
 * `nk_n_observables`, `nk_status_message`, `nk_dims` and `nk_abi_version`.
 *
 * Methods
 *   dopri5  Dormand & Prince 5(4) explicit Runge-Kutta pair with FSAL, a PI
 *           step-size controller, Hairer's initial step heuristic, the 4th
 *           order continuous extension of Dormand & Prince (Shampine) and
 *           Hairer's stiffness detection (threshold: see NK_STIFF_HLAMBDA).
 *           Coefficients: J. R. Dormand, P. J. Prince, J. Comp. Appl. Math.
 *           6 (1980) 19-26; initial step, dense output, PI control and
 *           stiffness detection as described in Hairer, Norsett & Wanner,
 *           "Solving ODEs I" (Sec. II.4, II.6) and Hairer & Wanner,
 *           "Solving ODEs II" (Sec. IV.2).
 *   rodas   RODAS4: 6-stage, order 4(3), stiffly accurate, L-stable
 *           Rosenbrock method with 3rd-order dense output.  Coefficients:
 *           Hairer & Wanner, "Solving ODEs II", Sec. VI.4, in the
 *           transformed form (gamma = 1/4) published with their RODAS code
 *           (METH = 1).  Measured orders (fixed steps, van der Pol mu = 1):
 *           ~4 for the solution, errors ~h^4 for the 3rd-order dense output.
 *           The analytic Jacobian `nk_jac` is used; df/dt by a forward
 *           (backward at the segment end) difference in t.
 *   auto    dopri5 at the start of every segment, switching to rodas for
 *           the rest of the segment once the stiffness detector fires.
 *
 * Thread safety: there is no mutable static state.  Every call allocates its
 * own work arrays (one malloc each for doubles and pivots) and frees them on
 * every return path.
 * ========================================================================== */

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>

#ifndef NK_NSTATE
#error "NK_NSTATE must be defined by the model block before the integrator template"
#endif
#ifndef NK_NPARAM
#error "NK_NPARAM must be defined by the model block before the integrator template"
#endif
#ifndef NK_NINPUT
#define NK_NINPUT 0
#endif
#ifndef NK_AUTONOMOUS
#define NK_AUTONOMOUS 0
#endif

/* Size of the input buffer: never zero, so it is always a valid array. */
#if NK_NINPUT > 0
#define NK_NU NK_NINPUT
#else
#define NK_NU 1
#endif

#define NK_N NK_NSTATE

/* Block lower-triangular systems (forward sensitivities, kinetics/fitting/sensitivity.py): NK_NBLOCK divides
 * NK_N, the Jacobian's diagonal blocks all equal its leading NK_NBLOCK x NK_NBLOCK block J00, and its other
 * non-zero blocks lie in the first block column.  nk_jac then fills only that column; W = I/(gamma h) - J is
 * factorised through its leading block (O(NK_NBLOCK^3) instead of O(NK_N^3)) and solved by block forward
 * substitution.  Plain systems: NK_NBLOCK = NK_N, the dense LU. */
#ifndef NK_NBLOCK
#define NK_NBLOCK NK_N
#endif
#if NK_N % NK_NBLOCK != 0
#error "NK_NBLOCK must divide NK_NSTATE"
#endif

/* Sparse models: the generated code (kinetics/codegen.py, sparse_lu_plan) defines NK_SPARSE with nk_sp_lu /
 * nk_sp_solve, a straight-line LU of W = I/(gamma h) - J over the Jacobian's non-zero pattern in a fill-reducing
 * order (minimum degree), without pivoting; nk_jac then writes only the pattern, into a Jacobian buffer zeroed
 * once per call.  A step whose sparse factorisation meets a zero, non-finite pivot or a multiplier above the
 * growth bound is factorised by the dense LU with partial pivoting instead. */
#if defined(NK_SPARSE) && NK_NBLOCK == NK_N
#define NK_USE_SPARSE 1
#endif

#if defined(_WIN32)
#define NK_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define NK_EXPORT __attribute__((visibility("default")))
#else
#define NK_EXPORT
#endif

#define NK_ABI_VERSION 3

/* Status codes returned by nk_solve. */
#define NK_OK 0
#define NK_ERR_STEP_TOO_SMALL (-1)
#define NK_ERR_MAX_STEPS (-2)
#define NK_ERR_NONFINITE (-3)
#define NK_ERR_SINGULAR (-4)
#define NK_ERR_BAD_ARGS (-5)
#define NK_ERR_NO_MEMORY (-6)
/* Internal: dopri5 detected stiffness and hands the segment over to rodas. */
#define NK_SWITCH_TO_RODAS 1
/* A root function changed its truth value: the integration stopped at t* (see NK_NROOT). */
#define NK_EVENT 2

#ifndef NK_NROOT
#define NK_NROOT 0
#endif
#if NK_NROOT > 0
#define NK_NR NK_NROOT
#else
#define NK_NR 1
#endif
/* Points of each accepted step's dense output where the atoms are evaluated (the step end included): a
 * trigger that turns on and off again inside one step is found if it holds at one of them. */
#ifndef NK_ROOT_SAMPLES
#define NK_ROOT_SAMPLES 4
#endif

#define NK_METHOD_AUTO 0
#define NK_METHOD_DOPRI5 1
#define NK_METHOD_RODAS 2

#define NK_DEFAULT_MAX_STEPS 10000000L

/* Stiffness detection (auto): a step is "stiff" when the estimated h*|lambda|
 * exceeds NK_STIFF_HLAMBDA; NK_STIFF_COUNT stiff steps without NK_NONSTIFF_RESET
 * consecutive non-stiff ones in between trigger the switch to rodas.
 * Hairer's DOPRI5 uses 3.25 (the stability boundary is ~3.3).  We use 2.0:
 * at tight tolerances (rtol <= 1e-8) the steps on a stiff problem are limited
 * by the error of the stiff mode at h*lambda ~ 2.4 rather than by stability, so
 * 3.25 fires only after thousands of steps (Robertson, rtol 1e-8: 3991 dopri5
 * steps before switching vs. 78 with 2.0).  On non-stiff test problems (van der
 * Pol mu = 1, 10; linear A<->B<->C) with rtol 1e-3..1e-10 neither value
 * triggered a switch. */
#ifndef NK_STIFF_HLAMBDA
#define NK_STIFF_HLAMBDA 2.0
#endif
#ifndef NK_STIFF_COUNT
#define NK_STIFF_COUNT 15
#endif
#ifndef NK_NONSTIFF_RESET
#define NK_NONSTIFF_RESET 6
#endif
/* Consecutive non-finite error estimates tolerated (each retried with h/4). */
#define NK_MAX_NONFINITE_RETRIES 12
/* Consecutive singular iteration matrices tolerated (each retried with h/2). */
#define NK_MAX_SINGULAR_RETRIES 8

/* --------------------------------------------------------------------------
 * Dormand-Prince 5(4) coefficients (DP 1980).  c_i, a_ij; the 5th-order
 * weights b_i equal row 7 of A (FSAL).  e_i = b_i - bhat_i (error weights);
 * d_i: coefficients of the 4th-order continuous extension in Hairer's
 * DOPRI5 form  y(t+th*h) = r1 + th*(r2 + (1-th)*(r3 + th*(r4 + (1-th)*r5))).
 * -------------------------------------------------------------------------- */
static const double DP_C2 = 1.0 / 5.0, DP_C3 = 3.0 / 10.0, DP_C4 = 4.0 / 5.0,
                    DP_C5 = 8.0 / 9.0;
static const double DP_A21 = 1.0 / 5.0;
static const double DP_A31 = 3.0 / 40.0, DP_A32 = 9.0 / 40.0;
static const double DP_A41 = 44.0 / 45.0, DP_A42 = -56.0 / 15.0, DP_A43 = 32.0 / 9.0;
static const double DP_A51 = 19372.0 / 6561.0, DP_A52 = -25360.0 / 2187.0,
                    DP_A53 = 64448.0 / 6561.0, DP_A54 = -212.0 / 729.0;
static const double DP_A61 = 9017.0 / 3168.0, DP_A62 = -355.0 / 33.0,
                    DP_A63 = 46732.0 / 5247.0, DP_A64 = 49.0 / 176.0,
                    DP_A65 = -5103.0 / 18656.0;
static const double DP_A71 = 35.0 / 384.0, DP_A73 = 500.0 / 1113.0,
                    DP_A74 = 125.0 / 192.0, DP_A75 = -2187.0 / 6784.0,
                    DP_A76 = 11.0 / 84.0;
static const double DP_E1 = 71.0 / 57600.0, DP_E3 = -71.0 / 16695.0,
                    DP_E4 = 71.0 / 1920.0, DP_E5 = -17253.0 / 339200.0,
                    DP_E6 = 22.0 / 525.0, DP_E7 = -1.0 / 40.0;
static const double DP_D1 = -12715105075.0 / 11282082432.0,
                    DP_D3 = 87487479700.0 / 32700410799.0,
                    DP_D4 = -10690763975.0 / 1880347072.0,
                    DP_D5 = 701980252875.0 / 199316789632.0,
                    DP_D6 = -1453857185.0 / 822651844.0,
                    DP_D7 = 69997945.0 / 29380423.0;

/* --------------------------------------------------------------------------
 * RODAS4 coefficients (Hairer & Wanner II, Sec. VI.4, transformed form).
 *
 * With W = I/(gamma*h) - J, stage i solves
 *     W k_i = f(t + c_i h, y + sum_j a_ij k_j) + h*d_i*f_t + (sum_j c_ij k_j)/h
 * Stages 5 and 6 are evaluated at t + h (stiffly accurate construction):
 * Y5 = y + sum_j a5j kj, Y6 = Y5 + k5 is the embedded 3rd-order solution,
 * y_new = Y6 + k6 the 4th-order one, so k6 is the local error estimate.
 * Dense output: y(t+th*h) = (1-th)*y + th*(y_new + (1-th)*(q1 + th*q2)),
 *     q1 = sum_j DN1_j k_j, q2 = sum_j DN2_j k_j   (j = 1..5).
 * -------------------------------------------------------------------------- */
static const double RO_GAMMA = 0.25;
static const double RO_C2 = 0.386, RO_C3 = 0.21, RO_C4 = 0.63;
static const double RO_D1 = 0.25, RO_D2 = -0.1043, RO_D3 = 0.1035,
                    RO_D4 = -0.3620000000000023e-01;
static const double RO_A21 = 1.544;
static const double RO_A31 = 0.9466785280815826, RO_A32 = 0.2557011698983284;
static const double RO_A41 = 3.314825187068521, RO_A42 = 2.896124015972201,
                    RO_A43 = 0.9986419139977817;
static const double RO_A51 = 1.221224509226641, RO_A52 = 6.019134481288629,
                    RO_A53 = 12.53708332932087, RO_A54 = -0.6878860361058950;
static const double RO_C21 = -5.6688;
static const double RO_C31 = -2.430093356833875, RO_C32 = -0.2063599157091915;
static const double RO_C41 = -0.1073529058151375, RO_C42 = -9.594562251023355,
                    RO_C43 = -20.47028614809616;
static const double RO_C51 = 7.496443313967647, RO_C52 = -10.24680431464352,
                    RO_C53 = -33.99990352819905, RO_C54 = 11.70890893206160;
static const double RO_C61 = 8.083246795921522, RO_C62 = -7.981132988064893,
                    RO_C63 = -31.52159432874371, RO_C64 = 16.31930543123136,
                    RO_C65 = -6.058818238834054;
static const double RO_DN11 = 10.12623508344586, RO_DN12 = -7.487995877610167,
                    RO_DN13 = -34.80091861555747, RO_DN14 = -7.992771707568823,
                    RO_DN15 = 1.025137723295662;
static const double RO_DN21 = -0.6762803392801253, RO_DN22 = 6.087714651680015,
                    RO_DN23 = 16.43084320892478, RO_DN24 = 24.76722511418386,
                    RO_DN25 = -6.594389125716872;

/* --------------------------------------------------------------------------
 * Call context: everything one nk_solve call needs, on the caller's stack.
 * -------------------------------------------------------------------------- */
typedef struct {
    /* model parameters and the input description of the current segment */
    const double *p;
    const double *uconst;      /* [NK_NINPUT] constant part, or NULL */
    int term_lo, term_hi;      /* terms of the segment: [term_lo, term_hi) */
    const int *term_input;
    const double *term_data;   /* [n_terms*4]: t_ref, rate, p, q */
    double u[NK_NU];           /* input values at the last evaluation time */
    double t0, tend;           /* current segment [t0, tend] */
    int time_dependent;        /* 0: df/dt == 0 in this segment */

    /* tolerances and step controls */
    double rtol;
    const double *atol;
    double h0, hmax;

    /* step budget (attempted steps, accepted + rejected, whole call) */
    long max_steps, nstep;

    /* statistics */
    double nacc, nrej, nfev, njev, nlu, nswitch, nrodas;

    /* output requests */
    int n_out, io;
    const double *t_out;
    double *y_out;

    /* work memory */
    double *w;
    int *piv;
    double *jac;               /* NK_USE_SPARSE: the Jacobian, zeroed once (nk_jac writes its pattern only) */

    /* time reached (for failures) */
    double t_fail;

    /* event roots: truth of each atom at the current step start; g at t* */
    int rt[NK_NR], rtmp[NK_NR];
    double rg[NK_NR];
    double *yr;                /* [NK_N] scratch state for the root search */
    double t_event;
} nk_ctx;

/* Input values u(t) of the current segment (see kinetics/schedule.py). */
static void nk_eval_inputs(nk_ctx *c, double t)
{
#if NK_NINPUT > 0
    int i, k;
    for (i = 0; i < NK_NINPUT; i++) c->u[i] = c->uconst[i];
    for (k = c->term_lo; k < c->term_hi; k++) {
        const double *d = c->term_data + 4 * (size_t)k;
        double dt = t - d[0];
        double v = d[2] + d[3] * dt;
        if (d[1] != 0.0) v *= exp(-d[1] * dt);
        c->u[c->term_input[k]] += v;
    }
#else
    (void)t;
    c->u[0] = 0.0;
#endif
}

/* Right-hand side.  The steppers never ask for a time past the segment end
 * (stages at c_i = 1 use the exact end time, the initial-step probe and the
 * df/dt difference are kept inside); the clamp is a last line of defence that
 * the tests switch off (NK_CLAMP_TIME 0) to check exactly that. */
#ifndef NK_CLAMP_TIME
#define NK_CLAMP_TIME 1
#endif
static void nk_f(nk_ctx *c, double t, const double *y, double *f)
{
#if NK_CLAMP_TIME
    if (t > c->tend) t = c->tend;
#endif
    nk_eval_inputs(c, t);
    nk_rhs(t, y, c->p, c->u, f);
    c->nfev += 1.0;
}

static void nk_J(nk_ctx *c, double t, const double *y, double *J)
{
    nk_eval_inputs(c, t);   /* always at a step start, t < tend */
    nk_jac(t, y, c->p, c->u, J);
    c->njev += 1.0;
}

static int nk_all_finite(const double *v, int n)
{
    int i;
    for (i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

/* The entries of J that nk_jac fills (the first block column for block systems) are finite. */
static int nk_jac_finite(const double *J)
{
#if defined(NK_USE_SPARSE)
    int s;
    for (s = 0; s < NK_SP_NNZ; s++)
        if (!isfinite(J[nk_sp_index[s]])) return 0;
    return 1;
#elif NK_NBLOCK < NK_N
    int i;
    for (i = 0; i < NK_N; i++)
        if (!nk_all_finite(J + (size_t)i * NK_N, NK_NBLOCK)) return 0;
    return 1;
#else
    return nk_all_finite(J, NK_N * NK_N);
#endif
}

/* Weighted RMS norm of e with scale atol_i + rtol*max(|ya_i|, |yb_i|). */
static double nk_err_norm(const nk_ctx *c, const double *e, const double *ya,
                          const double *yb)
{
    double s = 0.0;
    int i;
    for (i = 0; i < NK_N; i++) {
        double a = fabs(ya[i]), b = fabs(yb[i]);
        double sk = c->atol[i] + c->rtol * (a > b ? a : b);
        double r;
        if (sk < DBL_MIN) sk = DBL_MIN;
        r = e[i] / sk;
        s += r * r;
    }
    return sqrt(s / NK_N);
}

/* Write y to the current output row and advance. */
static void nk_emit(nk_ctx *c, const double *y)
{
    memcpy(c->y_out + (size_t)c->io * NK_N, y, sizeof(double) * NK_N);
    c->io++;
}

#if NK_NROOT > 0
/* Dense output of the accepted step [t, t + h]: kind 0 dopri5 (Hairer's form, a = r3, b = r4, cc = r5),
 * kind 1 rodas (a = q1, b = q2). The same expressions as the output loops of the steppers. */
typedef struct {
    int kind;
    double t, h;
    const double *y, *yn, *a, *b, *cc;
} nk_dense;

static void nk_dense_eval(const nk_dense *d, double tt, double *out)
{
    int i;
    double th = (tt - d->t) / d->h, th1 = 1.0 - th;
    if (d->kind == 0) {
        for (i = 0; i < NK_N; i++)
            out[i] = d->y[i] + th * ((d->yn[i] - d->y[i]) +
                     th1 * (d->a[i] + th * (d->b[i] + th1 * d->cc[i])));
    } else {
        for (i = 0; i < NK_N; i++)
            out[i] = th1 * d->y[i] + th * (d->yn[i] + th1 * (d->a[i] + th * d->b[i]));
    }
}

/* Truth of every atom at (t, y) into tr; g values into c->rg. */
static void nk_root_truth(nk_ctx *c, double t, const double *y, int *tr)
{
    int i;
    nk_eval_inputs(c, t);
    nk_roots(t, y, c->p, c->u, c->rg);
    for (i = 0; i < NK_NROOT; i++)
        tr[i] = nk_root_strict[i] ? (c->rg[i] > 0.0) : (c->rg[i] >= 0.0);
}

static int nk_root_changed(const nk_ctx *c)
{
    int i;
    for (i = 0; i < NK_NROOT; i++)
        if (c->rtmp[i] != c->rt[i]) return 1;
    return 0;
}

/* After an accepted step of dense output d ending at tn with state yn: 0 if no atom changed its truth value
 * (c->rt is updated to tn), else 1 with *te the first time (to a few ulps, by bisection on the dense
 * output) where an atom differs from its value at the step start, the state there in c->yr and g in c->rg. */
static int nk_root_search(nk_ctx *c, const nk_dense *d, double tn, const double *yn, double *te)
{
    double lo = d->t, hi = tn;
    int k, found = 0;
    for (k = 1; k <= NK_ROOT_SAMPLES; k++) {
        double ts = (k == NK_ROOT_SAMPLES) ? tn : d->t + d->h * ((double)k / NK_ROOT_SAMPLES);
        if (k == NK_ROOT_SAMPLES) memcpy(c->yr, yn, sizeof(double) * NK_N);
        else nk_dense_eval(d, ts, c->yr);
        nk_root_truth(c, ts, c->yr, c->rtmp);
        if (nk_root_changed(c)) { hi = ts; found = 1; break; }
        lo = ts;
    }
    if (!found) {
        memcpy(c->rt, c->rtmp, sizeof(int) * NK_NROOT);
        return 0;
    }
    /* to the resolution of t: the first double where the new value holds (t >= 5 is found at 5 exactly) */
    for (k = 0; k < 200; k++) {
        double mid = lo + 0.5 * (hi - lo);
        if (!(mid > lo && mid < hi)) break;
        nk_dense_eval(d, mid, c->yr);
        nk_root_truth(c, mid, c->yr, c->rtmp);
        if (nk_root_changed(c)) hi = mid; else lo = mid;
    }
    if (hi == tn) memcpy(c->yr, yn, sizeof(double) * NK_N);
    else nk_dense_eval(d, hi, c->yr);
    nk_root_truth(c, hi, c->yr, c->rtmp);
    *te = hi;
    return 1;
}

/* Outputs before te from the dense output, then y <- the state at te. */
static void nk_root_stop(nk_ctx *c, const nk_dense *d, double te, double *y)
{
    while (c->io < c->n_out && c->t_out[c->io] < te) {
        nk_dense_eval(d, c->t_out[c->io], c->y_out + (size_t)c->io * NK_N);
        c->io++;
    }
    memcpy(y, c->yr, sizeof(double) * NK_N);
    c->t_event = te;
}
#endif

/* Smallest step allowed at time t: below ~16 ulps of t the time no longer
 * advances reliably (Hairer's codes use the same kind of bound). */
static double nk_hmin(double t)
{
    double m = fabs(t);
    return m > 0.0 ? 16.0 * DBL_EPSILON * m : 1e-300;
}

/* Resolution of the time axis near the end of the segment: a remainder below
 * it is not integrated but closed with nk_finish_tiny. */
static double nk_tres(const nk_ctx *c, double t)
{
    return nk_hmin(fabs(t) > fabs(c->tend) ? t : c->tend);
}

/* Initial step size (Hairer, Norsett & Wanner I, Sec. II.4): balance an
 * explicit Euler step against the estimated second derivative.  f0 = f(t, y);
 * y1 and f1 are scratch.  The probe point t+h never passes the segment end. */
static double nk_hinit(nk_ctx *c, double t, const double *y, const double *f0,
                       int order, double hmax, double *y1, double *f1)
{
    double dnf = 0.0, dny = 0.0, der2 = 0.0, der12, h, h1, sk;
    int i;
    for (i = 0; i < NK_N; i++) {
        sk = c->atol[i] + c->rtol * fabs(y[i]);
        if (sk < DBL_MIN) sk = DBL_MIN;
        dnf += (f0[i] / sk) * (f0[i] / sk);
        dny += (y[i] / sk) * (y[i] / sk);
    }
    dnf /= NK_N;
    dny /= NK_N;
    if (dnf <= 1e-10 || dny <= 1e-10)
        h = 1e-6;
    else
        h = 0.01 * sqrt(dny / dnf);
    if (h > hmax) h = hmax;
    for (i = 0; i < NK_N; i++) y1[i] = y[i] + h * f0[i];
    nk_f(c, (t + h < c->tend) ? t + h : c->tend, y1, f1);
    for (i = 0; i < NK_N; i++) {
        double d;
        sk = c->atol[i] + c->rtol * fabs(y[i]);
        if (sk < DBL_MIN) sk = DBL_MIN;
        d = (f1[i] - f0[i]) / sk;
        der2 += d * d;
    }
    der2 = sqrt(der2 / NK_N) / h;
    der12 = sqrt(dnf);
    if (der2 > der12) der12 = der2;
    if (!isfinite(der12)) der12 = 1e300;
    if (der12 <= 1e-15) {
        h1 = h * 1e-3;
        if (h1 < 1e-6) h1 = 1e-6;
    } else {
        h1 = pow(0.01 / der12, 1.0 / order);
    }
    h = (100.0 * h < h1) ? 100.0 * h : h1;
    /* The heuristic only scales with the data; a start far below the time
     * resolution would fail before the controller could enlarge it. */
    if (h < 100.0 * nk_hmin(t)) h = 100.0 * nk_hmin(t);
    if (h > hmax) h = hmax;
    return h;
}

/* --------------------------------------------------------------------------
 * Dense LU with partial pivoting of the leading NK_NBLOCK x NK_NBLOCK block of
 * the row-major NK_N x NK_N matrix A (in place; the whole matrix for plain
 * systems).  Returns 0, or 1 if a pivot is exactly zero or non-finite.
 * -------------------------------------------------------------------------- */
static int nk_lu(double *A, int *piv)
{
    int i, j, k;
    for (k = 0; k < NK_NBLOCK; k++) {
        int p = k;
        double amax = fabs(A[k * NK_N + k]), inv;
        for (i = k + 1; i < NK_NBLOCK; i++) {
            double a = fabs(A[i * NK_N + k]);
            if (a > amax) { amax = a; p = i; }
        }
        piv[k] = p;
        if (!(amax > 0.0) || !isfinite(amax)) return 1;
        if (p != k) {
            for (j = 0; j < NK_NBLOCK; j++) {
                double tmp = A[k * NK_N + j];
                A[k * NK_N + j] = A[p * NK_N + j];
                A[p * NK_N + j] = tmp;
            }
        }
        inv = 1.0 / A[k * NK_N + k];
        for (i = k + 1; i < NK_NBLOCK; i++) {
            double l = A[i * NK_N + k] * inv;
            A[i * NK_N + k] = l;
            if (l != 0.0)
                for (j = k + 1; j < NK_NBLOCK; j++) A[i * NK_N + j] -= l * A[k * NK_N + j];
        }
    }
    return 0;
}

/* Solve (LU) x = b in place for the leading block (NK_NBLOCK entries of b). */
static void nk_lu_solve_block(const double *LU, const int *piv, double *b)
{
    int i, j;
    for (i = 0; i < NK_NBLOCK; i++) {     /* apply row interchanges */
        int p = piv[i];
        if (p != i) { double tmp = b[i]; b[i] = b[p]; b[p] = tmp; }
    }
    for (i = 1; i < NK_NBLOCK; i++) {     /* forward: unit lower L */
        double s = b[i];
        for (j = 0; j < i; j++) s -= LU[i * NK_N + j] * b[j];
        b[i] = s;
    }
    for (i = NK_NBLOCK - 1; i >= 0; i--) {    /* backward: U */
        double s = b[i];
        for (j = i + 1; j < NK_NBLOCK; j++) s -= LU[i * NK_N + j] * b[j];
        b[i] = s / LU[i * NK_N + i];
    }
}

/* Solve W x = b in place with W factorised by nk_lu: the leading block, then,
 * for a block lower-triangular W, each further block from
 * W00 x_j = b_j - W_j0 x_0 (W_j0 is untouched by nk_lu). */
static void nk_lu_solve(const double *LU, const int *piv, double *b)
{
    nk_lu_solve_block(LU, piv, b);
#if NK_NBLOCK < NK_N
    {
        int blk, i, j;
        for (blk = 1; blk < NK_N / NK_NBLOCK; blk++) {
            double *bj = b + (size_t)blk * NK_NBLOCK;
            for (i = 0; i < NK_NBLOCK; i++) {
                const double *row = LU + ((size_t)blk * NK_NBLOCK + i) * NK_N;
                double s = bj[i];
                for (j = 0; j < NK_NBLOCK; j++) s -= row[j] * b[j];
                bj[i] = s;
            }
            nk_lu_solve_block(LU, piv, bj);
        }
    }
#endif
}

/* Solve W x = b with the factorisation of this step: the sparse one (sparse != 0) or the dense LU. */
static void nk_w_solve(const double *W, const int *piv, int sparse, double *b)
{
#if defined(NK_USE_SPARSE)
    if (sparse) { nk_sp_solve(W, b); return; }
#else
    (void)sparse;
#endif
    nk_lu_solve(W, piv, b);
}

/* The remaining interval is below the resolution of t: finish it with one
 * explicit Euler update (the change is at rounding level) so that a segment
 * always ends exactly at its boundary.  f = f(t, y). */
static void nk_finish_tiny(nk_ctx *c, double t, double *y, const double *f)
{
    int i;
    double dt = c->tend - t;
    for (i = 0; i < NK_N; i++) y[i] += dt * f[i];
    while (c->io < c->n_out && c->t_out[c->io] < c->tend) nk_emit(c, y);
}

/* --------------------------------------------------------------------------
 * dopri5 on the current segment from *tp to c->tend.  Returns NK_OK when the
 * segment end is reached, NK_SWITCH_TO_RODAS (auto mode) with *tp, y and
 * *h_next describing where rodas should continue, or a negative status.
 * -------------------------------------------------------------------------- */
static int nk_dopri5_segment(nk_ctx *c, double *tp, double *y, int detect_stiff,
                             double *h_next)
{
    /* Hairer's DOPRI5 controller constants. */
    const double beta = 0.04, safe = 0.9, facmin = 0.2, facmax = 10.0;
    const double expo1 = 0.2 - 0.75 * beta;
    double *k1 = c->w, *k2 = k1 + NK_N, *k3 = k2 + NK_N, *k4 = k3 + NK_N,
           *k5 = k4 + NK_N, *k6 = k5 + NK_N, *k7 = k6 + NK_N;
    double *ys = k7 + NK_N, *yn = ys + NK_N, *er = yn + NK_N, *r5 = er + NK_N;
    const double tend = c->tend;
    double t = *tp, h, hmax, facold = 1e-4;
    int reject = 0, nonsti = 0, iasti = 0, nbad = 0, i;

    hmax = tend - t;
    if (c->hmax > 0.0 && c->hmax < hmax) hmax = c->hmax;

    nk_f(c, t, y, k1);
    if (!nk_all_finite(k1, NK_N)) { c->t_fail = t; return NK_ERR_NONFINITE; }

    if (c->h0 > 0.0)
        h = c->h0 < hmax ? c->h0 : hmax;
    else
        h = nk_hinit(c, t, y, k1, 5, hmax, k2, k3);

    for (;;) {
        double tn, err, fac11, fac, hnew;
        int last = 0;

        if (tend - t <= nk_tres(c, t)) { nk_finish_tiny(c, t, y, k1); *tp = tend; return NK_OK; }
        if (c->nstep >= c->max_steps) { c->t_fail = t; return NK_ERR_MAX_STEPS; }
        if (h < nk_hmin(t)) {
            /* Report why the step collapsed: non-finite values or accuracy. */
            c->t_fail = t;
            return nbad ? NK_ERR_NONFINITE : NK_ERR_STEP_TOO_SMALL;
        }
        /* Land exactly on the segment end (stretching by up to 1%). */
        if (t + 1.01 * h >= tend) { h = tend - t; last = 1; }
        tn = last ? tend : t + h;
        c->nstep++;

        /* Stages 2..6 */
        for (i = 0; i < NK_N; i++) ys[i] = y[i] + h * DP_A21 * k1[i];
        nk_f(c, t + DP_C2 * h, ys, k2);
        for (i = 0; i < NK_N; i++) ys[i] = y[i] + h * (DP_A31 * k1[i] + DP_A32 * k2[i]);
        nk_f(c, t + DP_C3 * h, ys, k3);
        for (i = 0; i < NK_N; i++)
            ys[i] = y[i] + h * (DP_A41 * k1[i] + DP_A42 * k2[i] + DP_A43 * k3[i]);
        nk_f(c, t + DP_C4 * h, ys, k4);
        for (i = 0; i < NK_N; i++)
            ys[i] = y[i] + h * (DP_A51 * k1[i] + DP_A52 * k2[i] + DP_A53 * k3[i] +
                                DP_A54 * k4[i]);
        nk_f(c, t + DP_C5 * h, ys, k5);
        for (i = 0; i < NK_N; i++)
            ys[i] = y[i] + h * (DP_A61 * k1[i] + DP_A62 * k2[i] + DP_A63 * k3[i] +
                                DP_A64 * k4[i] + DP_A65 * k5[i]);
        nk_f(c, tn, ys, k6);   /* ys keeps the stage-6 argument (stiffness test) */
        /* 5th-order solution and the FSAL stage k7 = f(tn, yn) */
        for (i = 0; i < NK_N; i++)
            yn[i] = y[i] + h * (DP_A71 * k1[i] + DP_A73 * k3[i] + DP_A74 * k4[i] +
                                DP_A75 * k5[i] + DP_A76 * k6[i]);
        nk_f(c, tn, yn, k7);
        /* Local error estimate y5 - y4 */
        for (i = 0; i < NK_N; i++)
            er[i] = h * (DP_E1 * k1[i] + DP_E3 * k3[i] + DP_E4 * k4[i] +
                         DP_E5 * k5[i] + DP_E6 * k6[i] + DP_E7 * k7[i]);
        err = nk_err_norm(c, er, y, yn);

        if (!isfinite(err)) {
            /* The step produced inf/NaN: retry smaller, give up eventually. */
            c->nrej += 1.0;
            if (++nbad > NK_MAX_NONFINITE_RETRIES) { c->t_fail = t; return NK_ERR_NONFINITE; }
            h *= 0.25;
            reject = 1;
            continue;
        }
        nbad = 0;

        /* PI controller (Hairer's DOPRI5, "Lund stabilisation"). */
        fac11 = pow(err, expo1);
        fac = fac11 / pow(facold, beta) / safe;
        if (fac < 1.0 / facmax) fac = 1.0 / facmax;
        if (fac > 1.0 / facmin) fac = 1.0 / facmin;
        hnew = h / fac;

        if (err <= 1.0) {
            int stiff_now = 0;
            facold = err > 1e-4 ? err : 1e-4;
            c->nacc += 1.0;
            if (!nk_all_finite(yn, NK_N)) { c->t_fail = tn; return NK_ERR_NONFINITE; }

            /* Hairer's stiffness detection: h*|lambda| estimated from the
             * last two stages (both at tn) compared with the stability
             * boundary ~3.3 of DOPRI5. */
            if (detect_stiff) {
                double stnum = 0.0, stden = 0.0;
                for (i = 0; i < NK_N; i++) {
                    double a = k7[i] - k6[i], b = yn[i] - ys[i];
                    stnum += a * a;
                    stden += b * b;
                }
                if (stden > 0.0 && h * sqrt(stnum / stden) > NK_STIFF_HLAMBDA) {
                    nonsti = 0;
                    if (++iasti >= NK_STIFF_COUNT) stiff_now = 1;
                } else if (++nonsti >= NK_NONSTIFF_RESET) {
                    iasti = 0;
                }
            }

            /* Dense output for requested times inside (t, tn) (and for the event roots). */
            if ((NK_NROOT > 0) || (c->io < c->n_out && c->t_out[c->io] < tn)) {
                for (i = 0; i < NK_N; i++) {
                    double ydiff = yn[i] - y[i], bspl = h * k1[i] - ydiff;
                    /* er is reused for r3, k2 for r4 (no longer needed) */
                    er[i] = bspl;
                    k2[i] = ydiff - h * k7[i] - bspl;
                    r5[i] = h * (DP_D1 * k1[i] + DP_D3 * k3[i] + DP_D4 * k4[i] +
                                 DP_D5 * k5[i] + DP_D6 * k6[i] + DP_D7 * k7[i]);
                }
#if NK_NROOT > 0
                {
                    nk_dense d;
                    double te;
                    d.kind = 0; d.t = t; d.h = h; d.y = y; d.yn = yn; d.a = er; d.b = k2; d.cc = r5;
                    if (nk_root_search(c, &d, tn, yn, &te)) {
                        nk_root_stop(c, &d, te, y);
                        *tp = te;
                        return NK_EVENT;
                    }
                }
#endif
                while (c->io < c->n_out && c->t_out[c->io] < tn) {
                    double th = (c->t_out[c->io] - t) / h, th1 = 1.0 - th;
                    double *row = c->y_out + (size_t)c->io * NK_N;
                    for (i = 0; i < NK_N; i++)
                        row[i] = y[i] + th * ((yn[i] - y[i]) +
                                 th1 * (er[i] + th * (k2[i] + th1 * r5[i])));
                    c->io++;
                }
            }
            /* Accept: y <- yn, k1 <- k7 (FSAL). */
            memcpy(y, yn, sizeof(double) * NK_N);
            memcpy(k1, k7, sizeof(double) * NK_N);
            t = tn;
            /* Times exactly on an interior step end (not the segment end,
             * whose outputs are written post-jump by the caller). */
            if (!last)
                while (c->io < c->n_out && c->t_out[c->io] == t) nk_emit(c, y);
            if (last) { *tp = t; return NK_OK; }

            if (hnew > hmax) hnew = hmax;
            if (reject && hnew > h) hnew = h;
            reject = 0;
            if (stiff_now) {
                *tp = t;
                *h_next = hnew;
                return NK_SWITCH_TO_RODAS;
            }
            h = hnew;
        } else {
            /* Reject: shrink with the I-part only. */
            double f = fac11 / safe;
            if (f > 1.0 / facmin) f = 1.0 / facmin;
            h /= f;
            reject = 1;
            c->nrej += 1.0;
        }
    }
}

/* --------------------------------------------------------------------------
 * RODAS4 on the current segment from *tp to c->tend; h_start > 0 gives the
 * first trial step (auto switch), else c->h0 or the initial heuristic.
 * -------------------------------------------------------------------------- */
static int nk_rodas_segment(nk_ctx *c, double *tp, double *y, double h_start)
{
    /* Step-size selection as in Hairer's RODAS: 0.2 <= hnew/h <= 6, safety
     * 0.9, Gustafsson's predictive controller on accepted steps. */
    const double safe = 0.9, fac1 = 5.0, fac2 = 1.0 / 6.0;
#if defined(NK_USE_SPARSE)
    double *J = c->jac;
#else
    double *J = c->w;
#endif
    double *W = c->w + (size_t)NK_N * NK_N, *v = W + (size_t)NK_N * NK_N;
    double *f0 = v, *ft = f0 + NK_N, *k1 = ft + NK_N, *k2 = k1 + NK_N,
           *k3 = k2 + NK_N, *k4 = k3 + NK_N, *k5 = k4 + NK_N, *k6 = k5 + NK_N,
           *ys = k6 + NK_N, *yn = ys + NK_N, *fs = yn + NK_N, *q1 = fs + NK_N,
           *q2 = q1 + NK_N;
    int *piv = c->piv;
    const double tend = c->tend;
    double t = *tp, h, hmax, hacc = 0.0, erracc = 1e-2;
    int reject = 0, first = 1, naccseg = 0, nbad = 0, nsing = 0, sparse = 0, i, j;

    hmax = tend - t;
    if (c->hmax > 0.0 && c->hmax < hmax) hmax = c->hmax;

    nk_f(c, t, y, f0);
    if (!nk_all_finite(f0, NK_N)) { c->t_fail = t; return NK_ERR_NONFINITE; }
    if (h_start > 0.0)
        h = h_start;
    else if (c->h0 > 0.0)
        h = c->h0;
    else
        h = nk_hinit(c, t, y, f0, 4, hmax, ys, fs);
    if (h > hmax) h = hmax;

    for (;;) {
        /* New step point: f0 = f(t, y) is current; Jacobian and df/dt. */
        if (tend - t <= nk_tres(c, t)) { nk_finish_tiny(c, t, y, f0); *tp = tend; return NK_OK; }
        nk_J(c, t, y, J);
        if (!nk_jac_finite(J)) { c->t_fail = t; return NK_ERR_NONFINITE; }
        if (c->time_dependent) {
            /* forward difference in t, backward at the segment end */
            double d = sqrt(DBL_EPSILON * (fabs(t) > 1e-5 ? fabs(t) : 1e-5));
            double td = (t + d <= tend) ? t + d : t - d;
            d = td - t;                     /* the exactly representable offset */
            nk_f(c, td, y, ft);
            for (i = 0; i < NK_N; i++) ft[i] = (ft[i] - f0[i]) / d;
        } else {
            for (i = 0; i < NK_N; i++) ft[i] = 0.0;
        }

        for (;;) {   /* attempts at this step point */
            double tn, err, fac, hnew, ih;
            int last = 0;

            if (c->nstep >= c->max_steps) { c->t_fail = t; return NK_ERR_MAX_STEPS; }
            if (h < nk_hmin(t)) {
                c->t_fail = t;
                return nbad ? NK_ERR_NONFINITE
                            : (nsing ? NK_ERR_SINGULAR : NK_ERR_STEP_TOO_SMALL);
            }
            if (t + 1.01 * h >= tend) { h = tend - t; last = 1; }
            tn = last ? tend : t + h;
            c->nstep++;

            /* W = I/(gamma h) - J, LU-factorised (sparse when the model has a sparse plan). */
            {
                double dg = 1.0 / (RO_GAMMA * h);
#if defined(NK_USE_SPARSE)
                int s;
                for (s = 0; s < NK_SP_NNZ; s++) W[nk_sp_index[s]] = -J[nk_sp_index[s]];
                for (i = 0; i < NK_N; i++) W[i * NK_N + i] += dg;
                sparse = !nk_sp_lu(W);
                if (!sparse) {
                    for (i = 0; i < NK_N * NK_N; i++) W[i] = -J[i];
                    for (i = 0; i < NK_N; i++) W[i * NK_N + i] += dg;
                }
#elif NK_NBLOCK < NK_N
                /* only the first block column is used (see NK_NBLOCK) */
                for (i = 0; i < NK_N; i++)
                    for (j = 0; j < NK_NBLOCK; j++) W[i * NK_N + j] = -J[i * NK_N + j];
                for (i = 0; i < NK_NBLOCK; i++) W[i * NK_N + i] += dg;
#else
                for (i = 0; i < NK_N * NK_N; i++) W[i] = -J[i];
                for (i = 0; i < NK_N; i++) W[i * NK_N + i] += dg;
#endif
            }
            c->nlu += 1.0;
            if (!sparse && nk_lu(W, piv)) {
                c->nrej += 1.0;
                if (++nsing > NK_MAX_SINGULAR_RETRIES) { c->t_fail = t; return NK_ERR_SINGULAR; }
                h *= 0.5;
                reject = 1;
                continue;
            }
            nsing = 0;
            ih = 1.0 / h;

            /* Stage 1 */
            for (i = 0; i < NK_N; i++) k1[i] = f0[i] + h * RO_D1 * ft[i];
            nk_w_solve(W, piv, sparse, k1);
            /* Stage 2 */
            for (i = 0; i < NK_N; i++) ys[i] = y[i] + RO_A21 * k1[i];
            nk_f(c, t + RO_C2 * h, ys, fs);
            for (i = 0; i < NK_N; i++)
                k2[i] = fs[i] + h * RO_D2 * ft[i] + RO_C21 * k1[i] * ih;
            nk_w_solve(W, piv, sparse, k2);
            /* Stage 3 */
            for (i = 0; i < NK_N; i++) ys[i] = y[i] + RO_A31 * k1[i] + RO_A32 * k2[i];
            nk_f(c, t + RO_C3 * h, ys, fs);
            for (i = 0; i < NK_N; i++)
                k3[i] = fs[i] + h * RO_D3 * ft[i] + (RO_C31 * k1[i] + RO_C32 * k2[i]) * ih;
            nk_w_solve(W, piv, sparse, k3);
            /* Stage 4 */
            for (i = 0; i < NK_N; i++)
                ys[i] = y[i] + RO_A41 * k1[i] + RO_A42 * k2[i] + RO_A43 * k3[i];
            nk_f(c, t + RO_C4 * h, ys, fs);
            for (i = 0; i < NK_N; i++)
                k4[i] = fs[i] + h * RO_D4 * ft[i] +
                        (RO_C41 * k1[i] + RO_C42 * k2[i] + RO_C43 * k3[i]) * ih;
            nk_w_solve(W, piv, sparse, k4);
            /* Stage 5 (at tn; d5 = 0) */
            for (i = 0; i < NK_N; i++)
                ys[i] = y[i] + RO_A51 * k1[i] + RO_A52 * k2[i] + RO_A53 * k3[i] +
                        RO_A54 * k4[i];
            nk_f(c, tn, ys, fs);
            for (i = 0; i < NK_N; i++)
                k5[i] = fs[i] + (RO_C51 * k1[i] + RO_C52 * k2[i] + RO_C53 * k3[i] +
                                 RO_C54 * k4[i]) * ih;
            nk_w_solve(W, piv, sparse, k5);
            /* Stage 6 (at tn): embedded solution ys = Y5 + k5 */
            for (i = 0; i < NK_N; i++) ys[i] += k5[i];
            nk_f(c, tn, ys, fs);
            for (i = 0; i < NK_N; i++)
                k6[i] = fs[i] + (RO_C61 * k1[i] + RO_C62 * k2[i] + RO_C63 * k3[i] +
                                 RO_C64 * k4[i] + RO_C65 * k5[i]) * ih;
            nk_w_solve(W, piv, sparse, k6);
            /* New solution; k6 is the local error estimate. */
            for (i = 0; i < NK_N; i++) yn[i] = ys[i] + k6[i];
            err = nk_err_norm(c, k6, y, yn);

            if (!isfinite(err)) {
                c->nrej += 1.0;
                if (++nbad > NK_MAX_NONFINITE_RETRIES) { c->t_fail = t; return NK_ERR_NONFINITE; }
                h *= 0.25;
                reject = 1;
                continue;
            }
            nbad = 0;

            fac = pow(err, 0.25) / safe;
            if (fac > fac1) fac = fac1;
            if (fac < fac2) fac = fac2;
            hnew = h / fac;

            if (err <= 1.0) {
                /* Gustafsson's predictive controller. */
                if (naccseg > 0) {
                    double fg = (hacc / h) * pow(err * err / erracc, 0.25) / safe;
                    if (fg > fac1) fg = fac1;
                    if (fg < fac2) fg = fac2;
                    if (fg > fac) fac = fg;
                    hnew = h / fac;
                }
                hacc = h;
                erracc = err > 1e-2 ? err : 1e-2;
                naccseg++;
                c->nacc += 1.0;
                c->nrodas += 1.0;
                if (!nk_all_finite(yn, NK_N)) { c->t_fail = tn; return NK_ERR_NONFINITE; }

                if ((NK_NROOT > 0) || (c->io < c->n_out && c->t_out[c->io] < tn)) {
                    for (i = 0; i < NK_N; i++) {
                        q1[i] = RO_DN11 * k1[i] + RO_DN12 * k2[i] + RO_DN13 * k3[i] +
                                RO_DN14 * k4[i] + RO_DN15 * k5[i];
                        q2[i] = RO_DN21 * k1[i] + RO_DN22 * k2[i] + RO_DN23 * k3[i] +
                                RO_DN24 * k4[i] + RO_DN25 * k5[i];
                    }
#if NK_NROOT > 0
                    {
                        nk_dense d;
                        double te;
                        d.kind = 1; d.t = t; d.h = h; d.y = y; d.yn = yn; d.a = q1; d.b = q2; d.cc = NULL;
                        if (nk_root_search(c, &d, tn, yn, &te)) {
                            nk_root_stop(c, &d, te, y);
                            *tp = te;
                            return NK_EVENT;
                        }
                    }
#endif
                    while (c->io < c->n_out && c->t_out[c->io] < tn) {
                        double th = (c->t_out[c->io] - t) / h, th1 = 1.0 - th;
                        double *row = c->y_out + (size_t)c->io * NK_N;
                        for (j = 0; j < NK_N; j++)
                            row[j] = th1 * y[j] + th * (yn[j] + th1 * (q1[j] + th * q2[j]));
                        c->io++;
                    }
                }
                memcpy(y, yn, sizeof(double) * NK_N);
                t = tn;
                if (last) { *tp = t; return NK_OK; }
                while (c->io < c->n_out && c->t_out[c->io] == t) nk_emit(c, y);

                if (hnew > hmax) hnew = hmax;
                if (reject && hnew > h) hnew = h;
                reject = 0;
                first = 0;
                h = hnew;
                nk_f(c, t, y, f0);   /* no FSAL for Rosenbrock methods */
                if (!nk_all_finite(f0, NK_N)) { c->t_fail = t; return NK_ERR_NONFINITE; }
                break;               /* new Jacobian at the new point */
            } else {
                c->nrej += 1.0;
                reject = 1;
                h = first ? 0.1 * h : hnew;
            }
        }
    }
}

/* -------------------------------------------------------------------------- */

static int nk_check_args(const double *p, const double *y, int n_seg,
                         const double *boundaries, const double *seg_const,
                         const int *term_ptr, const int *term_input,
                         const double *term_data, const int *jump_ptr,
                         const int *jump_index, const int *jump_kind,
                         const double *jump_value, int n_out,
                         const double *t_out, const double *y_out, int method,
                         double rtol, const double *atol, double h0, double hmax)
{
    int s, k, i;
    if (y == NULL || boundaries == NULL || atol == NULL || n_seg < 1) return 1;
    if (NK_NPARAM > 0 && p == NULL) return 1;
    if (NK_NINPUT > 0 && seg_const == NULL) return 1;
    if (method < NK_METHOD_AUTO || method > NK_METHOD_RODAS) return 1;
    if (!(rtol >= 0.0) || !isfinite(rtol)) return 1;
    if (!(h0 >= 0.0) || !(hmax >= 0.0) || !isfinite(h0)) return 1;
    for (i = 0; i < NK_N; i++) {
        if (!(atol[i] >= 0.0) || !isfinite(atol[i])) return 1;
        if (atol[i] == 0.0 && rtol == 0.0) return 1;
    }
    for (s = 0; s <= n_seg; s++)
        if (!isfinite(boundaries[s])) return 1;
    for (s = 0; s < n_seg; s++)
        if (!(boundaries[s + 1] > boundaries[s])) return 1;
    if (term_ptr != NULL) {
        if (term_ptr[0] < 0) return 1;
        for (s = 0; s < n_seg; s++) {
            if (term_ptr[s + 1] < term_ptr[s]) return 1;
            for (k = term_ptr[s]; k < term_ptr[s + 1]; k++) {
                if (term_input == NULL || term_data == NULL) return 1;
                if (term_input[k] < 0 || term_input[k] >= NK_NINPUT) return 1;
            }
        }
    }
    if (jump_ptr != NULL) {
        if (jump_ptr[0] < 0) return 1;
        for (s = 0; s < n_seg; s++) {
            if (jump_ptr[s + 1] < jump_ptr[s]) return 1;
            for (k = jump_ptr[s]; k < jump_ptr[s + 1]; k++) {
                if (jump_index == NULL || jump_kind == NULL || jump_value == NULL) return 1;
                if (jump_index[k] < 0 || jump_index[k] >= NK_N) return 1;
                if (jump_kind[k] != 0 && jump_kind[k] != 1) return 1;
            }
        }
    }
    if (n_out < 0) return 1;
    if (n_out > 0) {
        if (t_out == NULL || y_out == NULL) return 1;
        for (i = 0; i < n_out; i++) {
            if (!(t_out[i] >= boundaries[0]) || !(t_out[i] <= boundaries[n_seg])) return 1;
            if (i > 0 && !(t_out[i] >= t_out[i - 1])) return 1;
        }
    }
    return 0;
}

NK_EXPORT const char *nk_status_message(int status)
{
    switch (status) {
    case NK_OK: return "success";
    case NK_EVENT: return "stopped at an event (a root function changed its truth value)";
    case NK_ERR_STEP_TOO_SMALL: return "step size became too small (below 16*eps*|t|)";
    case NK_ERR_MAX_STEPS: return "maximum number of steps exceeded";
    case NK_ERR_NONFINITE: return "non-finite value (NaN or inf) in the state or right-hand side";
    case NK_ERR_SINGULAR: return "singular iteration matrix in the Rosenbrock method";
    case NK_ERR_BAD_ARGS: return "invalid arguments";
    case NK_ERR_NO_MEMORY: return "out of memory";
    default: return "unknown status";
    }
}

/* dims[0..2] = NK_NSTATE, NK_NPARAM, NK_NINPUT (to check the library). */
NK_EXPORT void nk_dims(int *dims)
{
    dims[0] = NK_NSTATE;
    dims[1] = NK_NPARAM;
    dims[2] = NK_NINPUT;
}

NK_EXPORT int nk_abi_version(void) { return NK_ABI_VERSION; }

/* The number of event root functions (NK_NROOT). */
NK_EXPORT int nk_n_roots(void) { return NK_NROOT; }

#ifndef NK_NOBS
#define NK_NOBS (-1)
#endif

/* NK_NOBS: the number of observables nk_observables writes, or -1 if they are not available in C. */
NK_EXPORT int nk_n_observables(void) { return NK_NOBS; }

/* Observables at n points: point i has time t[i], state Y[i*NK_NSTATE...], parameters P[i*p_stride...],
 * inputs U[i*u_stride...] (a stride of 0 shares one vector) and writes O[i*NK_NOBS...]. */
NK_EXPORT void nk_observables(int n, const double *t, const double *Y, const double *P, int p_stride,
                              const double *U, int u_stride, double *O)
{
#if NK_NOBS > 0
    int i;
    for (i = 0; i < n; i++)
        nk_obs(t[i], Y + (size_t)i * NK_N, P + (size_t)i * p_stride, U + (size_t)i * u_stride,
               O + (size_t)i * NK_NOBS);
#else
    (void)n; (void)t; (void)Y; (void)P; (void)p_stride; (void)U; (void)u_stride; (void)O;
#endif
}

NK_EXPORT int nk_solve(
    const double *p, double *y,
    int n_seg, const double *boundaries,
    const double *seg_const,
    const int *term_ptr, const int *term_input, const double *term_data,
    const int *jump_ptr, const int *jump_index, const int *jump_kind,
    const double *jump_value,
    int n_out, const double *t_out, double *y_out,
    int method, double rtol, const double *atol, double h0, double hmax,
    long max_steps, double *stats, double *t_fail, double *root_g)
{
    nk_ctx c;
    int s, k, status = NK_OK, started = 0;
    size_t nw;

    if (stats != NULL)
        for (k = 0; k < 16; k++) stats[k] = 0.0;
    if (t_fail != NULL) *t_fail = (boundaries != NULL) ? boundaries[0] : 0.0;
    if (nk_check_args(p, y, n_seg, boundaries, seg_const, term_ptr, term_input,
                      term_data, jump_ptr, jump_index, jump_kind, jump_value,
                      n_out, t_out, y_out, method, rtol, atol, h0, hmax))
        return NK_ERR_BAD_ARGS;

    memset(&c, 0, sizeof c);
    c.p = p;
    c.term_input = term_input;
    c.term_data = term_data;
    c.rtol = rtol;
    c.atol = atol;
    c.h0 = h0;
    c.hmax = hmax;
    c.max_steps = max_steps > 0 ? max_steps : NK_DEFAULT_MAX_STEPS;
    c.n_out = n_out;
    c.t_out = t_out;
    c.y_out = y_out;
    c.t_fail = boundaries[0];
    c.yr = c.w;                          /* set below, once w exists */

    /* Work memory: rodas needs 2 n*n + 13 n, dopri5 12 n (shared). */
    nw = 2 * (size_t)NK_N * NK_N + 16 * (size_t)NK_N;
    c.w = (double *)malloc(nw * sizeof(double));
    c.piv = (int *)malloc((size_t)NK_N * sizeof(int));
#if defined(NK_USE_SPARSE)
    c.jac = (double *)calloc((size_t)NK_N * NK_N, sizeof(double));
    if (c.jac == NULL) { free(c.w); free(c.piv); return NK_ERR_NO_MEMORY; }
#endif
    if (c.w == NULL || c.piv == NULL) {
        free(c.w);
        free(c.piv);
        free(c.jac);
        return NK_ERR_NO_MEMORY;
    }
    c.yr = c.w + 2 * (size_t)NK_N * NK_N + 14 * (size_t)NK_N;   /* unused by both steppers */

    for (s = 0; s < n_seg && status == NK_OK; s++) {
        double t = boundaries[s];
        c.t0 = t;
        c.tend = boundaries[s + 1];
        c.uconst = (NK_NINPUT > 0) ? seg_const + (size_t)s * NK_NINPUT : NULL;
        c.term_lo = term_ptr ? term_ptr[s] : 0;
        c.term_hi = term_ptr ? term_ptr[s + 1] : 0;
        c.time_dependent = !(NK_AUTONOMOUS && c.term_hi == c.term_lo);

        /* Jumps at the start of the segment. */
        if (jump_ptr != NULL)
            for (k = jump_ptr[s]; k < jump_ptr[s + 1]; k++) {
                if (jump_kind[k] == 0)
                    y[jump_index[k]] += jump_value[k];
                else
                    y[jump_index[k]] = jump_value[k];
            }
        if (!nk_all_finite(y, NK_N)) { c.t_fail = t; status = NK_ERR_NONFINITE; break; }
        started = s + 1;
#if NK_NROOT > 0
        /* Atoms at the segment start; a change across the boundary (inputs, jumps) is an event there. */
        nk_root_truth(&c, t, y, c.rtmp);
        if (s > 0 && nk_root_changed(&c)) {
            c.t_event = t;
            status = NK_EVENT;
            break;
        }
        memcpy(c.rt, c.rtmp, sizeof(int) * NK_NROOT);
#endif
        /* Outputs at the segment start see the post-jump state. */
        while (c.io < c.n_out && c.t_out[c.io] <= t) nk_emit(&c, y);

        if (method == NK_METHOD_RODAS) {
            status = nk_rodas_segment(&c, &t, y, 0.0);
        } else {
            double hsw = 0.0;
            status = nk_dopri5_segment(&c, &t, y, method == NK_METHOD_AUTO, &hsw);
            if (status == NK_SWITCH_TO_RODAS) {
                c.nswitch += 1.0;
                status = nk_rodas_segment(&c, &t, y, hsw);
            }
        }
    }
    /* Outputs at the final boundary get the final state. */
    if (status == NK_OK)
        while (c.io < c.n_out) nk_emit(&c, y);

    if (stats != NULL) {
        stats[0] = c.nacc;
        stats[1] = c.nrej;
        stats[2] = c.nfev;
        stats[3] = c.njev;
        stats[4] = c.nlu;
        stats[5] = (double)n_seg;
        stats[6] = c.nswitch;
        stats[7] = c.nrodas;
        stats[8] = (double)c.io;        /* outputs written */
        stats[9] = (double)started;     /* segments whose start (jumps) was processed */
    }
    if (status == NK_EVENT) {
        c.t_fail = c.t_event;
#if NK_NROOT > 0
        if (root_g != NULL) memcpy(root_g, c.rg, sizeof(double) * NK_NROOT);
#endif
    }
    (void)root_g;
    if (t_fail != NULL) *t_fail = (status == NK_OK) ? boundaries[n_seg] : c.t_fail;
    free(c.w);
    free(c.piv);
    free(c.jac);
    return status;
}
