// libtorch's CPU allocator for the whole process: a size-class caching allocator, so the
// activations and gradients a training step frees are handed to the next step's allocations
// instead of going back to the kernel.
//
// Why: glibc's malloc serves every block above its mmap threshold (at most 32 MB) with a fresh
// mmap and unmaps it on free. A proxy trial allocates and frees hundreds of such blocks per
// step, each of whose pages then faults in one by one on first touch; on a VM a fault costs
// microseconds, and a 20M-MAC network spent 80% of its time in the kernel. Reusing blocks makes
// their pages resident once. Fresh blocks of at least kHugeBlock are mapped 2 MB-aligned with
// MADV_HUGEPAGE, so the first touch of a new block faults 512 times less often.
//
// Layout: every block starts with a 64-byte header (so data stays 64-byte aligned, as c10
// requires) that records its capacity, size class and where it came from; the DataPtr's data
// and context are the same pointer, so raw_deleter() works for raw_allocate users.
// Free blocks of a class sit on a LIFO stack; all free blocks are also on one LRU list, and
// when the cached bytes exceed the limit the least recently freed ones go back to the system.
// Blocks below kMinCached come from malloc (glibc keeps those in its heap anyway).
//
// MNAS_ALLOCATOR=system switches back to libtorch's default allocator (for side-by-side
// benchmarks); MNAS_ALLOCATOR_CACHE_MB sets the limit on cached bytes (default 1/8 of RAM);
// MNAS_ALLOCATOR_HUGEPAGES=0 turns the huge-page advice off.
#include "common.h"

#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace mnas {

namespace {

constexpr size_t kHeader = 64;
constexpr size_t kMinCached = 4096;
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kHugeBlock = size_t(4) << 20;
constexpr size_t kCheckAbove = size_t(64) << 20;  // reading /proc costs ~10 us; small blocks skip it
constexpr int kClassesPerDoubling = 4;
constexpr int kClassCount = 64 * kClassesPerDoubling;
constexpr uint32_t kMagic = 0x6d6e6173;  // "mnas"

enum class Origin : uint32_t { Malloc = 1, Aligned = 2, Mapped = 3 };

struct alignas(kHeader) Header {
  uint32_t magic;
  Origin origin;
  int32_t size_class;  // -1 for malloc blocks, which are never cached
  uint32_t cached;     // 1 while on a free list
  size_t capacity;     // usable bytes after the header
  size_t mapped;       // bytes of the whole mapping (Mapped only)
  Header* lru_prev;
  Header* lru_next;
  Header* class_next;  // next free block of the same class
};
static_assert(sizeof(Header) == kHeader, "the header must keep data 64-byte aligned");

int64_t ReadMeminfo(const char* key) {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t kb = -1;
  const size_t len = std::strlen(key);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, key, len) == 0 && line[len] == ':') {
      long long v;
      if (std::sscanf(line + len + 1, " %lld", &v) == 1) kb = v;
      break;
    }
  }
  std::fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

// The capacity a request of n bytes is rounded up to: n itself below kMinCached, else the next
// of 4 evenly spaced steps per power of two (at most 25% more than asked).
void SizeClassOf(size_t n, int32_t* size_class, size_t* capacity) {
  if (n < kMinCached) {
    *size_class = -1;
    *capacity = n;
    return;
  }
  int log2 = 63 - __builtin_clzll(static_cast<unsigned long long>(n - 1));  // n - 1 < 2^(log2+1)
  size_t step = size_t(1) << (log2 - 2);
  size_t cap = (n + step - 1) / step * step;
  int sub = static_cast<int>(cap >> (log2 - 2)) - kClassesPerDoubling;  // 1..4
  int cls = log2 * kClassesPerDoubling + sub - 1;
  *size_class = cls;
  *capacity = cap;
}

struct CachingState {
  std::mutex mu;
  Header* free_by_class[kClassCount] = {};
  Header* lru_head = nullptr;  // most recently freed
  Header* lru_tail = nullptr;
  AllocatorStats stats{};
  bool huge_pages = true;
};

CachingState& State() {
  // Never destroyed: tensors in static storage may be freed after static destructors run.
  static CachingState* s = new CachingState();
  return *s;
}

void LruUnlink(CachingState& s, Header* h) {
  if (h->lru_prev) h->lru_prev->lru_next = h->lru_next;
  else s.lru_head = h->lru_next;
  if (h->lru_next) h->lru_next->lru_prev = h->lru_prev;
  else s.lru_tail = h->lru_prev;
  h->lru_prev = h->lru_next = nullptr;
}

void LruPushFront(CachingState& s, Header* h) {
  h->lru_prev = nullptr;
  h->lru_next = s.lru_head;
  if (s.lru_head) s.lru_head->lru_prev = h;
  s.lru_head = h;
  if (!s.lru_tail) s.lru_tail = h;
}

void ClassRemove(CachingState& s, Header* h) {
  Header** p = &s.free_by_class[h->size_class];
  while (*p != h) p = &(*p)->class_next;  // blocks leave from the top in practice: O(1)
  *p = h->class_next;
  h->class_next = nullptr;
}

