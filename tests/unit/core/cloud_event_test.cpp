// Validation rules of CloudEvents 1.0.2 ("Context Attributes", "Type System", "Naming Conventions")
// and the grammar recognisers behind them. Every rule is exercised with accepted and rejected
// values, and rejections assert the attribute the error names, since that is what the HTTP layer
// reports to clients.

#include "core/cloud_event.hpp"

#include <gtest/gtest.h>

#include <boost/url/parse.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace herald::core {
namespace {

CloudEvent minimal_event() {
    CloudEvent e;
    e.id = "A234-1234-1234";
    e.source = "/mycontext";
    e.type = "com.example.someevent";
    return e;
}

// Asserts that `event` fails validation with invalid_argument naming `attribute`.
void expect_invalid(const CloudEvent& event, const std::string& attribute) {
    const auto r = validate(event);
    ASSERT_FALSE(r) << "expected attribute " << attribute << " to be rejected";
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_EQ(r.error().attribute, attribute);
    EXPECT_NE(r.error().message.find(attribute.empty() ? "" : attribute), std::string::npos)
        << "message should name the attribute: " << r.error().message;
}

TEST(Validate, MinimalEventIsValid) { EXPECT_TRUE(validate(minimal_event())); }

TEST(Validate, FullEventIsValid) {
    CloudEvent e = minimal_event();
    e.datacontenttype = "application/json; charset=utf-8";
    e.dataschema = "https://example.com/schemas/order.json";
    e.subject = "mynewfile.jpg";
    e.time = "2018-04-05T17:31:00Z";
    e.extensions["comexampleextension1"] = std::string("value");
    e.extensions["comexampleothervalue"] = std::int64_t{5};
    e.extensions["flag"] = true;
    e.data_kind = DataKind::json;
    e.data = R"({"a":1})";
    EXPECT_TRUE(validate(e));
}

// --- specversion
// -------------------------------------------------------------------------------------------------

TEST(Validate, SpecversionMustBeExactlyOnePointZero) {
    for (const char* bad : {"", "0.3", "1", "1.0.2", "1.0 ", " 1.0", "1.1", "2.0", "1.0-rc1"}) {
        CloudEvent e = minimal_event();
        e.specversion = bad;
        SCOPED_TRACE(bad);
        expect_invalid(e, "specversion");
    }
    CloudEvent e = minimal_event();
    e.specversion = "0.3";
    EXPECT_EQ(validate(e).error().message, "specversion must be \"1.0\"");
}

TEST(Validate, SpecversionIsCheckedBeforeOtherAttributes) {
    CloudEvent e;  // id, source and type are empty too
    e.specversion = "";
    expect_invalid(e, "specversion");
    e.specversion = "1.0";
    expect_invalid(e, "id");
}

// --- id, type: required non-empty Strings
// ------------------------------------------------------------------------

TEST(Validate, RequiredStringsMustBePresentAndNonEmpty) {
    CloudEvent e = minimal_event();
    e.id.clear();
    expect_invalid(e, "id");
    EXPECT_EQ(validate(e).error().message, "id is required and must be a non-empty string");
    e = minimal_event();
    e.type.clear();
    expect_invalid(e, "type");
    e = minimal_event();
    e.source.clear();
    expect_invalid(e, "source");
}

TEST(Validate, StringsMayHoldAnyAllowedUnicode) {
    CloudEvent e = minimal_event();
    e.id = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBD";  // é, €, 😀, U+FFFD
    e.type = "a b\"c\\d'";
    e.subject = "\xC2\xA0";  // U+00A0, the first code point after the C1 controls
    EXPECT_TRUE(validate(e));
}

TEST(Validate, StringsRejectControlCharactersAndNoncharacters) {
    const std::vector<std::string> bad = {
        std::string("a\0b", 3),  // U+0000
        "line\nbreak",           // U+000A
        "tab\there",             // U+0009
        "\x1F",                  // U+001F
        "\x7F",                  // U+007F DEL
        "\xC2\x80",              // U+0080, C1 control
        "\xC2\x9F",              // U+009F, C1 control
        "\xEF\xB7\x90",          // U+FDD0 noncharacter
        "\xEF\xB7\xAF",          // U+FDEF noncharacter
        "\xEF\xBF\xBE",          // U+FFFE noncharacter
        "\xEF\xBF\xBF",          // U+FFFF noncharacter
        "\xF0\x9F\xBF\xBE",      // U+1FFFE noncharacter
        "\xF4\x8F\xBF\xBF",      // U+10FFFF noncharacter
    };
    for (const auto& value : bad) {
        SCOPED_TRACE(::testing::PrintToString(value));
        CloudEvent e = minimal_event();
        e.id = value;
        expect_invalid(e, "id");
        EXPECT_EQ(validate(e).error().message,
                  "id must not contain control characters or Unicode noncharacters");
        e = minimal_event();
        e.type = value;
        expect_invalid(e, "type");
        e = minimal_event();
        e.subject = value;
        expect_invalid(e, "subject");
        e = minimal_event();
        e.extensions["ext"] = value;
        expect_invalid(e, "ext");
    }
}

TEST(Validate, StringsMustBeValidUtf8) {
    const std::vector<std::string> bad = {
        "\xC0\xA0",          // overlong U+0020
        "\xE0\x80\xAF",      // overlong '/'
        "\xED\xA0\x80",      // U+D800, a surrogate
        "\xED\xBF\xBF",      // U+DFFF
        "\xF4\x90\x80\x80",  // U+110000, beyond Unicode
        "\xFF",
        "\x80",      // continuation byte without a lead
        "\xC3",      // truncated
        "\xE2\x82",  // truncated
    };
    for (const auto& value : bad) {
        SCOPED_TRACE(::testing::PrintToString(value));
        CloudEvent e = minimal_event();
        e.id = value;
        expect_invalid(e, "id");
        EXPECT_EQ(validate(e).error().message, "id must be valid UTF-8");
    }
}

// --- source: non-empty URI-reference
// ----------------------------------------------------------------------------

TEST(Validate, SourceAcceptsSpecExamplesAndUriReferences) {
    for (const char* good : {
             "https://github.com/cloudevents",
             "mailto:cncf-wg-serverless@lists.cncf.io",
             "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
             "/cloudevents/spec/pull/123",
             "/sensors/tn-1234567/alerts",
             "1-555-123-4567",
             "http://user:pw@example.com:8080/p/a/t/h?query=1&x=y#frag",
             "http://[::1]:8080/",
             "http://[2001:db8::7]/c=GB?objectClass?one",
             "http://[::ffff:192.0.2.1]",
             "http://[v1.fe80::a+en1]/",
             "http://192.168.0.1/",
             "//example.com/path",
             "ftp://ftp.is.co.za/rfc/rfc1808.txt",
             "tel:+1-816-555-1212",
             "a/b:c",
             "./this:that",
             "?query",
             "#fragment",
             "%41%2f",
             "g;x=1/../y",
             "http://example.com:/",
             "file:///etc/hosts",
             "s3://bucket/key?versionId=1#x?y/z",
         }) {
        EXPECT_TRUE(is_uri_reference(good)) << good;
        CloudEvent e = minimal_event();
        e.source = good;
        EXPECT_TRUE(validate(e)) << good;
    }
}

TEST(Validate, SourceRejectsWhatRfc3986Forbids) {
    for (const char* bad : {
             "has space",
             "tab\there",
             "new\nline",
             "bad%zz",
             "bad%4",
             "bad%",
             "%G1",
             "http://h/p#f#g",
             "1abc:foo",       // first segment with ':' but not a scheme
             ":nothing",       // empty scheme
             "http://[::1",    // unterminated IP literal
             "http://[1:2]/",  // too few IPv6 groups
             "http://[1::2::3]/",
             "http://[::1]x/",
             "http://[v1.]/",
             "http://h:port/",
             "http://a@b@c/",
             "http://h/\xC3\xA9",  // non-ASCII: an IRI, not a URI
             "<x>",
             "a\"b",
             "{x}",
             "a|b",
             "a\\b",
             "a^b",
             "a`b",
             "http://h/[x]",
         }) {
        EXPECT_FALSE(is_uri_reference(bad)) << bad;
        CloudEvent e = minimal_event();
        e.source = bad;
        expect_invalid(e, "source");
    }
    CloudEvent e = minimal_event();
    e.source = "has space";
    EXPECT_EQ(validate(e).error().message, "source must be a URI-reference (RFC 3986)");
}

TEST(Validate, EmptyStringIsAUriReferenceButNotAValidSource) {
    EXPECT_TRUE(is_uri_reference(""));
    CloudEvent e = minimal_event();
    e.source = "";
    expect_invalid(e, "source");
}

// --- dataschema: absolute URI
// -------------------------------------------------------------------------------------

TEST(Validate, DataschemaMustBeAnAbsoluteUri) {
    for (const char* good : {"https://example.com/schemas/order.json", "urn:example:schema:1",
                             "http://h?version=2", "x:"}) {
        EXPECT_TRUE(is_absolute_uri(good)) << good;
        CloudEvent e = minimal_event();
        e.dataschema = good;
        EXPECT_TRUE(validate(e)) << good;
    }
    // RFC 3986 §4.3 absolute-URI has no fragment; relative references are not URIs.
    for (const char* bad :
         {"", "/schemas/order.json", "order.json", "//example.com/schema",
          "https://example.com/s.json#/definitions/x", "http://exa mple.com/", "1http://h/"}) {
        EXPECT_FALSE(is_absolute_uri(bad)) << bad;
        CloudEvent e = minimal_event();
        e.dataschema = bad;
        expect_invalid(e, "dataschema");
    }
}

// --- datacontenttype: RFC 2046 media type
// ---------------------------------------------------------------------------

TEST(Validate, DatacontenttypeMustBeAMediaType) {
    for (const char* good :
         {"application/json", "application/json; charset=utf-8", "application/json;charset=utf-8",
          "text/plain;charset=\"utf-8\"", "text/plain; a=\"quoted \\\" pair\"",
          "application/vnd.apache.thrift.binary", "application/cloudevents+json",
          "multipart/form-data; boundary=abc; x=y", "Text/Plain", "*/*"}) {
        EXPECT_TRUE(is_media_type(good)) << good;
        CloudEvent e = minimal_event();
        e.datacontenttype = good;
        EXPECT_TRUE(validate(e)) << good;
    }
    for (const char* bad :
         {"", "json", "application/", "/json", "application/json;", "application/json; charset",
          "application/json; charset=", "text/plain; a=\"unterminated", "appli cation/json",
          "application/json ", "text/(plain)", "text/plain/x", "application/json, text/plain",
          "text/plain; a=b c"}) {
        EXPECT_FALSE(is_media_type(bad)) << bad;
        CloudEvent e = minimal_event();
        e.datacontenttype = bad;
        expect_invalid(e, "datacontenttype");
    }
}

TEST(Validate, JsonMediaTypes) {
    for (const char* json :
         {"application/json", "text/json", "application/cloudevents+json", "APPLICATION/JSON",
          "application/json; charset=utf-8", "application/vnd.foo+json;v=1", "x/y+JSON"}) {
        EXPECT_TRUE(is_json_media_type(json)) << json;
    }
    for (const char* other :
         {"text/plain", "application/xml", "application/jsonx", "json", "", "application/json-seq",
          "application/geo+json-seq", "application/+json", "/json"}) {
        EXPECT_FALSE(is_json_media_type(other)) << other;
    }
}

// --- subject
// -------------------------------------------------------------------------------------------------

TEST(Validate, SubjectMustBeNonEmptyWhenPresent) {
    CloudEvent e = minimal_event();
    e.subject = "";
    expect_invalid(e, "subject");
    EXPECT_EQ(validate(e).error().message, "subject must be a non-empty string when present");
    e.subject = "partnerid/5/clientid/100";
    EXPECT_TRUE(validate(e));
    e.subject.reset();
    EXPECT_TRUE(validate(e));
}

// --- time: RFC 3339
// -------------------------------------------------------------------------------------------------

TEST(Validate, TimeAcceptsRfc3339Timestamps) {
    for (const char* good :
         {"2018-04-05T17:31:00Z", "2018-04-05t17:31:00z", "2018-04-05T17:31:00.1Z",
          "2018-04-05T17:31:00.123456789Z", "2018-04-05T17:31:00+01:00",
          "2018-04-05T17:31:00-23:59", "2018-04-05T17:31:00.5-00:00", "2020-02-29T00:00:00Z",
          "2000-02-29T00:00:00Z", "1990-12-31T23:59:60Z", "0000-01-01T00:00:00Z",
          "9999-12-31T23:59:59Z", "2018-01-31T00:00:00Z", "2018-04-30T00:00:00Z"}) {
        EXPECT_TRUE(is_rfc3339_timestamp(good)) << good;
        CloudEvent e = minimal_event();
        e.time = good;
        EXPECT_TRUE(validate(e)) << good;
    }
}

TEST(Validate, TimeRejectsEverythingElse) {
    for (const char* bad : {"",
                            "2018-04-05",
                            "2018-04-05T17:31:00",
                            "2018-04-05 17:31:00Z",
                            "2018-13-05T17:31:00Z",
                            "2018-00-05T17:31:00Z",
                            "2018-04-00T17:31:00Z",
                            "2018-04-31T17:31:00Z",
                            "2019-02-29T00:00:00Z",
                            "1900-02-29T00:00:00Z",
                            "2018-01-32T00:00:00Z",
                            "2018-04-05T24:00:00Z",
                            "2018-04-05T17:60:00Z",
                            "2018-04-05T17:31:61Z",
                            "2018-04-05T17:31:00.Z",
                            "2018-04-05T17:31:00+01:60",
                            "2018-04-05T17:31:00+24:00",
                            "2018-04-05T17:31:00+0100",
                            "2018-04-05T17:31:00+01",
                            "2018-4-05T17:31:00Z",
                            "2018-04-05T17:31Z",
                            "2018-04-05T17:31:00ZZ",
                            "2018-04-05T17:31:00Z ",
                            " 2018-04-05T17:31:00Z",
                            "18-04-05T17:31:00Z",
                            "2018/04/05T17:31:00Z",
                            "2018-04-05T17:31:00,5Z",
                            "+2018-04-05T17:31:00Z",
                            "2018-04-05T1a:31:00Z",
                            "2018-04-05T17:31:00UTC",
                            "1522949460"}) {
        EXPECT_FALSE(is_rfc3339_timestamp(bad)) << bad;
        CloudEvent e = minimal_event();
        e.time = bad;
        expect_invalid(e, "time");
    }
    CloudEvent e = minimal_event();
    e.time = "yesterday";
    EXPECT_EQ(validate(e).error().message, "time must be an RFC 3339 timestamp");
}

// --- extension attributes
// -----------------------------------------------------------------------------------------

TEST(Validate, AttributeNames) {
    for (const char* good :
         {"a", "0", "comexampleextension1", "traceparent", "abcdefghijklmnopqrstuvwxyz0123"}) {
        EXPECT_TRUE(is_valid_attribute_name(good)) << good;
    }
    for (const char* bad :
         {"", "Upper", "camelCase", "with-dash", "under_score", "dot.ted", "sp ace", "\xC3\xA9"}) {
        EXPECT_FALSE(is_valid_attribute_name(bad)) << bad;
        CloudEvent e = minimal_event();
        e.extensions[bad] = std::string("v");
        expect_invalid(e, bad);
    }
}

TEST(Validate, ExtensionsMustNotUseReservedNames) {
    for (const char* reserved : {"specversion", "id", "source", "type", "datacontenttype",
                                 "dataschema", "subject", "time", "data", "data_base64"}) {
        CloudEvent e = minimal_event();
        e.extensions[reserved] = std::string("x");
        SCOPED_TRACE(reserved);
        expect_invalid(e, reserved);
    }
    CloudEvent e = minimal_event();
    e.extensions["data"] = true;
    EXPECT_EQ(validate(e).error().message,
              "data is a reserved name and cannot be used as an extension attribute");
}

TEST(Validate, IntegerExtensionsAreSigned32Bit) {
    constexpr std::int64_t min = std::numeric_limits<std::int32_t>::min();
    constexpr std::int64_t max = std::numeric_limits<std::int32_t>::max();
    for (std::int64_t good : {min, std::int64_t{-1}, std::int64_t{0}, std::int64_t{5}, max}) {
        CloudEvent e = minimal_event();
        e.extensions["n"] = good;
        EXPECT_TRUE(validate(e)) << good;
    }
    for (std::int64_t bad : {min - 1, max + 1, std::numeric_limits<std::int64_t>::min(),
                             std::numeric_limits<std::int64_t>::max()}) {
        CloudEvent e = minimal_event();
        e.extensions["n"] = bad;
        SCOPED_TRACE(bad);
        expect_invalid(e, "n");
        EXPECT_EQ(validate(e).error().message, "n must be an Integer in the signed 32-bit range");
    }
}

TEST(Validate, ExtensionStringsMayBeEmptyAndBooleansAreFine) {
    CloudEvent e = minimal_event();
    e.extensions["empty"] = std::string();
    e.extensions["yes"] = true;
    e.extensions["no"] = false;
    EXPECT_TRUE(validate(e));
}

TEST(Validate, FirstBadExtensionInNameOrderIsReported) {
    CloudEvent e = minimal_event();
    e.extensions["zzz"] = std::int64_t{1} << 40;
    e.extensions["aaa"] = std::string("\n");
    expect_invalid(e, "aaa");
}

// --- data invariants
// ----------------------------------------------------------------------------------------------

TEST(Validate, DataInvariants) {
    CloudEvent e = minimal_event();
    e.data_kind = DataKind::json;
    e.data = "";
    expect_invalid(e, "data");
    e.data = "null";
    EXPECT_TRUE(validate(e));

    e.datacontenttype = "text/plain";
    e.data_kind = DataKind::text;
    e.data = "\xFF\xFE";
    expect_invalid(e, "data");
    e.data = "plain text with \n newline";
    EXPECT_TRUE(validate(e));

    e.datacontenttype = "application/octet-stream";
    e.data_kind = DataKind::binary;
    e.data = std::string("\x00\xFF\xFE", 3);
    EXPECT_TRUE(validate(e));
}

// --- cross-check of the URI recognisers against Boost.URL
// ------------------------------------------------------------

// Boost.URL 1.81's URI-reference parser as an oracle, with the one RFC 3986 rule it misses added
// back: after an authority the path must be empty or begin with '/' (path-abempty). 1.81 accepts
// "http://h:8x/" as host "h" and path "x/" (boostorg/url#636, #680, fixed in later releases).
bool boost_result_ok(const boost::urls::result<boost::urls::url_view>& r) {
    if (!r) return false;
    const auto path = r->encoded_path();
    return !r->has_authority() || path.empty() || path.front() == '/';
}
bool boost_accepts_uri_reference(const std::string& s) {
    return boost_result_ok(boost::urls::parse_uri_reference(s));
}
bool boost_accepts_absolute_uri(const std::string& s) {
    return boost_result_ok(boost::urls::parse_absolute_uri(s));
}

// Random strings over the characters that matter to RFC 3986, compared with an independent
// implementation. Both must agree on every string; a disagreement prints the string so it can be
// turned into a case above.
TEST(UriGrammar, AgreesWithBoostUrl) {
    const std::string alphabet = ":/?#[]@!$&'()*+,;=%-._~ aAzZ09fFvV\"<>\\^{}|";
    std::mt19937 rng(12345);
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<int> length(0, 14);
    int disagreements = 0;
    for (int n = 0; n < 200'000 && disagreements < 10; ++n) {
        std::string s;
        const int len = length(rng);
        for (int k = 0; k < len; ++k) s.push_back(alphabet[pick(rng)]);
        const bool ours_ref = is_uri_reference(s);
        const bool boost_ref = boost_accepts_uri_reference(s);
        const bool ours_abs = is_absolute_uri(s);
        const bool boost_abs = boost_accepts_absolute_uri(s);
        if (ours_ref != boost_ref || ours_abs != boost_abs) {
            ++disagreements;
            ADD_FAILURE() << "'" << s << "' uri-reference ours=" << ours_ref
                          << " boost=" << boost_ref << " absolute ours=" << ours_abs
                          << " boost=" << boost_abs;
        }
    }
}

// URIs assembled from plausible and broken parts (scheme, authority with userinfo, host forms and
// port, path, query, fragment), so that the authority and IP-literal paths are exercised far more
// often than by noise.
TEST(UriGrammar, StructuredUrisAgreeWithBoostUrl) {
    const std::vector<std::string> schemes = {"", "http:", "a+b.c-d:", "1x:", ":", "urn:", "h t:"};
    const std::vector<std::string> authorities = {"",           "//",
                                                  "//host",     "//u:p@host",
                                                  "//@h",       "//a@b@c",
                                                  "//h:80",     "//h:8x",
                                                  "//h:",       "//[::1]",
                                                  "//[::1]:9",  "//[::1]x",
                                                  "//[1:2]",    "//[v9.z]",
                                                  "//1.2.3.4/", "//h%41",
                                                  "//h%4",      "//h!$&'()*+,;=",
                                                  "//[",        "//]",
                                                  "//h#",       "//[::ffff:1.2.3.256]"};
    const std::vector<std::string> paths = {"",     "/",   "/a/b", "a",    "a:b",   "/a:b", "//",
                                            "/%20", "/%2", "/a b", "/[x]", "/@:!$", "./x",  "../y"};
    const std::vector<std::string> queries = {"",   "?",    "?a=b&c", "?/?:@",
                                              "?#", "?%zz", "?[",     "?a b"};
    const std::vector<std::string> fragments = {"", "#", "#f", "#/?", "##", "#%41", "#[", "# "};
    std::mt19937 rng(777);
    const auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
    int disagreements = 0;
    for (int n = 0; n < 50'000 && disagreements < 10; ++n) {
        const std::string s =
            pick(schemes) + pick(authorities) + pick(paths) + pick(queries) + pick(fragments);
        const bool ours_ref = is_uri_reference(s);
        const bool boost_ref = boost_accepts_uri_reference(s);
        const bool ours_abs = is_absolute_uri(s);
        const bool boost_abs = boost_accepts_absolute_uri(s);
        if (ours_ref != boost_ref || ours_abs != boost_abs) {
            ++disagreements;
            ADD_FAILURE() << "'" << s << "' uri-reference ours=" << ours_ref
                          << " boost=" << boost_ref << " absolute ours=" << ours_abs
                          << " boost=" << boost_abs;
        }
    }
}

TEST(UriGrammar, IpLiteralsAgreeWithBoostUrl) {
    for (const char* host : {"::",
                             "::1",
                             "1::",
                             "1:2:3:4:5:6:7:8",
                             "1:2:3:4:5:6:7::",
                             "::2:3:4:5:6:7:8",
                             "1:2:3:4:5:6:7:8:9",
                             "1:2:3:4:5:6:7",
                             "1::2::3",
                             ":1::",
                             "1:::2",
                             "12345::",
                             "::ffff:1.2.3.4",
                             "::1.2.3.4",
                             "1:2:3:4:5:6:1.2.3.4",
                             "1:2:3:4:5:6:7:1.2.3.4",
                             "::256.1.1.1",
                             "::01.1.1.1",
                             "::1.2.3",
                             "1.2.3.4",
                             "v1.x",
                             "v.x",
                             "v1.",
                             "vg.x",
                             "fe80::1%25en0",
                             "",
                             "1:2:3:4:5:6:7:8:"}) {
        const std::string uri = std::string("http://[") + host + "]/";
        EXPECT_EQ(is_uri_reference(uri), boost_accepts_uri_reference(uri)) << uri;
    }
    // Boost.URL 1.81 rejects a host that starts like an IPv4 address and goes on, but such a host
    // is a valid reg-name (RFC 3986 §3.2.2 prefers IPv4address only when the whole host matches
    // it).
    EXPECT_TRUE(is_uri_reference("//1.2.3.4../y"));
    EXPECT_TRUE(is_uri_reference("http://1.2.3.4a/"));
    EXPECT_TRUE(is_uri_reference("http://256.1.1.1/"));
    // Boost.URL 1.81 rejects an upper-case "V", but ABNF string literals are case-insensitive (RFC
    // 5234 §2.3), so IPvFuture accepts it.
    EXPECT_TRUE(is_uri_reference("http://[V7.a:b]/"));
}

}  // namespace
}  // namespace herald::core
