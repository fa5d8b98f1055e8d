#include "compiler/common/diagnostics.h"

#include <doctest/doctest.h>

using namespace pipec;

TEST_CASE("text rendering shows the snippet and a caret under the span") {
    SourceManager sources;
    sources.addFile("spec.yaml", "a: 1\nsql: SELECT amount_usd FROM t\n");
    DiagnosticEngine engine;
    auto& d = engine.error("E0401", SourceLocation{"spec.yaml", 2, 13, 10}, "unknown column `amount_usd`");
    d.label = "did you mean `amount_cents`?";
    std::string text = renderText(engine.all()[0], sources);
    CHECK(text == "error[E0401]: unknown column `amount_usd`\n"
                  "  --> spec.yaml:2:13\n"
                  "  |\n"
                  "2 | sql: SELECT amount_usd FROM t\n"
                  "  |             ^^^^^^^^^^ did you mean `amount_cents`?\n");
}

TEST_CASE("github and json renderings escape their payloads") {
    Diagnostic d{"E0301", Severity::Error, "bad: a,b\nc", SourceLocation{"x.yaml", 3, 4, 2}, {}, {}, {}};
    CHECK(renderGitHub(d) == "::error file=x.yaml,line=3,col=4,endColumn=6,title=E0301::bad: a,b%0Ac");
    CHECK(renderJson(d).find("\"message\":\"bad: a,b\\nc\"") != std::string::npos);
}

TEST_CASE("closest match suggests typos only") {
    CHECK(closestMatch("store_di", {"store_id", "order_id"}) == "store_id");
    CHECK(closestMatch("zzz", {"store_id", "order_id"}).empty());
}
