// The CloudEvents JSON event format (structured and batch) and HTTP binary mode, plus the encoder
// that produces the one-line structured form stored in the log and sent to subscribers.
//
// Rules every function here follows:
//  - Decoders never let an exception escape: Boost.JSON is used through its error_code interfaces
//  and every
//    entry point catches what remains (allocation failures, length errors) and turns it into an
//    Error.
//  - A decoder returns an event only after validate() accepted it.
//  - encode_structured() writes the JSON by hand into one reserved string instead of building a
//  json::value
//    tree: it runs once per stored event and its output must be byte-stable (member order is
//    fixed), so that decode_structured(encode_structured(e)) == e for every event a decoder
//    returned.

#include "core/codec.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <array>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>

#include "base/uuid.hpp"
#include "core/text.hpp"

namespace herald::core {
namespace {

namespace json = boost::json;
using std::string_view;

string_view to_sv(json::string_view s) noexcept { return {s.data(), s.size()}; }

Error invalid(std::string message, std::string attribute = {}) {
    return make_error(Errc::invalid_argument, std::move(message), std::move(attribute));
}

// --- Parsing with duplicate-member detection
// --------------------------------------------------------------------

// The first member name that occurs twice in one event object. The spec requires each context
// attribute to appear at most once, but json::value keeps only the last of equal keys, so repeats
// must be seen while parsing.
struct DuplicateMember {
    std::size_t element = 0;  // index of the event object (always 0 for structured mode)
    std::string name;
};

// A Boost.JSON parse handler that builds a json::value exactly as boost::json::parser does (same
// value_stack calls) and additionally records repeated member names in the objects found at
// `event_depth` (1: the document is an event; 2: the document is an array of events; 0: no
// tracking).
//
// Objects at depth 2 are only ever direct elements of the top-level array, but elements are counted
// only when they are objects. That count equals the array index whenever it matters: a non-object
// element before the duplicate fails decode_batch at its own, earlier index first.
class EventParseHandler {
public:
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    explicit EventParseHandler(int event_depth) : event_depth_(event_depth) {}

    json::value_stack st;
    std::optional<DuplicateMember> duplicate;

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) {
        if (++depth_ == event_depth_) {
            ++objects_seen_;
            keys_.clear();
        }
        return true;
    }
    bool on_object_end(std::size_t n, json::error_code&) {
        st.push_object(n);
        --depth_;
        return true;
    }
    bool on_array_begin(json::error_code&) {
        ++depth_;
        return true;
    }
    bool on_array_end(std::size_t n, json::error_code&) {
        st.push_array(n);
        --depth_;
        return true;
    }
    bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
        st.push_chars(s);
        if (tracking()) key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(json::string_view s, std::size_t, json::error_code&) {
        st.push_key(s);
        if (tracking()) {
            key_.append(s.data(), s.size());
            bool repeated = false;
            for (const std::string& k : keys_) {
                if (k == key_) {
                    repeated = true;
                    break;
                }
            }
            if (repeated) {
                duplicate = DuplicateMember{objects_seen_ - 1, std::move(key_)};
            } else {
                keys_.push_back(std::move(key_));
            }
            key_.clear();
        }
        return true;
    }
    bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
        st.push_chars(s);
        return true;
    }
    bool on_string(json::string_view s, std::size_t, json::error_code&) {
        st.push_string(s);
        return true;
    }
    bool on_number_part(json::string_view, json::error_code&) { return true; }
    bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
        st.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
        st.push_uint64(u);
        return true;
    }
    bool on_double(double d, json::string_view, json::error_code&) {
        st.push_double(d);
        return true;
    }
    bool on_bool(bool b, json::error_code&) {
        st.push_bool(b);
        return true;
    }
    bool on_null(json::error_code&) {
        st.push_null();
        return true;
    }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

