#include "runtime/exchange/exchange_codec.h"
#include "runtime/exchange/exchange_watermarks.h"

#include <doctest/doctest.h>

#include <limits>

using namespace pipec;
using namespace pipec::runtime;

namespace {

/// A source of `_time`, an int, a string, a double, a float and a bool; the exchange carries all but the bool.
plan::Pipeline pipelineWithExchange() {
    plan::Pipeline pipeline;
    auto* source = pipeline.mutable_source();
    const plan::TypeId types[] = {plan::TIMESTAMP, plan::BIGINT, plan::VARCHAR, plan::DOUBLE, plan::FLOAT, plan::BOOLEAN};
    for (plan::TypeId type : types) source->add_columns()->set_type(type);
    auto* exchange = pipeline.mutable_exchange();
    for (int column : {1, 2, 3, 4}) {
        exchange->add_columns(column);
        exchange->add_column_types(types[column]);
    }
    exchange->set_row_format("0badcafe00112233");
    return pipeline;
}

ExchangeCodec::Marker marker(int32_t partition, int32_t partitions, std::optional<int64_t> watermark, bool idle = false, bool end = false) {
    ExchangeCodec::Marker m;
    m.partitions = partitions;
    m.entries.push_back(ExchangeCodec::MarkerEntry{partition, watermark, idle, end});
    return m;
}

} // namespace

TEST_CASE("exchange rows round-trip the carried columns; the others come back NULL") {
    plan::Pipeline pipeline = pipelineWithExchange();
    ExchangeCodec codec(pipeline);
    CHECK(codec.formatTag() == 0x0badcafe);
    Row row = {Value::ofInt(1767225600123), Value::ofInt(-42), Value::ofString(std::string("caf\xc3\xa9\0x", 7)), Value::ofDouble(0.1),
               Value::ofDouble(1.5), Value::ofBool(true)};
    std::string bytes;
    codec.encodeRow(row, 7, 123456789, bytes);
    CHECK(codec.kind(bytes) == ExchangeCodec::Kind::Row);
    Row back(2);  // a reused row of another width is resized
    back[1] = Value::ofInt(99);
    int32_t partition = -1;
    int64_t offset = -1;
    REQUIRE(codec.decodeRow(bytes, back, partition, offset));
    CHECK(partition == 7);
    CHECK(offset == 123456789);
    REQUIRE(back.size() == 6);
    CHECK(back[0].i == 1767225600123);
    CHECK(back[1].i == -42);
    CHECK(back[2].s == row[2].s);
    CHECK(back[3].d == 0.1);
    CHECK(back[4].d == 1.5);
    CHECK(back[5].isNull);  // not carried

    // NULLs travel in the bitmap and take no value bytes.
    Row nulls = {Value::ofInt(-5), Value::null(), Value::null(), Value::ofDouble(2), Value::null(), Value::null()};
    std::string nullBytes;
    codec.encodeRow(nulls, 0, 0, nullBytes);
    REQUIRE(codec.decodeRow(nullBytes, back, partition, offset));
    CHECK(back[0].i == -5);
    CHECK(back[1].isNull);
    CHECK(back[2].isNull);
    CHECK(back[3].d == 2);
    CHECK(back[4].isNull);
    CHECK(nullBytes.size() < bytes.size());

    // Truncated or extended records are corrupt, never half-read.
    for (size_t size = 5; size < bytes.size(); ++size) CHECK_FALSE(codec.decodeRow(std::string_view(bytes).substr(0, size), back, partition, offset));
    CHECK_FALSE(codec.decodeRow(bytes + "x", back, partition, offset));
}

TEST_CASE("a record of another row format or kind is told apart") {
    plan::Pipeline pipeline = pipelineWithExchange();
    ExchangeCodec codec(pipeline);
    plan::Pipeline other = pipeline;
    other.mutable_exchange()->set_row_format("0badcaff00112233");
    ExchangeCodec otherCodec(other);
    std::string bytes;
    otherCodec.encodeRow(Row(6, Value::ofInt(1)), 0, 0, bytes);
    CHECK(codec.kind(bytes) == ExchangeCodec::Kind::WrongFormat);
    CHECK(codec.kind("") == ExchangeCodec::Kind::Corrupt);
    CHECK(codec.kind(std::string("\x09\x0b\xad\xca\xfe", 5)) == ExchangeCodec::Kind::Corrupt);
    CHECK(rowFormatTag("xyz") == 0);
    CHECK(rowFormatTag("ffffffff") == 0xffffffffu);
}

