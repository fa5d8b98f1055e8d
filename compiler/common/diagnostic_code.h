#pragma once

#include <span>
#include <string>
#include <string_view>

namespace pipec {

enum class Severity { Error, Warning, Note };

/// One entry of the registry of diagnostic codes (compiler/common/diagnostic_codes.def).
struct DiagnosticCodeInfo {
    std::string_view code;
    Severity severity;
    std::string_view title;
    std::string_view explanation;
    std::string_view fix;
};

namespace detail {

inline constexpr DiagnosticCodeInfo kDiagnosticCodes[] = {
#define PIPEC_DIAGNOSTIC(code, severity, title, explanation, fix) {#code, Severity::severity, title, explanation, fix},
#include "compiler/common/diagnostic_codes.def"
#undef PIPEC_DIAGNOSTIC
};

constexpr char severityLetter(Severity severity) {
    return severity == Severity::Error ? 'E' : severity == Severity::Warning ? 'W' : 'N';
}

/// The registry must be consistent: a letter that matches the severity, four digits, and no code twice.
consteval bool registryIsConsistent() {
    for (size_t i = 0; i < std::size(kDiagnosticCodes); ++i) {
        std::string_view code = kDiagnosticCodes[i].code;
        if (code.size() != 5 || code[0] != severityLetter(kDiagnosticCodes[i].severity)) return false;
        for (size_t digit = 1; digit < 5; ++digit)
            if (code[digit] < '0' || code[digit] > '9') return false;
        for (size_t j = 0; j < i; ++j)
            if (kDiagnosticCodes[j].code == code) return false;
    }
    return true;
}
static_assert(registryIsConsistent(), "diagnostic_codes.def: a code is listed twice, or its letter does not match its severity");

consteval bool isRegistered(std::string_view code, Severity severity) {
    for (const auto& entry : kDiagnosticCodes)
        if (entry.code == code) return entry.severity == severity;
    return false;
}

} // namespace detail

/// A diagnostic code checked at compile time: `DiagnosticEngine::error("E0401", …)` compiles only when E0401 is in
/// the registry as an error, so a code cannot be reported without a documentation entry. (A failed check is a
/// `throw` in a consteval constructor, which the compiler reports as "not a constant expression".)
template <Severity kSeverity>
class CheckedDiagnosticCode {
public:
    consteval CheckedDiagnosticCode(const char* code) : code_(code) {
        if (!detail::isRegistered(code_, kSeverity))
            throw "diagnostic code is not in compiler/common/diagnostic_codes.def with this severity";
    }
    std::string_view view() const { return code_; }
    operator std::string() const { return std::string(code_); }

private:
    std::string_view code_;
};

using ErrorCode = CheckedDiagnosticCode<Severity::Error>;
using WarningCode = CheckedDiagnosticCode<Severity::Warning>;
using NoteCode = CheckedDiagnosticCode<Severity::Note>;

/// Every registered code, in registry order.
inline std::span<const DiagnosticCodeInfo> diagnosticCodes() { return detail::kDiagnosticCodes; }

/// The registry entry of `code`, or nullptr.
inline const DiagnosticCodeInfo* findDiagnosticCode(std::string_view code) {
    for (const auto& entry : detail::kDiagnosticCodes)
        if (entry.code == code) return &entry;
    return nullptr;
}

} // namespace pipec
