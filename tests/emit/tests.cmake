add_test(NAME emit COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_emit.sh $<TARGET_FILE:pipec>)
set_tests_properties(emit PROPERTIES LABELS emit TIMEOUT 240 WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
add_test(NAME emit_proxy COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_emit_proxy.sh $<TARGET_FILE:pipec>)
set_tests_properties(emit_proxy PROPERTIES LABELS emit TIMEOUT 180 WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
