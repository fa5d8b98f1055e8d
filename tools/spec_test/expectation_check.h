#pragma once

#include "compiler/common/diagnostics.h"
#include "tools/spec_test/spec_test_file.h"
#include "tools/spec_test/spec_test_runner.h"

#include <pipec/plan.pb.h>

#include <string>
#include <vector>

namespace pipec::spec_test {

/// Checks what a test file says against the compiled job, now that it is known: `features` keys are resolved to the
/// job's Redis sinks (nested under the sink's name when there are several), row fields must name output columns,
/// `_topic` the source topic. Problems are E0703/E0705 at their place; returns false when there were any.
bool resolveAgainstJob(TestFile& file, const plan::Job& job, DiagnosticEngine& diagnostics);

/// One expectation a run did not meet, at the place in the test file that states it.
struct ExpectationFailure {
    std::string expectation;  // `features`, `rows`, `rows_exactly`, `late`, `dead_letters`
    SourceLocation location;
    std::string message;
    std::string label;
    std::string expected;
    std::string actual;
    std::vector<std::string> notes;  // more about the actual value (the rows emitted, the events rejected)
};

/// The expectations `test` does not meet. A test that checks nothing (no `expect`, or an empty one) fails: it would
/// pass whatever the job computes; `--bless` fills it in.
std::vector<ExpectationFailure> checkExpectations(const TestCase& test, const TestOutcome& outcome);

/// A failure as a diagnostic (E0701), for the text and GitHub renderers.
Diagnostic failureDiagnostic(const ExpectationFailure& failure);

/// A feature key as the test file writes it: `{value: "1", ttl: 1200}`.
std::string describeHeldKey(const runtime::RecordingFeatureSink::HeldKey& key);
/// An emitted row as a YAML flow map of its columns: `{st: 101, count: 2}`.
std::string describeRow(const std::vector<plan::OutputColumn>& columns, const std::vector<JsonScalar>& row);

} // namespace pipec::spec_test
