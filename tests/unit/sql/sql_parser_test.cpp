#include "compiler/sql/sql_parser.h"

#include <doctest/doctest.h>

using namespace pipec;
using namespace pipec::sql;

namespace {

/// Locations in these tests are plain offsets: line 1, column = offset + 1.
SourceLocation offsetLocation(size_t offset, size_t length) {
    return SourceLocation{"q.sql", 1, static_cast<int>(offset) + 1, static_cast<int>(length)};
}

std::optional<Query> parse(const std::string& text, DiagnosticEngine& diagnostics) {
    return parseQuery(text, offsetLocation, diagnostics);
}

} // namespace

TEST_CASE("the seed query parses into a HOP group window") {
    DiagnosticEngine diagnostics;
    auto query = parse("SELECT store_id AS st, SUM(CAST(has_data AS INT)) AS total FROM store_timeline_events "
                       "GROUP BY HOP(_time, INTERVAL '20' SECONDS, INTERVAL '20' MINUTES), store_id",
                       diagnostics);
    REQUIRE(query);
    CHECK(diagnostics.all().empty());
    REQUIRE(query->selectItems.size() == 2);
    CHECK(query->selectItems[0].alias == "st");
    REQUIRE(query->groupBy.size() == 2);
    const Expression& hop = *query->groupBy[0];
    CHECK(hop.kind == ExpressionKind::FunctionCall);
    CHECK(hop.name.front() == "HOP");
    REQUIRE(hop.arguments.size() == 3);
    CHECK(hop.arguments[1]->literal.kind == LiteralKind::Interval);
    CHECK(hop.arguments[1]->literal.intervalMs == 20'000);
    CHECK(hop.arguments[2]->literal.intervalMs == 1'200'000);
}

TEST_CASE("keywords are case-insensitive and identifiers may be quoted") {
    DiagnosticEngine diagnostics;
    auto query = parse("select `select`, \"from\" as x FrOm t wHeRe a iS nOt NuLl", diagnostics);
    REQUIRE(query);
    CHECK(query->selectItems[0].expression->name.front() == "select");
    CHECK(query->selectItems[1].expression->name.front() == "from");
    CHECK(query->where->kind == ExpressionKind::IsNull);
    CHECK(query->where->negated);
}

TEST_CASE("operator precedence: AND binds tighter than OR, * tighter than +") {
    DiagnosticEngine diagnostics;
    auto query = parse("SELECT a + b * c AS x FROM t WHERE a = 1 OR b = 2 AND c = 3", diagnostics);
    REQUIRE(query);
    const Expression& sum = *query->selectItems[0].expression;
    CHECK(sum.op == "+");
    CHECK(sum.arguments[1]->op == "*");
    const Expression& where = *query->where;
    CHECK(where.op == "OR");
    CHECK(where.arguments[1]->op == "AND");
}

TEST_CASE("BETWEEN's AND is not a logical AND") {
    DiagnosticEngine diagnostics;
    auto query = parse("SELECT a FROM t WHERE a BETWEEN 1 AND 5 AND b NOT IN (1, 2) AND c NOT LIKE 'x%'", diagnostics);
    REQUIRE(query);
    const Expression& where = *query->where;
    CHECK(where.op == "AND");
    CHECK(where.arguments[0]->op == "AND");
    CHECK(where.arguments[0]->arguments[0]->kind == ExpressionKind::Between);
    CHECK(where.arguments[0]->arguments[1]->kind == ExpressionKind::In);
    CHECK(where.arguments[0]->arguments[1]->negated);
    CHECK(where.arguments[1]->kind == ExpressionKind::Like);
}

TEST_CASE("CASE, CAST, COUNT(*), COUNT(DISTINCT x), negative literals") {
    DiagnosticEngine diagnostics;
    auto query = parse("SELECT CASE WHEN a > 1 THEN 'x' ELSE 'y' END, CAST(a AS BIGINT), COUNT(*), COUNT(DISTINCT b), "
                       "-9223372036854775808, -a FROM t",
                       diagnostics);
    REQUIRE(query);
    CHECK(query->selectItems[0].expression->kind == ExpressionKind::Case);
    CHECK(query->selectItems[0].expression->caseHasElse);
    CHECK(query->selectItems[1].expression->castType.name == "BIGINT");
    CHECK(query->selectItems[2].expression->star);
    CHECK(query->selectItems[3].expression->distinct);
    CHECK(query->selectItems[4].expression->literal.text == "-9223372036854775808");
    CHECK(query->selectItems[5].expression->kind == ExpressionKind::Unary);
}

TEST_CASE("string literals unescape doubled quotes; comments are ignored") {
    DiagnosticEngine diagnostics;
    auto query = parse("SELECT 'it''s' -- trailing comment\nFROM /* block */ t", diagnostics);
    REQUIRE(query);
    CHECK(query->selectItems[0].expression->literal.text == "it's");
}

TEST_CASE("interval units: singular, plural, and unknown") {
    DiagnosticEngine diagnostics;
    auto query = parse("SELECT a FROM t GROUP BY TUMBLE(_time, INTERVAL '2' HOUR), HOP(_time, INTERVAL '1' DAY, INTERVAL '1500' MILLISECONDS)",
                       diagnostics);
    REQUIRE(query);
    CHECK(query->groupBy[0]->arguments[1]->literal.intervalMs == 7'200'000);
    CHECK(query->groupBy[1]->arguments[1]->literal.intervalMs == 86'400'000);
    CHECK(query->groupBy[1]->arguments[2]->literal.intervalMs == 1500);

    DiagnosticEngine bad;
    CHECK_FALSE(parse("SELECT a FROM t GROUP BY TUMBLE(_time, INTERVAL '2' FORTNIGHTS)", bad));
    REQUIRE(bad.all().size() == 1);
    CHECK(bad.all()[0].code == "E0302");
    CHECK(bad.all()[0].location.column == 53);
}

TEST_CASE("syntax errors point at the offending token") {
    struct Case {
        std::string sql;
        int column;
        std::string message;
    };
    const Case cases[] = {
        {"SELECT a b c", 12, "syntax error: unexpected `c`"},
        {"SELECT a FROM", 14, "syntax error: unexpected end of SQL"},
        {"SELECT a FROM t WHERE b = 'open", 27, "syntax error: unterminated string literal"},
        {"SELECT a FROM t WHERE b # 1", 25, "syntax error: unexpected character `#`"},
        {"SELECT a FROM t ORDER BY a", 17, "ORDER BY is not supported in a streaming query"},
        {"SELECT a FROM t JOIN u", 17, "JOIN is not supported yet"},
        {"SELECT FROM t", 8, "syntax error: unexpected `FROM`"},
    };
    for (const auto& c : cases) {
        DiagnosticEngine diagnostics;
        CAPTURE(c.sql);
        CHECK_FALSE(parse(c.sql, diagnostics));
        REQUIRE(diagnostics.all().size() == 1);
        CHECK(diagnostics.all()[0].code == "E0301");
        CHECK(diagnostics.all()[0].message == c.message);
        CHECK(diagnostics.all()[0].location.column == c.column);
    }
}

TEST_CASE("non-ASCII text keeps byte offsets") {
    DiagnosticEngine diagnostics;
    CHECK_FALSE(parse("SELECT 'héllo' x FROM t WHERE #", diagnostics));
    REQUIRE(diagnostics.all().size() == 1);
    // '#' is at byte offset 31 (é takes two bytes), so column 32.
    CHECK(diagnostics.all()[0].location.column == 32);
}

TEST_CASE("deep nesting is rejected instead of overflowing the stack") {
    DiagnosticEngine diagnostics;
    std::string sql = "SELECT " + std::string(5000, '(') + "1" + std::string(5000, ')') + " FROM t";
    CHECK_FALSE(parse(sql, diagnostics));
    REQUIRE(diagnostics.all().size() == 1);
    CHECK(diagnostics.all()[0].code == "E0303");
}

TEST_CASE("invalid UTF-8 is a located diagnostic, not an exception") {
    DiagnosticEngine diagnostics;
    CHECK_FALSE(parse("SELECT 'caf\xe9' FROM t", diagnostics));
    REQUIRE(diagnostics.all().size() == 1);
    CHECK(diagnostics.all()[0].code == "E0304");
    CHECK(diagnostics.all()[0].location.column == 12);
}

TEST_CASE("agg(...) FILTER (WHERE ...), and FILTER still usable as a name") {
    DiagnosticEngine diagnostics;
    auto query = parse("SELECT COUNT(*) FILTER (WHERE x > 1) AS big, LISTAGG(DISTINCT s, ';') filter (where s <> '') AS l, "
                       "filter.a AS f, filter FROM t GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE)",
                       diagnostics);
    REQUIRE(query);
    CHECK(diagnostics.all().empty());
    REQUIRE(query->selectItems.size() == 4);
    const Expression& count = *query->selectItems[0].expression;
    CHECK(count.star);
    REQUIRE(count.filter);
    CHECK(count.filter->op == ">");
    CHECK(count.text == "COUNT(*) FILTER (WHERE x > 1)");
    const Expression& list = *query->selectItems[1].expression;
    CHECK(list.distinct);
    CHECK(list.arguments.size() == 2);
    REQUIRE(list.filter);
    CHECK(list.filter->op == "<>");
    CHECK(query->selectItems[2].expression->name == std::vector<std::string>{"filter", "a"});
    CHECK(query->selectItems[3].expression->name == std::vector<std::string>{"filter"});
    CHECK(!query->selectItems[3].expression->filter);
}

TEST_CASE("window table-valued functions in FROM: positional and named arguments") {
    DiagnosticEngine diagnostics;
    auto query = parse("SELECT window_start, COUNT(*) AS n FROM TABLE(CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' HOUR, "
                       "INTERVAL '1' DAY)) GROUP BY window_start, window_end",
                       diagnostics);
    REQUIRE(query);
    CHECK(diagnostics.all().empty());
    REQUIRE(query->from.window);
    const WindowTableFunction& cumulate = *query->from.window;
    CHECK(cumulate.name == "CUMULATE");
    CHECK(query->from.name == std::vector<std::string>{"t"});  // the table read is the TABLE argument
    REQUIRE(cumulate.arguments.size() == 4);
    CHECK(cumulate.arguments[0].kind == WindowArgument::Kind::Table);
    CHECK(cumulate.arguments[1].kind == WindowArgument::Kind::Descriptor);
    CHECK(cumulate.arguments[1].value->kind == ExpressionKind::Column);
    CHECK(cumulate.arguments[1].value->name.front() == "ts");
    CHECK(cumulate.arguments[2].value->literal.intervalMs == 3'600'000);
    CHECK(cumulate.arguments[3].value->literal.intervalMs == 86'400'000);

    auto named = parse("SELECT COUNT(*) AS n FROM TABLE(TUMBLE(SIZE => INTERVAL '1' MINUTE, data => TABLE t, "
                       "TIMECOL => DESCRIPTOR(_time))) GROUP BY window_start, window_end",
                       diagnostics);
    REQUIRE(named);
    CHECK(diagnostics.all().empty());
    const auto& arguments = named->from.window->arguments;
    REQUIRE(arguments.size() == 3);
    CHECK(arguments[0].parameter == "SIZE");
    CHECK(arguments[1].parameter == "DATA");  // upper-cased
    CHECK(arguments[1].kind == WindowArgument::Kind::Table);
    CHECK(arguments[2].kind == WindowArgument::Kind::Descriptor);
}

TEST_CASE("TABLE and DESCRIPTOR remain usable as column names") {
    DiagnosticEngine diagnostics;
    auto query = parse("SELECT `table`, descriptor, table AS t2 FROM table WHERE descriptor > 1", diagnostics);
    REQUIRE(query);
    CHECK(diagnostics.all().empty());
    CHECK(query->selectItems[1].expression->name.front() == "descriptor");
    CHECK(query->selectItems[2].expression->name.front() == "table");
    CHECK(query->from.name.front() == "table");
    CHECK_FALSE(query->from.window);
}
