// What the pybind11 binding files share: array types that convert to C-contiguous
// float32/float64 on the way in, and the argument check that raises ValueError.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/stl.h>  // tuple_caster, extended below

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "fastcodec/blur.h"

namespace fastcodec {

using F32 = pybind11::array_t<float, pybind11::array::c_style | pybind11::array::forcecast>;
using F64 = pybind11::array_t<double, pybind11::array::c_style | pybind11::array::forcecast>;
using U8 = pybind11::array_t<uint8_t, pybind11::array::c_style | pybind11::array::forcecast>;
using I64 = pybind11::array_t<int64_t, pybind11::array::c_style | pybind11::array::forcecast>;

// A check of the bindings' arguments (ValueError when ok is false). msg is a string
// literal, or a callable that builds the message: the bindings check on every call,
// and a std::string made before the test costs a heap allocation each time.
template <typename Message>
inline void require(bool ok, const Message& msg) {
  if (ok) return;
  if constexpr (std::is_invocable_v<const Message&>) throw std::invalid_argument(msg());
  else throw std::invalid_argument(msg);
}

inline void require_kernel(int k, const char* name = "blur kernel size") {
  require(k >= 1 && k % 2 == 1 && k <= kMaxBlurKernel, [&] {
    return std::string(name) + " must be odd and in [1, " + std::to_string(kMaxBlurKernel) +
           "], got " + std::to_string(k);
  });
}

// keypoints (B, N, K, 2) and keypoints_visible (B, N, K), as every encoder takes them.
inline void require_keypoints(const F64& kps, const F64& vis) {
  require(kps.ndim() == 4 && kps.shape(3) == 2, "keypoints must be (B, N, K, 2)");
  require(vis.ndim() == 3 && vis.shape(0) == kps.shape(0) && vis.shape(1) == kps.shape(1) &&
              vis.shape(2) == kps.shape(2),
          "keypoints_visible must be (B, N, K)");
}

// An array's shape, or its leading axes, on the stack (every call builds a few for the
// output-buffer checks; a std::vector would allocate each).
struct Shape {
  int64_t dims[65];  // NumPy arrays have at most 64 axes, plus one appended here
  size_t ndim = 0;
  void push_back(int64_t d) { dims[ndim++] = d; }
  const int64_t* begin() const { return dims; }
  const int64_t* end() const { return dims + ndim; }
  size_t size() const { return ndim; }
};

// Whether a's dtype is T in native byte order: the descriptor's fields first (this
// runs for every array of every call); for integers an equivalent dtype object second
// (long and long long are both 64-bit: two type numbers).
template <typename T>
bool has_dtype(const pybind11::array& a) {
  namespace d = pybind11::detail;
  const auto* descr = d::array_descriptor_proxy(d::array_proxy(a.ptr())->descr);
  if (descr->type_num == d::npy_format_descriptor<T>::value)
    return descr->byteorder == '=' || descr->byteorder == '|';
  if constexpr (std::is_integral<T>::value) return a.dtype().is(pybind11::dtype::of<T>());
  return false;
}

}  // namespace fastcodec

// pybind11's caster of F32 / F64 / U8 / I64 arguments has NumPy convert every argument
// (PyArray_FromAny: ~0.35 us each on a 2.25 GHz Zen 2, also when nothing needs
// converting, as for every array the front passes). This one takes a native,
// C-contiguous array of the dtype as it is, and converts anything else as pybind11's.
namespace PYBIND11_NAMESPACE {
namespace detail {

template <typename T>
class native_array_caster {
  using Array = array_t<T, array::c_style | array::forcecast>;

 public:
  static constexpr auto name = handle_type_name<Array>::name;

  bool load(handle src, bool convert) {
    if (npy_api::get().PyArray_Check_(src.ptr())) {
      const auto a = reinterpret_borrow<array>(src);
      if (fastcodec::has_dtype<T>(a) && (a.flags() & array::c_style)) {
        value = reinterpret_borrow<Array>(src);
        return true;
      }
    }
    if (!convert && !Array::check_(src)) return false;
    value = Array::ensure(src);
    return static_cast<bool>(value);
  }

  static handle cast(const Array& src, return_value_policy, handle) {
    return src.inc_ref();
  }

  operator Array*() { return &value; }
  operator Array&() { return value; }
  template <typename U>
  using cast_op_type = ::pybind11::detail::cast_op_type<U>;

