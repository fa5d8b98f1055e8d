// Fuzz target: a `pipec test` file (../shared/SPEC-TESTS.md) → what `pipec test` does with it: load it, resolve its
// expectations against the job of the spec it names (compiled once per spec; the examples and the specs of the
// seeds are within reach of its relative path), run each test, check the expectations, render the failures and the JUnit report, and `--bless` the failing tests. Checked:
// no crash, hang or undefined behaviour; and the --bless round trip: the blessed file loads without errors and its
// blessed tests pass.
#include "runtime/core/user_error.h"
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
#include <map>
#include <optional>
#include <string_view>

namespace {

using namespace pipec;
using namespace pipec::spec_test;

namespace fs = std::filesystem;

/// Where the input is written: four folders deep in the scratch directory, beside links to the example specs, with
/// links that make the relative `spec:` paths of the seeds resolve as they do in the repository
/// (`../../../../examples/…` from tests/golden/cli/spec_tests, `../specs/orders.yaml` from tests/spec_test/*,
/// `../../golden/errors/…` from tests/spec_test/errors).
std::string testFilePath() {
    static const std::string path = [] {
        const fs::path root = fuzz::scratchPath("");
        const fs::path folder = root / "d1" / "d2" / "d3" / "d4";
        fs::create_directories(folder);
        fs::create_directory_symlink(fuzz::sourcePath("examples"), root / "examples");
        fs::create_directory_symlink(fuzz::sourcePath("tests/spec_test/specs"), root / "d1" / "d2" / "d3" / "specs");
        fs::create_directory_symlink(fuzz::sourcePath("tests/golden"), root / "d1" / "d2" / "golden");
        for (const auto& entry : fs::directory_iterator(fuzz::sourcePath("examples")))
            if (entry.path().extension() == ".yaml") fs::create_symlink(entry.path(), folder / entry.path().filename());
        return (folder / "fuzz.test.yaml").string();
    }();
    return path;
}

/// The job a test file runs, compiled as `pipec test` compiles it (the spec it names, in its environment), once per
/// spec file and environment: nothing when the spec has errors or does not have exactly the job the file asks for
/// (what `pipec test` reports as errors of the file).
const plan::Job* compiledJob(const TestFile& file) {
    static std::map<std::string, std::optional<plan::Job>> cache;
    std::error_code error;
    const std::string spec = fs::canonical(file.specPath, error).string();
    if (error) return nullptr;
    const std::string key = spec + '\n' + file.environment.value + '\n' + (file.job ? file.job->value : std::string("\n"));
    auto [found, inserted] = cache.try_emplace(key);
    if (inserted && cache.size() < 1000) {
        driver::CompileOptions options;
        options.environmentName = file.environment.value;
        driver::Compilation compilation;
        driver::compile({spec}, options, compilation);
        if (!compilation.diagnostics.hasErrors()) {
            const driver::CompiledJob* chosen = nullptr;
            for (const auto& job : compilation.jobs)
                if (file.job ? job.source.name.value == file.job->value : compilation.jobs.size() == 1) chosen = &job;
            if (chosen) found->second = driver::buildJob(compilation, *chosen);
        }
    }
    return found->second ? &*found->second : nullptr;
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
    const std::string path = testFilePath();
    fuzz::writeFile(path, std::string_view(reinterpret_cast<const char*>(data), size));
    SourceManager sources;
    DiagnosticEngine diagnostics;
    std::unique_ptr<TestFile> file = loadTestFile(path, sources, diagnostics);
    const plan::Job* job = file ? compiledJob(*file) : nullptr;
    if (!job || !resolveAgainstJob(*file, *job, diagnostics)) {
        fuzz::renderEveryFormat(diagnostics.all(), sources);
        return 0;
    }
    fuzz::renderEveryFormat(diagnostics.all(), sources);

    JunitSuite suite{path, {}};
    FileRun run = runFile(*file, *job, sources, suite);
    (void)junitXml({suite});
    if (run.failing.empty()) return 0;

    // --bless: the rewritten file must load as the same tests, and the tests it rewrote must now pass. A refusal
    // (an expect block that shares its line with the next entry, in flow style) is an answer, not a finding.
    std::string blessed;
    try {
        blessed = blessTestFile(*file, run.failing);
    } catch (const UserError&) {
        return 0;
    }
    const std::string blessedPath = (fs::path(path).parent_path() / "fuzz.blessed.test.yaml").string();
    fuzz::writeFile(blessedPath, blessed);
    SourceManager blessedSources;
    DiagnosticEngine blessedDiagnostics;
    std::unique_ptr<TestFile> reloaded = loadTestFile(blessedPath, blessedSources, blessedDiagnostics);
    if (!reloaded || blessedDiagnostics.hasErrors()) roundTripFailed("the blessed file does not load", blessed, blessedDiagnostics, blessedSources);
    if (reloaded->tests.size() != file->tests.size()) roundTripFailed("the blessed file has other tests", blessed, blessedDiagnostics, blessedSources);
    for (size_t i = 0; i < file->tests.size(); ++i)
        if (reloaded->tests[i].name.value != file->tests[i].name.value)
            roundTripFailed("the blessed file has other tests", blessed, blessedDiagnostics, blessedSources);
    if (!resolveAgainstJob(*reloaded, *job, blessedDiagnostics))
        roundTripFailed("the blessed expectations do not resolve against the job", blessed, blessedDiagnostics, blessedSources);
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
