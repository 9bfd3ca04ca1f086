/* engine_f32.c -- engine.c compiled with the state in float (real.h). */
#define LWL_F32 1
#include "engine.c"
