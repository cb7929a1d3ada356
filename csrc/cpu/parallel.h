// Multi-threading for the CPU kernels.
//
// Threads are started per call and joined before it returns: no pool outlives a call,
// so a process that forks afterwards (torch DataLoader workers) inherits no threads
// and no locks. GNU OpenMP's pool would hang such children.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace fastcodec {

int num_threads();
void set_num_threads(int n);

// Runs fn(begin, end) over [0, n) in contiguous chunks. `cost` is a rough count of
// inner-loop operations per item: small jobs stay on the calling thread, because
// starting a thread costs about as much as 20k such operations.
template <typename Fn>
void parallel_for(int64_t n, double cost, Fn fn) {
  if (n <= 0) return;
  const double min_ops_per_thread = 40000.0;
  int64_t threads = std::min<int64_t>(num_threads(), n);
  threads = std::min<int64_t>(threads, (int64_t)(n * cost / min_ops_per_thread) + 1);
  if (threads <= 1) {
    fn(int64_t(0), n);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  const int64_t chunk = (n + threads - 1) / threads;
  for (int64_t t = 1; t < threads; ++t) {
    const int64_t b = t * chunk, e = std::min(n, b + chunk);
    if (b < e) pool.emplace_back([=] { fn(b, e); });
  }
  fn(int64_t(0), std::min(n, chunk));
  for (auto& th : pool) th.join();
}

}  // namespace fastcodec
