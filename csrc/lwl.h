/*
 * lwl.h -- the public header of the lwl C core: what Python calls through cffi.
 *
 * Read by the C sources and by cffi (lwl/_build.py), so it holds only declarations that
 * cffi's parser accepts: no macros with arguments, no includes, no inline functions.
 * What the C sources share only among themselves is in lwl_internal.h and lanes.h.
 *
 * Memory: C owns no long-lived memory. Python (numpy) allocates every array, C functions
 * take pointers and sizes, run a given number of RRR iterations and return.
 * Paper: V. Elser, "Learning Without Loss" (arXiv 1911.00493); eq numbers refer to it.
 */
#ifndef LWL_H
#define LWL_H

/* ---- bilinear projection (eq 16-19, 26h, appendix B) ---------------------------------
 * Project (x, w, y), with x and w of length n, onto  x'.w' = omega * y'  in the metric
 * |x'-x|^2 + |w'-w|^2 + g2 (y'-y)^2.  inv_g2 = 1/g2; inv_g2 = 0 is the NMF limit in which
 * y is fixed (the data value).  x, w and *y are overwritten with the projection.
 * Returns the Lagrange multiplier u in [-1, 1].  u = -1 or +1 only in the degenerate case
 * x = w or x = -w where the nearest point is not unique; see bilinear.c for the choice made.
 */
double lwl_bilinear_project(int n, double *x, double *w, double *y, double omega, double inv_g2);

/* The same, with the root search started at u0 instead of 0 (the result does not depend on
 * it beyond rounding): RRR passes the previous iteration's multiplier (NMF: extrapolated
 * from the last two). */
double lwl_bilinear_project_from(int n, double *x, double *w, double *y, double omega,
                                 double inv_g2, double u0);

/* Floating-point events a computation met (the fp_flags of the workspaces below): an
 * operand was subnormal (detected on x86 only), a result was tiny and inexact.  The C core
 * computes in the IEEE default mode and keeps subnormals out of its iterates (fpmode.h);
 * these flags are how tests and benchmarks check that it does. */
enum { LWL_FP_SUBNORMAL = 1, LWL_FP_UNDERFLOW = 2 };

/* Data parallelism (the processes field of the workspaces below): a batch's items split
 * across processes, each holding the RRR state of its own share.  reduce, when not NULL,
 * replaces sums[0 .. n) by their sum over the processes (the same values on every process);
 * the iterations pass it their sums over items (of the replicated weights and biases, the
 * squared error), and the means over items divide by n_total, the items of the whole
 * batch.  reduce NULL (as a zeroed workspace has it): this process holds the whole batch. */
typedef struct {
    void (*reduce)(double *sums, long n, void *ctx);
    void *ctx;
    long n_total;
} lwl_processes;

/* ---- RRR non-negative matrix factorisation (paper section 4, eq 14, 22) ---------------
 * Data Y[k][j], k < n_items (|K|), j < n_data (|D|); n_code (|C|) code nodes.
 * Edge i -> j from code node i to data node j; variables per item k and edge:
 *   x[k][i][j]  code value replicated on the edge,   w[k][i][j]  feature weight
 * (data nodes contiguous: the C code works on several data nodes at once).
 * A: consensus of w over k, clamp >= 0, each feature (w[.][i][.]) rescaled to norm omega
 *    (eq 14b,c); consensus of x over j, clamp >= 0 (eq 14a).
 * B: for every (k, j) the bilinear projection with y = Y[k][j] fixed (eq 14d).
 */
typedef struct {
    int n_items, n_data, n_code;
    double omega, beta;
    const double *data;   /* [n_items][n_data]           */
    double *x, *w;        /* [n_items][n_code][n_data]   RRR iterates             */
    double *code;         /* [n_items][n_code]           x_A of the last A step    */
    double *feature;      /* [n_code][n_data]            w_A of the last A step    */
    double *mult;         /* [2][n_items][n_data]        B-step multipliers u of the last two
                                                         iterations, last first (warm starts;
                                                         0 at first) */
    double *scratch;      /* [lwl_nmf_scratch_size(...)] workspace */
    int fp_flags;         /* set by lwl_nmf_iterate: LWL_FP_* events of its last call */
    lwl_processes processes;  /* the processes sharing the batch (above)             */
} lwl_nmf_ws;

