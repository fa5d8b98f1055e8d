// Fuzz target: Kafka records (value bytes and envelope headers) → the job of an example spec, through `pipec test`'s
// runner: the Kafka job's bad-record rules (tombstone, empty value, envelope headers, Confluent framing, schema
// name), the record decoder (binary Protobuf or the JSON mapping), the event-time checks, the operators and the
// Redis sinks' formatting. Or, in the other mode, JSON lines as `pipec run --input` reads them (`_time` and the
// JSON mapping). Checked: no crash, hang or undefined behaviour; a bad record is rejected, never more.
//
// Input layout (tests/fuzz/seeds/record/ has examples, made by make_record_seeds.py):
//   byte 0      bits 0-1: which example job (modulo their number); bit 2: JSON lines instead of Kafka records;
//               bit 3: end the test holding the windows open instead of flushing them
//   then        records separated by "\n----\n". A Kafka record is `name:value` header lines, an empty line,
//               and the value bytes (no empty line: no headers, all value). `!null` alone is a NULL value.
#include "tests/fuzz/fuzz_inputs.h"
#include "tools/spec_test/spec_test_runner.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace pipec;

constexpr std::string_view kRecordSeparator = "\n----\n";

spec_test::EventStep kafkaRecord(std::string_view text) {
    spec_test::EventStep event;
    event.raw = true;
    if (text == "!null") return event;  // a tombstone: no value
    if (size_t blank = text.find("\n\n"); blank != std::string_view::npos) {
        std::string_view headers = text.substr(0, blank);
        text.remove_prefix(blank + 2);
        while (!headers.empty()) {
            size_t end = headers.find('\n');
            std::string_view line = headers.substr(0, end);
            headers = end == std::string_view::npos ? std::string_view() : headers.substr(end + 1);
            size_t colon = line.find(':');
            event.headers.emplace_back(std::string(line.substr(0, colon)),
                                       colon == std::string_view::npos ? std::string() : std::string(line.substr(colon + 1)));
        }
    }
    event.value = std::string(text);
    return event;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<plan::Job>& jobs = fuzz::exampleJobs();
    if (size == 0) return 0;
    const uint8_t selector = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const plan::Job& job = jobs[(selector & 3u) % jobs.size()];
    const bool jsonLines = selector & 4u;

    spec_test::TestCase test;
    test.end = selector & 8u ? spec_test::End::Hold : spec_test::End::Flush;
    while (true) {
        size_t separator = rest.find(kRecordSeparator);
        std::string_view record = rest.substr(0, separator);
        if (jsonLines) {
            spec_test::EventStep event;
            event.json = std::string(record);
            test.steps.emplace_back(std::move(event));
        } else {
            test.steps.emplace_back(kafkaRecord(record));
        }
        if (separator == std::string_view::npos) break;
        rest.remove_prefix(separator + kRecordSeparator.size());
    }
    (void)spec_test::runTest(job, test);
    return 0;
}
