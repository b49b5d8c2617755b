#pragma once
// RFC 9457 problem details. Every error a client sees on HTTP is one of these kinds, each with a stable `type`
// URI ("urn:herald:problem:<kind>", listed in docs/api.md) so clients can switch on it.

#include <string>
#include <string_view>

#include "base/result.hpp"
#include "http/message.hpp"

namespace herald::http {

struct Problem {
    Problem(unsigned status_, std::string kind_, std::string title_, std::string detail_, std::string attribute_ = {},
            std::string violations_ = {})
        : status(status_), kind(std::move(kind_)), title(std::move(title_)), detail(std::move(detail_)),
          attribute(std::move(attribute_)), violations(std::move(violations_)) {}

    unsigned status;
    std::string kind;    // e.g. "invalid-event"
    std::string title;   // short, the same for every occurrence of the kind
    std::string detail;  // this occurrence
    std::string attribute;  // extension member naming the attribute/parameter at fault; omitted when empty
    std::string violations;  // extension member: a JSON array's text (schema violations); omitted when empty
};

Response problem_response(const Problem& p);
// The status and kind an Errc maps to (invalid_argument → 400 bad-request, no_space → 507 storage-full, ...).
Problem problem_from_error(const Error& e, std::string kind_for_invalid = "bad-request");

}  // namespace herald::http
