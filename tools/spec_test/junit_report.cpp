#include "tools/spec_test/junit_report.h"

#include <fmt/format.h>

namespace pipec::spec_test {
namespace {

/// Escapes text for an XML attribute or element; drops the control characters XML 1.0 cannot hold (such as the
/// escape sequences of colored output).
std::string xmlEscape(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\n': out += "&#10;"; break;
        default:
            if (c < 0x20 && c != '\t') break;
            out += static_cast<char>(c);
        }
    }
    return out;
}

/// Element text keeps its newlines readable.
std::string xmlText(std::string_view text) {
    std::string out = xmlEscape(text);
    std::string result;
    for (size_t i = 0; i < out.size(); ++i) {
        if (out.compare(i, 5, "&#10;") == 0) {
            result += '\n';
            i += 4;
        } else {
            result += out[i];
        }
    }
    return result;
}

} // namespace

std::string junitXml(const std::vector<JunitSuite>& suites) {
    size_t tests = 0, failures = 0, errors = 0;
    double seconds = 0;
    std::string body;
    for (const auto& suite : suites) {
        size_t suiteFailures = 0, suiteErrors = 0;
        double suiteSeconds = 0;
        std::string cases;
        for (const auto& test : suite.cases) {
            suiteSeconds += test.seconds;
            cases += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3f}\"", xmlEscape(test.name), xmlEscape(suite.file), test.seconds);
            if (test.result == JunitCase::Result::Passed) {
                cases += "/>\n";
                continue;
            }
            const char* element = test.result == JunitCase::Result::Failed ? "failure" : "error";
            (test.result == JunitCase::Result::Failed ? suiteFailures : suiteErrors)++;
            cases += fmt::format(">\n      <{} message=\"{}\" type=\"{}\">{}</{}>\n    </testcase>\n", element, xmlEscape(test.message),
                                 xmlEscape(test.type), xmlText(test.details), element);
        }
        body += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{:.3f}\">\n{}  </testsuite>\n",
                            xmlEscape(suite.file), suite.cases.size(), suiteFailures, suiteErrors, suiteSeconds, cases);
        tests += suite.cases.size();
        failures += suiteFailures;
        errors += suiteErrors;
        seconds += suiteSeconds;
    }
    return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<testsuites name=\"pipec test\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\">\n{}</testsuites>\n",
                       tests, failures, errors, seconds, body);
}

} // namespace pipec::spec_test
