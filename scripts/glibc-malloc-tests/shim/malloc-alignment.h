/* forwarding shim (x86_64 uses the generic one) */
#include "../src/sysdeps/generic/malloc-alignment.h"
