#include "compiler/schema_check/schema_check.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.pb.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace pipec::schema_check {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::FileDescriptorProto;

namespace {

// Field numbers of descriptor.proto, which SourceCodeInfo paths are made of.
constexpr int kFilePackage = 2, kFileMessageType = 4, kFileEnumType = 5;
constexpr int kMessageName = 1, kMessageField = 2, kMessageNestedType = 3, kMessageEnumType = 4, kMessageReservedRange = 9;
constexpr int kFieldName = 1, kFieldType = 5, kFieldTypeName = 6;
constexpr int kEnumName = 1, kEnumValue = 2, kEnumReservedRange = 4;
constexpr int kEnumValueName = 1;

std::vector<int> messagePath(const Descriptor* message) {
    if (!message->containing_type()) return {kFileMessageType, message->index()};
    std::vector<int> path = messagePath(message->containing_type());
    path.insert(path.end(), {kMessageNestedType, message->index()});
    return path;
}

std::vector<int> fieldPath(const FieldDescriptor* field) {
    std::vector<int> path = messagePath(field->containing_type());
    path.insert(path.end(), {kMessageField, field->index()});
    return path;
}

std::vector<int> enumPath(const EnumDescriptor* type) {
    if (!type->containing_type()) return {kFileEnumType, type->index()};
    std::vector<int> path = messagePath(type->containing_type());
    path.insert(path.end(), {kMessageEnumType, type->index()});
    return path;
}

std::vector<int> appended(std::vector<int> path, std::initializer_list<int> more) {
    path.insert(path.end(), more);
    return path;
}

/// Finds `.proto` positions by SourceCodeInfo path (the parser records one per element and per part of it, such as
/// a field's name or type).
class ProtoLocator {
public:
    explicit ProtoLocator(const catalog::Catalog& catalog) : catalog_(catalog) {}

    /// The place of the element at `path`, else of the nearest enclosing element, else the whole file.
    SourceLocation locate(const FileDescriptor* file, std::vector<int> path) {
        auto [it, inserted] = protos_.try_emplace(file);
        if (inserted) file->CopySourceCodeInfoTo(&it->second);
        const auto& locations = it->second.source_code_info().location();
        std::string diskPath = catalog_.diskPath(file);
        while (!path.empty()) {
            for (const auto& location : locations) {
                if (!std::equal(location.path().begin(), location.path().end(), path.begin(), path.end())) continue;
                const auto& span = location.span();
                int line = span.Get(0), column = span.Get(1);
                int endLine = span.size() == 4 ? span.Get(2) : line;
                int endColumn = span.size() == 4 ? span.Get(3) : span.Get(2);
                int length = endLine == line ? std::max(1, endColumn - column) : 1;
                return SourceLocation{diskPath, line + 1, column + 1, length};
            }
            path.pop_back();
        }
        return SourceLocation{diskPath, 0, 0, 1};
    }

private:
    const catalog::Catalog& catalog_;
    std::map<const FileDescriptor*, FileDescriptorProto> protos_;
};

std::string typeText(const FieldDescriptor* field) {
    if (field->is_map())
        return fmt::format("map<{}, {}>", typeText(field->message_type()->map_key()), typeText(field->message_type()->map_value()));
    std::string name = field->message_type() ? field->message_type()->full_name()
                       : field->enum_type()  ? field->enum_type()->full_name()
                                             : std::string(field->type_name());
    return field->is_repeated() ? "repeated " + name : name;
}

int cardinality(const FieldDescriptor* field) { return field->is_map() ? 2 : field->is_repeated() ? 1 : 0; }

bool sameType(const FieldDescriptor* a, const FieldDescriptor* b) { return typeText(a) == typeText(b); }

/// Types whose values read back on the wire as each other's (Buf's FIELD_WIRE_COMPATIBLE_TYPE groups): varints,
/// zigzag varints, 32-bit and 64-bit fixed integers, and length-delimited text. 0: compatible only with itself.
int wireGroup(const FieldDescriptor* field) {
    switch (field->type()) {
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_BOOL:
    case FieldDescriptor::TYPE_ENUM: return 1;
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SINT64: return 2;
    case FieldDescriptor::TYPE_FIXED32:
    case FieldDescriptor::TYPE_SFIXED32: return 3;
    case FieldDescriptor::TYPE_FIXED64:
    case FieldDescriptor::TYPE_SFIXED64: return 4;
    case FieldDescriptor::TYPE_STRING:
    case FieldDescriptor::TYPE_BYTES: return 5;
    default: return 0;
    }
}

bool wireCompatible(const FieldDescriptor* a, const FieldDescriptor* b) {
    if (cardinality(a) != cardinality(b)) return false;
    return sameType(a, b) || (wireGroup(a) != 0 && wireGroup(a) == wireGroup(b));
}

/// What a change touches: the features reading it are the ones it can break.
struct Target {
    enum class Kind { Field, EnumType, Message } kind;
    std::string name;  // the message or enum's full name
    int number = 0;    // Field: the field number
};

struct Change {
    Diagnostic diagnostic;                // as reported when nothing reads what it touches
    std::optional<Diagnostic> whenRead;   // reported instead when a spec (or a JSON source) reads it
    std::vector<Target> targets;
    std::string what;                     // the change in a few words, for the features' diagnostics
    bool breaksReaders = true;            // false: readers are listed as notes, not reported as E0220
    bool jsonReadsCount = false;          // a JSON-format source whose message holds the field counts as a reader
};

/// One job's read that a change touches.
struct Reader {
    const JobReads* job;
    const FieldRead* read;  // nullptr: the job's `proto_class` names the touched message
};

std::string quotedList(const std::vector<std::string>& names) {
    std::string list;
    for (size_t i = 0; i < names.size(); ++i) list += fmt::format("{}`{}`", i == 0 ? "" : i + 1 == names.size() ? " and " : ", ", names[i]);
    return list;
}

std::string place(const SourceLocation& location) {
    return location.known() ? fmt::format("{}:{}:{}", location.file, location.line, location.column) : location.file;
}

class SchemaComparer {
public:
    SchemaComparer(const catalog::Catalog& before, const catalog::Catalog& after) : before_(before), after_(after), oldPlaces_(before), newPlaces_(after) {}

