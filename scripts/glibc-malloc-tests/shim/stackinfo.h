/* forwarding shim */
#include "../src/sysdeps/x86_64/stackinfo.h"
