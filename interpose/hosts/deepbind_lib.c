/* libdeepbind_lib.so — loaded by deepbind with RTLD_DEEPBIND: its malloc
 * and free are the ones that flag would bind to glibc's. */
#include <stdlib.h>

void *deepbind_alloc(size_t size) { return malloc(size); }
void deepbind_free(void *block) { free(block); }
