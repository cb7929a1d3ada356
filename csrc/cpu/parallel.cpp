#include "parallel.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace fastcodec {

namespace {

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
    std::unique_lock<std::mutex> job(job_, std::try_to_lock);
    if (!job.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(m_);
      task_ = &task;
      tasks_ = tasks;
      next_.store(0);
      busy_.store((int)threads_.size());
      generation_.fetch_add(1, std::memory_order_release);
    }
    start_.notify_all();
    drain();
    // The workers finish their last chunks about now: spin before sleeping, as they do.
    const auto spin_until = std::chrono::steady_clock::now() + kSpin;
    while (busy_.load(std::memory_order_acquire) != 0 &&
           std::chrono::steady_clock::now() < spin_until)
      for (int i = 0; i < 16; ++i) pause();
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [this] { return busy_.load() == 0; });
    task_ = nullptr;
    return true;
  }

 private:
  void drain() {
    for (int t = next_.fetch_add(1); t < tasks_; t = next_.fetch_add(1)) (*task_)(t);
  }
  void work() {
    uint64_t seen = 0;
    for (;;) {
      // Spin a little before sleeping: back-to-back calls (a decode loop) then find
      // their worker awake; waking a sleeping thread can take longer than a whole job
      // on a virtual machine.
      const auto spin_until = std::chrono::steady_clock::now() + kSpin;
      while (generation_.load(std::memory_order_acquire) == seen &&
             std::chrono::steady_clock::now() < spin_until)
        for (int i = 0; i < 16; ++i) pause();
      {
        std::unique_lock<std::mutex> lock(m_);
        start_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
        if (stop_) return;
        seen = generation_.load();
      }
      drain();
      std::lock_guard<std::mutex> lock(m_);
      if (busy_.fetch_sub(1, std::memory_order_release) == 1) done_.notify_one();
    }
  }
  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  static constexpr std::chrono::microseconds kSpin{100};

  std::vector<std::thread> threads_;
  std::mutex job_, m_;
  std::condition_variable start_, done_;
  const std::function<void(int)>* task_ = nullptr;
  int tasks_ = 0;
  std::atomic<int> busy_{0};
  std::atomic<int> next_{0};
  std::atomic<uint64_t> generation_{0};
  bool stop_ = false;
};

std::atomic<int> g_requested{0};
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
  // Asked once: hardware_concurrency() reads the CPU count from the OS (~3 us).
  static const int hw = std::max(1, (int)std::thread::hardware_concurrency());
  return hw;
}

void set_num_threads(int n) { g_requested.store(n < 0 ? 0 : n); }

bool run_on_pool(int threads, int tasks, const std::function<void(int)>& task) {
  Pool* pool = pool_for(threads);
  if (!pool || pool->size() < threads) return false;
  return pool->run(tasks, task);
}

}  // namespace fastcodec
