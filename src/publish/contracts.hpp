#pragma once
// The event contracts every publish is checked against, whatever the transport (issue 6, docs/schemas.md):
// naming rules for topics and event types, each topic's accepted types, and the JSON Schema registered for a
// type's data. A failure is Errc::unprocessable (HTTP 422) naming the attribute, with the schema violations as
// details; nothing of the request is appended.
//
// Threading: check() is const and reads the registry's lock-free snapshot; call it from any worker.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"
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
    const schema::TopicContract& contract(std::string_view topic) const;
    const ContractOptions& options() const noexcept { return options_; }
    std::uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }

private:
    Error fail(std::string message, std::string attribute, std::string details = {}) const;

    ContractOptions options_;
    std::shared_ptr<schema::Registry> registry_;
    mutable std::atomic<std::uint64_t> failures_{0};
};

}  // namespace herald::publish
