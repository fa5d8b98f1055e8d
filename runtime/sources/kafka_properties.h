#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pipec::runtime {

/// Whether librdkafka accepts the client property `name` = `value` (as rd_kafka_conf_set does when a job starts): the
/// library's error text when it does not. Names and values only; files and brokers are not touched.
std::optional<std::string> checkKafkaProperty(const std::string& name, const std::string& value);

/// The names of every client and topic property this librdkafka knows (for suggestions).
std::vector<std::string> kafkaPropertyNames();

} // namespace pipec::runtime
