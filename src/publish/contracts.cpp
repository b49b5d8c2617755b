#include "publish/contracts.hpp"

#include <boost/json.hpp>
#include <cstddef>

namespace herald::publish {

namespace json = boost::json;

Contracts::Contracts(ContractOptions options, std::shared_ptr<schema::Registry> registry)
    : options_(std::move(options)), registry_(std::move(registry)) {}

Error Contracts::fail(std::string message, std::string attribute, std::string details) const {
    failures_.fetch_add(1, std::memory_order_relaxed);
    Error e = make_error(Errc::unprocessable, std::move(message), std::move(attribute));
    e.details = std::move(details);
    return e;
}

const schema::TopicContract& Contracts::contract(std::string_view topic) const {
    auto it = options_.topics.find(topic);
    return it != options_.topics.end() ? it->second : options_.default_contract;
}

Result<void> Contracts::check_topic(std::string_view topic) const {
    if (!options_.enforce_naming) return ok();
    if (auto r = options_.taxonomy.check_topic(topic); !r) return fail(r.error().message, "topic");
    return ok();
}

Result<void> Contracts::check(std::string_view topic, core::CloudEvent& event, const schema::Snapshot& snap) const {
    if (options_.enforce_naming) {
        if (auto r = options_.taxonomy.check_event_type(event.type); !r)
            return fail(r.error().message, "type");
    }
    auto version = snap.for_event(event.type, event.dataschema);
    if (!version) {
        auto e = std::move(version).error();
        return fail(e.message, e.attribute.empty() ? "dataschema" : e.attribute);
    }
    if (auto r = contract(topic).check(event.type, *version != nullptr); !r) return fail(r.error().message, "type");
    if (!*version) return ok();
    const auto& v = **version;
    // The parsed data lives only for this check: a monotonic arena, starting in a buffer on the
    // stack, spares one heap allocation per value (the parse was the second largest cost of
    // validating a typical event; a 1 KiB order event takes about 2 KiB). It grows on the heap for
    // larger data and is freed on return. `arena` is declared before `data`, so it outlives it, and
    // `data` is created with the arena's storage so that assigning the parse result moves it.
    alignas(std::max_align_t) unsigned char buffer[4096];
    json::monotonic_resource arena(buffer, sizeof buffer);
    const json::storage_ptr storage(&arena);
    json::value data(storage);
    switch (event.data_kind) {
        case core::DataKind::json: {
            boost::system::error_code ec;
            data = json::parse(event.data, ec, storage);
            if (ec) return fail("data is not valid JSON: " + ec.message(), "data");
            break;
        }
        case core::DataKind::none: data = nullptr; break;
        case core::DataKind::text:
        case core::DataKind::binary:
            return fail("event type '" + event.type + "' has a JSON Schema (" + v.uri +
                            "), so its data must be JSON (datacontenttype application/json)",
                        "data");
    }
    if (!v.is_valid(data)) {
        auto violations = v.validate(data);
        std::string summary;
        for (std::size_t i = 0; i < violations.size() && i < 3; ++i)
            summary += (i ? "; " : "") + (violations[i].pointer.empty() ? std::string("data") : "data" + violations[i].pointer) +
                       ": " + violations[i].message;
        if (violations.size() > 3) summary += "; and " + std::to_string(violations.size() - 3) + " more";
        return fail("data does not match " + v.uri + ": " + summary, "data",
                    json::serialize(schema::to_json(violations)));
    }
    if (!event.dataschema) event.dataschema = v.uri;
    return ok();
}

}  // namespace herald::publish
