#include "compiler/plan/query_binder.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

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
    case plan::CUMULATE: return "CUMULATE";
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
    ok = ok && checkWindowsPerRow(window, call.span);
    if (!ok) {
        windowError_ = true;
        return;
    }
    plan_.window = window;
}

bool Binder::checkWindowsPerRow(const WindowSpec& window, sql::Span at) {
    if ((window.kind != plan::HOP && window.kind != plan::CUMULATE) || window.sizeMs / window.slideMs <= kMaxWindowsPerRow) return true;
    // Each row belongs to size / slide windows, each emitted once per key: beyond this the job spends its time
    // emitting rows (a fuzzed HOP of 2^63 ms was still writing after 300 million rows from two events).
    bool hop = window.kind == plan::HOP;
    auto& d = error("E0421", at, fmt::format("{} puts every row into {} windows (size / {})", windowName(window.kind),
                                             window.sizeMs / window.slideMs, hop ? "slide" : "step"));
    d.label = fmt::format("at most {} windows per row are supported", kMaxWindowsPerRow);
    d.help = hop ? "use a longer slide, or check that the arguments are HOP(time, slide, size)"
                 : "use a longer step, or check that the arguments are CUMULATE(TABLE t, DESCRIPTOR(time), step, max_size)";
    return false;
}

namespace {

/// The parameters of a window TVF in order, as Flink names them; the last (OFFSET) is optional.
std::vector<std::string> windowTableParameters(plan::WindowKind kind) {
    switch (kind) {
    case plan::TUMBLE: return {"DATA", "TIMECOL", "SIZE", "OFFSET"};
    case plan::HOP: return {"DATA", "TIMECOL", "SLIDE", "SIZE", "OFFSET"};
    default: return {"DATA", "TIMECOL", "STEP", "SIZE", "OFFSET"};
    }
}

const char* windowTableSignature(plan::WindowKind kind) {
    switch (kind) {
    case plan::TUMBLE: return "TUMBLE(TABLE t, DESCRIPTOR(time), size)";
    case plan::HOP: return "HOP(TABLE t, DESCRIPTOR(time), slide, size)";
    default: return "CUMULATE(TABLE t, DESCRIPTOR(time), step, max_size)";
    }
}

} // namespace

