/* Minimal stand-in for glibc's generated config.h, force-included (-include)
   into the support/ objects, the way glibc's libc-symbols.h includes it.  */
#ifndef SHIM_CONFIG_H
#define SHIM_CONFIG_H
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
/* config.h.in default (configure --with-timeoutfactor).  */
#define TIMEOUTFACTOR 1
/* glibc's internal include/ wrappers pull these in implicitly.  */
#include <limits.h>
#endif
