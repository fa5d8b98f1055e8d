# Integration tests: real Kafka protocol (the embedded broker, kcat) and a real redis-server. Label `integration`;
# run with `ctest -L integration`. They skip (pass with a message) when redis-server or kcat is not installed.
set(PIPEC_INTEGRATION_DIR ${CMAKE_CURRENT_LIST_DIR})

# C++ tests of the Kafka and Redis pieces over real protocols (slower than unit tests: a consumer-group join on the
# embedded broker takes 3 s).
file(GLOB PIPEC_INTEGRATION_SOURCES CONFIGURE_DEPENDS ${PIPEC_INTEGRATION_DIR}/*_test.cpp)
add_executable(integration_kafka ${PIPEC_INTEGRATION_SOURCES} ${PIPEC_DOCTEST_MAIN})
target_compile_options(integration_kafka PRIVATE ${PIPEC_WARNINGS})
target_compile_definitions(integration_kafka PRIVATE PIPEC_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
target_link_libraries(integration_kafka PRIVATE pipec_driver pipec_runtime_kafka pipec_runtime_sources pipec_runtime_sinks PkgConfig::HIREDIS
                      PkgConfig::RDKAFKA)
add_test(NAME integration_kafka COMMAND integration_kafka)
set_tests_properties(integration_kafka PROPERTIES LABELS integration TIMEOUT 180)

add_test(NAME integration_pipec_kafka_redis
         COMMAND ${PIPEC_INTEGRATION_DIR}/run_kafka_redis.sh $<TARGET_FILE:pipec>)
set_tests_properties(integration_pipec_kafka_redis PROPERTIES LABELS integration TIMEOUT 300
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)

# Two instances in one consumer group, and a Redis outage mid-run (scripts/bash; real broker protocol and redis-server).
add_test(NAME integration_group_outage COMMAND ${PIPEC_INTEGRATION_DIR}/run_group_outage.sh $<TARGET_FILE:pipec>)
set_tests_properties(integration_group_outage PROPERTIES LABELS integration TIMEOUT 300
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)

# A partition moving between two members whose watermarks differ: every window emitted exactly once.
add_test(NAME integration_group_handover COMMAND ${PIPEC_INTEGRATION_DIR}/run_group_handover.sh $<TARGET_FILE:pipec>)
set_tests_properties(integration_group_handover PROPERTIES LABELS integration TIMEOUT 180
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)

# One failure mode per script (each < 60 s, own redis-server and `pipec broker`; helpers in lib.sh).
foreach(script redis_outage_until_end group_until_end bad_records kcat_json embedded_seed session_restart
               sink_stall_health backpressure_idle bad_times)
  add_test(NAME integration_${script} COMMAND ${PIPEC_INTEGRATION_DIR}/run_${script}.sh $<TARGET_FILE:pipec>)
  set_tests_properties(integration_${script} PROPERTIES LABELS integration TIMEOUT 120 RUN_SERIAL TRUE
                       WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)
endforeach()

# kill -9 (issue 11): 3 members, 12 partitions, a random member SIGKILLed and restarted >= 20 times while events are
# produced; Redis checked against the offline replay after the drain and, from a MONITOR log, throughout (~2 min).
# 2-3 minutes on a release build; an ASan/UBSan build (tools/test --sanitize) runs its members several times slower.
add_test(NAME integration_group_kill9 COMMAND ${PIPEC_INTEGRATION_DIR}/run_group_kill9.sh $<TARGET_FILE:pipec>)
set_tests_properties(integration_group_kill9 PROPERTIES LABELS integration TIMEOUT 900 RUN_SERIAL TRUE
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)

# The repartition exchange (issue 12): a round-robin topic, 3 members, 500k events, against the offline replay; the
# same with 10 SIGKILLs (fewer events); key_field without an exchange and the split-key guard.
add_test(NAME integration_exchange_group COMMAND ${PIPEC_INTEGRATION_DIR}/run_exchange_group.sh $<TARGET_FILE:pipec>)
# Not RUN_SERIAL: own broker, Redis and ports, and no assertion depends on timing (waits are bounded at minutes).
set_tests_properties(integration_exchange_group PROPERTIES LABELS integration TIMEOUT 600
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)
add_test(NAME integration_exchange_kill9 COMMAND ${PIPEC_INTEGRATION_DIR}/run_exchange_group.sh $<TARGET_FILE:pipec>)
set_tests_properties(integration_exchange_kill9 PROPERTIES LABELS integration TIMEOUT 600
                     ENVIRONMENT "EXCHANGE_KILLS=10;EXCHANGE_EVENTS=150000"
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)
add_test(NAME integration_exchange_keyed COMMAND ${PIPEC_INTEGRATION_DIR}/run_exchange_keyed.sh $<TARGET_FILE:pipec>)
set_tests_properties(integration_exchange_keyed PROPERTIES LABELS integration TIMEOUT 300
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)
