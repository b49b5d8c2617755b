#include "loadgen/baseline.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>

namespace herald::bench {

namespace {

constexpr std::size_t kRequest = 1024;
constexpr std::size_t kAnswer = 64;

double now_s() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

bool read_full(int fd, char* p, std::size_t n) {
    while (n > 0) {
        auto r = ::recv(fd, p, n, 0);
        if (r <= 0) return false;
        p += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

bool write_full(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        auto r = ::send(fd, p, n, MSG_NOSIGNAL);
        if (r <= 0) return false;
        p += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

void pin(int core) {
    if (core < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

// A loop the compiler cannot fold: xorshift with a data dependency on every step.
double cpu_loop_ns() {
    constexpr std::uint64_t kIters = 50'000'000;
    volatile std::uint64_t sink = 0;
    std::uint64_t x = 88172645463325252ull;
    const double t0 = now_s();
    for (std::uint64_t i = 0; i < kIters; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    sink = x;
    (void)sink;
    return (now_s() - t0) * 1e9 / kIters;
}

}  // namespace

bool run_baseline(int echo_core, double seconds, BaselineResult& out) {
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(listener);
        return false;
    }

    std::atomic<double> cpu_ns{0};
    std::thread echo([&] {
        pin(echo_core);
        // The CPU loop runs after the ping-pong, so that it does not eat into its timed window.
        int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char req[kRequest];
        char ans[kAnswer];
        std::memset(ans, 'a', sizeof ans);
        while (read_full(fd, req, sizeof req) && write_full(fd, ans, sizeof ans)) {
        }
        ::close(fd);
        cpu_ns = cpu_loop_ns();
    });

    bool ok = false;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char req[kRequest];
        char ans[kAnswer];
        std::memset(req, 'r', sizeof req);
        std::uint64_t n = 0;
        const double t0 = now_s();
        double t = t0;
        // Bounded by time; checking the clock every 64 round trips keeps its cost out of the way.
        while (t - t0 < seconds) {
            if (!write_full(fd, req, sizeof req) || !read_full(fd, ans, sizeof ans)) break;
            if ((++n & 63) == 0) t = now_s();
        }
        t = now_s();
        ok = n > 0;
        out.roundtrips_per_s = static_cast<double>(n) / (t - t0);
    }
    if (fd >= 0) ::close(fd);
    ::shutdown(listener, SHUT_RDWR);
    ::close(listener);
    echo.join();
    out.cpu_ns_per_iter = cpu_ns;
    return ok;
}

}  // namespace herald::bench
