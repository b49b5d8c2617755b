// The delivery loop against a scripted receiver: ordering, retries, dead letters, 410, pause/resume, rotation,
// concurrency and persistence of progress — with the real embedded log and the real metadata store underneath.

#include "webhook/service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

#include <deque>
#include <filesystem>
#include <functional>
#include <future>

#include "engine/embedded_engine.hpp"
#include "webhook/signature.hpp"

namespace herald::webhook {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

// A receiver that answers from a script and remembers what it got.
class ScriptedTransport final : public Transport {
public:
    std::function<TransportResult(const OutgoingRequest&, int n)> answer = [](auto&, int) {
        TransportResult r;
        r.status = 200;
        return r;
    };
    std::vector<OutgoingRequest> requests;
    bool destination_ok = true;

    asio::awaitable<TransportResult> send(OutgoingRequest request) override {
        requests.push_back(request);
        co_return answer(requests.back(), static_cast<int>(requests.size()));
    }
    asio::awaitable<Result<void>> check_destination(std::string url) override {
        if (!destination_ok) co_return make_error(Errc::invalid_argument, "blocked");
        co_return ok();
    }
    std::string header(const OutgoingRequest& r, std::string_view name) const {
        for (auto& [k, v] : r.headers)
            if (k == name) return v;
        return {};
    }
};

class NullListener final : public engine::CommitListener {
public:
    explicit NullListener(std::function<void(engine::CommittedBatch&&)> f) : f_(std::move(f)) {}
    void on_commit(engine::CommittedBatch&& b) override { f_(std::move(b)); }

private:
    std::function<void(engine::CommittedBatch&&)> f_;
};

class DispatcherTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("herald-wh-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        open_all();
    }
    void TearDown() override {
        close_all();
        std::filesystem::remove_all(dir_);
    }

    void open_all() {
        engine::EmbeddedOptions eo;
        eo.data_dir = dir_ / "data";
        eo.defaults.fsync = engine::FsyncPolicy::never;
        engine_ = std::make_unique<engine::EmbeddedEngine>(eo);
        hub_ = std::make_unique<hub::WorkerHub>(io_, std::chrono::milliseconds(100));
        listener_ = std::make_unique<NullListener>([this](engine::CommittedBatch&& b) {
            // Wake the dispatchers the way the real Hub does: one batch posted to the worker.
            auto batch = std::make_shared<hub::EncodedBatch>();
            batch->topic = b.topic;
            asio::post(io_, [this, batch] { hub_->dispatch(batch); });
        });
        ASSERT_TRUE(engine_->start(*listener_));
        auto db = meta::Database::open((dir_ / "meta.db").string());
        ASSERT_TRUE(db);
        db_ = std::move(*db);
        ServiceOptions so;
        so.defaults.retry.schedule = {std::chrono::milliseconds(5), std::chrono::milliseconds(5),
                                      std::chrono::milliseconds(5)};
        so.defaults.retry.jitter = false;
        so.defaults.poll = std::chrono::milliseconds(50);
        so.flush_interval = std::chrono::milliseconds(10);
        service_ = std::make_unique<Service>(io_, *hub_, *engine_, *db_, transport_, so);
        ASSERT_TRUE(service_->start());
    }

    void close_all() {
        if (!service_) return;
        service_->stop();
        run_for(std::chrono::milliseconds(20));
        service_.reset();
        engine_->stop();
        hub_.reset();
        engine_.reset();
        db_.reset();
    }

    void run_for(std::chrono::milliseconds d) {
        io_.restart();
        io_.run_for(d);
    }

