#include "tools/pipec/command.h"
#include "tools/pipec/compiler_flags.h"

#include "runtime/core/user_error.h"
#include "tools/spec_test/expect_rewriter.h"
#include "tools/spec_test/expectation_check.h"
#include "tools/spec_test/junit_report.h"
#include "tools/spec_test/spec_test_file.h"
#include "tools/spec_test/spec_test_runner.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace pipec::cli {

namespace {

using namespace pipec::spec_test;

struct TestOptions {
    std::vector<std::string> paths;
    std::string format = "text";
    std::string color = "auto";
    std::string junit;
    bool bless = false;
    std::vector<std::string> protoPaths;
    std::string environmentFile;
    std::vector<std::string> overrides;
};

/// Runs the test files one after the other and reports as it goes: a line per test, the failures under it.
class TestSession {
public:
    explicit TestSession(const TestOptions& options)
        : options_(options), color_(options.color == "always" || (options.color == "auto" && isatty(STDOUT_FILENO))) {}

    void runFile(const std::string& path) {
        JunitSuite suite{path, {}};
        SourceManager sources;
        DiagnosticEngine diagnostics;
        std::unique_ptr<TestFile> file = loadTestFile(path, sources, diagnostics);
        if (!file) return fileFailed(suite, "the test file has errors", diagnostics.all(), sources);

        CompilerFlags flags;
        flags.options.environmentName = file->environment.value;
        flags.options.environmentFile = options_.environmentFile;
        flags.options.overrides = options_.overrides;
        flags.options.protoPaths = options_.protoPaths;
        flags.finish();
        driver::Compilation compilation;
        driver::compile({file->specPath}, flags.options, compilation);
        // The spec's warnings are shown as `pipec run` shows them; its errors stop the file.
        if (compilation.diagnostics.hasErrors())
            return fileFailed(suite, fmt::format("the spec `{}` has errors", file->specPath), compilation.diagnostics.all(), compilation.sources);
        print(compilation.diagnostics.all(), compilation.sources);

        const driver::CompiledJob* chosen = nullptr;
        std::vector<std::string> names;
        for (const auto& job : compilation.jobs) {
            names.push_back(job.source.name.value);
            if (file->job ? job.source.name.value == file->job->value : compilation.jobs.size() == 1) chosen = &job;
        }
        if (!chosen) {
            if (file->job) {
                auto& d = diagnostics.error("E0702", file->job->location, fmt::format("no job `{}` in `{}`", file->job->value, file->specPath));
                std::string suggestion = closestMatch(file->job->value, names);
                d.label = suggestion.empty() ? "not a job of the spec" : fmt::format("did you mean `{}`?", suggestion);
            } else {
                auto& d = diagnostics.error("E0702", file->spec.location, fmt::format("`{}` defines {} jobs; the test must name one", file->specPath, names.size()));
                d.label = "which job?";
                d.help = names.empty() ? "a spec test needs a spec with a source job" : fmt::format("add `job: {}`", names.front());
            }
            return fileFailed(suite, "the test file has errors", diagnostics.all(), sources);
        }
        plan::Job job = driver::buildJob(compilation, *chosen);
        if (!resolveAgainstJob(*file, job, diagnostics)) return fileFailed(suite, "the test file has errors", diagnostics.all(), sources);

        std::vector<TestOutcome> outcomes;
        outcomes.reserve(file->tests.size());
        std::vector<BlessedTest> blessed;
        std::vector<std::string> blessedTitles;  // printed once the file is rewritten (or refused)
        for (const auto& test : file->tests) {
            auto start = std::chrono::steady_clock::now();
            JunitCase result{test.name.value, test.name.location.line, 0, JunitCase::Result::Passed, "", "", ""};
            std::vector<ExpectationFailure> failures;
            try {
                outcomes.push_back(runTest(job, test));
                failures = checkExpectations(test, outcomes.back());
            } catch (const UserError& error) {
                // The environment's sink settings are refused (an invalid Redis address), as `pipec run` refuses them.
                fileFailed(suite, fmt::format("error: {}", error.what()), {}, sources);
                return;
            }
            result.seconds = secondsSince(start);
            const std::string title = fmt::format("{}: {}", path, test.name.value);
            if (failures.empty()) {
                ++passed_;
                std::cout << "ok      " << title << "\n";
            } else if (options_.bless) {
                ++blessed_;
                blessed.push_back(BlessedTest{&test, &outcomes.back()});
                blessedTitles.push_back(title);
            } else {
                ++failed_;
                std::cout << "FAILED  " << title << "\n";
                std::vector<Diagnostic> rendered;
                for (const auto& failure : failures) rendered.push_back(failureDiagnostic(failure));
                print(rendered, sources);
                result.result = JunitCase::Result::Failed;
                result.message = failures.front().message;
                result.type = "E0701";
                result.details = renderAll(rendered, sources, DiagnosticFormat::Text);
            }
            suite.cases.push_back(std::move(result));
        }
        if (!blessed.empty()) {
            try {
                writeBlessed(path, blessTestFile(*file, blessed));
                for (const auto& title : blessedTitles) std::cout << "blessed " << title << "\n";
            } catch (const UserError& error) {
                // The file stays as it was; its blessed tests count as failed.
                for (const auto& title : blessedTitles) std::cout << "FAILED  " << title << "\n";
                std::cout << fmt::format("error: --bless left `{}` unchanged: {}\n", path, error.what());
                blessed_ -= blessed.size();
                failed_ += blessed.size();
                for (auto& result : suite.cases)
                    for (const auto& test : blessed)
                        if (result.name == test.test->name.value) {
                            result.result = JunitCase::Result::Failed;
                            result.message = error.what();
                            result.type = "E0701";
                        }
            }
        }
        suites_.push_back(std::move(suite));
    }

