// The two spellings of a window bind to one logical plan: a TUMBLE or HOP window table-valued function in FROM gives
// the plan of the same group window in GROUP BY (so the optimizer, the runtime and the emitters see no difference),
// and window_start / window_end / window_time are the group window's *_START / *_END / *_ROWTIME.
#include "compiler/catalog/catalog.h"
#include "compiler/plan/binder.h"
#include "compiler/sql/sql_parser.h"

#include <doctest/doctest.h>

using namespace pipec;

namespace {

std::string boundPlan(const std::string& sql) {
    static SourceManager sources;
    static DiagnosticEngine loading;
    static auto catalog = catalog::Catalog::load({std::string(PIPEC_SOURCE_DIR) + "/schemas"}, sources, loading);
    REQUIRE(catalog);
    DiagnosticEngine diagnostics;
    auto schema = catalog->resolve("com.doordash.timeline_events.StoreTimelineEvent", SourceLocation{}, diagnostics);
    REQUIRE(schema);
    spec::Source source;
    source.name.value = "windows";
    spec::KafkaSource kafka;
    kafka.cluster.value = "default";
    kafka.topic.value = "store_timeline_events";
    kafka.protoClass.value = "com.doordash.timeline_events.StoreTimelineEvent";
    source.kafkaSources.push_back(kafka);
    auto locate = [](size_t offset, size_t length) { return SourceLocation{"q.sql", 1, static_cast<int>(offset) + 1, static_cast<int>(length)}; };
    auto query = sql::parseQuery(sql, locate, diagnostics);
    REQUIRE(query);
    auto plan = logical::bindQuery(source, *schema, *query, locate, diagnostics);
    for (const auto& diagnostic : diagnostics.all()) MESSAGE(diagnostic.message);
    REQUIRE(plan);
    return logical::printPlan(*plan);
}

} // namespace

TEST_CASE("a TUMBLE window TVF binds to the plan of GROUP BY TUMBLE") {
    std::string tvf = boundPlan(
        "SELECT store_id, COUNT(*) AS n, window_start AS ws, window_end AS we, window_time AS rt "
        "FROM TABLE(TUMBLE(TABLE store_timeline_events, DESCRIPTOR(_time), INTERVAL '1' MINUTE)) "
        "WHERE item_count > 0 GROUP BY window_start, window_end, store_id HAVING COUNT(*) > 1");
    std::string group = boundPlan(
        "SELECT store_id, COUNT(*) AS n, TUMBLE_START(_time, INTERVAL '1' MINUTE) AS ws, TUMBLE_END(_time, INTERVAL '1' MINUTE) AS we, "
        "TUMBLE_ROWTIME(_time, INTERVAL '1' MINUTE) AS rt FROM store_timeline_events "
        "WHERE item_count > 0 GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id HAVING COUNT(*) > 1");
    CHECK(tvf == group);
    CHECK(tvf.find("TUMBLE(size=1m)") != std::string::npos);
}

TEST_CASE("a HOP window TVF with named arguments binds to the plan of GROUP BY HOP") {
    std::string tvf = boundPlan(
        "SELECT store_id, SUM(item_count) AS items, window_end AS we "
        "FROM TABLE(HOP(SIZE => INTERVAL '10' MINUTE, DATA => TABLE store_timeline_events, SLIDE => INTERVAL '1' MINUTE, "
        "TIMECOL => DESCRIPTOR(_time))) GROUP BY store_id, window_end, window_start");
    std::string group = boundPlan(
        "SELECT store_id, SUM(item_count) AS items, HOP_END(_time, INTERVAL '1' MINUTE, INTERVAL '10' MINUTE) AS we "
        "FROM store_timeline_events GROUP BY store_id, HOP(_time, INTERVAL '1' MINUTE, INTERVAL '10' MINUTE)");
    CHECK(tvf == group);
}

TEST_CASE("CUMULATE binds its step and max size") {
    std::string plan = boundPlan(
        "SELECT store_id, COUNT(*) AS n FROM TABLE(CUMULATE(TABLE store_timeline_events, DESCRIPTOR(_time), "
        "INTERVAL '1' HOUR, INTERVAL '1' DAY)) GROUP BY window_start, window_end, store_id");
    CHECK(plan.find("CUMULATE(step=1h, max_size=1d)") != std::string::npos);
}
