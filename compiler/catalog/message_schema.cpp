#include "compiler/catalog/message_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace pipec::catalog {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;

namespace {

bool equalsIgnoringCase(std::string_view left, std::string_view right) {
    return left.size() == right.size() && std::equal(left.begin(), left.end(), right.begin(), [](unsigned char a, unsigned char b) {
               return std::tolower(a) == std::tolower(b);
           });
}

/// Where the walk stands inside the root message: the SQL and JSON name prefixes, the field numbers so far, and
/// whether an enclosing message field may be absent (which makes every leaf below it nullable).
struct FieldScope {
    std::string prefix;
    std::string jsonPrefix;
    std::vector<int> path;
    bool insideOptionalMessage = false;
    int depth = 0;
};

/// Walks a message depth first in field-number order, flattening nested messages into `a.b` columns.
class SchemaBuilder {
public:
    explicit SchemaBuilder(MessageSchema& schema) : schema_(schema) {}

    void addMessage(const Descriptor* message, const FieldScope& scope) {
        std::vector<const FieldDescriptor*> fields;
        for (int i = 0; i < message->field_count(); ++i) fields.push_back(message->field(i));
        std::sort(fields.begin(), fields.end(), [](const FieldDescriptor* a, const FieldDescriptor* b) { return a->number() < b->number(); });
        for (const FieldDescriptor* field : fields) addField(field, scope);
    }

private:
    void addField(const FieldDescriptor* field, const FieldScope& scope) {
        FieldScope inner{scope.prefix + field->name() + ".", scope.jsonPrefix + field->json_name() + ".", scope.path,
                         true, scope.depth + 1};
        inner.path.push_back(field->number());
        std::string name = scope.prefix + field->name();
        if (field->is_map()) return unsupported(name, "map fields are not supported yet");
        if (field->is_repeated()) return unsupported(name, "repeated fields are not supported yet");

        const bool isMessage = field->type() == FieldDescriptor::TYPE_MESSAGE || field->type() == FieldDescriptor::TYPE_GROUP;
        if (!isMessage) {
            auto type = scalarColumnType(field);
            if (!type) return unsupported(name, fmt::format("fields of type {} are not supported", field->type_name()));
            return addColumn(field, scope, inner, *type, scope.insideOptionalMessage || field->has_presence());
        }
        const Descriptor* child = field->message_type();
        // Timestamp and the wrappers are single values; an absent one is NULL whatever the syntax.
        if (auto type = wellKnownColumnType(child)) return addColumn(field, scope, inner, *type, true);
        if (child->file()->package() == "google.protobuf")
            return unsupported(name, fmt::format("`{}` fields are not supported yet", child->full_name()));
        if (inner.depth > kMaxNestingDepth)
            return unsupported(name, fmt::format("nested more than {} messages deep (a recursive message?)", kMaxNestingDepth));
        addMessage(child, inner);
    }

    void addColumn(const FieldDescriptor* field, const FieldScope& scope, const FieldScope& inner, const ColumnType& type,
                   bool nullable) {
        Column column;
        column.name = scope.prefix + field->name();
        column.type = type.type;
        column.nullable = nullable;
        column.protoType = field->message_type() ? field->message_type()->full_name()
                           : field->enum_type()  ? field->enum_type()->full_name()
                                                 : field->type_name();
        plan::SourceColumn& source = column.source;
        source.set_name(column.name);
        for (int number : inner.path) source.add_field_path(number);
        source.set_type(type.type);
        source.set_kind(type.kind);
        source.set_wrapped_kind(type.wrappedKind);
        source.set_has_presence(nullable);
        source.set_json_name(scope.jsonPrefix + field->json_name());
        if (type.kind == plan::FIELD_ENUM) {
            const auto* enumType = field->enum_type();
            for (int i = 0; i < enumType->value_count(); ++i) {
                source.add_enum_names(enumType->value(i)->name());
                source.add_enum_numbers(enumType->value(i)->number());
            }
        }
        schema_.columns.push_back(std::move(column));
    }

    void unsupported(std::string name, std::string reason) { schema_.unsupported.push_back({std::move(name), std::move(reason)}); }

    MessageSchema& schema_;
};

/// Adds `file` after everything it imports, so each file of the set can be built in order.
void collectFiles(const FileDescriptor* file, std::set<std::string>& seen, google::protobuf::FileDescriptorSet& set) {
    if (!seen.insert(file->name()).second) return;
    for (int i = 0; i < file->dependency_count(); ++i) collectFiles(file->dependency(i), seen, set);
    file->CopyTo(set.add_file());
}

} // namespace

MessageSchema describeMessage(const Descriptor* descriptor) {
    MessageSchema schema;
    schema.messageName = descriptor->full_name();
    SchemaBuilder(schema).addMessage(descriptor, FieldScope{});
    std::set<std::string> seen;
    collectFiles(descriptor->file(), seen, schema.descriptorSet);
    return schema;
}

const Column* MessageSchema::find(std::string_view name) const {
    for (const auto& column : columns)
        if (column.name == name) return &column;
    return nullptr;
}

const Column* MessageSchema::findCaseInsensitive(std::string_view name) const {
    for (const auto& column : columns)
        if (equalsIgnoringCase(column.name, name)) return &column;
    return nullptr;
}

const UnsupportedField* MessageSchema::findUnsupported(std::string_view name) const {
    for (const auto& field : unsupported)
        if (field.name == name) return &field;
    return nullptr;
}

std::vector<std::string> MessageSchema::columnNames() const {
    std::vector<std::string> names;
    names.reserve(columns.size());
    for (const auto& column : columns) names.push_back(column.name);
    return names;
}

} // namespace pipec::catalog
