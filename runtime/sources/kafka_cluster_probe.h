#pragma once

#include <map>
#include <string>

namespace pipec::runtime {

/// Asks the cluster at `brokers` for its metadata, with the same client `properties` a job would use (security).
/// Throws UserError (environment refused) when no broker answers within `timeoutMs`: the Kafka client itself would
/// retry forever, and a job waiting silently on a misspelt address looks like a job with nothing to read.
void requireReachableKafkaCluster(const std::string& brokers, const std::map<std::string, std::string>& properties,
                                  int timeoutMs);

} // namespace pipec::runtime
