// Host emulation of the CUDA execution model, so g++ (C++20) compiles the kernels of
// csrc/cuda/*.cu for the CPU and runs them with the semantics that matter for
// correctness (docs/design.md, "Verifying CUDA without a GPU"):
//
// - every CUDA thread of a block is a host thread (a pool sized to the block, reused
//   across blocks and launches); blocks run one after another, so a kernel's
//   `__shared__` variables (function statics here) are private to the running block;
// - `__syncthreads()` is a real barrier of the block, `__syncwarp` and the warp
//   shuffles / votes real barriers of the warp's lanes; a block whose threads reach
//   different barriers (a `__syncthreads` some threads skip) aborts with a message
//   instead of hanging or silently pairing the wrong barriers;
// - dynamic shared memory (`FC_DYNAMIC_SHARED`) is a heap buffer of exactly the
//   launch's `shared_bytes`, so AddressSanitizer catches an access past it, filled
//   with NaN bytes at the start of every block;
// - atomics are std::atomic_ref operations, the math intrinsics their libm versions.
//
// What it cannot show: the GPU memory model (a missing __syncthreads between a write
// and a read of shared memory may go unnoticed here), speed, and real warps' lock-step
// timing. Only one launch runs at a time (a process-wide lock).
#pragma once

#if !defined(FASTCODEC_CUDA_EMULATOR)
#define FASTCODEC_CUDA_EMULATOR 1
#endif

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include <unistd.h>

// ---- qualifiers --------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
// A __shared__ variable is one object for the whole block: a function-local static
// (blocks run one at a time).
#define __shared__ static

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

// Per-host-thread built-in variables, set by the launcher before each block.
inline thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;
constexpr int warpSize = 32;

namespace fc_emu {

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "cuda emulator: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

// A reusable barrier of n threads. Each arrival names its kind (a __syncthreads, the
// end of the block, a warp operation); a phase whose arrivals disagree is a divergent
// barrier, which the emulator reports rather than pairing unrelated barriers.
class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  void arrive_and_wait(unsigned kind) {
    const uint32_t g = generation_.load(std::memory_order_acquire);
    kinds_[g & 1].fetch_or(1u << kind, std::memory_order_relaxed);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
      const unsigned seen = kinds_[g & 1].load(std::memory_order_relaxed);
      if (seen & (seen - 1)) fail("threads of one block or warp met at different barriers "
                                  "(a __syncthreads or warp operation not reached by all)");
      kinds_[(g + 1) & 1].store(0, std::memory_order_relaxed);
      arrived_.store(0, std::memory_order_relaxed);
      generation_.store(g + 1, std::memory_order_release);
      generation_.notify_all();
      return;
    }
    for (uint32_t now = g; now == g; now = generation_.load(std::memory_order_acquire))
      generation_.wait(g, std::memory_order_acquire);
  }
  int size() const { return n_; }

 private:
  const int n_;
  std::atomic<int> arrived_{0};
  std::atomic<uint32_t> generation_{0};
  std::atomic<unsigned> kinds_[2] = {0, 0};
};

enum BarrierKind : unsigned { kSyncThreads = 0, kBlockEnd = 1, kWarp = 2, kBlockStart = 3 };

// One warp's lanes: a barrier and a slot per lane for exchanging values.
struct Warp {
  explicit Warp(int lanes) : barrier(lanes), lanes(lanes) {}
  Barrier barrier;
  int lanes;
  uint64_t slot[32] = {};
};

// The block now running: its barriers and dynamic shared memory.
struct Block {
  std::unique_ptr<Barrier> barrier;
  std::vector<std::unique_ptr<Warp>> warps;
  unsigned char* dynamic_shared = nullptr;
};

inline Block& block() {
  static Block b;
  return b;
}

inline thread_local int tl_linear_tid = 0;

inline int lane_id() { return tl_linear_tid % 32; }
inline Warp& my_warp() { return *block().warps[tl_linear_tid / 32]; }

// The lanes a warp operation names must be the whole warp (every kernel here uses full
// warps); anything else is reported, since partial participation cannot be emulated
// with a fixed barrier.
inline void check_mask(unsigned mask) {
  const Warp& w = my_warp();
  const unsigned all = w.lanes == 32 ? 0xffffffffu : ((1u << w.lanes) - 1u);
  if ((mask & all) != all) fail("warp operation with a mask that leaves out active lanes");
}

template <typename T>
uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>);
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}

template <typename T>
T from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

