#pragma once

#include "compiler/catalog/catalog.h"
#include "compiler/common/diagnostics.h"
#include "compiler/schema_check/field_reads.h"

#include <vector>

namespace pipec::schema_check {

/// Compares the schemas of the current tree (`after`) with an older tree (`before`), file by import path and message
/// by full name, in the categories of Buf's breaking-change detector (WIRE and WIRE_JSON), and reports each change at
/// its place in the current `.proto` file (in the old file when the current one is gone):
///   errors    E0210 field deleted without `reserved`, E0211 incompatible type change, E0212 number reused with
///             another type, E0213 cardinality change, E0214 message deleted or renamed, E0215 package changed,
///             E0216 enum value deleted without `reserved`, E0217/E0218 renames that a spec or a JSON source reads;
///   warnings  W0211 wire-compatible type change, W0217/W0218 renames nothing here reads;
///   notes     N0230 field added, N0231 enum value added, N0232 message added, N0233 deleted with its number reserved.
/// Each change that a job's reads (`jobs`, from the specs compiled against `before`) depend on is also reported as
/// E0220 at the spec's line and column, naming the features it breaks; the change itself lists them as notes.
void checkSchemas(const catalog::Catalog& before, const catalog::Catalog& after, const std::vector<JobReads>& jobs,
                  DiagnosticEngine& diagnostics);

} // namespace pipec::schema_check
