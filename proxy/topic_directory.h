#pragma once

#include "compiler/driver/compilation.h"
#include "runtime/sources/envelope.h"

#include <pipec/plan.pb.h>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pipec::proxy {

/// A Kafka cluster of the environment config, as the proxy produces to it.
struct ClusterEndpoint {
    std::string name;                              // the environment's name for it: the v3 `cluster_id`
    std::string bootstrapServers;                  // empty or `embedded`: the in-process broker
    std::map<std::string, std::string> properties; // librdkafka settings (security, …)
};

/// A topic that the specs type: its cluster, its message, and how its payloads are encoded.
struct TopicType {
    std::string topic;
    std::string cluster;
    const google::protobuf::Descriptor *message = nullptr;                  // owned by the compilation's catalog
    runtime::PayloadEncoding encoding = runtime::PayloadEncoding::Protobuf; // Protobuf, ConfluentProtobuf or Json
    int32_t schemaId = 0;                                                   // ConfluentProtobuf: the schema-registry id
    std::string specPath; // where the type was declared (for messages)
    /// The message's prototype, from the directory's factory (thread-safe); null: the encoder makes its own.
    const google::protobuf::Message *prototype = nullptr;
};

/// What the proxy serves: the environment's clusters and the topic → message mapping of every Kafka source of the
/// specs (the `proto_class` that `pipec run` decodes with), resolved by the compiler's own spec and catalog loading.
class TopicDirectory {
public:
    /// Builds the directory of a compilation whose specs loaded. `confluentTopics` (topic → schema id) marks topics
    /// written in the Confluent wire format. Throws UserError when a topic is typed by two different messages, when
    /// a `proto_class` does not resolve, or when a Confluent topic is not a typed one.
    static TopicDirectory build(const driver::Compilation &compilation,
                                const std::map<std::string, int32_t> &confluentTopics);
    /// Builds the directory of compiled plans (`pipec compile`'s plan.pb, as deployed): each plan's source topic,
    /// message (from the descriptors the plan carries), format and cluster, with the cluster's bootstrap servers and
    /// properties. `names` label the plans in errors. Throws UserError as `build` does, and when a plan's descriptors
    /// do not load or conflict with another plan's.
    static TopicDirectory fromPlans(const std::vector<plan::Job> &jobs, const std::vector<std::string> &names,
                                    const std::map<std::string, int32_t> &confluentTopics);

    const TopicType *find(const std::string &topic) const;
    const ClusterEndpoint *cluster(const std::string &name) const;
    const std::vector<ClusterEndpoint> &clusters() const { return clusters_; }
    std::vector<ClusterEndpoint> &clusters() { return clusters_; }
    const std::map<std::string, TopicType> &topics() const { return topics_; }
    /// The typed topics of one cluster, sorted.
    std::vector<std::string> topicsOf(const std::string &cluster) const;
    /// The cluster for topics that name none (v2 requests for untyped topics): `default` when the environment has
    /// it, else the first.
    const std::string &defaultCluster() const;

private:
    void markConfluentTopics(const std::map<std::string, int32_t> &confluentTopics);

    /// The descriptors of plans (fromPlans); declared before the factory, whose prototypes refer to them.
    std::shared_ptr<google::protobuf::DescriptorPool> pool_;
    /// Owns the prototypes of the typed topics; shared so that the directory can be moved.
    std::shared_ptr<google::protobuf::DynamicMessageFactory> factory_;
    std::vector<ClusterEndpoint> clusters_;
    std::map<std::string, TopicType> topics_;
};

} // namespace pipec::proxy