// Publish v, wait for the warp, read lane src's value, wait again (so no lane
// overwrites its slot before every lane has read).
template <typename T>
T exchange(unsigned mask, T v, int src) {
  check_mask(mask);
  Warp& w = my_warp();
  const int lane = lane_id();
  w.slot[lane] = to_bits(v);
  w.barrier.arrive_and_wait(kWarp);
  const T out = from_bits<T>(w.slot[(src >= 0 && src < w.lanes) ? src : lane]);
  w.barrier.arrive_and_wait(kWarp);
  return out;
}

// A pool of host threads, one per CUDA thread of a block, kept between launches.
class Pool {
 public:
  // This process's pool. A child of fork() has none of its parent's threads: it gets a
  // fresh pool (the parent's pool object is abandoned there, never joined).
  static Pool& instance() {
    static Pool* pool = nullptr;
    static pid_t owner = 0;
    if (pool == nullptr || owner != getpid()) {
      pool = new Pool();
      owner = getpid();
    }
    return *pool;
  }

  // Runs body(block_index) on `threads` host threads for every block in order.
  void run(int threads, int64_t blocks, const std::function<void(int64_t)>& body) {
    resize(threads);
    {
      std::lock_guard<std::mutex> lock(mu_);
      body_ = &body;
      blocks_ = blocks;
      active_ = threads;
      pending_ = threads;
      ++job_;
    }
    cv_.notify_all();
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
    body_ = nullptr;
  }

 private:
  void resize(int threads) {
    while (started_ < threads) {
      const int tid = started_;
      // detached: the pool lives until the process ends (threads idle in a wait)
      std::thread([this, tid] { work(tid); }).detach();
      ++started_;
    }
  }

  void work(int tid) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int64_t)>* body;
      int64_t blocks;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return job_ != seen && tid < active_; });
        seen = job_;
        body = body_;
        blocks = blocks_;
      }
      tl_linear_tid = tid;
      for (int64_t b = 0; b < blocks; ++b) (*body)(b);
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_cv_.notify_all();
    }
  }

  int started_ = 0;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int64_t)>* body_ = nullptr;
  int64_t blocks_ = 0;
  int active_ = 0, pending_ = 0;
  uint64_t job_ = 0;
};

inline std::mutex& launch_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace fc_emu

// ---- launch --------------------------------------------------------------------------
// launch(kernel, grid, block, shared_bytes, args...): runs the kernel on the host, every
// block in turn, with blockDim.x * y * z host threads. Returns when all blocks are done
// (a GPU launch is asynchronous; the emulator has no stream to be asynchronous on).
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
            Args&&... args) {
  const int64_t threads = (int64_t)block.x * block.y * block.z;
  const int64_t blocks = (int64_t)grid.x * grid.y * grid.z;
  if (threads < 1 || threads > 1024) fc_emu::fail("block size must be in [1, 1024] threads");
  if (shared_bytes > 227 * 1024) fc_emu::fail("dynamic shared memory above 227 KiB");
  if (blocks == 0) return;
  std::lock_guard<std::mutex> guard(fc_emu::launch_mutex());
  fc_emu::Block& b = fc_emu::block();
  b.barrier = std::make_unique<fc_emu::Barrier>((int)threads);
  b.warps.clear();
  for (int64_t first = 0; first < threads; first += 32)
    b.warps.push_back(std::make_unique<fc_emu::Warp>((int)std::min<int64_t>(32, threads - first)));
  // Exactly shared_bytes (at least one byte, so the pointer is valid) on the heap, where
  // AddressSanitizer puts redzones around it.
  std::unique_ptr<unsigned char[]> dyn(new unsigned char[shared_bytes ? shared_bytes : 1]);
  b.dynamic_shared = dyn.get();
  const std::tuple<std::decay_t<Params>...> bound(std::forward<Args>(args)...);
  const std::function<void(int64_t)> body = [&](int64_t index) {
    const int t = fc_emu::tl_linear_tid;
    // Dynamic shared memory starts every block as NaN bytes (0xff), not as what the
    // previous block left: a kernel that reads it before writing gets NaNs here, as it
    // would get garbage on a GPU.
    if (t == 0) std::memset(b.dynamic_shared, 0xff, shared_bytes ? shared_bytes : 1);
    b.barrier->arrive_and_wait(fc_emu::kBlockStart);
    blockDim = block;
    gridDim = grid;
    threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
    blockIdx = dim3(index % grid.x, (index / grid.x) % grid.y, index / ((int64_t)grid.x * grid.y));
    std::apply(kernel, bound);
    b.barrier->arrive_and_wait(fc_emu::kBlockEnd);
  };
  fc_emu::Pool::instance().run((int)threads, blocks, body);
  b.dynamic_shared = nullptr;
}

