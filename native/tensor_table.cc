// The tensor handle table, argument validation, error conversion, and the tensor-level
// functions: creation from and conversion to typed arrays, metadata, autograd, threads, seeds.
#include "common.h"

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>

namespace mnas {

namespace {

constexpr double kMaxSafeInteger = 9007199254740992.0;  // 2^53
constexpr int64_t kMaxGeneration = kMaxHandle >> kSlotBits;

struct Slot {
  at::Tensor tensor;
  int64_t generation = 0;
  bool live = false;
};

std::vector<Slot> g_slots(1);  // slot 0 is never used, so handle 0 means "no tensor"
std::vector<int64_t> g_free_slots;
int64_t g_live = 0;

int64_t DecodeSlot(int64_t handle) { return handle & (kSlotCount - 1); }
int64_t DecodeGeneration(int64_t handle) { return handle >> kSlotBits; }

// The shortest text that reads back as d (1.5, not 1.500000; 4194305.5, not 4.19431e+06).
std::string NumberText(double d) {
  char buf[32];
  for (int precision = 15; precision <= 17; precision++) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  return buf;
}

}  // namespace

int64_t StoreTensor(at::Tensor t) {
  int64_t slot;
  if (!g_free_slots.empty()) {
    slot = g_free_slots.back();
    g_free_slots.pop_back();
  } else {
    slot = static_cast<int64_t>(g_slots.size());
    if (slot >= kSlotCount) throw std::runtime_error("too many live tensors (4M): dispose tensors you no longer need");
    g_slots.emplace_back();
  }
  Slot& s = g_slots[slot];
  s.tensor = std::move(t);
  s.generation = s.generation >= kMaxGeneration ? 1 : s.generation + 1;
  s.live = true;
  g_live += 1;
  return (s.generation << kSlotBits) | slot;
}

static Slot* FindSlot(int64_t handle) {
  if (handle <= 0 || handle > kMaxHandle) return nullptr;
  int64_t slot = DecodeSlot(handle);
  if (slot <= 0 || slot >= static_cast<int64_t>(g_slots.size())) return nullptr;
  Slot& s = g_slots[slot];
  if (!s.live || s.generation != DecodeGeneration(handle)) return nullptr;
  return &s;
}

at::Tensor LookupTensor(int64_t handle, const char* op, const char* arg) {
  Slot* s = FindSlot(handle);
  if (s == nullptr) {
    std::ostringstream m;
    m << "argument '" << arg << "' is a disposed or unknown tensor (handle " << handle << ")";
    throw std::invalid_argument(m.str());
  }
  return s->tensor;
}

bool FreeTensor(int64_t handle) {
  Slot* s = FindSlot(handle);
  if (s == nullptr) return false;
  s->tensor = at::Tensor();
  s->live = false;
  g_free_slots.push_back(DecodeSlot(handle));
  g_live -= 1;
  return true;
}

int64_t LiveTensorCount() { return g_live; }

// ---- generators -------------------------------------------------------------------------

namespace {

struct GeneratorBox {
  at::Generator gen;  // undefined once freed
};

// Marks externals made by this addon, so no other external is ever taken for a GeneratorBox.
constexpr napi_type_tag kGeneratorTag = {0x6d6e61735f67656eULL, 0x3b9d1c0e5a7f4e21ULL};
int64_t g_live_generators = 0;

void DropGenerator(GeneratorBox* box) {
  if (box->gen.defined()) {
    box->gen = at::Generator();
    g_live_generators -= 1;
  }
}

}  // namespace

Napi::Value NewGeneratorValue(Napi::Env env, at::Generator g) {
  auto box = std::make_unique<GeneratorBox>();
  box->gen = std::move(g);
  // The finalizer runs outside any op (possibly during teardown) and must not throw.
  Napi::External<GeneratorBox> ext = Napi::External<GeneratorBox>::New(env, box.get(), [](Napi::Env, GeneratorBox* b) noexcept {
    DropGenerator(b);
    delete b;
  });
  box.release();
  g_live_generators += 1;
  ext.TypeTag(&kGeneratorTag);
  return ext;
}

int64_t LiveGeneratorCount() { return g_live_generators; }

// ---- argument readers -------------------------------------------------------------------
//
// Readers only inspect values (IsNumber, As<Number>, ...), which never run JavaScript; only
// Array::Get can (index getters), and tensors are resolved into copies, so whatever such a
// getter does to the table cannot invalidate what an op already holds.

void Args::Fail(size_t i, const char* name, const std::string& what) const {
  std::ostringstream m;
  m << op << ": argument " << i << " ('" << name << "') " << what;
  throw Napi::TypeError::New(env(), m.str());
}

void Args::FailRange(size_t i, const char* name, const std::string& what) const {
  std::ostringstream m;
  m << op << ": argument " << i << " ('" << name << "') " << what;
  throw Napi::RangeError::New(env(), m.str());
}

namespace {

// Validates one handle value; `where` is "" for an argument, " (element k)" for a list entry.
int64_t CheckHandle(const Args& a, const Napi::Value& v, size_t i, const char* name, bool allow_zero, const std::string& where) {
  if (!v.IsNumber()) a.Fail(i, name, "must be a tensor handle" + where);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d)
    a.Fail(i, name, "must be a tensor handle (an integer)" + where + ", got " + NumberText(d));
  if (d < 0 || d > static_cast<double>(kMaxHandle) || (d == 0 && !allow_zero))
    a.FailRange(i, name, "is not a valid tensor handle" + where + ": " + NumberText(d));
  return static_cast<int64_t>(d);
}

// Entries of a JS array, each read once through Get (which may run getters); the length is
// read again every step since a getter may change it.
template <typename Read>
void ForEachElement(const Args& a, size_t i, Read read) {
  Napi::Array arr = a.info[i].As<Napi::Array>();
  for (uint32_t k = 0; k < arr.Length(); k++) read(k, arr.Get(k));
}

}  // namespace

