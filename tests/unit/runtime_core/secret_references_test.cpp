#include "runtime/core/secret_references.h"

#include "runtime/core/user_error.h"

#include <doctest/doctest.h>

#include <map>

using namespace pipec;
using namespace pipec::runtime;

namespace {

EnvironmentLookup lookupIn(const std::map<std::string, std::string>& variables) {
    return [&variables](const char* name) -> const char* {
        auto found = variables.find(name);
        return found == variables.end() ? nullptr : found->second.c_str();
    };
}

} // namespace

TEST_CASE("secret references are expanded from the environment when the job starts") {
    std::map<std::string, std::string> variables = {{"REDIS_PASSWORD", "s3cret"}, {"USER", "pipec"}, {"EMPTY", ""}};
    auto lookup = lookupIn(variables);
    CHECK(expandReferences("${REDIS_PASSWORD}", "x", lookup) == "s3cret");
    CHECK(expandReferences("user=\"${USER}\" password=\"${REDIS_PASSWORD}\";", "x", lookup) == "user=\"pipec\" password=\"s3cret\";");
    CHECK(expandReferences("${EMPTY}", "x", lookup).empty());
    // Not references: kept as written, as the compiler reads them.
    CHECK(expandReferences("plain", "x", lookup) == "plain");
    CHECK(expandReferences("cost $5 ${ unclosed", "x", lookup) == "cost $5 ${ unclosed");
    CHECK(expandReferences("${1ABC} ${A-B}", "x", lookup) == "${1ABC} ${A-B}");
    CHECK_THROWS_WITH_AS(expandReferences("${MISSING}", "setting `password` of sink `features`", lookup),
                         doctest::Contains("setting `password` of sink `features` names the environment variable `MISSING`, which is not set"),
                         UserError);

    plan::Job job;
    (*job.mutable_cluster_properties())["sasl.password"] = "${REDIS_PASSWORD}";
    (*job.mutable_cluster_properties())["security.protocol"] = "SASL_SSL";
    plan::Sink* sink = job.add_sinks();
    sink->set_name("features");
    (*sink->mutable_properties())["password"] = "${USER}-${REDIS_PASSWORD}";
    expandSecretReferences(job, lookup);
    CHECK(job.cluster_properties().at("sasl.password") == "s3cret");
    CHECK(job.cluster_properties().at("security.protocol") == "SASL_SSL");
    CHECK(job.sinks(0).properties().at("password") == "pipec-s3cret");
}
