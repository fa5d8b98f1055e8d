#include "compiler/catalog/catalog.h"

#include <doctest/doctest.h>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace pipec;

namespace {

const std::string kProtos = std::string(PIPEC_SOURCE_DIR) + "/tests/unit/catalog/protos";

/// A catalog over one directory, with the diagnostics its loading produced.
struct LoadedCatalog {
    SourceManager sources;
    DiagnosticEngine diagnostics;
    std::unique_ptr<catalog::Catalog> catalog;

    explicit LoadedCatalog(const std::vector<std::string>& paths) { catalog = catalog::Catalog::load(paths, sources, diagnostics); }

    catalog::MessageSchema resolve(const std::string& name) {
        DiagnosticEngine resolveDiagnostics;
        auto schema = catalog->resolve(name, SourceLocation{}, resolveDiagnostics);
        REQUIRE_MESSAGE(schema, name);
        CHECK(resolveDiagnostics.all().empty());
        return *schema;
    }
};

std::vector<int> fieldPath(const catalog::Column& column) {
    return {column.source.field_path().begin(), column.source.field_path().end()};
}

const catalog::Column& column(const catalog::MessageSchema& schema, const std::string& name) {
    const catalog::Column* found = schema.find(name);
    REQUIRE_MESSAGE(found, name);
    return *found;
}

} // namespace

TEST_CASE("StoreTimelineEvent maps to typed SQL columns") {
    LoadedCatalog loaded({std::string(PIPEC_SOURCE_DIR) + "/schemas"});
    REQUIRE(loaded.diagnostics.all().empty());
    auto schema = loaded.resolve("com.doordash.timeline_events.StoreTimelineEvent");
    CHECK(schema.messageName == "com.doordash.timeline_events.StoreTimelineEvent");
    struct Expected {
        const char* name;
        plan::TypeId type;
        bool nullable;
        plan::FieldKind kind;
        std::vector<int> path;
        const char* protoType;
    };
    const Expected expected[] = {
        {"store_id", plan::BIGINT, false, plan::FIELD_INT64, {1}, "int64"},
        {"order_id", plan::VARCHAR, false, plan::FIELD_STRING, {2}, "string"},
        {"event_type", plan::VARCHAR, false, plan::FIELD_ENUM, {3}, "com.doordash.timeline_events.StoreTimelineEvent.EventType"},
        {"has_store_order_confirmed_data", plan::BOOLEAN, false, plan::FIELD_BOOL, {4}, "bool"},
        {"created_at", plan::TIMESTAMP, true, plan::FIELD_TIMESTAMP, {5}, "google.protobuf.Timestamp"},
        {"consumer_id", plan::BIGINT, false, plan::FIELD_INT64, {6}, "int64"},
        {"delivery_wait_seconds", plan::DOUBLE, true, plan::FIELD_DOUBLE, {7}, "double"},  // proto3 optional
        {"item_count", plan::INT, false, plan::FIELD_INT32, {8}, "int32"},
        {"subtotal_cents", plan::BIGINT, false, plan::FIELD_INT64, {9}, "int64"},
        {"store_location.latitude", plan::DOUBLE, true, plan::FIELD_DOUBLE, {10, 1}, "double"},
        {"store_location.longitude", plan::DOUBLE, true, plan::FIELD_DOUBLE, {10, 2}, "double"},
        {"store_location.region", plan::VARCHAR, true, plan::FIELD_STRING, {10, 3}, "string"},
        {"promo_code", plan::VARCHAR, true, plan::FIELD_WRAPPER, {11}, "google.protobuf.StringValue"},
        {"event_time_ms", plan::BIGINT, false, plan::FIELD_INT64, {12}, "int64"},
    };
    // Columns come in field-number order, depth first, and nothing else is a column.
    std::vector<std::string> expectedNames;
    for (const auto& e : expected) expectedNames.emplace_back(e.name);
    CHECK(schema.columnNames() == expectedNames);
    for (const auto& e : expected) {
        CAPTURE(e.name);
        const catalog::Column& c = column(schema, e.name);
        CHECK(c.type == e.type);
        CHECK(c.source.type() == e.type);
        CHECK(c.nullable == e.nullable);
        CHECK(c.source.has_presence() == e.nullable);
        CHECK(c.source.kind() == e.kind);
        CHECK(c.source.name() == e.name);
        CHECK(fieldPath(c) == e.path);
        CHECK(c.protoType == e.protoType);
    }
    CHECK(column(schema, "promo_code").source.wrapped_kind() == plan::FIELD_STRING);
    CHECK(column(schema, "store_id").source.wrapped_kind() == plan::FIELD_UNKNOWN);
    const auto& eventType = column(schema, "event_type").source;
    REQUIRE(eventType.enum_names_size() == 6);
    REQUIRE(eventType.enum_numbers_size() == 6);
    CHECK(eventType.enum_names(0) == "EVENT_TYPE_UNSPECIFIED");
    CHECK(eventType.enum_names(4) == "ORDER_DELIVERED");
    CHECK(eventType.enum_numbers(4) == 4);
    CHECK(column(schema, "store_location.region").source.json_name() == "storeLocation.region");
    CHECK(column(schema, "has_store_order_confirmed_data").source.json_name() == "hasStoreOrderConfirmedData");

    CHECK(schema.find("tags") == nullptr);
    REQUIRE(schema.unsupported.size() == 1);
    CHECK(schema.unsupported[0].name == "tags");
    CHECK(schema.unsupported[0].reason == "repeated fields are not supported yet");
    CHECK(schema.find("store_location") == nullptr);  // a message is not a column, its leaves are
    CHECK(schema.find("STORE_ID") == nullptr);
    REQUIRE(schema.findCaseInsensitive("Store_Location.REGION") != nullptr);
    CHECK(schema.findCaseInsensitive("Store_Location.REGION")->name == "store_location.region");
    CHECK(schema.findCaseInsensitive("store_locatio") == nullptr);
}

