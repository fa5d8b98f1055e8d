#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pipec::runtime {

/// Whether librdkafka accepts the client property `name` = `value` (as rd_kafka_conf_set does when a job starts): the
/// library's error text when it does not. Names and values only; files and brokers are not touched.
std::optional<std::string> checkKafkaProperty(const std::string& name, const std::string& value);

/// A new librdkafka configuration: `defaults`, then `bootstrap.servers` = `brokers`, then the cluster's `properties`
/// (which win over both). A property librdkafka refuses throws UserError naming it. The caller owns the result (it is
/// handed to rd_kafka_new, or destroyed).
rd_kafka_conf_t* makeKafkaConf(const std::string& brokers, std::map<std::string, std::string> defaults,
                               const std::map<std::string, std::string>& properties);

/// The names of every client and topic property this librdkafka knows (for suggestions).
std::vector<std::string> kafkaPropertyNames();

} // namespace pipec::runtime
