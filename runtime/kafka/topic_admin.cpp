#include "runtime/kafka/topic_admin.h"

#include "runtime/sources/kafka_properties.h"
#include "runtime/core/user_error.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

namespace pipec::runtime {

void ensureInternalTopic(void* handle, const InternalTopic& wanted, const std::function<int(const std::string&)>& countPartitions) {
    auto* client = static_cast<rd_kafka_t*>(handle);
    int existing = countPartitions(wanted.name);
    auto howTo = [&] {
        std::string configs;
        for (const auto& [name, value] : wanted.config) configs += fmt::format(" and {}={}", name, value);
        return fmt::format("create it with {} partitions{} (on `pipec broker`: --topics {}:{})", wanted.partitions, configs, wanted.name,
                           wanted.partitions);
    };
    if (existing > 0) {
        if (existing != wanted.partitions)
            throw UserError(fmt::format("{} `{}` has {} partitions, but the source topic has {}: {}", wanted.what, wanted.name, existing,
                                        wanted.partitions, wanted.whyPartitionsMatter),
                            UserError::kEnvironmentRefused);
        return;
    }
    char error[512];
    rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(wanted.name.c_str(), wanted.partitions, -1, error, sizeof error);
    if (topic == nullptr) throw std::runtime_error(fmt::format("cannot create {} `{}`: {}", wanted.what, wanted.name, error));
    for (const auto& [name, value] : wanted.config) rd_kafka_NewTopic_set_config(topic, name.c_str(), value.c_str());
    rd_kafka_queue_t* queue = rd_kafka_queue_new(client);
    rd_kafka_AdminOptions_t* adminOptions = rd_kafka_AdminOptions_new(client, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(adminOptions, 10000, error, sizeof error);
    rd_kafka_CreateTopics(client, &topic, 1, adminOptions, queue);
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 12000);
    std::string failure;
    if (event == nullptr) {
        failure = "the cluster did not answer the CreateTopics request";
    } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failure = rd_kafka_event_error_string(event);
    } else {
        size_t count = 0;
        const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
        for (size_t i = 0; i < count; ++i) {
            rd_kafka_resp_err_t code = rd_kafka_topic_result_error(results[i]);
            if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                failure = rd_kafka_topic_result_error_string(results[i]) ? rd_kafka_topic_result_error_string(results[i]) : rd_kafka_err2str(code);
        }
    }
    if (event != nullptr) rd_kafka_event_destroy(event);
    rd_kafka_AdminOptions_destroy(adminOptions);
    rd_kafka_queue_destroy(queue);
    rd_kafka_NewTopic_destroy(topic);
    if (!failure.empty())
        throw UserError(fmt::format("{} `{}` does not exist and cannot be created ({}); {}", wanted.what, wanted.name, failure, howTo()),
                        UserError::kEnvironmentRefused);
    // Metadata may lag the creation briefly.
    for (int attempt = 0; attempt < 50; ++attempt) {
        existing = countPartitions(wanted.name);
        if (existing > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (existing != wanted.partitions)
        throw UserError(fmt::format("{} `{}` was created but has {} partitions; {}", wanted.what, wanted.name, existing, howTo()),
                        UserError::kEnvironmentRefused);
}

namespace {

using ClientPtr = std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)>;

/// A consumer-type client without a group: its metadata requests never make a broker auto-create a topic.
ClientPtr metadataClient(const std::string& brokers, const std::map<std::string, std::string>& properties) {
    char error[512];
    rd_kafka_conf_t* conf = makeKafkaConf(brokers, {{"log_level", "4"}, {"allow.auto.create.topics", "false"}}, properties);
    rd_kafka_t* client = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (client == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("cannot create an admin client: ") + error);
    }
    return ClientPtr(client, rd_kafka_destroy);
}

} // namespace

int topicPartitionCount(void* handle, const std::string& topic, int timeoutMs) {
    auto* client = static_cast<rd_kafka_t*>(handle);
    rd_kafka_topic_t* topicHandle = rd_kafka_topic_new(client, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t error = rd_kafka_metadata(client, 0, topicHandle, &metadata, timeoutMs);
    rd_kafka_topic_destroy(topicHandle);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw UserError("cannot read the metadata of topic `" + topic + "`: " + rd_kafka_err2str(error), UserError::kEnvironmentRefused);
    int count = 0;
    if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) count = metadata->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(metadata);
    return count;
}

int topicPartitionCount(const std::string& brokers, const std::map<std::string, std::string>& properties, const std::string& topic) {
    ClientPtr client = metadataClient(brokers, properties);
    return topicPartitionCount(client.get(), topic, 15000);
}

void ensureInternalTopic(const std::string& brokers, const std::map<std::string, std::string>& properties, const InternalTopic& topic) {
    ClientPtr client = metadataClient(brokers, properties);
    rd_kafka_t* raw = client.get();
    ensureInternalTopic(raw, topic, [raw](const std::string& name) { return topicPartitionCount(raw, name, 15000); });
}

} // namespace pipec::runtime
