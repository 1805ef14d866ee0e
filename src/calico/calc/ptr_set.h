// PtrSet: a set of non-null pointers held flat, for the label index's match and filing sets (the
// item ids carrying a label value, the items a selector matches; Felix holds these as Go sets,
// set.Typed in felix/labelindex/label_inheritance_index.go). At Felix's design point (100k
// endpoints) these sets hold several entries per endpoint; as std::unordered_set each entry was a
// node allocation plus a bucket (about 40 bytes), here it is one slot of a power-of-two array
// (8-16 bytes), and the common sets of one entry allocate nothing.
//
//   PtrSet<const std::string*> s;
//   s.insert(p);              // true when added
//   s.contains(p);
//   for (const std::string* q : s) { ... }   // in no particular order
//   s.erase(p);               // 1 when removed
//
// Representation (16 bytes): no entries or one entry: in place, no allocation; up to kPacked
// entries: a packed array scanned linearly; more: open addressing with linear probing (Fibonacci
// hashing of the pointer, load factor at most 3/4, deletion by backward shift, so there are no
// tombstones). A null slot is empty, so null cannot be an entry. The table shrinks as entries
// leave. Iterators are invalidated by insert and erase.
//
// Thread-safety: none.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <type_traits>

#include "calico/base/result.h"

namespace calico::calc {

template <typename Ptr>
class PtrSet {
  static_assert(std::is_pointer_v<Ptr>);

 public:
  using value_type = Ptr;
  static constexpr uint32_t kPacked = 8;  // Largest packed array; beyond it, a hash table.

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Ptr;
    using difference_type = std::ptrdiff_t;
    using pointer = const Ptr*;
    using reference = const Ptr&;

    const_iterator() = default;
    reference operator*() const { return *pos_; }
    const_iterator& operator++() {
      ++pos_;
      Skip();
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const const_iterator& o) const { return pos_ == o.pos_; }

   private:
    friend class PtrSet;
    const_iterator(const Ptr* pos, const Ptr* end) : pos_(pos), end_(end) { Skip(); }
    void Skip() {
      while (pos_ != end_ && *pos_ == nullptr)
        ++pos_;
    }
    const Ptr* pos_ = nullptr;
    const Ptr* end_ = nullptr;
  };
  using iterator = const_iterator;

