#include "compiler/catalog/catalog.h"
#include "compiler/common/diagnostics.h"
#include "compiler/driver/compilation.h"
#include "compiler/spec/spec_loader.h"
#include "runtime/sources/envelope.h"
#include "runtime/sources/kafka_producer.h"
#include "tools/pipec/command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <thread>

namespace pipec::cli {
namespace {

namespace protobuf = google::protobuf;

int64_t nowMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Fills messages with random values by field type, for load generation. Times follow the event time passed in,
/// so generated streams are in event-time order.
class RandomEventGenerator {
public:
    RandomEventGenerator(uint64_t seed, int64_t idCount) : random_(seed), idCount_(idCount) {}

    void fill(protobuf::Message& message, int64_t eventTimeMs, int depth = 0) {
        const protobuf::Descriptor* descriptor = message.GetDescriptor();
        const protobuf::Reflection* reflection = message.GetReflection();
        for (int i = 0; i < descriptor->field_count(); ++i) {
            const protobuf::FieldDescriptor* field = descriptor->field(i);
            if (field->is_repeated()) {
                int count = uniform(0, 2);
                for (int n = 0; n < count; ++n) addValue(message, reflection, field, eventTimeMs, depth);
                continue;
            }
            // Fields with presence are sometimes absent, so NULL handling gets exercised too.
            if (field->has_presence() && uniform(0, 4) == 0) continue;
            setValue(message, reflection, field, eventTimeMs, depth);
        }
    }

private:
    int64_t uniform(int64_t low, int64_t high) { return std::uniform_int_distribution<int64_t>(low, high)(random_); }
    double uniformReal(double low, double high) { return std::uniform_real_distribution<double>(low, high)(random_); }

    static bool endsWith(const std::string& text, const std::string& suffix) {
        return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
    }

    int64_t integerFor(const protobuf::FieldDescriptor* field, int64_t eventTimeMs) {
        const std::string& name = field->name();
        if (endsWith(name, "_time_ms") || endsWith(name, "_at_ms") || name == "timestamp_ms") return eventTimeMs;
        // Entity ids have a modest cardinality so that window aggregates see several rows per key.
        if (endsWith(name, "_id")) return uniform(1, idCount_);
        return uniform(0, 20);
    }

    std::string stringFor(const protobuf::FieldDescriptor* field) {
        return fmt::format("{}-{}", field->name(), uniform(0, 999));
    }

    void fillTimestamp(protobuf::Message& message, int64_t eventTimeMs) {
        const protobuf::Descriptor* descriptor = message.GetDescriptor();
        const protobuf::Reflection* reflection = message.GetReflection();
        int64_t seconds = eventTimeMs >= 0 ? eventTimeMs / 1000 : -((-eventTimeMs + 999) / 1000);
        reflection->SetInt64(&message, descriptor->FindFieldByName("seconds"), seconds);
        reflection->SetInt32(&message, descriptor->FindFieldByName("nanos"),
                             static_cast<int32_t>((eventTimeMs - seconds * 1000) * 1000000));
    }

    void fillMessage(protobuf::Message& message, int64_t eventTimeMs, int depth) {
        if (message.GetDescriptor()->full_name() == "google.protobuf.Timestamp") fillTimestamp(message, eventTimeMs);
        else if (depth < 3) fill(message, eventTimeMs, depth + 1);
    }

    void setValue(protobuf::Message& message, const protobuf::Reflection* reflection,
                  const protobuf::FieldDescriptor* field, int64_t eventTimeMs, int depth) {
        using Cpp = protobuf::FieldDescriptor;
        switch (field->cpp_type()) {
        case Cpp::CPPTYPE_INT32: reflection->SetInt32(&message, field, static_cast<int32_t>(integerFor(field, 0))); break;
        case Cpp::CPPTYPE_INT64: reflection->SetInt64(&message, field, integerFor(field, eventTimeMs)); break;
        case Cpp::CPPTYPE_UINT32: reflection->SetUInt32(&message, field, static_cast<uint32_t>(integerFor(field, 0))); break;
        case Cpp::CPPTYPE_UINT64: reflection->SetUInt64(&message, field, static_cast<uint64_t>(integerFor(field, eventTimeMs))); break;
        case Cpp::CPPTYPE_DOUBLE: reflection->SetDouble(&message, field, uniformReal(0, 1000)); break;
        case Cpp::CPPTYPE_FLOAT: reflection->SetFloat(&message, field, static_cast<float>(uniformReal(0, 1000))); break;
        case Cpp::CPPTYPE_BOOL: reflection->SetBool(&message, field, uniform(0, 1) == 1); break;
        case Cpp::CPPTYPE_STRING: reflection->SetString(&message, field, stringFor(field)); break;
        case Cpp::CPPTYPE_ENUM: {
            const protobuf::EnumDescriptor* type = field->enum_type();
            reflection->SetEnum(&message, field, type->value(static_cast<int>(uniform(0, type->value_count() - 1))));
            break;
        }
        case Cpp::CPPTYPE_MESSAGE: fillMessage(*reflection->MutableMessage(&message, field), eventTimeMs, depth); break;
        }
    }