void ReleaseToSystem(Header* h) {
  h->magic = 0;
  switch (h->origin) {
    case Origin::Mapped:
      munmap(h, h->mapped);
      break;
    case Origin::Aligned:
    case Origin::Malloc:
      std::free(h);
      break;
  }
}

// Drops cached blocks, least recently freed first, until at most `keep` bytes stay cached.
// Called with the lock held.
void TrimTo(CachingState& s, size_t keep) {
  while (s.stats.cached_bytes > keep && s.lru_tail != nullptr) {
    Header* h = s.lru_tail;
    LruUnlink(s, h);
    ClassRemove(s, h);
    s.stats.cached_bytes -= h->capacity;
    s.stats.reserved_bytes -= h->capacity;
    s.stats.released += 1;
    ReleaseToSystem(h);
  }
}

Header* MapBlock(size_t capacity, bool huge) {
  size_t want = kHeader + capacity;
  if (huge) {
    size_t rounded = (want + kHugePage - 1) / kHugePage * kHugePage;
    size_t span = rounded + kHugePage;
    void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    uintptr_t start = reinterpret_cast<uintptr_t>(raw);
    uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
    if (aligned > start) munmap(raw, aligned - start);
    uintptr_t end = start + span;
    if (end > aligned + rounded) munmap(reinterpret_cast<void*>(aligned + rounded), end - aligned - rounded);
    void* p = reinterpret_cast<void*>(aligned);
    madvise(p, rounded, MADV_HUGEPAGE);
    Header* h = static_cast<Header*>(p);
    h->origin = Origin::Mapped;
    h->mapped = rounded;
    return h;
  }
  void* p = nullptr;
  if (posix_memalign(&p, kHeader, want) != 0) return nullptr;
  Header* h = static_cast<Header*>(p);
  h->origin = Origin::Aligned;
  h->mapped = 0;
  return h;
}

void DeleteBlock(void* data);

// The data (and context: the same pointer, so raw_deleter() works) of block h.
at::DataPtr DataPtrOf(Header* h) {
  void* data = reinterpret_cast<char*>(h) + kHeader;
  return {data, data, &DeleteBlock, at::Device(at::DeviceType::CPU)};
}

// Called with the lock held after in_use_bytes or reserved_bytes grew.
void NotePeaks(AllocatorStats& st) {
  if (st.in_use_bytes > st.peak_in_use_bytes) st.peak_in_use_bytes = st.in_use_bytes;
  if (st.reserved_bytes > st.peak_reserved_bytes) st.peak_reserved_bytes = st.reserved_bytes;
}

struct CachingCPUAllocator final : at::Allocator {
  at::DataPtr allocate(size_t n) const override {
    CachingState& s = State();
    if (n == 0) return {nullptr, nullptr, &DeleteBlock, at::Device(at::DeviceType::CPU)};
    int32_t cls;
    size_t capacity;
    SizeClassOf(n, &cls, &capacity);
    if (cls < 0) {
      void* p = nullptr;
      if (posix_memalign(&p, kHeader, kHeader + n) != 0) TORCH_CHECK(false, "CachingCPUAllocator: out of memory allocating ", n, " bytes");
      Header* h = static_cast<Header*>(p);
      *h = Header{kMagic, Origin::Malloc, -1, 0, n, 0, nullptr, nullptr, nullptr};
      std::lock_guard<std::mutex> lock(s.mu);
      s.stats.allocations += 1;
      s.stats.small_allocations += 1;
      s.stats.in_use_bytes += n;
      s.stats.reserved_bytes += n;
      NotePeaks(s.stats);
      return DataPtrOf(h);
    }
    Header* h = nullptr;
    bool huge;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.stats.allocations += 1;
      h = s.free_by_class[cls];
      if (h != nullptr) {
        s.free_by_class[cls] = h->class_next;
        h->class_next = nullptr;
        LruUnlink(s, h);
        h->cached = 0;
        s.stats.hits += 1;
        s.stats.cached_bytes -= capacity;
        s.stats.in_use_bytes += capacity;
        NotePeaks(s.stats);
        return DataPtrOf(h);
      }
      s.stats.misses += 1;
      if (capacity > kCheckAbove) {
        int64_t avail = ReadMeminfo("MemAvailable");
        if (avail >= 0 && capacity > static_cast<size_t>(avail)) {
          TrimTo(s, 0);  // cached blocks are resident: give them back and look again
          avail = ReadMeminfo("MemAvailable");
        }
        TORCH_CHECK(avail < 0 || capacity <= static_cast<size_t>(avail), "DefaultCPUAllocator: not enough memory: you tried to allocate ", n,
                    " bytes but only ", avail, " bytes are available");
      }
      huge = s.huge_pages && capacity + kHeader >= kHugeBlock;
    }
    h = MapBlock(capacity, huge);
    if (h == nullptr) {
      {
        std::lock_guard<std::mutex> lock(s.mu);
        TrimTo(s, 0);
      }
      h = MapBlock(capacity, huge);
      TORCH_CHECK(h != nullptr, "CachingCPUAllocator: out of memory allocating ", n, " bytes");
    }
    h->magic = kMagic;
    h->size_class = cls;
    h->cached = 0;
    h->capacity = capacity;
    h->lru_prev = h->lru_next = h->class_next = nullptr;
    std::lock_guard<std::mutex> lock(s.mu);
    s.stats.in_use_bytes += capacity;
    s.stats.reserved_bytes += capacity;
    NotePeaks(s.stats);
    return DataPtrOf(h);
  }

  at::DeleterFnPtr raw_deleter() const override { return &DeleteBlock; }
};

