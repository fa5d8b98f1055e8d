// A request body parsed while it arrives (proxy/streamed_body.h) with the v3 record reader on top, as a chunked v3
// request is: records framed across chunk boundaries, the byte limit, a failed read, and the parser giving up.
#include "proxy/produce_request.h"
#include "proxy/streamed_body.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

using namespace pipec::proxy;

namespace {

/// Feeds `text` in chunks of `chunk` bytes from another thread, as the socket reader does; returns the records read.
std::vector<ParsedRecord> readAll(StreamedBody &body, const std::string &text, size_t chunk, bool complete,
                                  V3RecordReader::Step &last, size_t maxRecords = 100) {
    std::thread feeder([&] {
        bool reading = true;
        for (size_t at = 0; reading && at < text.size(); at += chunk)
            reading = body.push(text.data() + at, std::min(chunk, text.size() - at));
        body.finish(complete);
    });
    std::istream input(&body);
    V3RecordReader reader(input, maxRecords);
    std::vector<ParsedRecord> records;
    for (;;) {
        ParsedRecord record;
        last = reader.next(record);
        if (last != V3RecordReader::Step::Record) break;
        records.push_back(std::move(record));
    }
    body.stopParsing();
    feeder.join();
    return records;
}

} // namespace

TEST_CASE("a streamed body: records framed across chunks of any size") {
    std::string text = R"({"value": {"data": {"storeId": "1"}}}{"value": {"data": {"storeId": "2"}}}
  {"key": {"type": "STRING", "data": "k"}, "value": {"data": {"storeId": "3"}}}
)";
    for (size_t chunk : {1, 2, 7, 64, 4096}) {
        StreamedBody body(1 << 20);
        V3RecordReader::Step last;
        auto records = readAll(body, text, chunk, true, last);
        CAPTURE(chunk);
        REQUIRE(records.size() == 3);
        CHECK(last == V3RecordReader::Step::End);
        CHECK(records[2].record->key.bytes == "k");
        CHECK(records[1].record->value.json["storeId"] == "2");
        CHECK_FALSE(body.exceeded());
        CHECK_FALSE(body.failed());
    }
}

TEST_CASE("a streamed body: past the byte limit the parser sees the end, and the body says why") {
    std::string record = R"({"value": {"data": {"storeId": "1"}}})" "\n";
    std::string text;
    for (int i = 0; i < 100; ++i) text += record;
    StreamedBody body(10 * record.size() + 5);
    V3RecordReader::Step last;
    auto records = readAll(body, text, record.size(), true, last);
    CHECK(records.size() == 10);
    CHECK(body.exceeded());
    CHECK(body.received() <= 10 * record.size() + 5);
}

TEST_CASE("a streamed body: a read that fails mid-record is a failed body, not a record") {
    StreamedBody body(1 << 20);
    V3RecordReader::Step last;
    auto records = readAll(body, R"({"value": {"data": {"storeId": "1"}}}{"value": {"da)", 5, false, last);
    CHECK(records.size() == 1);
    CHECK(last == V3RecordReader::Step::Malformed);
    CHECK(body.failed());
}

TEST_CASE("a streamed body: once the parser stops, the rest is drained and then the read is abandoned") {
    StreamedBody body(1 << 20);
    body.stopParsing();
    std::string chunk(1 << 20, ' ');
    size_t accepted = 0;
    while (body.push(chunk.data(), chunk.size())) ++accepted;
    CHECK(accepted == StreamedBody::kDrainBytes / chunk.size());
}

TEST_CASE("a streamed body: more records than allowed stop before the first extra one is read") {
    std::string text;
    for (int i = 0; i < 5; ++i) text += R"({"value": {"data": {"storeId": "1"}}})";
    StreamedBody body(1 << 20);
    V3RecordReader::Step last;
    auto records = readAll(body, text, 3, true, last, 3);
    CHECK(records.size() == 3);
    CHECK(last == V3RecordReader::Step::TooMany);
}
