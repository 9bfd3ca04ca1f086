/*
 * fpmode.h -- private to the C core: the floating-point mode the hot loops run in, and
 * what keeps subnormal numbers out of them.
 *
 * Subnormals.  Some iterates decay towards zero geometrically (NMF: entries whose code and
 * feature consensus are both clamped at 0, e.g. where the LEDM has its zeros) and pass
 * through the subnormal range on the way.  On many Intel cores an operation on a subnormal
 * operand or with a subnormal result takes a microcode assist costing about a hundred
 * cycles; AMD's cores take it in their stride.  The usual cure, the FTZ/DAZ bits of x86's
 * MXCSR (FZ of aarch64's FPCR), is not taken here: results would then depend on the
 * platform (gradual underflow where no such bits exist, or where they flush differently)
 * and on the mode each thread happens to be in, and lanes.h promises the same bits on every
 * CPU, for any number of threads and any split into calls.  Instead the iteration flushes
 * explicitly, in the same arithmetic everywhere: every x and w it writes whose magnitude is
 * below LWL_TINY = 2^-300 (about 5e-91) becomes 0 (lwl_flush).  That is far below anything
 * a problem of sensible scale resolves (a value of 1e-60 carries 2^-52 of it in precision),
 * and far enough above the subnormal range (below 2^-1022) that the squares and products
 * the next projection forms of such values (2^-600), with the cancellations and small
 * factors they meet, stay normal: on NMF LEDM m = 16 a threshold of 2^-450 already leaves no
 * subnormal operand, 2^-500 does not.  (The scale is absolute: data whose values are all
 * below about 1e-60 would need rescaling.)
 *
 * In single precision (LWL_F32, real.h) the threshold is LWL_TINY = 2^-60 (about 8.7e-19),
 * chosen for float's range (FLT_MIN = 2^-126) as 2^-300 is for double's.  The float state
 * is multiplied in float by factors of order one (2, beta, the root's e and
 * 1 / (e (2 - e)), +-1) and subtracted: a value at the threshold, or the smallest
 * difference of two such (2^-83), stays normal after those factors with 2^40 to spare.
 * Products of two state values are formed in double (the forward pass, the node
 * constraints) but for the squares of the edge pass (A, B and the error, summed in float
 * over runs of 8 edges, engine.c): a square is subnormal when its base, a reflection or a
 * difference of state values, is below 2^-63 without being 0, which needs values of the
 * state (weights, say) below about 2^-40 that differ only in their last bits.  That is not
 * excluded by construction, as it is in double, and the cases run (tests/test_fpmode.py,
 * compare/bench.py's flags) have values of order one, far from it; a state of very small
 * values may meet subnormal squares, which cost time on Intel cores, not accuracy.  (At the
 * other end, float squares overflow where such a base exceeds about 1.8e19.)  And
 * 2^-60 is 2^-36 below float's resolution (2^-24) at unit scale, as 2^-300 is far below
 * double's.  (Float data all below about 1e-12 would need rescaling.)
 *
 * The mode.  Each entry point that computes (lwl_nmf_iterate, lwl_net_iterate and each of
 * its parallel regions, lwl_net_forward, their _f32 versions, lwl_bilinear_project_from)
 * runs in the IEEE default mode -- round to nearest, gradual underflow, no traps --
 * whatever mode the calling thread was in (a library built with -ffast-math may have set
 * FTZ/DAZ for the whole process), and puts the caller's mode back, exception flags
 * included, before it returns.  So Python's floating point is never changed, and the
 * results do not depend on the caller's mode either.  Every C call returns normally
 * (Ctrl-C is handled by Python between calls), so the mode is always restored.  x86-64:
 * MXCSR through <xmmintrin.h>; aarch64: FPCR and FPSR; elsewhere C99's <fenv.h>
 * (fegetenv / fesetenv(FE_DFL_ENV)), which resets the rounding mode and whatever flush bits
 * the platform's library knows of.
 *
 * While in the mode, the flags it raises are collected: lwl_fp_leave returns
 * LWL_FP_SUBNORMAL (an operand was subnormal: x86 reports it, as its DE flag; elsewhere it
 * is not detected) and LWL_FP_UNDERFLOW (a result was tiny and inexact), which the
 * iterations report in their workspace's fp_flags (lwl.h) for tests and benchmarks.
 */
#ifndef LWL_FPMODE_H
#define LWL_FPMODE_H

#include <math.h>
#include "lwl.h"
#include "real.h"

#ifdef LWL_F32
#define LWL_TINY 0x1p-60f
#else
#define LWL_TINY 0x1p-300
#endif

/* v, or 0 when |v| < LWL_TINY (the threshold of the storage type, lwl_real). */
static inline lwl_real lwl_flush(lwl_real v)
{
    return LWL_FABS(v) < LWL_TINY ? (lwl_real)0 : v;
}

#if defined(__x86_64__) || defined(_M_X64) || (defined(__i386__) && defined(__SSE2__))
#include <xmmintrin.h>

typedef unsigned int lwl_fp_saved;

static inline lwl_fp_saved lwl_fp_enter(void)
{
    lwl_fp_saved s = _mm_getcsr();
    _mm_setcsr(0x1f80); /* all exceptions masked, round to nearest, no FTZ/DAZ, flags clear */
    return s;
}

static inline int lwl_fp_leave(lwl_fp_saved s)
{
    unsigned int now = _mm_getcsr();
    _mm_setcsr(s);
    return ((now & 0x02) ? LWL_FP_SUBNORMAL : 0) | ((now & 0x10) ? LWL_FP_UNDERFLOW : 0);
}

#elif defined(__aarch64__) && defined(__GNUC__)
#include <stdint.h>

typedef struct {
    uint64_t fpcr, fpsr;
} lwl_fp_saved;

static inline lwl_fp_saved lwl_fp_enter(void)
{
    lwl_fp_saved s;
    uint64_t zero = 0;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(s.fpcr));
    __asm__ __volatile__("mrs %0, fpsr" : "=r"(s.fpsr));
    /* FPCR = 0: round to nearest, no flush to zero (FZ, FIZ), no default NaN or alternate
     * handling, no traps; FPSR = 0: flags clear */
    __asm__ __volatile__("msr fpcr, %0" : : "r"(zero));
    __asm__ __volatile__("msr fpsr, %0" : : "r"(zero));
    return s;
}

static inline int lwl_fp_leave(lwl_fp_saved s)
{
    uint64_t now;
    __asm__ __volatile__("mrs %0, fpsr" : "=r"(now));
    __asm__ __volatile__("msr fpcr, %0" : : "r"(s.fpcr));
    __asm__ __volatile__("msr fpsr, %0" : : "r"(s.fpsr));
    return (now & 0x08) ? LWL_FP_UNDERFLOW : 0; /* UFC */
}

#else
#include <fenv.h>

typedef fenv_t lwl_fp_saved;

static inline lwl_fp_saved lwl_fp_enter(void)
{
    lwl_fp_saved s;
    fegetenv(&s);
    fesetenv(FE_DFL_ENV);
    return s;
}

static inline int lwl_fp_leave(lwl_fp_saved s)
{
#ifdef FE_UNDERFLOW
    int flags = fetestexcept(FE_UNDERFLOW) ? LWL_FP_UNDERFLOW : 0;
#else
    int flags = 0;
#endif
    fesetenv(&s);
    return flags;
}
#endif

#endif