void DeleteBlock(void* data) {
  if (data == nullptr) return;
  Header* h = reinterpret_cast<Header*>(static_cast<char*>(data) - kHeader);
  if (h->magic != kMagic || h->cached != 0) {
    std::fprintf(stderr, "mnas: CachingCPUAllocator: free of a block it does not own or freed twice (%p)\n", data);
    std::abort();
  }
  CachingState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  s.stats.frees += 1;
  s.stats.in_use_bytes -= h->capacity;
  if (h->size_class < 0) {
    s.stats.reserved_bytes -= h->capacity;
    h->magic = 0;
    std::free(h);
    return;
  }
  if (h->capacity > s.stats.limit_bytes) {
    s.stats.reserved_bytes -= h->capacity;
    s.stats.released += 1;
    ReleaseToSystem(h);
    return;
  }
  TrimTo(s, s.stats.limit_bytes - h->capacity);
  h->cached = 1;
  h->class_next = s.free_by_class[h->size_class];
  s.free_by_class[h->size_class] = h;
  LruPushFront(s, h);
  s.stats.cached_bytes += h->capacity;
}

// libtorch's default allocator, with single allocations larger than the available memory
// refused with an ordinary libtorch error instead of an OOM kill later (Linux overcommits).
struct MemoryCheckedAllocator final : at::Allocator {
  at::Allocator* base;
  explicit MemoryCheckedAllocator(at::Allocator* b) : base(b) {}
  at::DataPtr allocate(size_t n) const override {
    if (n > kCheckAbove) {
      int64_t avail = ReadMeminfo("MemAvailable");
      TORCH_CHECK(avail < 0 || n <= static_cast<size_t>(avail), "DefaultCPUAllocator: not enough memory: you tried to allocate ", n,
                  " bytes but only ", avail, " bytes are available");
    }
    return base->allocate(n);
  }
  at::DeleterFnPtr raw_deleter() const override { return base->raw_deleter(); }
};

bool g_caching = false;

}  // namespace

std::string InstallCpuAllocator() {
  const char* kind = std::getenv("MNAS_ALLOCATOR");
  std::string k = kind == nullptr || *kind == '\0' ? "caching" : kind;
  if (k != "caching" && k != "system") return "MNAS_ALLOCATOR must be 'caching' or 'system', got '" + k + "'";
  CachingState& s = State();
  int64_t total = ReadMeminfo("MemTotal");
  s.stats.limit_bytes = total > 0 ? static_cast<size_t>(total) / 8 : size_t(1) << 30;
  if (const char* mb = std::getenv("MNAS_ALLOCATOR_CACHE_MB"); mb != nullptr && *mb != '\0') {
    char* end = nullptr;
    unsigned long long v = std::strtoull(mb, &end, 10);
    if (end == mb || *end != '\0' || v > (1ull << 40)) return std::string("MNAS_ALLOCATOR_CACHE_MB must be a whole number of megabytes, got '") + mb + "'";
    s.stats.limit_bytes = static_cast<size_t>(v) << 20;
  }
  if (const char* hp = std::getenv("MNAS_ALLOCATOR_HUGEPAGES"); hp != nullptr && std::strcmp(hp, "0") == 0) s.huge_pages = false;
  if (k == "system") {
    static MemoryCheckedAllocator checked(c10::GetDefaultCPUAllocator());
    c10::SetCPUAllocator(&checked, /*priority=*/1);
    g_caching = false;
  } else {
    static CachingCPUAllocator caching;
    c10::SetCPUAllocator(&caching, /*priority=*/1);
    g_caching = true;
  }
  return "";
}

bool CachingAllocatorActive() { return g_caching; }

AllocatorStats GetAllocatorStats() {
  CachingState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.stats;
}

void ResetAllocatorPeaks() {
  CachingState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  s.stats.peak_in_use_bytes = s.stats.in_use_bytes;
  s.stats.peak_reserved_bytes = s.stats.reserved_bytes;
}

void SetAllocatorCacheLimit(size_t bytes) {
  CachingState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  s.stats.limit_bytes = bytes;
  TrimTo(s, bytes);
}

void EmptyAllocatorCache() {
  CachingState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  TrimTo(s, 0);
}

}  // namespace mnas
