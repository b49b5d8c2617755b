#include "catalog/yaml.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <random>
#include <regex>

#include "catalog/catalog.hpp"
#include "catalog_fixture.hpp"

namespace herald::catalog {
namespace {

namespace json = boost::json;
using namespace testing;

// YAML 1.2 core schema resolution of a plain scalar; quoted and block scalars (tag "!") are
// strings.
json::value resolve_scalar(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    if (node.Tag() == "!") return json::value(text);
    static const std::regex null_re("^(null|Null|NULL|~|)$");
    static const std::regex bool_re("^(true|True|TRUE|false|False|FALSE)$");
    static const std::regex int_re("^[-+]?[0-9]+$");
    static const std::regex float_re("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$");
    if (std::regex_match(text, null_re)) return nullptr;
    if (std::regex_match(text, bool_re)) return text[0] == 't' || text[0] == 'T';
    if (std::regex_match(text, int_re)) {
        if (text[0] == '-') return std::stoll(text);
        return std::stoull(text);
    }
    if (std::regex_match(text, float_re)) return std::stod(text);
    if (text == ".inf" || text == "+.inf") return std::numeric_limits<double>::infinity();
    if (text == "-.inf") return -std::numeric_limits<double>::infinity();
    return json::value(text);
}

json::value to_json(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Null:
            return nullptr;
        case YAML::NodeType::Scalar:
            return resolve_scalar(node);
        case YAML::NodeType::Sequence: {
            json::array a;
            for (const auto& item : node) a.push_back(to_json(item));
            return a;
        }
        case YAML::NodeType::Map: {
            json::object o;
            for (const auto& kv : node) o[kv.first.Scalar()] = to_json(kv.second);
            return o;
        }
        default:
            return "<undefined>";
    }
}

json::value round_trip(const json::value& v) { return to_json(YAML::Load(to_yaml(v))); }

// Integers come back as uint64 when non-negative; compare numbers by value.
void expect_same(const json::value& a, const json::value& b, const std::string& where = "") {
    if (a.is_number() && b.is_number() && !a.is_double() && !b.is_double()) {
        EXPECT_EQ(a.to_number<double>(), b.to_number<double>()) << where;
        return;
    }
    ASSERT_EQ(a.kind(), b.kind()) << where << ": " << json::serialize(a) << " vs "
                                  << json::serialize(b);
    if (a.is_object()) {
        ASSERT_EQ(a.get_object().size(), b.get_object().size()) << where;
        auto ib = b.get_object().begin();
        for (const auto& [k, v] : a.get_object()) {
            EXPECT_EQ(k, ib->key()) << where << ": member order";  // order is kept
            expect_same(v, ib->value(), where + "/" + std::string(k));
            ++ib;
        }
    } else if (a.is_array()) {
        ASSERT_EQ(a.get_array().size(), b.get_array().size()) << where;
        for (std::size_t i = 0; i < a.get_array().size(); ++i)
            expect_same(a.get_array()[i], b.get_array()[i], where + "/" + std::to_string(i));
    } else {
        EXPECT_EQ(a, b) << where;
    }
}

std::string scalar_yaml(std::string_view s) {
    std::string y = to_yaml(json::value(s));
    if (!y.empty() && y.back() == '\n') y.pop_back();
    return y;
}

TEST(Yaml, BlockLayout) {
    const auto v = json::parse(R"({
        "asyncapi": "3.0.0",
        "info": {"title": "Herald", "version": "1.0"},
        "list": [1, "two", {"a": 1, "b": [true, null]}, [3, 4], [], {}],
        "empty": {},
        "nested": {"deeper": {"x": -1.5}}
    })");
    EXPECT_EQ(to_yaml(v),
              "asyncapi: \"3.0.0\"\n"
              "info:\n"
              "  title: Herald\n"
              "  version: \"1.0\"\n"
              "list:\n"
              "  - 1\n"
              "  - two\n"
              "  - a: 1\n"
              "    b:\n"
              "      - true\n"
              "      - null\n"
              "  - - 3\n"
              "    - 4\n"
              "  - []\n"
              "  - {}\n"
              "empty: {}\n"
              "nested:\n"
              "  deeper:\n"
              "    x: -1.5\n");
}