    // Runs the io_context until `pred` holds (or 5 s).
    bool run_until(const std::function<bool()>& pred) {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!pred()) {
            if (std::chrono::steady_clock::now() > until) return false;
            run_for(std::chrono::milliseconds(5));
        }
        return true;
    }

    // co_spawn needs a default-constructible result; Result has none, so the coroutine stores it instead.
    void spawn_create(json::object body, std::optional<Result<json::object>>& out) {
        asio::co_spawn(
            io_,
            [this, body = std::move(body), &out]() mutable -> asio::awaitable<void> {
                out = co_await service_->create(json::value(std::move(body)));
            },
            asio::detached);
    }

    json::object create(json::object body) {
        body.emplace("url", "http://receiver.test/hook");
        std::optional<Result<json::object>> out;
        spawn_create(std::move(body), out);
        EXPECT_TRUE(run_until([&] { return out.has_value(); }));
        EXPECT_TRUE(*out) << out->error().message;
        return out->value();
    }

    void publish(const std::string& topic, int seq, const std::string& type = "test.happened.v1") {
        engine::PublishRequest req;
        req.topic = topic;
        std::string id = topic + "-" + std::to_string(seq);
        req.items.push_back({id, "/t", type,
                             "{\"specversion\":\"1.0\",\"id\":\"" + id + "\",\"source\":\"/t\",\"type\":\"" + type +
                                 "\",\"data\":{\"seq\":" + std::to_string(seq) + "}}"});
        std::promise<void> done;
        engine_->publish(std::move(req), [&](Result<engine::PublishResult> r) {
            EXPECT_TRUE(r);
            done.set_value();
        });
        done.get_future().wait();
    }

    std::vector<int> seqs() const {
        std::vector<int> out;
        for (auto& r : transport_.requests) {
            if (r.method != "POST") continue;
            auto v = json::parse(r.body);
            out.push_back(static_cast<int>(v.at("data").at("seq").as_int64()));
        }
        return out;
    }

    std::filesystem::path dir_;
    asio::io_context io_;
    ScriptedTransport transport_;
    std::unique_ptr<engine::EmbeddedEngine> engine_;
    std::unique_ptr<hub::WorkerHub> hub_;
    std::unique_ptr<NullListener> listener_;
    std::unique_ptr<meta::Database> db_;
    std::unique_ptr<Service> service_;
};

TEST_F(DispatcherTest, DeliversInOrderSignedWithStandardWebhooksHeaders) {
    auto sub = create({{"topic", "orders"}});
    const std::string secret(sub.at("secret").as_string());
    for (int i = 0; i < 5; ++i) publish("orders", i);
    ASSERT_TRUE(run_until([&] { return transport_.requests.size() >= 5; }));
    EXPECT_EQ(seqs(), (std::vector<int>{0, 1, 2, 3, 4}));
    for (auto& r : transport_.requests) {
        EXPECT_EQ(transport_.header(r, "Content-Type"), "application/cloudevents+json");
        auto id = transport_.header(r, "webhook-id");
        EXPECT_EQ(id, std::string(json::parse(r.body).at("id").as_string()));
        std::vector<std::string> secrets{secret};
        EXPECT_TRUE(verify(secrets, id, transport_.header(r, "webhook-timestamp"),
                           transport_.header(r, "webhook-signature"), r.body, std::chrono::system_clock::now()));
    }
}

TEST_F(DispatcherTest, RetriesTransientFailuresThenDeliversWithoutReordering) {
    transport_.answer = [](const OutgoingRequest&, int n) {
        TransportResult r;
        if (n <= 2) r.error = TransportError::connect;
        else if (n == 3) r.status = 503;
        else r.status = 204;
        return r;
    };
    auto sub = create({{"topic", "t"}});
    publish("t", 0);
    publish("t", 1);
    ASSERT_TRUE(run_until([&] { return seqs().size() >= 5; }));
    EXPECT_EQ(seqs(), (std::vector<int>{0, 0, 0, 0, 1}));
    auto got = service_->get(std::string(sub.at("id").as_string()));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->at("delivered").as_uint64(), 2u);
}