int64_t Args::Handle(size_t i, const char* name, bool allow_zero) const {
  if (i >= info.Length()) Fail(i, name, "must be a tensor handle");
  return CheckHandle(*this, info[i], i, name, allow_zero, "");
}

at::Tensor Args::Tensor(size_t i, const char* name) const { return LookupTensor(Handle(i, name, false), op, name); }

c10::optional<at::Tensor> Args::OptTensor(size_t i, const char* name) const {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return c10::nullopt;
  if (!info[i].IsNumber()) Fail(i, name, "must be a tensor handle or null");
  int64_t h = Handle(i, name, true);
  if (h == 0) return c10::nullopt;
  return LookupTensor(h, op, name);
}

// All handles are read (running any getters) before the first is resolved.
std::vector<at::Tensor> Args::TensorList(size_t i, const char* name) const {
  if (i >= info.Length() || !info[i].IsArray()) Fail(i, name, "must be an array of tensor handles");
  std::vector<int64_t> handles;
  ForEachElement(*this, i, [&](uint32_t k, const Napi::Value& v) {
    handles.push_back(CheckHandle(*this, v, i, name, false, " (element " + std::to_string(k) + ")"));
  });
  std::vector<at::Tensor> out;
  out.reserve(handles.size());
  for (int64_t h : handles) out.push_back(LookupTensor(h, op, name));
  return out;
}

int64_t Args::Int(size_t i, const char* name) const {
  if (i >= info.Length() || !info[i].IsNumber()) Fail(i, name, "must be an integer");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) Fail(i, name, "must be an integer, got " + NumberText(d));
  if (std::fabs(d) > kMaxSafeInteger) Fail(i, name, "must be a safe integer (|x| <= 2^53), got " + NumberText(d));
  return static_cast<int64_t>(d);
}

