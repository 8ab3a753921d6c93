/* Minimal stand-in for glibc's internal libc-symbols.h: the malloc tests
   only include it for the compat-symbol machinery in shlib-compat.h.  */
#ifndef SHIM_LIBC_SYMBOLS_H
#define SHIM_LIBC_SYMBOLS_H
#include <config.h>
#endif
