#include "compiler/spec/environment.h"
#include "compiler/spec/spec_loader.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace pipec;

TEST_CASE("environment sections, overrides and the embedded defaults") {
    SourceManager sources;
    DiagnosticEngine diagnostics;
    std::string path = std::string(PIPEC_SOURCE_DIR) + "/pipec.yaml";
    auto local = spec::loadEnvironment(path, "local", {"sinks.prod_canary_features.address=127.0.0.1:7000",
                                                       "clusters.default.properties.client.id=test"},
                                       sources, diagnostics);
    REQUIRE(local);
    CHECK(diagnostics.all().empty());
    CHECK(local->clusters.at("default").bootstrapServers == "embedded");
    CHECK(local->clusters.at("default").properties.at("client.id") == "test");
    CHECK(local->sinks.at("prod_canary_features").type == "redis");
    CHECK(local->sinks.at("prod_canary_features").properties.at("address") == "127.0.0.1:7000");

    auto prod = spec::loadEnvironment(path, "prod", {}, sources, diagnostics);
    REQUIRE(prod);
    CHECK(prod->clusters.at("default").properties.at("security.protocol") == "SASL_SSL");

    DiagnosticEngine missing;
    CHECK_FALSE(spec::loadEnvironment(path, "qa", {}, sources, missing));
    REQUIRE(missing.all().size() == 1);
    CHECK(missing.all()[0].code == "E0121");

    DiagnosticEngine badOverride;
    CHECK_FALSE(spec::loadEnvironment(path, "local", {"nonsense"}, sources, badOverride));
    CHECK(badOverride.all()[0].code == "E0120");

    DiagnosticEngine defaults;
    auto embedded = spec::defaultEnvironment("local", defaults);
    REQUIRE(embedded);
    CHECK(embedded->clusters.at("default").bootstrapServers == "embedded");
    CHECK_FALSE(spec::defaultEnvironment("prod", defaults));
}

TEST_CASE("spec paths from files and directories, sorted, without environment configs") {
    namespace fs = std::filesystem;
    fs::path root = fs::temp_directory_path() / "pipec-spec-paths-test";
    fs::remove_all(root);
    fs::create_directories(root / "nested");
    for (const char* name : {"b.yaml", "a.yml", "pipec.yaml", "notes.txt", "nested/c.yaml"}) std::ofstream(root / name) << "sources: []\n";
    DiagnosticEngine diagnostics;
    auto paths = spec::collectSpecPaths({root.string(), (root / "missing.yaml").string()}, diagnostics);
    REQUIRE(paths.size() == 3);
    CHECK(fs::path(paths[0]).filename() == "a.yml");
    CHECK(fs::path(paths[1]).filename() == "b.yaml");
    CHECK(fs::path(paths[2]).filename() == "c.yaml");
    REQUIRE(diagnostics.all().size() == 1);
    CHECK(diagnostics.all()[0].code == "E0001");
    CHECK(spec::findEnvironmentFile((root / "nested" / "c.yaml").string()).find("pipec.yaml") != std::string::npos);
    fs::remove_all(root);
}

TEST_CASE("a misspelt sink setting is an error, not a silent default") {
    namespace fs = std::filesystem;
    fs::path path = fs::temp_directory_path() / "pipec-sink-settings-test.yaml";
    std::ofstream(path) << "local:\n"
                           "  sinks:\n"
                           "    features:\n"
                           "      type: redis\n"
                           "      adress: 10.0.0.1:6379\n"
                           "    table:\n"
                           "      type: stdout\n"
                           "      columns: 3\n"
                           "    out:\n"
                           "      type: kafka\n"
                           "      topic: rows\n"
                           "      linger.ms: 5\n";
    SourceManager sources;
    DiagnosticEngine diagnostics;
    spec::loadEnvironment(path.string(), "local", {}, sources, diagnostics);
    REQUIRE(diagnostics.all().size() == 2);  // the Kafka sink's other keys are librdkafka's
    const auto& redis = diagnostics.all()[0];
    CHECK(redis.code == "E0101");
    CHECK(redis.location.line == 5);
    CHECK(redis.location.column == 7);
    CHECK(redis.message == "unknown setting `adress` for redis sink `features`");
    CHECK(redis.label == "did you mean `address`?");
    CHECK(diagnostics.all()[1].location.line == 8);

    // The same through --set, against the sink's type.
    DiagnosticEngine overrides;
    std::string good = std::string(PIPEC_SOURCE_DIR) + "/pipec.yaml";
    CHECK_FALSE(spec::loadEnvironment(good, "local", {"sinks.prod_canary_features.key_fromat={key}"}, sources, overrides));
    REQUIRE(overrides.all().size() == 1);
    CHECK(overrides.all()[0].code == "E0101");
    CHECK(overrides.all()[0].help == "did you mean `key_format`?");
    fs::remove(path);
}