TEST_CASE("every scalar type maps to its SQL type and wire kind") {
    LoadedCatalog loaded({kProtos + "/valid"});
    REQUIRE(loaded.diagnostics.all().empty());
    auto schema = loaded.resolve("catalog_test.EveryType");
    struct Expected {
        const char* name;
        plan::TypeId type;
        plan::FieldKind kind;
    };
    const Expected expected[] = {
        {"f_int32", plan::INT, plan::FIELD_INT32},          {"f_int64", plan::BIGINT, plan::FIELD_INT64},
        {"f_uint32", plan::BIGINT, plan::FIELD_UINT32},     {"f_uint64", plan::BIGINT, plan::FIELD_UINT64},
        {"f_sint32", plan::INT, plan::FIELD_SINT32},        {"f_sint64", plan::BIGINT, plan::FIELD_SINT64},
        {"f_fixed32", plan::BIGINT, plan::FIELD_FIXED32},   {"f_fixed64", plan::BIGINT, plan::FIELD_FIXED64},
        {"f_sfixed32", plan::INT, plan::FIELD_SFIXED32},    {"f_sfixed64", plan::BIGINT, plan::FIELD_SFIXED64},
        {"f_float", plan::FLOAT, plan::FIELD_FLOAT},        {"f_double", plan::DOUBLE, plan::FIELD_DOUBLE},
        {"f_bool", plan::BOOLEAN, plan::FIELD_BOOL},        {"f_string", plan::VARCHAR, plan::FIELD_STRING},
        {"f_bytes", plan::BYTES, plan::FIELD_BYTES},        {"f_enum", plan::VARCHAR, plan::FIELD_ENUM},
        {"f_timestamp", plan::TIMESTAMP, plan::FIELD_TIMESTAMP},
    };
    for (const auto& e : expected) {
        CAPTURE(e.name);
        const catalog::Column& c = column(schema, e.name);
        CHECK(c.type == e.type);
        CHECK(c.source.kind() == e.kind);
        // proto3 scalars without `optional` have no presence; only the Timestamp message does.
        CHECK(c.nullable == (e.kind == plan::FIELD_TIMESTAMP));
    }
    const auto& color = column(schema, "f_enum").source;
    CHECK(std::vector<std::string>(color.enum_names().begin(), color.enum_names().end()) ==
          std::vector<std::string>{"COLOR_UNSPECIFIED", "RED", "GREEN"});
    CHECK(std::vector<int>(color.enum_numbers().begin(), color.enum_numbers().end()) == std::vector<int>{0, 1, 5});
    CHECK(column(schema, "f_enum").protoType == "catalog_test.Color");
    CHECK(column(schema, "f_int32").source.json_name() == "fInt32");

    // Presence: proto3 `optional` and oneof members are nullable.
    CHECK(column(schema, "f_optional").nullable);
    CHECK(column(schema, "choice_text").nullable);
    CHECK(column(schema, "choice_number").nullable);
    CHECK(column(schema, "choice_number").type == plan::INT);
}

