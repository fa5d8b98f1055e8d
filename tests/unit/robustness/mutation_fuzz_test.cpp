// Robustness: thousands of mutated specs and SQL strings (truncated, random bytes, spliced, deeply nested) must
// never crash, hang or trip the sanitizers, and every rejected input must come with at least one diagnostic.
#include "compiler/catalog/catalog.h"
#include "compiler/plan/binder.h"
#include "compiler/spec/spec_loader.h"
#include "compiler/sql/sql_parser.h"

#include <doctest/doctest.h>

#include <fstream>
#include <random>
#include <sstream>

using namespace pipec;

namespace {

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

const char* kSeedQueries[] = {
    "SELECT store_id AS st, SUM(CAST(has_store_order_confirmed_data AS INT)) AS total FROM store_timeline_events "
    "GROUP BY HOP(_time, INTERVAL '20' SECONDS, INTERVAL '20' MINUTES), store_id",
    "SELECT store_id, AVG(delivery_wait_seconds) AS w, TUMBLE_END(_time, INTERVAL '5' MINUTES) AS e FROM "
    "store_timeline_events WHERE event_type = 'ORDER_DELIVERED' AND item_count BETWEEN 1 AND 3 GROUP BY "
    "TUMBLE(_time, INTERVAL '5' MINUTES), store_id HAVING COUNT(*) > 1",
    "SELECT consumer_id, COUNT(DISTINCT store_id) AS n FROM store_timeline_events WHERE consumer_id IN (1, 2, 3) "
    "AND order_id LIKE 'a%' GROUP BY SESSION(_time, INTERVAL '10' MINUTES), consumer_id",
    "SELECT CASE WHEN item_count > 2 THEN 'big' ELSE COALESCE(promo_code, 'x') END AS c, store_location.region "
    "FROM store_timeline_events WHERE NOT (subtotal_cents < 10 OR store_id IS NULL)",
    "WITH t AS (SELECT store_id AS s, _time AS ts FROM store_timeline_events) SELECT s, window_time, COUNT(*) AS n "
    "FROM TABLE(CUMULATE(DATA => TABLE t, TIMECOL => DESCRIPTOR(ts), STEP => INTERVAL '1' MINUTE, SIZE => "
    "INTERVAL '1' HOUR)) GROUP BY window_start, window_end, s HAVING window_end > TIMESTAMP '2026-01-01 00:00:00'",
};

const char* kFragments[] = {"(", ")", "'", "\"", "`", ",", "SELECT", "FROM", "GROUP BY", "HOP(", "INTERVAL", "CASE",
                            "END", "AND", "*", "--", "/*", "\n", "\t", "\xff", "\xc3", "\x00", "9999999999999999999999",
                            "NULL", "COUNT(DISTINCT", "::", "||", "1e999", "-"};

std::string mutate(std::string text, std::mt19937& random) {
    std::uniform_int_distribution<int> operation(0, 5);
    int steps = 1 + static_cast<int>(random() % 4);
    for (int step = 0; step < steps && !text.empty(); ++step) {
        size_t position = random() % (text.size() + 1);
        switch (operation(random)) {
        case 0: text.resize(position); break;                                                           // truncate
        case 1: text.insert(position, 1, static_cast<char>(random() % 256)); break;                      // random byte
        case 2: if (position < text.size()) text.erase(position, 1 + random() % 8); break;                // delete
        case 3: text.insert(position, kFragments[random() % std::size(kFragments)]); break;               // splice token
        case 4: if (position < text.size()) text[position] = static_cast<char>(random() % 128); break;   // flip
        case 5: { size_t depth = 1 + random() % 300; text.insert(position, std::string(depth, '(')); break; }  // nest
        }
    }
    return text;
}

} // namespace

TEST_CASE("mutated SQL never crashes and every rejection has a diagnostic") {
    SourceManager sources;
    DiagnosticEngine catalogDiagnostics;
    auto catalog = catalog::Catalog::load({std::string(PIPEC_SOURCE_DIR) + "/schemas"}, sources, catalogDiagnostics);
    REQUIRE(catalog);
    REQUIRE_FALSE(catalogDiagnostics.hasErrors());
    DiagnosticEngine schemaDiagnostics;
    auto schema = catalog->resolve("com.doordash.timeline_events.StoreTimelineEvent", SourceLocation{}, schemaDiagnostics);
    REQUIRE(schema);

    spec::Source source;
    source.name.value = "fuzz";
    spec::KafkaSource kafka;
    kafka.cluster.value = "default";
    kafka.topic.value = "store_timeline_events";
    kafka.protoClass.value = "com.doordash.timeline_events.StoreTimelineEvent";
    kafka.format.value = "protobuf";
    source.kafkaSources.push_back(kafka);

    std::mt19937 random(12345);
    int parsed = 0, rejected = 0;
    for (int iteration = 0; iteration < 5000; ++iteration) {  // 1000 per seed query
        std::string sql = mutate(kSeedQueries[iteration % std::size(kSeedQueries)], random);
        DiagnosticEngine diagnostics;
        auto locate = [&](size_t offset, size_t length) {
            CHECK(offset <= sql.size());
            return SourceLocation{"fuzz.sql", 1, static_cast<int>(offset) + 1, static_cast<int>(length)};
        };
        auto query = sql::parseQuery(sql, locate, diagnostics);
        if (!query) {
            CHECK(diagnostics.hasErrors());
            ++rejected;
            continue;
        }
        auto plan = logical::bindQuery(source, *schema, *query, locate, diagnostics);
        if (plan) ++parsed;
        else {
            CHECK(diagnostics.hasErrors());
            ++rejected;
        }
    }
    // Both paths must be exercised, or the mutations are too weak to mean anything. (A mutation inside an enum
    // literal such as 'ORDER_DELIVERED' is rejected since E0420 made unknown enum values an error, so fewer bind:
    // 44 of the 4000 with this seed; the window TVF seed query came with 1000 more iterations.)
    CHECK(parsed > 40);
    CHECK(rejected > 1000);
}

TEST_CASE("mutated spec files never crash and every rejection has a diagnostic") {
    std::vector<std::string> seeds = {readFile(std::string(PIPEC_SOURCE_DIR) + "/examples/store_order_count.yaml"),
                                      readFile(std::string(PIPEC_SOURCE_DIR) + "/examples/delivery_wait_avg.yaml"),
                                      readFile(std::string(PIPEC_SOURCE_DIR) + "/examples/consumer_session_count.yaml")};
    for (const auto& seed : seeds) REQUIRE_FALSE(seed.empty());
    std::mt19937 random(987);
    int clean = 0;
    for (int iteration = 0; iteration < 3000; ++iteration) {
        std::string text = mutate(seeds[iteration % seeds.size()], random);
        SourceManager sources;
        DiagnosticEngine diagnostics;
        auto spec = spec::loadSpecText("fuzz.yaml", text, sources, diagnostics);
        if (!spec) CHECK(diagnostics.hasErrors());
        if (spec && !diagnostics.hasErrors()) {
            ++clean;
            // Every SQL offset must map inside the file.
            for (const auto& source : spec->sources) {
                for (size_t offset = 0; offset <= source.sql.text.size(); ++offset) {
                    SourceLocation location = source.sql.locate(offset, 1);
                    CHECK(location.line >= 0);
                }
            }
        }
        for (const auto& diagnostic : diagnostics.all()) {
            // Rendering must not crash on any location, in any format.
            std::string text = renderText(diagnostic, sources) + renderJson(diagnostic) + renderGitHub(diagnostic);
            CHECK_FALSE(text.empty());
        }
    }
    CHECK(clean > 10);
}
