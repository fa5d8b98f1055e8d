#include "tools/spec_test/expect_rewriter.h"

#include "tools/spec_test/expectation_check.h"

#include "runtime/core/user_error.h"

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

/// Where each YAML node of a document starts (`Mark().pos`), in document order. `--bless` ends a block where the
/// next node outside it starts: indentation alone cannot tell, because a flow collection may continue on a less
/// indented line, and a plain scalar may hold brackets.
class NodeStarts {
public:
    explicit NodeStarts(const YAML::Node& root) { walk(root, -1, 0); std::sort(all_.begin(), all_.end()); }

    /// The first node start after `after` that is not one of `inside` (sorted), or `npos`.
    size_t firstAfter(size_t after, const std::vector<size_t>& inside) const {
        for (auto it = std::upper_bound(all_.begin(), all_.end(), after); it != all_.end(); ++it)
            if (!std::binary_search(inside.begin(), inside.end(), *it)) return *it;
        return std::string::npos;
    }

    /// The starts of `node` and every node below it, sorted.
    static std::vector<size_t> of(const YAML::Node& node) {
        NodeStarts starts;
        starts.walk(node, -1, 0);
        std::sort(starts.all_.begin(), starts.all_.end());
        return std::move(starts.all_);
    }

private:
    NodeStarts() = default;

    void walk(const YAML::Node& node, int64_t parent, int depth) {
        if (!node.IsDefined() || depth > 256 || all_.size() > 1000000) return;
        const int64_t pos = node.Mark().pos;
        // An alias is the anchored node itself, which starts before the alias (and before its parent): not a node of
        // this place in the text. Null values have no text of their own.
        if (pos < 0 || pos < parent) return;
        if (!node.IsNull()) all_.push_back(static_cast<size_t>(pos));
        if (node.IsMap()) {
            for (const auto& entry : node) {
                walk(entry.first, pos, depth + 1);
                walk(entry.second, pos, depth + 1);
            }
        } else if (node.IsSequence()) {
            for (const auto& item : node) walk(item, pos, depth + 1);
        }
    }

    std::vector<size_t> all_;
};

class Rewriter {
public:
    explicit Rewriter(const std::string& text, const YAML::Node& root) : text_(text), starts_(lineStarts(text)), nodes_(root) {}

    std::string_view line(size_t index) const {
        size_t end = index + 1 < starts_.size() ? starts_[index + 1] : text_.size();
        std::string_view view(text_.data() + starts_[index], end - starts_[index]);
        if (!view.empty() && view.back() == '\n') view.remove_suffix(1);
        return view;
    }

    size_t lineOf(size_t pos) const { return static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), pos) - starts_.begin()) - 1; }

    /// The end of the block `node` (whose text starts at `from`): the start of the line of the next node outside it,
    /// before the blank lines and the comment lines indented at most `ownIndentation` ahead of that line (they belong
    /// to what follows). Throws when the next node shares a line with the block (a flow collection written on one
    /// line around it): rewriting lines there would break the YAML.
    size_t blockEnd(size_t from, const YAML::Node& node, size_t ownIndentation, const std::string& what) const {
        const size_t next = nodes_.firstAfter(from, NodeStarts::of(node));
        size_t endLine = starts_.size();
        if (next != std::string::npos) {
            endLine = lineOf(next);
            std::string_view before(text_.data() + starts_[endLine], next - starts_[endLine]);
            if (before.find_first_not_of(" -") != std::string_view::npos || endLine <= lineOf(from))
                throw UserError(fmt::format("cannot rewrite {} on line {}: the next entry shares its line (flow style); write it in "
                                            "block style and run --bless again", what, lineOf(from) + 1));
        }
        const size_t firstLine = lineOf(from);
        while (endLine > firstLine + 1) {
            std::string_view text = line(endLine - 1);
            size_t indent = indentation(text);
            bool ownComment = indent < text.size() && text[indent] == '#' && indent <= ownIndentation;
            if (!blank(text) && !ownComment) break;
            --endLine;
        }
        return endLine < starts_.size() ? starts_[endLine] : text_.size();
    }

