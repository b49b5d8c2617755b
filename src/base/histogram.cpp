#include "base/histogram.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace herald {

Histogram::Histogram(std::span<const double> bounds) noexcept
    : bounds_(bounds.first(std::min(bounds.size(), kMaxBounds))) {}

void Histogram::observe(std::chrono::nanoseconds value, std::uint64_t count) noexcept {
    const std::int64_t ns = std::max<std::int64_t>(0, value.count());
    // Bounds are decimal seconds; a value exactly on a bound belongs to it (Prometheus' `le` is
    // inclusive). ns / 1e9 and the bound's literal both round to the nearest double, so 1 ms lands
    // in le="0.001".
    const double seconds = static_cast<double>(ns) / 1e9;
    std::size_t i = 0;
    const std::size_t n = bounds_.size();
    while (i < n && seconds > bounds_[i]) ++i;
    buckets_[i].fetch_add(count, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(ns) * count, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const noexcept {
    Snapshot s;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        s.cumulative[i] = cumulative;
    }
    s.count = cumulative;
    s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
    return s;
}

void Histogram::Snapshot::merge(const Snapshot& other) noexcept {
    for (std::size_t i = 0; i < cumulative.size(); ++i) cumulative[i] += other.cumulative[i];
    count += other.count;
    sum_ns += other.sum_ns;
}

namespace prometheus {

void append_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void append_label_value(std::string& out, std::string_view value) {
    for (char c : value) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
}

namespace {

void append_name(std::string& out, std::string_view name, std::string_view labels) {
    out += name;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
}

template <class Int>
void append_int(std::string& out, Int value) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, r.ptr);
}

}  // namespace

void append_sample(std::string& out, std::string_view name, std::string_view labels,
                   std::uint64_t value) {
    append_name(out, name, labels);
    append_int(out, value);
    out += '\n';
}

void append_sample(std::string& out, std::string_view name, std::string_view labels,
                   std::int64_t value) {
    append_name(out, name, labels);
    append_int(out, value);
    out += '\n';
}

void append_seconds(std::string& out, std::uint64_t ns) {
    append_int(out, ns / 1'000'000'000);
    std::uint64_t fraction = ns % 1'000'000'000;
    if (fraction == 0) return;
    char digits[10] = "000000000";
    for (int i = 8; i >= 0; --i) {
        digits[i] = static_cast<char>('0' + fraction % 10);
        fraction /= 10;
    }
    std::size_t len = 9;
    while (digits[len - 1] == '0') --len;
    out += '.';
    out.append(digits, len);
}

void append_histogram(std::string& out, std::string_view name, std::string_view labels,
                      std::span<const double> bounds, const Histogram::Snapshot& snapshot) {
    const std::size_t n = std::min(bounds.size(), Histogram::kMaxBounds);
    auto bucket = [&](std::string_view le, std::uint64_t value) {
        out += name;
        out += "_bucket{";
        if (!labels.empty()) {
            out += labels;
            out += ',';
        }
        out += "le=\"";
        out += le;
        out += "\"} ";
        append_int(out, value);
        out += '\n';
    };
    for (std::size_t i = 0; i < n; ++i) {
        char le[32];
        std::snprintf(le, sizeof le, "%g", bounds[i]);
        bucket(le, snapshot.cumulative[i]);
    }
    bucket("+Inf", snapshot.cumulative[n]);
    out += name;
    out += "_sum";
    append_name(out, {}, labels);
    append_seconds(out, snapshot.sum_ns);
    out += '\n';
    out += name;
    out += "_count";
    append_name(out, {}, labels);
    append_int(out, snapshot.cumulative[n]);
    out += '\n';
}

}  // namespace prometheus

}  // namespace herald
