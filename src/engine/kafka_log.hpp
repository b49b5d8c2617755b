#pragma once
// librdkafka's own log lines (connection failures, broker state) go to Herald's logger instead of stderr, so
// that a JSON log stays JSON. Every librdkafka client Herald makes carries a ClientContext as its opaque (the
// lease consumers' opaque derives from it), which is how the static log callback finds the sink.

#include <functional>
#include <string_view>

struct rd_kafka_conf_s;

namespace herald::engine::kafka {

// `level` is syslog's: 0–3 errors, 4 warnings, 5–6 information, 7 debug.
using LogSink = std::function<void(int level, std::string_view facility, std::string_view message)>;

struct ClientContext {
    const LogSink* log = nullptr;  // null: librdkafka's lines are dropped
};

// Sets the log callback and `context` as the client's opaque; `context` must outlive the client.
void route_logs(rd_kafka_conf_s* conf, ClientContext* context);

}  // namespace herald::engine::kafka
