/* The live profile's layout is a header (include/swalloc_live.h), shared
   by the preload library and the CLI; SwiftPM needs a source file for the
   target that carries it. */
#include "swalloc_live.h"

_Static_assert(sizeof(struct swalloc_live_module) == 280, "module entries are 280 bytes");
