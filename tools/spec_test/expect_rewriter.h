#pragma once

#include "tools/spec_test/spec_test_file.h"
#include "tools/spec_test/spec_test_runner.h"

#include <string>
#include <vector>

namespace pipec::spec_test {

/// A test whose `expect` block `--bless` rewrites, with what its run produced.
struct BlessedTest {
    const TestCase* test = nullptr;
    const TestOutcome* outcome = nullptr;
};

/// The test file's text with the `expect` block of each test in `tests` replaced by the actual values (added when the
/// test has none), everything else as it was written. The block keeps the expectation kinds it had (all of them for
/// a test without one, and `rows` with `rows_exactly`) and `rows_exactly`: `features` lists every key the sinks hold (nested per sink when there are
/// several) and the keys it listed as `absent` that still are, with the `tolerance` of a value still within it;
/// `rows` lists every emitted row; `late` and `dead_letters` the counts.
std::string blessTestFile(const TestFile& file, const std::vector<BlessedTest>& tests);

} // namespace pipec::spec_test
