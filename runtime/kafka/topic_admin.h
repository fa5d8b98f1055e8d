#pragma once

#include <functional>
#include <map>
#include <string>

namespace pipec::runtime {

/// An internal topic a job needs (a changelog, a repartition topic) and what to say when it cannot have it.
struct InternalTopic {
    std::string name;
    int partitions = 0;
    std::map<std::string, std::string> config;  // topic configs when created (cleanup.policy, ...)
    std::string what;                           // "changelog topic", "repartition topic"
    std::string whyPartitionsMatter;            // said when an existing topic has another partition count
};

/// Makes sure the topic exists with its partition count, creating it when missing (CreateTopics through `client`, an
/// rd_kafka_t*). `countPartitions` reads a topic's partition count (0: missing) through a client that never
/// auto-creates topics (a consumer). Throws UserError with what to do when the topic has another partition count or
/// cannot be created.
void ensureInternalTopic(void* client, const InternalTopic& topic, const std::function<int(const std::string&)>& countPartitions);

/// The same through a short-lived client of its own (a consumer-type client, which never auto-creates topics).
void ensureInternalTopic(const std::string& brokers, const std::map<std::string, std::string>& properties, const InternalTopic& topic);

/// The partition count of a topic (0: missing), read without auto-creating it. Throws UserError when the cluster does
/// not answer.
int topicPartitionCount(const std::string& brokers, const std::map<std::string, std::string>& properties, const std::string& topic);

/// The same through an existing client (an rd_kafka_t*; a consumer-type client never makes the broker auto-create the
/// topic), waiting up to `timeoutMs` for the metadata.
int topicPartitionCount(void* client, const std::string& topic, int timeoutMs);

} // namespace pipec::runtime