/* Run up to max_iter RRR iterations, stopping after the first whose RRR_err < tol.
 * err_out[t] = RRR_err of iteration t = rms over all item-edge pairs of (A - B), i.e.
 * sqrt(sum (x_A - x_B)^2 + (w_A - w_B)^2) / (n_items * n_edges)) (the published
 * program's normalisation; eq 22 is this times sqrt(n_edges)).
 * On return code/feature hold the A projection of the last iteration run (its solution).
 * Returns the number of iterations run. */
int lwl_nmf_iterate(lwl_nmf_ws *ws, int max_iter, double tol, double *err_out);
long lwl_nmf_scratch_size(int n_items, int n_data, int n_code);

/* The same with the state in single precision (float): half the memory traffic.  Fields
 * as lwl_nmf_ws; data, x, w, code and feature are float; mult and scratch stay double
 * (the root search and the consensus sums run in double, see real.h). */
typedef struct {
    int n_items, n_data, n_code;
    double omega, beta;
    const float *data;
    float *x, *w;
    float *code;
    float *feature;
    double *mult;
    double *scratch;
    int fp_flags;
    lwl_processes processes;
} lwl_nmf_ws_f32;

int lwl_nmf_iterate_f32(lwl_nmf_ws_f32 *ws, int max_iter, double tol, double *err_out);

/* ==== network engine (paper section 5, 6; eq 26-33, 42) ================================
 * A network is a directed graph (cycles allowed).  Node n has the in-edges
 * in_start[n] .. in_start[n+1]-1 (edges are numbered sorted by destination, so a node's
 * in-edges are contiguous) and the out-edges out_edges[out_start[n] .. out_start[n+1]-1].
 * A node has x (edge values, consensus x_A) iff outdeg > 0 and y, b iff indeg > 0.
 *
 * State per batch item k:  x, w per edge;  y, b per node.  Items are stored in blocks of
 * LWL_LANES: item k is lane l = k % LWL_LANES of block kb = k / LWL_LANES, and
 *     edge arrays [blocks][n_edges][LWL_LANES]:  x[(kb * n_edges + e) * LWL_LANES + l],
 *     node arrays [blocks][n_nodes][LWL_LANES]:  y[(kb * n_nodes + n) * LWL_LANES + l],
 * so the engine works on LWL_LANES items at once (vector instructions).  The last block is
 * padded to LWL_LANES; its padding lanes must hold finite values (e.g. copies of an item)
 * and take no part in any sum over items.  Arrays per item ([n_items]: label, exempt, ...)
 * are not blocked.
 * Metric (eq 27): x and w weight 1; y and b weight g2[n] (outdeg for hidden nodes, Upsilon
 * for class nodes: set by the caller).  x_A[k][n] is penalised with weight outdeg(n)
 * (Lemma 4.1).
 *
 * A: x_A = mean of x over the node's out-edges; the node side constraint of kind[n] on
 *    (x_A, y, b); the class step on the class nodes (batch level, class_mode);
 *    w_A = mean of w over items, every node's incoming weights rescaled to norm omega.
 * B: x.w = omega y at every (k, node with in-edges) (bilinear projection with g2[n]);
 *    b_B[n] = mean over items of b.
 */

enum { LWL_LANES = 16 };  /* one 512-bit vector of floats, two of doubles */

/* The state arrays below (and the NMF workspace's) may start anywhere; started on a 64-byte
 * boundary, as lwl's Python side allocates them, none of the hot loops' vector loads and
 * stores is split across two cache lines. */

/* Node kinds (the side constraint of a node, paper eq 26b-e, 28-31) are defined in
 * constraints.c alone: "input" (data node: free unless clamped), "linear", "relu", "step",
 * "zigmoid" (activations) and "class" (constrained by the class step).  kind[n] holds the
 * code lwl_node_kind returns for the name; delta[n] is the kind's parameter (full width of
 * the step's gap or the zigmoid's ramp, centred on z = y - b = 0; the margin for class
 * nodes). */

/* Class step variants (class_mode). */
enum {
    LWL_CLASS_PLAIN = 0,   /* eq 26d,e for every item with a label >= 0                        */
    LWL_CLASS_EE = 1,      /* eq 32: the ee items of largest class distance left unprojected  */
    LWL_CLASS_RELABEL = 2, /* eq 33: up to ee items of largest positive excess distance take
                              their nearest class                                              */
    LWL_CLASS_FPA = 3      /* RRRclass_fp: classes 0 = fake, 1 = genuine; up to fpa * (fakes in
                              the batch) fakes nearer to genuine are projected as genuine      */
};

