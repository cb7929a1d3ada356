// Multi-threading for the CPU kernels: a small persistent pool that is fork-safe.
//
// GNU OpenMP's pool hangs in children forked after it ran (torch DataLoader workers).
// Here a pthread_atfork child handler drops the pool (its threads do not exist in the
// child) and the next call builds a fresh one; a pool that is busy — or whose lock a
// forking thread held — is never waited for: the call then runs on its own thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>

namespace fastcodec {

int num_threads();
void set_num_threads(int n);

// Runs task(t) for t in [0, tasks) on up to `threads` threads (the caller included),
// each taking the next unclaimed t; returns false, having run nothing, when no pool
// is free.
bool run_on_pool(int threads, int tasks, const std::function<void(int)>& task);

// Runs fn(begin, end) over [0, n) in contiguous chunks. `cost` is a rough count of
// inner-loop operations per item: jobs under ~300k operations stay on the calling
// thread; below that, waking a worker costs more than it saves on a busy machine.
// Work is cut into four chunks per thread, claimed in turn, so a worker that wakes
// late still finds some.
template <typename Fn>
void parallel_for(int64_t n, double cost, Fn fn) {
  if (n <= 0) return;
  const double min_ops_per_thread = 150000.0;
  // The work cap first: num_threads() may read the core count, and small jobs must
  // not pay even that.
  int64_t threads = std::min<int64_t>(n, (int64_t)(n * cost / min_ops_per_thread));
  if (threads > 1) threads = std::min<int64_t>(threads, num_threads());
  if (threads > 1) {
    const int64_t tasks = std::min<int64_t>(n, 4 * threads);
    const int64_t chunk = (n + tasks - 1) / tasks;
    auto task = [&](int t) {
      const int64_t b = t * chunk, e = std::min(n, b + chunk);
      if (b < e) fn(b, e);
    };
    if (run_on_pool((int)threads, (int)tasks, task)) return;
  }
  fn(int64_t(0), n);
}

}  // namespace fastcodec
