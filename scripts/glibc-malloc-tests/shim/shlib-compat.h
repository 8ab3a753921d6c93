/* Minimal stand-in for glibc's internal shlib-compat.h, x86_64 only:
   compat_symbol_reference binds LOCAL to SYMBOL@VERSION of the installed
   libraries.  GLIBC_2_0 is GLIBC_2.2.5 on x86_64 (first ABI).  */
#ifndef SHIM_SHLIB_COMPAT_H
#define SHIM_SHLIB_COMPAT_H
#include <libc-symbols.h>
#define SHIM_VERSION_GLIBC_2_0 "GLIBC_2.2.5"
#define SHIM_VERSION_GLIBC_2_2_5 "GLIBC_2.2.5"
#define compat_symbol_reference(lib, local, symbol, version) \
  __asm__ (".symver " #local "," #symbol "@" SHIM_VERSION_##version)
#define SHLIB_COMPAT(lib, introduced, obsoleted) 1
#define TEST_COMPAT(lib, introduced, obsoleted) 1
#endif