double Args::Double(size_t i, const char* name) const {
  if (i >= info.Length() || !info[i].IsNumber()) Fail(i, name, "must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

bool Args::Bool(size_t i, const char* name) const {
  if (i >= info.Length() || !info[i].IsBoolean()) Fail(i, name, "must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::vector<int64_t> Args::IntList(size_t i, const char* name) const {
  if (i >= info.Length()) Fail(i, name, "is missing");
  if (info[i].IsNumber()) return {Int(i, name)};
  if (!info[i].IsArray()) Fail(i, name, "must be an integer or an array of integers");
  std::vector<int64_t> out;
  ForEachElement(*this, i, [&](uint32_t, const Napi::Value& v) {
    if (!v.IsNumber()) Fail(i, name, "must contain only integers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d) Fail(i, name, "must contain only integers");
    if (std::fabs(d) > kMaxSafeInteger) Fail(i, name, "must contain only safe integers (|x| <= 2^53)");
    out.push_back(static_cast<int64_t>(d));
  });
  return out;
}

std::vector<double> Args::DoubleList(size_t i, const char* name) const {
  if (i >= info.Length() || !info[i].IsArray()) Fail(i, name, "must be an array of numbers");
  std::vector<double> out;
  ForEachElement(*this, i, [&](uint32_t, const Napi::Value& v) {
    if (!v.IsNumber()) Fail(i, name, "must contain only numbers");
    out.push_back(v.As<Napi::Number>().DoubleValue());
  });
  return out;
}

namespace {

GeneratorBox* GeneratorArg(const Args& a, size_t i) {
  Napi::Value v = a.info[i];
  if (!v.IsExternal() || !v.As<Napi::External<GeneratorBox>>().CheckTypeTag(&kGeneratorTag))
    a.Fail(i, "generator", "must be a generator (from newGenerator) or null");
  return v.As<Napi::External<GeneratorBox>>().Data();
}

}  // namespace

c10::optional<at::Generator> Args::OptGenerator(size_t i) const {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return c10::nullopt;
  GeneratorBox* box = GeneratorArg(*this, i);
  if (!box->gen.defined()) throw std::invalid_argument("argument 'generator' is a freed generator");
  return box->gen;
}

bool Args::FreeGenerator(size_t i) const {
  if (i >= info.Length()) Fail(i, "generator", "must be a generator (from newGenerator)");
  GeneratorBox* box = GeneratorArg(*this, i);
  bool was_live = box->gen.defined();
  DropGenerator(box);
  return was_live;
}

at::ScalarType Args::Dtype(size_t i, const char* name) const {
  if (i >= info.Length() || !info[i].IsString()) Fail(i, name, "must be a dtype name");
  std::string s = info[i].As<Napi::String>().Utf8Value();
  if (s == "float32") return at::kFloat;
  if (s == "float64") return at::kDouble;
  if (s == "int64") return at::kLong;
  if (s == "uint8") return at::kByte;
  if (s == "bool") return at::kBool;
  Fail(i, name, "must be one of float32, float64, int64, uint8, bool; got '" + s + "'");
}

at::MemoryFormat Args::Format(size_t i, const char* name) const {
  if (i >= info.Length() || !info[i].IsString()) Fail(i, name, "must be 'contiguous' or 'channels_last'");
  std::string s = info[i].As<Napi::String>().Utf8Value();
  if (s == "contiguous") return at::MemoryFormat::Contiguous;
  if (s == "channels_last") return at::MemoryFormat::ChannelsLast;
  Fail(i, name, "must be 'contiguous' or 'channels_last', got '" + s + "'");
}

std::string DtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return c10::toString(t);
  }
}

Napi::Value Ret(Napi::Env env, at::Tensor t) {
  return Napi::Number::New(env, static_cast<double>(StoreTensor(std::move(t))));
}

Napi::Value RetList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  std::vector<int64_t> handles;
  try {
    Napi::Array a = Napi::Array::New(env, ts.size());
    for (size_t k = 0; k < ts.size(); k++) {
      handles.push_back(StoreTensor(ts[k]));
      a.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(handles.back())));
    }
    return a;
  } catch (...) {
    for (int64_t h : handles) FreeTensor(h);  // the caller never sees them
    throw;
  }
}

Napi::Value Guarded(const Napi::CallbackInfo& info, const char* name, OpFn fn) {
  Napi::Env env = info.Env();
  try {
    Args args{info, name};
    return fn(args);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string(name) + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(name) + ": " + e.what());
  } catch (...) {
    throw Napi::Error::New(env, std::string(name) + ": unknown native error");
  }
}

