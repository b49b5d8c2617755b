// Reads another process's CPU time and memory from /proc, and this process's own CPU time, without
// allocating (the generator samples the server every 100 ms during a run).
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace herald::bench {

struct ProcSample {
    bool ok = false;
    double cpu_seconds = 0;       // utime + stime
    std::uint64_t rss_bytes = 0;  // VmRSS
    std::uint64_t hwm_bytes = 0;  // VmHWM: peak RSS over the process's whole life
};

namespace detail {

inline std::size_t read_small_file(const char* path, char* buf, std::size_t cap) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    std::size_t n = 0;
    while (n + 1 < cap) {
        auto r = ::read(fd, buf + n, cap - 1 - n);
        if (r <= 0) break;
        n += static_cast<std::size_t>(r);
    }
    ::close(fd);
    buf[n] = '\0';
    return n;
}

inline std::uint64_t status_kib(std::string_view text, std::string_view key) {
    auto at = text.find(key);
    if (at == std::string_view::npos) return 0;
    const char* p = text.data() + at + key.size();
    const char* end = text.data() + text.size();
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    std::uint64_t kib = 0;
    std::from_chars(p, end, kib);
    return kib * 1024;
}

}  // namespace detail

inline ProcSample sample_process(pid_t pid) {
    ProcSample s;
    if (pid <= 0) return s;
    char path[64];
    char buf[8192];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    auto n = detail::read_small_file(path, buf, sizeof buf);
    if (n == 0) return s;
    // The command name (field 2) may contain spaces and parentheses: count fields after the last
    // ')'. utime and stime are fields 14 and 15, i.e. the 12th and 13th after it.
    std::string_view stat(buf, n);
    auto rp = stat.rfind(')');
    if (rp == std::string_view::npos) return s;
    const char* p = buf + rp + 1;
    const char* end = buf + n;
    std::uint64_t fields[13] = {};
    for (int i = 0; i < 13 && p < end; ++i) {
        while (p < end && *p == ' ') ++p;
        const char* q = p;
        while (q < end && *q != ' ') ++q;
        std::from_chars(p, q, fields[i]);  // field 3 (state) is a letter and stays 0
        p = q;
    }
    static const long ticks = ::sysconf(_SC_CLK_TCK);
    s.cpu_seconds = static_cast<double>(fields[11] + fields[12]) / static_cast<double>(ticks);

    std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
    n = detail::read_small_file(path, buf, sizeof buf);
    if (n == 0) return s;
    std::string_view status(buf, n);
    s.rss_bytes = detail::status_kib(status, "VmRSS:");
    s.hwm_bytes = detail::status_kib(status, "VmHWM:");
    s.ok = true;
    return s;
}

// Time the given cores spent, from /proc/stat, in clock ticks: on a shared machine the share of a
// pinned core that went to other processes (or to the hypervisor: steal) says how far a figure
// can be trusted.
struct CoreTimes {
    bool ok = false;
    std::uint64_t task = 0;     // user + nice + system: processes, ours included
    std::uint64_t softirq = 0;  // irq + softirq: on loopback mostly our own traffic
    std::uint64_t iowait = 0;   // idle while a task on this core waited for the disk
    std::uint64_t steal = 0;    // taken by the hypervisor
    std::uint64_t total = 0;
};

inline CoreTimes sample_cores(const cpu_set_t& cores) {
    CoreTimes t;
    static char buf[16384];  // /proc/stat grows with the core count; static keeps it off the stack
    auto n = detail::read_small_file("/proc/stat", buf, sizeof buf);
    std::string_view text(buf, n);
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view line = text.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.size() < 4 || !line.starts_with("cpu") || line[3] < '0' || line[3] > '9') continue;
        int cpu = 0;
        auto [p, ec] = std::from_chars(line.data() + 3, line.data() + line.size(), cpu);
        if (ec != std::errc() || cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &cores)) continue;
        std::uint64_t f[8] = {};  // user nice system idle iowait irq softirq steal
        const char* q = p;
        const char* end = line.data() + line.size();
        for (auto& v : f) {
            while (q < end && *q == ' ') ++q;
            auto r = std::from_chars(q, end, v);
            q = r.ptr;
        }
        t.task += f[0] + f[1] + f[2];
        t.softirq += f[5] + f[6];
        t.iowait += f[4];
        t.steal += f[7];
        t.total += f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
        t.ok = true;
    }
    return t;
}

struct SelfCpu {
    double user = 0;
    double sys = 0;
    double total() const { return user + sys; }
};

inline SelfCpu self_cpu() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
    return {tv(ru.ru_utime), tv(ru.ru_stime)};
}

}  // namespace herald::bench
