// Fuzz target: a `pipec test` file (../shared/SPEC-TESTS.md) → what `pipec test` does with it: load it, resolve its
// expectations against the compiled job of the example spec it names (examples/*.yaml, compiled once), run each
// test, check the expectations, render the failures and the JUnit report, and `--bless` the failing tests. Checked:
// no crash, hang or undefined behaviour; and the --bless round trip: the blessed file loads without errors and its
// blessed tests pass.
#include "tests/fuzz/fuzz_inputs.h"
#include "tools/spec_test/expect_rewriter.h"
#include "tools/spec_test/expectation_check.h"
#include "tools/spec_test/junit_report.h"
#include "tools/spec_test/spec_test_file.h"
#include "tools/spec_test/spec_test_runner.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

namespace {

using namespace pipec;
using namespace pipec::spec_test;

/// The example job the file is about: the one it names with `job:`, else the first of the spec it names (by file
/// name, so that a seed copied from examples/ finds its own), else the first example job.
const plan::Job& chooseJob(const TestFile& file) {
    const std::vector<plan::Job>& jobs = fuzz::exampleJobs();
    if (file.job)
        for (const auto& job : jobs)
            if (job.name() == file.job->value) return job;
    const std::string specName = std::filesystem::path(file.specPath).filename().string();
    for (const auto& job : jobs)
        if (std::filesystem::path(job.spec_file()).filename().string() == specName) return job;
    return jobs.front();
}

struct FileRun {
    std::vector<TestOutcome> outcomes;
    std::vector<BlessedTest> failing;
};

/// Runs every test of a loaded file against `job`, as `pipec test` does, and renders what it would print.
FileRun runFile(const TestFile& file, const plan::Job& job, const SourceManager& sources, JunitSuite& suite) {
    FileRun run;
    run.outcomes.reserve(file.tests.size());
    for (const auto& test : file.tests) {
        run.outcomes.push_back(runTest(job, test));
        std::vector<ExpectationFailure> failures = checkExpectations(test, run.outcomes.back());
        JunitCase result{test.name.value, test.name.location.line, 0, JunitCase::Result::Passed, "", "", ""};
        if (!failures.empty()) {
            run.failing.push_back(BlessedTest{&test, &run.outcomes.back()});
            std::vector<Diagnostic> rendered;
            for (const auto& failure : failures) rendered.push_back(failureDiagnostic(failure));
            fuzz::renderEveryFormat(rendered, sources);
            result.result = JunitCase::Result::Failed;
            result.message = failures.front().message;
            result.type = "E0701";
            result.details = renderAll(rendered, sources, DiagnosticFormat::Text);
        }
        suite.cases.push_back(std::move(result));
    }
    return run;
}

[[noreturn]] void roundTripFailed(const char* what, const std::string& blessed, const DiagnosticEngine& diagnostics,
                                  const SourceManager& sources) {
    std::fprintf(stderr, "fuzz: --bless round trip: %s\n--- blessed file ---\n%s\n--- diagnostics ---\n%s\n", what, blessed.c_str(),
                 renderAll(diagnostics.all(), sources, DiagnosticFormat::Text).c_str());
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::writeScratchFile("fuzz.test.yaml", std::string_view(reinterpret_cast<const char*>(data), size));
    SourceManager sources;
    DiagnosticEngine diagnostics;
    std::unique_ptr<TestFile> file = loadTestFile(path, sources, diagnostics);
    const plan::Job* job = file ? &chooseJob(*file) : nullptr;
    if (!file || !resolveAgainstJob(*file, *job, diagnostics)) {
        fuzz::renderEveryFormat(diagnostics.all(), sources);
        return 0;
    }
    fuzz::renderEveryFormat(diagnostics.all(), sources);

    JunitSuite suite{path, {}};
    FileRun run = runFile(*file, *job, sources, suite);
    (void)junitXml({suite});
    if (run.failing.empty()) return 0;

    // --bless: the rewritten file must load, and the tests it rewrote must now pass.
    const std::string blessed = blessTestFile(*file, run.failing);
    const std::string blessedPath = fuzz::writeScratchFile("fuzz.blessed.test.yaml", blessed);
    SourceManager blessedSources;
    DiagnosticEngine blessedDiagnostics;
    std::unique_ptr<TestFile> reloaded = loadTestFile(blessedPath, blessedSources, blessedDiagnostics);
    if (!reloaded || blessedDiagnostics.hasErrors() || !resolveAgainstJob(*reloaded, *job, blessedDiagnostics))
        roundTripFailed("the blessed file has errors", blessed, blessedDiagnostics, blessedSources);
    JunitSuite blessedSuite{blessedPath, {}};
    FileRun rerun = runFile(*reloaded, *job, blessedSources, blessedSuite);
    for (const auto& failing : run.failing) {
        const std::string& name = failing.test->name.value;
        for (const auto& result : blessedSuite.cases)
            if (result.name == name && result.result != JunitCase::Result::Passed)
                roundTripFailed(("blessed test `" + name + "` still fails: " + result.details).c_str(), blessed, blessedDiagnostics,
                                blessedSources);
    }
    return 0;
}
