// Counts every heap allocation of the process (global operator new is replaced in
// alloc_counter.cpp), so the report can show that the measured window allocated nothing per
// message instead of asking readers to trust it.
#pragma once

#include <cstdint>

namespace herald::bench {

std::uint64_t heap_allocations();

}  // namespace herald::bench