// ---- dynamic shared memory -------------------------------------------------------------
// CUDA: `extern __shared__ T name[];`. The kernels write FC_DYNAMIC_SHARED(T, name), which
// expands to that under a CUDA compiler (see csrc/cuda/cuda_compat.cuh) and to a pointer
// into the launch's buffer here.
#define FC_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(::fc_emu::block().dynamic_shared)

// ---- synchronisation -----------------------------------------------------------------
inline void __syncthreads() { fc_emu::block().barrier->arrive_and_wait(fc_emu::kSyncThreads); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  fc_emu::check_mask(mask);
  fc_emu::my_warp().barrier.arrive_and_wait(fc_emu::kWarp);
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// ---- warp shuffles and votes ---------------------------------------------------------
template <typename T>
T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  const int lane = fc_emu::lane_id();
  return fc_emu::exchange(mask, v, (lane / width) * width + (src % width));
}
template <typename T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const int lane = fc_emu::lane_id();
  const int src = lane + (int)delta;
  return fc_emu::exchange(mask, v, (src / width == lane / width) ? src : lane);
}
template <typename T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const int lane = fc_emu::lane_id();
  const int src = lane - (int)delta;
  return fc_emu::exchange(mask, v, (src >= 0 && src / width == lane / width) ? src : lane);
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  const int lane = fc_emu::lane_id();
  const int src = lane ^ lane_mask;
  return fc_emu::exchange(mask, v, (src / width == lane / width) ? src : lane);
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  fc_emu::check_mask(mask);
  fc_emu::Warp& w = fc_emu::my_warp();
  const int lane = fc_emu::lane_id();
  w.slot[lane] = predicate ? 1 : 0;
  w.barrier.arrive_and_wait(fc_emu::kWarp);
  unsigned bits = 0;
  for (int i = 0; i < w.lanes; ++i) bits |= (w.slot[i] ? 1u : 0u) << i;
  w.barrier.arrive_and_wait(fc_emu::kWarp);
  return bits & mask;
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) {
  return __ballot_sync(mask, predicate) == __ballot_sync(mask, 1);
}
inline unsigned __activemask() { return fc_emu::my_warp().lanes == 32 ? 0xffffffffu : ((1u << fc_emu::my_warp().lanes) - 1u); }

// ---- atomics ---------------------------------------------------------------------------
template <typename T>
T atomicAdd(T* p, T v) { return std::atomic_ref<T>(*p).fetch_add(v); }
template <typename T>
T atomicSub(T* p, T v) { return std::atomic_ref<T>(*p).fetch_sub(v); }
template <typename T>
T atomicExch(T* p, T v) { return std::atomic_ref<T>(*p).exchange(v); }
template <typename T>
T atomicCAS(T* p, T expected, T desired) {
  std::atomic_ref<T>(*p).compare_exchange_strong(expected, desired);
  return expected;  // the old value, as CUDA returns it
}
// *p = v where replaces(*p, v), atomically; the old value, as CUDA returns it.
template <typename T, typename Replaces>
T atomic_replace_if(T* p, T v, Replaces replaces) {
  std::atomic_ref<T> a(*p);
  T old = a.load();
  while (replaces(old, v) && !a.compare_exchange_weak(old, v)) {}
  return old;
}
template <typename T>
T atomicMax(T* p, T v) { return atomic_replace_if(p, v, [](T o, T n) { return o < n; }); }
template <typename T>
T atomicMin(T* p, T v) { return atomic_replace_if(p, v, [](T o, T n) { return n < o; }); }
template <typename T>
T atomicOr(T* p, T v) { return std::atomic_ref<T>(*p).fetch_or(v); }
template <typename T>
T atomicAnd(T* p, T v) { return std::atomic_ref<T>(*p).fetch_and(v); }

// ---- math intrinsics -------------------------------------------------------------------
// The fast device intrinsics are approximations on a GPU; here they are the libm
// functions (the parity tolerances of docs/design.md cover the difference).
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.f / a; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : (x == x ? x : 0.f)); }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline int __float_as_int(float x) { return fc_emu::from_bits<int>(fc_emu::to_bits(x)); }
inline float __int_as_float(int x) { return fc_emu::from_bits<float>(fc_emu::to_bits(x)); }
inline unsigned __float_as_uint(float x) { return fc_emu::from_bits<unsigned>(fc_emu::to_bits(x)); }
inline float __uint_as_float(unsigned x) { return fc_emu::from_bits<float>(fc_emu::to_bits(x)); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
template <typename T>
T __ldg(const T* p) { return *p; }
using std::ceil;
using std::exp;
using std::fabs;
using std::floor;
using std::fma;
using std::log;
using std::sqrt;
using ::expf;
using ::fmaf;
using ::logf;
