/* zlib (Debian's zlib1g-dev), for writing gzip files: pprof profiles are
   gzip-compressed protobuf. */
#include <zlib.h>