private:
    // Only the first duplicate is reported, so tracking stops once one is found.
    bool tracking() const noexcept { return depth_ == event_depth_ && !duplicate; }

    int event_depth_;
    int depth_ = 0;
    std::size_t objects_seen_ = 0;
    std::vector<std::string> keys_;  // member names seen so far in the current event object
    std::string key_;                // the key being assembled from on_key_part pieces
};

struct ParsedJson {
    json::value root;
    std::optional<DuplicateMember> duplicate;
};

// Parses one complete JSON document (strict RFC 8259: no comments, no trailing commas, valid UTF-8;
// nesting limited to Boost.JSON's default depth of 32). On failure returns the reason with the byte
// offset.
Result<ParsedJson> parse_json(string_view text, int event_depth, json::storage_ptr sp) {
    json::basic_parser<EventParseHandler> parser(json::parse_options{}, event_depth);
    parser.handler().st.reset(std::move(sp));
    json::error_code ec;
    const std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && n < text.size()) ec = json::make_error_code(json::error::extra_data);
    if (ec) return invalid(ec.message() + " at byte " + std::to_string(n));
    ParsedJson parsed{parser.handler().st.release(), std::move(parser.handler().duplicate)};
    return parsed;
}

// A handler that builds nothing: for bodies that only need to be proven valid JSON (binary mode,
// wrap_json).
struct SyntaxOnlyHandler {
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) { return true; }
    bool on_object_end(std::size_t, json::error_code&) { return true; }
    bool on_array_begin(json::error_code&) { return true; }
    bool on_array_end(std::size_t, json::error_code&) { return true; }
    bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
    bool on_number_part(json::string_view, json::error_code&) { return true; }
    bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
    bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
    bool on_double(double, json::string_view, json::error_code&) { return true; }
    bool on_bool(bool, json::error_code&) { return true; }
    bool on_null(json::error_code&) { return true; }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }
};

// Same rules and error text as parse_json, without building a tree.
Result<void> check_json_syntax(string_view text) {
    json::basic_parser<SyntaxOnlyHandler> parser(json::parse_options{});
    json::error_code ec;
    const std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && n < text.size()) ec = json::make_error_code(json::error::extra_data);
    if (ec) return invalid(ec.message() + " at byte " + std::to_string(n));
    return ok();
}

// --- Base64 (RFC 4648 §4, standard alphabet, padded)
// ------------------------------------------------------------

constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_base64_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 64; ++i)
        t[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr std::array<std::int8_t, 256> base64_table = make_base64_table();

void append_base64(std::string& out, string_view in) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(in[k]); };
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out.push_back(base64_alphabet[(v >> 18) & 63]);
        out.push_back(base64_alphabet[(v >> 12) & 63]);
        out.push_back(base64_alphabet[(v >> 6) & 63]);
        out.push_back(base64_alphabet[v & 63]);
    }
    const std::size_t rest = in.size() - i;
    if (rest == 0) return;
    std::uint32_t v = byte(i) << 16;
    if (rest == 2) v |= byte(i + 1) << 8;
    out.push_back(base64_alphabet[(v >> 18) & 63]);
    out.push_back(base64_alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? base64_alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
}

// Accepts exactly the padded standard form: length a multiple of 4, '=' only as the last one or two
// characters, no whitespace and no URL-safe alphabet. Non-zero pad bits are tolerated (RFC 4648
// §3.5 leaves that to the decoder) since they lose no data.
std::optional<std::string> decode_base64(string_view in) {
    if (in.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        const std::size_t pad =
            last ? (in[i + 3] == '=') + (in[i + 2] == '=' && in[i + 3] == '=') : 0;
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < 4 - pad; ++k) {
            const std::int8_t d = base64_table[static_cast<unsigned char>(in[i + k])];
            if (d < 0) return std::nullopt;
            v |= static_cast<std::uint32_t>(d) << (18 - 6 * k);
        }
        out.push_back(static_cast<char>((v >> 16) & 0xFF));
        if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xFF));
        if (pad < 1) out.push_back(static_cast<char>(v & 0xFF));
    }
    return out;
}

