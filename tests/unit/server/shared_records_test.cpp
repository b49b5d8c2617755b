// The shared-state keys of schema versions (server/schema_service.hpp) and admin routes and upstreams
// (server/gateway_admin.hpp): any name round-trips, and keys that are not one of ours — written by another
// program, or damaged — are refused rather than misread.
#include <gtest/gtest.h>

#include "server/gateway_admin.hpp"
#include "server/schema_service.hpp"

namespace herald::server {
namespace {

TEST(SchemaRecordKey, RoundTripsAnyTypeInTheKeyAlphabet) {
    const std::string types[] = {"shipping.parcelSent.v1", "a", "com.example/with:odd chars", "\xc3\xa9t\xc3\xa9"};
    for (const auto& type : types) {
        auto key = schema_record_key(type, 42);
        ASSERT_TRUE(key.starts_with("schema."));
        for (char c : key)
            EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '=') << key;
        auto back = parse_schema_record_key(key);
        ASSERT_TRUE(back) << key;
        EXPECT_EQ(back->first, type);
        EXPECT_EQ(back->second, 42u);
    }
}

TEST(SchemaRecordKey, RefusesWhatIsNotOne) {
    for (const char* key : {"", "schema.", "schema.61", "schema.61.", "schema.61.0", "schema.61.x", "schema.6.1",
                            "schema.zz.1", "schema.61.1.2", "key.61.1", "schema..1", "schema.61.-1"}) {
        EXPECT_FALSE(parse_schema_record_key(key)) << key;
    }
}

TEST(GatewayRecordKey, RoundTripsRoutesAndUpstreams) {
    for (bool route : {true, false}) {
        for (std::string name : {std::string("orders"), std::string("a.b-c_d"), std::string("odd name/x")}) {
            auto key = gateway_record_key(route, name);
            for (char c : key)
                EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') << key;
            auto back = parse_gateway_record_key(key);
            ASSERT_TRUE(back) << key;
            EXPECT_EQ(back->first, route);
            EXPECT_EQ(back->second, name);
        }
    }
    for (const char* key : {"", "gw.", "gw.route.", "gw.route.6", "gw.route.zz", "gw.other.61", "key.61"})
        EXPECT_FALSE(parse_gateway_record_key(key)) << key;
}

}  // namespace
}  // namespace herald::server