TEST_CASE("wrappers read as their inner type, nullable") {
    LoadedCatalog loaded({kProtos + "/valid"});
    auto schema = loaded.resolve("catalog_test.EveryType");
    struct Expected {
        const char* name;
        plan::TypeId type;
        plan::FieldKind wrappedKind;
    };
    const Expected expected[] = {
        {"w_double", plan::DOUBLE, plan::FIELD_DOUBLE}, {"w_float", plan::FLOAT, plan::FIELD_FLOAT},
        {"w_int64", plan::BIGINT, plan::FIELD_INT64},   {"w_uint64", plan::BIGINT, plan::FIELD_UINT64},
        {"w_int32", plan::INT, plan::FIELD_INT32},      {"w_uint32", plan::BIGINT, plan::FIELD_UINT32},
        {"w_bool", plan::BOOLEAN, plan::FIELD_BOOL},    {"w_string", plan::VARCHAR, plan::FIELD_STRING},
        {"w_bytes", plan::BYTES, plan::FIELD_BYTES},
    };
    for (const auto& e : expected) {
        CAPTURE(e.name);
        const catalog::Column& c = column(schema, e.name);
        CHECK(c.type == e.type);
        CHECK(c.nullable);
        CHECK(c.source.has_presence());
        CHECK(c.source.kind() == plan::FIELD_WRAPPER);
        CHECK(c.source.wrapped_kind() == e.wrappedKind);
        CHECK(fieldPath(c).size() == 1);
    }
}

TEST_CASE("nested messages flatten into nullable dotted columns; unsupported fields say why") {
    LoadedCatalog loaded({kProtos + "/valid"});
    auto schema = loaded.resolve("catalog_test.EveryType");
    const catalog::Column& deep = column(schema, "inner.deeper.value");
    CHECK(deep.type == plan::BIGINT);
    CHECK(deep.nullable);  // an absent `inner` or `deeper` reads as NULL, not 0
    CHECK(fieldPath(deep) == std::vector<int>{30, 3, 1});
    CHECK(deep.source.json_name() == "inner.deeper.value");
    CHECK(column(schema, "inner.color").source.kind() == plan::FIELD_ENUM);
    CHECK(column(schema, "inner.color").nullable);

    // Order is field number, depth first: inner.* sits between w_bytes (29) and tree.* (37).
    auto names = schema.columnNames();
    auto position = [&](const std::string& name) { return std::find(names.begin(), names.end(), name) - names.begin(); };
    CHECK(position("w_bytes") + 1 == position("inner.label"));
    CHECK(position("inner.label") + 1 == position("inner.color"));
    CHECK(position("inner.color") + 1 == position("inner.deeper.value"));
    CHECK(position("inner.deeper.value") + 1 == position("tree.name"));

    auto reason = [&](const std::string& name) {
        const catalog::UnsupportedField* field = schema.findUnsupported(name);
        REQUIRE_MESSAGE(field, name);
        CHECK(schema.find(name) == nullptr);
        return field->reason;
    };
    CHECK(reason("f_duration") == "`google.protobuf.Duration` fields are not supported yet");
    CHECK(reason("f_any") == "`google.protobuf.Any` fields are not supported yet");
    CHECK(reason("f_struct") == "`google.protobuf.Struct` fields are not supported yet");
    CHECK(reason("f_map") == "map fields are not supported yet");
    CHECK(reason("f_repeated_message") == "repeated fields are not supported yet");
    CHECK(reason("f_repeated_scalar") == "repeated fields are not supported yet");
}

