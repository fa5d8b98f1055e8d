// The request side of `pipec proxy`: base64, v3/v2 body parsing, content types, the JSON check against a message,
// the record encoder (payload bytes and envelope headers), API keys and the rate limiter.
#include "compiler/catalog/catalog.h"
#include "proxy/api_key_store.h"
#include "proxy/base64_codec.h"
#include "proxy/json_message_check.h"
#include "proxy/produce_request.h"
#include "proxy/rate_limiter.h"
#include "proxy/record_encoder.h"
#include "runtime/core/user_error.h"

#include <doctest/doctest.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>

#include <cstdlib>

using namespace pipec;
using namespace pipec::proxy;
using Json = nlohmann::json;

namespace {

const std::string kMessage = "com.doordash.timeline_events.StoreTimelineEvent";

/// The repository's schemas, loaded by the compiler's catalog (as the proxy loads them).
const google::protobuf::Descriptor *storeEvent() {
    static SourceManager sources;
    static DiagnosticEngine diagnostics;
    static std::unique_ptr<catalog::Catalog> schemas =
        catalog::Catalog::load({std::string(PIPEC_SOURCE_DIR) + "/schemas"}, sources, diagnostics);
    const google::protobuf::Descriptor *descriptor = schemas->findMessage(kMessage);
    REQUIRE(descriptor != nullptr);
    return descriptor;
}

TopicType typedTopic(runtime::PayloadEncoding encoding = runtime::PayloadEncoding::Protobuf, int32_t schemaId = 0) {
    return TopicType{"store_timeline_events", "default", storeEvent(), encoding, schemaId, "spec.yaml", nullptr};
}

std::optional<std::string> check(const std::string &json) {
    return checkJsonMessage(Json::parse(json), storeEvent());
}

ProduceRecordRequest jsonRecord(const std::string &json) {
    ProduceRecordRequest request;
    request.value.type = DataType::Json;
    request.value.json = Json::parse(json);
    return request;
}

std::string header(const runtime::HeaderList &headers, const std::string &name) {
    for (const auto &[key, value] : headers)
        if (key == name) return value;
    return "<absent>";
}

} // namespace

TEST_CASE("base64 is strict: padding required, no whitespace, standard alphabet") {
    CHECK(decodeBase64("aGVsbG8=") == std::optional<std::string>("hello"));
    CHECK(decodeBase64("aGk=") == std::optional<std::string>("hi"));
    CHECK(decodeBase64("aGV5") == std::optional<std::string>("hey"));
    CHECK(decodeBase64("") == std::optional<std::string>(""));
    CHECK_FALSE(decodeBase64("aGVsbG8"));   // missing padding
    CHECK_FALSE(decodeBase64("aGVs bG8=")); // whitespace
    CHECK_FALSE(decodeBase64("aGVsbG8_"));  // URL alphabet
    CHECK_FALSE(decodeBase64("===="));
    CHECK_FALSE(decodeBase64("a=bc"));
    CHECK(encodeBase64("hello") == "aGVsbG8=");
    CHECK(decodeBase64(encodeBase64(std::string("\0\xff\x10", 3))) ==
          std::optional<std::string>(std::string("\0\xff\x10", 3)));
}

TEST_CASE("v3 body: one record with key, headers and partition") {
    ParsedBody body = parseV3Body(R"({"partition_id": 2, "headers": [{"name": "trace", "value": "YWJj"}],
                                      "key": {"type": "BINARY", "data": "MTAx"}, "value": {"type": "JSON", "data": {"storeId": "101"}}})",
                                  100);
    REQUIRE_FALSE(body.error);
    CHECK_FALSE(body.streaming);
    REQUIRE(body.records.size() == 1);
    REQUIRE(body.records[0].record);
    const ProduceRecordRequest &record = *body.records[0].record;
    CHECK(record.partition == 2);
    REQUIRE(record.headers.size() == 1);
    CHECK(record.headers[0] == std::pair<std::string, std::string>("trace", "abc"));
    CHECK(record.key.type == DataType::Binary);
    CHECK(record.key.bytes == "101");
    CHECK(record.value.type == DataType::Json);
    CHECK(record.value.json["storeId"] == "101");
}