TEST(Yaml, PlainOnlyWhenUnambiguous) {
    for (const char* plain :
         {"Herald", "application/cloudevents+json", "/v1/topics", "$ref", "shop.orderPlaced.v1",
          "a b c", "it's fine", "x-herald-sse", "with {braces} inside", "caf\xC3\xA9"})
        EXPECT_EQ(scalar_yaml(plain), plain) << plain;
}

TEST(Yaml, QuotesWhatYamlWouldMisread) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", R"("")"},
        {"true", R"("true")"},
        {"False", R"("False")"},
        {"null", R"("null")"},
        {"Null", R"("Null")"},
        {"~", R"("~")"},
        {"yes", R"("yes")"},
        {"No", R"("No")"},
        {"on", R"("on")"},
        {"OFF", R"("OFF")"},
        {"y", R"("y")"},
        {"n", R"("n")"},
        {"<<", R"("<<")"},
        {"123", R"("123")"},
        {"-1", R"("-1")"},
        {"+1", R"("+1")"},
        {"1.5", R"("1.5")"},
        {"1e3", R"("1e3")"},
        {".inf", R"(".inf")"},
        {".NaN", R"(".NaN")"},
        {"0x1F", R"("0x1F")"},
        {"0o17", R"("0o17")"},
        {"1:20", R"("1:20")"},
        {"2024-05-01", R"("2024-05-01")"},
        {"127.0.0.1:8080", R"("127.0.0.1:8080")"},
        {"a: b", R"("a: b")"},
        {"urn:herald:schema:a.b.v1:v2", R"("urn:herald:schema:a.b.v1:v2")"},
        {"http://example.com/x", R"("http://example.com/x")"},
        {"a #b", R"("a #b")"},
        {"#comment", R"("#comment")"},
        {"- item", R"("- item")"},
        {"-", R"("-")"},
        {"? key", R"("? key")"},
        {":", R"(":")"},
        {"*alias", R"("*alias")"},
        {"&anchor", R"("&anchor")"},
        {"!tag", R"("!tag")"},
        {"|", R"("|")"},
        {">", R"(">")"},
        {"%YAML", R"("%YAML")"},
        {"@at", R"("@at")"},
        {"`tick", R"("`tick")"},
        {"'single", R"("'single")"},
        {"\"double", R"("\"double")"},
        {"{a}", R"("{a}")"},
        {"[a]", R"("[a]")"},
        {",", R"(",")"},
        {" leading", R"(" leading")"},
        {"trailing ", R"("trailing ")"},
        {"tab\there", R"("tab\there")"},
        {"back\\slash", R"(back\slash)"},
        {"bell\x07", R"("bell\x07")"},
        {std::string("nul\0x", 5), R"("nul\0x")"},
        {"del\x7F", R"("del\x7F")"},
        {"nel\xC2\x85", R"("nel\x85")"},
        {"ls\xE2\x80\xA8", R"("ls\L")"},
        {"\xEF\xBB\xBF"
         "bom",
         R"("\uFEFFbom")"},
        {"bad\xFF", R"("bad\uFFFD")"},
        {"cr\r", R"("cr\r")"},
    };
    for (const auto& [in, out] : cases) {
        EXPECT_EQ(scalar_yaml(in), out) << json::serialize(json::value(in));
        // And yaml-cpp reads each back as the same string.
        const auto back = round_trip(json::object{{"k", in}});
        if (in != "bad\xFF") {
            EXPECT_EQ(back.at("k"), json::value(in)) << json::serialize(json::value(in));
        }
    }
}

TEST(Yaml, KeysAreQuotedByTheSameRule) {
    const auto v =
        json::parse(R"({"200": {"description": "OK"}, "true": 1, "": 2, "a:b": 3, "/v1/ws": 4})");
    EXPECT_EQ(to_yaml(v),
              "\"200\":\n"
              "  description: OK\n"
              "\"true\": 1\n"
              "\"\": 2\n"
              "\"a:b\": 3\n"
              "/v1/ws: 4\n");
    expect_same(round_trip(v), v);
}

TEST(Yaml, MultiLineStringsAsLiteralBlocks) {
    const auto v = json::parse(R"({"description": "First paragraph.\n\nSecond: with a colon.",
                                   "trailing": "line one\nline two\n",
                                   "list": ["a\nb"],
                                   "indented": "  starts with spaces\nnext",
                                   "many": "x\n\n\n"})");
    EXPECT_EQ(to_yaml(v),
              "description: |-\n"
              "  First paragraph.\n"
              "\n"
              "  Second: with a colon.\n"
              "trailing: |\n"
              "  line one\n"
              "  line two\n"
              "list:\n"
              "  - |-\n"
              "    a\n"
              "    b\n"
              "indented: \"  starts with spaces\\nnext\"\n"
              "many: \"x\\n\\n\\n\"\n");
    expect_same(round_trip(v), v);
}

TEST(Yaml, Numbers) {
    const auto v =
        json::parse(R"([0, -7, 18446744073709551615, -9223372036854775808, 1.0, 0.1, -2.5e-8, 1e300,
                                   123456789012345678.0])");
    EXPECT_EQ(to_yaml(v),
              "- 0\n- -7\n- 18446744073709551615\n- -9223372036854775808\n- 1.0\n- 0.1\n- "
              "-2.5e-08\n- 1.0e+300\n"
              "- 123456789012345680.0\n");
    expect_same(round_trip(v), v);
    EXPECT_EQ(to_yaml(json::value(std::numeric_limits<double>::infinity())), ".inf\n");
    EXPECT_EQ(to_yaml(json::value(-std::numeric_limits<double>::infinity())), "-.inf\n");
    EXPECT_EQ(to_yaml(json::value(std::nan(""))), ".nan\n");
}

TEST(Yaml, TopLevelScalarsAndEmptyContainers) {
    EXPECT_EQ(to_yaml(json::value(nullptr)), "null\n");
    EXPECT_EQ(to_yaml(json::value(true)), "true\n");
    EXPECT_EQ(to_yaml(json::value("x: y")), "\"x: y\"\n");
    EXPECT_EQ(to_yaml(json::object{}), "{}\n");
    EXPECT_EQ(to_yaml(json::array{}), "[]\n");
    expect_same(round_trip(json::value("two\nlines")), json::value("two\nlines"));
}

TEST(Yaml, LongKeysAreExplicit) {
    const std::string key(1500, 'k');
    json::object v{{key, json::array{1, 2}},
                   {"short", json::object{{std::string(1200, 'q'), "v"}}}};
    const std::string y = to_yaml(v);
    EXPECT_EQ(y.rfind("? " + key + "\n: - 1\n  - 2\n", 0), 0u) << y.substr(0, 40);
    expect_same(round_trip(v), v);
}

TEST(Yaml, DeepNestingFallsBackToFlow) {
    json::value v = json::array{"bottom"};
    for (int i = 0; i < 200; ++i) v = json::object{{"n", std::move(v)}};
    const std::string y = to_yaml(v);
    EXPECT_NE(y.find("{\"n\":"), std::string::npos);
    expect_same(round_trip(v), v);
}

// Strings assembled from the pieces YAML is touchy about, as keys and as values, must all come
// back.
TEST(Yaml, RandomTrickyStringsRoundTrip) {
    static const std::vector<std::string> pieces = {
        " ",  ":",    "#",  "-", "?",  "'", "\"", "\\", "\n",   "\t",       "a",
        "Z",  "1",    ".",  "{", "}",  "[", "]",  ",",  "&",    "*",        "!",
        "|",  ">",    "%",  "@", "`",  "~", "e",  "+",  "y",    "n",        "true",
        "No", "null", "0x", "=", "<<", "$", "/",  "\r", "\x01", "\xC3\xA9", "\xE2\x80\xA6"};
    std::mt19937 rng(20240501);
    for (int i = 0; i < 3000; ++i) {
        std::string s;
        const int n = static_cast<int>(rng() % 7);
        for (int k = 0; k < n; ++k) s += pieces[rng() % pieces.size()];
        const json::value v = json::object{{s, s}, {"list", json::array{s}}};
        const auto back = round_trip(v);
        ASSERT_TRUE(back.is_object()) << json::serialize(json::value(s));
        EXPECT_EQ(back, v) << json::serialize(json::value(s)) << "\n" << to_yaml(v);
    }
}

TEST(Yaml, CatalogDocumentsRoundTrip) {
    for (const auto& in : {sample_input(), with_auth(sample_input(), true, true, true)}) {
        const json::value async = asyncapi_document(in);
        expect_same(round_trip(async), async, "asyncapi");
        const json::value open = openapi_document(in);
        expect_same(round_trip(open), open, "openapi");
        EXPECT_EQ(to_yaml(async), to_yaml(asyncapi_document(in)));  // deterministic
    }
}

}  // namespace
}  // namespace herald::catalog