typedef struct {
    /* graph */
    int n_nodes, n_edges;
    const int *in_start;     /* [n_nodes + 1]                                            */
    const int *src;          /* [n_edges]  source node of edge e                         */
    const int *out_start;    /* [n_nodes + 1]                                            */
    const int *out_edges;    /* [n_edges]  edge ids grouped by source                    */
    const int *outdeg;       /* [n_nodes]                                                */
    const int *kind;         /* [n_nodes]  node kind codes (lwl_node_kind)                */
    const double *delta;     /* [n_nodes]  the kind's parameter                          */
    const double *g2;        /* [n_nodes]  metric weight of y and b (> 0 where indeg > 0) */
    const int *order;        /* [n_nodes]  node order of the forward pass                */
    int n_class;
    const int *class_nodes;  /* [n_class]  labels index this list                        */
    /* options */
    double omega, beta;
    int class_mode, ee;      /* ee: exemptions (EE, RELABEL) per batch                   */
    int n_threads;           /* OpenMP threads over item blocks (1 = serial; ignored in a
                                build without OpenMP); results do not depend on it          */
    double fpa;              /* false-positive allowance (FPA)                            */
    /* batch */
    int n_items;
    const double *clamp;     /* node array: clamp value, NaN = not clamped (may be
                                NULL: nothing clamped)                                    */
    const int *label;        /* [n_items]  index into class_nodes, -1 = no class constraint
                                (may be NULL)                                             */
    /* RRR iterate */
    double *x, *w;           /* edge arrays (blocks of LWL_LANES items, above)           */
    double *y, *b;           /* node arrays                                              */
    /* A projection of the last iteration run (its solution at a fixed point) */
    double *xa, *ya, *ba;    /* node arrays                                              */
    double *wa;              /* [n_edges]  consensus weights w_A                          */
    double *bb;              /* [n_nodes]  consensus biases b_B (of the last B step)      */
    double *mult;            /* node array: bilinear multipliers (warm starts; set
                                to 0 at the start of a batch)                             */
    /* class step outcome of the last iteration */
    int *exempt;             /* [n_items]  1 = left unprojected (EE)                      */
    int *assigned;           /* [n_items]  class projected to (-1: none / exempted)       */
    double *class_dist;      /* [n_items]  squared class-projection distance to the label */
    double *scratch;         /* [lwl_net_scratch_size(ws)] for the largest n_items used    */
    int sums_ready;          /* 1: scratch holds the consensus sums of x and w as they stand,
                                so the next lwl_net_iterate need not re-read the state for
                                them (set by lwl_net_iterate, cleared by lwl_net_start_batch;
                                a caller that writes x or w itself must clear it)          */
    int fp_flags;            /* set by lwl_net_iterate: LWL_FP_* events of its last call, in
                                any thread                                                */
    lwl_processes processes; /* the processes sharing the batch (above)                 */
} lwl_net_ws;
/* Built with OpenMP (the default, see lwl/_build.py), the node step and the edge pass run
 * items in parallel; sums are formed in fixed blocks of items, so the results are the
 * same bits for any number of threads and however iterations are split into calls. */

/* Doubles of scratch the workspace needs (graph and n_items set). */
long lwl_net_scratch_size(const lwl_net_ws *ws);
/* The same from the sizes alone, so a caller can check memory before building anything. */
long lwl_net_scratch_doubles(int n_items, int n_nodes, int n_edges, int max_indegree);

/* Run up to max_iter RRR iterations; err_out[t] = RRR_err of iteration t (eq 42):
 * sqrt(sum over k of (sum_e |x_A - x_B|^2 + |w_A - w_B|^2 + sum_n g2 ((y_A - y_B)^2 +
 * (b_A - b_B)^2)) / n_items).  Stops after the first iteration with RRR_err < tol.
 * Returns the number of iterations run. */
int lwl_net_iterate(lwl_net_ws *ws, int max_iter, double tol, double *err_out);

/* Start a batch (section 5.4, 6.1.1) from a forward pass: every item's x on edge i -> j
 * set to v[k][i], w to the consensus weights wa, y to y[k][n], b to the consensus biases
 * bb, the multipliers to 0 (the root searches start at u = 0), in one pass over the state.
 * v, y: [n_items][n_nodes] as lwl_net_forward gives them; n_items, wa, bb set in ws. */
void lwl_net_start_batch(lwl_net_ws *ws, const double *v, const double *y);