TEST_CASE("v3 body: streaming mode, concatenated or one per line, verdicts per record") {
    ParsedBody body = parseV3Body(R"({"value": {"data": {"a": 1}}}{"value": {"type": "BINARY", "data": "!!"}}
{"value": {"type": "STRING", "data": "x"}})",
                                  100);
    REQUIRE_FALSE(body.error);
    CHECK(body.streaming);
    REQUIRE(body.records.size() == 3);
    CHECK(body.records[0].record);
    CHECK(body.records[0].record->value.type == DataType::Json); // no type: JSON
    CHECK_FALSE(body.records[1].record);
    CHECK(body.records[1].error.httpStatus == 400);
    CHECK(body.records[1].error.message == "`value.data` is not valid base64");
    CHECK(body.records[2].record->value.bytes == "x");
}

TEST_CASE("v3 body: malformed JSON, limits and unsupported members") {
    CHECK(parseV3Body("{\"value\": ", 10).error->httpStatus == 400);
    CHECK(parseV3Body("", 10).error->message == "the request body holds no record");
    CHECK(parseV3Body("   \n ", 10).error->httpStatus == 400);
    // A broken second record: the first keeps its verdict, the rest is one error.
    ParsedBody broken = parseV3Body(R"({"value": {"data": 1}} {"value": )", 10);
    REQUIRE_FALSE(broken.error);
    REQUIRE(broken.records.size() == 2);
    CHECK(broken.records[0].record);
    CHECK(broken.records[1].error.httpStatus == 400);
    CHECK(parseV3Body(R"({"value": {"data": 1}}{"value": {"data": 2}}{"value": {"data": 3}})", 2).error->httpStatus ==
          413);
    auto only = [](const std::string &text) { return parseV3Body(text, 10).records.at(0); };
    CHECK(only(R"({"value": {"type": "AVRO", "data": 1}})").error.message.find("not supported") != std::string::npos);
    CHECK(only(R"({"value": {"type": "JSON", "data": 1, "schema_id": 3}})").error.message.find("schema registry") !=
          std::string::npos);
    CHECK(only(R"({"valeu": {"data": 1}})").error.message == "unknown member `valeu` in a produce record");
    CHECK(only(R"({"partition_id": -1, "value": {"data": 1}})").error.httpStatus == 400);
    CHECK(only(R"({"headers": [{"name": "h", "value": "a b"}], "value": {"data": 1}})").error.message ==
          "header `h`: `value` is not valid base64");
    CHECK(only(R"([1, 2])").error.message == "a record must be a JSON object");
    CHECK(only(R"({"timestamp": "2026-01-01T00:00:00Z", "value": {"data": 1}})").record->timestampMs == 1767225600000);
    CHECK(only(R"({"key": null, "value": {"type": "JSON", "data": null}})").record->value.type == DataType::Absent);
}

TEST_CASE("v2 body: json and binary embedded formats") {
    ParsedBody json = parseV2Body(
        R"({"records": [{"key": "k", "value": {"storeId": "1"}}, {"value": 5, "partition": 1}]})", DataType::Json, 10);
    REQUIRE_FALSE(json.error);
    REQUIRE(json.records.size() == 2);
    CHECK(json.records[0].record->key.json == "k");
    CHECK(json.records[1].record->partition == 1);
    ParsedBody binary =
        parseV2Body(R"({"records": [{"value": "aGVsbG8="}, {"value": "not base64"}]})", DataType::Binary, 10);
    REQUIRE(binary.records.size() == 2);
    CHECK(binary.records[0].record->value.bytes == "hello");
    CHECK(binary.records[1].error.httpStatus == 422);
    CHECK(parseV2Body("{", DataType::Json, 10).error->httpStatus == 400);
    CHECK(parseV2Body(R"({"values": []})", DataType::Json, 10).error->httpStatus == 422);
    CHECK(parseV2Body(R"({"records": []})", DataType::Json, 10).error->httpStatus == 422);
    CHECK(parseV2Body(R"({"records": [{"value": 1}, {"value": 2}]})", DataType::Json, 1).error->httpStatus == 413);
    CHECK(parseV2Body(R"({"value_schema_id": 4, "records": [{"value": 1}]})", DataType::Json, 10).error->errorCode ==
          42205);
}