    void addValue(protobuf::Message& message, const protobuf::Reflection* reflection,
                  const protobuf::FieldDescriptor* field, int64_t eventTimeMs, int depth) {
        using Cpp = protobuf::FieldDescriptor;
        switch (field->cpp_type()) {
        case Cpp::CPPTYPE_INT32: reflection->AddInt32(&message, field, static_cast<int32_t>(integerFor(field, 0))); break;
        case Cpp::CPPTYPE_INT64: reflection->AddInt64(&message, field, integerFor(field, eventTimeMs)); break;
        case Cpp::CPPTYPE_UINT32: reflection->AddUInt32(&message, field, static_cast<uint32_t>(integerFor(field, 0))); break;
        case Cpp::CPPTYPE_UINT64: reflection->AddUInt64(&message, field, static_cast<uint64_t>(integerFor(field, eventTimeMs))); break;
        case Cpp::CPPTYPE_DOUBLE: reflection->AddDouble(&message, field, uniformReal(0, 1000)); break;
        case Cpp::CPPTYPE_FLOAT: reflection->AddFloat(&message, field, static_cast<float>(uniformReal(0, 1000))); break;
        case Cpp::CPPTYPE_BOOL: reflection->AddBool(&message, field, uniform(0, 1) == 1); break;
        case Cpp::CPPTYPE_STRING: reflection->AddString(&message, field, stringFor(field)); break;
        case Cpp::CPPTYPE_ENUM: {
            const protobuf::EnumDescriptor* type = field->enum_type();
            reflection->AddEnum(&message, field, type->value(static_cast<int>(uniform(0, type->value_count() - 1))));
            break;
        }
        case Cpp::CPPTYPE_MESSAGE: fillMessage(*reflection->AddMessage(&message, field), eventTimeMs, depth); break;
        }
    }

