/* forwarding shim */
#include "../src/sysdeps/generic/malloc-size.h"