 private:
  Array value = reinterpret_borrow<Array>(handle());  // empty: no array built per call
};

template <>
class type_caster<fastcodec::F32> : public native_array_caster<float> {};
template <>
class type_caster<fastcodec::F64> : public native_array_caster<double> {};
template <>
class type_caster<fastcodec::U8> : public native_array_caster<uint8_t> {};
template <>
class type_caster<fastcodec::I64> : public native_array_caster<int64_t> {};

// (w, h) sizes and (sx, sy) scales: the front passes tuples of two Python floats, read
// here directly (pybind11's pair caster goes through the sequence protocol: ~0.1 us);
// anything else converts as pybind11's.
template <typename T>
class float_pair_caster {
  using Generic = tuple_caster<std::pair, T, T>;
  using Pair = std::pair<T, T>;

 public:
  PYBIND11_TYPE_CASTER(Pair, const_name("tuple[float, float]"));

  bool load(handle src, bool convert) {
    PyObject* p = src.ptr();
    if (PyTuple_CheckExact(p) && PyTuple_GET_SIZE(p) == 2 &&
        PyFloat_CheckExact(PyTuple_GET_ITEM(p, 0)) && PyFloat_CheckExact(PyTuple_GET_ITEM(p, 1))) {
      value = {static_cast<T>(PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(p, 0))),
               static_cast<T>(PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(p, 1)))};
      return true;
    }
    Generic generic;
    if (!generic.load(src, convert)) return false;
    value = static_cast<Pair>(generic);
    return true;
  }
};

template <>
class type_caster<std::pair<float, float>> : public float_pair_caster<float> {};
template <>
class type_caster<std::pair<double, double>> : public float_pair_caster<double> {};

}  // namespace detail
}  // namespace PYBIND11_NAMESPACE

namespace fastcodec {

// An array a kernel writes (an output buffer, or keypoints updated in place): exactly
// dtype T, C-contiguous and writeable, else TypeError / ValueError (a converted copy
// would silently drop what the kernel writes). Returns its data.
template <typename T>
T* writable_data(const pybind11::array& a, const char* name) {
  if (!has_dtype<T>(a))
    throw pybind11::type_error(std::string(name) + ": dtype " +
                               std::string(pybind11::str(pybind11::dtype::of<T>())) +
                               " expected, got " + std::string(pybind11::str(a.dtype())));
  if (!(a.flags() & pybind11::array::c_style) || !a.writeable())
    throw std::invalid_argument(std::string(name) + ": must be C-contiguous and writeable");
  return static_cast<T*>(const_cast<void*>(a.data()));
}

// An output buffer the front allocated (backends/contract.py): writable_data of the
// given shape, else ValueError.
template <typename T>
T* out_buffer(const pybind11::array& a, const int64_t* shape, size_t ndim, const char* name) {
  T* data = writable_data<T>(a, name);
  bool same = a.ndim() == static_cast<pybind11::ssize_t>(ndim);
  for (size_t d = 0; same && d < ndim; ++d) same = a.shape(d) == shape[d];
  if (!same) {  // messages are built on failure only: this runs on every call
    std::string want = "(";
    for (size_t d = 0; d < ndim; ++d) want += (d ? ", " : "") + std::to_string(shape[d]);
    throw std::invalid_argument(std::string(name) + ": output buffer of shape " + want +
                                ") expected");
  }
  return data;
}

template <typename T>
T* out_buffer(const pybind11::array& a, std::initializer_list<int64_t> shape, const char* name) {
  return out_buffer<T>(a, shape.begin(), shape.size(), name);
}

template <typename T>
T* out_buffer(const pybind11::array& a, const Shape& shape, const char* name) {
  return out_buffer<T>(a, shape.begin(), shape.size(), name);
}

// The shape of an (..., H, W) array's leading axes, and their product.
inline Shape lead_shape(const pybind11::array& a, int trailing) {
  Shape s;
  for (pybind11::ssize_t d = 0; d < a.ndim() - trailing; ++d) s.push_back(a.shape(d));
  return s;
}

// Releases the GIL for the scope where the work is worth it: around a few thousand
// elements and less, releasing and taking it back costs more than the kernel.
class ReleaseGilFor {
 public:
  explicit ReleaseGilFor(int64_t elements) {
    if (elements > 4096) release_.emplace();
  }

 private:
  std::optional<pybind11::gil_scoped_release> release_;
};

inline int64_t leading(const pybind11::array& a, int trailing) {
  int64_t n = 1;
  for (int d = 0; d < a.ndim() - trailing; ++d) n *= a.shape(d);
  return n;
}

}  // namespace fastcodec
