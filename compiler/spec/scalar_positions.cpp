#include "compiler/spec/scalar_positions.h"

#include <algorithm>
#include <vector>

namespace pipec::spec {

namespace {

/// File line/column of byte offsets, from precomputed line starts.
class LineIndex {
public:
    LineIndex(const std::string& path, const std::string& text) : path_(path) {
        lineStarts_.push_back(0);
        for (size_t i = 0; i < text.size(); ++i)
            if (text[i] == '\n') lineStarts_.push_back(i + 1);
    }
    SourceLocation at(size_t offset) const {
        size_t line = static_cast<size_t>(std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset) - lineStarts_.begin()) - 1;
        return SourceLocation{path_, static_cast<int>(line) + 1, static_cast<int>(offset - lineStarts_[line]) + 1, 1};
    }

private:
    std::string path_;
    std::vector<size_t> lineStarts_;
};

struct Builder {
    std::string text;
    std::vector<size_t> offsets;  // file offset of each text byte
    void add(char c, size_t fileOffset) {
        text += c;
        offsets.push_back(fileOffset);
    }
};

struct Line {
    size_t start;    // file offset of the line's first byte
    size_t end;      // file offset of its newline (or end of file), excluding a trailing '\r'
    size_t indent;   // leading spaces
    bool blank;      // only spaces
};

std::vector<Line> linesFrom(const std::string& file, size_t offset) {
    std::vector<Line> lines;
    while (offset < file.size()) {
        size_t newline = file.find('\n', offset);
        size_t end = newline == std::string::npos ? file.size() : newline;
        size_t contentEnd = end > offset && file[end - 1] == '\r' ? end - 1 : end;
        size_t indent = 0;
        while (offset + indent < contentEnd && file[offset + indent] == ' ') ++indent;
        lines.push_back(Line{offset, contentEnd, indent, offset + indent == contentEnd});
        if (newline == std::string::npos) break;
        offset = newline + 1;
    }
    return lines;
}

bool blockScalar(const std::string& file, size_t position, Builder& out) {
    char style = file[position];
    char chomping = 'c';
    size_t explicitIndent = 0;
    size_t cursor = position + 1;
    while (cursor < file.size() && file[cursor] != '\n' && file[cursor] != ' ' && file[cursor] != '#' && file[cursor] != '\r') {
        char c = file[cursor];
        if (c == '-' || c == '+') chomping = c;
        else if (c >= '1' && c <= '9') explicitIndent = static_cast<size_t>(c - '0');
        else return false;
        ++cursor;
    }
    size_t newline = file.find('\n', cursor);
    if (newline == std::string::npos) return true;  // an empty block scalar at the end of the file
    // The indentation of the line holding the indicator bounds the block's content.
    size_t lineStart = file.rfind('\n', position);
    lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
    size_t parentIndent = 0;
    while (lineStart + parentIndent < file.size() && file[lineStart + parentIndent] == ' ') ++parentIndent;

    std::vector<Line> all = linesFrom(file, newline + 1);
    size_t indent = 0;
    if (explicitIndent) {
        indent = parentIndent + explicitIndent;
    } else {
        for (const auto& line : all) {
            if (!line.blank) {
                indent = line.indent;
                break;
            }
        }
        if (indent <= parentIndent) indent = 0;
    }
    std::vector<Line> lines;
    for (const auto& line : all) {
        if (!line.blank && (indent == 0 || line.indent < indent)) break;
        lines.push_back(line);
    }
    // Trailing blank lines belong to chomping, not to the content.
    size_t contentCount = lines.size();
    while (contentCount > 0 && (lines[contentCount - 1].blank || lines[contentCount - 1].end - lines[contentCount - 1].start <= indent))
        --contentCount;
    size_t trailingBlank = lines.size() - contentCount;

    auto content = [&](const Line& line) { return line.start + std::min(indent, line.end - line.start); };
    bool first = true;
    bool previousMoreIndented = false;
    size_t emptyRun = 0;
    size_t previousEnd = position;
    for (size_t i = 0; i < contentCount; ++i) {
        const Line& line = lines[i];
        size_t begin = content(line);
        bool empty = begin >= line.end;
        if (empty) {
            ++emptyRun;
            continue;
        }
        bool moreIndented = file[begin] == ' ' || file[begin] == '\t';
        if (!first) {
            if (style == '|') {
                for (size_t k = 0; k <= emptyRun; ++k) out.add('\n', previousEnd);
            } else if (emptyRun == 0 && !moreIndented && !previousMoreIndented) {
                out.add(' ', previousEnd);  // a folded line break reads as a space, placed at the end of its line
            } else {
                size_t breaks = (!moreIndented && !previousMoreIndented) ? emptyRun : emptyRun + 1;
                for (size_t k = 0; k < breaks; ++k) out.add('\n', previousEnd);
            }
        } else {
            for (size_t k = 0; k < emptyRun; ++k) out.add('\n', previousEnd);
        }
        for (size_t offset = begin; offset < line.end; ++offset) out.add(file[offset], offset);
        first = false;
        previousMoreIndented = moreIndented;
        previousEnd = line.end;
        emptyRun = 0;
    }
    if (first) return true;  // no content at all
    if (chomping == 'c') out.add('\n', previousEnd);
    if (chomping == '+') {
        out.add('\n', previousEnd);
        for (size_t k = 0; k < emptyRun + trailingBlank; ++k) out.add('\n', previousEnd);
    }
    return true;
}

bool plainScalar(const std::string& file, size_t position, Builder& out) {
    size_t lineStart = file.rfind('\n', position);
    lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
    size_t keyIndent = 0;
    while (lineStart + keyIndent < file.size() && file[lineStart + keyIndent] == ' ') ++keyIndent;
    std::vector<Line> lines = linesFrom(file, lineStart);
    bool first = true;
    size_t emptyRun = 0;
    size_t previousEnd = position;
    for (size_t i = 0; i < lines.size(); ++i) {
        const Line& line = lines[i];
        size_t begin = i == 0 ? position : line.start + line.indent;
        if (i > 0) {
            if (line.blank) {
                ++emptyRun;
                continue;
            }
            if (line.indent <= keyIndent) break;
        }
        size_t end = line.end;
        // A comment ends a plain scalar; so does `: ` (a new key) on a continuation line.
        for (size_t k = begin; k < end; ++k) {
            if (file[k] == '#' && k > begin && (file[k - 1] == ' ' || file[k - 1] == '\t')) {
                end = k;
                break;
            }
        }
        while (end > begin && (file[end - 1] == ' ' || file[end - 1] == '\t')) --end;
        if (!first) {
            if (emptyRun == 0) out.add(' ', previousEnd);
            for (size_t k = 0; k < emptyRun; ++k) out.add('\n', previousEnd);
        }
        for (size_t k = begin; k < end; ++k) out.add(file[k], k);
        first = false;
        previousEnd = end;
        emptyRun = 0;
    }
    return true;
}

bool quotedScalar(const std::string& file, size_t position, Builder& out) {
    char quote = file[position];
    for (size_t k = position + 1; k < file.size(); ++k) {
        char c = file[k];
        if (c == '\n') return false;  // multi-line quoted scalars fall back to the scalar's start
        if (quote == '\'' && c == '\'') {
            if (k + 1 < file.size() && file[k + 1] == '\'') {
                out.add('\'', k);
                ++k;
                continue;
            }
            return true;
        }
        if (quote == '"' && c == '"') return true;
        if (quote == '"' && c == '\\') {
            if (k + 1 >= file.size()) return false;
            static const std::string kEscapes = "0abtnvfre \"/\\";
            static const std::string kValues = std::string("\0\a\b\t\n\v\f\r\x1b \"/\\", 13);
            size_t index = kEscapes.find(file[k + 1]);
            if (index == std::string::npos) return false;  // \x, \u, ...: rare in SQL; fall back
            out.add(kValues[index], k);
            ++k;
            continue;
        }
        out.add(c, k);
    }
    return false;
}

} // namespace