TEST_CASE("a plan whose exchange lists a column the source lacks is refused") {
    plan::Pipeline pipeline = pipelineWithExchange();
    pipeline.mutable_exchange()->add_columns(6);
    pipeline.mutable_exchange()->add_column_types(plan::BIGINT);
    CHECK_THROWS_AS(ExchangeCodec{pipeline}, std::invalid_argument);
}

TEST_CASE("markers round-trip") {
    ExchangeCodec::Marker all;
    all.partitions = 12;
    for (const auto& m : {marker(0, 12, std::nullopt), marker(11, 12, -1767225600000, true), marker(3, 12, 5, false, true)}) {
        all.entries.push_back(m.entries[0]);
        for (const ExchangeCodec::Marker& sent : {m, all}) {
            std::string bytes;
            ExchangeCodec::encodeMarker(sent, 0x0badcafe, bytes);
            ExchangeCodec::Marker back;
            REQUIRE(ExchangeCodec::decodeMarker(bytes, back));
            CHECK(back.partitions == sent.partitions);
            REQUIRE(back.entries.size() == sent.entries.size());
            for (size_t i = 0; i < sent.entries.size(); ++i) {
                CHECK(back.entries[i].partition == sent.entries[i].partition);
                CHECK(back.entries[i].watermark == sent.entries[i].watermark);
                CHECK(back.entries[i].idle == sent.entries[i].idle);
                CHECK(back.entries[i].end == sent.entries[i].end);
            }
            for (size_t size = 5; size < bytes.size(); ++size) CHECK_FALSE(ExchangeCodec::decodeMarker(bytes.substr(0, size), back));
        }
    }
    std::string bad;
    ExchangeCodec::encodeMarker(marker(12, 12, 1), 0, bad);  // a partition outside the count
    ExchangeCodec::Marker back;
    CHECK_FALSE(ExchangeCodec::decodeMarker(bad, back));
}

TEST_CASE("the partition of a key is stable and spreads keys") {
    CHECK(ExchangeCodec::partitionOf("", 12) == ExchangeCodec::partitionOf("", 12));
    CHECK(ExchangeCodec::partitionOf("abc", 1) == 0);
    // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c: the placement is part of the topic's format, so it must not change.
    CHECK(ExchangeCodec::partitionOf("a", 1000) == static_cast<int32_t>(0xaf63dc4c8601ec8cULL % 1000));
    std::vector<int> counts(12);
    for (int key = 0; key < 12000; ++key) counts[static_cast<size_t>(ExchangeCodec::partitionOf(std::to_string(key), 12))]++;
    for (int count : counts) CHECK(count > 700);
}

TEST_CASE("stage 2 waits for a marker of every source partition, then takes the minimum") {
    UpstreamWatermarks upstream;
    CHECK_FALSE(upstream.watermark());
    upstream.observe(marker(0, 3, 100));
    upstream.observe(marker(2, 3, 300));
    CHECK_FALSE(upstream.watermark());  // partition 1 never heard of
    upstream.observe(marker(1, 3, std::nullopt));
    CHECK_FALSE(upstream.watermark());  // heard, active, but without events
    upstream.observe(marker(1, 3, 200));
    CHECK(upstream.watermark() == 100);
    upstream.observe(marker(0, 3, 250));
    CHECK(upstream.watermark() == 200);
    // A restarted stage-1 task starts lower: neither its watermark nor stage 2's goes back.
    upstream.observe(marker(1, 3, 50));
    CHECK(upstream.watermark() == 200);
}

