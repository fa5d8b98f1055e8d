#include "tools/spec_test/expect_rewriter.h"

#include "tools/spec_test/expectation_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace pipec::spec_test {
namespace {

/// A map key as plain YAML when that reads back the same, else double-quoted.
std::string yamlKey(const std::string& text) {
    bool plain = !text.empty() && (std::isalnum(static_cast<unsigned char>(text.front())) || text.front() == '_');
    for (char c : text) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_:.|-/").find(c) != std::string_view::npos);
    // `key:` followed by nothing would end the key early.
    plain = plain && text.back() != ':';
    return plain ? text : quoteJson(text);
}

/// Where each line of `text` starts.
std::vector<size_t> lineStarts(const std::string& text) {
    std::vector<size_t> starts{0};
    for (size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n') starts.push_back(i + 1);
    return starts;
}

size_t indentation(std::string_view line) {
    size_t spaces = 0;
    while (spaces < line.size() && line[spaces] == ' ') ++spaces;
    return spaces;
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

class Rewriter {
public:
    explicit Rewriter(const std::string& text) : text_(text), starts_(lineStarts(text)) {}

    std::string_view line(size_t index) const {
        size_t end = index + 1 < starts_.size() ? starts_[index + 1] : text_.size();
        std::string_view view(text_.data() + starts_[index], end - starts_[index]);
        if (!view.empty() && view.back() == '\n') view.remove_suffix(1);
        return view;
    }

    /// The end of the block that starts on line `first` (0-based): the start of the first later line that is not
    /// blank and indented less than `minimumIndentation`, before the blank lines ahead of it.
    size_t blockEnd(size_t first, size_t minimumIndentation) const {
        size_t end = starts_.size();
        for (size_t index = first + 1; index < starts_.size(); ++index) {
            std::string_view text = line(index);
            if (!blank(text) && indentation(text) < minimumIndentation) {
                end = index;
                break;
            }
        }
        while (end > first + 1 && blank(line(end - 1))) --end;
        return end < starts_.size() ? starts_[end] : text_.size();
    }

private:
    const std::string& text_;
    std::vector<size_t> starts_;
};

struct Edit {
    size_t begin = 0;
    size_t end = 0;
    std::string text;
};

std::string renderFeatures(const Expectations& expect, const TestOutcome& outcome, const std::string& indent) {
    // Keys the test listed as absent (still absent), and values still within their tolerance, keep that form.
    std::map<std::pair<std::string, std::string>, const ExpectedFeature*> listed;
    for (const auto& feature : expect.expectedFeatures) listed[{feature.sink, feature.key.value}] = &feature;
    bool nested = outcome.features.size() > 1;
    std::string out;
    for (const auto& [sink, keys] : outcome.features) {
        std::string lines;
        std::string keyIndent = nested ? indent + "  " : indent;
        std::map<std::string, std::string> entries;
        for (const auto& [key, held] : keys) {
            std::string entry = describeHeldKey(held);
            auto found = listed.find({sink, key});
            if (found != listed.end() && found->second->tolerance && found->second->value) {
                double expected = std::strtod(found->second->value->value.c_str(), nullptr);
                char* end = nullptr;
                double actual = std::strtod(held.value.c_str(), &end);
                if (end == held.value.c_str() + held.value.size() && std::fabs(actual - expected) <= found->second->tolerance->value)
                    entry = fmt::format("{{value: {}, tolerance: {}, ttl: {}}}", found->second->value->value, found->second->tolerance->value,
                                        held.ttlSeconds);
            }
            entries[key] = entry;
        }
        for (const auto& [where, feature] : listed)
            if (where.first == sink && feature->absent && !keys.count(where.second)) entries[where.second] = "absent";
        for (const auto& [key, entry] : entries) lines += fmt::format("{}{}: {}\n", keyIndent, yamlKey(key), entry);
        if (nested) out += fmt::format("{}{}:{}", indent, yamlKey(sink), lines.empty() ? " {}\n" : "\n" + lines);
        else out += lines;
    }
    return out;
}

std::string renderExpect(const TestCase& test, const TestOutcome& outcome, const std::string& indent) {
    const Expectations& expect = test.expect;
    bool everything = !test.hasExpect || (!expect.features && !expect.rows && !expect.rowsExactly && !expect.late && !expect.deadLetters);
    std::string out;
    if (expect.features || (everything && !outcome.features.empty())) {
        std::string features = renderFeatures(expect, outcome, indent + "  ");
        out += indent + "features:" + (features.empty() ? " {}\n" : "\n" + features);
    }
    // `rows_exactly` means nothing without the rows it compares with.
    if (expect.rows || expect.rowsExactly || everything) {
        if (outcome.rows.empty()) out += indent + "rows: []\n";
        else out += indent + "rows:\n";
        for (const auto& row : outcome.rows) {
            std::vector<std::string> parts;
            for (size_t c = 0; c < outcome.columns.size() && c < row.size(); ++c)
                parts.push_back(yamlKey(outcome.columns[c].name()) + ": " + row[c].json());
            out += fmt::format("{}  - {{{}}}\n", indent, fmt::join(parts, ", "));
        }
    }
    if (expect.rowsExactly) out += fmt::format("{}rows_exactly: {}\n", indent, expect.rowsExactly->value ? "true" : "false");
    if (expect.late || everything) out += fmt::format("{}late: {}\n", indent, outcome.late);
    if (expect.deadLetters || everything) out += fmt::format("{}dead_letters: {}\n", indent, outcome.deadLetters);
    return out;
}

} // namespace

std::string blessTestFile(const TestFile& file, const std::vector<BlessedTest>& tests) {
    const std::string& text = file.text;
    Rewriter rewriter(text);
    std::vector<Edit> edits;
    for (const auto& [test, outcome] : tests) {
        if (test->hasExpect) {
            const YAML::Mark key = test->expectKey.Mark();
            size_t keyIndent = static_cast<size_t>(key.column);
            size_t colon = text.find(':', static_cast<size_t>(key.pos) + std::string("expect").size());
            size_t end = rewriter.blockEnd(static_cast<size_t>(key.line), keyIndent + 1);
            edits.push_back(Edit{colon + 1, end, "\n" + renderExpect(*test, *outcome, std::string(keyIndent + 2, ' '))});
        } else {
            // After the test's last line, at the indentation of its keys.
            const YAML::Mark first = test->testNode.begin()->first.Mark();
            size_t keyIndent = static_cast<size_t>(first.column);
            size_t end = rewriter.blockEnd(static_cast<size_t>(first.line), keyIndent);
            std::string block = std::string(keyIndent, ' ') + "expect:\n" + renderExpect(*test, *outcome, std::string(keyIndent + 2, ' '));
            if (end > 0 && text[end - 1] != '\n') block = "\n" + block;
            edits.push_back(Edit{end, end, block});
        }
    }
    std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.begin > b.begin; });
    std::string result = text;
    for (const auto& edit : edits) {
        std::string replacement = edit.text;
        // The block ends with a newline; the text it replaces may not (the end of the file).
        if (edit.end == text.size() && (text.empty() || text.back() != '\n') && edit.begin != edit.end) replacement.pop_back();
        result.replace(edit.begin, edit.end - edit.begin, replacement);
    }
    return result;
}

} // namespace pipec::spec_test