// ---- tensor functions ---------------------------------------------------------------------

namespace {

std::vector<int64_t> CheckedShape(const Args& a, size_t i, int64_t numel) {
  std::vector<int64_t> shape = a.IntList(i, "shape");
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) a.Fail(i, "shape", "has a negative dimension");
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) a.Fail(i, "shape", "has more elements than int64 can count");
    n *= d;
  }
  if (shape.size() > 64) a.Fail(i, "shape", "has more than 64 dimensions");
  if (numel >= 0 && n != numel) {
    std::ostringstream m;
    m << "has " << n << " elements but the data has " << numel;
    a.Fail(i, "shape", m.str());
  }
  return shape;
}

template <typename TypedArray, typename Elem>
at::Tensor FromTypedArray(const Args& a, napi_typedarray_type type, at::ScalarType dtype, const char* kind) {
  if (a.info.Length() < 1 || !a.info[0].IsTypedArray() || a.info[0].As<Napi::TypedArray>().TypedArrayType() != type)
    a.Fail(0, "data", std::string("must be a ") + kind);
  // The shape first: its getters may detach or shrink the data's buffer, and As<> reads the
  // data pointer and length once, when called.
  auto shape = CheckedShape(a, 1, -1);
  TypedArray arr = a.info[0].As<TypedArray>();
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  if (numel != static_cast<int64_t>(arr.ElementLength())) {
    std::ostringstream m;
    m << "has " << numel << " elements but the data has " << arr.ElementLength();
    a.Fail(1, "shape", m.str());
  }
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (arr.ElementLength() > 0) std::memcpy(t.data_ptr(), arr.Data(), arr.ElementLength() * sizeof(Elem));
  return t;
}

Napi::Value FromFloat32(const Args& a) {
  at::Tensor t = FromTypedArray<Napi::Float32Array, float>(a, napi_float32_array, at::kFloat, "Float32Array");
  if (a.info.Length() > 2 && a.Bool(2, "requiresGrad")) t.set_requires_grad(true);
  return Ret(a.env(), t);
}

Napi::Value FromFloat64(const Args& a) {
  at::Tensor t = FromTypedArray<Napi::Float64Array, double>(a, napi_float64_array, at::kDouble, "Float64Array");
  if (a.info.Length() > 2 && a.Bool(2, "requiresGrad")) t.set_requires_grad(true);
  return Ret(a.env(), t);
}

Napi::Value ToFloat64(const Args& a) {
  at::Tensor t = a.Tensor(0, "tensor").detach().to(at::kDouble).contiguous();
  Napi::Float64Array out = Napi::Float64Array::New(a.env(), static_cast<size_t>(t.numel()));
  if (t.numel() > 0) std::memcpy(out.Data(), t.data_ptr<double>(), t.numel() * sizeof(double));
  return out;
}

Napi::Value ToUint8(const Args& a) {
  at::Tensor t = a.Tensor(0, "tensor").detach().to(at::kByte).contiguous();
  Napi::Uint8Array out = Napi::Uint8Array::New(a.env(), static_cast<size_t>(t.numel()));
  if (t.numel() > 0) std::memcpy(out.Data(), t.data_ptr<uint8_t>(), t.numel() * sizeof(uint8_t));
  return out;
}

Napi::Value FromInt64(const Args& a) {
  return Ret(a.env(), FromTypedArray<Napi::BigInt64Array, int64_t>(a, napi_bigint64_array, at::kLong, "BigInt64Array"));
}

Napi::Value FromInt32(const Args& a) {
  return Ret(a.env(), FromTypedArray<Napi::Int32Array, int32_t>(a, napi_int32_array, at::kInt, "Int32Array").to(at::kLong));
}

Napi::Value FromUint8(const Args& a) {
  return Ret(a.env(), FromTypedArray<Napi::Uint8Array, uint8_t>(a, napi_uint8_array, at::kByte, "Uint8Array"));
}