    std::mt19937_64 random_;
    int64_t idCount_ = 100;
};

/// The text of a top-level scalar field, used as the record key.
std::string keyText(const protobuf::Message& message, const protobuf::FieldDescriptor* field) {
    const protobuf::Reflection* reflection = message.GetReflection();
    using Cpp = protobuf::FieldDescriptor;
    switch (field->cpp_type()) {
    case Cpp::CPPTYPE_INT32: return std::to_string(reflection->GetInt32(message, field));
    case Cpp::CPPTYPE_INT64: return std::to_string(reflection->GetInt64(message, field));
    case Cpp::CPPTYPE_UINT32: return std::to_string(reflection->GetUInt32(message, field));
    case Cpp::CPPTYPE_UINT64: return std::to_string(reflection->GetUInt64(message, field));
    case Cpp::CPPTYPE_DOUBLE: return fmt::format("{}", reflection->GetDouble(message, field));
    case Cpp::CPPTYPE_FLOAT: return fmt::format("{}", reflection->GetFloat(message, field));
    case Cpp::CPPTYPE_BOOL: return reflection->GetBool(message, field) ? "true" : "false";
    case Cpp::CPPTYPE_STRING: return reflection->GetString(message, field);
    case Cpp::CPPTYPE_ENUM: return reflection->GetEnum(message, field)->name();
    case Cpp::CPPTYPE_MESSAGE: break;
    }
    return {};
}

/// Top-level JSON keys that name no field of the message (besides `_time`), to catch typos that the
/// lenient parse would otherwise drop silently.
std::string unknownKeys(const protobuf::Struct& event, const protobuf::Descriptor* descriptor) {
    std::string unknown;
    for (const auto& [name, value] : event.fields()) {
        if (name == "_time" || descriptor->FindFieldByName(name) != nullptr) continue;
        bool jsonName = false;
        for (int i = 0; i < descriptor->field_count() && !jsonName; ++i) jsonName = descriptor->field(i)->json_name() == name;
        if (jsonName) continue;
        unknown += (unknown.empty() ? "`" : ", `") + name + "`";
    }
    return unknown;
}

struct ProduceFlags {
    std::string target;
    std::string topic;
    std::string brokers;
    std::string fromFile;
    int64_t generate = -1;
    double rate = 0;
    std::string protoClass;
    std::vector<std::string> protoPaths;
    std::string keyField;
    std::string encoding; // empty: protobuf, or the spec's format
    int32_t schemaId = 0;
    std::string eventSource = "pipec-produce";
    int64_t timeStepMs = 1;
    uint64_t seed = 42;
    int64_t idCount = 100;
    int32_t partition = -1;
    std::vector<std::string> properties;
};

/// Sleeps as needed so that `sent` records took at least sent/rate seconds since `start`.
void pace(double rate, int64_t sent, std::chrono::steady_clock::time_point start) {
    if (rate <= 0) return;
    auto due = start + std::chrono::microseconds(static_cast<int64_t>(static_cast<double>(sent) * 1e6 / rate));
    std::this_thread::sleep_until(due);
}

/// When the target is a spec file, fills the topic and message (and JSON format) of its first Kafka source, unless
/// given on the command line, and adds the spec's `schemas/` directory to the proto path, as the compiler would. The
/// spec is loaded by the compiler's spec loader, but not compiled: `pipec validate` is the place for its errors.
bool applySpecTarget(ProduceFlags& flags) {
    std::filesystem::path path(flags.target);
    if (path.extension() != ".yaml" && path.extension() != ".yml") return true;
    if (!std::filesystem::is_regular_file(path)) {
        std::cerr << fmt::format("pipec produce: no such spec file: {}\n", flags.target);
        return false;
    }
    SourceManager sources;
    DiagnosticEngine diagnostics;
    std::optional<spec::SpecFile> specFile = spec::loadSpecFile(flags.target, sources, diagnostics);
    if (!specFile) {
        std::cerr << renderAll(diagnostics.all(), sources, DiagnosticFormat::Text, false);
        return false;
    }
    const spec::KafkaSource* kafkaSource = nullptr;
    for (const auto& source : specFile->sources)
        if (kafkaSource == nullptr && !source.kafkaSources.empty()) kafkaSource = &source.kafkaSources.front();
    if (kafkaSource == nullptr || kafkaSource->topic.value.empty()) {
        std::cerr << fmt::format("pipec produce: {} has no kafka_sources entry\n", flags.target);
        return false;
    }
    if (flags.topic.empty()) flags.topic = kafkaSource->topic.value;
    if (flags.protoClass.empty()) flags.protoClass = kafkaSource->protoClass.value;
    if (flags.encoding.empty() && kafkaSource->format.value == "json") flags.encoding = "json";
    std::string schemas = driver::findSchemaDirectory(flags.target);
    if (!schemas.empty() && std::find(flags.protoPaths.begin(), flags.protoPaths.end(), schemas) == flags.protoPaths.end())
        flags.protoPaths.push_back(schemas);
    return true;
}

int runProduce(ProduceFlags flags) {
    if (!applySpecTarget(flags)) return 2;
    if (flags.encoding.empty()) flags.encoding = "protobuf";
    if (flags.protoClass.empty()) {
        std::cerr << "pipec produce: --proto-class is required (give the fully-qualified message name)\n";
        return 2;
    }
    if ((flags.generate >= 0) == !flags.fromFile.empty()) {
        std::cerr << "pipec produce: give exactly one of --from FILE.jsonl and --generate N\n";
        return 2;
    }
    auto encoding = runtime::parseEncodingName(flags.encoding);
    if (!encoding) {
        std::cerr << fmt::format("pipec produce: unknown --encoding `{}` (protobuf, confluent-protobuf, json)\n",
                                 flags.encoding);
        return 2;
    }
    std::map<std::string, std::string> properties;
    for (const auto& property : flags.properties) {
        auto equals = property.find('=');
        if (equals == std::string::npos) {
            std::cerr << fmt::format("pipec produce: --property `{}` must be NAME=VALUE\n", property);
            return 2;
        }
        properties[property.substr(0, equals)] = property.substr(equals + 1);
    }
    std::vector<std::string> protoPaths = flags.protoPaths;
    if (protoPaths.empty() && std::filesystem::is_directory("schemas")) protoPaths.push_back("schemas");
    // The compiler's catalog: the same .proto files resolve to the same messages as in `pipec validate`.
    SourceManager sources;
    DiagnosticEngine schemaDiagnostics;
    std::unique_ptr<catalog::Catalog> schemas = catalog::Catalog::load(protoPaths, sources, schemaDiagnostics);
    const protobuf::Descriptor* descriptor = schemas->findMessage(flags.protoClass);
    if (descriptor == nullptr) {
        // The catalog's own errors are shown only now: the proto path may hold unrelated files that do not compile.
        std::cerr << fmt::format("pipec produce: message `{}` not found under {}\n", flags.protoClass,
                                 protoPaths.empty() ? std::string("(no proto path)") : fmt::format("{}", fmt::join(protoPaths, ", ")))
                  << renderAll(schemaDiagnostics.all(), sources, DiagnosticFormat::Text, false);
        return 1;
    }
    const protobuf::FieldDescriptor* keyField = nullptr;
    if (!flags.keyField.empty()) {
        keyField = descriptor->FindFieldByName(flags.keyField);
        if (keyField == nullptr || keyField->is_repeated() ||
            keyField->cpp_type() == protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
            std::cerr << fmt::format("pipec produce: --key `{}` is not a top-level scalar field of `{}`\n",
                                     flags.keyField, flags.protoClass);
            return 2;
        }
    }
    std::string topic = flags.topic.empty() ? flags.target : flags.topic;

    protobuf::DynamicMessageFactory factory;
    const protobuf::Message* prototype = factory.GetPrototype(descriptor);
    std::unique_ptr<protobuf::Message> message(prototype->New());
    runtime::KafkaProducer producer(flags.brokers, properties);

    runtime::EventEnvelope envelope;
    envelope.source = flags.eventSource;
    envelope.encoding = *encoding;
    envelope.schema = *encoding == runtime::PayloadEncoding::ConfluentProtobuf ? std::to_string(flags.schemaId)
                                                                             : flags.protoClass;
    std::string confluentPrefix;
    if (*encoding == runtime::PayloadEncoding::ConfluentProtobuf) {
        // Magic byte 0, the big-endian schema id, then the message-index list; [0] (first message) is one 0 byte.
        confluentPrefix.push_back('\0');
        for (int shift = 24; shift >= 0; shift -= 8) confluentPrefix.push_back(static_cast<char>((flags.schemaId >> shift) & 0xff));
        confluentPrefix.push_back('\0');
    }

    std::string payload;
    auto send = [&](int64_t createdAtMs, const std::string& jsonText) {
        envelope.createdAtMs = createdAtMs;
        payload.clear();
        if (*encoding == runtime::PayloadEncoding::Json) {
            payload = jsonText;
        } else {
            payload = confluentPrefix;
            message->AppendToString(&payload);
        }
        std::string key = keyField != nullptr ? keyText(*message, keyField) : std::string();
        producer.produce(topic, key, payload, runtime::encodeEnvelope(envelope), flags.partition);
    };

    int64_t produced = 0;
    int64_t badLines = 0;
    auto start = std::chrono::steady_clock::now();
    if (flags.generate >= 0) {
        RandomEventGenerator generator(flags.seed, flags.idCount);
        int64_t now = nowMillis();
        for (int64_t i = 0; i < flags.generate; ++i) {
            int64_t eventTime = flags.rate > 0 ? nowMillis() : now - (flags.generate - 1 - i) * flags.timeStepMs;
            message->Clear();
            generator.fill(*message, eventTime);
            std::string json;
            if (*encoding == runtime::PayloadEncoding::Json) {
                if (!protobuf::util::MessageToJsonString(*message, &json).ok())
                    throw std::logic_error("cannot print a generated message as JSON");
            }
            send(eventTime, json);
            pace(flags.rate, ++produced, start);
        }
    } else {
        std::ifstream input(flags.fromFile);
        if (!input) {
            std::cerr << fmt::format("pipec produce: cannot read {}\n", flags.fromFile);
            return 1;
        }
        protobuf::util::JsonParseOptions lenient;
        lenient.ignore_unknown_fields = true; // `_time` is ours, not the schema's; other unknown keys are checked
        std::string line;
        for (int64_t lineNumber = 1; std::getline(input, line); ++lineNumber) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            auto fail = [&](const std::string& why) {
                std::cerr << fmt::format("{}:{}: {}\n", flags.fromFile, lineNumber, why);
                ++badLines;
            };
            // `_time` is read as `pipec run --input` and `--seed` read it; the JSON payload keeps the line as given.
            std::string withoutTime = line;
            bool timeOk = true;
            std::optional<int64_t> eventTime = runtime::extractEnvelopeTime(withoutTime, timeOk);
            protobuf::Struct event;
            if (auto status = protobuf::util::JsonStringToMessage(withoutTime, &event); !status.ok()) {
                fail("not a JSON object: " + std::string(status.message()));
                continue;
            }
            if (!timeOk) {
                fail("`_time` must be epoch milliseconds or an RFC 3339 timestamp");
                continue;
            }
            if (std::string unknown = unknownKeys(event, descriptor); !unknown.empty()) {
                fail(fmt::format("no field {} in message `{}`", unknown, flags.protoClass));
                continue;
            }
            message->Clear();
            if (auto status = protobuf::util::JsonStringToMessage(line, message.get(), lenient); !status.ok()) {
                fail(fmt::format("does not match `{}`: {}", flags.protoClass, std::string(status.message())));
                continue;
            }
            send(eventTime.value_or(nowMillis()), line);
            pace(flags.rate, ++produced, start);
        }
    }
    if (!producer.flush(60000)) std::cerr << "pipec produce: timed out waiting for delivery reports\n";
    std::cerr << fmt::format("pipec produce: {} record(s) to `{}`: {} delivered, {} failed{}{}\n", produced, topic,
                             producer.delivered(), producer.failed(),
                             producer.failed() > 0 ? " (" + producer.lastError() + ")" : "",
                             badLines > 0 ? fmt::format(", {} bad input line(s) skipped", badLines) : "");
    bool ok = badLines == 0 && producer.failed() == 0 && producer.delivered() == static_cast<uint64_t>(produced);
    return ok ? 0 : 1;
}

} // namespace

