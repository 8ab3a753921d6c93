/* forwarding shim: glibc 2.36 self-contained internal header */
#include "../src/include/libc-diag.h"
