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
    Diagnostic d{"E0301", Severity::Error, "bad: a,b\nc", SourceLocation{"x.yaml", 3, 4, 2}, {}, {}, {}, {}};
    CHECK(renderGitHub(d) == "::error file=x.yaml,line=3,col=4,endColumn=6,title=E0301::bad: a,b%0Ac");
    CHECK(renderJson(d).find("\"message\":\"bad: a,b\\nc\"") != std::string::npos);
}

TEST_CASE("github annotations carry the label, notes and help, escaped per GitHub's workflow command rules") {
    Diagnostic d{"E0401", Severity::Warning, "100% wrong\r", SourceLocation{"dir,a:b/x.yaml", 3, 4, 2}, "did you mean `a`?",
                 "write 50%", {"first, second"}, {"staging", "prod"}};
    CHECK(renderGitHub(d) == "::warning file=dir%2Ca%3Ab/x.yaml,line=3,col=4,endColumn=6,title=E0401::"
                             "100%25 wrong%0D (environments `staging`, `prod`)%0Adid you mean `a`?%0Anote: first, second"
                             "%0Ahelp: write 50%25");
    CHECK(renderJson(d).find("\"environments\":[\"staging\",\"prod\"]") != std::string::npos);
}

TEST_CASE("a problem found in several environments is reported once, listing them") {
    DiagnosticEngine engine;
    Diagnostic unknownSink{"E0106", Severity::Error, "unknown sink `s`", SourceLocation{"a.yaml", 5, 3, 1}, {}, {}, {}, {}};
    engine.addForEnvironment(unknownSink, "local");
    engine.addForEnvironment(unknownSink, "prod");
    Diagnostic other = unknownSink;
    other.location.line = 6;
    engine.addForEnvironment(other, "prod");
    REQUIRE(engine.all().size() == 2);
    CHECK(engine.all()[0].environments == std::vector<std::string>{"local", "prod"});
    CHECK(headline(engine.all()[0]) == "unknown sink `s` (environments `local`, `prod`)");
    CHECK(headline(engine.all()[1]) == "unknown sink `s` (environment `prod`)");
    // A diagnostic of the spec itself is never merged with an environment's.
    engine.add(unknownSink);
    engine.addForEnvironment(unknownSink, "staging");
    CHECK(engine.all().size() == 3);
    CHECK(engine.all()[0].environments.size() == 3);
}

TEST_CASE("--deny-warnings turns warnings into errors") {
    DiagnosticEngine engine;
    engine.warning("W0403", SourceLocation{}, "gaps");
    CHECK_FALSE(engine.hasErrors());
    engine.denyWarnings();
    CHECK(engine.errorCount() == 1);
    CHECK(engine.all()[0].code == "W0403");
    CHECK(engine.all()[0].notes.back() == "warning W0403 is an error because of --deny-warnings");
}

TEST_CASE("closest match suggests typos only") {
    CHECK(closestMatch("store_di", {"store_id", "order_id"}) == "store_id");
    CHECK(closestMatch("zzz", {"store_id", "order_id"}).empty());
}