    std::vector<Change> compare() {
        std::map<std::string, const FileDescriptor*> afterFiles;
        for (const FileDescriptor* file : after_.files()) afterFiles.emplace(file->name(), file);
        std::set<std::string> renamedPackages;
        for (const FileDescriptor* old : before_.files()) {
            auto found = afterFiles.find(old->name());
            const FileDescriptor* now = found == afterFiles.end() ? nullptr : found->second;
            if (now && now->package() != old->package()) {
                packageChanged(old, now);
                renamedPackages.insert(now->name());
                continue;
            }
            for (int i = 0; i < old->message_type_count(); ++i) compareMessage(old->message_type(i), now);
            for (int i = 0; i < old->enum_type_count(); ++i) compareEnum(old->enum_type(i));
        }
        for (const FileDescriptor* now : after_.files()) {
            if (renamedPackages.count(now->name())) continue;
            for (int i = 0; i < now->message_type_count(); ++i) reportAddedMessages(now->message_type(i));
        }
        return std::move(changes_);
    }

private:
    const Descriptor* afterMessage(const std::string& name) const { return after_.findMessage(name); }
    const EnumDescriptor* afterEnum(const std::string& name) const {
        return after_.files().empty() ? nullptr : after_.files().front()->pool()->FindEnumTypeByName(name);
    }

    Change& add(Diagnostic diagnostic, std::string what) {
        changes_.push_back(Change{std::move(diagnostic), std::nullopt, {}, std::move(what), true, false});
        return changes_.back();
    }

    /// A diagnostic made through a DiagnosticEngine, so its code is checked against the registry like every other.
    template <typename Make>
    static Diagnostic made(Make make) {
        DiagnosticEngine engine;
        make(engine);
        return engine.all().front();
    }

    static void allMessages(const Descriptor* message, std::vector<const Descriptor*>& into) {
        if (message->options().map_entry()) return;
        into.push_back(message);
        for (int i = 0; i < message->nested_type_count(); ++i) allMessages(message->nested_type(i), into);
    }

