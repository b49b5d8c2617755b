#pragma once
// One shared, immutable value that writers replace now and then and readers on every thread copy out: the
// gateway's routing state, the publish contracts' topic map. A reader gets a shared_ptr to the value current when
// it asked and keeps it alive as long as it holds it; a writer's store() is visible to every load() after it.
//
// Why not std::atomic<std::shared_ptr<T>>: libstdc++ 12 guards the pointer with a lock bit in the control-block
// word and releases it with a relaxed operation in load(), so a reader's read of the pointer is not ordered
// before the next writer's store — ThreadSanitizer reports it (make test-tsan), and on weakly ordered CPUs it is
// a real race. A mutex held for a shared_ptr copy is correct everywhere and costs tens of nanoseconds: nothing
// next to the request that asks. (schema::Registry, read on every publish, has a lock-free scheme of its own.)
//
// Threading: load() and store() from any thread. The replaced value is released outside the lock.

#include <memory>
#include <mutex>
#include <utility>

namespace herald {

template <class T>
class SnapshotCell {
public:
    explicit SnapshotCell(std::shared_ptr<const T> initial = {}) : value_(std::move(initial)) {}
    SnapshotCell(const SnapshotCell&) = delete;
    SnapshotCell& operator=(const SnapshotCell&) = delete;

    std::shared_ptr<const T> load() const {
        std::lock_guard lock(mutex_);
        return value_;
    }

    void store(std::shared_ptr<const T> next) {
        {
            std::lock_guard lock(mutex_);
            value_.swap(next);
        }
        // `next` now holds the old value: its last reference (and the value) may go here, outside the lock.
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const T> value_;
};

}  // namespace herald
