/* mprotect_skip: preloaded in front of libswalloc.so, turns every mprotect
   that libswalloc.so itself makes on anonymous memory into a no-op that
   succeeds, and passes everyone else's to glibc. With the sampled guard, that leaves the guard
   pool open (no page is ever protected) and keeps everything else the
   sampled guard does: the draw, the copy into a slot, the slack check, the
   free stack. The difference between a run with it and a run without it is
   what the two protection changes of each guarded block cost inside the
   program, as opposed to in a loop alone (mprotect_pair.c).
   A measuring tool only: with it, nothing is guarded.

     cc -O2 -shared -fPIC interpose/bench/mprotect_skip.c -o mprotect_skip.so -ldl
     LD_PRELOAD="$PWD/mprotect_skip.so $PWD/dist/lib/libswalloc.so" SWALLOC_GUARD=sample:1/1000 prog

   docs/benchmarks.md, "The sampled guard", has the measurement. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Whether `address` lies in libswalloc.so. dladdr takes the loader's lock
   and does not allocate. */
static int in_swalloc(void *address) {
    Dl_info info;
    return dladdr(address, &info) != 0 && info.dli_fname != NULL && strstr(info.dli_fname, "libswalloc") != NULL;
}

/* Whether `address` lies in a loaded file (a relocation table the library
   patches, unwinder_probe.c), not in an anonymous mapping (the pool). */
static int in_a_module(void *address) {
    Dl_info info;
    return dladdr(address, &info) != 0;
}

int mprotect(void *address, size_t length, int protection) {
    if (in_swalloc(__builtin_return_address(0)) && !in_a_module(address)) return 0;
    return (int)syscall(SYS_mprotect, address, length, protection);
}
