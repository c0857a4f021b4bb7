// Runs fn(i) for every i in [0, count) on a few threads, for independent per-item work such as
// reading thousands of small files (a dataset's label files and image headers), where one thread
// waits on the file system most of the time. Items are handed out in small chunks from a shared
// counter, so uneven items balance out. Returns when every item is done.
//
// Exceptions: fn may throw; the remaining items still run (they are independent), and afterwards the
// exception of the lowest-numbered failed item is rethrown, so the error a user sees does not depend
// on thread timing. fn must not touch shared state without its own locking: write results into a
// slot per item (results[i]) and combine them after the call.
//
//   std::vector<Header> headers(paths.size());
//   ParallelFor(paths.size(), [&](size_t i) { headers[i] = ReadHeader(paths[i]); });
#pragma once

#include <cstddef>
#include <functional>

namespace segtune {

// threads <= 0: one per core (std::thread::hardware_concurrency). Fewer threads are started when
// there are few items; with one thread (or one chunk) everything runs on the calling thread.
void ParallelFor(size_t count, const std::function<void(size_t)>& fn, int threads = 0);

}  // namespace segtune
