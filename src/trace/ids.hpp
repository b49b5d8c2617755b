#pragma once
// Fresh trace-ids and span-ids. Every request needs one or two, so they come from a per-thread xoshiro256**
// generator seeded once per thread from the OS (through OpenSSL), not from std::random_device per call.
// Ids are unique and unguessable enough for tracing; they are not secrets and must not be used as such.
//
// Threading: each thread has its own generator (thread_local); the functions are safe to call from any thread.

#include "trace/context.hpp"

namespace herald::trace {

TraceId new_trace_id() noexcept;  // never all zero
SpanId new_span_id() noexcept;    // never all zero
// The next 64 random bits of this thread's generator.
std::uint64_t random_bits() noexcept;

}  // namespace herald::trace
