#include "webhook/store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

namespace herald::webhook {
namespace {

class StoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = std::filesystem::temp_directory_path() /
                ("herald-whstore-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
        std::filesystem::remove(path_);
        reopen();
    }
    void TearDown() override {
        store_.reset();
        db_.reset();
        for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix);
    }
    void reopen() {
        store_.reset();
        db_.reset();
        auto db = meta::Database::open(path_.string());
        ASSERT_TRUE(db);
        db_ = std::move(*db);
        auto s = Store::open(*db_, 3);
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(*s);
    }
    static Subscription sample(std::string id) {
        Subscription s;
        s.id = std::move(id);
        s.created_at_ms = 1700000000000;
        s.spec.topic = "orders";
        s.spec.url = "https://example.com/hook";
        s.spec.types = {"shop.*"};
        s.spec.mode = DeliveryMode::concurrent;
        s.spec.max_in_flight = 7;
        s.spec.retry_schedule = {std::chrono::milliseconds(5), std::chrono::milliseconds(500)};
        s.spec.disable_after = std::chrono::milliseconds(60'000);
        s.spec.rate_limit = 2.5;
        s.spec.timeout = std::chrono::milliseconds(1500);
        s.spec.content_mode = ContentMode::binary;
        s.secrets = {{"whsec_new", std::nullopt}, {"whsec_old", 1800000000000}};
        s.status.epoch = 42;
        s.status.next_offset = 9;
        return s;
    }
    std::filesystem::path path_;
    std::unique_ptr<meta::Database> db_;
    std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, SubscriptionsRoundTripThroughAReopen) {
    auto s = sample("wh_a");
    ASSERT_TRUE(store_->insert(s));
    s.status.state = SubscriptionState::disabled;
    s.status.disabled_reason = "the receiver answered 410 Gone";
    s.status.next_offset = 12;
    s.status.failing_since_ms = 123;
    s.status.last_status = 410;
    s.status.delivered = 11;
    ASSERT_TRUE(store_->save_status(s));
    reopen();
    auto all = store_->load_all();
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 1u);
    auto& g = (*all)[0];
    EXPECT_EQ(g.spec.topic, "orders");
    EXPECT_EQ(g.spec.types, std::vector<std::string>{"shop.*"});
    EXPECT_EQ(g.spec.mode, DeliveryMode::concurrent);
    EXPECT_EQ(g.spec.max_in_flight, 7u);
    EXPECT_EQ(g.spec.retry_schedule.size(), 2u);
    EXPECT_EQ(g.spec.retry_schedule[1].count(), 500);
    EXPECT_EQ(g.spec.rate_limit, 2.5);
    EXPECT_EQ(g.spec.content_mode, ContentMode::binary);
    ASSERT_EQ(g.secrets.size(), 2u);
    EXPECT_EQ(*g.secrets[1].expires_at_ms, 1800000000000);
    EXPECT_EQ(g.status.state, SubscriptionState::disabled);
    EXPECT_EQ(g.status.disabled_reason, "the receiver answered 410 Gone");
    EXPECT_EQ(g.status.epoch, 42u);
    EXPECT_EQ(g.status.next_offset, 12u);
    EXPECT_EQ(*g.status.failing_since_ms, 123);
    EXPECT_EQ(g.status.delivered, 11u);
}

TEST_F(StoreTest, DuplicateIdIsAConflict) {
    ASSERT_TRUE(store_->insert(sample("wh_a")));
    auto again = store_->insert(sample("wh_a"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::conflict);
}

TEST_F(StoreTest, DeadLettersListUpdateAndRemove) {
    ASSERT_TRUE(store_->insert(sample("wh_a")));
    for (int i = 0; i < 5; ++i) {
        DeadLetter d;
        d.subscription_id = "wh_a";
        d.offset = static_cast<std::uint64_t>(i);
        d.event_id = "e" + std::to_string(i);
        d.event_json = "{}";
        d.attempts = 8;
        d.last_status = 500;
        d.last_error = "boom";
        ASSERT_TRUE(store_->add_dead_letter(d));
    }
    EXPECT_EQ(*store_->dead_letter_count("wh_a"), 5);
    auto page = store_->dead_letters("wh_a", 0, 2);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->size(), 2u);
    auto next = store_->dead_letters("wh_a", (*page)[1].id, 10);
    ASSERT_EQ(next->size(), 3u);
    EXPECT_EQ((*next)[0].event_id, "e2");
    ASSERT_TRUE(store_->update_dead_letter("wh_a", (*next)[0].id, 9, 503, "still down"));
    auto one = store_->dead_letter("wh_a", (*next)[0].id);
    ASSERT_TRUE(one && *one);
    EXPECT_EQ((*one)->attempts, 9u);
    EXPECT_EQ((*one)->last_error, "still down");
    ASSERT_TRUE(store_->remove_dead_letter("wh_a", (*next)[0].id));
    EXPECT_EQ(*store_->dead_letter_count("wh_a"), 4);
    EXPECT_FALSE(*store_->dead_letter("wh_b", (*page)[0].id));  // scoped by subscription
}