Napi::Value ToFloat32(const Args& a) {
  at::Tensor t = a.Tensor(0, "tensor").detach().to(at::kFloat).contiguous();
  Napi::Float32Array out = Napi::Float32Array::New(a.env(), static_cast<size_t>(t.numel()));
  if (t.numel() > 0) std::memcpy(out.Data(), t.data_ptr<float>(), t.numel() * sizeof(float));
  return out;
}

Napi::Value ToInt64(const Args& a) {
  at::Tensor t = a.Tensor(0, "tensor").detach().to(at::kLong).contiguous();
  Napi::BigInt64Array out = Napi::BigInt64Array::New(a.env(), static_cast<size_t>(t.numel()));
  if (t.numel() > 0) std::memcpy(out.Data(), t.data_ptr<int64_t>(), t.numel() * sizeof(int64_t));
  return out;
}

Napi::Value ToInt32(const Args& a) {
  at::Tensor t = a.Tensor(0, "tensor").detach().to(at::kInt).contiguous();
  Napi::Int32Array out = Napi::Int32Array::New(a.env(), static_cast<size_t>(t.numel()));
  if (t.numel() > 0) std::memcpy(out.Data(), t.data_ptr<int32_t>(), t.numel() * sizeof(int32_t));
  return out;
}

Napi::Value Item(const Args& a) {
  at::Tensor t = a.Tensor(0, "tensor");
  if (t.numel() != 1) a.Fail(0, "tensor", "must have exactly one element, has " + std::to_string(t.numel()));
  return Napi::Number::New(a.env(), t.item<double>());
}

Napi::Value Shape(const Args& a) {
  at::Tensor t = a.Tensor(0, "tensor");
  Napi::Array out = Napi::Array::New(a.env(), t.dim());
  for (int64_t d = 0; d < t.dim(); d++) out.Set(static_cast<uint32_t>(d), Napi::Number::New(a.env(), static_cast<double>(t.size(d))));
  return out;
}

Napi::Value Strides(const Args& a) {
  at::Tensor t = a.Tensor(0, "tensor");
  Napi::Array out = Napi::Array::New(a.env(), t.dim());
  for (int64_t d = 0; d < t.dim(); d++) out.Set(static_cast<uint32_t>(d), Napi::Number::New(a.env(), static_cast<double>(t.stride(d))));
  return out;
}

Napi::Value Dtype(const Args& a) { return Napi::String::New(a.env(), DtypeName(a.Tensor(0, "tensor").scalar_type())); }

Napi::Value RequiresGrad(const Args& a) { return Napi::Boolean::New(a.env(), a.Tensor(0, "tensor").requires_grad()); }

Napi::Value SetRequiresGrad(const Args& a) {
  a.Tensor(0, "tensor").set_requires_grad(a.Bool(1, "requiresGrad"));
  return a.env().Undefined();
}

Napi::Value IsContiguous(const Args& a) {
  return Napi::Boolean::New(a.env(), a.Tensor(0, "tensor").is_contiguous(a.Format(1, "format")));
}

// A copy with the canonical strides of `format`, even where size-1 dimensions make the tensor
// already count as contiguous in it (contiguous() would return it unchanged): convolutions pick
// their memory format from these strides, as PyTorch's module.to(memory_format=...) arranges.
Napi::Value Restride(const Args& a) {
  at::NoGradGuard ng;
  at::Tensor t = a.Tensor(0, "tensor");
  at::Tensor out = at::empty(t.sizes(), t.options().memory_format(a.Format(1, "format")));
  out.copy_(t);
  return Ret(a.env(), out);
}

Napi::Value Contiguous(const Args& a) { return Ret(a.env(), a.Tensor(0, "tensor").contiguous(a.Format(1, "format"))); }
Napi::Value Clone(const Args& a) { return Ret(a.env(), a.Tensor(0, "tensor").clone()); }
Napi::Value Detach(const Args& a) { return Ret(a.env(), a.Tensor(0, "tensor").detach()); }
Napi::Value ToDtype(const Args& a) { return Ret(a.env(), a.Tensor(0, "tensor").to(a.Dtype(1, "dtype"))); }

