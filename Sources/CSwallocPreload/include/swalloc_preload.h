/*
 * swalloc_preload.h — the C half of the preload library, one header per
 * concern (included below), kept to what Swift cannot express: glibc's undeclared allocator entry points, errno, initial-
 * exec thread-local storage, static storage with a known address range, and
 * atomic primitives on process-wide state. Every function here is `static
 * inline` so that it is inlined into the Swift `@c` functions that call it
 * (docs/measurements.md, "TLS access": a TLS access is then one instruction).
 */
#ifndef SWALLOC_PRELOAD_H
#define SWALLOC_PRELOAD_H

/* dladdr, Dl_info, program_invocation_name. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <elf.h>
#include <link.h>

#include "swalloc.h"
#include "swalloc_invariants.h"
#include "swalloc_locks.h"
#include "swalloc_stderr.h"
#include "swalloc_profile_target.h"
#include "swalloc_system_limits.h"
#include "swalloc_modules.h"
#include "swalloc_locate.h"
#include "swalloc_glibc.h"
#include "swalloc_atomics.h"
#include "swalloc_thread.h"
#include "swalloc_entries.h"
#include "swalloc_debug_hooks.h"
#include "swalloc_process.h"
#include "swalloc_registered.h"
#include "swalloc_os.h"
#include "swalloc_unwinder_probe.h"
#include "swalloc_live_file.h"

#endif