private:
    const std::string& text_;
    std::vector<size_t> starts_;
    NodeStarts nodes_;
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

bool sameStep(const Step& a, const Step& b) {
    if (a.index() != b.index()) return false;
    if (const auto* event = std::get_if<EventStep>(&a)) {
        const auto& other = std::get<EventStep>(b);
        return event->raw == other.raw && event->json == other.json && event->value == other.value && event->key == other.key &&
               event->headers == other.headers && event->topic.has_value() == other.topic.has_value() &&
               (!event->topic || event->topic->value == other.topic->value);
    }
    if (const auto* watermark = std::get_if<WatermarkStep>(&a)) return watermark->watermarkMs == std::get<WatermarkStep>(b).watermarkMs;
    return std::get<IdleStep>(a).durationMs == std::get<IdleStep>(b).durationMs;
}

/// The rewritten text must read back as the same tests — names, steps, ends — with an `expect` block in each blessed
/// test: a rewrite that broke the YAML, or whose block ended up inside some other scalar (a quote that never closes),
/// must never replace what the analyst wrote.
void verifyRewrite(const TestFile& original, const std::vector<BlessedTest>& blessed, const std::string& rewritten) {
    SourceManager sources;
    DiagnosticEngine diagnostics;
    std::unique_ptr<TestFile> reloaded = loadTestFileText(original.path, rewritten, sources, diagnostics);
    bool same = reloaded && !diagnostics.hasErrors() && reloaded->tests.size() == original.tests.size() &&
                reloaded->spec.value == original.spec.value;
    for (size_t i = 0; same && i < original.tests.size(); ++i) {
        const TestCase& before = original.tests[i];
        const TestCase& after = reloaded->tests[i];
        same = after.name.value == before.name.value && after.steps.size() == before.steps.size() && after.end == before.end;
        for (size_t j = 0; same && j < before.steps.size(); ++j) same = sameStep(before.steps[j], after.steps[j]);
        bool wasBlessed = std::any_of(blessed.begin(), blessed.end(), [&](const BlessedTest& test) { return test.test == &before; });
        same = same && after.hasExpect == (before.hasExpect || wasBlessed);
    }
    if (!same)
        throw UserError("the rewritten file would not read back as the same tests (the YAML around an `expect` block is beyond what "
                        "--bless rewrites); update the block by hand");
}

} // namespace

std::string blessTestFile(const TestFile& file, const std::vector<BlessedTest>& tests) {
    const std::string& text = file.text;
    Rewriter rewriter(text, file.root);
    std::vector<Edit> edits;
    for (const auto& [test, outcome] : tests) {
        if (test->hasExpect) {
            const YAML::Mark key = test->expectKey.Mark();
            size_t keyIndent = static_cast<size_t>(key.column);
            size_t colon = text.find(':', static_cast<size_t>(key.pos) + std::string("expect").size());
            size_t end = rewriter.blockEnd(static_cast<size_t>(key.pos), test->expectValue, keyIndent,
                                           fmt::format("the expect block of `{}`", test->name.value));
            edits.push_back(Edit{colon + 1, end, "\n" + renderExpect(*test, *outcome, std::string(keyIndent + 2, ' '))});
        } else {
            // After the test's last line, at the indentation of its keys.
            const YAML::Mark first = test->testNode.begin()->first.Mark();
            size_t keyIndent = static_cast<size_t>(first.column);
            size_t end = rewriter.blockEnd(static_cast<size_t>(first.pos), test->testNode, keyIndent - (keyIndent >= 2 ? 2 : 0),
                                           fmt::format("the test `{}`", test->name.value));
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
    verifyRewrite(file, tests, result);
    return result;
}

} // namespace pipec::spec_test
