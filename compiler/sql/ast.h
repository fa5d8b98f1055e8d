#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pipec::sql {

/// A byte range inside the SQL text (offsets into spec::SqlText::text).
struct Span {
    size_t offset = 0;
    size_t length = 0;
};

enum class ExpressionKind {
    Literal,
    Column,        // a (possibly dotted) name: `store_id`, `store_location.region`, `t.store_id`
    Unary,         // `-x`, `+x`, NOT x
    Binary,        // arithmetic, comparison, concatenation, AND, OR
    FunctionCall,  // scalar functions, aggregates, group windows and window auxiliary functions
    Case,
    Cast,
    In,
    Between,
    Like,
    IsNull,
    IsBoolean,
};

/// How a function call is written: `f(a, b)` or a keyword form of the SQL standard.
enum class CallForm {
    Arguments,  // f(a, b, …)
    From,       // EXTRACT(unit FROM ts), SUBSTRING(s FROM a [FOR b]), TRIM([side] [characters] FROM s)
    To,         // FLOOR(ts TO unit), CEIL(ts TO unit)
    In,         // POSITION(a IN b)
};

enum class LiteralKind { Null, Boolean, Integer, Decimal, Double, String, Interval, Timestamp };

struct Literal {
    LiteralKind kind = LiteralKind::Null;
    std::string text;      // the literal as written (string content unescaped)
    bool booleanValue = false;
    int64_t intervalMs = 0;  // for Interval
    std::string unit;        // for Interval: the unit as written
    Span unitSpan;
};

struct DataType {
    std::string name;     // upper case: INT, BIGINT, DOUBLE, VARCHAR, TIMESTAMP, ...
    std::vector<int64_t> parameters;
    Span span;
};

/// One node of the SQL abstract syntax tree. A single node type keeps the transformer and binder compact;
/// the fields each kind uses are listed next to them.
struct Expression {
    ExpressionKind kind = ExpressionKind::Literal;
    Span span;
    Literal literal;                 // Literal
    std::vector<std::string> name;   // Column: name parts; FunctionCall: {function name as written}
    std::vector<Span> nameSpans;     // Column: one span per part
    std::string op;                  // Unary/Binary: "+", "-", "*", "/", "%", "||", "=", "<>", "<", "<=", ">", ">=", "AND", "OR", "NOT"
    std::vector<std::unique_ptr<Expression>> arguments;  // operands / call arguments / CASE: [operand?] when/then pairs [else]
    bool negated = false;            // NOT IN, NOT BETWEEN, NOT LIKE, IS NOT NULL, IS NOT TRUE
    bool distinct = false;           // FunctionCall: f(DISTINCT x)
    bool star = false;               // FunctionCall: f(*)
    std::unique_ptr<Expression> filter;  // FunctionCall: f(…) FILTER (WHERE filter)
    CallForm callForm = CallForm::Arguments;  // FunctionCall: the keyword form it was written in
    bool booleanTarget = false;      // IsBoolean: IS [NOT] TRUE (true) or FALSE (false)
    bool caseHasOperand = false;     // Case: CASE x WHEN ...
    bool caseHasElse = false;
    bool parenthesized = false;
    DataType castType;               // Cast
    std::string text;                // the source text of the expression, whitespace-normalized (for names/printing)
};

struct SelectItem {
    bool star = false;
    std::unique_ptr<Expression> expression;
    std::string alias;               // empty when none
    Span aliasSpan;
    Span span;
};

struct Query;

/// One argument of a window table-valued function: `TABLE t`, `DESCRIPTOR(col)` or a value (an interval), positional
/// or named (`SIZE => INTERVAL '1' MINUTE`).
struct WindowArgument {
    enum class Kind { Table, Descriptor, Value };
    Kind kind = Kind::Value;
    std::string parameter;              // upper case; empty when positional
    Span parameterSpan;
    Span span;                          // the argument without its name
    std::vector<std::string> table;     // Table: the table's name parts
    std::shared_ptr<Expression> value;  // Descriptor: the column (a Column expression); Value: the expression
};

/// `TABLE(TUMBLE(TABLE t, DESCRIPTOR(_time), INTERVAL '1' MINUTE))` in FROM (Flink's window TVFs).
struct WindowTableFunction {
    std::string name;                   // as written
    Span nameSpan;
    Span span;                          // the whole `TABLE(...)`
    std::vector<WindowArgument> arguments;
};

struct TableReference {
    std::vector<std::string> name;      // the table read (with a window TVF: its TABLE argument, when it has one)
    Span span;
    std::string alias;
    std::shared_ptr<WindowTableFunction> window;  // FROM TABLE(TUMBLE(...)); null for a plain table
};

/// A derived table `(SELECT …) AS t` or a WITH query before it is inlined (sql/derived_tables.h).
struct NamedSubquery {
    std::string name;                 // the WITH name or the derived table's alias (may be empty)
    Span span;
    std::unique_ptr<Query> query;
};

/// SELECT ... FROM ... [WHERE] [GROUP BY] [HAVING].
struct Query {
    bool distinct = false;
    Span distinctSpan;
    std::vector<SelectItem> selectItems;
    TableReference from;
    std::unique_ptr<Expression> where;
    std::vector<std::unique_ptr<Expression>> groupBy;
    std::unique_ptr<Expression> having;
    /// Before inlining only: the FROM's derived table, and the WITH queries in order.
    std::unique_ptr<NamedSubquery> fromSubquery;
    std::vector<NamedSubquery> with;
};

/// Prints the AST as an indented tree (`pipec explain --stage ast`).
std::string printAst(const Query& query);

} // namespace pipec::sql
