#pragma once

#include "compiler/catalog/catalog.h"
#include "compiler/driver/compilation.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace pipec::schema_check {

/// A message field, named by its message's full name and its number (numbers, not names, identify fields on the
/// wire, and survive renames).
using FieldKey = std::pair<std::string, int>;

/// One place where a spec reads a field, and the features that depend on that read.
struct FieldRead {
    std::string column;                 // the SQL column, e.g. "store_location.region"
    SourceLocation location;            // in the spec: the column in the query, or the `time_field` / `key_field` value
    std::vector<FieldKey> path;         // from the root message to the leaf field
    std::string enumType;               // the leaf's enum type (full name), if it is an enum
    std::vector<std::string> features;  // sorted
};

/// What one source job reads from its message.
struct JobReads {
    std::string job;
    std::string specFile;
    std::string rootMessage;
    SourceLocation protoClassLocation;
    bool json = false;                      // format: json (field names are part of the wire format)
    std::vector<std::string> features;      // every feature of the job, sorted
    std::vector<FieldRead> reads;           // in spec order, one per place (and feature set)
    std::set<FieldKey> messageFields;       // every field of the message tree, read or not (for JSON sources)
};

/// The fields each compiled job reads, with the features each read matters to: a column named in a SELECT item
/// matters to the feature that materializes that output (or to all features when the output is a key), a column in
/// WHERE, GROUP BY or HAVING, the `time_field` and the `key_field` to every feature of the job. `catalog` is the one the job was
/// compiled against.
JobReads fieldReads(const driver::CompiledJob& job, const catalog::Catalog& catalog);

} // namespace pipec::schema_check