    void packageChanged(const FileDescriptor* old, const FileDescriptor* now) {
        auto diagnostic = made([&](DiagnosticEngine& engine) {
            auto& d = engine.error("E0215", newPlaces_.locate(now, {kFilePackage}),
                                   fmt::format("package of `{}` changed from `{}` to `{}`", now->name(), old->package(), now->package()));
            d.label = "every message of the file gets a new full name";
            d.notes.push_back(fmt::format("it was `{}` at {}", old->package(), place(oldPlaces_.locate(old, {kFilePackage}))));
            d.help = "keep the package, and put messages of a new package in a new file";
        });
        Change& change = add(std::move(diagnostic), fmt::format("package `{}` is renamed to `{}`", old->package(), now->package()));
        std::vector<const Descriptor*> messages;
        for (int i = 0; i < old->message_type_count(); ++i) allMessages(old->message_type(i), messages);
        for (const Descriptor* message : messages) change.targets.push_back({Target::Kind::Message, message->full_name(), 0});
    }

    /// The fields of a message as (number, type) text, to recognize a renamed message.
    static std::string signature(const Descriptor* message) {
        std::string text;
        // Types by simple name: a nested enum or message moves with its renamed parent.
        for (int i = 0; i < message->field_count(); ++i) {
            const FieldDescriptor* field = message->field(i);
            std::string type = field->message_type() ? field->message_type()->name() : field->enum_type() ? field->enum_type()->name() : field->type_name();
            text += fmt::format("{}:{}:{}:{};", field->number(), field->name(), cardinality(field), type);
        }
        return text;
    }

    void messageDeleted(const Descriptor* old, const FileDescriptor* now) {
        // A new message in the same place with the same fields is most likely the old one renamed.
        const Descriptor* renamed = nullptr;
        const Descriptor* parent = old->containing_type() ? afterMessage(old->containing_type()->full_name()) : nullptr;
        if (now) {
            std::vector<const Descriptor*> candidates;
            if (parent)
                for (int i = 0; i < parent->nested_type_count(); ++i) candidates.push_back(parent->nested_type(i));
            else if (!old->containing_type())
                for (int i = 0; i < now->message_type_count(); ++i) candidates.push_back(now->message_type(i));
            for (const Descriptor* candidate : candidates)
                if (!before_.findMessage(candidate->full_name()) && signature(candidate) == signature(old) && !renamedTo_.count(candidate)) {
                    renamed = candidate;
                    renamedTo_.insert(candidate);
                    break;
                }
        }
        SourceLocation location = renamed  ? newPlaces_.locate(renamed->file(), appended(messagePath(renamed), {kMessageName}))
                                  : parent ? newPlaces_.locate(parent->file(), appended(messagePath(parent), {kMessageName}))
                                  : now    ? SourceLocation{after_.diskPath(now), 0, 0, 1}
                                           : oldPlaces_.locate(old->file(), appended(messagePath(old), {kMessageName}));
        auto diagnostic = made([&](DiagnosticEngine& engine) {
            auto& d = engine.error("E0214", location,
                                   renamed ? fmt::format("message `{}` was renamed to `{}`", old->full_name(), renamed->full_name())
                                           : fmt::format("message `{}` was deleted", old->full_name()));
            if (renamed) d.label = "same fields as the deleted message";
            else if (parent) d.label = fmt::format("`{}` no longer has the nested message `{}`", parent->full_name(), old->name());
            d.notes.push_back(fmt::format("it was declared at {}", place(oldPlaces_.locate(old->file(), appended(messagePath(old), {kMessageName})))));
            d.help = "a message's full name is part of the schema reference every record carries: keep the old message";
        });
        Change& change = add(std::move(diagnostic), renamed ? fmt::format("message `{}` is renamed to `{}`", old->full_name(), renamed->full_name())
                                                            : fmt::format("message `{}` is deleted", old->full_name()));
        change.targets.push_back({Target::Kind::Message, old->full_name(), 0});
    }

