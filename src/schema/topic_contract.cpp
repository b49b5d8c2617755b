#include "schema/topic_contract.hpp"

#include "base/glob.hpp"

namespace herald::schema {

bool TopicContract::accepts(std::string_view type) const noexcept {
    if (accepted_types.empty()) return true;
    for (const std::string& glob : accepted_types) {
        if (herald::glob_match(glob, type)) return true;
    }
    return false;
}

Result<void> TopicContract::check(std::string_view type, bool has_schema) const {
    if (!accepts(type)) {
        std::string msg = "event type '" + std::string(type) +
                          "' is not accepted on this topic; accepted types: ";
        for (std::size_t i = 0; i < accepted_types.size(); ++i) {
            if (i > 0) msg += ", ";
            msg += accepted_types[i];
        }
        return make_error(Errc::invalid_argument, std::move(msg), "type");
    }
    if (!has_schema && !allow_unknown_types) {
        return make_error(
            Errc::invalid_argument,
            "event type '" + std::string(type) +
                "' has no registered schema, and this topic accepts only types that have one",
            "type");
    }
    return ok();
}

}  // namespace herald::schema