TEST_F(StoreTest, AttemptLogIsBoundedAndNewestFirst) {
    ASSERT_TRUE(store_->insert(sample("wh_a")));
    for (unsigned i = 1; i <= 5; ++i) {
        Attempt a;
        a.subscription_id = "wh_a";
        a.attempt = i;
        a.status = 500;
        a.outcome = AttemptOutcome::retry;
        ASSERT_TRUE(store_->add_attempt(a));
    }
    auto list = store_->attempts("wh_a", 10);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 3u);  // attempts_kept = 3
    EXPECT_EQ((*list)[0].attempt, 5u);
    EXPECT_EQ((*list)[2].attempt, 3u);
    EXPECT_EQ((*list)[0].outcome, AttemptOutcome::retry);
}

TEST_F(StoreTest, AddAttemptsKeepsTheNewestOfEachSubscription) {
    // One flush: five attempts of wh_a interleaved with two of wh_b, oldest first; a row of wh_a already stored.
    ASSERT_TRUE(store_->insert(sample("wh_a")));
    ASSERT_TRUE(store_->insert(sample("wh_b")));
    Attempt old;
    old.subscription_id = "wh_a";
    old.attempt = 0;
    ASSERT_TRUE(store_->add_attempt(old));
    std::vector<Attempt> batch;
    for (unsigned i = 1; i <= 5; ++i) {
        Attempt a;
        a.subscription_id = "wh_a";
        a.attempt = i;
        a.status = 200;
        batch.push_back(a);
        if (i <= 2) {
            Attempt b;
            b.subscription_id = "wh_b";
            b.attempt = 10 + i;
            batch.push_back(b);
        }
    }
    ASSERT_TRUE(store_->add_attempts(batch));
    auto a = store_->attempts("wh_a", 10);
    ASSERT_TRUE(a);
    ASSERT_EQ(a->size(), 3u);  // attempts_kept = 3: the newest three, the old row pruned
    EXPECT_EQ((*a)[0].attempt, 5u);
    EXPECT_EQ((*a)[1].attempt, 4u);
    EXPECT_EQ((*a)[2].attempt, 3u);
    auto b = store_->attempts("wh_b", 10);
    ASSERT_TRUE(b);
    ASSERT_EQ(b->size(), 2u);
    EXPECT_EQ((*b)[0].attempt, 12u);
    EXPECT_EQ((*b)[1].attempt, 11u);
    EXPECT_TRUE(store_->add_attempts({}));
}

TEST_F(StoreTest, RemoveDeletesEverythingOfTheSubscription) {
    ASSERT_TRUE(store_->insert(sample("wh_a")));
    ASSERT_TRUE(store_->insert(sample("wh_b")));
    DeadLetter d;
    d.subscription_id = "wh_a";
    ASSERT_TRUE(store_->add_dead_letter(d));
    Attempt a;
    a.subscription_id = "wh_a";
    ASSERT_TRUE(store_->add_attempt(a));
    ASSERT_TRUE(store_->remove("wh_a"));
    auto all = store_->load_all();
    ASSERT_EQ(all->size(), 1u);
    EXPECT_EQ((*all)[0].id, "wh_b");
    EXPECT_EQ(*store_->dead_letter_count("wh_a"), 0);
    EXPECT_TRUE(store_->attempts("wh_a", 10)->empty());
}

// The dead-letter queue's size for the metrics comes from a count kept in memory: counted when the store opens,
// then moved by every insert and removal, never below what the table holds.
TEST_F(StoreTest, QueuedDeadLettersFollowTheTableWithoutAQuery) {
    ASSERT_TRUE(store_->insert(sample("wh_a")));
    ASSERT_TRUE(store_->insert(sample("wh_b")));
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 3; ++i) {
        DeadLetter d;
        d.subscription_id = "wh_a";
        d.event_json = "{}";
        auto id = store_->add_dead_letter(d);
        ASSERT_TRUE(id);
        ids.push_back(*id);
    }
    DeadLetter b;
    b.subscription_id = "wh_b";
    b.event_json = "{}";
    ASSERT_TRUE(store_->add_dead_letter(b));
    EXPECT_EQ(store_->queued_dead_letters("wh_a"), 3);
    EXPECT_EQ(store_->queued_dead_letters("wh_b"), 1);
    EXPECT_EQ(store_->queued_dead_letters("wh_none"), 0);

    ASSERT_TRUE(store_->remove_dead_letter("wh_a", ids[0]));
    ASSERT_TRUE(store_->remove_dead_letter("wh_a", ids[0]));  // already gone: counts nothing
    ASSERT_TRUE(store_->remove_dead_letter("wh_b", ids[1]));  // another subscription's entry: not removed
    EXPECT_EQ(store_->queued_dead_letters("wh_a"), 2);
    EXPECT_EQ(*store_->dead_letter_count("wh_a"), 2);

    reopen();  // counted from the table
    EXPECT_EQ(store_->queued_dead_letters("wh_a"), 2);
    EXPECT_EQ(store_->queued_dead_letters("wh_b"), 1);
    ASSERT_TRUE(store_->remove("wh_a"));
    EXPECT_EQ(store_->queued_dead_letters("wh_a"), 0);
    EXPECT_EQ(store_->queued_dead_letters("wh_b"), 1);
}

}  // namespace
}  // namespace herald::webhook
