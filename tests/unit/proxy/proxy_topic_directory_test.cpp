// The proxy's topic directory built from compiled plans (`pipec proxy --plan`, what `pipec compile --proxy` deploys):
// the plans' descriptors, topics and cluster settings, and the conflicts between plans it refuses.
#include "compiler/catalog/catalog.h"
#include "proxy/topic_directory.h"
#include "runtime/core/user_error.h"

#include <doctest/doctest.h>
#include <google/protobuf/descriptor.pb.h>

#include <functional>
#include <set>

using namespace pipec;
using namespace pipec::proxy;

namespace {

const google::protobuf::Descriptor *storeEvent() {
    static SourceManager sources;
    static DiagnosticEngine diagnostics;
    static std::unique_ptr<catalog::Catalog> schemas =
        catalog::Catalog::load({std::string(PIPEC_SOURCE_DIR) + "/schemas"}, sources, diagnostics);
    const google::protobuf::Descriptor *descriptor =
        schemas->findMessage("com.doordash.timeline_events.StoreTimelineEvent");
    REQUIRE(descriptor != nullptr);
    return descriptor;
}

/// A plan reading `topic` as StoreTimelineEvent on `cluster` at `servers`, its descriptors dependencies first.
plan::Job planReading(const std::string &topic, const std::string &cluster, const std::string &servers) {
    plan::Job job;
    job.set_name("job_" + topic);
    plan::Source &source = *job.mutable_pipeline()->mutable_source();
    source.set_topic(topic);
    source.set_cluster(cluster);
    source.set_message_type(storeEvent()->full_name());
    source.set_format("protobuf");
    std::set<std::string> added;
    std::function<void(const google::protobuf::FileDescriptor *)> add = [&](const google::protobuf::FileDescriptor *file) {
        if (!added.insert(file->name()).second) return;
        for (int i = 0; i < file->dependency_count(); ++i) add(file->dependency(i));
        file->CopyTo(source.mutable_descriptors()->add_file());
    };
    add(storeEvent()->file());
    (*job.mutable_cluster_properties())["bootstrap.servers"] = servers;
    (*job.mutable_cluster_properties())["security.protocol"] = "SASL_SSL";
    return job;
}

} // namespace

TEST_CASE("topic directory from plans: topics, messages and clusters; shared descriptors load once") {
    TopicDirectory directory = TopicDirectory::fromPlans(
        {planReading("store_timeline_events", "default", "kafka:9092"), planReading("store_timeline_events", "default", "kafka:9092"),
         planReading("orders", "default", "kafka:9092")},
        {"a.pb", "b.pb", "c.pb"}, {{"orders", 7}});
    REQUIRE(directory.find("store_timeline_events") != nullptr);
    CHECK(directory.find("store_timeline_events")->message->full_name() == storeEvent()->full_name());
    CHECK(directory.find("store_timeline_events")->prototype != nullptr);
    CHECK(directory.find("orders")->encoding == runtime::PayloadEncoding::ConfluentProtobuf);
    CHECK(directory.find("orders")->schemaId == 7);
    REQUIRE(directory.clusters().size() == 1);
    CHECK(directory.clusters()[0].bootstrapServers == "kafka:9092");
    CHECK(directory.clusters()[0].properties.at("security.protocol") == "SASL_SSL");
    CHECK(directory.clusters()[0].properties.count("bootstrap.servers") == 0);
}

TEST_CASE("topic directory from plans: what cannot be served together is refused") {
    plan::Job json = planReading("store_timeline_events", "default", "kafka:9092");
    json.mutable_pipeline()->mutable_source()->set_format("json");
    CHECK_THROWS_WITH_AS(TopicDirectory::fromPlans({planReading("store_timeline_events", "default", "kafka:9092"), json},
                                                   {"a.pb", "b.pb"}, {}),
                         doctest::Contains("topic `store_timeline_events` is typed twice, differently"), UserError);
    CHECK_THROWS_WITH_AS(TopicDirectory::fromPlans({planReading("a", "default", "kafka:9092"), planReading("b", "default", "other:9092")},
                                                   {"a.pb", "b.pb"}, {}),
                         doctest::Contains("cluster `default` has different settings in b.pb"), UserError);
    plan::Job missing = planReading("a", "default", "kafka:9092");
    missing.mutable_pipeline()->mutable_source()->set_message_type("com.example.Missing");
    CHECK_THROWS_WITH_AS(TopicDirectory::fromPlans({missing}, {"m.pb"}, {}),
                         doctest::Contains("message `com.example.Missing` is missing from the plan's descriptors"),
                         UserError);
    CHECK_THROWS_WITH_AS(TopicDirectory::fromPlans({planReading("a", "default", "kafka:9092")}, {"a.pb"}, {{"b", 1}}),
                         doctest::Contains("--confluent-topic `b`"), UserError);
}
