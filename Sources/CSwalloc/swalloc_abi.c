/*
 * The C ABI of libswalloc.so is declared in include/swalloc.h; this target
 * only carries that header to the Swift API (SwiftPM wants a source file).
 * The functions themselves live in the preload library and are found at run
 * time (Swalloc's GlobalAllocatorInstallation uses dlsym), so that programs
 * and plug-ins using the API need not link against libswalloc.so.
 */
#include "swalloc.h"
