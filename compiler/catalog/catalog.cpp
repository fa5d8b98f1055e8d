#include "compiler/catalog/catalog.h"

#include <fmt/format.h>
#include <google/protobuf/compiler/importer.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace pipec::catalog {

namespace fs = std::filesystem;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;

namespace {

/// Collects .proto parse/import errors as diagnostics located in the .proto file.
class ProtoErrorCollector : public google::protobuf::compiler::MultiFileErrorCollector {
public:
    ProtoErrorCollector(DiagnosticEngine& diagnostics, std::vector<std::pair<std::string, std::string>>& virtualToDisk)
        : diagnostics_(diagnostics), virtualToDisk_(virtualToDisk) {}

    void AddError(const std::string& filename, int line, int column, const std::string& message) override {
        diagnostics_.error("E0201", SourceLocation{diskPath(filename), line + 1, column + 1, 1},
                           fmt::format("in .proto file: {}", message));
    }
    void AddWarning(const std::string&, int, int, const std::string&) override {}

private:
    std::string diskPath(const std::string& virtualPath) const {
        for (const auto& [name, disk] : virtualToDisk_)
            if (name == virtualPath) return disk;
        return virtualPath;
    }
    DiagnosticEngine& diagnostics_;
    std::vector<std::pair<std::string, std::string>>& virtualToDisk_;
};

std::string lower(std::string_view text) {
    std::string result(text);
    std::transform(result.begin(), result.end(), result.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return result;
}

struct Leaf {
    plan::TypeId type;
    plan::FieldKind kind;
};

std::optional<Leaf> scalarLeaf(const FieldDescriptor* field) {
    switch (field->type()) {
    case FieldDescriptor::TYPE_INT32: return Leaf{plan::INT, plan::FIELD_INT32};
    case FieldDescriptor::TYPE_SINT32: return Leaf{plan::INT, plan::FIELD_SINT32};
    case FieldDescriptor::TYPE_SFIXED32: return Leaf{plan::INT, plan::FIELD_SFIXED32};
    case FieldDescriptor::TYPE_INT64: return Leaf{plan::BIGINT, plan::FIELD_INT64};
    case FieldDescriptor::TYPE_SINT64: return Leaf{plan::BIGINT, plan::FIELD_SINT64};
    case FieldDescriptor::TYPE_SFIXED64: return Leaf{plan::BIGINT, plan::FIELD_SFIXED64};
    case FieldDescriptor::TYPE_UINT32: return Leaf{plan::BIGINT, plan::FIELD_UINT32};
    case FieldDescriptor::TYPE_FIXED32: return Leaf{plan::BIGINT, plan::FIELD_FIXED32};
    case FieldDescriptor::TYPE_UINT64: return Leaf{plan::BIGINT, plan::FIELD_UINT64};
    case FieldDescriptor::TYPE_FIXED64: return Leaf{plan::BIGINT, plan::FIELD_FIXED64};
    case FieldDescriptor::TYPE_FLOAT: return Leaf{plan::FLOAT, plan::FIELD_FLOAT};
    case FieldDescriptor::TYPE_DOUBLE: return Leaf{plan::DOUBLE, plan::FIELD_DOUBLE};
    case FieldDescriptor::TYPE_BOOL: return Leaf{plan::BOOLEAN, plan::FIELD_BOOL};
    case FieldDescriptor::TYPE_STRING: return Leaf{plan::VARCHAR, plan::FIELD_STRING};
    case FieldDescriptor::TYPE_BYTES: return Leaf{plan::BYTES, plan::FIELD_BYTES};
    case FieldDescriptor::TYPE_ENUM: return Leaf{plan::VARCHAR, plan::FIELD_ENUM};
    default: return std::nullopt;
    }
}

bool isWrapper(const Descriptor* message) {
    static const std::set<std::string> kWrappers = {
        "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
        "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue"};
    return kWrappers.count(message->full_name()) > 0;
}

class SchemaBuilder {
public:
    explicit SchemaBuilder(MessageSchema& schema) : schema_(schema) {}

    void addMessage(const Descriptor* message, const std::string& prefix, const std::string& jsonPrefix,
                    std::vector<int> path, bool parentNullable, int depth) {
        std::vector<const FieldDescriptor*> fields;
        for (int i = 0; i < message->field_count(); ++i) fields.push_back(message->field(i));
        std::sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return a->number() < b->number(); });
        for (const FieldDescriptor* field : fields) {
            std::string name = prefix + field->name();
            std::string jsonName = jsonPrefix + field->json_name();
            std::vector<int> fieldPath = path;
            fieldPath.push_back(field->number());
            if (field->is_map()) {
                schema_.unsupported.push_back({name, "map fields are not supported yet"});
                continue;
            }
            if (field->is_repeated()) {
                schema_.unsupported.push_back({name, "repeated fields are not supported yet"});
                continue;
            }
            bool nullable = parentNullable || field->has_presence();
            if (field->type() == FieldDescriptor::TYPE_MESSAGE || field->type() == FieldDescriptor::TYPE_GROUP) {
                const Descriptor* child = field->message_type();
                if (child->full_name() == "google.protobuf.Timestamp") {
                    addColumn(name, jsonName, fieldPath, plan::TIMESTAMP, plan::FIELD_TIMESTAMP, plan::FIELD_UNKNOWN, true, field);
                } else if (isWrapper(child)) {
                    auto leaf = scalarLeaf(child->FindFieldByNumber(1));
                    addColumn(name, jsonName, fieldPath, leaf->type, plan::FIELD_WRAPPER, leaf->kind, true, field);
                } else if (child->full_name().rfind("google.protobuf.", 0) == 0) {
                    schema_.unsupported.push_back({name, fmt::format("`{}` fields are not supported yet", child->full_name())});
                } else if (depth >= 8) {
                    schema_.unsupported.push_back({name, "nested more than 8 messages deep"});
                } else {
                    addMessage(child, name + ".", jsonName + ".", fieldPath, true, depth + 1);
                }
                continue;
            }
            auto leaf = scalarLeaf(field);
            if (!leaf) {
                schema_.unsupported.push_back({name, "unsupported field type"});
                continue;
            }
            addColumn(name, jsonName, fieldPath, leaf->type, leaf->kind, plan::FIELD_UNKNOWN, nullable, field);
        }
    }

private:
    void addColumn(const std::string& name, const std::string& jsonName, const std::vector<int>& path, plan::TypeId type,
                   plan::FieldKind kind, plan::FieldKind wrappedKind, bool nullable, const FieldDescriptor* field) {
        Column column;
        column.name = name;
        column.type = type;
        column.nullable = nullable;
        column.protoType = field->type() == FieldDescriptor::TYPE_MESSAGE ? field->message_type()->full_name()
                           : field->type() == FieldDescriptor::TYPE_ENUM  ? field->enum_type()->full_name()
                                                                           : field->type_name();
        plan::SourceColumn& source = column.source;
        source.set_name(name);
        for (int number : path) source.add_field_path(number);
        source.set_type(type);
        source.set_kind(kind);
        source.set_wrapped_kind(wrappedKind);
        source.set_has_presence(nullable);
        source.set_json_name(jsonName);
        if (kind == plan::FIELD_ENUM) {
            const auto* enumType = field->enum_type();
            for (int i = 0; i < enumType->value_count(); ++i) {
                source.add_enum_names(enumType->value(i)->name());
                source.add_enum_numbers(enumType->value(i)->number());
            }
        }
        schema_.columns.push_back(std::move(column));
    }