TEST_CASE("recursive messages stop at the nesting limit") {
    LoadedCatalog loaded({kProtos + "/valid"});
    auto schema = loaded.resolve("catalog_test.EveryType");
    std::string prefix = "tree.";
    int levels = 0;
    for (; schema.find(prefix + "name"); prefix += "child.") ++levels;
    CHECK(levels == catalog::kMaxNestingDepth);
    // `prefix` is now the first level that was cut: its message field is reported, not expanded.
    std::string cut = prefix.substr(0, prefix.size() - 1);
    const catalog::UnsupportedField* field = schema.findUnsupported(cut);
    REQUIRE_MESSAGE(field, cut);
    CHECK(field->reason.find("nested more than 8 messages deep") != std::string::npos);
    const catalog::Column& deepest = column(schema, "tree.child.child.child.child.child.child.child.name");
    CHECK(fieldPath(deepest) == std::vector<int>{37, 2, 2, 2, 2, 2, 2, 2, 1});

    // The recursive message resolved on its own is cut the same way, one level lower in the tree.
    auto tree = loaded.resolve("catalog_test.TreeNode");
    CHECK(tree.columns.size() == static_cast<size_t>(catalog::kMaxNestingDepth + 1));
    REQUIRE(tree.unsupported.size() == 1);
}

TEST_CASE("proto2: every singular field has presence; groups flatten") {
    LoadedCatalog loaded({kProtos + "/valid"});
    auto schema = loaded.resolve("catalog_test.legacy.LegacyOrder");
    for (const char* name : {"id", "name", "quantity", "status", "address.city", "address.zip", "extra.note"}) {
        CAPTURE(name);
        CHECK(column(schema, name).nullable);
        CHECK(column(schema, name).source.has_presence());
    }
    CHECK(column(schema, "quantity").type == plan::INT);
    CHECK(column(schema, "status").source.enum_names(1) == "SHIPPED");
    CHECK(column(schema, "status").source.enum_numbers(1) == 2);
    CHECK(fieldPath(column(schema, "extra.note")) == std::vector<int>{7, 8});
    CHECK(fieldPath(column(schema, "address.zip")) == std::vector<int>{5, 2});
    REQUIRE(schema.findUnsupported("notes"));
    CHECK(schema.findUnsupported("notes")->reason == "repeated fields are not supported yet");
}

