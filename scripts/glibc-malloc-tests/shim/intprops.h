/* forwarding shim: glibc 2.36 self-contained internal header */
#include "../src/include/intprops.h"
