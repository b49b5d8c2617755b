#include "webhook/retry_policy.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "base/units.hpp"

namespace herald::webhook {

namespace chr = std::chrono;
using std::chrono::milliseconds;

std::vector<milliseconds> default_retry_schedule() {
    return {chr::seconds(5), chr::minutes(5), chr::minutes(30), chr::hours(2),
            chr::hours(5),   chr::hours(10),  chr::hours(10)};
}

const char* to_string(Outcome o) noexcept {
    switch (o) {
        case Outcome::success:
            return "success";
        case Outcome::retry:
            return "retry";
        case Outcome::dead_letter:
            return "dead_letter";
        case Outcome::gone:
            return "gone";
    }
    return "unknown";
}

Outcome classify(const AttemptResult& r) noexcept {
    if (r.blocked) return Outcome::dead_letter;
    // No answer at all: the receiver or the path to it may come back.
    if (r.transport_error || r.timeout || r.status == 0) return Outcome::retry;
    const int s = r.status;
    if (s >= 200 && s <= 299) return Outcome::success;
    if (s == 410) return Outcome::gone;
    if (s == 408 || s == 429) return Outcome::retry;
    if (s >= 500 && s <= 599) return Outcome::retry;
    // 3xx: redirects are not followed (a redirect could point the delivery anywhere, past the SSRF
    // check made for the configured URL), so the subscriber has to fix the URL. Other 4xx: the
    // receiver rejected this request and will reject it again. 1xx as a final answer and codes past
    // 599 are not HTTP.
    return Outcome::dead_letter;
}

std::optional<milliseconds> next_delay_at(const RetryPolicy& policy, unsigned attempts_made,
                                          std::optional<milliseconds> retry_after, double unit) {
    if (attempts_made == 0) return milliseconds(0);
    if (attempts_made > policy.schedule.size()) return std::nullopt;
    const milliseconds step = std::max(milliseconds(0), policy.schedule[attempts_made - 1]);
    milliseconds delay = step;
    if (policy.jitter) {
        unit = std::clamp(unit, 0.0, 1.0);
        const auto half = step.count() / 2;
        // [d/2, d]: see the header for why not [0, d].
        delay = milliseconds(half + static_cast<std::int64_t>(std::llround(
                                        unit * static_cast<double>(step.count() - half))));
    }
    if (retry_after && *retry_after > delay)
        delay = std::max(delay, std::min(*retry_after, policy.max_retry_after));
    return delay;
}

namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool digits(std::string_view s, int& out) noexcept {
    if (s.empty()) return false;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" — fixed width, 29 characters.
std::optional<chr::sys_seconds> parse_imf_fixdate(std::string_view s) {
    static constexpr std::array<std::string_view, 7> days = {"Mon", "Tue", "Wed", "Thu",
                                                             "Fri", "Sat", "Sun"};
    static constexpr std::array<std::string_view, 12> months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT")
        return std::nullopt;
    if (std::find(days.begin(), days.end(), s.substr(0, 3)) == days.end()) return std::nullopt;
    auto m = std::find(months.begin(), months.end(), s.substr(8, 3));
    if (m == months.end()) return std::nullopt;
    int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
    if (!digits(s.substr(5, 2), day) || !digits(s.substr(12, 4), year) ||
        !digits(s.substr(17, 2), hh) || !digits(s.substr(20, 2), mm) ||
        !digits(s.substr(23, 2), ss))
        return std::nullopt;
    // 60 is allowed for a leap second (RFC 5322 grammar); it simply rolls into the next minute.
    if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
    const chr::year_month_day ymd{chr::year(year),
                                  chr::month(static_cast<unsigned>(m - months.begin() + 1)),
                                  chr::day(static_cast<unsigned>(day))};
    if (!ymd.ok()) return std::nullopt;
    return chr::sys_days(ymd) + chr::hours(hh) + chr::minutes(mm) + chr::seconds(ss);
}

}  // namespace

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              chr::system_clock::time_point now) {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        // Saturate rather than overflow: anything past ~31 years is "very long" and gets capped by
        // the policy.
        constexpr std::int64_t limit = 1'000'000'000;
        std::int64_t secs = 0;
        for (char c : value) {
            secs = secs * 10 + (c - '0');
            if (secs > limit) {
                secs = limit;
                break;
            }
        }
        return chr::seconds(secs);
    }
    auto when = parse_imf_fixdate(value);
    if (!when) return std::nullopt;
    const auto delta = chr::duration_cast<milliseconds>(*when - now);
    return std::max(delta, milliseconds(0));
}

Result<milliseconds> parse_retry_delay(std::string_view text) {
    text = trim(text);
    // Bound the digits before handing over to the shared parser, whose multiplication would
    // overflow on absurd inputs such as "999999999999999d".
    std::size_t n = 0;
    while (n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
    if (n > 10)
        return make_error(Errc::invalid_argument,
                          "retry delay '" + std::string(text) + "' is too large (at most 7d)");
    auto ms = parse_duration_ms(text);
    if (!ms)
        return make_error(Errc::invalid_argument,
                          "retry delay '" + std::string(text) + "': " + ms.error().message);
    if (*ms < 0 || milliseconds(*ms) > max_schedule_step)
        return make_error(Errc::invalid_argument,
                          "retry delay '" + std::string(text) + "' must be between 0 and 7d");
    return milliseconds(*ms);
}

Result<std::vector<milliseconds>> parse_retry_schedule(std::span<const std::string> entries) {
    if (entries.empty())
        return make_error(Errc::invalid_argument, "the retry schedule needs at least one delay");
    if (entries.size() > max_schedule_steps)
        return make_error(Errc::invalid_argument,
                          "the retry schedule has " + std::to_string(entries.size()) +
                              " steps; at most " + std::to_string(max_schedule_steps) +
                              " are allowed");
    std::vector<milliseconds> out;
    out.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        auto d = parse_retry_delay(entries[i]);
        if (!d)
            return make_error(
                Errc::invalid_argument,
                "retry schedule entry " + std::to_string(i + 1) + ": " + d.error().message);
        out.push_back(*d);
    }
    return out;
}

Result<std::vector<milliseconds>> parse_retry_schedule(std::string_view comma_separated) {
    std::vector<std::string> entries;
    while (true) {
        auto comma = comma_separated.find(',');
        entries.emplace_back(trim(comma_separated.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        comma_separated.remove_prefix(comma + 1);
    }
    if (entries.size() == 1 && entries[0].empty()) entries.clear();
    return parse_retry_schedule(std::span<const std::string>(entries));
}

std::string format_retry_schedule(std::span<const milliseconds> schedule) {
    std::string out;
    for (auto d : schedule) {
        if (!out.empty()) out.push_back(',');
        const auto ms = d.count();
        if (ms != 0 && ms % 86'400'000 == 0)
            out += std::to_string(ms / 86'400'000) + "d";
        else if (ms != 0 && ms % 3'600'000 == 0)
            out += std::to_string(ms / 3'600'000) + "h";
        else if (ms != 0 && ms % 60'000 == 0)
            out += std::to_string(ms / 60'000) + "m";
        else if (ms != 0 && ms % 1000 == 0)
            out += std::to_string(ms / 1000) + "s";
        else
            out += std::to_string(ms) + "ms";
    }
    return out;
}

}  // namespace herald::webhook
