#include "runtime/sources/kafka_properties.h"

#include "runtime/core/user_error.h"

#include <librdkafka/rdkafka.h>

namespace pipec::runtime {

std::optional<std::string> checkKafkaProperty(const std::string& name, const std::string& value) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char error[512] = {};
    const rd_kafka_conf_res_t result = rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error);
    rd_kafka_conf_destroy(conf);
    if (result == RD_KAFKA_CONF_OK) return std::nullopt;
    return std::string(error);
}

rd_kafka_conf_t* makeKafkaConf(const std::string& brokers, std::map<std::string, std::string> defaults,
                               const std::map<std::string, std::string>& properties) {
    std::map<std::string, std::string>& all = defaults;
    all["bootstrap.servers"] = brokers;
    for (const auto& [name, value] : properties) all[name] = value;
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char error[512];
    for (const auto& [name, value] : all) {
        if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw UserError("Kafka property `" + name + "`: " + error);
        }
    }
    return conf;
}

std::vector<std::string> kafkaPropertyNames() {
    std::vector<std::string> names;
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_topic_conf_t* topicConf = rd_kafka_topic_conf_new();
    size_t count = 0;
    const char** pairs = rd_kafka_conf_dump(conf, &count);  // name, value, name, value, ...
    for (size_t i = 0; i + 1 < count; i += 2) names.emplace_back(pairs[i]);
    rd_kafka_conf_dump_free(pairs, count);
    pairs = rd_kafka_topic_conf_dump(topicConf, &count);
    for (size_t i = 0; i + 1 < count; i += 2) names.emplace_back(pairs[i]);
    rd_kafka_conf_dump_free(pairs, count);
    rd_kafka_topic_conf_destroy(topicConf);
    rd_kafka_conf_destroy(conf);
    return names;
}

} // namespace pipec::runtime
