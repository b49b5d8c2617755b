// --baseline: how fast this machine is right now at what the benchmarks stress, measured without
// Herald, so that figures taken at different times (the machine is shared and noisy) can be
// compared as ratios to the baseline taken just before them.
#pragma once

namespace herald::bench {

struct BaselineResult {
    double roundtrips_per_s = 0;  // 1 KiB request / 64 B answer over loopback TCP, blocking
    double cpu_ns_per_iter = 0;   // a fixed integer loop on the echo core
};

// The echo side runs on `echo_core` (the server's core), the client on the calling thread (pin
// it with taskset to the generator's core). Returns false when sockets or threads fail.
bool run_baseline(int echo_core, double seconds, BaselineResult& out);

}  // namespace herald::bench
