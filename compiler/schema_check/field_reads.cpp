#include "compiler/schema_check/field_reads.h"

#include <algorithm>
#include <map>

namespace pipec::schema_check {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

namespace {

/// The (message, field number) pairs from the root to the leaf of a column's field path, and the leaf's enum type.
std::vector<FieldKey> pathOf(const Descriptor* root, const plan::SourceColumn& column, std::string& enumType) {
    std::vector<FieldKey> path;
    const Descriptor* message = root;
    for (int number : column.field_path()) {
        if (!message) break;
        path.emplace_back(message->full_name(), number);
        const FieldDescriptor* field = message->FindFieldByNumber(number);
        if (!field) break;
        enumType = field->enum_type() ? field->enum_type()->full_name() : "";
        message = field->message_type();
    }
    return path;
}

} // namespace

JobReads fieldReads(const driver::CompiledJob& job, const catalog::Catalog& catalog) {
    JobReads result;
    const spec::KafkaSource& kafka = job.source.kafkaSources.front();
    result.job = job.source.name.value;
    result.specFile = job.specPath;
    result.rootMessage = job.pipeline.source().message_type();
    result.protoClassLocation = kafka.protoClass.location;
    result.json = job.pipeline.source().format() == "json";
    for (const auto& feature : job.features) result.features.push_back(feature.name);
    std::sort(result.features.begin(), result.features.end());

    const Descriptor* root = catalog.findMessage(result.rootMessage);
    if (!root) return result;
    catalog::MessageSchema schema = catalog::describeMessage(root);
    for (const auto& column : schema.columns) {
        std::string enumType;
        for (const auto& key : pathOf(root, column.source, enumType)) result.messageFields.insert(key);
    }

    // Outputs that are entity keys matter to every feature; a value output to the features that materialize it.
    std::map<std::string, std::vector<std::string>> featuresOfOutput;
    for (const auto& output : job.optimizedPlan.outputs) {
        if (output.isKey) {
            featuresOfOutput[output.name] = result.features;
            continue;
        }
        auto& names = featuresOfOutput[output.name];
        for (const auto& feature : job.features)
            if (feature.column == output.name) names.push_back(feature.name);
        std::sort(names.begin(), names.end());
    }
    auto addRead = [&](const std::string& columnName, const SourceLocation& location, const std::vector<std::string>& features) {
        const catalog::Column* column = schema.find(columnName);
        if (!column || features.empty()) return;
        for (const auto& existing : result.reads)
            if (existing.column == columnName && existing.location.file == location.file && existing.location.line == location.line &&
                existing.location.column == location.column && existing.features == features)
                return;  // the binder can meet one name twice (a GROUP BY key repeated in SELECT)
        FieldRead read;
        read.column = columnName;
        read.location = location;
        read.path = pathOf(root, column->source, read.enumType);
        read.features = features;
        result.reads.push_back(std::move(read));
    };
    if (kafka.timeField) addRead(kafka.timeField->value, kafka.timeField->location, result.features);
    // The topic's key: the field must stay, and keep its meaning, or the job loses its partitioning guarantee.
    if (kafka.keyField) addRead(kafka.keyField->value, kafka.keyField->location, result.features);
    for (const auto& reference : job.optimizedPlan.columnReferences)
        addRead(reference.column, reference.location, reference.output.empty() ? result.features : featuresOfOutput[reference.output]);
    return result;
}

} // namespace pipec::schema_check