void Binder::bindWindowTable(const sql::WindowTableFunction& function) {
    std::string name = upper(function.name);
    windowError_ = true;  // until bound
    plan::WindowKind kind = name == "TUMBLE" ? plan::TUMBLE : name == "HOP" ? plan::HOP : name == "CUMULATE" ? plan::CUMULATE : plan::WINDOW_NONE;
    if (kind == plan::WINDOW_NONE) {
        if (name == "SESSION") {
            auto& d = error("E0430", function.nameSpan, "the SESSION window table-valued function is not supported");
            d.label = "Flink's SESSION TVF (1.19+) has no pipec counterpart yet";
            d.help = "use the group window: FROM <topic> ... GROUP BY SESSION(_time, INTERVAL '10' MINUTE), <keys>";
        } else {
            auto& d = error("E0403", function.nameSpan, fmt::format("unknown window table-valued function `{}`", function.name));
            d.label = "expected TUMBLE, HOP or CUMULATE";
        }
        return;
    }
    std::vector<std::string> parameters = windowTableParameters(kind);
    std::vector<const sql::WindowArgument*> slots(parameters.size(), nullptr);
    bool named = false;
    for (size_t i = 0; i < function.arguments.size(); ++i) {
        const sql::WindowArgument& argument = function.arguments[i];
        size_t slot = i;
        if (argument.parameter.empty()) {
            if (named) {
                auto& d = error("E0404", argument.span, "a positional argument cannot follow a named one");
                d.label = fmt::format("name it, e.g. {} => …", i < parameters.size() ? parameters[i] : parameters.back());
                return;
            }
            if (slot >= parameters.size()) {
                auto& d = error("E0404", argument.span, fmt::format("{} takes at most {} arguments", name, parameters.size()));
                d.label = fmt::format("expected {}", windowTableSignature(kind));
                return;
            }
        } else {
            named = true;
            auto it = std::find(parameters.begin(), parameters.end(), argument.parameter);
            if (it == parameters.end()) {
                auto& d = error("E0404", argument.parameterSpan, fmt::format("{} has no parameter `{}`", name, argument.parameter));
                d.label = fmt::format("its parameters are {}", fmt::join(parameters, ", "));
                return;
            }
            slot = static_cast<size_t>(it - parameters.begin());
        }
        if (slots[slot]) {
            auto& d = error("E0404", argument.parameter.empty() ? argument.span : argument.parameterSpan,
                            fmt::format("{} is given twice", parameters[slot]));
            d.label = "a second value for the same parameter";
            return;
        }
        slots[slot] = &argument;
    }
    for (size_t p = 0; p + 1 < parameters.size(); ++p) {
        if (slots[p]) continue;
        auto& d = error("E0404", function.span, fmt::format("{} needs its {} argument", name, parameters[p]));
        d.label = fmt::format("expected {}", windowTableSignature(kind));
        return;
    }
    auto expectKind = [&](size_t p, sql::WindowArgument::Kind expected, const char* what) {
        if (slots[p]->kind == expected) return true;
        auto& d = error("E0404", slots[p]->span, fmt::format("the {} argument of {} must be {}", parameters[p], name, what));
        d.label = fmt::format("expected {}", windowTableSignature(kind));
        return false;
    };
    bool ok = expectKind(0, sql::WindowArgument::Kind::Table, "a table: TABLE <topic>");
    if (expectKind(1, sql::WindowArgument::Kind::Descriptor, "the time column: DESCRIPTOR(_time)"))
        ok = checkTimeAttribute(*slots[1]->value, name) && ok;
    else
        ok = false;
    WindowSpec window;
    window.kind = kind;
    window.tableFunction = true;
    window.span = function.span;
    window.timeSpan = slots[1]->span;
    const sql::WindowArgument* size = slots[kind == plan::TUMBLE ? 2 : 3];
    window.sizeSpan = size->span;
    auto interval = [&](const sql::WindowArgument& argument, const char* what) -> std::optional<int64_t> {
        if (argument.kind != sql::WindowArgument::Kind::Value) {
            auto& d = error("E0417", argument.span, fmt::format("the window {} must be an interval literal", what));
            d.label = "expected e.g. INTERVAL '1' MINUTE";
            return std::nullopt;
        }
        return intervalArgument(*argument.value, what);
    };
    auto sizeMs = interval(*size, kind == plan::CUMULATE ? "max size" : "size");
    ok = ok && sizeMs;
    if (sizeMs) window.sizeMs = *sizeMs;
    if (kind != plan::TUMBLE) {
        window.slideSpan = slots[2]->span;
        auto slideMs = interval(*slots[2], kind == plan::HOP ? "slide" : "step");
        ok = ok && slideMs;
        if (slideMs) window.slideMs = *slideMs;
    }
    if (const sql::WindowArgument* offset = slots.back()) {
        auto& d = error("E0430", offset->span, "the window offset of a window table-valued function is not supported");
        d.label = "windows are aligned to the Unix epoch";
        d.help = "remove the offset; for days in a time zone, move the event time instead";
        ok = false;
    }
    if (ok && kind != plan::TUMBLE && window.sizeMs % window.slideMs != 0) {
        // Flink's slicing assigners refuse it too (a CUMULATE window grows by whole steps; a HOP TVF window is whole slides).
        bool hop = kind == plan::HOP;
        auto& d = error("E0431", function.span,
                        fmt::format("the {} of {} ({}) is not a multiple of its {} ({})", hop ? "size" : "max size", name,
                                    size->value->text, hop ? "slide" : "step", slots[2]->value->text));
        d.label = hop ? "Flink's HOP table function needs size = n · slide" : "Flink's CUMULATE needs max_size = n · step";
        d.help = hop ? "choose a size that is a whole number of slides, or use GROUP BY HOP(_time, slide, size), which allows any size"
                     : "choose a max size that is a whole number of steps";
        ok = false;
    }
    ok = ok && checkWindowsPerRow(window, function.span);
    if (!ok) return;
    plan_.window = window;
    windowError_ = false;
}

bool Binder::windowTableColumn(const Expression& expression, WindowBound& bound) const {
    if (!windowTable_ || expression.kind != ExpressionKind::Column) return false;
    std::string name = resolvedColumnName(expression);
    if (name == "window_start") bound = WindowBound::Start;
    else if (name == "window_end") bound = WindowBound::End;
    else if (name == "window_time") bound = WindowBound::Rowtime;
    else return false;
    return true;
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
    if (window.tableFunction) {
        auto& d = error("E0411", expression.span, fmt::format("{} belongs to a GROUP BY group window, not a window table-valued function", name));
        d.label = "the window is defined in FROM";
        d.help = "select window_start, window_end or window_time (end − 1 ms)";
        return nullptr;
    }
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