TEST_CASE("content types") {
    CHECK(v2EmbeddedFormat("application/vnd.kafka.json.v2+json") == DataType::Json);
    CHECK(v2EmbeddedFormat("application/vnd.kafka.binary.v2+json; charset=utf-8") == DataType::Binary);
    CHECK_FALSE(v2EmbeddedFormat("application/vnd.kafka.avro.v2+json"));
    CHECK_FALSE(v2EmbeddedFormat("application/json"));
    CHECK(isJsonContentType("application/json"));
    CHECK(isJsonContentType("Application/JSON; charset=UTF-8"));
    CHECK_FALSE(isJsonContentType("application/x-www-form-urlencoded"));
    CHECK_FALSE(isJsonContentType(""));
}

TEST_CASE("JSON values are checked against the message with a field path and a reason") {
    CHECK_FALSE(check(R"({"storeId": "101", "hasStoreOrderConfirmedData": true, "eventType": "ORDER_CONFIRMED"})"));
    CHECK_FALSE(check(R"({"store_id": 101, "has_store_order_confirmed_data": true, "event_type": 2})"));
    CHECK_FALSE(check(R"({"createdAt": "2026-01-01T00:00:10.611Z", "promoCode": "WELCOME", "deliveryWaitSeconds": "NaN",
                          "storeLocation": {"latitude": 1.5, "region": "sf"}, "tags": ["a", "b"], "itemCount": 3})"));
    CHECK_FALSE(check(R"({"storeId": null})"));
    CHECK(check(R"({"store_id": "abc"})") == "$.store_id: expected an integer, found the string \"abc\"");
    CHECK(check(R"({"storeId": true})") == "$.storeId: expected an integer, found a boolean");
    CHECK(check(R"({"store_id": 1.5})") == "$.store_id: expected an integer, found a fraction");
    CHECK(check(R"({"itemCount": 3000000000})") == "$.itemCount: integer out of range for int32");
    CHECK(check(R"({"storeIdd": 1})") == "$.storeIdd: no such field in `" + kMessage + "`");
    CHECK(check(R"({"eventType": "SHIPPED"})") ==
          "$.eventType: `SHIPPED` is not a value of enum `com.doordash.timeline_events.StoreTimelineEvent.EventType`");
    CHECK(check(R"({"hasStoreOrderConfirmedData": "yes"})") ==
          "$.hasStoreOrderConfirmedData: expected a boolean, found a string");
    CHECK(check(R"({"storeLocation": {"latitude": "north"}})") == "$.storeLocation.latitude: expected a number");
    CHECK(check(R"({"storeLocation": []})") == "$.storeLocation: expected an object, found an array");
    CHECK(check(R"({"tags": ["a", 2]})") == "$.tags[1]: expected a string, found a number");
    CHECK(check(R"({"tags": "a"})") == "$.tags: expected an array, found a string");
    CHECK(check(R"({"createdAt": 5})") == "$.createdAt: expected a string (google.protobuf.Timestamp), found a number");
    CHECK(check(R"({"promoCode": 7})") == "$.promoCode: expected a string, found a number");
    CHECK(check(R"({"storeId": 1, "store_id": 2})") ==
          "$.store_id: field `store_id` is given twice (both name styles)");
    CHECK(check(R"([1])") == "$: expected an object, found an array");
}

TEST_CASE("a typed record becomes binary Protobuf with exactly the envelope headers") {
    TopicType type = typedTopic();
    RecordContext context{"order-service", 1767225600000, ""};
    auto encoded = encodeRecord(jsonRecord(R"({"storeId": "101", "hasStoreOrderConfirmedData": true})"), type.topic,
                                &type, context);
    REQUIRE(std::holds_alternative<EncodedRecord>(encoded));
    const EncodedRecord &record = std::get<EncodedRecord>(encoded);
    google::protobuf::DynamicMessageFactory factory;
    std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(storeEvent())->New());
    REQUIRE(record.value);
    REQUIRE(message->ParseFromString(*record.value));
    std::string json;
    REQUIRE(google::protobuf::util::MessageToJsonString(*message, &json).ok());
    CHECK(json == R"({"storeId":"101","hasStoreOrderConfirmedData":true})");
    runtime::HeaderList expected{{"event-created-at", "1767225600000"},
                                 {"event-source", "order-service"},
                                 {"event-encoding", "protobuf"},
                                 {"event-schema", kMessage}};
    CHECK(record.headers == expected);
    CHECK_FALSE(record.key);
}