TEST_CASE("the descriptor set rebuilds the message without the .proto files") {
    LoadedCatalog loaded({kProtos + "/valid"});
    auto schema = loaded.resolve("catalog_test.WrapperEvent");
    std::vector<std::string> files;
    for (const auto& file : schema.descriptorSet.file()) files.push_back(file.name());
    // Dependency order: every file after the files it imports, each once.
    auto position = [&](const std::string& name) { return std::find(files.begin(), files.end(), name) - files.begin(); };
    CHECK(files.back() == "catalog_test/wrapper_event.proto");
    CHECK(position("catalog_test/every_type.proto") < position("catalog_test/wrapper_event.proto"));
    CHECK(position("google/protobuf/timestamp.proto") < position("catalog_test/every_type.proto"));
    CHECK(position("google/protobuf/wrappers.proto") < position("catalog_test/every_type.proto"));
    CHECK(std::find(files.begin(), files.end(), "catalog_test/legacy.proto") == files.end());  // not imported
    CHECK(static_cast<size_t>(std::count(files.begin(), files.end(), "catalog_test/every_type.proto")) == 1);

    // Through bytes, as the plan carries it.
    google::protobuf::FileDescriptorSet copy;
    REQUIRE(copy.ParseFromString(schema.descriptorSet.SerializeAsString()));
    google::protobuf::DescriptorPool pool;
    for (const auto& file : copy.file()) REQUIRE_MESSAGE(pool.BuildFile(file), file.name());
    const google::protobuf::Descriptor* message = pool.FindMessageTypeByName("catalog_test.WrapperEvent");
    REQUIRE(message);
    REQUIRE(message->FindFieldByName("inner"));
    CHECK(message->FindFieldByName("inner")->message_type()->full_name() == "catalog_test.Inner");

    // A payload written with the rebuilt pool decodes along the catalog's field path.
    google::protobuf::DynamicMessageFactory factory(&pool);
    std::unique_ptr<google::protobuf::Message> event(factory.GetPrototype(message)->New());
    const auto* reflection = event->GetReflection();
    google::protobuf::Message* inner = reflection->MutableMessage(event.get(), message->FindFieldByName("inner"));
    inner->GetReflection()->SetString(inner, inner->GetDescriptor()->FindFieldByNumber(fieldPath(column(schema, "inner.label"))[1]), "hello");
    std::string bytes = event->SerializeAsString();
    std::unique_ptr<google::protobuf::Message> decoded(factory.GetPrototype(message)->New());
    REQUIRE(decoded->ParseFromString(bytes));
    CHECK(decoded->DebugString().find("hello") != std::string::npos);
}

TEST_CASE("errors in .proto files point into the file; valid files still load") {
    LoadedCatalog loaded({kProtos + "/broken"});
    REQUIRE(loaded.diagnostics.hasErrors());
    auto diagnosticIn = [&](const std::string& file) -> const Diagnostic* {
        for (const auto& diagnostic : loaded.diagnostics.all())
            if (diagnostic.location.file.size() >= file.size() &&
                diagnostic.location.file.compare(diagnostic.location.file.size() - file.size(), file.size(), file) == 0)
                return &diagnostic;
        return nullptr;
    };
    for (const auto& diagnostic : loaded.diagnostics.all()) {
        CAPTURE(diagnostic.message);
        CHECK(diagnostic.code == "E0201");
        CHECK(diagnostic.location.file.rfind(kProtos + "/broken/", 0) == 0);  // the file on disk, not the import path
    }

    const Diagnostic* syntax = diagnosticIn("broken/syntax_error.proto");
    REQUIRE(syntax);
    CHECK(syntax->location.line == 7);  // the `}` after the missing `;`
    CHECK(syntax->location.column == 1);
    CHECK(syntax->message.find("Expected \";\"") != std::string::npos);
    // The text was registered, so the diagnostic renders with its snippet.
    std::string rendered = renderText(*syntax, loaded.sources);
    CHECK(rendered.find("error[E0201]") != std::string::npos);
    CHECK(rendered.find("syntax_error.proto:7:1") != std::string::npos);
    CHECK(rendered.find("7 | }") != std::string::npos);

    const Diagnostic* missing = diagnosticIn("broken/missing_import.proto");
    REQUIRE(missing);
    CHECK(missing->location.line == 5);
    CHECK(missing->location.column == 1);
    CHECK(missing->location.length == static_cast<int>(std::string("import \"does/not/exist.proto\";").size()));
    CHECK(missing->message.find("does/not/exist.proto") != std::string::npos);

    const Diagnostic* unknownType = diagnosticIn("broken/unknown_type.proto");
    REQUIRE(unknownType);
    CHECK(unknownType->location.line == 7);
    CHECK(unknownType->location.column == 3);
    CHECK(unknownType->location.length == 9);  // the caret spans `Undefined`
    CHECK(unknownType->message.find("Undefined") != std::string::npos);

    CHECK(loaded.catalog->findMessage("broken.StillFine") != nullptr);
    CHECK(loaded.catalog->findMessage("broken.Broken") == nullptr);
    auto names = loaded.catalog->messageNames();
    CHECK(std::find(names.begin(), names.end(), "broken.StillFine") != names.end());
}

