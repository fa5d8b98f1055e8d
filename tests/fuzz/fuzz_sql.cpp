// Fuzz target: a SQL query → parse, bind, lint, optimize and lower it as the job of each example spec (its source,
// message schema and features), print every stage as `pipec explain` does, check that the plan reads back, and run
// the lowered plan on the first events of examples/data through the runtime (as `pipec test` runs a job). Checked: no
// crash, hang or undefined behaviour in the compiler or in the runtime executing what the compiler accepted.
#include "compiler/driver/compilation.h"
#include "compiler/lint/job_lints.h"
#include "compiler/lower/lower.h"
#include "compiler/optimize/optimizer.h"
#include "compiler/plan/binder.h"
#include "compiler/sql/sql_parser.h"
#include "tests/fuzz/fuzz_inputs.h"
#include "tools/spec_test/spec_test_runner.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace pipec;

/// The example specs compiled once: each job's source, schema and features are the context a query is bound in.
struct Examples {
    driver::Compilation compilation;
    std::vector<catalog::MessageSchema> schemas;  // per job
    std::vector<std::vector<const spec::Feature*>> features;  // per job
    spec_test::TestCase events;  // the first events of examples/data, as JSON lines
};

const Examples& examples() {
    static const Examples* loaded = [] {
        auto* result = new Examples;
        driver::CompileOptions options = fuzz::exampleCompileOptions();
        options.environmentName = "local";
        driver::compile({fuzz::sourcePath("examples")}, options, result->compilation);
        for (const auto& job : result->compilation.jobs) {
            DiagnosticEngine diagnostics;
            const auto& kafka = job.source.kafkaSources.front();
            auto schema = result->compilation.catalog->resolve(kafka.protoClass.value, kafka.protoClass.location, diagnostics);
            if (!schema) std::abort();
            result->schemas.push_back(std::move(*schema));
            std::vector<const spec::Feature*> features;
            for (const auto& file : result->compilation.specs)
                for (const auto& feature : file.features)
                    if (feature.source.value == job.source.name.value) features.push_back(&feature);
            result->features.push_back(std::move(features));
        }
        if (result->compilation.diagnostics.hasErrors() || result->compilation.jobs.empty()) {
            std::fputs("fuzz: the examples do not compile\n", stderr);
            std::abort();
        }
        std::ifstream data(fuzz::sourcePath("examples/data/store_timeline_events.jsonl"));
        std::string line;
        for (int count = 0; count < 12 && std::getline(data, line); ++count) {
            spec_test::EventStep event;
            event.json = line;
            result->events.steps.emplace_back(std::move(event));
        }
        return result;
    }();
    return *loaded;
}

/// Windows one row belongs to: a HOP of 1 ms slide over a day is legal (up to 1,000,000 per row, E0421) and runs, but
/// slowly; the run below skips plans past this so that a slow-by-design plan is not reported as a hang.
constexpr int64_t kMaxWindowsPerRowRun = 10'000;

bool cheapToRun(const plan::Pipeline& pipeline) {
    const plan::WindowAggregate& window = pipeline.window();
    return (window.kind() != plan::HOP && window.kind() != plan::CUMULATE) || window.slide_ms() <= 0 || window.size_ms() / window.slide_ms() <= kMaxWindowsPerRowRun;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const Examples& context = examples();
    const std::string text(reinterpret_cast<const char*>(data), size);

    // The query is its own file: diagnostics point into it and render with its lines.
    SourceManager sources;
    sources.addFile("query.sql", text);
    spec::SqlText sql;
    sql.text = text;
    sql.location = SourceLocation{"query.sql", 1, 1, 1};
    int line = 1, column = 1;
    for (char character : text) {
        sql.offsetLocations.push_back(SourceLocation{"query.sql", line, column, 1});
        if (character == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    sql.offsetLocations.push_back(SourceLocation{"query.sql", line, column, 1});
    sql::SqlLocator locate = [&sql](size_t offset, size_t length) { return sql.locate(offset, length); };

    DiagnosticEngine diagnostics;
    std::optional<sql::Query> query = sql::parseQuery(text, locate, diagnostics);
    if (query) {
        (void)sql::printAst(*query);
        for (size_t i = 0; i < context.compilation.jobs.size(); ++i) {
            spec::Source source = context.compilation.jobs[i].source;
            source.sql = sql;
            DiagnosticEngine found;
            std::optional<logical::LogicalPlan> bound = logical::bindQuery(source, context.schemas[i], *query, locate, found);
            if (bound) {
                lint::lintJob(source, *bound, context.features[i], locate, found);
                (void)logical::printPlan(*bound);
                optimize::optimize(*bound, {});
                (void)logical::printPlan(*bound);
                plan::Job job;
                job.set_name(source.name.value);
                *job.mutable_pipeline() = lower::lowerPlan(*bound, {});
                (void)lower::printPhysical(job.pipeline());
                fuzz::checkJobReadsBack(job);
                if (cheapToRun(job.pipeline())) (void)spec_test::runTest(job, context.events);
            }
            for (const auto& diagnostic : found.all()) diagnostics.add(diagnostic);
        }
    }
    fuzz::renderEveryFormat(diagnostics.all(), sources);
    return 0;
}
