#include "compiler/plan/query_binder.h"

#include <fmt/format.h>

namespace pipec::logical::binding {

namespace {

/// HOP windows per row allowed (size / slide): a 1 day window sliding every 100 ms is 864,000.
constexpr int64_t kMaxWindowsPerRow = 1'000'000;

} // namespace

plan::WindowKind groupWindowKind(const std::string& name) {
    if (name == "TUMBLE") return plan::TUMBLE;
    if (name == "HOP") return plan::HOP;
    if (name == "SESSION") return plan::SESSION;
    return plan::WINDOW_NONE;
}

const char* windowName(plan::WindowKind kind) {
    switch (kind) {
    case plan::TUMBLE: return "TUMBLE";
    case plan::HOP: return "HOP";
    case plan::SESSION: return "SESSION";
    default: return "NONE";
    }
}

bool windowAuxiliary(const std::string& name, plan::WindowKind& kind, WindowBound& bound) {
    for (plan::WindowKind candidate : {plan::TUMBLE, plan::HOP, plan::SESSION}) {
        std::string prefix = windowName(candidate);
        for (auto [suffix, which] : {std::pair{"_START", WindowBound::Start}, std::pair{"_END", WindowBound::End},
                                     std::pair{"_ROWTIME", WindowBound::Rowtime}}) {
            if (name != prefix + suffix) continue;
            kind = candidate;
            bound = which;
            return true;
        }
    }
    return false;
}

bool windowAuxiliary(const std::string& name, plan::WindowKind& kind, bool& isEnd) {
    WindowBound bound;
    if (!windowAuxiliary(name, kind, bound)) return false;
    isEnd = bound != WindowBound::Start;
    return true;
}

BoundExpressionPtr windowBoundColumn(WindowBound bound) {
    if (bound == WindowBound::Start) return BoundExpression::makeColumn(kWindowStartPlaceholder, "window_start", plan::TIMESTAMP, false);
    auto end = BoundExpression::makeColumn(kWindowEndPlaceholder, "window_end", plan::TIMESTAMP, false);
    if (bound == WindowBound::End) return end;
    // The rowtime of the window's row, as Flink's *_ROWTIME and window_time: the last millisecond inside the window.
    plan::Literal one;
    one.set_int_value(1);
    auto endMs = BoundExpression::makeCall("cast", plan::BIGINT, {end});
    return BoundExpression::makeCall("subtract", plan::TIMESTAMP, {endMs, BoundExpression::makeLiteral(one, plan::BIGINT)});
}

std::optional<int64_t> Binder::intervalArgument(const Expression& argument, const char* what) {
    if (argument.kind != ExpressionKind::Literal || argument.literal.kind != LiteralKind::Interval) {
        auto& d = error("E0417", argument.span, fmt::format("the window {} must be an interval literal", what));
        d.label = "expected e.g. INTERVAL '20' SECONDS";
        return std::nullopt;
    }
    if (argument.literal.intervalMs <= 0) {
        auto& d = error("E0417", argument.span, fmt::format("the window {} must be positive", what));
        d.label = fmt::format("this is {} ms", argument.literal.intervalMs);
        return std::nullopt;
    }
    return argument.literal.intervalMs;
}

bool Binder::checkTimeAttribute(const Expression& argument, const std::string& function) {
    if (argument.kind == ExpressionKind::Column) {
        std::string name = resolvedColumnName(argument);
        if (name == "_time" || (!plan_.source.timeField.empty() && name == plan_.source.timeField)) return true;
    }
    auto& d = error("E0410", argument.span, fmt::format("{} must be applied to the event-time attribute", function));
    d.label = "not the event time";
    d.help = plan_.source.timeField.empty()
                 ? "use `_time` (the envelope's creation time), or set `time_field` on the kafka source"
                 : fmt::format("use `_time` or `{}` (the source's time_field)", plan_.source.timeField);
    return false;
}

void Binder::bindGroupWindow(const Expression& call) {
    std::string name = upper(call.name.front());
    plan::WindowKind kind = groupWindowKind(name);
    if (plan_.window.kind != plan::WINDOW_NONE) {
        auto& d = error("E0409", call.span, "only one group window is allowed in GROUP BY");
        d.label = fmt::format("a second window; the first is {}", windowName(plan_.window.kind));
        windowError_ = true;
        return;
    }
    size_t expected = kind == plan::HOP ? 3 : 2;
    if (call.arguments.size() != expected || call.star || call.distinct) {
        auto& d = error("E0404", call.span, fmt::format("{} takes {} arguments, got {}", name, expected, call.arguments.size()));
        d.label = kind == plan::HOP ? "expected HOP(time, slide, size)"
                                    : fmt::format("expected {}(time, {})", name, kind == plan::SESSION ? "gap" : "size");
        windowError_ = true;
        return;
    }
    bool ok = checkTimeAttribute(*call.arguments[0], name);
    WindowSpec window;
    window.kind = kind;
    window.span = call.span;
    window.timeSpan = call.arguments[0]->span;
    window.sizeSpan = call.arguments.back()->span;
    if (kind == plan::HOP) window.slideSpan = call.arguments[1]->span;
    if (kind == plan::TUMBLE) {
        auto size = intervalArgument(*call.arguments[1], "size");
        ok = ok && size;
        if (size) window.sizeMs = *size;
    } else if (kind == plan::HOP) {
        auto slide = intervalArgument(*call.arguments[1], "slide");
        auto size = intervalArgument(*call.arguments[2], "size");
        ok = ok && slide && size;
        if (slide) window.slideMs = *slide;
        if (size) window.sizeMs = *size;
    } else {
        auto gap = intervalArgument(*call.arguments[1], "gap");
        ok = ok && gap;
        if (gap) window.gapMs = *gap;
    }
    if (ok && kind == plan::HOP && window.sizeMs / window.slideMs > kMaxWindowsPerRow) {
        // Each row belongs to size / slide windows, each emitted once per key: beyond this the job spends its time
        // emitting rows (a fuzzed HOP of 2^63 ms was still writing after 300 million rows from two events).
        auto& d = error("E0421", call.span, fmt::format("HOP puts every row into {} windows (size / slide)", window.sizeMs / window.slideMs));
        d.label = fmt::format("at most {} windows per row are supported", kMaxWindowsPerRow);
        d.help = "use a longer slide, or check that the arguments are HOP(time, slide, size)";
        ok = false;
    }
    if (!ok) {
        windowError_ = true;
        return;
    }
    plan_.window = window;
}

BoundExpressionPtr Binder::bindWindowAuxiliary(const Expression& expression, plan::WindowKind kind, WindowBound bound) {
    std::string name = upper(expression.name.front());
    if (plan_.window.kind == plan::WINDOW_NONE) {
        if (!windowError_) {
            auto& d = error("E0411", expression.span, fmt::format("{} needs a matching {} group window in GROUP BY", name, windowName(kind)));
            d.label = "the query has no group window";
        }
        return nullptr;
    }
    const WindowSpec& window = plan_.window;
    size_t expected = kind == plan::HOP ? 3 : 2;
    bool matches = kind == window.kind && expression.arguments.size() == expected && !expression.star;
    if (matches) {
        DiagnosticEngine scratch;
        DiagnosticEngine* saved = diagnostics_;
        diagnostics_ = &scratch;
        matches = checkTimeAttribute(*expression.arguments[0], name);
        auto interval = [&](size_t i) { return intervalArgument(*expression.arguments[i], "size").value_or(-1); };
        if (kind == plan::TUMBLE) matches = matches && interval(1) == window.sizeMs;
        if (kind == plan::HOP) matches = matches && interval(1) == window.slideMs && interval(2) == window.sizeMs;
        if (kind == plan::SESSION) matches = matches && interval(1) == window.gapMs;
        diagnostics_ = saved;
    }
    if (!matches) {
        auto& d = error("E0411", expression.span, fmt::format("{} does not match the group window in GROUP BY", name));
        d.label = "arguments must repeat the group window's";
        SourceLocation location = locate_(window.span.offset, window.span.length);
        d.notes.push_back(fmt::format("the group window is {} at {}:{}", windowName(window.kind), location.line, location.column));
        return nullptr;
    }
    // HAVING may still add aggregates, which moves the window columns: use placeholders, fixed in bind().
    return windowBoundColumn(bound);
}

} // namespace pipec::logical::binding
