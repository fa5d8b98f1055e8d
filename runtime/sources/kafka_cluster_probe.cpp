#include "runtime/sources/kafka_cluster_probe.h"

#include "runtime/sources/kafka_properties.h"
#include "runtime/core/user_error.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <memory>

namespace pipec::runtime {

void requireReachableKafkaCluster(const std::string& brokers, const std::map<std::string, std::string>& properties,
                                  int timeoutMs) {
    char error[512];
    rd_kafka_conf_t* conf = makeKafkaConf(brokers, {{"log_level", "0"}}, properties);
    rd_kafka_t* client = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (client == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw UserError(fmt::format("cannot create a Kafka client for {}: {}", brokers, error));
    }
    std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> owner(client, rd_kafka_destroy);
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t result = rd_kafka_metadata(client, 0, nullptr, &metadata, timeoutMs);
    if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
    if (result != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw UserError(fmt::format("cannot reach the Kafka cluster at {} within {} s: {}", brokers, timeoutMs / 1000,
                                    rd_kafka_err2str(result)),
                        UserError::kEnvironmentRefused);
}

} // namespace pipec::runtime