// --- JSON writing
// ------------------------------------------------------------------------------------------------

// Appends `s` as a JSON string. Only '"', '\\' and control characters need escaping (RFC 8259 §7);
// escaping U+000A and U+000D also keeps the whole encoding on one line. `s` must be valid UTF-8
// (validate() ensures it for every string an event carries).
void append_json_string(std::string& out, string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\b':
                out.append("\\b");
                break;
            case '\f':
                out.append("\\f");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            default:
                out.append("\\u00");
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 0xF]);
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

void append_member_name(std::string& out, string_view name) {
    out.push_back(',');
    append_json_string(out, name);
    out.push_back(':');
}

void append_attribute_value(std::string& out, const AttributeValue& value) {
    if (const auto* b = std::get_if<bool>(&value)) {
        out.append(*b ? "true" : "false");
    } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, *i);
        out.append(buf, r.ptr);
    } else {
        append_json_string(out, std::get<std::string>(value));
    }
}

// --- Structured-mode decoding
// ------------------------------------------------------------------------------------

// --- Raw JSON text
// ----------------------------------------------------------------------------------------------
//
// JSON data is kept as the sender wrote it, minus insignificant whitespace, instead of being
// re-serialised from the parse tree: Boost.JSON 1.81 parses every number outside the 64-bit integer
// range as a double, so serialising would change payloads (123456789012345678901234567890
// becomes 1.2345678901234568E29, 1.0 becomes 1E0) and can even produce invalid JSON (1e400 becomes
// Infinity). A gateway must not alter payloads.
//
// These scanners only ever run on text Boost.JSON has already accepted as valid JSON, which is what
// keeps them this simple: every string is terminated, brackets balance, and whitespace is only
// space, tab, LF and CR.

constexpr bool is_json_ws(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t skip_ws(string_view s, std::size_t i) noexcept {
    while (i < s.size() && is_json_ws(s[i])) ++i;
    return i;
}

// The index of the first '"' or '\\' at or after i, or s.size(). Strings are most of a payload's bytes
// (batch publishing spent a third of its time here), so look at 16 bytes per step.
std::size_t find_quote_or_backslash(string_view s, std::size_t i) noexcept {
    const char* p = s.data();
    const std::size_t n = s.size();
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    while (i + 16 <= n) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
        if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
        i += 16;
    }
#endif
    while (i < n && p[i] != '"' && p[i] != '\\') ++i;
    return i;
}

// s[i] is the opening quote; returns the index after the closing quote.
std::size_t skip_string(string_view s, std::size_t i) noexcept {
    ++i;
    for (;;) {
        i = find_quote_or_backslash(s, i);
        if (i >= s.size() || s[i] == '"') return i + 1;
        i += 2;  // an escape: the next character cannot close the string
    }
}

// s[i] starts a value; returns the index after it.
std::size_t skip_value(string_view s, std::size_t i) noexcept {
    if (s[i] == '"') return skip_string(s, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < s.size()) {
            const char c = s[i];
            if (c == '"') {
                i = skip_string(s, i);
                continue;
            }
            ++i;
            if (c == '{' || c == '[')
                ++depth;
            else if ((c == '}' || c == ']') && --depth == 0)
                return i;
        }
        return i;
    }
    while (i < s.size() && !is_json_ws(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
    return i;
}

// Removes whitespace outside strings; everything else, including number spelling and string
// escapes, is kept.
std::string minify_json(string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == '"') {
            const std::size_t end = skip_string(s, i);
            out.append(s.data() + i, end - i);
            i = end;
        } else {
            if (!is_json_ws(s[i])) out.push_back(s[i]);
            ++i;
        }
    }
    return out;
}

