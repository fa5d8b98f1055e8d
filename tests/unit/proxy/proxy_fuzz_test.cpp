// Mutation tests of the request parsing: truncated, spliced, byte-flipped and oversized bodies through the v3 and
// v2 parsers and the encoder must never throw or crash, and every refusal must be a 4xx.
#include "compiler/catalog/catalog.h"
#include "proxy/produce_request.h"
#include "proxy/record_encoder.h"

#include <doctest/doctest.h>

#include <random>

using namespace pipec;
using namespace pipec::proxy;

namespace {

const char *kSeeds[] = {
    R"({"value": {"type": "JSON", "data": {"storeId": "101", "hasStoreOrderConfirmedData": true, "eventType": "ORDER_CONFIRMED"}}})",
    R"({"partition_id": 1, "headers": [{"name": "event-created-at", "value": "MTc2NzIyNTYxMDYxMQ=="}], "key": {"type": "STRING", "data": "101"}, "value": {"type": "BINARY", "data": "CGU="}})",
    R"({"value": {"data": {"storeLocation": {"latitude": 1.5}, "tags": ["a"], "createdAt": "2026-01-01T00:00:00Z"}}}{"value": {"type": "PROTOBUF", "data": {"store_id": 7}}})",
    R"({"records": [{"key": "k", "value": {"storeId": "1"}}, {"value": {"itemCount": 3}, "partition": 0}]})",
    R"({"records": [{"value": "CGU="}, {"key": "aGk=", "value": "AAEC"}]})",
};

const char *kFragments[] = {"{",
                            "}",
                            "[",
                            "]",
                            "\"",
                            ":",
                            ",",
                            "null",
                            "true",
                            "1e999",
                            "-0",
                            "\\u0000",
                            "\\ud800",
                            "\xff",
                            "\xc3",
                            "\"data\"",
                            "\"type\": \"BINARY\"",
                            "\"value\"",
                            "==",
                            "99999999999999999999999"};

std::string mutate(std::string text, std::mt19937 &random) {
    std::uniform_int_distribution<int> kind(0, 5);
    auto position = [&] {
        return text.empty() ? 0 : std::uniform_int_distribution<size_t>(0, text.size() - 1)(random);
    };
    int steps = std::uniform_int_distribution<int>(1, 4)(random);
    for (int step = 0; step < steps; ++step) {
        switch (kind(random)) {
        case 0:
            text = text.substr(0, position());
            break;
        case 1:
            if (!text.empty()) text.erase(position(), 1);
            break;
        case 2:
            if (!text.empty()) text[position()] = static_cast<char>(random() & 0xff);
            break;
        case 3:
            text.insert(position(), kFragments[random() % std::size(kFragments)]);
            break;
        case 4:
            text += kSeeds[random() % std::size(kSeeds)];
            break;
        case 5:
            text.insert(position(), std::string(random() % 5000, '['));
            break;
        }
    }
    return text;
}

} // namespace

TEST_CASE("mutated request bodies are refused with a 4xx, never a crash") {
    SourceManager sources;
    DiagnosticEngine diagnostics;
    auto schemas = catalog::Catalog::load({std::string(PIPEC_SOURCE_DIR) + "/schemas"}, sources, diagnostics);
    TopicType type{"store_timeline_events",
                   "default",
                   schemas->findMessage("com.doordash.timeline_events.StoreTimelineEvent"),
                   runtime::PayloadEncoding::Protobuf,
                   0,
                   "",
                   nullptr};
    REQUIRE(type.message != nullptr);
    RecordContext context{"fuzz", 1, "not a time"};
    std::mt19937 random(20261127);
    size_t accepted = 0;
    size_t refused = 0;
    auto isClientError = [](int status) { return status >= 400 && status < 500; };
    for (int iteration = 0; iteration < 6000; ++iteration) {
        std::string body = mutate(kSeeds[iteration % std::size(kSeeds)], random);
        std::vector<ParsedBody> parsed;
        REQUIRE_NOTHROW(parsed.push_back(parseV3Body(body, 50)));
        REQUIRE_NOTHROW(parsed.push_back(parseV2Body(body, iteration % 2 ? DataType::Json : DataType::Binary, 50)));
        for (const ParsedBody &result : parsed) {
            if (result.error) {
                CHECK(isClientError(result.error->httpStatus));
                ++refused;
                continue;
            }
            for (const auto &record : result.records) {
                if (!record.record) {
                    CHECK(isClientError(record.error.httpStatus));
                    ++refused;
                    continue;
                }
                std::variant<EncodedRecord, ProduceError> encoded;
                REQUIRE_NOTHROW(encoded = encodeRecord(*record.record, type.topic, &type, context));
                REQUIRE_NOTHROW(encoded = encodeRecord(*record.record, "raw", nullptr, context));
                if (auto *error = std::get_if<ProduceError>(&encoded))
                    CHECK(isClientError(error->httpStatus));
                else
                    ++accepted;
            }
        }
    }
    // Both outcomes occur: the mutations neither all break nor all leave the bodies intact.
    CHECK(accepted > 100);
    CHECK(refused > 1000);
    // A very deep nesting and a huge body are refused, not a stack overflow.
    CHECK(parseV3Body(std::string(200000, '[') + std::string(200000, ']'), 50).records.at(0).error.httpStatus == 400);
    CHECK(parseV2Body(std::string(100000, '{'), DataType::Json, 50).error->httpStatus == 400);
}

TEST_CASE("error messages quoting a client's invalid UTF-8 still render as JSON") {
    ParsedBody body = parseV3Body("{\"value\": {\"data\": \"\xc1\xff\"}}", 10);
    REQUIRE(body.error);
    nlohmann::json response{{"error_code", body.error->errorCode}, {"message", body.error->message}};
    CHECK_THROWS(response.dump()); // why the proxy renders with error_handler_t::replace
    CHECK_NOTHROW(response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}
