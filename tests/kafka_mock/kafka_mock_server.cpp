// herald-kafka-mock: serves librdkafka's in-process mock cluster (rdkafka_mock.h) to other processes for the
// Kafka engine's tests. The cluster lives as long as this process: Herald nodes, kcat and kafkajs connect to
// the bootstrap servers it prints. There is no real Kafka broker in Debian; the mock handles idempotent
// produce with acks=all, fetch, list offsets, metadata and consumer groups.
//
//   herald-kafka-mock [--brokers N] [--topic NAME:PARTITIONS]... [--ready-file PATH]
//
// Prints "bootstrap=<host:port,...>" on stdout (and writes it to the ready file) once serving. Commands on
// stdin, one per line, each answered with "ok" or "error <why>":
//   create NAME PARTITIONS       create a topic (the mock's admin API cannot; auto-created topics get 4)
//   down BROKER_ID / up BROKER_ID  take a broker off the network and back
// Stops on SIGTERM/SIGINT or end of stdin.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct TopicArg {
    std::string name;
    int partitions = 1;
};

bool parse_topic(const std::string& text, TopicArg& out) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) {
        out = {text, 1};
        return !text.empty();
    }
    out.name = text.substr(0, colon);
    out.partitions = std::atoi(text.c_str() + colon + 1);
    return !out.name.empty() && out.partitions > 0;
}

int usage() {
    std::cerr << "usage: herald-kafka-mock [--brokers N] [--topic NAME:PARTITIONS]... [--ready-file PATH]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    int brokers = 3;
    std::vector<TopicArg> topics;
    std::string ready_file;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (i + 1 >= argc) return usage();
        std::string value = argv[++i];
        if (arg == "--brokers") {
            brokers = std::atoi(value.c_str());
            if (brokers < 1) return usage();
        } else if (arg == "--topic") {
            TopicArg t;
            if (!parse_topic(value, t)) return usage();
            topics.push_back(t);
        } else if (arg == "--ready-file") {
            ready_file = value;
        } else {
            return usage();
        }
    }

    // The mock cluster needs a client instance to own it; this producer is never used to produce.
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        std::cerr << "herald-kafka-mock: " << err << "\n";
        return 1;
    }
    rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
    if (!cluster) {
        std::cerr << "herald-kafka-mock: could not create the mock cluster\n";
        return 1;
    }
    for (const auto& t : topics) {
        if (rd_kafka_mock_topic_create(cluster, t.name.c_str(), t.partitions, brokers < 3 ? brokers : 3) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            std::cerr << "herald-kafka-mock: could not create topic " << t.name << "\n";
            return 1;
        }
    }

    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
    std::cout << "bootstrap=" << bootstrap << std::endl;
    if (!ready_file.empty()) {
        std::string tmp = ready_file + ".tmp";
        {
            std::ofstream out(tmp);
            out << "bootstrap=" << bootstrap << "\n";
        }
        std::rename(tmp.c_str(), ready_file.c_str());
    }

    // Commands arrive on a thread of their own so that the main thread only waits for a stop signal.
    std::thread commands([cluster, brokers] {
        std::string line;
        while (std::getline(std::cin, line)) {
            std::istringstream in(line);
            std::string verb;
            in >> verb;
            if (verb == "create") {
                TopicArg t;
                in >> t.name >> t.partitions;
                bool ok = !t.name.empty() && t.partitions > 0 &&
                          rd_kafka_mock_topic_create(cluster, t.name.c_str(), t.partitions,
                                                     brokers < 3 ? brokers : 3) == RD_KAFKA_RESP_ERR_NO_ERROR;
                std::cout << (ok ? "ok" : "error could not create the topic") << std::endl;
            } else if (verb == "down" || verb == "up") {
                int id = 0;
                in >> id;
                auto e = verb == "down" ? rd_kafka_mock_broker_set_down(cluster, id)
                                        : rd_kafka_mock_broker_set_up(cluster, id);
                std::cout << (e == RD_KAFKA_RESP_ERR_NO_ERROR ? "ok" : "error no such broker") << std::endl;
            } else if (!verb.empty()) {
                std::cout << "error unknown command" << std::endl;
            }
        }
        kill(getpid(), SIGTERM);  // end of input: stop like a signal would
    });
    commands.detach();

    int sig = 0;
    sigwait(&stop_signals, &sig);
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    std::_Exit(0);  // the command thread may still be blocked reading stdin
}
