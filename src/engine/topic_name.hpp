#pragma once
// Topic names (DESIGN.md §4): [a-z0-9][a-z0-9._-]{0,199}. They become directory names, so the rule also keeps
// them safe on disk ("." and ".." are impossible because the first character is alphanumeric).

#include <string_view>

namespace herald::engine {

constexpr bool is_valid_topic_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 200) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(name[0])) return false;
    for (char c : name.substr(1))
        if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
    return true;
}

}  // namespace herald::engine