SqlText mapScalarPositions(const std::string& path, const std::string& fileText, size_t position, const std::string& value,
                           const SourceLocation& scalarLocation) {
    SqlText sql;
    sql.text = value;
    sql.location = scalarLocation;
    Builder builder;
    bool ok = false;
    if (position < fileText.size()) {
        char c = fileText[position];
        if (c == '|' || c == '>') ok = blockScalar(fileText, position, builder);
        else if (c == '"' || c == '\'') ok = quotedScalar(fileText, position, builder);
        else ok = plainScalar(fileText, position, builder);
    }
    LineIndex index(path, fileText);
    if (ok && builder.text == value) {
        for (size_t offset : builder.offsets) sql.offsetLocations.push_back(index.at(offset));
        size_t endOffset = builder.offsets.empty() ? position : builder.offsets.back() + 1;
        sql.offsetLocations.push_back(index.at(std::min(endOffset, fileText.size())));
    } else {
        sql.offsetLocations.assign(value.size() + 1, scalarLocation);
    }
    return sql;
}

SourceLocation SqlText::locate(size_t offset, size_t length) const {
    if (offsetLocations.empty()) return location;
    size_t last = offsetLocations.size() - 1;
    size_t start = std::min(offset, last);
    SourceLocation result = offsetLocations[start];
    result.length = 1;
    // Underline up to the end of the span or of the first file line it covers.
    for (size_t k = start + 1; k < std::min(offset + std::max<size_t>(length, 1), last + 1) && k < last; ++k) {
        const SourceLocation& next = offsetLocations[k];
        if (next.line != result.line || next.column <= result.column) break;
        result.length = next.column - result.column + 1;
    }
    if (length > 1 && result.length < 1) result.length = 1;
    return result;
}

} // namespace pipec::spec

