# `pipec proxy` end to end: curl against the proxy and `pipec broker`, kcat and protoc reading back (label
# `integration`; skipped, exit 77, without kcat/curl/protoc).
add_test(NAME integration_proxy COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_proxy.sh $<TARGET_FILE:pipec>)
set_tests_properties(integration_proxy PROPERTIES LABELS integration TIMEOUT 180 RUN_SERIAL TRUE
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)

# The whole flow: events posted to the proxy → topic → `pipec run` → Redis, equal to the offline replay.
add_test(NAME integration_proxy_flow COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_proxy_flow.sh $<TARGET_FILE:pipec>)
set_tests_properties(integration_proxy_flow PROPERTIES LABELS integration TIMEOUT 180 RUN_SERIAL TRUE
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)

# The broker goes away while clients keep posting: every acknowledged record is on the topic exactly once, the others
# got a clear error, and the proxy recovers.
add_test(NAME integration_proxy_outage COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_proxy_outage.sh $<TARGET_FILE:pipec>)
set_tests_properties(integration_proxy_outage PROPERTIES LABELS integration TIMEOUT 120 RUN_SERIAL TRUE
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)

# A ~100 MB chunked v3 stream produced as it arrives with bounded memory; limits on streams; the connection after them.
# Under the sanitizers (their allocator keeps freed memory in quarantine) the memory bound is not checked.
add_test(NAME integration_proxy_stream COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_proxy_stream.sh $<TARGET_FILE:pipec>
         $<IF:$<BOOL:${PIPEC_SANITIZE}>,sanitized,release>)
set_tests_properties(integration_proxy_stream PROPERTIES LABELS integration TIMEOUT 120 RUN_SERIAL TRUE
                     WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} SKIP_RETURN_CODE 77)
