// Per-operation handler memory: each connection owns one small slot per kind of outstanding
// operation (read, write, timer), and Asio allocates that operation's state from it. A connection
// never has two reads (or two writes) in flight, so one slot each is enough and the steady state
// of the receive path performs no heap allocation at all, whatever Asio's own caches do.
#pragma once

#include <atomic>
#include <boost/asio/bind_allocator.hpp>
#include <cstddef>
#include <cstdint>
#include <new>

namespace herald::bench {

// Counts allocations that did not fit a slot, so the report can prove the claim above. Atomic
// because the webhook receiver's thread has slots too (relaxed: only totals are read).
inline std::atomic<std::uint64_t> g_slot_fallbacks{0};
inline std::atomic<std::size_t> g_slot_fallback_max_bytes{0};

// Size: enough for the largest operation state that will live in the slot (a composed
// asio::async_write over a buffer sequence carries up to 64 prepared buffers, about 1.1 KiB).
template <std::size_t Size = 256>
class HandlerSlot {
public:
    HandlerSlot() = default;
    HandlerSlot(const HandlerSlot&) = delete;
    HandlerSlot& operator=(const HandlerSlot&) = delete;

    void* allocate(std::size_t size) {
        if (!in_use_ && size <= sizeof storage_) {
            in_use_ = true;
            return storage_;
        }
        g_slot_fallbacks.fetch_add(1, std::memory_order_relaxed);
        if (size > g_slot_fallback_max_bytes.load(std::memory_order_relaxed))
            g_slot_fallback_max_bytes.store(size, std::memory_order_relaxed);
        return ::operator new(size);
    }

    void deallocate(void* p) {
        if (p == storage_) {
            in_use_ = false;
            return;
        }
        ::operator delete(p);
    }

private:
    alignas(std::max_align_t) unsigned char storage_[Size];
    bool in_use_ = false;
};

template <typename T>
class SlotAllocator {
public:
    using value_type = T;

    template <std::size_t Size>
    explicit SlotAllocator(HandlerSlot<Size>& slot) noexcept
        : slot_(&slot),
          alloc_([](void* s, std::size_t n) {
              return static_cast<HandlerSlot<Size>*>(s)->allocate(n);
          }),
          dealloc_([](void* s, void* p) { static_cast<HandlerSlot<Size>*>(s)->deallocate(p); }) {}
    template <typename U>
    SlotAllocator(const SlotAllocator<U>& other) noexcept
        : slot_(other.slot_), alloc_(other.alloc_), dealloc_(other.dealloc_) {}

    T* allocate(std::size_t n) { return static_cast<T*>(alloc_(slot_, sizeof(T) * n)); }
    void deallocate(T* p, std::size_t) { dealloc_(slot_, p); }

    template <typename U>
    bool operator==(const SlotAllocator<U>& other) const noexcept {
        return slot_ == other.slot_;
    }

private:
    template <typename>
    friend class SlotAllocator;
    void* slot_;
    void* (*alloc_)(void*, std::size_t);
    void (*dealloc_)(void*, void*);
};

template <std::size_t Size, typename Handler>
auto in_slot(HandlerSlot<Size>& slot, Handler&& h) {
    return boost::asio::bind_allocator(SlotAllocator<void>(slot), std::forward<Handler>(h));
}

}  // namespace herald::bench