namespace pipec::spec {

size_t restoreFoldedLineBreaks(SqlText& sql) {
    std::string& text = sql.text;
    const auto& locations = sql.offsetLocations;
    if (locations.size() < text.size() + 1) return std::string::npos;
    // When the positions could not be rebuilt every offset maps to the scalar's start: the line breaks are lost.
    bool positionsLost = text.size() > 1 && locations.front().line == locations[text.size() - 1].line &&
                         locations.front().column == locations[text.size() - 1].column;
    size_t swallowing = std::string::npos;
    enum class State { Code, String, Backquoted, DoubleQuoted, LineComment, BlockComment } state = State::Code;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        char next = i + 1 < text.size() ? text[i + 1] : '\0';
        // A space that YAML put in place of a line break: the characters around it sit on different lines of the file.
        // (Lines YAML keeps apart, more-indented ones, already hold their line break: their indentation stays.)
        bool joinedLines = c == ' ' && i > 0 && i + 1 < text.size() && text[i - 1] != '\n' && locations[i - 1].line > 0 &&
                           locations[i + 1].line > locations[i - 1].line;
        switch (state) {
        case State::Code:
            if (joinedLines) text[i] = '\n';
            else if (c == '\'') state = State::String;
            else if (c == '`') state = State::Backquoted;
            else if (c == '"') state = State::DoubleQuoted;
            else if (c == '-' && next == '-') {
                // Without positions the scalar was a multi-line quoted string, whose line breaks YAML replaced by
                // spaces: this comment runs to the end of the query.
                state = State::LineComment;
                if (positionsLost && swallowing == std::string::npos) swallowing = i;
            }
            else if (c == '/' && next == '*') state = State::BlockComment, ++i;
            break;
        case State::String:
            if (c == '\'') state = State::Code;  // a doubled quote re-enters String at the next character
            break;
        case State::Backquoted:
            if (c == '`') state = State::Code;
            break;
        case State::DoubleQuoted:
            if (c == '"') state = State::Code;
            break;
        case State::LineComment:
            if (joinedLines) text[i] = '\n';
            if (text[i] == '\n') state = State::Code;
            break;
        case State::BlockComment:
            if (joinedLines) text[i] = '\n';
            if (c == '*' && next == '/') state = State::Code, ++i;
            break;
        }
    }
    return swallowing;
}

} // namespace pipec::spec
