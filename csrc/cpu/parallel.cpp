#include "parallel.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace fastcodec {

namespace {

// One call's tasks. Shared with the workers that took it: a worker that wakes after
// the call returned still holds the job, finds no task left and never touches `task`.
struct Job {
  const std::function<void(int)>* task;
  int tasks;
  std::atomic<int> next{0};
  std::atomic<int> done{0};
};

class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int size() const { return (int)threads_.size() + 1; }

  bool run(int tasks, const std::function<void(int)>& task) {
    std::unique_lock<std::mutex> call(call_, std::try_to_lock);
    if (!call.owns_lock()) return false;
    auto job = std::make_shared<Job>();
    job->task = &task;
    job->tasks = tasks;
    {
      std::lock_guard<std::mutex> lock(m_);
      job_ = job;
      ++generation_;
    }
    start_.notify_all();
    drain(*job);
    // Every task is claimed now. Wait only for those still running on a worker: spin
    // briefly (their chunks end about when ours did), then sleep.
    for (int i = 0; i < 4000 && job->done.load(std::memory_order_acquire) != tasks; ++i) pause();
    if (job->done.load(std::memory_order_acquire) != tasks) {
      std::unique_lock<std::mutex> lock(m_);
      finished_.wait(lock, [&] { return job->done.load(std::memory_order_acquire) == tasks; });
    }
    std::lock_guard<std::mutex> lock(m_);
    if (job_ == job) job_.reset();
    return true;
  }

 private:
  void drain(Job& job) {
    for (int t = job.next.fetch_add(1); t < job.tasks; t = job.next.fetch_add(1)) {
      (*job.task)(t);
      if (job.done.fetch_add(1, std::memory_order_acq_rel) + 1 == job.tasks) {
        std::lock_guard<std::mutex> lock(m_);  // the caller may be about to sleep
        finished_.notify_all();
      }
    }
  }
  // Workers sleep between calls (no spinning: the process may have nothing else to
  // do, or every core may be running a DataLoader worker).
  void work() {
    uint64_t seen = 0;
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(m_);
        start_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      if (job) drain(*job);
    }
  }
  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  std::vector<std::thread> threads_;
  std::mutex call_, m_;
  std::condition_variable start_, finished_;
  std::shared_ptr<Job> job_;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

std::atomic<int> g_requested{0};
std::atomic<uint64_t> g_pool_calls{0};
std::atomic<Pool*> g_pool{nullptr};

void forget_pool_in_child() {
  // The child has none of the pool's threads; its mutexes may be held by threads
  // that no longer exist. Leak it and let the next call build a new one.
  g_pool.store(nullptr);
}

Pool* pool_for(int threads) {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, forget_pool_in_child);
    return true;
  }();
  (void)registered;
  Pool* pool = g_pool.load();
  if (pool && pool->size() >= threads) return pool;
  Pool* fresh = new Pool(threads - 1);
  if (g_pool.compare_exchange_strong(pool, fresh)) return fresh;  // an old pool stays
  delete fresh;                                                   // alive: in use maybe
  return g_pool.load();
}

}  // namespace

int num_threads() {
  const int n = g_requested.load();
  if (n > 0) return n;
  // Asked once (~3 us). The CPUs this process may run on, not the machine's: under
  // taskset, a container's cpuset or a batch scheduler's (Slurm pins a job to its
  // cores), threads beyond those only take turns on them.
  static const int cpus = [] {
#ifdef __linux__
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
      return std::max(1, CPU_COUNT(&allowed));
#endif
    return std::max(1, (int)std::thread::hardware_concurrency());
  }();
  return cpus;
}

void set_num_threads(int n) { g_requested.store(n < 0 ? 0 : n); }

bool run_on_pool(int threads, int tasks, const std::function<void(int)>& task) {
  Pool* pool = pool_for(threads);
  if (!pool || pool->size() < threads) return false;
  const bool ran = pool->run(tasks, task);
  if (ran) g_pool_calls.fetch_add(1, std::memory_order_relaxed);
  return ran;
}

uint64_t pool_calls() { return g_pool_calls.load(std::memory_order_relaxed); }

}  // namespace fastcodec