// Whether the member name token (with its quotes) denotes `name`; escapes such as "d\u0061ta" are
// resolved.
bool member_name_is(string_view token, string_view name) {
    const string_view inner = token.substr(1, token.size() - 2);
    if (inner.find('\\') == string_view::npos) return inner == name;
    json::error_code ec;
    const json::value v = json::parse(token, ec);
    return !ec && v.is_string() && to_sv(v.get_string()) == name;
}

// The source text of the value of member `name` in the object whose text starts at `object_text`
// (leading whitespace allowed); empty when there is no such member.
string_view find_member_value(string_view object_text, string_view name) {
    std::size_t i = skip_ws(object_text, 0) + 1;  // past '{'
    while (true) {
        i = skip_ws(object_text, i);
        if (i >= object_text.size() || object_text[i] != '"') return {};
        const std::size_t key_end = skip_string(object_text, i);
        const string_view key = object_text.substr(i, key_end - i);
        const std::size_t value_start =
            skip_ws(object_text, skip_ws(object_text, key_end) + 1);  // past ':'
        const std::size_t value_end = skip_value(object_text, value_start);
        if (member_name_is(key, name))
            return object_text.substr(value_start, value_end - value_start);
        i = skip_ws(object_text, value_end);
        if (i >= object_text.size() || object_text[i] != ',') return {};
        ++i;
    }
}

// The source text of each element of the top-level array in `array_text`.
std::vector<string_view> array_elements(string_view array_text) {
    std::vector<string_view> elements;
    std::size_t i = skip_ws(array_text, 0) + 1;  // past '['
    while (true) {
        i = skip_ws(array_text, i);
        if (i >= array_text.size() || array_text[i] == ']') return elements;
        const std::size_t end = skip_value(array_text, i);
        elements.push_back(array_text.substr(i, end - i));
        i = skip_ws(array_text, end);
        if (i >= array_text.size() || array_text[i] != ',') return elements;
        ++i;
    }
}

