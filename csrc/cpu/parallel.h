// Multi-threading for the CPU kernels: a small persistent pool that is fork-safe, never
// spins while idle, and never makes a call wait for a thread that has not started.
//
// GNU OpenMP's pool hangs in children forked after it ran (torch DataLoader workers).
// Here a pthread_atfork child handler drops the pool (its threads do not exist in the
// child) and the next call builds a fresh one; a pool that is busy — or whose lock a
// forking thread held — is never waited for: the call then runs on its own thread.
//
// Encoders run with denormal results flushed to zero (MXCSR FTZ, Denormals::Flushed):
// they never write a value below FLT_MIN, and never pay the 5-100x slow path of
// producing one (docs/deviations.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>

#include "flush_denormals.h"

namespace fastcodec {

// The thread limit: set_num_threads(n), or one per core when n = 0.
int num_threads();
void set_num_threads(int n);

// Runs task(t) for t in [0, tasks) on up to `threads` threads (the caller included),
// each taking the next unclaimed t; returns false, having run nothing, when no pool
// is free. Returns once every task has run; a worker that wakes after the caller
// has claimed every task is not waited for.
bool run_on_pool(int threads, int tasks, const std::function<void(int)>& task);

// How many calls ran on more than one thread so far in this process (for tests).
uint64_t pool_calls();

// How many threads a job of `work_ns` estimated single-thread nanoseconds gets: one
// unless every thread would get at least kMinNsPerThread. A sleeping worker takes
// 10-100 us to wake on a virtual machine, more when its core runs another process.
// Measured on a 2-core Zen 2 VM, 1 vs 2 threads, hot / cold / other core busy: a 65 us
// job gained hot (61 -> 43 us) but lost busy (61 -> 67); 150 us gained hot and cold and
// broke even busy (146 -> 96, 147 -> 110, 144 -> 147); 380 us gained in all three.
// So a per-sample top-down call (17 maps: 10-70 us) stays on the calling thread.
constexpr double kMinNsPerThread = 75e3;
inline int64_t threads_for(int64_t n, double work_ns) {
  int64_t threads = std::min<int64_t>(n, (int64_t)(work_ns / kMinNsPerThread));
  // The work cap first: num_threads() may read the core count; small jobs skip it.
  if (threads > 1) threads = std::min<int64_t>(threads, num_threads());
  return std::max<int64_t>(threads, 1);
}

// Runs fn(begin, end) over [0, n) in contiguous chunks. `ns_per_item` estimates one
// item's single-thread time in nanoseconds (calibrated on a 2-core Zen 2 VM; only the
// order of magnitude matters). Work is cut into four chunks per thread, claimed in
// turn, so a worker that wakes late still finds some, or none and is not waited for.
//
// Denormals::Flushed runs every chunk with denormal results flushed to zero (FTZ): the
// encoders of heatmap-like targets, which then never write a value below FLT_MIN nor
// pay for producing one (docs/deviations.md). Decoders run Exact: their results are
// MMPose's bits (their blurs read denormals as zero on their own terms:
// reading_denormals_as_zero).
enum class Denormals { Exact, Flushed };

template <Denormals Mode = Denormals::Exact, typename Fn>
void parallel_for(int64_t n, double ns_per_item, Fn fn) {
  if (n <= 0) return;
  auto run = [&](int64_t b, int64_t e) {
    if (Mode == Denormals::Flushed) {
      const FlushDenormalResults ftz;
      fn(b, e);
    } else {
      fn(b, e);
    }
  };
  const int64_t threads = threads_for(n, n * ns_per_item);
  if (threads > 1) {
    const int64_t tasks = std::min<int64_t>(n, 4 * threads);
    const int64_t chunk = (n + tasks - 1) / tasks;
    auto task = [&](int t) {
      const int64_t b = t * chunk, e = std::min(n, b + chunk);
      if (b < e) run(b, e);
    };
    if (run_on_pool((int)threads, (int)tasks, task)) return;
  }
  run(int64_t(0), n);
}

}  // namespace fastcodec
