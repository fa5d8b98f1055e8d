// The compiler's side of the repartition exchange: when a plan gets `Pipeline.exchange` (exchange_rule.h), which
// columns it carries, and what its row_format fingerprint depends on.
#include "compiler/driver/compilation.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

namespace pipec {
namespace {

namespace fs = std::filesystem;

/// A scratch directory removed at the end of the test.
struct ScratchDirectory {
    ScratchDirectory() {
        std::string pattern = (fs::temp_directory_path() / "pipec-exchange-XXXXXX").string();
        path = mkdtemp(pattern.data());
    }
    ~ScratchDirectory() {
        std::error_code error;
        fs::remove_all(path, error);
    }
    fs::path path;
};

/// Compiles one job reading store_timeline_events; `kafka` holds extra kafka source keys (each `key: value`).
plan::Pipeline compile(const std::string& sql, const std::vector<std::string>& kafka = {}, const std::set<std::string>& disabledPasses = {}) {
    ScratchDirectory scratch;
    std::string extra;
    for (const auto& line : kafka) extra += "            " + line + "\n";
    std::string spec = fmt::format(R"(sources:
  - name: job
    type: REALTIME
    compute_spec:
      type: RIVIERA
      riviera_spec:
        kafka_sources:
          - cluster: default
            topic: store_timeline_events
            proto_class: "com.doordash.timeline_events.StoreTimelineEvent"
{}        sql: "{}"
)",
                                   extra, sql);
    fs::path file = scratch.path / "job.yaml";
    std::ofstream(file) << spec;
    driver::Compilation compilation;
    driver::CompileOptions options;
    options.protoPaths = {std::string(PIPEC_SOURCE_DIR) + "/schemas"};
    options.disabledPasses = disabledPasses;
    driver::compile({file.string()}, options, compilation);
    for (const auto& diagnostic : compilation.diagnostics.all())
        if (diagnostic.severity == Severity::Error) FAIL(diagnostic.code << ": " << diagnostic.message);
    REQUIRE(compilation.jobs.size() == 1);
    return compilation.jobs.front().pipeline;
}

/// The carried columns by name.
std::vector<std::string> carried(const plan::Pipeline& pipeline) {
    std::vector<std::string> names;
    for (int column : pipeline.exchange().columns()) names.push_back(pipeline.source().columns(column).name());
    return names;
}

const char* kWindow = "GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE)";

TEST_CASE("no exchange when key_field is a bare GROUP BY key") {
    auto pipeline = compile(fmt::format("SELECT store_id, COUNT(*) AS n FROM store_timeline_events {}, store_id", kWindow), {"key_field: store_id"});
    CHECK_FALSE(pipeline.has_exchange());
    CHECK(pipeline.source().key_field() == "store_id");
    // One of several keys is enough: equal keys imply equal store_id.
    pipeline = compile(fmt::format("SELECT event_type, store_id, COUNT(*) AS n FROM store_timeline_events {}, event_type, store_id", kWindow),
                       {"key_field: store_id"});
    CHECK_FALSE(pipeline.has_exchange());
    // A nested field, named as the SQL reads it.
    pipeline = compile(fmt::format("SELECT store_location.region AS region, COUNT(*) AS n FROM store_timeline_events {}, store_location.region",
                                   kWindow),
                       {"key_field: store_location.region"});
    CHECK_FALSE(pipeline.has_exchange());
}

TEST_CASE("an exchange when the topic's key is unknown, not a GROUP BY key, or only inside an expression") {
    auto pipeline = compile(fmt::format("SELECT store_id, COUNT(*) AS n FROM store_timeline_events {}, store_id", kWindow));
    REQUIRE(pipeline.has_exchange());
    CHECK(pipeline.exchange().reason() == "the topic's key (key_field not declared) is not the GROUP BY key store_id");
    pipeline = compile(fmt::format("SELECT store_id, COUNT(*) AS n FROM store_timeline_events {}, store_id", kWindow), {"key_field: order_id"});
    REQUIRE(pipeline.has_exchange());
    CHECK(pipeline.exchange().reason() == "key_field order_id is not a GROUP BY key (GROUP BY store_id)");
    pipeline = compile(fmt::format("SELECT store_id % 10 AS bucket, COUNT(*) AS n FROM store_timeline_events {}, store_id % 10", kWindow),
                       {"key_field: store_id"});
    REQUIRE(pipeline.has_exchange());
    CHECK(pipeline.exchange().reason() == "key_field store_id is not a GROUP BY key (GROUP BY store_id % 10)");
    // One group per window: every row must reach one task, whatever the topic's key.
    pipeline = compile(fmt::format("SELECT COUNT(*) AS n FROM store_timeline_events {}", kWindow), {"key_field: store_id"});
    REQUIRE(pipeline.has_exchange());
    CHECK(pipeline.exchange().columns_size() == 0);
}

TEST_CASE("exchange: none and stateless jobs never get an exchange") {
    CHECK_FALSE(compile(fmt::format("SELECT store_id, COUNT(*) AS n FROM store_timeline_events {}, store_id", kWindow), {"exchange: none"})
                    .has_exchange());
    CHECK_FALSE(compile("SELECT store_id, subtotal_cents FROM store_timeline_events WHERE item_count > 1").has_exchange());
    CHECK_FALSE(compile("SELECT store_id FROM store_timeline_events", {"exchange: auto"}).has_exchange());
}

TEST_CASE("the exchange carries the columns the window reads, not those only the filter reads, nor _time") {
    auto pipeline = compile(fmt::format("SELECT store_id, SUM(subtotal_cents) AS revenue, MAX(CAST(item_count AS DOUBLE)) AS items "
                                        "FROM store_timeline_events WHERE consumer_id > 0 AND event_type = 'ORDER_CREATED' {}, store_id",
                                        kWindow),
                            {"time_field: created_at"});
    REQUIRE(pipeline.has_exchange());
    const auto& exchange = pipeline.exchange();
    CHECK(carried(pipeline) == std::vector<std::string>{"store_id", "item_count", "subtotal_cents"});
    REQUIRE(exchange.column_types_size() == 3);
    CHECK(exchange.column_types(0) == plan::BIGINT);
    CHECK(exchange.column_types(1) == plan::INT);
    CHECK(exchange.column_types(2) == plan::BIGINT);
    for (int i = 1; i < exchange.columns_size(); ++i) CHECK(exchange.columns(i - 1) < exchange.columns(i));
    for (int column : exchange.columns()) CHECK(column > 0);
    CHECK(exchange.row_format().size() == 16);
    CHECK(exchange.row_format().find_first_not_of("0123456789abcdef") == std::string::npos);

    // Without projection pruning the indexes are those of the whole message: the same columns, other numbers.
    auto unpruned = compile(fmt::format("SELECT store_id, SUM(subtotal_cents) AS revenue, MAX(CAST(item_count AS DOUBLE)) AS items "
                                        "FROM store_timeline_events WHERE consumer_id > 0 AND event_type = 'ORDER_CREATED' {}, store_id",
                                        kWindow),
                            {"time_field: created_at"}, {"projection_pruning"});
    CHECK(carried(unpruned) == carried(pipeline));
    CHECK(unpruned.exchange().columns(1) != exchange.columns(1));
    CHECK(unpruned.exchange().row_format() != exchange.row_format());
}

TEST_CASE("row_format changes with the carried columns and keys, not with what stage 2 computes from them") {
    auto rowFormat = [](const std::string& select, const std::string& rest = "") {
        return compile(fmt::format("SELECT {} FROM store_timeline_events {}, store_id{}", select, kWindow, rest)).exchange().row_format();
    };
    std::string base = rowFormat("store_id, SUM(subtotal_cents) AS revenue");
    CHECK(rowFormat("store_id, SUM(subtotal_cents) AS revenue") == base);                       // deterministic
    CHECK(rowFormat("store_id, MAX(subtotal_cents) AS revenue") == base);                       // another aggregate, same column
    CHECK(rowFormat("store_id, SUM(subtotal_cents) AS revenue", " HAVING COUNT(*) > 1") == base); // HAVING is after the exchange
    CHECK(rowFormat("store_id, SUM(item_count) AS revenue") != base);                           // another column and type
    CHECK(rowFormat("store_id, SUM(subtotal_cents) AS revenue, COUNT(consumer_id) AS c") != base); // one more column
    CHECK(compile(fmt::format("SELECT store_id % 10 AS b, SUM(subtotal_cents) AS revenue FROM store_timeline_events {}, store_id % 10",
                              kWindow))
              .exchange()
              .row_format() != base);                                                          // another key expression
}

} // namespace
} // namespace pipec