    MessageSchema& schema_;
};

void collectFiles(const FileDescriptor* file, std::set<std::string>& seen, google::protobuf::FileDescriptorSet& set) {
    if (!seen.insert(file->name()).second) return;
    for (int i = 0; i < file->dependency_count(); ++i) collectFiles(file->dependency(i), seen, set);
    file->CopyTo(set.add_file());
}

} // namespace

struct Catalog::State {
    google::protobuf::compiler::DiskSourceTree sourceTree;
    std::vector<std::pair<std::string, std::string>> virtualToDisk;
    std::unique_ptr<ProtoErrorCollector> errors;
    std::unique_ptr<google::protobuf::compiler::Importer> importer;
    std::vector<const FileDescriptor*> files;
};

Catalog::Catalog(std::unique_ptr<State> state) : state_(std::move(state)) {}
Catalog::~Catalog() = default;

std::unique_ptr<Catalog> Catalog::load(const std::vector<std::string>& protoPaths, SourceManager& sources, DiagnosticEngine& diagnostics) {
    auto state = std::make_unique<State>();
    state->errors = std::make_unique<ProtoErrorCollector>(diagnostics, state->virtualToDisk);
    // The well-known types (timestamp.proto, wrappers.proto) come from the protobuf installation.
    state->sourceTree.MapPath("google/protobuf", std::string(PIPEC_PROTOBUF_INCLUDE_DIR) + "/google/protobuf");
    std::vector<std::string> virtualPaths;
    for (const auto& root : protoPaths) {
        std::error_code error;
        if (!fs::is_directory(root, error)) {
            diagnostics.error("E0001", SourceLocation{root, 0, 0, 1}, fmt::format("proto path `{}` is not a directory", root));
            continue;
        }
        state->sourceTree.MapPath("", root);
        std::vector<fs::path> found;
        for (auto it = fs::recursive_directory_iterator(root, error); !error && it != fs::recursive_directory_iterator(); it.increment(error))
            if (it->is_regular_file() && it->path().extension() == ".proto") found.push_back(it->path());
        std::sort(found.begin(), found.end());
        for (const auto& path : found) {
            std::string virtualPath = fs::relative(path, root).generic_string();
            state->virtualToDisk.emplace_back(virtualPath, path.string());
            virtualPaths.push_back(virtualPath);
            std::ifstream in(path);
            std::stringstream text;
            text << in.rdbuf();
            sources.addFile(path.string(), text.str());
        }
    }
    state->importer = std::make_unique<google::protobuf::compiler::Importer>(&state->sourceTree, state->errors.get());
    for (const auto& virtualPath : virtualPaths) {
        if (const FileDescriptor* file = state->importer->Import(virtualPath)) state->files.push_back(file);
    }
    return std::unique_ptr<Catalog>(new Catalog(std::move(state)));
}