  PtrSet() = default;
  PtrSet(const PtrSet& o) { CopyFrom(o); }
  PtrSet& operator=(const PtrSet& o) {
    if (this != &o) {
      Free();
      CopyFrom(o);
    }
    return *this;
  }
  PtrSet(PtrSet&& o) noexcept : slots_(o.slots_), size_(o.size_), cap_(o.cap_) { o.Reset(); }
  PtrSet& operator=(PtrSet&& o) noexcept {
    if (this != &o) {
      Free();
      slots_ = o.slots_;
      size_ = o.size_;
      cap_ = o.cap_;
      o.Reset();
    }
    return *this;
  }
  ~PtrSet() { Free(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const_iterator begin() const { return const_iterator(Data(), Data() + Slots()); }
  const_iterator end() const { return const_iterator(Data() + Slots(), Data() + Slots()); }

  bool contains(Ptr p) const {
    if (cap_ <= kPacked) {
      const Ptr* d = Data();
      for (uint32_t i = 0; i < Slots(); ++i) {
        if (d[i] == p) return p != nullptr;
      }
      return false;
    }
    for (uint32_t i = Home(p);; i = (i + 1) & (cap_ - 1)) {
      if (slots_.many[i] == p) return true;
      if (slots_.many[i] == nullptr) return false;
    }
  }

  // Adds `p` (not null); false when already present.
  bool insert(Ptr p) {
    CALICO_CHECK(p != nullptr);
    if (contains(p)) return false;
    if (cap_ == 0) {
      if (slots_.one == nullptr) {
        slots_.one = p;
        ++size_;
        return true;
      }
      Rebuild(2);
    } else if (cap_ <= kPacked && size_ == cap_) {
      Rebuild(cap_ * 2);
    } else if (cap_ > kPacked && (size_ + 1) * 4 > cap_ * 3) {
      Rebuild(cap_ * 2);
    }
    Place(p);
    ++size_;
    return true;
  }

  // Removes `p`; 1 when it was present.
  size_t erase(Ptr p) {
    if (p == nullptr) return 0;
    if (cap_ == 0) {
      if (slots_.one != p) return 0;
      slots_.one = nullptr;
      size_ = 0;
      return 1;
    }
    if (cap_ <= kPacked) {
      Ptr* d = slots_.many;
      uint32_t i = 0;
      while (i < size_ && d[i] != p)
        ++i;
      if (i == size_) return 0;
      d[i] = d[size_ - 1];  // Keep the array packed.
      d[--size_] = nullptr;
    } else {
      uint32_t i = Home(p);
      while (slots_.many[i] != p) {
        if (slots_.many[i] == nullptr) return 0;
        i = (i + 1) & (cap_ - 1);
      }
      // Backward shift: move later entries of the probe run into the hole when their home
      // allows it, so that every entry stays reachable from its home without tombstones.
      for (uint32_t j = (i + 1) & (cap_ - 1);; j = (j + 1) & (cap_ - 1)) {
        Ptr q = slots_.many[j];
        if (q == nullptr) break;
        const uint32_t home = Home(q);
        // q may move to i when i lies cyclically within [home, j).
        if (((j - home) & (cap_ - 1)) >= ((j - i) & (cap_ - 1))) {
          slots_.many[i] = q;
          i = j;
        }
      }
      slots_.many[i] = nullptr;
      --size_;
    }
    Shrink();
    return 1;
  }

  void clear() {
    Free();
    Reset();
  }

 private:
  const Ptr* Data() const { return cap_ == 0 ? &slots_.one : slots_.many; }
  uint32_t Slots() const { return cap_ == 0 ? 1 : cap_; }
  uint32_t Home(Ptr p) const {
    const uint64_t h = (reinterpret_cast<uintptr_t>(p) >> 3) * 0x9E3779B97F4A7C15ull;
    return static_cast<uint32_t>(h >> (64 - std::countr_zero(cap_)));
  }
  // Puts `p` (absent, with room for it) in the array.
  void Place(Ptr p) {
    if (cap_ <= kPacked) {
      slots_.many[size_] = p;
      return;
    }
    uint32_t i = Home(p);
    while (slots_.many[i] != nullptr)
      i = (i + 1) & (cap_ - 1);
    slots_.many[i] = p;
  }
  // Moves the entries into an array of `cap` slots (0: in place, then size_ <= 1).
  void Rebuild(uint32_t cap) {
    const Ptr* old = Data();
    const uint32_t old_slots = Slots();
    Ptr* old_many = cap_ == 0 ? nullptr : slots_.many;
    const Ptr one = cap_ == 0 ? slots_.one : nullptr;
    const uint32_t count = size_;
    cap_ = cap;
    if (cap == 0) {
      slots_.one = nullptr;
    } else {
      slots_.many = new Ptr[cap]();
    }
    size_ = 0;
    if (old_many == nullptr) {
      if (one != nullptr) {
        Place(one);
        size_ = 1;
      }
    } else {
      for (uint32_t i = 0; i < old_slots; ++i) {
        if (old[i] == nullptr) continue;
        if (cap == 0) {
          slots_.one = old[i];
        } else {
          Place(old[i]);
        }
        ++size_;
      }
      delete[] old_many;
    }
    CALICO_CHECK(size_ == count);
  }
  // Gives memory back as entries leave: one entry goes back in place, a packed array or table
  // a quarter full halves.
  void Shrink() {
    if (cap_ == 0) return;
    if (size_ <= 1) {
      Rebuild(0);
    } else if (cap_ <= kPacked) {
      if (size_ * 4 <= cap_) Rebuild(cap_ / 2);
    } else if (size_ * 4 <= cap_) {
      // A table a quarter full halves (half full after); below kPacked / 2 entries it packs.
      Rebuild(size_ * 2 <= kPacked ? kPacked : cap_ / 2);
    }
  }
  void Free() {
    if (cap_ != 0) delete[] slots_.many;
  }
  void Reset() {
    slots_.one = nullptr;
    size_ = 0;
    cap_ = 0;
  }
  void CopyFrom(const PtrSet& o) {
    size_ = o.size_;
    cap_ = o.cap_;
    if (cap_ == 0) {
      slots_.one = o.slots_.one;
    } else {
      slots_.many = new Ptr[cap_];
      std::copy(o.slots_.many, o.slots_.many + cap_, slots_.many);
    }
  }

  union Storage {
    Ptr one;    // cap_ == 0: the entry, or null.
    Ptr* many;  // cap_ > 0: cap_ slots, null = empty.
  } slots_{.one = nullptr};
  uint32_t size_ = 0;
  uint32_t cap_ = 0;  // 0, 2, 4, ... kPacked (packed), then powers of two (hashed).
};

}  // namespace calico::calc
