#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace pipec::runtime {

/// A Kafka-protocol broker in this process, backed by librdkafka's mock cluster, for local runs and tests.
/// Real clients (librdkafka, kcat) reach it on 127.0.0.1. Each partition keeps only the newest ~5 MiB: older
/// records are dropped silently, so it is not a store for large backlogs.
class EmbeddedBroker {
public:
    struct Options {
        int brokerCount = 1;
        /// 0: each broker listens on an ephemeral port. Otherwise clients may bootstrap through this fixed port:
        /// the mock cluster cannot bind fixed ports, so a forwarder on it relays to the first broker, whose
        /// metadata then points clients at the brokers' real ports.
        int bootstrapPort = 0;
    };

    /// Starts the cluster; throws std::runtime_error when it cannot.
    explicit EmbeddedBroker(const Options& options);
    EmbeddedBroker();
    ~EmbeddedBroker();
    EmbeddedBroker(const EmbeddedBroker&) = delete;
    EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

    /// The `bootstrap.servers` value for clients: the fixed port when one was asked for, else the brokers' list.
    std::string bootstrapServers() const;
    /// The mock brokers' own addresses (ephemeral ports), whatever the bootstrap port.
    std::string brokerAddresses() const;

    /// Creates a topic (replication factor 1). Throws std::runtime_error on failure.
    void createTopic(const std::string& name, int partitions);

    /// Takes every broker down (open connections are closed, new ones refused) or brings them back up. The topics
    /// and their records stay: this is a broker restart as clients see it, with the log kept, as a real broker keeps
    /// it on disk. For failure tests (`pipec broker`: SIGUSR1 down, SIGUSR2 up).
    void setBrokersUp(bool up);

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace pipec::runtime
