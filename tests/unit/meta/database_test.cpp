#include "meta/database.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace herald::meta {
namespace {

class DatabaseTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("herald-meta-" + std::to_string(::getpid()) + "-" +
                                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string path() const { return (dir_ / "meta.db").string(); }
    std::filesystem::path dir_;
};

TEST_F(DatabaseTest, OpensInWalModeAndRoundTripsValues) {
    auto db = Database::open(path());
    ASSERT_TRUE(db) << db.error().message;
    auto mode = (*db)->prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode);
    ASSERT_TRUE(*mode->step());
    EXPECT_EQ(mode->text(0), "wal");

    ASSERT_TRUE((*db)->exec("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, b BLOB)"));
    auto ins = (*db)->prepare("INSERT INTO t VALUES (?1, ?2, ?3)");
    ASSERT_TRUE(ins);
    std::string blob("a\0b", 3);
    ASSERT_TRUE(ins->bind(1, std::string_view("x")).bind(2, std::int64_t{1} << 40).bind_blob(3, blob).run());
    ASSERT_TRUE(ins->bind(1, std::string_view("y")).bind_null(2).bind_null(3).run());

    auto sel = (*db)->prepare("SELECT k, n, b FROM t ORDER BY k");
    ASSERT_TRUE(sel);
    ASSERT_TRUE(*sel->step());
    EXPECT_EQ(sel->text(0), "x");
    EXPECT_EQ(sel->int64(1), std::int64_t{1} << 40);
    EXPECT_EQ(sel->text(2), blob);
    ASSERT_TRUE(*sel->step());
    EXPECT_TRUE(sel->is_null(1));
    EXPECT_FALSE(*sel->step());
}

TEST_F(DatabaseTest, ConstraintViolationIsConflict) {
    auto db = Database::open(path());
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->exec("CREATE TABLE t (k TEXT PRIMARY KEY)"));
    auto ins = (*db)->prepare("INSERT INTO t VALUES (?1)");
    ASSERT_TRUE(ins->bind(1, std::string_view("a")).run());
    auto again = ins->bind(1, std::string_view("a")).run();
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::conflict);
}

TEST_F(DatabaseTest, FailedTransactionRollsBack) {
    auto db = Database::open(path());
    ASSERT_TRUE((*db)->exec("CREATE TABLE t (k TEXT PRIMARY KEY)"));
    auto r = (*db)->transaction([&]() -> Result<void> {
        if (auto x = (*db)->exec("INSERT INTO t VALUES ('a')"); !x) return x;
        return make_error(Errc::invalid_argument, "changed my mind");
    });
    ASSERT_FALSE(r);
    auto n = (*db)->prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(*n->step());
    EXPECT_EQ(n->int64(0), 0);
}

TEST_F(DatabaseTest, DataSurvivesReopenAndUserVersionPersists) {
    {
        auto db = Database::open(path());
        ASSERT_TRUE((*db)->exec("CREATE TABLE t (k TEXT)"));
        ASSERT_TRUE((*db)->exec("INSERT INTO t VALUES ('kept')"));
        ASSERT_TRUE((*db)->set_user_version(3));
    }
    auto db = Database::open(path());
    auto v = (*db)->user_version();
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 3);
    auto sel = (*db)->prepare("SELECT k FROM t");
    ASSERT_TRUE(*sel->step());
    EXPECT_EQ(sel->text(0), "kept");
}

TEST_F(DatabaseTest, BadSqlIsAnErrorNotACrash) {
    auto db = Database::open(path());
    auto st = (*db)->prepare("SELEKT nonsense");
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("metadata database"), std::string::npos);
    EXPECT_FALSE((*db)->exec("DROP TABLE missing"));
}

TEST_F(DatabaseTest, UnopenablePathIsAnError) {
    auto db = Database::open((dir_ / "no" / "such" / "dir" / "meta.db").string());
    EXPECT_FALSE(db);
}

}  // namespace
}  // namespace herald::meta