    void compareMessage(const Descriptor* old, const FileDescriptor* now) {
        if (old->options().map_entry()) return;
        const Descriptor* current = afterMessage(old->full_name());
        if (!current) {
            messageDeleted(old, now);
            return;
        }
        for (int i = 0; i < old->field_count(); ++i) compareField(old->field(i), current);
        for (int i = 0; i < current->field_count(); ++i) {
            const FieldDescriptor* field = current->field(i);
            if (old->FindFieldByNumber(field->number())) continue;
            add(made([&](DiagnosticEngine& engine) {
                    engine.note("N0230", newPlaces_.locate(field->file(), appended(fieldPath(field), {kFieldName})),
                                fmt::format("field `{}` = {} ({}) added to `{}`", field->name(), field->number(), typeText(field), current->full_name()));
                }),
                "")
                .breaksReaders = false;
        }
        for (int i = 0; i < old->nested_type_count(); ++i) compareMessage(old->nested_type(i), now);
        for (int i = 0; i < old->enum_type_count(); ++i) compareEnum(old->enum_type(i));
    }

    void compareField(const FieldDescriptor* old, const Descriptor* current) {
        const std::string& message = current->full_name();
        Target target{Target::Kind::Field, message, old->number()};
        const FieldDescriptor* field = current->FindFieldByNumber(old->number());
        SourceLocation oldPlace = oldPlaces_.locate(old->file(), appended(fieldPath(old), {kFieldName}));
        if (!field) {
            for (int k = 0; k < current->reserved_range_count(); ++k) {
                const auto* range = current->reserved_range(k);
                if (old->number() < range->start || old->number() >= range->end) continue;
                Change& change = add(made([&](DiagnosticEngine& engine) {
                                         auto& d = engine.note("N0233", newPlaces_.locate(current->file(), appended(messagePath(current), {kMessageReservedRange, k})),
                                                               fmt::format("field `{}` = {} of `{}` deleted; its number is reserved", old->name(),
                                                                           old->number(), message));
                                         d.notes.push_back(fmt::format("it was declared at {}", place(oldPlace)));
                                     }),
                                     fmt::format("field `{}` ({}) of `{}` is deleted", old->name(), old->number(), message));
                change.targets.push_back(target);
                return;
            }
            Change& change = add(made([&](DiagnosticEngine& engine) {
                                     auto& d = engine.error("E0210", newPlaces_.locate(current->file(), appended(messagePath(current), {kMessageName})),
                                                            fmt::format("field `{}` = {} of `{}` deleted without reserving its number", old->name(),
                                                                        old->number(), message));
                                     d.label = fmt::format("`{}` = {} is no longer declared here", old->name(), old->number());
                                     d.notes.push_back(fmt::format("it was declared at {}", place(oldPlace)));
                                     d.help = fmt::format("add `reserved {};` and `reserved \"{}\";` to `{}` so the number is never reused", old->number(),
                                                          old->name(), current->name());
                                 }),
                                 fmt::format("field `{}` ({}) of `{}` is deleted", old->name(), old->number(), message));
            change.targets.push_back(target);
            return;
        }
        if (field->name() != old->name() && wireCompatible(old, field)) {
            std::string typeNote = sameType(old, field) ? "" : fmt::format(" (and its type from {} to {})", typeText(old), typeText(field));
            auto describe = [&](auto& d) {
                d.label = fmt::format("was `{}`", old->name());
                d.notes.push_back(fmt::format("SQL columns and the Protobuf JSON mapping use field names: `{}` is now `{}` in queries, `{}` is now "
                                              "`{}` in JSON",
                                              old->name(), field->name(), old->json_name(), field->json_name()));
                d.help = fmt::format("keep the name `{}`, or rename the column in every query in the same change", old->name());
            };
            SourceLocation location = newPlaces_.locate(field->file(), appended(fieldPath(field), {kFieldName}));
            std::string message = fmt::format("field {} of `{}` renamed from `{}` to `{}`{}", old->number(), current->full_name(), old->name(),
                                              field->name(), typeNote);
            Change& change = add(made([&](DiagnosticEngine& engine) { describe(engine.warning("W0217", location, message)); }),
                                 fmt::format("field `{}` ({}) of `{}` is renamed to `{}`", old->name(), old->number(), current->full_name(), field->name()));
            change.whenRead = made([&](DiagnosticEngine& engine) { describe(engine.error("E0217", location, message)); });
            change.jsonReadsCount = true;
            change.targets.push_back(target);
            return;
        }
        if (field->name() != old->name()) {
            Change& change = add(made([&](DiagnosticEngine& engine) {
                                     auto& d = engine.error("E0212", newPlaces_.locate(field->file(), fieldPath(field)),
                                                            fmt::format("field number {} of `{}` reused: `{}` ({}) is now `{}` ({})", old->number(),
                                                                        current->full_name(), old->name(), typeText(old), field->name(), typeText(field)));
                                     d.label = fmt::format("records written with `{}` decode into `{}`", old->name(), field->name());
                                     d.notes.push_back(fmt::format("`{}` was declared at {}", old->name(), place(oldPlace)));
                                     d.help = fmt::format("give `{}` a new number, and add `reserved {};` and `reserved \"{}\";`", field->name(),
                                                          old->number(), old->name());
                                 }),
                                 fmt::format("field `{}` ({}) of `{}` is deleted and its number reused", old->name(), old->number(), current->full_name()));
            change.targets.push_back(target);
            return;
        }
        if (cardinality(old) != cardinality(field)) {
            Change& change = add(made([&](DiagnosticEngine& engine) {
                                     auto& d = engine.error("E0213", newPlaces_.locate(field->file(), fieldPath(field)),
                                                            fmt::format("field `{}` of `{}` changed from `{}` to `{}`", field->name(), current->full_name(),
                                                                        typeText(old), typeText(field)));
                                     d.label = "singular and repeated values are not interchangeable";
                                     d.notes.push_back(fmt::format("it was declared at {}", place(oldPlace)));
                                     d.help = "add a new field with a new number for the repeated values";
                                 }),
                                 fmt::format("field `{}` of `{}` changes from `{}` to `{}`", field->name(), current->full_name(), typeText(old), typeText(field)));
            change.targets.push_back(target);
            return;
        }
        if (sameType(old, field)) return;
        SourceLocation typePlace = newPlaces_.locate(field->file(), appended(fieldPath(field), {field->message_type() || field->enum_type() ? kFieldTypeName : kFieldType}));
        std::string typeChange = fmt::format("field `{}` of `{}` changed type from `{}` to `{}`", field->name(), current->full_name(), typeText(old), typeText(field));
        std::string what = fmt::format("field `{}` ({}) of `{}` changes type from `{}` to `{}`", field->name(), field->number(), current->full_name(),
                                       typeText(old), typeText(field));
        if (wireCompatible(old, field)) {
            Change& change = add(made([&](DiagnosticEngine& engine) {
                                     auto& d = engine.warning("W0211", typePlace, typeChange);
                                     d.label = "compatible on the wire";
                                     d.help = "recompile and redeploy every job reading the message after producers switch";
                                 }),
                                 what);
            change.breaksReaders = false;
            change.targets.push_back(target);
            return;
        }
        Change& change = add(made([&](DiagnosticEngine& engine) {
                                 auto& d = engine.error("E0211", typePlace, typeChange);
                                 d.label = fmt::format("old records carry `{}` values here", typeText(old));
                                 d.notes.push_back(fmt::format("it was declared at {}", place(oldPlace)));
                                 d.help = fmt::format("add a new field with a new number for the `{}` value, and deprecate `{}`", typeText(field), old->name());
                             }),
                             what);
        change.targets.push_back(target);
    }

