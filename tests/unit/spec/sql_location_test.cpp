// The SQL embedded in a spec is mapped back to file positions for every byte, whatever the YAML scalar style.
#include "compiler/spec/spec_loader.h"

#include <doctest/doctest.h>

using namespace pipec;

namespace {

std::string specWithSql(const std::string& sqlBlock) {
    return "sources:\n"
           "  - name: job\n"
           "    type: REALTIME\n"
           "    compute_spec:\n"
           "      type: RIVIERA\n"
           "      riviera_spec:\n"
           "        kafka_sources:\n"
           "          - {cluster: default, topic: t, proto_class: \"a.B\"}\n" +
           sqlBlock;
}

spec::Source loadOne(const std::string& text) {
    SourceManager sources;
    DiagnosticEngine diagnostics;
    auto file = spec::loadSpecText("s.yaml", text, sources, diagnostics);
    REQUIRE(file);
    REQUIRE_MESSAGE(!diagnostics.hasErrors(), renderAll(diagnostics.all(), sources, DiagnosticFormat::Text));
    REQUIRE(file->sources.size() == 1);
    return file->sources.front();
}

/// Line and column (1-based) of the first occurrence of `needle` in the raw file.
std::pair<int, int> filePosition(const std::string& text, const std::string& needle) {
    size_t offset = text.find(needle);
    REQUIRE(offset != std::string::npos);
    int line = 1, column = 1;
    for (size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return {line, column};
}

void checkToken(const std::string& text, const spec::Source& source, const std::string& token, const std::string& fileNeedle) {
    size_t offset = source.sql.text.find(token);
    REQUIRE(offset != std::string::npos);
    SourceLocation location = source.sql.locate(offset, token.size());
    auto [line, column] = filePosition(text, fileNeedle);
    CAPTURE(token);
    CHECK(location.line == line);
    CHECK(location.column == column);
    CHECK(location.length == static_cast<int>(token.size()));
}

} // namespace

TEST_CASE("folded block scalar >- maps tokens on every line, including more-indented ones") {
    std::string text = specWithSql("        sql: >-\n"
                                   "          SELECT store_id AS st,\n"
                                   "                 SUM(x) AS total\n"
                                   "          FROM t\n"
                                   "          GROUP BY HOP(_time, INTERVAL '20' SECONDS, INTERVAL '20' MINUTES), store_id\n");
    spec::Source source = loadOne(text);
    CHECK(source.sql.text.find("\n") != std::string::npos);  // the more-indented line keeps its line breaks
    checkToken(text, source, "SELECT", "SELECT");
    checkToken(text, source, "SUM(x)", "SUM(x)");
    checkToken(text, source, "FROM", "FROM");
    checkToken(text, source, "MINUTES", "MINUTES");
}

TEST_CASE("literal block scalar | and strip/keep chomping") {
    for (const char* indicator : {"|", "|-", "|+", ">", ">+", "|2"}) {
        CAPTURE(indicator);
        std::string text = specWithSql(std::string("        sql: ") + indicator + "\n"
                                       "          SELECT a\n"
                                       "          FROM t\n"
                                       "\n"
                                       "          WHERE b = 1\n");
        spec::Source source = loadOne(text);
        checkToken(text, source, "WHERE", "WHERE");
        checkToken(text, source, "FROM", "FROM");
    }
}

TEST_CASE("plain and quoted scalars") {
    std::string plain = specWithSql("        sql: SELECT a FROM t WHERE b = 1\n");
    checkToken(plain, loadOne(plain), "WHERE", "WHERE");
    std::string multiLine = specWithSql("        sql: SELECT a\n          FROM t WHERE c = 2\n");
    checkToken(multiLine, loadOne(multiLine), "WHERE", "WHERE");
    std::string single = specWithSql("        sql: 'SELECT a FROM t WHERE b = ''x'''\n");
    checkToken(single, loadOne(single), "WHERE", "WHERE");
    std::string doubled = specWithSql("        sql: \"SELECT a FROM t WHERE b = \\\"x\\\"\"\n");
    checkToken(doubled, loadOne(doubled), "WHERE", "WHERE");
}

TEST_CASE("CRLF line endings map to the same columns") {
    std::string text = specWithSql("        sql: >-\r\n          SELECT a\r\n          FROM t\r\n");
    for (size_t i = 0; (i = text.find('\n', i)) != std::string::npos; i += 2)
        if (i == 0 || text[i - 1] != '\r') text.insert(i, "\r");
    spec::Source source = loadOne(text);
    CHECK(source.sql.text == "SELECT a\nFROM t");  // the line break YAML folded away is put back
    checkToken(text, source, "FROM", "FROM");
}

TEST_CASE("line breaks of a folded block come back outside string literals, so a -- comment ends at its line") {
    std::string text = specWithSql("        sql: >-\n          SELECT a -- the key\n          FROM t WHERE b = 'x\n          y' /* two\n          lines */\n");
    spec::Source source = loadOne(text);
    CHECK(source.sql.text == "SELECT a -- the key\nFROM t WHERE b = 'x y' /* two\nlines */");
    checkToken(text, source, "FROM", "FROM");
    // A literal block keeps its own line breaks; nothing changes.
    std::string literal = specWithSql("        sql: |\n          SELECT a -- the key\n          FROM t\n");
    CHECK(loadOne(literal).sql.text == "SELECT a -- the key\nFROM t\n");
}

TEST_CASE("when the rebuilt text cannot be verified, every offset falls back to the scalar's start") {
    // A multi-line double-quoted scalar is not rebuilt; positions must not be wrong, only coarse.
    std::string text = specWithSql("        sql: \"SELECT a\n          FROM t\"\n");
    spec::Source source = loadOne(text);
    SourceLocation location = source.sql.locate(source.sql.text.find("FROM"), 4);
    auto [line, column] = filePosition(text, "\"SELECT");
    CHECK(location.line == line);
    CHECK(location.column == column);
}

namespace {

int64_t milliseconds(std::string_view text) {
    spec::Duration duration = spec::parseDuration(text);
    REQUIRE(duration.status == spec::Duration::Status::Valid);
    return duration.milliseconds;
}

spec::Duration::Status status(std::string_view text) { return spec::parseDuration(text).status; }

} // namespace

TEST_CASE("durations") {
    CHECK(milliseconds("1500ms") == 1500);
    CHECK(milliseconds("5s") == 5000);
    CHECK(milliseconds("2m") == 120000);
    CHECK(milliseconds("1h") == 3600000);
    CHECK(milliseconds("1d") == 86400000);
    CHECK(milliseconds(" 5 s ") == 5000);
    CHECK(milliseconds("0") == 0);
    CHECK(milliseconds("000") == 0);
    CHECK(milliseconds("0s") == 0);
    CHECK(status("250") == spec::Duration::Status::MissingUnit);
    CHECK(spec::parseDuration("0250").number == "0250");
    CHECK(status("-5s") == spec::Duration::Status::Invalid);
    CHECK(status("5 seconds") == spec::Duration::Status::Invalid);
    CHECK(status("1.5s") == spec::Duration::Status::Invalid);
    CHECK(status("") == spec::Duration::Status::Invalid);
    CHECK(status("s") == spec::Duration::Status::Invalid);
}

TEST_CASE("durations are checked against the engine's time range without overflowing") {
    // 2^60 ms is the limit; one more millisecond is out of range.
    CHECK(milliseconds("1152921504606846976ms") == int64_t{1} << 60);
    CHECK(status("1152921504606846977ms") == spec::Duration::Status::OutOfRange);
    // 999999999999 days overflow int64 when multiplied out; 10^30 does not even fit the count.
    CHECK(status("999999999999d") == spec::Duration::Status::OutOfRange);
    CHECK(status("1000000000000000000000000000000s") == spec::Duration::Status::OutOfRange);
    CHECK(milliseconds("13343998895d") == 13343998895LL * 86400000LL);
    CHECK(status("13343998896d") == spec::Duration::Status::OutOfRange);
}

TEST_CASE("durations and quantities are scanned in linear time, without a regex engine") {
    // libstdc++'s std::regex recursed per character and overflowed the stack on inputs like these.
    std::string padded = "5s" + std::string(200000, ' ');
    CHECK(milliseconds(padded) == 5000);
    std::string longNumber(200000, '7');
    CHECK(status(longNumber + "s") == spec::Duration::Status::OutOfRange);
    CHECK_FALSE(spec::validQuantity(std::string(200000, '1') + "x", true));
    CHECK(spec::validQuantity(std::string(200000, '1') + "Mi", true));
    CHECK(spec::validQuantity(std::string(200000, '1') + "m", false));
}

TEST_CASE("Kubernetes quantities") {
    for (const char* cpu : {"2400m", "2", "0.5", "10"}) CHECK(spec::validQuantity(cpu, false));
    for (const char* cpu : {"2400M", "0.5m", "m", "", "1.", ".5", "2 ", "1Gi"}) CHECK_FALSE(spec::validQuantity(cpu, false));
    for (const char* memory : {"1Gi", "512Mi", "1G", "1.5Gi", "1024", "1k", "3E"}) CHECK(spec::validQuantity(memory, true));
    for (const char* memory : {"1 GB", "1GB", "1gi", "Gi", "", "1.Gi", "1Gi "}) CHECK_FALSE(spec::validQuantity(memory, true));
}

TEST_CASE("the examples and the environment config load cleanly") {
    for (const char* name : {"store_order_count", "delivery_wait_avg", "consumer_session_count"}) {
        SourceManager sources;
        DiagnosticEngine diagnostics;
        auto file = spec::loadSpecFile(std::string(PIPEC_SOURCE_DIR) + "/examples/" + name + ".yaml", sources, diagnostics);
        REQUIRE(file);
        CHECK(diagnostics.all().empty());
    }
}