const Descriptor* Catalog::findMessage(std::string_view fullName) const {
    return state_->importer->pool()->FindMessageTypeByName(std::string(fullName));
}

std::vector<std::string> Catalog::messageNames() const {
    std::vector<std::string> names;
    std::function<void(const Descriptor*)> add = [&](const Descriptor* message) {
        names.push_back(message->full_name());
        for (int i = 0; i < message->nested_type_count(); ++i) add(message->nested_type(i));
    };
    for (const FileDescriptor* file : state_->files)
        for (int i = 0; i < file->message_type_count(); ++i) add(file->message_type(i));
    std::sort(names.begin(), names.end());
    return names;
}

std::optional<MessageSchema> Catalog::resolve(std::string_view protoClass, const SourceLocation& location, DiagnosticEngine& diagnostics) const {
    const Descriptor* descriptor = findMessage(protoClass);
    if (!descriptor) {
        auto& d = diagnostics.error("E0202", location, fmt::format("unknown Protobuf message `{}`", protoClass));
        auto names = messageNames();
        std::string suggestion = closestMatch(protoClass, names);
        if (suggestion.empty()) {
            // Also try the short name, for a message written without (or with the wrong) package.
            std::string shortName(protoClass.substr(protoClass.rfind('.') == std::string_view::npos ? 0 : protoClass.rfind('.') + 1));
            for (const auto& name : names)
                if (name.size() >= shortName.size() && name.compare(name.size() - shortName.size(), shortName.size(), shortName) == 0)
                    suggestion = name;
        }
        d.label = suggestion.empty() ? fmt::format("not found in the {} loaded .proto files", state_->files.size())
                                     : fmt::format("did you mean `{}`?", suggestion);
        d.help = "proto_class is the fully qualified message name (package + message); .proto files load from schemas/ and --proto-path";
        return std::nullopt;
    }
    return describeMessage(descriptor);
}

MessageSchema describeMessage(const Descriptor* descriptor) {
    MessageSchema schema;
    schema.messageName = descriptor->full_name();
    SchemaBuilder(schema).addMessage(descriptor, "", "", {}, false, 0);
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
        if (lower(column.name) == lower(name)) return &column;
    return nullptr;
}

std::vector<std::string> MessageSchema::columnNames() const {
    std::vector<std::string> names;
    for (const auto& column : columns) names.push_back(column.name);
    return names;
}

} // namespace pipec::catalog