// Builds an event from one JSON object in the JSON event format; `object_text` is that object's
// source text, from which JSON data is taken. Errors name the attribute without any batch prefix;
// validate() runs last.
Result<CloudEvent> event_from_object(const json::object& object, string_view object_text) {
    CloudEvent event;
    event.specversion.clear();  // must come from the input, not the default
    const json::value* data = nullptr;
    const json::value* data_base64 = nullptr;

    for (const auto& member : object) {
        const string_view key = to_sv(member.key());
        const json::value& value = member.value();
        if (key == "data") {
            // JSON format §3.1.1: a null `data` is an explicit null payload, distinct from no data.
            data = &value;
            continue;
        }
        if (key == "data_base64") {
            if (!value.is_null()) data_base64 = &value;
            continue;
        }
        std::string* required = nullptr;
        std::optional<std::string>* optional = nullptr;
        if (key == "specversion")
            required = &event.specversion;
        else if (key == "id")
            required = &event.id;
        else if (key == "source")
            required = &event.source;
        else if (key == "type")
            required = &event.type;
        else if (key == "datacontenttype")
            optional = &event.datacontenttype;
        else if (key == "dataschema")
            optional = &event.dataschema;
        else if (key == "subject")
            optional = &event.subject;
        else if (key == "time")
            optional = &event.time;

        // JSON format §2.2: null means the attribute is unset, for context and extension attributes
        // alike.
        if (value.is_null()) continue;
        if (required != nullptr || optional != nullptr) {
            if (!value.is_string())
                return invalid(std::string(key) + " must be a JSON string", std::string(key));
            std::string text(to_sv(value.get_string()));
            if (required != nullptr)
                *required = std::move(text);
            else
                *optional = std::move(text);
            continue;
        }
        if (!is_valid_attribute_name(key)) {
            return invalid("attribute name \"" + std::string(key) +
                               "\" must consist of lower-case ASCII letters and digits only",
                           std::string(key));
        }
        // JSON format §2.2 type mapping: Boolean, Integer (a JSON number with only an integer
        // component) and the string-encoded types. Objects, arrays and non-integer numbers have no
        // CloudEvents type.
        switch (value.kind()) {
            case json::kind::bool_:
                event.extensions.emplace(key, value.get_bool());
                break;
            case json::kind::int64:
                event.extensions.emplace(key, value.get_int64());  // range checked by validate()
                break;
            case json::kind::uint64:
                return invalid(std::string(key) + " must be an Integer in the signed 32-bit range",
                               std::string(key));
            case json::kind::string:
                event.extensions.emplace(key, std::string(to_sv(value.get_string())));
                break;
            default:
                return invalid(std::string(key) + " must be a string, a boolean or an integer",
                               std::string(key));
        }
    }

    if (data != nullptr && data_base64 != nullptr) {
        return invalid("data and data_base64 must not both be present", "data_base64");
    }
    if (data_base64 != nullptr) {
        std::optional<std::string> bytes;
        if (data_base64->is_string()) bytes = decode_base64(to_sv(data_base64->get_string()));
        if (!bytes)
            return invalid("data_base64 must be a string of Base64 (RFC 4648) data", "data_base64");
        event.data = std::move(*bytes);
        event.data_kind = DataKind::binary;
    } else if (data != nullptr) {
        // JSON format §3.1.2: JSON media types (or none, meaning application/json) keep data as a
        // JSON value; otherwise a string is the encoded content. A non-string under a non-JSON type
        // is kept as JSON rather than rejected (the spec allows either), so it still round-trips.
        const bool json_type = !event.datacontenttype || is_json_media_type(*event.datacontenttype);
        if (!json_type && data->is_string()) {
            event.data = std::string(to_sv(data->get_string()));
            event.data_kind = DataKind::text;
        } else {
            event.data = minify_json(find_member_value(object_text, "data"));
            event.data_kind = DataKind::json;
        }
    }

    if (auto valid = validate(event); !valid) return std::move(valid).error();
    return event;
}

Error duplicate_error(const DuplicateMember& dup) {
    return invalid(dup.name + " must appear at most once in an event", dup.name);
}

// A small arena for the parse tree: the tree lives only until the event has been extracted, so a
// monotonic resource (mostly on the stack) saves the many small heap allocations of a
// general-purpose one.
class ParseArena {
public:
    json::storage_ptr storage() noexcept { return json::storage_ptr(&resource_); }

private:
    unsigned char buffer_[4096];
    json::monotonic_resource resource_{buffer_, sizeof buffer_};
};

Error exception_error(const std::exception& e) {
    return invalid(std::string("could not decode: ") + e.what());
}

// --- Binary mode
// -------------------------------------------------------------------------------------------------

// Whether the body of a non-JSON media type is text that can travel as a JSON string: text/*, XML,
// a few common textual application types, or any type declaring a charset. Anything else stays
// bytes (data_base64).
bool is_textual_media_type(string_view media_type) {
    const detail::MediaTypeParts parts = detail::split_media_type(media_type);
    if (parts.type == "text") return true;
    const string_view subtype = parts.subtype;
    if (subtype == "xml" || (subtype.size() > 4 && subtype.substr(subtype.size() - 4) == "+xml"))
        return true;
    if (parts.type == "application" &&
        (subtype == "javascript" || subtype == "ecmascript" || subtype == "x-www-form-urlencoded" ||
         subtype == "yaml" || subtype == "x-yaml")) {
        return true;
    }
    // Parameters are "; name=value" pairs; a charset parameter says the bytes are characters.
    string_view params = parts.parameters;
    while (!params.empty()) {
        params.remove_prefix(1);  // the ';'
        const std::size_t next = params.find(';');
        const string_view param = detail::trim_ows(params.substr(0, next));
        const std::size_t eq = param.find('=');
        if (eq != string_view::npos && detail::iequals(param.substr(0, eq), "charset")) return true;
        if (next == string_view::npos) break;
        params.remove_prefix(next);
    }
    return false;
}

