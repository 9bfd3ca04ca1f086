/*
 * real.h -- private to the C core: the type the RRR state is stored in.
 *
 * The sources that touch the state (engine.c, constraints.c, nmf.c) are compiled twice:
 * as themselves, with lwl_real = double, and through a two-line wrapper (engine_f32.c, ...)
 * that defines LWL_F32 first, with lwl_real = float and every public name given the suffix
 * _f32 (LWL_NAME).  So the hot code is written once.  What the state is stored in is
 * lwl_real; what must stay double whatever the storage is written as double in the
 * sources (sums over items and edges, beyond short runs; norms, the bilinear root search,
 * the node and class constraints), and the comments there say why.  lwl.h spells out both workspaces, since
 * cffi reads it and takes no macros with arguments.
 */
#ifndef LWL_REAL_H
#define LWL_REAL_H

#include "lwl.h"

#ifdef LWL_F32
typedef float lwl_real;
#define LWL_NAME(f) f##_f32
#define LWL_NET_WS lwl_net_ws_f32
#define LWL_NMF_WS lwl_nmf_ws_f32
#define LWL_FABS fabsf
#else
typedef double lwl_real;
#define LWL_NAME(f) f
#define LWL_NET_WS lwl_net_ws
#define LWL_NMF_WS lwl_nmf_ws
#define LWL_FABS fabs
#endif

#endif