    void compareEnum(const EnumDescriptor* old) {
        const EnumDescriptor* current = afterEnum(old->full_name());
        // A deleted enum shows through the fields that used it (their type changes).
        if (!current) return;
        Target target{Target::Kind::EnumType, old->full_name(), 0};
        for (int i = 0; i < old->value_count(); ++i) {
            const EnumValueDescriptor* value = old->value(i);
            SourceLocation oldPlace = oldPlaces_.locate(old->file(), appended(enumPath(old), {kEnumValue, value->index(), kEnumValueName}));
            const EnumValueDescriptor* now = current->FindValueByNumber(value->number());
            if (!now) {
                std::string what = fmt::format("value `{}` ({}) of enum `{}` is deleted", value->name(), value->number(), old->full_name());
                bool reserved = false;
                for (int k = 0; k < current->reserved_range_count() && !reserved; ++k) {
                    const auto* range = current->reserved_range(k);
                    if (value->number() < range->start || value->number() > range->end) continue;  // enum ranges are inclusive
                    reserved = true;
                    add(made([&](DiagnosticEngine& engine) {
                            auto& d = engine.note("N0233", newPlaces_.locate(current->file(), appended(enumPath(current), {kEnumReservedRange, k})),
                                                  fmt::format("value `{}` = {} of enum `{}` deleted; its number is reserved", value->name(), value->number(),
                                                              old->full_name()));
                            d.notes.push_back(fmt::format("it was declared at {}", place(oldPlace)));
                        }),
                        what)
                        .targets.push_back(target);
                }
                if (reserved) continue;
                add(made([&](DiagnosticEngine& engine) {
                        auto& d = engine.error("E0216", newPlaces_.locate(current->file(), appended(enumPath(current), {kEnumName})),
                                               fmt::format("value `{}` = {} of enum `{}` deleted without reserving its number", value->name(),
                                                           value->number(), old->full_name()));
                        d.label = fmt::format("`{}` = {} is no longer declared here", value->name(), value->number());
                        d.notes.push_back(fmt::format("it was declared at {}", place(oldPlace)));
                        d.help = fmt::format("add `reserved {};` and `reserved \"{}\";` to `{}`", value->number(), value->name(), current->name());
                    }),
                    what)
                    .targets.push_back(target);
                continue;
            }
            if (now->name() == value->name()) continue;
            SourceLocation location = newPlaces_.locate(current->file(), appended(enumPath(current), {kEnumValue, now->index(), kEnumValueName}));
            std::string message = fmt::format("value {} of enum `{}` renamed from `{}` to `{}`", value->number(), old->full_name(), value->name(), now->name());
            auto describe = [&](Diagnostic& d) {
                d.label = fmt::format("was `{}`", value->name());
                d.notes.push_back("pipec reads an enum field as its value's name: a comparison with the old name is never true");
                d.help = fmt::format("keep the name `{}`, or update every query comparing with it in the same change", value->name());
            };
            Change& change = add(made([&](DiagnosticEngine& engine) { describe(engine.warning("W0218", location, message)); }),
                                 fmt::format("value `{}` ({}) of enum `{}` is renamed to `{}`", value->name(), value->number(), old->full_name(), now->name()));
            change.whenRead = made([&](DiagnosticEngine& engine) { describe(engine.error("E0218", location, message)); });
            change.targets.push_back(target);
        }
        for (int i = 0; i < current->value_count(); ++i) {
            const EnumValueDescriptor* value = current->value(i);
            if (old->FindValueByNumber(value->number())) continue;
            add(made([&](DiagnosticEngine& engine) {
                    engine.note("N0231", newPlaces_.locate(current->file(), appended(enumPath(current), {kEnumValue, value->index(), kEnumValueName})),
                                fmt::format("value `{}` = {} added to enum `{}`", value->name(), value->number(), current->full_name()));
                }),
                "")
                .breaksReaders = false;
        }
    }

