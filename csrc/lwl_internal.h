/*
 * lwl_internal.h -- private to the C core: what one C source provides to another.
 *
 * Included by the C sources only; cffi reads lwl.h, so nothing here is visible from Python.
 * The inline helpers of the hot loops (lanes, lockstep root search) are in lanes.h.
 */
#ifndef LWL_INTERNAL_H
#define LWL_INTERNAL_H

#include "lwl.h"

/* ---- bilinear.c ------------------------------------------------------------------------
 * The last step of the bilinear projection (eq 19).  Loops that solve many problems at once
 * form the sums A = |x + w|^2 / 4, B = |x - w|^2 / 4 in their own layout, find the roots of
 * up to LWL_ROOT_BLOCK problems in lockstep (lwl_roots_lockstep, lanes.h: e in (0, 1] and
 * sgn, the root being u = sgn (e - 1), or e = 0 in the degenerate case), and update x, w
 * and y from the root; this is that update for one problem (the hot loops inline their
 * own for the common case and call this for degenerate lanes).  Returns u.
 * lwl_bilinear_project_from is these three steps for one problem. */
double lwl_bilinear_apply(int n, double *x, double *w, double *y, double omega, double inv_g2,
                          double e, double sgn);

/* ---- constraints.c ---------------------------------------------------------------------
 * The node step of the A projection (eq 26a-c) for the items of block bk (the layout of
 * lwl.h): x_A = xsum / outdeg (xsum: out-edge sums of x, a node array), and every node's
 * side constraint of its kind (lwl_project_node) on (x_A, y, b), written to xa, ya, ba;
 * class nodes are left at y, b for lwl_class_step. */
void lwl_node_step(const lwl_net_ws *ws, const double *xsum, int bk);
void lwl_node_step_f32(const lwl_net_ws_f32 *ws, const float *xsum, int bk);

/* The batch-level class step of the A projection (called by lwl_net_iterate after the node
 * step): projects ya, ba of the class nodes of every item with a label >= 0 according to
 * class_mode, and writes exempt, assigned and class_dist.  ya and ba must hold the values
 * to project (the node step leaves class nodes at y, b).  sel: 2 * n_items doubles. */
void lwl_class_step(lwl_net_ws *ws, double *sel);
void lwl_class_step_f32(lwl_net_ws_f32 *ws, double *sel);

/* ---- the processes sharing a batch (lwl.h) ----------------------------------------------
 * The sums over items sums[0 .. n) completed over the processes: each process formed its
 * own items' sums, and the reduce adds them. */
static inline void lwl_sum_over_processes(const lwl_processes *p, double *sums, long n)
{
    if (p->reduce)
        p->reduce(sums, n, p->ctx);
}

/* |K|, the items of the whole batch, that the means over items divide by (this process's
 * n_items when it holds the whole batch). */
static inline double lwl_batch_items(const lwl_processes *p, int n_items)
{
    return p->reduce ? (double)p->n_total : (double)n_items;
}

#endif