TEST_F(DispatcherTest, PermanentFailureGoesToTheDeadLetterQueueAndDeliveryContinues) {
    transport_.answer = [](const OutgoingRequest& req, int) {
        TransportResult r;
        r.status = json::parse(req.body).at("data").at("seq").as_int64() == 0 ? 422 : 200;
        return r;
    };
    auto sub = create({{"topic", "t"}});
    std::string id(sub.at("id").as_string());
    publish("t", 0);
    publish("t", 1);
    ASSERT_TRUE(run_until([&] { return seqs().size() >= 2; }));
    run_for(std::chrono::milliseconds(30));
    auto dl = service_->dead_letters(id, 0, 10);
    ASSERT_TRUE(dl);
    ASSERT_EQ(dl->at("total").as_int64(), 1);
    auto& e = dl->at("entries").as_array()[0].as_object();
    EXPECT_EQ(e.at("last_status").as_int64(), 422);
    EXPECT_EQ(e.at("attempts").to_number<std::int64_t>(), 1);
    EXPECT_EQ(e.at("event").at("data").at("seq").as_int64(), 0);

    // Replay after the receiver is fixed: delivered, signed afresh, and the entry leaves the queue.
    transport_.answer = [](const OutgoingRequest&, int) {
        TransportResult r;
        r.status = 200;
        return r;
    };
    ASSERT_TRUE(service_->replay(id, json::parse("{\"all\":true}")));
    ASSERT_TRUE(run_until([&] { return seqs().size() >= 3; }));
    EXPECT_EQ(seqs().back(), 0);
    ASSERT_TRUE(run_until([&] { return service_->dead_letters(id, 0, 10)->at("total").as_int64() == 0; }));
}

TEST_F(DispatcherTest, ExhaustedScheduleDeadLettersWithTheLastError) {
    transport_.answer = [](const OutgoingRequest&, int) {
        TransportResult r;
        r.error = TransportError::timeout;
        r.message = "no answer in 10 s";
        return r;
    };
    auto sub = create({{"topic", "t"}});
    std::string id(sub.at("id").as_string());
    publish("t", 0);
    ASSERT_TRUE(run_until([&] { return service_->dead_letters(id, 0, 10)->at("total").as_int64() == 1; }));
    EXPECT_EQ(transport_.requests.size(), 4u);  // the first attempt and three retries
    auto e = service_->dead_letters(id, 0, 10)->at("entries").as_array()[0].as_object();
    EXPECT_NE(std::string(e.at("last_error").as_string()).find("retries exhausted"), std::string::npos);
    EXPECT_NE(std::string(e.at("last_error").as_string()).find("timeout"), std::string::npos);
}

TEST_F(DispatcherTest, GoneDisablesAndResumeRedeliversTheSameEvent) {
    transport_.answer = [](const OutgoingRequest&, int n) {
        TransportResult r;
        r.status = n == 1 ? 410 : 200;
        return r;
    };
    auto sub = create({{"topic", "t"}});
    std::string id(sub.at("id").as_string());
    publish("t", 7);
    ASSERT_TRUE(run_until([&] { return service_->get(id)->at("state").as_string() == "disabled"; }));
    EXPECT_NE(std::string(service_->get(id)->at("disabled_reason").as_string()).find("410"), std::string::npos);
    run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(transport_.requests.size(), 1u);
    ASSERT_TRUE(service_->set_paused(id, false));
    ASSERT_TRUE(run_until([&] { return transport_.requests.size() >= 2; }));
    EXPECT_EQ(seqs(), (std::vector<int>{7, 7}));
}

TEST_F(DispatcherTest, PauseHoldsAndResumeContinuesFromTheCursor) {
    auto sub = create({{"topic", "t"}});
    std::string id(sub.at("id").as_string());
    ASSERT_TRUE(service_->set_paused(id, true));
    publish("t", 0);
    publish("t", 1);
    run_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(transport_.requests.empty());
    EXPECT_EQ(service_->get(id)->at("lag").as_uint64(), 2u);
    ASSERT_TRUE(service_->set_paused(id, false));
    ASSERT_TRUE(run_until([&] { return seqs().size() >= 2; }));
    EXPECT_EQ(seqs(), (std::vector<int>{0, 1}));
}