// Freeing a disposed, unknown or 0 handle is a no-op (false), but a handle that is not a
// non-negative safe integer is an error, as everywhere else.
Napi::Value Free(const Args& a) { return Napi::Boolean::New(a.env(), FreeTensor(a.Handle(0, "handle", true))); }

// Either every entry is a valid handle and all are freed, or none is.
Napi::Value FreeMany(const Args& a) {
  if (a.info.Length() < 1 || !a.info[0].IsArray()) a.Fail(0, "handles", "must be an array of tensor handles");
  std::vector<int64_t> handles;
  ForEachElement(a, 0, [&](uint32_t k, const Napi::Value& v) {
    handles.push_back(CheckHandle(a, v, 0, "handles", true, " (element " + std::to_string(k) + ")"));
  });
  int64_t freed = 0;
  for (int64_t h : handles) freed += FreeTensor(h) ? 1 : 0;
  return Napi::Number::New(a.env(), static_cast<double>(freed));
}

Napi::Value LiveCount(const Args& a) { return Napi::Number::New(a.env(), static_cast<double>(LiveTensorCount())); }

at::TensorOptions Opts(const Args& a, size_t i) {
  bool given = i < a.info.Length() && !a.info[i].IsUndefined() && !a.info[i].IsNull();
  at::ScalarType dt = given ? a.Dtype(i, "dtype") : at::kFloat;
  return at::TensorOptions().dtype(dt);
}

Napi::Value Zeros(const Args& a) { return Ret(a.env(), at::zeros(CheckedShape(a, 0, -1), Opts(a, 1))); }
Napi::Value Ones(const Args& a) { return Ret(a.env(), at::ones(CheckedShape(a, 0, -1), Opts(a, 1))); }
Napi::Value Full(const Args& a) { return Ret(a.env(), at::full(CheckedShape(a, 0, -1), a.Double(1, "value"), Opts(a, 2))); }
Napi::Value Arange(const Args& a) { return Ret(a.env(), at::arange(a.Int(0, "end"), Opts(a, 1))); }

Napi::Value Rand(const Args& a) { return Ret(a.env(), at::rand(CheckedShape(a, 0, -1), a.OptGenerator(1))); }
Napi::Value Randn(const Args& a) { return Ret(a.env(), at::randn(CheckedShape(a, 0, -1), a.OptGenerator(1))); }
Napi::Value Randint(const Args& a) {
  int64_t lo = a.Int(0, "low"), hi = a.Int(1, "high");
  if (hi <= lo) a.Fail(1, "high", "must be greater than low");
  return Ret(a.env(), at::randint(lo, hi, CheckedShape(a, 2, -1), a.OptGenerator(3), at::TensorOptions().dtype(at::kLong)));
}
Napi::Value Randperm(const Args& a) {
  return Ret(a.env(), at::randperm(a.Int(0, "n"), a.OptGenerator(1), at::TensorOptions().dtype(at::kLong)));
}
Napi::Value Uniform(const Args& a) {
  at::NoGradGuard ng;
  a.Tensor(0, "tensor").uniform_(a.Double(1, "low"), a.Double(2, "high"), a.OptGenerator(3));
  return a.env().Undefined();
}
Napi::Value Normal(const Args& a) {
  at::NoGradGuard ng;
  a.Tensor(0, "tensor").normal_(a.Double(1, "mean"), a.Double(2, "std"), a.OptGenerator(3));
  return a.env().Undefined();
}

Napi::Value ManualSeed(const Args& a) {
  at::manual_seed(static_cast<uint64_t>(a.Int(0, "seed")));
  return a.env().Undefined();
}

Napi::Value NewGenerator(const Args& a) {
  int64_t seed = a.Int(0, "seed");
  if (seed < 0) a.FailRange(0, "seed", "must be >= 0, got " + std::to_string(seed));
  return NewGeneratorValue(a.env(), at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed)));
}
Napi::Value FreeGenerator(const Args& a) { return Napi::Boolean::New(a.env(), a.FreeGenerator(0)); }
Napi::Value LiveGenerators(const Args& a) { return Napi::Number::New(a.env(), static_cast<double>(LiveGeneratorCount())); }

