#include "compiler/catalog/catalog.h"

#include <doctest/doctest.h>

#include <google/protobuf/descriptor.h>

#include <filesystem>
#include <fstream>

using namespace pipec;

TEST_CASE("StoreTimelineEvent maps to typed SQL columns") {
    SourceManager sources;
    DiagnosticEngine diagnostics;
    auto catalog = catalog::Catalog::load({std::string(PIPEC_SOURCE_DIR) + "/schemas"}, sources, diagnostics);
    REQUIRE(catalog);
    REQUIRE(diagnostics.all().empty());
    auto schema = catalog->resolve("com.doordash.timeline_events.StoreTimelineEvent", SourceLocation{}, diagnostics);
    REQUIRE(schema);
    struct Expected {
        const char* name;
        plan::TypeId type;
        bool nullable;
        plan::FieldKind kind;
        std::vector<int> path;
    };
    const Expected expected[] = {
        {"store_id", plan::BIGINT, false, plan::FIELD_INT64, {1}},
        {"order_id", plan::VARCHAR, false, plan::FIELD_STRING, {2}},
        {"event_type", plan::VARCHAR, false, plan::FIELD_ENUM, {3}},
        {"has_store_order_confirmed_data", plan::BOOLEAN, false, plan::FIELD_BOOL, {4}},
        {"created_at", plan::TIMESTAMP, true, plan::FIELD_TIMESTAMP, {5}},
        {"delivery_wait_seconds", plan::DOUBLE, true, plan::FIELD_DOUBLE, {7}},  // proto3 optional
        {"item_count", plan::INT, false, plan::FIELD_INT32, {8}},
        {"store_location.region", plan::VARCHAR, true, plan::FIELD_STRING, {10, 3}},
        {"promo_code", plan::VARCHAR, true, plan::FIELD_WRAPPER, {11}},
    };
    for (const auto& e : expected) {
        CAPTURE(e.name);
        const catalog::Column* column = schema->find(e.name);
        REQUIRE(column);
        CHECK(column->type == e.type);
        CHECK(column->nullable == e.nullable);
        CHECK(column->source.kind() == e.kind);
        CHECK(std::vector<int>(column->source.field_path().begin(), column->source.field_path().end()) == e.path);
    }
    CHECK(schema->find("promo_code")->source.wrapped_kind() == plan::FIELD_STRING);
    const catalog::Column* eventType = schema->find("event_type");
    CHECK(eventType->source.enum_names(1) == "ORDER_CREATED");
    CHECK(schema->find("store_location.region")->source.json_name() == "storeLocation.region");
    REQUIRE(schema->find("tags") == nullptr);
    bool tagsUnsupported = false;
    for (const auto& field : schema->unsupported) tagsUnsupported = tagsUnsupported || (field.name == "tags" && field.reason.find("repeated") != std::string::npos);
    CHECK(tagsUnsupported);
    CHECK(schema->findCaseInsensitive("STORE_ID") != nullptr);

    // The descriptor set rebuilds the message without the .proto files.
    google::protobuf::DescriptorPool pool;
    for (const auto& file : schema->descriptorSet.file()) REQUIRE(pool.BuildFile(file));
    CHECK(pool.FindMessageTypeByName("com.doordash.timeline_events.StoreTimelineEvent") != nullptr);
}

TEST_CASE("unknown messages suggest the closest name; proto errors point into the .proto file") {
    namespace fs = std::filesystem;
    fs::path root = fs::temp_directory_path() / "pipec-catalog-test";
    fs::remove_all(root);
    fs::create_directories(root);
    std::ofstream(root / "good.proto") << "syntax = \"proto2\";\npackage x;\nmessage Order { optional int64 id = 1; required string name = 2; }\n";
    std::ofstream(root / "bad.proto") << "syntax = \"proto3\";\npackage y;\nmessage Broken {\n  int64 id = 1\n}\n";
    SourceManager sources;
    DiagnosticEngine diagnostics;
    auto catalog = catalog::Catalog::load({root.string()}, sources, diagnostics);
    REQUIRE(catalog);
    REQUIRE(diagnostics.hasErrors());
    CHECK(diagnostics.all()[0].code == "E0201");
    CHECK(diagnostics.all()[0].location.file.find("bad.proto") != std::string::npos);
    CHECK(diagnostics.all()[0].location.line == 5);

    DiagnosticEngine resolve;
    auto order = catalog->resolve("x.Order", SourceLocation{}, resolve);
    REQUIRE(order);
    CHECK(order->find("id")->nullable);         // proto2 optional has presence
    CHECK(order->find("name")->nullable);       // so does proto2 required
    CHECK_FALSE(catalog->resolve("x.Ordr", SourceLocation{"s.yaml", 3, 5, 6}, resolve));
    REQUIRE(resolve.all().size() == 1);
    CHECK(resolve.all()[0].code == "E0202");
    CHECK(resolve.all()[0].label == "did you mean `x.Order`?");
    fs::remove_all(root);
}