std::string now_rfc3339_ms() {
    using namespace std::chrono;
    const auto now = floor<milliseconds>(system_clock::now());
    const auto day = floor<days>(now);
    const year_month_day ymd{day};
    const hh_mm_ss hms{now - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<int>(hms.subseconds().count()));
    return buf;
}

}  // namespace

Result<CloudEvent> decode_structured(std::string_view body) {
    try {
        ParseArena arena;
        auto parsed = parse_json(body, 1, arena.storage());
        if (!parsed) return invalid("body is not valid JSON: " + parsed.error().message);
        if (!parsed->root.is_object())
            return invalid("body must be a JSON object (one CloudEvent)");
        if (parsed->duplicate) return duplicate_error(*parsed->duplicate);
        return event_from_object(parsed->root.get_object(), body);
    } catch (const std::exception& e) {
        return exception_error(e);
    }
}

Result<std::vector<CloudEvent>> decode_batch(std::string_view body) {
    try {
        ParseArena arena;
        auto parsed = parse_json(body, 2, arena.storage());
        if (!parsed) return invalid("body is not valid JSON: " + parsed.error().message);
        if (!parsed->root.is_array()) return invalid("body must be a JSON array of CloudEvents");
        const json::array& elements = parsed->root.get_array();
        const std::vector<string_view> element_texts = array_elements(body);
        if (element_texts.size() != elements.size())
            return invalid("could not split the batch into events");
        std::vector<CloudEvent> events;
        events.reserve(elements.size());
        for (std::size_t i = 0; i < elements.size(); ++i) {
            const std::string index = "[" + std::to_string(i) + "]";
            if (!elements[i].is_object()) {
                return invalid("batch element " + index + " must be a JSON object (one CloudEvent)",
                               index);
            }
            Result<CloudEvent> event =
                (parsed->duplicate && parsed->duplicate->element == i)
                    ? Result<CloudEvent>(duplicate_error(*parsed->duplicate))
                    : event_from_object(elements[i].get_object(), element_texts[i]);
            if (!event) {
                Error e = std::move(event).error();
                e.attribute = e.attribute.empty() ? index : index + "." + e.attribute;
                e.message = "batch element " + index + ": " + e.message;
                return e;
            }
            events.push_back(std::move(*event));
        }
        return events;
    } catch (const std::exception& e) {
        return exception_error(e);
    }
}

