#pragma once

#include "runtime/core/value.h"

#include <pipec/plan.pb.h>

#include <memory>

namespace pipec::runtime {

/// A plan expression prepared for fast repeated evaluation over rows (SQL NULL semantics, three-valued logic).
class CompiledExpression {
public:
    /// Throws std::invalid_argument for an expression the runtime does not know (an internal error: the compiler
    /// only emits known functions).
    static CompiledExpression compile(const plan::Expr& expression);

    Value evaluate(const Row& row) const;
    /// For predicates: true only when the result is non-NULL TRUE.
    bool evaluatePredicate(const Row& row) const;
    plan::TypeId type() const;

    CompiledExpression();
    ~CompiledExpression();
    CompiledExpression(CompiledExpression&&) noexcept;
    CompiledExpression& operator=(CompiledExpression&&) noexcept;

    struct Node;

private:
    std::unique_ptr<Node> root_;
};

} // namespace pipec::runtime
