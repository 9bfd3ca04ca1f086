/* nmf_f32.c -- nmf.c compiled with the state in float (real.h). */
#define LWL_F32 1
#include "nmf.c"
