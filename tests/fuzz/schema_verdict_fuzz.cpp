// Fuzz target: the fast validator against valijson (src/schema/fast_validator.hpp), on arbitrary
// event data and on arbitrary schemas.
//
// Input: the first byte picks the mode.
//  - below 0xC0: the data of an event, as text, checked against one of the built-in schemas below
//    (the byte picks which);
//  - from 0xC0: a schema, a line feed, then the data. Schemas the fast validator refuses are
//  skipped
//    without asking valijson, whose own failures on hostile schemas (unbounded recursion on a cycle
//    through allOf and $ref, std::regex on patternProperties) are known and are not this target's
//    business: schemas are registered by operators, data comes from the network. Schemas with
//    multipleOf are skipped too: valijson converts a fraction beyond int64 to an integer for an
//    integer divisor (undefined behaviour, which UBSan reports), and the fast validator leaves that
//    case to it.
//
// Invariants (the contract of validator.hpp):
//  - whenever the fast validator decides, it decides as valijson does;
//  - is_valid() and validate() agree with valijson;
//  - proves_valid_text() proves only data that parses and that valijson finds valid.

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "schema/validator.hpp"

using namespace herald;
namespace json = boost::json;

namespace {

constexpr std::string_view builtin[] = {
    // The benchmark's order event, abridged.
    R"({"type":"object","required":["orderId","status","total","lines"],"additionalProperties":false,
    "properties":{"orderId":{"type":"string","pattern":"^ord_[0-9a-z]{8,32}$"},
    "status":{"enum":["placed","paid","shipped"]},"total":{"type":"number","minimum":0,"maximum":1e6},
    "coupon":{"type":["string","null"],"maxLength":32},"email":{"type":"string","format":"email"},
    "customer":{"type":"object","required":["id"],"properties":{"id":{"type":"string","minLength":1},
    "tier":{"const":"gold"}}},
    "lines":{"type":"array","minItems":1,"maxItems":5,"items":{"type":"object","required":["qty"],
    "properties":{"sku":{"type":"string","pattern":"^[A-Z0-9-]{3,20}$"},
    "qty":{"type":"integer","minimum":1,"multipleOf":0.5}}}}}})",
    R"({"anyOf":[{"type":"integer","multipleOf":1.5},{"type":"string","maxLength":3}],
    "not":{"enum":[9,"abc",[1],{"a":null}]}})",
    R"({"oneOf":[{"type":"number","exclusiveMaximum":10},{"type":"number","multipleOf":0.5}]})",
    R"({"type":"array","uniqueItems":true,"items":{"type":["object","array","number","string"]}})",
    R"({"definitions":{"n":{"type":"object","properties":{"v":{"type":"integer"},
    "next":{"$ref":"#/definitions/n"}},"additionalProperties":{"type":"string"}}},
    "$ref":"#/definitions/n"})",
    R"({"properties":{"a":true,"b":false,"c":{"allOf":[{"minimum":-1},{"maximum":1}]}},
    "required":["a"],"maxProperties":3})",
};

// Each compiled once: the fuzzer's process lives for many inputs.
const std::shared_ptr<const schema::CompiledSchema>& builtin_schema(std::size_t i) {
    static const auto compiled = [] {
        std::vector<std::shared_ptr<const schema::CompiledSchema>> out;
        for (std::string_view text : builtin) {
            auto c = schema::CompiledSchema::compile(json::parse(text), schema::Draft::draft7);
            HERALD_FUZZ_CHECK(c && (*c)->has_fast_path());
            out.push_back(*c);
        }
        return out;
    }();
    return compiled[i % compiled.size()];
}

void cross_check(const schema::CompiledSchema& s, std::string_view text) {
    using Engine = schema::CompiledSchema::Engine;
    boost::system::error_code ec;
    const json::value data = json::parse(text, ec);
    const bool proved = s.proves_valid_text(text);
    if (ec) {
        HERALD_FUZZ_CHECK(!proved);
        return;
    }
    const std::optional<bool> reference = s.verdict(Engine::valijson, data);
    HERALD_FUZZ_CHECK(reference.has_value());
    if (proved) HERALD_FUZZ_CHECK(*reference);
    const std::optional<bool> fast = s.verdict(Engine::fast, data);
    if (fast) HERALD_FUZZ_CHECK(*fast == *reference);
    HERALD_FUZZ_CHECK(s.is_valid(data) == *reference);
    HERALD_FUZZ_CHECK(s.validate(data).empty() == *reference);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view input = fuzz::as_text(bytes + 1, size - 1);
    if (bytes[0] < 0xC0) {
        cross_check(*builtin_schema(bytes[0]), input);
        return 0;
    }
    const std::size_t newline = input.find('\n');
    if (newline == std::string_view::npos) return 0;
    const std::string_view schema_text = input.substr(0, newline);
    if (schema_text.find("patternProperties") != std::string_view::npos ||
        schema_text.find("multipleOf") != std::string_view::npos)
        return 0;
    boost::system::error_code ec;
    const json::value schema_json = json::parse(schema_text, ec);
    if (ec) return 0;
    for (const schema::Draft draft : {schema::Draft::draft7, schema::Draft::draft4}) {
        auto compiled = schema::CompiledSchema::compile(schema_json, draft);
        if (!compiled || !(*compiled)->has_fast_path()) continue;
        cross_check(**compiled, input.substr(newline + 1));
    }
    return 0;
}