Napi::Value SetNumThreads(const Args& a) {
  int64_t n = a.Int(0, "threads");
  if (n < 1 || n > 1024) a.Fail(0, "threads", "must be between 1 and 1024, got " + std::to_string(n));
  at::set_num_threads(static_cast<int>(n));
  return a.env().Undefined();
}
Napi::Value GetNumThreads(const Args& a) { return Napi::Number::New(a.env(), at::get_num_threads()); }

Napi::Value SetGradEnabled(const Args& a) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(a.Bool(0, "enabled"));
  return Napi::Boolean::New(a.env(), prev);
}
Napi::Value IsGradEnabled(const Args& a) { return Napi::Boolean::New(a.env(), at::GradMode::is_enabled()); }

Napi::Value Backward(const Args& a) {
  at::Tensor t = a.Tensor(0, "tensor");
  auto grad = a.OptTensor(1, "gradient");
  if (!t.requires_grad()) throw std::invalid_argument("tensor does not require grad and has no grad_fn");
  if (!grad.has_value() && t.numel() != 1)
    throw std::invalid_argument("grad can be implicitly created only for scalar outputs; pass a gradient");
  t.backward(grad.has_value() ? *grad : at::Tensor());
  return a.env().Undefined();
}

Napi::Value Grad(const Args& a) {
  at::Tensor g = a.Tensor(0, "tensor").grad();
  if (!g.defined()) return Napi::Number::New(a.env(), 0);
  return Ret(a.env(), g);
}

Napi::Value ZeroGrad(const Args& a) {
  for (at::Tensor& p : a.TensorList(0, "params")) p.mutable_grad().reset();
  return a.env().Undefined();
}

Napi::Value CopyInto(const Args& a) {
  at::NoGradGuard ng;
  at::Tensor dst = a.Tensor(0, "destination");
  at::Tensor src = a.Tensor(1, "source");
  if (dst.sizes() != src.sizes()) {
    std::ostringstream m;
    m << "shape mismatch: destination " << dst.sizes() << ", source " << src.sizes();
    throw std::invalid_argument(m.str());
  }
  dst.copy_(src);
  return a.env().Undefined();
}

Napi::Value Fill(const Args& a) {
  at::NoGradGuard ng;
  a.Tensor(0, "tensor").fill_(a.Double(1, "value"));
  return a.env().Undefined();
}

Napi::Value AllocatorStatsValue(const Args& a) {
  AllocatorStats s = GetAllocatorStats();
  Napi::Object o = Napi::Object::New(a.env());
  auto num = [&](const char* k, size_t v) { o.Set(k, Napi::Number::New(a.env(), static_cast<double>(v))); };
  o.Set("kind", CachingAllocatorActive() ? "caching" : "system");
  num("allocations", s.allocations);
  num("smallAllocations", s.small_allocations);
  num("hits", s.hits);
  num("misses", s.misses);
  num("frees", s.frees);
  num("released", s.released);
  num("inUseBytes", s.in_use_bytes);
  num("cachedBytes", s.cached_bytes);
  num("reservedBytes", s.reserved_bytes);
  num("peakInUseBytes", s.peak_in_use_bytes);
  num("peakReservedBytes", s.peak_reserved_bytes);
  num("limitBytes", s.limit_bytes);
  return o;
}

Napi::Value ResetAllocatorPeaksValue(const Args& a) {
  ResetAllocatorPeaks();
  return a.env().Undefined();
}

Napi::Value SetAllocatorCacheLimitValue(const Args& a) {
  int64_t bytes = a.Int(0, "bytes");
  if (bytes < 0) a.Fail(0, "bytes", "must be >= 0");
  SetAllocatorCacheLimit(static_cast<size_t>(bytes));
  return a.env().Undefined();
}

Napi::Value EmptyAllocatorCacheValue(const Args& a) {
  EmptyAllocatorCache();
  return a.env().Undefined();
}

Napi::Value Version(const Args& a) {
  Napi::Object o = Napi::Object::New(a.env());
  o.Set("torch", TORCH_VERSION);
  o.Set("parallel", at::get_parallel_info());
  o.Set("config", at::show_config());
  return o;
}

}  // namespace