/* Forward pass ("feed-forward", feed-around for cyclic graphs) of n_items items through
 * weights w[n_edges] and biases bias[n_nodes], in the node order ws->order taken round
 * from an item's first clamped node (section 6.1.1: a code item of the cyclic autoencoder
 * starts at the code layer): y[j] = sum_i v[i] w[i->j] / omega, v[j] = f(y[j] - b[j]);
 * v = y - b at class (and input nodes with in-edges); a clamped node (clamp[k][n] not NaN)
 * outputs the clamp value, its y is computed from the final values.
 * clamp: [n_items][n_nodes] or NULL.  Outputs v[n_items][n_nodes] (the node values: x_A,
 * or y - b at class nodes), y[n_items][n_nodes] (0 where indeg = 0) and, unless NULL,
 * fv[n_items][n_nodes]: f(y - b) at every node with in-edges (at a clamped node, what the
 * net reconstructs there: eq 40-41), v elsewhere.  Only the graph fields, kind, delta and
 * omega of ws are read.  Up to LWL_LANES consecutive items that start at the same node are
 * taken side by side (each item's sums in the same order as alone; keep the items of one
 * start together), in scratch: 3 n_nodes LWL_LANES values of the state's type (float in
 * lwl_net_forward_f32), whatever they hold. */
void lwl_net_forward(const lwl_net_ws *ws, int n_items, const double *clamp, const double *w,
                     const double *bias, double *v, double *y, double *fv, double *scratch);

/* The code of the node kind called name ("relu", ...), or -1 if there is no such kind. */
int lwl_node_kind(const char *name);

/* One node's side constraint (for tests and tools): projects (x, y, b) in the metric
 * wx (x'-x)^2 + g2 ((y'-y)^2 + (b'-b)^2) to the set of kind (class: unchanged), with clamp
 * value c (NaN = none).  wx = outdeg (0: no x), g2 = 0: no y, b. */
void lwl_project_node(int kind, double delta, double wx, double g2, double c,
                      double *x, double *y, double *b);

/* The activation x = f(z) of kind that the forward pass uses (z = y - b): the x of the
 * point of the kind's set nearest in z (in the step's gap, z >= 0 gives 1); z itself for
 * the linear, input and class kinds. */
double lwl_node_activation(int kind, double delta, double z);

/* One class node's margin constraint: z = y - b >= delta if labelled, z <= 0 otherwise;
 * y and b move equally and oppositely by dz/2.  Returns dz^2 / 2 = (y'-y)^2 + (b'-b)^2
 * (times g2 it is the metric distance). */
double lwl_project_margin(int labelled, double delta, double *y, double *b);

/* ---- the network engine with the state in single precision (float) -------------------
 * The workspace, fields and functions are those above, with every state array (x, w, y, b,
 * xa, ya, ba, wa, bb) and the clamps in float, so that an iteration moves half the bytes;
 * the multipliers, class distances and scratch stay double (the root search, the class
 * step and the sums over items and edges run in double, from short runs summed in float
 * within the edge pass: engine.c).  The forward pass
 * takes and gives float, accumulating in double. */
typedef struct {
    int n_nodes, n_edges;
    const int *in_start;
    const int *src;
    const int *out_start;
    const int *out_edges;
    const int *outdeg;
    const int *kind;
    const double *delta;
    const double *g2;
    const int *order;
    int n_class;
    const int *class_nodes;
    double omega, beta;
    int class_mode, ee;
    int n_threads;
    double fpa;
    int n_items;
    const float *clamp;
    const int *label;
    float *x, *w;
    float *y, *b;
    float *xa, *ya, *ba;
    float *wa;
    float *bb;
    double *mult;
    int *exempt;
    int *assigned;
    double *class_dist;
    double *scratch;
    int sums_ready;
    int fp_flags;
    lwl_processes processes;
} lwl_net_ws_f32;

long lwl_net_scratch_size_f32(const lwl_net_ws_f32 *ws);
int lwl_net_iterate_f32(lwl_net_ws_f32 *ws, int max_iter, double tol, double *err_out);
void lwl_net_start_batch_f32(lwl_net_ws_f32 *ws, const float *v, const float *y);
void lwl_net_forward_f32(const lwl_net_ws_f32 *ws, int n_items, const float *clamp,
                         const float *w, const float *bias, float *v, float *y, float *fv,
                         float *scratch);

/* Which version of the hot loops this CPU runs (lanes.h: AVX-512, AVX2 or baseline). */
const char *lwl_vector_path(void);

#endif