    void reportAddedMessages(const Descriptor* message) {
        if (message->options().map_entry()) return;
        if (renamedTo_.count(message)) return;  // reported as the rename (E0214)
        if (!before_.findMessage(message->full_name())) {
            add(made([&](DiagnosticEngine& engine) {
                    engine.note("N0232", newPlaces_.locate(message->file(), appended(messagePath(message), {kMessageName})),
                                fmt::format("message `{}` added", message->full_name()));
                }),
                "")
                .breaksReaders = false;
            return;  // its nested messages are new too
        }
        for (int i = 0; i < message->nested_type_count(); ++i) reportAddedMessages(message->nested_type(i));
    }

    const catalog::Catalog& before_;
    const catalog::Catalog& after_;
    ProtoLocator oldPlaces_;
    ProtoLocator newPlaces_;
    std::vector<Change> changes_;
    std::set<const Descriptor*> renamedTo_;  // new messages taken for renames of deleted ones
};

/// The reads of `jobs` that a change touches.
std::vector<Reader> readersOf(const Change& change, const std::vector<JobReads>& jobs) {
    std::vector<Reader> readers;
    for (const auto& job : jobs) {
        if (job.features.empty()) continue;
        // A change to the job's own message is reported once, where `proto_class` names it, not at every column.
        bool rootTouched = std::any_of(change.targets.begin(), change.targets.end(), [&](const Target& target) {
            return target.kind == Target::Kind::Message && target.name == job.rootMessage;
        });
        if (rootTouched) {
            readers.push_back({&job, nullptr});
            continue;
        }
        for (const auto& read : job.reads) {
            bool touched = false;
            for (const auto& target : change.targets) {
                switch (target.kind) {
                case Target::Kind::Field:
                    touched = touched || std::find(read.path.begin(), read.path.end(), FieldKey{target.name, target.number}) != read.path.end();
                    break;
                case Target::Kind::EnumType: touched = touched || read.enumType == target.name; break;
                case Target::Kind::Message:
                    touched = touched || std::any_of(read.path.begin(), read.path.end(), [&](const FieldKey& key) { return key.first == target.name; });
                    break;
                }
            }
            if (touched) readers.push_back({&job, &read});
        }
    }
    return readers;
}

/// JSON-format jobs whose message holds a field the change touches: for them a field's name is on the wire.
std::vector<const JobReads*> jsonHolders(const Change& change, const std::vector<JobReads>& jobs) {
    std::vector<const JobReads*> holders;
    if (!change.jsonReadsCount) return holders;
    for (const auto& job : jobs) {
        if (!job.json) continue;
        for (const auto& target : change.targets)
            if (target.kind == Target::Kind::Field && job.messageFields.count({target.name, target.number})) {
                holders.push_back(&job);
                break;
            }
    }
    return holders;
}

} // namespace