TEST_CASE("environment names and settings must be UTF-8: they are written into plan.pb") {
    std::filesystem::path directory = std::filesystem::temp_directory_path() / "pipec_environment_utf8_test";
    std::filesystem::create_directories(directory);
    std::string path = (directory / "pipec.yaml").string();
    std::ofstream(path) << "local:\n"
                           "  clusters:\n"
                           "    default: {bootstrap_servers: embedded, properties: {client.id: \"a\xff\"}}\n"
                           "  sinks:\n"
                           "    \"s\xfe\": {type: stdout}\n"
                           "prod:\n"
                           "  clusters:\n"
                           "    default: {bootstrap_servers: kafka:9092}\n";
    CHECK(spec::environmentNames(path) == std::vector<std::string>{"local", "prod"});
    SourceManager sources;
    DiagnosticEngine diagnostics;
    auto local = spec::loadEnvironment(path, "local", {}, sources, diagnostics);
    REQUIRE(local);
    REQUIRE(diagnostics.all().size() == 2);
    CHECK(diagnostics.all()[0].code == "E0116");
    CHECK(diagnostics.all()[0].location.line == 3);
    CHECK(diagnostics.all()[0].location.column == 70);  // the 0xff byte inside the quoted value
    CHECK(diagnostics.all()[1].code == "E0116");
    CHECK(local->clusters.at("default").properties.count("client.id") == 0);
    CHECK(local->sinks.empty());
    std::filesystem::remove_all(directory);
}

TEST_CASE("secrets are named, never written: ${NAME}, secretKeyRef, and E0123 for a literal secret") {
    std::string directory = (std::filesystem::temp_directory_path() / "pipec-environment-secrets-test").string();
    std::filesystem::create_directories(directory);
    std::string path = directory + "/pipec.yaml";
    std::ofstream(path) << "prod:\n"
                           "  clusters:\n"
                           "    default:\n"
                           "      bootstrap_servers: kafka:9092\n"
                           "      properties: {sasl.username: pipec, sasl.password: \"${KAFKA_PASSWORD}\"}\n"
                           "  sinks:\n"
                           "    features: {type: redis, password: {secretKeyRef: {name: redis-auth, key: password}}}\n"
                           "  flink: {checkpoints_dir: s3://b/checkpoints, savepoints_dir: s3://b/savepoints}\n"
                           "literal:\n"
                           "  sinks:\n"
                           "    features: {type: redis, password: hunter2}\n";
    SourceManager sources;
    DiagnosticEngine diagnostics;
    auto prod = spec::loadEnvironment(path, "prod", {}, sources, diagnostics);
    REQUIRE(prod);
    CHECK(diagnostics.all().empty());
    CHECK(prod->clusters.at("default").properties.at("sasl.password") == "${KAFKA_PASSWORD}");
    CHECK(prod->sinks.at("features").properties.at("password") == "${PIPEC_SECRET_REDIS_AUTH_PASSWORD}");
    REQUIRE(prod->secrets.size() == 2);
    CHECK(prod->secrets.at("KAFKA_PASSWORD").secretName == "pipec-secrets");
    CHECK(prod->secrets.at("KAFKA_PASSWORD").secretKey == "KAFKA_PASSWORD");
    CHECK(prod->secrets.at("PIPEC_SECRET_REDIS_AUTH_PASSWORD").secretName == "redis-auth");
    CHECK(prod->secrets.at("PIPEC_SECRET_REDIS_AUTH_PASSWORD").secretKey == "password");
    CHECK(prod->flink.checkpointsDir == "s3://b/checkpoints");
    CHECK(prod->flink.savepointsDir == "s3://b/savepoints");

    DiagnosticEngine literal;
    CHECK(spec::loadEnvironment(path, "literal", {}, sources, literal));
    REQUIRE(literal.all().size() == 1);
    CHECK(literal.all()[0].code == "E0123");
    CHECK(literal.all()[0].location.line == 11);

    DiagnosticEngine overridden;
    auto set = spec::loadEnvironment(path, "prod", {"clusters.default.properties.ssl.key.password=${KEY_PASSWORD}",
                                                    "flink.savepoints_dir=s3://other/savepoints"},
                                     sources, overridden);
    REQUIRE(set);
    CHECK(overridden.all().empty());
    CHECK(set->secrets.count("KEY_PASSWORD") == 1);
    CHECK(set->flink.savepointsDir == "s3://other/savepoints");
    DiagnosticEngine literalOverride;
    CHECK_FALSE(spec::loadEnvironment(path, "prod", {"sinks.features.password=hunter2"}, sources, literalOverride));
    REQUIRE_FALSE(literalOverride.all().empty());
    CHECK(literalOverride.all()[0].code == "E0123");

    CHECK(spec::environmentReferences("a ${X} b ${Y_2} ${3Z} ${") == std::vector<std::string>{"X", "Y_2"});
    std::filesystem::remove_all(directory);
}
