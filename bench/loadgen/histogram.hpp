// Log-linear latency histogram in the style of HdrHistogram: a fixed array, no allocation when
// recording, under 1% relative error (64 sub-buckets per power of two), values in nanoseconds.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace herald::bench {

class Histogram {
public:
    // Values 0..127 get one bucket each; above, each power of two [2^k, 2^(k+1)) is split into
    // 64 equal sub-buckets, so a bucket is at most 1/64 of its value wide.
    static constexpr int kSubBits = 6;
    static constexpr std::uint64_t kLinear = 2u << kSubBits;  // 128
    static constexpr int kMaxBits = 42;                       // ~73 minutes in ns; larger clamps
    static constexpr std::uint64_t kMaxValue = (std::uint64_t{1} << kMaxBits) - 1;
    static constexpr std::size_t kBuckets =
        kLinear + (kMaxBits - kSubBits - 1) * (std::size_t{1} << kSubBits);

    void record(std::int64_t value) {
        // A negative latency can only come from a bug or a foreign event; count it as 0 rather
        // than corrupting the array, and keep a tally so the report can say so.
        if (value < 0) {
            ++negatives_;
            value = 0;
        }
        auto v = std::min<std::uint64_t>(static_cast<std::uint64_t>(value), kMaxValue);
        ++counts_[index_of(v)];
        ++count_;
        sum_ += v;
        max_ = std::max(max_, v);
        min_ = std::min(min_, v);
    }

    void merge(const Histogram& other) {
        for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
        count_ += other.count_;
        sum_ += other.sum_;
        max_ = std::max(max_, other.max_);
        min_ = std::min(min_, other.min_);
        negatives_ += other.negatives_;
    }

    // The smallest bucket upper bound at or below which `q` (0..1) of the values fall; the
    // exact maximum for q == 1.
    std::uint64_t quantile(double q) const {
        if (count_ == 0) return 0;
        if (q >= 1.0) return max_;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_));
        if (rank >= count_) rank = count_ - 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < kBuckets; ++i) {
            seen += counts_[i];
            if (seen > rank) return std::min(upper_bound_of(i), max_);
        }
        return max_;
    }

    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }
    std::uint64_t min() const { return count_ ? min_ : 0; }
    std::uint64_t negatives() const { return negatives_; }
    double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

    static constexpr std::size_t index_of(std::uint64_t v) {
        if (v < kLinear) return static_cast<std::size_t>(v);
        int msb = 63 - std::countl_zero(v);                        // >= 7
        int shift = msb - kSubBits;                                // >= 1
        auto sub = (v >> shift) - (std::uint64_t{1} << kSubBits);  // 0..63
        return kLinear + static_cast<std::size_t>(shift - 1) * (std::size_t{1} << kSubBits) + sub;
    }

    static constexpr std::uint64_t upper_bound_of(std::size_t i) {
        if (i < kLinear) return i;
        auto j = i - kLinear;
        int shift = static_cast<int>(j >> kSubBits) + 1;
        auto sub = (j & ((std::size_t{1} << kSubBits) - 1)) + (std::size_t{1} << kSubBits);
        return ((static_cast<std::uint64_t>(sub) + 1) << shift) - 1;
    }

private:
    std::array<std::uint64_t, kBuckets> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t min_ = ~std::uint64_t{0};
    std::uint64_t negatives_ = 0;
};

}  // namespace herald::bench
