// The wire-format decoder against messages built with protobuf's own reflection, and against mutated bytes.
#include "compiler/catalog/catalog.h"
#include "runtime/formats/record_decoder.h"
#include "runtime/sinks/json_lines_sink.h"

#include <doctest/doctest.h>

#include <limits>
#include <optional>

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/timestamp.pb.h>

#include <random>

using namespace pipec;
using namespace pipec::runtime;

namespace {

struct Fixture {
    SourceManager sources;
    DiagnosticEngine diagnostics;
    std::unique_ptr<catalog::Catalog> catalog;
    std::optional<catalog::MessageSchema> schema;
    plan::Source source;
    google::protobuf::DescriptorPool pool;
    const google::protobuf::Descriptor* descriptor = nullptr;
    std::unique_ptr<google::protobuf::DynamicMessageFactory> factory;

    explicit Fixture(const std::string& timeField = "") {
        catalog = catalog::Catalog::load({std::string(PIPEC_SOURCE_DIR) + "/schemas"}, sources, diagnostics);
        schema = catalog->resolve("com.doordash.timeline_events.StoreTimelineEvent", SourceLocation{}, diagnostics);
        REQUIRE(schema);
        source.set_message_type(schema->messageName);
        *source.mutable_descriptors() = schema->descriptorSet;
        auto* time = source.add_columns();
        time->set_name("_time");
        time->set_type(plan::TIMESTAMP);
        for (const auto& column : schema->columns) {
            *source.add_columns() = column.source;
            if (column.name == timeField) source.set_time_column(source.columns_size() - 1);
        }
        for (const auto& file : schema->descriptorSet.file()) pool.BuildFile(file);
        descriptor = pool.FindMessageTypeByName(schema->messageName);
        factory = std::make_unique<google::protobuf::DynamicMessageFactory>(&pool);
    }
    std::unique_ptr<google::protobuf::Message> message() { return std::unique_ptr<google::protobuf::Message>(factory->GetPrototype(descriptor)->New()); }
    int column(const std::string& name) const {
        for (int i = 0; i < source.columns_size(); ++i)
            if (source.columns(i).name() == name) return i;
        FAIL("no column " << name);
        return -1;
    }
};

} // namespace

TEST_CASE("binary decode reads every column kind with presence rules") {
    Fixture fixture;
    auto message = fixture.message();
    const auto* reflection = message->GetReflection();
    auto field = [&](const char* name) { return fixture.descriptor->FindFieldByName(name); };
    reflection->SetInt64(message.get(), field("store_id"), 101);
    reflection->SetString(message.get(), field("order_id"), "o-1");
    reflection->SetEnumValue(message.get(), field("event_type"), 4);
    reflection->SetBool(message.get(), field("has_store_order_confirmed_data"), true);
    auto* created = reflection->MutableMessage(message.get(), field("created_at"));
    created->GetReflection()->SetInt64(created, created->GetDescriptor()->FindFieldByName("seconds"), 1767225600);
    created->GetReflection()->SetInt32(created, created->GetDescriptor()->FindFieldByName("nanos"), 250'000'000);
    reflection->SetInt32(message.get(), field("item_count"), -3);
    auto* location = reflection->MutableMessage(message.get(), field("store_location"));
    location->GetReflection()->SetString(location, location->GetDescriptor()->FindFieldByName("region"), "west");
    std::string bytes = message->SerializeAsString();

    RecordDecoder decoder(fixture.source);
    Row row;
    std::string error;
    REQUIRE(decoder.decodeProtobuf(bytes, 42, row, &error) == RecordDecoder::Status::Ok);
    CHECK(row[0].i == 42);  // envelope time
    CHECK(row[fixture.column("store_id")].i == 101);
    CHECK(row[fixture.column("order_id")].s == "o-1");
    CHECK(row[fixture.column("event_type")].s == "ORDER_DELIVERED");
    CHECK(row[fixture.column("has_store_order_confirmed_data")].i == 1);
    CHECK(row[fixture.column("created_at")].i == 1767225600250);
    CHECK(row[fixture.column("item_count")].i == -3);
    CHECK(row[fixture.column("store_location.region")].s == "west");
    CHECK(row[fixture.column("store_location.latitude")].isNull == false);  // parent present, no presence: default
    CHECK(row[fixture.column("store_location.latitude")].d == 0.0);
    CHECK(row[fixture.column("delivery_wait_seconds")].isNull);  // proto3 optional, absent
    CHECK(row[fixture.column("promo_code")].isNull);             // wrapper absent
    CHECK(row[fixture.column("consumer_id")].isNull == false);   // no presence: default 0
    CHECK(row[fixture.column("consumer_id")].i == 0);

    // Without the parent message, its leaves are NULL.
    auto empty = fixture.message();
    REQUIRE(decoder.decodeProtobuf(empty->SerializeAsString(), 1, row, &error) == RecordDecoder::Status::Ok);
    CHECK(row[fixture.column("store_location.region")].isNull);
    CHECK(row[fixture.column("event_type")].s == "EVENT_TYPE_UNSPECIFIED");
}

