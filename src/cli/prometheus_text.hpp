#pragma once
// A reader for the Prometheus text exposition format (version 0.0.4), as `herald top` needs it:
// what a scrape of any exporter may contain, not only what Herald writes. Values only: no type
// checks across samples (a histogram's buckets are ordinary samples here) and no rules on the order
// of families.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace herald::cli::prom {

enum class MetricType { untyped, counter, gauge, histogram, summary };

std::string_view to_string(MetricType type) noexcept;

struct Sample {
    std::string name;
    std::vector<std::pair<std::string, std::string>>
        labels;        // in the order written, values unescaped
    double value = 0;  // NaN and ±Inf as written
    std::optional<std::int64_t> timestamp_ms;

    // The value of the label `key`; empty when the sample has no such label (the format makes the
    // two equal).
    std::string_view label(std::string_view key) const noexcept;
};

// What # HELP and # TYPE say about a metric family.
struct Family {
    std::string help;  // unescaped
    MetricType type = MetricType::untyped;
};

struct Exposition {
    std::vector<Sample> samples;                          // in document order
    std::map<std::string, Family, std::less<>> families;  // by family name

    // The family a sample belongs to: its own name, or for `_bucket`, `_sum`, `_count` (and
    // `_created`) the name without the suffix when that one is declared a histogram or summary.
    // Null when nothing is declared.
    const Family* family_of(std::string_view sample_name) const noexcept;
};

// Parses one scrape. The first malformed line fails the whole document with its line number: a
// scrape read in part would show rates made from missing series. Blank lines and comments other
// than HELP and TYPE are skipped; CRLF line ends are accepted.
Result<Exposition> parse_text(std::string_view text);

// A sample value as the format writes it: a decimal or exponent float, `NaN`, `+Inf`, `-Inf`
// (case-insensitive, `Inf` and `Infinity` accepted like Prometheus' own parser). Nullopt when the
// text is not one.
std::optional<double> parse_value(std::string_view text) noexcept;

}  // namespace herald::cli::prom