    int finish() {
        if (!options_.junit.empty()) {
            std::ofstream out(options_.junit, std::ios::binary | std::ios::trunc);
            out << junitXml(suites_);
            if (!out) throw UserError(fmt::format("cannot write JUnit report `{}`", options_.junit));
        }
        if (blessed_ > 0) std::cout << fmt::format("blessed {} test{}: review the diff of the rewritten `expect` blocks\n", blessed_, blessed_ == 1 ? "" : "s");
        std::cout << fmt::format("{} passed, {} failed\n", passed_, failed_);
        return failed_ == 0 ? 0 : 1;
    }

private:
    /// Writes the blessed text (which blessTestFile checked reads back as the same tests) over the test file: to a
    /// temporary file first, so that a failed write leaves the original.
    static void writeBlessed(const std::string& path, const std::string& text) {
        const std::string temporary = path + ".blessed.tmp";
        {
            std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
            out << text;
            if (!out) throw UserError(fmt::format("cannot write `{}`", temporary));
        }
        if (std::rename(temporary.c_str(), path.c_str()) != 0) {
            std::remove(temporary.c_str());
            throw UserError(fmt::format("cannot replace `{}`", path));
        }
    }

    static double secondsSince(std::chrono::steady_clock::time_point start) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }

    void print(const std::vector<Diagnostic>& diagnostics, const SourceManager& sources) {
        if (diagnostics.empty()) return;
        std::cout << renderAll(diagnostics, sources, options_.format == "github" ? DiagnosticFormat::GitHub : DiagnosticFormat::Text, color_);
    }

    /// A test file that cannot run counts as one failed test, reported with its diagnostics.
    void fileFailed(JunitSuite& suite, const std::string& why, const std::vector<Diagnostic>& diagnostics, const SourceManager& sources) {
        ++failed_;
        std::cout << fmt::format("FAILED  {} ({})\n", suite.file, why);
        print(diagnostics, sources);
        JunitCase result{suite.file, 0, 0, JunitCase::Result::Error, why, "", renderAll(diagnostics, sources, DiagnosticFormat::Text)};
        for (const auto& d : diagnostics)
            if (d.severity == Severity::Error) {
                result.type = d.code;
                break;
            }
        suite.cases.push_back(std::move(result));
        suites_.push_back(std::move(suite));
    }

    const TestOptions& options_;
    bool color_;
    size_t passed_ = 0, failed_ = 0, blessed_ = 0;
    std::vector<JunitSuite> suites_;
};

} // namespace

void registerTestCommand(CLI::App& app) {
    auto options = std::make_shared<TestOptions>();
    CLI::App* command = app.add_subcommand("test", "Run spec tests (*.test.yaml): events through the compiled job, checked against the "
                                                   "features and rows it must produce");
    command->add_option("paths", options->paths, "Test files, or folders searched recursively for *.test.yaml")->required();
    command->add_option("--format", options->format, "Output: text, or github (failures as GitHub workflow annotations)")
        ->check(CLI::IsMember({"text", "github"}))
        ->capture_default_str();
    command->add_option("--junit", options->junit, "Also write the results as JUnit XML to this file");
    command->add_flag("--bless", options->bless, "Rewrite the `expect` block of each failing test with the actual values (review the diff)");
    command->add_option("--color", options->color, "Colored diagnostics")->check(CLI::IsMember({"auto", "always", "never"}))->capture_default_str();
    command->add_option("--proto-path,-I", options->protoPaths, "Extra directories of .proto files (the nearest schemas/ is always searched)");
    command->add_option("--env-file", options->environmentFile, "Environment config file (default: the nearest pipec.yaml)");
    command->add_option("--set", options->overrides, "Override an environment setting, e.g. --set sinks.features.key_format={feature}/{key}");
    command->callback([options] {
        std::vector<std::string> missing;
        std::vector<std::string> files = collectTestFiles(options->paths, missing);
        for (const auto& path : missing) std::cerr << fmt::format("error: no such file or directory `{}`\n", path);
        if (!missing.empty()) throw CLI::RuntimeError(2);
        if (files.empty()) {
            std::cerr << fmt::format("error: no spec tests (*.test.yaml) in {}\n", fmt::join(options->paths, ", "));
            throw CLI::RuntimeError(2);
        }
        TestSession session(*options);
        for (const auto& file : files) session.runFile(file);
        int result = session.finish();
        if (result != 0) throw CLI::RuntimeError(result);
    });
}

} // namespace pipec::cli
