#pragma once
// Writing JSON text by hand on hot paths (log lines, span exports) where building a boost::json value would cost
// more than the line itself. One rule for every writer: what is written is always valid JSON, whatever bytes
// come in — control characters are escaped, and bytes that are not strict UTF-8 become U+FFFD — so a request
// path or a header value can never break a log line or inject a new one.

#include <string>
#include <string_view>

namespace herald {

// Appends `s` as a JSON string, quotes included.
void append_json_string(std::string& out, std::string_view s);
// Appends the escaped contents only (no quotes): for building a string member piece by piece.
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace herald