TEST_CASE("event time from a time field; missing time is reported") {
    Fixture fixture("event_time_ms");
    RecordDecoder decoder(fixture.source);
    auto message = fixture.message();
    message->GetReflection()->SetInt64(message.get(), fixture.descriptor->FindFieldByName("event_time_ms"), 123456);
    Row row;
    std::string error;
    REQUIRE(decoder.decodeProtobuf(message->SerializeAsString(), INT64_MIN, row, &error) == RecordDecoder::Status::Ok);
    CHECK(row[0].i == 123456);

    Fixture envelope;
    RecordDecoder envelopeDecoder(envelope.source);
    CHECK(envelopeDecoder.decodeProtobuf("", INT64_MIN, row, &error) == RecordDecoder::Status::MissingTime);
}

TEST_CASE("JSON payloads and Confluent framing") {
    Fixture fixture;
    RecordDecoder decoder(fixture.source);
    Row row;
    std::string error;
    REQUIRE(decoder.decodeJson(R"({"storeId": "7", "promoCode": "WELCOME", "deliveryWaitSeconds": 12.5})", 5, row, &error) ==
            RecordDecoder::Status::Ok);
    CHECK(row[fixture.column("store_id")].i == 7);
    CHECK(row[fixture.column("promo_code")].s == "WELCOME");
    CHECK(row[fixture.column("delivery_wait_seconds")].d == 12.5);
    CHECK(decoder.decodeJson(R"({"noSuchField": 1})", 5, row, &error) == RecordDecoder::Status::Malformed);
    CHECK(decoder.decodeJson("not json", 5, row, &error) == RecordDecoder::Status::Malformed);

    std::string framed = std::string("\0\0\0\0\x2a\0", 6) + "\x08\x07";
    auto payload = stripConfluentFraming(framed);
    REQUIRE(payload);
    REQUIRE(decoder.decodeProtobuf(*payload, 5, row, &error) == RecordDecoder::Status::Ok);
    CHECK(row[fixture.column("store_id")].i == 7);
    CHECK_FALSE(stripConfluentFraming("\x08\x07"));
}

TEST_CASE("mutated and truncated payloads are Ok or Malformed, never a crash") {
    Fixture fixture;
    RecordDecoder decoder(fixture.source);
    auto message = fixture.message();
    const auto* reflection = message->GetReflection();
    reflection->SetInt64(message.get(), fixture.descriptor->FindFieldByName("store_id"), 123456789);
    reflection->SetString(message.get(), fixture.descriptor->FindFieldByName("order_id"), "order-with-a-longer-id");
    auto* location = reflection->MutableMessage(message.get(), fixture.descriptor->FindFieldByName("store_location"));
    location->GetReflection()->SetString(location, location->GetDescriptor()->FindFieldByName("region"), "north");
    auto* created = reflection->MutableMessage(message.get(), fixture.descriptor->FindFieldByName("created_at"));
    created->GetReflection()->SetInt64(created, created->GetDescriptor()->FindFieldByName("seconds"), 99);
    std::string seed = message->SerializeAsString();
    std::mt19937 random(5);
    Row row;
    std::string error;
    int malformed = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string bytes = seed;
        switch (i % 4) {
        case 0: bytes.resize(random() % (bytes.size() + 1)); break;
        case 1: bytes[random() % bytes.size()] = static_cast<char>(random()); break;
        case 2: bytes.insert(random() % bytes.size(), 1, static_cast<char>(random())); break;
        case 3:
            bytes.clear();
            for (size_t k = random() % 40; k > 0; --k) bytes.push_back(static_cast<char>(random()));
        }
        auto status = decoder.decodeProtobuf(bytes, 1, row, &error);
        CHECK((status == RecordDecoder::Status::Ok || status == RecordDecoder::Status::Malformed));
        malformed += status == RecordDecoder::Status::Malformed;
    }
    CHECK(malformed > 1000);
}

TEST_CASE("JSON output formats timestamps, doubles, strings and NULLs") {
    CHECK(formatTimestamp(0) == "1970-01-01T00:00:00.000Z");
    CHECK(formatTimestamp(1767225620000) == "2026-01-01T00:00:20.000Z");
    CHECK(formatTimestamp(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(formatTimestamp(-90000) == "1969-12-31T23:58:30.000Z");
    std::string out;
    appendJsonValue(out, Value::ofDouble(0.1), plan::DOUBLE);
    out += ",";
    appendJsonValue(out, Value::ofString("a\"b\n\x01"), plan::VARCHAR);
    out += ",";
    appendJsonValue(out, Value::null(), plan::BIGINT);
    out += ",";
    appendJsonValue(out, Value::ofDouble(std::numeric_limits<double>::infinity()), plan::DOUBLE);
    CHECK(out == "0.1,\"a\\\"b\\n\\u0001\",null,null");
}
