#include "compiler/common/diagnostics.h"
#include "compiler/spec/spec_loader.h"
#include "runtime/kafka/exchange_source_job.h"
#include "runtime/kafka/kafka_job.h"
#include "runtime/sources/embedded_broker.h"
#include "tools/pipec/command.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

namespace pipec::cli {
namespace {

std::atomic<bool> brokerStopRequested{false};

void requestBrokerStop(int) { brokerStopRequested = true; }

/// Failure tests take the brokers away and back without losing the topics: SIGUSR1 down, SIGUSR2 up.
std::atomic<int> brokerAvailabilityRequested{0};  // 0 nothing asked, 1 down, 2 up

void requestBrokersDown(int) { brokerAvailabilityRequested = 1; }
void requestBrokersUp(int) { brokerAvailabilityRequested = 2; }

/// Topic names read by the specs under `path` (a file or a directory searched recursively), through the compiler's
/// spec loader. Only the `kafka_sources[].topic` values are needed, so the specs are not compiled; a file that does
/// not load at all is reported and skipped (`pipec validate` is the place for its errors).
/// With each topic, the changelog and repartition topics of its job run under the default group (`pipec-<job>`), which need the
/// source's partition count: the embedded broker cannot create topics for its clients.
void collectSpecTopics(const std::string& path, std::vector<std::string>& topics,
                       std::vector<std::pair<std::string, std::string>>& changelogs) {
    SourceManager sources;
    DiagnosticEngine diagnostics;
    for (const auto& file : spec::collectSpecPaths({path}, diagnostics)) {
        std::optional<spec::SpecFile> specFile = spec::loadSpecFile(file, sources, diagnostics);
        if (!specFile) {
            std::cerr << fmt::format("pipec broker: skipping {}: not a spec (`pipec validate {}` says why)\n", file, file);
            continue;
        }
        for (const auto& source : specFile->sources)
            for (const auto& kafkaSource : source.kafkaSources) {
                if (kafkaSource.topic.value.empty()) continue;
                topics.push_back(kafkaSource.topic.value);
                const std::string& job = source.name.value;
                changelogs.emplace_back(runtime::changelogTopicName("pipec-" + job, job), kafkaSource.topic.value);
                // A plan with a repartition exchange (docs/exchange.md) also needs its repartition topic; an unused one is
                // empty and costs nothing.
                changelogs.emplace_back(runtime::repartitionTopicName("pipec-" + job, job), kafkaSource.topic.value);
            }
    }
}

} // namespace

void registerBrokerCommand(CLI::App& app) {
    struct Flags {
        std::vector<std::string> topics;
        std::vector<std::string> specs;
        int port = 0;
        int partitions = 4;
        int brokers = 1;
    };
    auto flags = std::make_shared<Flags>();
    CLI::App* command = app.add_subcommand(
        "broker", "Run an embedded Kafka-protocol broker in the foreground for local runs and tests. Prints "
                  "`bootstrap.servers=HOST:PORT` on the first line of stdout, then serves until SIGINT/SIGTERM. "
                  "Each partition keeps only its newest ~5 MiB of records. SIGUSR1 takes the brokers down (connections "
                  "closed and refused, records kept), SIGUSR2 brings them back: a broker restart, for failure tests.");
    command->add_option("--topics", flags->topics, "Topics to create, NAME or NAME:PARTITIONS, comma-separated")
        ->delimiter(',');
    command->add_option("--specs", flags->specs, "Spec files or directories: create every topic they read");
    command->add_option("--port", flags->port, "Fixed bootstrap port on 127.0.0.1 (default: an ephemeral port)")
        ->check(CLI::Range(0, 65535));
    command->add_option("--partitions", flags->partitions, "Partitions of topics given without a count")
        ->check(CLI::Range(1, 1024));
    command->add_option("--brokers", flags->brokers, "Number of brokers in the cluster")->check(CLI::Range(1, 16));
    command->callback([flags] {
        std::map<std::string, int> topics;
        for (const auto& entry : flags->topics) {
            if (entry.empty()) continue;
            auto colon = entry.find(':');
            std::string name = entry.substr(0, colon);
            int partitions = flags->partitions;
            if (colon != std::string::npos) {
                try {
                    size_t used = 0;
                    partitions = std::stoi(entry.substr(colon + 1), &used);
                    if (used != entry.size() - colon - 1 || partitions < 1) throw std::invalid_argument(entry);
                } catch (const std::exception&) {
                    std::cerr << fmt::format("pipec broker: invalid topic `{}`: expected NAME or NAME:PARTITIONS\n", entry);
                    throw CLI::RuntimeError(2);
                }
            }
            topics[name] = partitions;
        }
        std::vector<std::string> specTopics;
        std::vector<std::pair<std::string, std::string>> changelogs;  // (changelog, its source topic)
        for (const auto& path : flags->specs) {
            if (!std::filesystem::exists(path)) {
                std::cerr << fmt::format("pipec broker: no such file or directory: {}\n", path);
                throw CLI::RuntimeError(2);
            }
            collectSpecTopics(path, specTopics, changelogs);
        }
        for (const auto& topic : specTopics) topics.try_emplace(topic, flags->partitions);
        for (const auto& [changelog, sourceTopic] : changelogs) topics.try_emplace(changelog, topics[sourceTopic]);

        std::unique_ptr<runtime::EmbeddedBroker> broker;
        try {
            broker = std::make_unique<runtime::EmbeddedBroker>(
                runtime::EmbeddedBroker::Options{.brokerCount = flags->brokers, .bootstrapPort = flags->port});
            for (const auto& [name, partitions] : topics) broker->createTopic(name, partitions);
        } catch (const std::exception& error) {
            std::cerr << "pipec broker: " << error.what() << "\n";
            throw CLI::RuntimeError(1);
        }
        std::signal(SIGINT, requestBrokerStop);
        std::signal(SIGTERM, requestBrokerStop);
        std::signal(SIGUSR1, requestBrokersDown);
        std::signal(SIGUSR2, requestBrokersUp);
        // Scripts parse the first line; flush so they see it while we keep running.
        std::cout << "bootstrap.servers=" << broker->bootstrapServers() << "\n";
        for (const auto& [name, partitions] : topics)
            std::cout << fmt::format("topic {} partitions={}\n", name, partitions);
        std::cout << std::flush;
        std::cerr << fmt::format("pipec broker: {} broker(s) at {}; {} topic(s); Ctrl-C to stop. Each partition keeps "
                                 "only its newest ~5 MiB.\n",
                                 flags->brokers, broker->brokerAddresses(), topics.size());
        while (!brokerStopRequested.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (int asked = brokerAvailabilityRequested.exchange(0)) {
                broker->setBrokersUp(asked == 2);
                std::cerr << (asked == 2 ? "pipec broker: brokers up\n" : "pipec broker: brokers down\n") << std::flush;
            }
        }
        std::cerr << "pipec broker: stopping\n";
    });
}

} // namespace pipec::cli
