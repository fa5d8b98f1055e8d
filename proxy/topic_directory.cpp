#include "proxy/topic_directory.h"

#include "runtime/core/user_error.h"

#include <fmt/format.h>

namespace pipec::proxy {

TopicDirectory TopicDirectory::build(const driver::Compilation &compilation,
                                     const std::map<std::string, int32_t> &confluentTopics) {
    TopicDirectory directory;
    directory.factory_ = std::make_shared<google::protobuf::DynamicMessageFactory>();
    if (compilation.environment) {
        for (const auto &[name, cluster] : compilation.environment->clusters)
            directory.clusters_.push_back(ClusterEndpoint{name, cluster.bootstrapServers, cluster.properties});
    }
    for (const auto &specFile : compilation.specs) {
        for (const auto &source : specFile.sources) {
            for (const auto &kafka : source.kafkaSources) {
                const std::string &topic = kafka.topic.value;
                if (topic.empty()) continue;
                const google::protobuf::Descriptor *message =
                    compilation.catalog ? compilation.catalog->findMessage(kafka.protoClass.value) : nullptr;
                if (message == nullptr)
                    throw UserError(fmt::format("{}: topic `{}`: message `{}` not found in the schemas", specFile.path,
                                                topic, kafka.protoClass.value),
                                    UserError::kEnvironmentRefused);
                TopicType type{topic,
                               kafka.cluster.value,
                               message,
                               kafka.format.value == "json" ? runtime::PayloadEncoding::Json
                                                            : runtime::PayloadEncoding::Protobuf,
                               0,
                               specFile.path,
                               directory.factory_->GetPrototype(message)};
                auto [existing, inserted] = directory.topics_.emplace(topic, type);
                if (!inserted && (existing->second.message != message || existing->second.cluster != type.cluster ||
                                  existing->second.encoding != type.encoding))
                    throw UserError(
                        fmt::format("topic `{}` is typed twice, differently: `{}` on cluster `{}` ({}) and `{}` on "
                                    "cluster `{}` ({})",
                                    topic, existing->second.message->full_name(), existing->second.cluster,
                                    existing->second.specPath, message->full_name(), type.cluster, specFile.path),
                        UserError::kEnvironmentRefused);
                if (directory.cluster(type.cluster) == nullptr)
                    directory.clusters_.push_back(ClusterEndpoint{type.cluster, "", {}});
            }
        }
    }
    for (const auto &[topic, schemaId] : confluentTopics) {
        auto found = directory.topics_.find(topic);
        if (found == directory.topics_.end())
            throw UserError(fmt::format("--confluent-topic `{}`: no spec reads this topic", topic));
        found->second.encoding = runtime::PayloadEncoding::ConfluentProtobuf;
        found->second.schemaId = schemaId;
    }
    if (directory.clusters_.empty()) directory.clusters_.push_back(ClusterEndpoint{"default", "", {}});
    return directory;
}

const TopicType *TopicDirectory::find(const std::string &topic) const {
    auto found = topics_.find(topic);
    return found == topics_.end() ? nullptr : &found->second;
}

const ClusterEndpoint *TopicDirectory::cluster(const std::string &name) const {
    for (const auto &cluster : clusters_)
        if (cluster.name == name) return &cluster;
    return nullptr;
}

std::vector<std::string> TopicDirectory::topicsOf(const std::string &cluster) const {
    std::vector<std::string> names;
    for (const auto &[topic, type] : topics_)
        if (type.cluster == cluster) names.push_back(topic);
    return names;
}

const std::string &TopicDirectory::defaultCluster() const {
    for (const auto &cluster : clusters_)
        if (cluster.name == "default") return cluster.name;
    return clusters_.front().name;
}

} // namespace pipec::proxy