// Binary mode follows HTTP binding §3.1:
//  - every "ce-" header (any case) is one attribute, named by the rest of the header name in lower
//  case;
//  - a repeated attribute is an error, since an attribute appears at most once (spec "Context
//  Attributes");
//  - values go through percent_decode_header (quoted-string unescaping, then one round of
//  percent-decoding);
//  - extension values are Strings: headers carry no type, and a String is a valid value of any
//  extension;
//  - datacontenttype comes only from Content-Type. §3.1.1 says a ce-datacontenttype header "MUST
//  NOT also be
//    present", so one is rejected rather than ignored or merged;
//  - an empty Content-Type leaves datacontenttype unset and the body is opaque bytes (RFC 7231
//  §3.1.1.5 lets a
//    recipient assume application/octet-stream); the JSON format's "no datacontenttype means JSON"
//    rule is for structured mode only.
Result<CloudEvent> decode_binary(const std::vector<Header>& headers, std::string_view content_type,
                                 std::string_view body) {
    try {
        CloudEvent event;
        event.specversion.clear();
        std::vector<std::string> seen;
        for (const auto& [name, value] : headers) {
            if (name.size() < 3 || !detail::iequals(string_view(name).substr(0, 3), "ce-"))
                continue;
            std::string attribute = detail::to_lower(string_view(name).substr(3));
            if (!is_valid_attribute_name(attribute)) {
                return invalid("header " + name +
                                   " does not name a valid attribute (lower-case ASCII letters and "
                                   "digits only)",
                               attribute);
            }
            if (attribute == "datacontenttype") {
                return invalid(
                    "the ce-datacontenttype header must not be present in binary mode; "
                    "Content-Type carries datacontenttype",
                    attribute);
            }
            for (const std::string& s : seen) {
                if (s == attribute) {
                    return invalid(attribute + " must appear at most once (the ce-" + attribute +
                                       " header is repeated)",
                                   attribute);
                }
            }
            seen.push_back(attribute);
            auto decoded = percent_decode_header(value);
            if (!decoded) {
                return invalid("the ce-" + attribute +
                                   " header value is malformed: " + decoded.error().message,
                               attribute);
            }
            if (attribute == "specversion")
                event.specversion = std::move(*decoded);
            else if (attribute == "id")
                event.id = std::move(*decoded);
            else if (attribute == "source")
                event.source = std::move(*decoded);
            else if (attribute == "type")
                event.type = std::move(*decoded);
            else if (attribute == "dataschema")
                event.dataschema = std::move(*decoded);
            else if (attribute == "subject")
                event.subject = std::move(*decoded);
            else if (attribute == "time")
                event.time = std::move(*decoded);
            else
                event.extensions.emplace(std::move(attribute), std::move(*decoded));
        }

        if (!content_type.empty()) {
            // Checked here rather than only in validate() because the body is interpreted by its
            // media type.
            if (!is_media_type(content_type)) {
                return invalid(
                    "datacontenttype must be a media type (RFC 2046), such as application/json",
                    "datacontenttype");
            }
            event.datacontenttype = std::string(content_type);
        }
        if (!body.empty()) {
            if (event.datacontenttype && is_json_media_type(*event.datacontenttype)) {
                if (auto syntax = check_json_syntax(body); !syntax) {
                    return invalid(
                        "data must be valid JSON when datacontenttype is a JSON media type: " +
                            syntax.error().message,
                        "data");
                }
                event.data = minify_json(body);
                event.data_kind = DataKind::json;
            } else if (event.datacontenttype && is_textual_media_type(*event.datacontenttype) &&
                       detail::is_valid_utf8(body)) {
                event.data = std::string(body);
                event.data_kind = DataKind::text;
            } else {
                event.data = std::string(body);
                event.data_kind = DataKind::binary;
            }
        }
        if (auto valid = validate(event); !valid) return std::move(valid).error();
        return event;
    } catch (const std::exception& e) {
        return exception_error(e);
    }
}

Result<CloudEvent> wrap_json(std::string_view body, std::string type, std::string source) {
    try {
        if (auto syntax = check_json_syntax(body); !syntax) {
            return invalid("body is not valid JSON: " + syntax.error().message);
        }
        CloudEvent event;
        event.id = make_uuid_v7();
        event.source = std::move(source);
        event.type = std::move(type);
        event.datacontenttype = "application/json";
        event.time = now_rfc3339_ms();
        // Minified rather than copied so that data is compact and on one line, as DataKind::json
        // promises.
        event.data = minify_json(body);
        event.data_kind = DataKind::json;
        if (auto valid = validate(event); !valid) return std::move(valid).error();
        return event;
    } catch (const std::exception& e) {
        return exception_error(e);
    }
}

