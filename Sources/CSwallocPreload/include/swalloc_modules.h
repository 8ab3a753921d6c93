/*
 * The modules loaded in the process, for the profile's "modules" list: so
 * that the report can tell whether the file it reads source lines from is
 * still the one that ran (its GNU build-id).
 */
#ifndef SWALLOC_MODULES_H
#define SWALLOC_MODULES_H

#include <stddef.h>
#include <stdint.h>

#pragma clang assume_nonnull begin

/* Calls `visit` for each loaded module: its path ("" for the executable),
   load base, the end of its last loadable segment, and build-id (NULL and 0 when it has none). dl_iterate_phdr: no
   allocation; call it from the report only. */
typedef void (*swalloc_module_visitor)(void *_Nullable context, const char *path, uintptr_t base,
                                       uintptr_t end, const unsigned char *_Nullable build_id, size_t build_id_length);
void swalloc_visit_modules(swalloc_module_visitor visit, void *_Nullable context) __attribute__((visibility("hidden")));

/* Modules loaded and unloaded so far (glibc's dlpi_adds, and dlpi_subs in
   the high half): a change means the module list changed. */
uint64_t swalloc_loader_generation(void) __attribute__((visibility("hidden")));

#pragma clang assume_nonnull end

#endif
