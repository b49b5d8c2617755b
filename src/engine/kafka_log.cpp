#include "engine/kafka_log.hpp"

#include <librdkafka/rdkafka.h>

namespace herald::engine::kafka {

namespace {

void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
    auto* context = static_cast<ClientContext*>(rd_kafka_opaque(rk));
    if (context && context->log && *context->log) (*context->log)(level, facility, message);
}

}  // namespace

void route_logs(rd_kafka_conf_t* conf, ClientContext* context) {
    rd_kafka_conf_set_opaque(conf, context);
    rd_kafka_conf_set_log_cb(conf, on_log);
}

}  // namespace herald::engine::kafka