// Member order is fixed (specversion, id, source, type, the optional context attributes, extensions
// by name, then data) so equal events encode to equal bytes. The event is assumed valid (validate()
// accepted it): strings are valid UTF-8 and JSON data is serialised JSON. A DataKind::text event
// whose datacontenttype is a JSON media type (or absent) cannot come from a decoder; it is written
// as a JSON string and would decode back as JSON data.
std::string encode_structured(const CloudEvent& event) {
    std::size_t estimate = 96 + event.specversion.size() + event.id.size() + event.source.size() +
                           event.type.size() + event.datacontenttype.value_or("").size() +
                           event.dataschema.value_or("").size() +
                           event.subject.value_or("").size() + event.time.value_or("").size();
    for (const auto& [name, value] : event.extensions) {
        const auto* s = std::get_if<std::string>(&value);
        estimate += name.size() + 8 + (s != nullptr ? s->size() : 12);
    }
    estimate += event.data_kind == DataKind::binary ? (event.data.size() + 2) / 3 * 4
                                                    : event.data.size() + 2;

    std::string out;
    out.reserve(estimate);
    out.append("{\"specversion\":");
    append_json_string(out, event.specversion);
    out.append(",\"id\":");
    append_json_string(out, event.id);
    out.append(",\"source\":");
    append_json_string(out, event.source);
    out.append(",\"type\":");
    append_json_string(out, event.type);
    const auto optional = [&](string_view name, const std::optional<std::string>& value) {
        if (!value) return;
        append_member_name(out, name);
        append_json_string(out, *value);
    };
    optional("datacontenttype", event.datacontenttype);
    optional("dataschema", event.dataschema);
    optional("subject", event.subject);
    optional("time", event.time);
    for (const auto& [name, value] : event.extensions) {
        append_member_name(out, name);
        append_attribute_value(out, value);
    }
    switch (event.data_kind) {
        case DataKind::none:
            break;
        case DataKind::json:
            // Already serialised JSON; an empty string would make the output invalid, so it is left
            // out.
            if (!event.data.empty()) {
                out.append(",\"data\":");
                out.append(event.data);
            }
            break;
        case DataKind::text:
            out.append(",\"data\":");
            append_json_string(out, event.data);
            break;
        case DataKind::binary:
            out.append(",\"data_base64\":\"");
            append_base64(out, event.data);
            out.push_back('"');
            break;
    }
    out.push_back('}');
    return out;
}

// HTTP binding §3.1.3.2, decoding direction. First, a value that is a whole quoted-string (RFC 7230
// §3.2.6) is unescaped, which the binding requires for compatibility with senders of older
// versions; a value that merely contains '"' is taken literally. Then one round of percent-decoding
// (hex digits in either case; unnecessary escapes accepted), and the resulting bytes must be strict
// UTF-8 (overlong forms such as %C0%A0 rejected).
Result<std::string> percent_decode_header(std::string_view value) {
    std::string unquoted;
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        unquoted.reserve(value.size() - 2);
        for (std::size_t i = 1; i + 1 < value.size(); ++i) {
            char c = value[i];
            if (c == '"') return invalid("an unescaped '\"' ends the quoted string early");
            if (c == '\\') {
                if (i + 2 >= value.size())
                    return invalid("a '\\' at the end of the quoted string escapes nothing");
                c = value[++i];
            }
            unquoted.push_back(c);
        }
        value = unquoted;
    }

    std::string out;
    out.reserve(value.size());
    const auto hex_value = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] != '%') {
            out.push_back(value[i]);
            continue;
        }
        const int hi = i + 1 < value.size() ? hex_value(value[i + 1]) : -1;
        const int lo = i + 2 < value.size() ? hex_value(value[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            return invalid("'%' at byte " + std::to_string(i) +
                           " is not followed by two hexadecimal digits");
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    if (!detail::is_valid_utf8(out)) return invalid("the percent-decoded value is not valid UTF-8");
    return out;
}

// HTTP binding §3.1.3.2, encoding direction: space, '"', '%' and every byte outside printable ASCII
// (0x21-0x7E) become %XX with upper-case hex. Encoding the UTF-8 bytes one by one is the same as
// encoding each character's UTF-8 sequence, as the binding describes.
std::string percent_encode_header(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    for (char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x21 || c > 0x7E || c == '"' || c == '%') {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xF]);
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

}  // namespace herald::core
