# Integration tests: real Kafka protocol (the embedded broker, kcat) and a real redis-server. Label `integration`;
# run with `ctest -L integration`. They skip (pass with a message) when redis-server or kcat is not installed.
set(PIPEC_INTEGRATION_DIR ${CMAKE_CURRENT_LIST_DIR})

add_executable(integration_kafka_redis_flow ${PIPEC_INTEGRATION_DIR}/kafka_redis_flow_test.cpp ${PIPEC_DOCTEST_MAIN})
target_compile_options(integration_kafka_redis_flow PRIVATE ${PIPEC_WARNINGS})
target_link_libraries(integration_kafka_redis_flow PRIVATE pipec_runtime_sources pipec_runtime_sinks PkgConfig::HIREDIS)
add_test(NAME integration_kafka_redis_flow COMMAND integration_kafka_redis_flow)
set_tests_properties(integration_kafka_redis_flow PROPERTIES LABELS integration TIMEOUT 120)

add_test(NAME integration_pipec_kafka_redis
         COMMAND ${PIPEC_INTEGRATION_DIR}/run_kafka_redis.sh $<TARGET_FILE:pipec>)
set_tests_properties(integration_pipec_kafka_redis PROPERTIES LABELS integration TIMEOUT 300
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)