void RegisterTensorFunctions(Napi::Env env, Napi::Object exports) {
  if (std::string problem = InstallCpuAllocator(); !problem.empty()) throw Napi::Error::New(env, "mnas addon: " + problem);
  MNAS_EXPORT(exports, "fromFloat32", FromFloat32);
  MNAS_EXPORT(exports, "fromInt64", FromInt64);
  MNAS_EXPORT(exports, "fromFloat64", FromFloat64);
  MNAS_EXPORT(exports, "toFloat64", ToFloat64);
  MNAS_EXPORT(exports, "toUint8", ToUint8);
  MNAS_EXPORT(exports, "fromInt32", FromInt32);
  MNAS_EXPORT(exports, "fromUint8", FromUint8);
  MNAS_EXPORT(exports, "toFloat32", ToFloat32);
  MNAS_EXPORT(exports, "toInt64", ToInt64);
  MNAS_EXPORT(exports, "toInt32", ToInt32);
  MNAS_EXPORT(exports, "item", Item);
  MNAS_EXPORT(exports, "shape", Shape);
  MNAS_EXPORT(exports, "strides", Strides);
  MNAS_EXPORT(exports, "dtype", Dtype);
  MNAS_EXPORT(exports, "requiresGrad", RequiresGrad);
  MNAS_EXPORT(exports, "setRequiresGrad", SetRequiresGrad);
  MNAS_EXPORT(exports, "isContiguous", IsContiguous);
  MNAS_EXPORT(exports, "contiguous", Contiguous);
  MNAS_EXPORT(exports, "restride", Restride);
  MNAS_EXPORT(exports, "clone", Clone);
  MNAS_EXPORT(exports, "detach", Detach);
  MNAS_EXPORT(exports, "toDtype", ToDtype);
  MNAS_EXPORT(exports, "free", Free);
  MNAS_EXPORT(exports, "freeMany", FreeMany);
  MNAS_EXPORT(exports, "liveCount", LiveCount);
  MNAS_EXPORT(exports, "zeros", Zeros);
  MNAS_EXPORT(exports, "ones", Ones);
  MNAS_EXPORT(exports, "full", Full);
  MNAS_EXPORT(exports, "arange", Arange);
  MNAS_EXPORT(exports, "rand", Rand);
  MNAS_EXPORT(exports, "randn", Randn);
  MNAS_EXPORT(exports, "randint", Randint);
  MNAS_EXPORT(exports, "randperm", Randperm);
  MNAS_EXPORT(exports, "uniform_", Uniform);
  MNAS_EXPORT(exports, "normal_", Normal);
  MNAS_EXPORT(exports, "manualSeed", ManualSeed);
  MNAS_EXPORT(exports, "newGenerator", NewGenerator);
  MNAS_EXPORT(exports, "freeGenerator", FreeGenerator);
  MNAS_EXPORT(exports, "liveGeneratorCount", LiveGenerators);
  MNAS_EXPORT(exports, "setNumThreads", SetNumThreads);
  MNAS_EXPORT(exports, "getNumThreads", GetNumThreads);
  MNAS_EXPORT(exports, "setGradEnabled", SetGradEnabled);
  MNAS_EXPORT(exports, "isGradEnabled", IsGradEnabled);
  MNAS_EXPORT(exports, "backward", Backward);
  MNAS_EXPORT(exports, "grad", Grad);
  MNAS_EXPORT(exports, "zeroGrad", ZeroGrad);
  MNAS_EXPORT(exports, "copyInto", CopyInto);
  MNAS_EXPORT(exports, "fill_", Fill);
  MNAS_EXPORT(exports, "version", Version);
  MNAS_EXPORT(exports, "allocatorStats", AllocatorStatsValue);
  MNAS_EXPORT(exports, "resetAllocatorPeaks", ResetAllocatorPeaksValue);
  MNAS_EXPORT(exports, "setAllocatorCacheLimit", SetAllocatorCacheLimitValue);
  MNAS_EXPORT(exports, "emptyAllocatorCache", EmptyAllocatorCacheValue);
}

}  // namespace mnas