TEST_CASE("event-created-at: the record's header, then the request's, when valid; event-source cannot be claimed") {
    TopicType type = typedTopic();
    ProduceRecordRequest request = jsonRecord(R"({"storeId": "1"})");
    request.headers = {{"event-source", "someone-else"}, {"event-created-at", "1767225610611"}, {"trace", "t1"}};
    RecordContext context{"web", 1767225600000, "1700000000000"};
    auto record = std::get<EncodedRecord>(encodeRecord(request, type.topic, &type, context));
    CHECK(header(record.headers, "event-created-at") == "1767225610611");
    CHECK(header(record.headers, "event-source") == "web");
    CHECK(header(record.headers, "trace") == "t1");
    CHECK(record.headers.size() == 5);

    request.headers = {{"event-created-at", "1.5"}};
    CHECK(header(std::get<EncodedRecord>(encodeRecord(request, type.topic, &type, context)).headers,
                 "event-created-at") == "1700000000000");
    context.requestCreatedAt = "yesterday";
    CHECK(header(std::get<EncodedRecord>(encodeRecord(request, type.topic, &type, context)).headers,
                 "event-created-at") == "1767225600000");
}

TEST_CASE("refused records say where and why, as 422") {
    TopicType type = typedTopic();
    RecordContext context{"web", 1, ""};
    auto refused = encodeRecord(jsonRecord(R"({"store_id": "abc"})"), type.topic, &type, context);
    REQUIRE(std::holds_alternative<ProduceError>(refused));
    CHECK(std::get<ProduceError>(refused).httpStatus == 422);
    CHECK(std::get<ProduceError>(refused).message.rfind("$.store_id: expected an integer", 0) == 0);
    // Caught by Protobuf's own parser (a bad timestamp text), still with a path.
    auto badTime = encodeRecord(jsonRecord(R"({"createdAt": "yesterday"})"), type.topic, &type, context);
    CHECK(std::get<ProduceError>(badTime).message.rfind("$: does not match", 0) == 0);
    ProduceRecordRequest empty;
    CHECK(std::get<ProduceError>(encodeRecord(empty, type.topic, &type, context)).httpStatus == 422);
    ProduceRecordRequest text;
    text.value = RecordData{DataType::String, "hi", {}};
    CHECK(std::get<ProduceError>(encodeRecord(text, type.topic, &type, context)).httpStatus == 422);
    ProduceRecordRequest garbage;
    garbage.value = RecordData{DataType::Binary, "\xff\xff\xff", {}};
    CHECK(std::get<ProduceError>(encodeRecord(garbage, type.topic, &type, context)).message.find("not a binary") !=
          std::string::npos);
}

TEST_CASE("Confluent wire format, JSON topics and untyped pass-through") {
    RecordContext context{"web", 5, ""};
    TopicType confluent = typedTopic(runtime::PayloadEncoding::ConfluentProtobuf, 258);
    auto framed =
        std::get<EncodedRecord>(encodeRecord(jsonRecord(R"({"storeId": "3"})"), confluent.topic, &confluent, context));
    CHECK(framed.value->substr(0, 6) == std::string("\0\0\0\x01\x02\0", 6));
    CHECK(framed.value->substr(6) == std::string("\x08\x03", 2));
    CHECK(header(framed.headers, "event-encoding") == "confluent-protobuf");
    CHECK(header(framed.headers, "event-schema") == "258");

    TopicType json = typedTopic(runtime::PayloadEncoding::Json);
    auto asJson = std::get<EncodedRecord>(encodeRecord(jsonRecord(R"({"store_id": 3})"), json.topic, &json, context));
    CHECK(*asJson.value == R"({"storeId":"3"})");
    CHECK(header(asJson.headers, "event-encoding") == "json");

    ProduceRecordRequest binary;
    binary.key = RecordData{DataType::String, "k", {}};
    binary.value = RecordData{DataType::Binary, std::string("\x01\x02", 2), {}};
    auto passed = std::get<EncodedRecord>(encodeRecord(binary, "raw", nullptr, context));
    CHECK(*passed.value == std::string("\x01\x02", 2));
    CHECK(*passed.key == "k");
    CHECK(passed.headers == runtime::HeaderList{{"event-created-at", "5"}, {"event-source", "web"}});
    ProduceRecordRequest protobufUntyped = jsonRecord("{}");
    protobufUntyped.value.type = DataType::Protobuf;
    CHECK(std::get<ProduceError>(encodeRecord(protobufUntyped, "raw", nullptr, context)).httpStatus == 422);
}