void checkSchemas(const catalog::Catalog& before, const catalog::Catalog& after, const std::vector<JobReads>& jobs, DiagnosticEngine& diagnostics) {
    // Each change is followed by the features it breaks, in the order of the old files and their declarations.
    for (Change& change : SchemaComparer(before, after).compare()) {
        std::vector<Reader> readers = readersOf(change, jobs);
        std::vector<const JobReads*> holders = jsonHolders(change, jobs);
        Diagnostic report = change.whenRead && (!readers.empty() || !holders.empty()) ? *change.whenRead : change.diagnostic;
        for (const JobReads* job : holders)
            report.notes.push_back(fmt::format("job `{}` reads `{}` as JSON ({}), where field names are the keys", job->job, job->rootMessage, job->specFile));
        DiagnosticEngine broken;
        for (const Reader& reader : readers) {
            const std::vector<std::string>& features = reader.read ? reader.read->features : reader.job->features;
            const SourceLocation& location = reader.read ? reader.read->location : reader.job->protoClassLocation;
            std::string named = fmt::format("feature{} {} (job `{}`)", features.size() == 1 ? "" : "s", quotedList(features), reader.job->job);
            std::string read = reader.read ? fmt::format("`{}` is read at {}", reader.read->column, place(location))
                                           : fmt::format("`proto_class` names `{}` at {}", reader.job->rootMessage, place(location));
            if (!change.breaksReaders) {
                report.notes.push_back(fmt::format("{}: {}; compiled plans keep decoding the old type until recompiled", named, read));
                continue;
            }
            report.notes.push_back(fmt::format("breaks {}: {}", named, read));
            auto& d = broken.error("E0220", location,
                                   fmt::format("schema change breaks feature{} {}: {}", features.size() == 1 ? "" : "s", quotedList(features), change.what));
            d.label = reader.read ? fmt::format("reads `{}` here", reader.read->column) : "reads the message here";
            d.notes.push_back(fmt::format("the change: {}: {}", place(report.location), report.message));
            d.help = "change the spec in the same pull request so that `pipec validate` passes against the new schema, or undo the schema change";
        }
        diagnostics.add(std::move(report));
        for (const auto& diagnostic : broken.all()) diagnostics.add(diagnostic);
    }
}

} // namespace pipec::schema_check