TEST_CASE("unknown messages suggest the closest name") {
    LoadedCatalog loaded({kProtos + "/valid", std::string(PIPEC_SOURCE_DIR) + "/schemas"});
    REQUIRE(loaded.diagnostics.all().empty());
    auto labelFor = [&](const std::string& name) {
        DiagnosticEngine diagnostics;
        CHECK_FALSE(loaded.catalog->resolve(name, SourceLocation{"spec.yaml", 3, 5, 6}, diagnostics));
        REQUIRE(diagnostics.all().size() == 1);
        const Diagnostic& diagnostic = diagnostics.all()[0];
        CHECK(diagnostic.code == "E0202");
        CHECK(diagnostic.message == "unknown Protobuf message `" + name + "`");
        CHECK(diagnostic.location.file == "spec.yaml");
        CHECK(diagnostic.location.line == 3);
        CHECK(diagnostic.location.column == 5);
        CHECK_FALSE(diagnostic.help.empty());
        return diagnostic.label;
    };
    CHECK(labelFor("catalog_test.EveryTyp") == "did you mean `catalog_test.EveryType`?");
    CHECK(labelFor("StoreTimelineEvent") == "did you mean `com.doordash.timeline_events.StoreTimelineEvent`?");
    CHECK(labelFor("com.doordash.StoreTimelineEvnt") == "did you mean `com.doordash.timeline_events.StoreTimelineEvent`?");
    CHECK(labelFor("zzzz.Qqqqqqqqqqqqqqqqq").rfind("not found in the ", 0) == 0);

    // A leading dot is the fully qualified spelling and resolves.
    DiagnosticEngine diagnostics;
    CHECK(loaded.catalog->resolve(".catalog_test.EveryType", SourceLocation{}, diagnostics));
    CHECK(diagnostics.all().empty());

    // Map entries are an implementation detail of map fields, not messages a user can name.
    auto names = loaded.catalog->messageNames();
    CHECK(std::is_sorted(names.begin(), names.end()));
    CHECK(std::find(names.begin(), names.end(), "catalog_test.legacy.LegacyOrder.Address") != names.end());
    CHECK(std::find(names.begin(), names.end(), "catalog_test.EveryType.FMapEntry") == names.end());
    CHECK(loaded.catalog->findMessage("catalog_test.EveryType") != nullptr);
}

TEST_CASE("a proto path that is not a directory is reported") {
    LoadedCatalog loaded({kProtos + "/no-such-directory", kProtos + "/valid"});
    REQUIRE(loaded.diagnostics.all().size() == 1);
    CHECK(loaded.diagnostics.all()[0].code == "E0001");
    CHECK(loaded.diagnostics.all()[0].message.find("no-such-directory") != std::string::npos);
    CHECK(loaded.catalog->findMessage("catalog_test.EveryType") != nullptr);  // the other path still loads
}

TEST_CASE("type names print as SQL") {
    CHECK(catalog::typeName(plan::BOOLEAN) == "BOOLEAN");
    CHECK(catalog::typeName(plan::INT) == "INT");
    CHECK(catalog::typeName(plan::BIGINT) == "BIGINT");
    CHECK(catalog::typeName(plan::FLOAT) == "FLOAT");
    CHECK(catalog::typeName(plan::DOUBLE) == "DOUBLE");
    CHECK(catalog::typeName(plan::VARCHAR) == "VARCHAR");
    CHECK(catalog::typeName(plan::BYTES) == "BYTES");
    CHECK(catalog::typeName(plan::TIMESTAMP) == "TIMESTAMP(3)");
    CHECK(catalog::typeName(plan::INTERVAL) == "INTERVAL");
    CHECK(catalog::typeName(plan::TYPE_NULL) == "NULL");
}
