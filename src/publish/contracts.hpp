#pragma once
// The event contracts every publish is checked against, whatever the transport (issue 6, docs/schemas.md):
// naming rules for topics and event types, each topic's accepted types, and the JSON Schema registered for a
// type's data. A failure is Errc::unprocessable (HTTP 422) naming the attribute, with the schema violations as
// details; nothing of the request is appended.
//
// Threading: check() is const and reads the registry's lock-free snapshot; call it from any worker. A topic's
// rules can change at run time (the admin API, server/topic_admin.hpp): set_topic()/remove_topic() publish a new
// immutable map that check() picks up with one atomic load; a check already running finishes with the rules it
// started with. Writers are serialised by a mutex.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "base/snapshot_cell.hpp"
#include "core/cloud_event.hpp"
#include "schema/registry.hpp"
#include "schema/taxonomy.hpp"
#include "schema/topic_contract.hpp"

namespace herald::publish {

struct ContractOptions {
    bool enforce_naming = true;                       // topic and event-type naming rules on publish
    schema::Taxonomy taxonomy;                        // the rules (the registry checks types with the same)
    schema::TopicContract default_contract;           // topics without their own
    std::map<std::string, schema::TopicContract, std::less<>> topics;
    std::string default_type;                         // topics without their own: type of plain-JSON publishes
    std::map<std::string, std::string, std::less<>> default_types;  // per topic; missing: `default_type`
};

// What a topic accepts, and the type given to plain-JSON publishes without ?type= (empty: none).
struct TopicRules {
    schema::TopicContract contract;
    std::string default_type;
};

class Contracts {
public:
    Contracts(ContractOptions options, std::shared_ptr<schema::Registry> registry);

    // Checks `event` for `topic`. When the type has a schema and the event names none, `dataschema` is set to
    // the version it was validated against, so consumers can tell.
    Result<void> check(std::string_view topic, core::CloudEvent& event, const schema::Snapshot& snapshot) const;
    Result<void> check_topic(std::string_view topic) const;

    schema::Registry& registry() noexcept { return *registry_; }
    const schema::Registry& registry() const noexcept { return *registry_; }
    // The topic's current rules (its own, or the defaults). By value: they may be replaced at any time.
    schema::TopicContract contract(std::string_view topic) const;
    std::string default_type(std::string_view topic) const;
    TopicRules rules(std::string_view topic) const;
    // Gives `topic` its own rules, or takes them away (back to the defaults).
    void set_topic(std::string topic, TopicRules rules);
    void remove_topic(std::string_view topic);
    // Construction-time settings; `topics` and `default_types` are moved into the run-time map (empty here).
    const ContractOptions& options() const noexcept { return options_; }
    std::uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }

private:
    Error fail(std::string message, std::string attribute, std::string details = {}) const;

    using TopicMap = std::map<std::string, TopicRules, std::less<>>;
    const TopicRules* find(const TopicMap& map, std::string_view topic) const;

    ContractOptions options_;
    std::shared_ptr<schema::Registry> registry_;
    SnapshotCell<TopicMap> topics_;
    std::mutex write_mutex_;  // set_topic / remove_topic: copy, change, publish
    mutable std::atomic<std::uint64_t> failures_{0};
};

}  // namespace herald::publish
