/* Minimal stand-in for glibc's internal allocate_once.h (uses GCC atomics
   instead of glibc's internal __libc_allocate_once_slow).  */
#ifndef SHIM_ALLOCATE_ONCE_H
#define SHIM_ALLOCATE_ONCE_H
#include <stddef.h>
#include <stdlib.h>
static inline void *
allocate_once (void **place, void *(*allocate) (void *),
               void (*deallocate) (void *, void *), void *closure)
{
  void *result = __atomic_load_n (place, __ATOMIC_ACQUIRE);
  if (result != NULL)
    return result;
  result = allocate (closure);
  if (result == NULL)
    return NULL;
  void *expected = NULL;
  if (__atomic_compare_exchange_n (place, &expected, result, 0,
                                   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return result;
  if (deallocate == NULL)
    free (result);
  else
    deallocate (closure, result);
  return expected;
}
#endif
