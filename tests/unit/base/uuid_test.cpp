#include "base/uuid.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <thread>
#include <vector>

namespace herald {
namespace {

TEST(Uuid, V7HasVersionVariantAndTimestamp) {
    auto id = make_uuid_v7(0x0189'1234'5678);
    static const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    EXPECT_TRUE(std::regex_match(id, shape)) << id;
    EXPECT_EQ(id.substr(0, 8), "01891234");
    EXPECT_EQ(id.substr(9, 4), "5678");
}

TEST(Uuid, V7SortsByTimeAndIsUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(seen.insert(make_uuid_v7()).second);
    EXPECT_LT(make_uuid_v7(1000), make_uuid_v7(2000));
}

// Each thread draws from its own pool of random bytes: ids made on several threads at once never collide, and
// the random part differs within one millisecond.
TEST(Uuid, V7IsUniqueAcrossThreadsAndPoolRefills) {
    std::vector<std::string> a, b;
    std::thread ta([&] { for (int i = 0; i < 2000; ++i) a.push_back(make_uuid_v7(42)); });
    std::thread tb([&] { for (int i = 0; i < 2000; ++i) b.push_back(make_uuid_v7(42)); });
    ta.join();
    tb.join();
    std::set<std::string> seen(a.begin(), a.end());
    seen.insert(b.begin(), b.end());
    EXPECT_EQ(seen.size(), 4000u);
}

// A forked child does not reuse the random bytes its parent's thread had drawn but not yet used.
TEST(Uuid, V7DiffersBetweenParentAndForkedChild) {
    (void)make_uuid_v7(42);  // the pool now holds bytes for the next ids
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto id = make_uuid_v7(42);
        ssize_t n = ::write(fds[1], id.data(), id.size());
        ::_exit(n == static_cast<ssize_t>(id.size()) ? 0 : 1);
    }
    auto mine = make_uuid_v7(42);
    char buf[36];
    ASSERT_EQ(::read(fds[0], buf, sizeof buf), 36);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(fds[0]);
    ::close(fds[1]);
    EXPECT_NE(std::string(buf, 36), mine);
}

TEST(Uuid, RandomValues) {
    EXPECT_NE(random_u64(), 0u);
    EXPECT_EQ(random_hex(16).size(), 32u);
    EXPECT_NE(random_hex(16), random_hex(16));
}

}  // namespace
}  // namespace herald