TEST_F(DispatcherTest, TypeFilterSkipsOtherTypes) {
    create({{"topic", "t"}, {"types", json::array{"test.kept.*"}}});
    publish("t", 0, "test.kept.v1");
    publish("t", 1, "test.dropped.v1");
    publish("t", 2, "test.kept.v2");
    ASSERT_TRUE(run_until([&] { return seqs().size() >= 2; }));
    run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(seqs(), (std::vector<int>{0, 2}));
}

TEST_F(DispatcherTest, RotationSignsWithBothSecretsDuringTheOverlap) {
    auto sub = create({{"topic", "t"}});
    std::string id(sub.at("id").as_string());
    const std::string old_secret(sub.at("secret").as_string());
    auto rotated = service_->rotate_secret(id, json::parse("{\"overlap\":\"1h\"}"));
    ASSERT_TRUE(rotated);
    const std::string new_secret(rotated->at("secret").as_string());
    publish("t", 0);
    ASSERT_TRUE(run_until([&] { return !transport_.requests.empty(); }));
    auto& r = transport_.requests[0];
    auto sig = transport_.header(r, "webhook-signature");
    EXPECT_NE(sig.find(' '), std::string::npos) << sig;
    for (auto& s : {old_secret, new_secret}) {
        std::vector<std::string> one{s};
        EXPECT_TRUE(verify(one, transport_.header(r, "webhook-id"), transport_.header(r, "webhook-timestamp"), sig,
                           r.body, std::chrono::system_clock::now()));
    }
}

TEST_F(DispatcherTest, ConcurrentModeDeliversEverything) {
    create({{"topic", "t"}, {"mode", "concurrent"}, {"max_in_flight", 4}});
    for (int i = 0; i < 20; ++i) publish("t", i);
    ASSERT_TRUE(run_until([&] { return seqs().size() >= 20; }));
    auto s = seqs();
    std::sort(s.begin(), s.end());
    for (int i = 0; i < 20; ++i) EXPECT_EQ(s[static_cast<std::size_t>(i)], i);
}

TEST_F(DispatcherTest, ProgressSurvivesARestart) {
    auto sub = create({{"topic", "t"}});
    std::string id(sub.at("id").as_string());
    publish("t", 0);
    publish("t", 1);
    ASSERT_TRUE(run_until([&] { return seqs().size() >= 2; }));
    run_for(std::chrono::milliseconds(50));  // let the flush run
    close_all();
    transport_.requests.clear();
    open_all();
    publish("t", 2);
    ASSERT_TRUE(run_until([&] { return !seqs().empty(); }));
    run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(seqs(), (std::vector<int>{2}));  // nothing re-delivered, nothing lost
    auto got = service_->get(id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->at("delivered").as_uint64(), 3u);
}

TEST_F(DispatcherTest, CreateValidatesItsInput) {
    auto bad = [&](json::object body) {
        std::optional<Result<json::object>> out;
        spawn_create(std::move(body), out);
        run_until([&] { return out.has_value(); });
        EXPECT_FALSE(*out);
        return out->has_value() ? std::string() : out->error().attribute;
    };
    EXPECT_EQ(bad({{"url", "http://x/"}}), "topic");
    EXPECT_EQ(bad({{"topic", "t"}}), "url");
    EXPECT_EQ(bad({{"topic", "t"}, {"url", "http://x/"}, {"mode", "chaos"}}), "mode");
    EXPECT_EQ(bad({{"topic", "t"}, {"url", "http://x/"}, {"secret", "whsec_@@@"}}), "secret");
    EXPECT_EQ(bad({{"topic", "t"}, {"url", "http://x/"}, {"retry", {{"schedule", json::array{"1 fortnight"}}}}}),
              "retry.schedule");
    EXPECT_EQ(bad({{"topic", "t"}, {"url", "http://x/"}, {"extra", 1}}), "extra");
    transport_.destination_ok = false;
    EXPECT_EQ(bad({{"topic", "t"}, {"url", "http://x/"}}), "url");
}

}  // namespace
}  // namespace herald::webhook
