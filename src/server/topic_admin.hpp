#pragma once
// Topics managed through the admin API (DESIGN.md §5, docs/api.md "Topics"):
//
//   GET    /admin/topics          every topic: name, source (config | admin | auto), offsets,
//   effective settings GET    /admin/topics/{name} PUT    /admin/topics/{name}   create, or replace
//   the settings (members left out take `topics.defaults`);
//                                 201 created, 200 replaced
//   PATCH  /admin/topics/{name}   change some settings of an existing topic (the others stay as
//   they are) DELETE /admin/topics/{name}   delete the topic and its events; 409 while webhook
//   subscriptions or open
//                                 readers use it
//
// A body is the herald.yaml topic shape as JSON: fsync, fsync_interval, segment_bytes, retention
// {max_age, max_bytes}, accepted_types, default_type, allow_unknown_types. Durations and sizes are
// numbers (milliseconds, bytes) or strings with a unit ("7d", "64MiB"); answers give numbers, so a
// GET's `settings` can be PUT back. Every setting applies to the running server without a restart:
// durability and segment size to the engine's next write, retention at once, accepted and default
// types to the next publish.
//
// Precedence: the configuration file wins. Topics it declares cannot be changed or deleted here
// (409 defined-in-config: edit the file). Settings made here are stored in meta.db
// (`topic_settings`) and declared to the engine at every start. If the file later declares a topic
// stored here, the file adopts it: its settings win and the stored ones are dropped with a warning
// (the topic's events stay; a refusal to start would leave deleting the topic, and its events, as
// the only way out).
//
// Threading: the admin listener's worker only (its own meta.db connection); engine calls complete
// there too.

#include <map>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "log/logger.hpp"
#include "meta/database.hpp"
#include "publish/contracts.hpp"
#include "server/admin_resource.hpp"
#include "webhook/service.hpp"

namespace herald::server {

// Reads a topic body onto `base` (PUT: the defaults; PATCH: the current settings).
// Errc::invalid_argument with `attribute` naming the member ("retention.max_age",
// "accepted_types[2]").
Result<config::TopicConfig> parse_topic_settings(const boost::json::value& body,
                                                 config::TopicConfig base);
// The settings as the API shows them (numbers for durations and sizes; null for no retention
// limit).
boost::json::object topic_settings_json(const config::TopicConfig& topic);

class TopicAdmin final : public AdminResource {
public:
    // Opens its own meta.db connection and loads the stored topics. Call before the engine starts:
    // they are part of its declared topics. Errors: meta.db cannot be opened, a stored entry no
    // longer parses (names it).
    static Result<std::unique_ptr<TopicAdmin>> open(const config::Config& file,
                                                    const std::string& meta_path,
                                                    log::Logger* logger);

    // The stored topics, to declare to the engine beside the file's (the file's win on a name
    // clash; open() already dropped those).
    void declare(std::map<std::string, engine::TopicSettings>& declared) const;
    // Connects to the running server and installs the stored topics' accepted and default types.
    // `webhooks` may be null (no subscription check on delete).
    void attach(engine::Engine& engine, publish::Contracts& contracts,
                const webhook::Service* webhooks);

    boost::asio::awaitable<std::optional<http::Response>> handle(http::Request& request) override;
    std::string_view route(std::string_view path) const override;
    void dump(boost::json::object& config) const override;

private:
    TopicAdmin(const config::Config& file, log::Logger* logger) : file_(file), logger_(logger) {}
    Result<void> load();
    Result<void> store(const std::string& name, const config::TopicConfig& topic);
    Result<void> unstore(const std::string& name);
    const char* source(const std::string& name) const;
    boost::json::object view(const engine::TopicInfo& info) const;
    // Validates the default type against the naming rule and the accepted types: 400 when it would
    // make every plain-JSON publish fail.
    std::optional<http::Response> check_rules(const config::TopicConfig& topic) const;

    boost::asio::awaitable<http::Response> put(const std::string& name,
                                               const http::Request& request, bool patch);
    boost::asio::awaitable<http::Response> remove(const std::string& name);

    const config::Config& file_;
    log::Logger* logger_;
    std::unique_ptr<meta::Database> db_;
    std::map<std::string, config::TopicConfig> stored_;  // the admin-made topics, as in meta.db
    engine::Engine* engine_ = nullptr;
    publish::Contracts* contracts_ = nullptr;
    const webhook::Service* webhooks_ = nullptr;
};

}  // namespace herald::server