TEST_CASE("API keys: file format, bearer and basic, topics") {
    ApiKeyStore keys;
    Authentication anonymous = keys.authenticate("");
    CHECK(anonymous.outcome == Authentication::Outcome::Anonymous);
    CHECK(anonymous.clientName() == "anonymous");
    keys.addYaml(R"(
- {name: order-service, key: "0123456789abcdef-orders", topics: [store_*]}
- name: web
  key: "0123456789abcdef-web"
  topics: ["*"]
  records_per_second: 50
)",
                 "keys.yaml");
    CHECK(keys.size() == 2);
    CHECK(keys.authenticate("").outcome == Authentication::Outcome::Missing);
    CHECK(keys.authenticate("Bearer nope").outcome == Authentication::Outcome::Invalid);
    CHECK(keys.authenticate("Token 0123456789abcdef-web").outcome == Authentication::Outcome::Invalid);
    Authentication bearer = keys.authenticate("Bearer 0123456789abcdef-orders");
    REQUIRE(bearer.outcome == Authentication::Outcome::Authenticated);
    CHECK(bearer.clientName() == "order-service");
    CHECK(ApiKeyStore::allows(*bearer.key, "store_timeline_events"));
    CHECK_FALSE(ApiKeyStore::allows(*bearer.key, "payments"));
    Authentication basic = keys.authenticate("Basic " + encodeBase64("web:0123456789abcdef-web"));
    REQUIRE(basic.outcome == Authentication::Outcome::Authenticated);
    CHECK(basic.key->recordsPerSecond == 50);
    CHECK(keys.authenticate("basic " + encodeBase64(":0123456789abcdef-web")).outcome ==
          Authentication::Outcome::Authenticated);
    CHECK(keys.authenticate("Basic " + encodeBase64("order-service:0123456789abcdef-web")).outcome ==
          Authentication::Outcome::Invalid);
    CHECK(keys.authenticate("Basic !!!").outcome == Authentication::Outcome::Invalid);

    ::setenv("PIPEC_TEST_PROXY_KEY", "fedcba9876543210-env", 1);
    keys.addYaml("[{name: batch, key_env: PIPEC_TEST_PROXY_KEY, topics: [a]}]", "env");
    CHECK(keys.authenticate("Bearer fedcba9876543210-env").clientName() == "batch");

    ApiKeyStore bad;
    CHECK_THROWS_AS(bad.addYaml("[{name: x, key: short, topics: [a]}]", "f"), UserError);
    CHECK_THROWS_AS(bad.addYaml("[{name: x, key: 0123456789abcdef}]", "f"), UserError);
    CHECK_THROWS_AS(bad.addYaml("[{name: x, key: 0123456789abcdef, topics: [a], role: admin}]", "f"), UserError);
    CHECK_THROWS_AS(bad.addYaml("[{name: x, key_env: PIPEC_TEST_UNSET_VARIABLE, topics: [a]}]", "f"), UserError);
    CHECK_THROWS_AS(bad.addYaml("{name: x}", "f"), UserError);
    CHECK_THROWS_AS(keys.addYaml("[{name: web2, key: 0123456789abcdef-web, topics: [a]}]", "f"),
                    UserError); // same secret
}

TEST_CASE("rate limiter: a second's burst, then Retry-After, then refill") {
    RateLimiter limiter;
    CHECK_FALSE(limiter.take("a", 10, 6, 100.0));
    CHECK_FALSE(limiter.take("a", 10, 4, 100.0));
    auto wait = limiter.take("a", 10, 5, 100.0);
    REQUIRE(wait);
    CHECK(*wait == 1);
    CHECK_FALSE(limiter.take("b", 10, 5, 100.0)); // per client
    CHECK_FALSE(limiter.take("a", 10, 5, 100.6));
    CHECK_FALSE(limiter.take("a", 0, 1000000, 100.6)); // no limit
    // A batch larger than the bucket passes when the bucket is full, and leaves it in debt.
    CHECK_FALSE(limiter.take("c", 10, 50, 0.0));
    CHECK(limiter.take("c", 10, 1, 1.0));
    CHECK(*limiter.take("c", 10, 10, 1.0) >= 4);
}