TEST_CASE("virtual clock: a slow stage-1 task holds stage 2 back; an idle one does not stall it") {
    const int64_t delay = 1000;
    const int64_t idleTimeout = 5000;
    SourcePartitionClock stageOne(delay, idleTimeout);  // one member reading both source partitions
    UpstreamWatermarks stageTwo;
    int64_t now = 0;
    stageOne.assign(0, now);
    stageOne.assign(1, now);
    auto exchangeMarkers = [&] { stageTwo.observe(stageOne.marker(2, now)); };
    // Partition 0 is fast, partition 1 slow: stage 2 follows the slow one.
    for (int step = 0; step < 10; ++step) {
        now += 100;
        stageOne.observe(0, 100'000 + step * 10'000, now);
        stageOne.observe(1, 100'000 + step * 100, now);
        exchangeMarkers();
        CHECK(stageTwo.watermark() == 100'000 + step * 100 - delay);
    }
    // Partition 1 falls silent. Before the idle timeout it still holds stage 2 back...
    const int64_t slowWatermark = 100'000 + 9 * 100 - delay;
    for (int step = 0; step < 49; ++step) {
        now += 100;
        stageOne.observe(0, 200'000 + step, now);
        exchangeMarkers();
        CHECK(stageTwo.watermark() == slowWatermark);
    }
    // ...after it, its markers say idle, and stage 2 follows partition 0 alone.
    now += 100;
    stageOne.observe(0, 300'000, now);
    exchangeMarkers();
    CHECK(stageTwo.watermark() == 300'000 - delay);
    // Partition 1 wakes up behind: the watermark does not go back, and its new rows are late at the window.
    now += 100;
    stageOne.observe(1, 150'000, now);
    exchangeMarkers();
    CHECK(stageTwo.watermark() == 300'000 - delay);
    // Both idle: the maximum of their watermarks, so a quiet topic still closes its windows.
    now += idleTimeout;
    exchangeMarkers();
    CHECK(stageTwo.watermark() == 300'000 - delay);
    // A bounded run ends both: +inf.
    stageOne.end(0);
    stageOne.end(1);
    exchangeMarkers();
    CHECK(stageTwo.watermark() == std::numeric_limits<int64_t>::max());
}

TEST_CASE("rows produced again after a stage-1 restart are applied once") {
    UpstreamWatermarks upstream;
    // The old owner of source partition 4 produced offsets 10..14; the new one restarts from its commit at 12.
    for (int64_t offset = 10; offset <= 14; ++offset) CHECK(upstream.admitRow(4, offset));
    for (int64_t offset = 12; offset <= 14; ++offset) CHECK_FALSE(upstream.admitRow(4, offset));
    CHECK(upstream.admitRow(4, 15));
    CHECK(upstream.admitRow(5, 0));  // another source partition has its own offsets
    // Filtered rows leave gaps: only order matters.
    CHECK(upstream.admitRow(4, 40));
    CHECK_FALSE(upstream.admitRow(4, 39));

    // The state travels in checkpoints.
    upstream.observe(marker(0, 6, 77));
    StateWriter writer;
    upstream.write(writer);
    UpstreamWatermarks restored;
    StateReader reader(writer.bytes());
    restored.read(reader);
    CHECK(reader.atEnd());
    CHECK_FALSE(restored.admitRow(4, 40));
    CHECK(restored.admitRow(4, 41));
    CHECK(restored.sourcePartitions() == 6);
    CHECK(restored.upstreamWatermarks()[0] == 77);
    StateReader truncated(std::string_view(writer.bytes()).substr(0, 10));
    CHECK_THROWS_AS(restored.read(truncated), std::runtime_error);
}

TEST_CASE("virtual clock: two stage-1 members, one stalled — stage 2 holds until it is idle, never guessing") {
    SourcePartitionClock memberA(0, 1000);
    SourcePartitionClock memberB(0, 1000);
    UpstreamWatermarks stageTwo;
    int64_t now = 0;
    memberA.assign(0, now);
    memberB.assign(1, now);
    memberA.observe(0, 5000, now);
    stageTwo.observe(memberA.marker(2, now));
    CHECK_FALSE(stageTwo.watermark());  // nothing heard from partition 1 yet: waiting is right
    memberB.observe(1, 3000, now);
    stageTwo.observe(memberB.marker(2, now));
    CHECK(stageTwo.watermark() == 3000);
    // Member B keeps reading but its partition lags: it holds stage 2 back however far A runs.
    for (int step = 1; step <= 20; ++step) {
        now += 100;
        memberA.observe(0, 5000 + step * 1000, now);
        memberB.observe(1, 3000 + step, now);
        stageTwo.observe(memberA.marker(2, now));
        stageTwo.observe(memberB.marker(2, now));
        CHECK(stageTwo.watermark() == 3000 + step);
    }
    // Member B's partition goes quiet: after its idle timeout its markers say so, and A alone moves stage 2.
    now += 999;
    stageTwo.observe(memberB.marker(2, now));
    CHECK(stageTwo.watermark() == 3020);
    now += 1;
    stageTwo.observe(memberB.marker(2, now));
    stageTwo.observe(memberA.marker(2, now));
    CHECK(stageTwo.watermark() == 25000);
}
