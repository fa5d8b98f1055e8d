#pragma once

#include <string>
#include <vector>

namespace pipec::spec_test {

/// The result of one test, or of a test file that could not run (errors in it or in its spec).
struct JunitCase {
    std::string name;
    int line = 0;
    double seconds = 0;
    enum class Result { Passed, Failed, Error } result = Result::Passed;
    std::string message;  // the first failure's (or error's) message
    std::string type;     // its diagnostic code
    std::string details;  // every failure or diagnostic, rendered as text
};

struct JunitSuite {
    std::string file;
    std::vector<JunitCase> cases;
};

/// JUnit XML as CI dashboards read it (the schema of Jenkins' JUnit plugin, tests/spec_test/junit.xsd): one
/// <testsuite> per test file, one <testcase> per test, <failure> for unmet expectations and <error> for a test file
/// or spec with errors.
std::string junitXml(const std::vector<JunitSuite>& suites);

} // namespace pipec::spec_test
