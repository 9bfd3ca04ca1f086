/* constraints_f32.c -- constraints.c compiled with the state in float (real.h). */
#define LWL_F32 1
#include "constraints.c"