void registerProduceCommand(CLI::App& app) {
    auto flags = std::make_shared<ProduceFlags>();
    CLI::App* command = app.add_subcommand(
        "produce", "Produce events to a Kafka topic: JSON lines (Protobuf JSON mapping, optional `_time` = the "
                   "envelope creation time) encoded with the message's schema, or random events for load tests. "
                   "Each record carries the event envelope headers.");
    command->add_option("target", flags->target,
                        "The topic to produce to, or a spec file (its first Kafka source's topic and proto_class)")
        ->required();
    command->add_option("--topic", flags->topic, "Topic name (overrides the target)");
    command->add_option("--brokers", flags->brokers, "Kafka bootstrap servers")->required();
    command->add_option("--from", flags->fromFile, "A file of JSON events, one per line");
    command->add_option("--generate", flags->generate, "Generate N random events instead")->check(CLI::NonNegativeNumber);
    command->add_option("--rate", flags->rate, "Records per second (default: as fast as possible)")
        ->check(CLI::NonNegativeNumber);
    command->add_option("--proto-class", flags->protoClass, "Fully-qualified Protobuf message name of the payload");
    command->add_option("--proto-path", flags->protoPaths, "Directories holding .proto files (default: schemas)");
    command->add_option("--key", flags->keyField, "Top-level field whose value is the record key (default: none)");
    command->add_option("--encoding", flags->encoding, "protobuf (default), confluent-protobuf or json (default for a json spec)");
    command->add_option("--schema-id", flags->schemaId, "Schema-registry id for --encoding confluent-protobuf");
    command->add_option("--event-source", flags->eventSource, "Value of the event-source header");
    command->add_option("--time-step-ms", flags->timeStepMs,
                        "With --generate and no --rate: event times step by this much, ending now (default 1)");
    command->add_option("--seed", flags->seed, "Random seed for --generate");
    command->add_option("--id-count", flags->idCount, "With --generate: `*_id` fields take values 1..N")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    command->add_option("--partition", flags->partition, "Produce every record to this partition (default: by key)")
        ->check(CLI::NonNegativeNumber);
    command->add_option("--property", flags->properties, "Extra librdkafka producer property NAME=VALUE");
    command->callback([flags] {
        int code = 0;
        try {
            code = runProduce(*flags);
        } catch (const std::runtime_error& error) {
            std::cerr << "pipec produce: " << error.what() << "\n";
            code = 1;
        }
        if (code != 0) throw CLI::RuntimeError(code);
    });
}

} // namespace pipec::cli
