// The part of pthreadpool's C API that xnnpack.h and bench/conv_kernels_bench.cpp use. Debian's
// libxnnpack-dev includes <pthreadpool.h> but does not depend on libpthreadpool-dev (only the runtime
// libpthreadpool0); this header is put on the include path only when the real one is missing.
#pragma once
#include <stddef.h>

typedef struct pthreadpool* pthreadpool_t;

#ifdef __cplusplus
extern "C" {
#endif
pthreadpool_t pthreadpool_create(size_t threads_count);
void pthreadpool_destroy(pthreadpool_t threadpool);
#ifdef __cplusplus
}
#endif
