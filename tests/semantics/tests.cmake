add_test(NAME semantics COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_semantics.sh $<TARGET_FILE:pipec>)
set_tests_properties(semantics PROPERTIES LABELS semantics WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
