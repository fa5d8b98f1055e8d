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
    directory.markConfluentTopics(confluentTopics);
    if (directory.clusters_.empty()) directory.clusters_.push_back(ClusterEndpoint{"default", "", {}});
    return directory;
}

TopicDirectory TopicDirectory::fromPlans(const std::vector<plan::Job> &jobs, const std::vector<std::string> &names,
                                         const std::map<std::string, int32_t> &confluentTopics) {
    TopicDirectory directory;
    directory.pool_ = std::make_shared<google::protobuf::DescriptorPool>();
    directory.factory_ = std::make_shared<google::protobuf::DynamicMessageFactory>(directory.pool_.get());
    for (size_t i = 0; i < jobs.size(); ++i) {
        const plan::Job &job = jobs[i];
        const std::string &name = i < names.size() ? names[i] : job.name();
        const plan::Source &source = job.pipeline().source();
        if (source.topic().empty()) continue;
        // Plans compiled from one repository carry identical copies of shared .proto files, which the pool accepts
        // again; two different versions of one file are a conflict.
        for (const auto &file : source.descriptors().file()) {
            if (directory.pool_->BuildFile(file) == nullptr)
                throw UserError(fmt::format("{}: the descriptors of `{}` conflict with another plan's (or do not load)",
                                            name, file.name()),
                                UserError::kEnvironmentRefused);
        }
        const google::protobuf::Descriptor *message = directory.pool_->FindMessageTypeByName(source.message_type());
        if (message == nullptr)
            throw UserError(fmt::format("{}: topic `{}`: message `{}` is missing from the plan's descriptors", name,
                                        source.topic(), source.message_type()),
                            UserError::kEnvironmentRefused);
        std::string cluster = source.cluster().empty() ? "default" : source.cluster();
        TopicType type{source.topic(),
                       cluster,
                       message,
                       source.format() == "json" ? runtime::PayloadEncoding::Json : runtime::PayloadEncoding::Protobuf,
                       0,
                       name,
                       directory.factory_->GetPrototype(message)};
        auto [existing, inserted] = directory.topics_.emplace(type.topic, type);
        if (!inserted && (existing->second.message != message || existing->second.cluster != type.cluster ||
                          existing->second.encoding != type.encoding))
            throw UserError(fmt::format("topic `{}` is typed twice, differently: `{}` on cluster `{}` ({}) and `{}` "
                                        "on cluster `{}` ({})",
                                        type.topic, existing->second.message->full_name(), existing->second.cluster,
                                        existing->second.specPath, message->full_name(), type.cluster, name),
                            UserError::kEnvironmentRefused);
        ClusterEndpoint endpoint{cluster, "", {}};
        for (const auto &[key, value] : job.cluster_properties()) {
            if (key == "bootstrap.servers")
                endpoint.bootstrapServers = value;
            else
                endpoint.properties[key] = value;
        }
        if (const ClusterEndpoint *known = directory.cluster(cluster)) {
            if (known->bootstrapServers != endpoint.bootstrapServers || known->properties != endpoint.properties)
                throw UserError(fmt::format("cluster `{}` has different settings in {} than in an earlier plan: "
                                            "were the plans compiled for one environment?",
                                            cluster, name),
                                UserError::kEnvironmentRefused);
        } else {
            directory.clusters_.push_back(std::move(endpoint));
        }
    }
    directory.markConfluentTopics(confluentTopics);
    if (directory.clusters_.empty()) directory.clusters_.push_back(ClusterEndpoint{"default", "", {}});
    return directory;
}

void TopicDirectory::markConfluentTopics(const std::map<std::string, int32_t> &confluentTopics) {
    for (const auto &[topic, schemaId] : confluentTopics) {
        auto found = topics_.find(topic);
        if (found == topics_.end())
            throw UserError(fmt::format("--confluent-topic `{}`: no spec reads this topic", topic));
        found->second.encoding = runtime::PayloadEncoding::ConfluentProtobuf;
        found->second.schemaId = schemaId;
    }
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
