add_test(NAME cli COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_cli.sh $<TARGET_FILE:pipec>)
set_tests_properties(cli PROPERTIES LABELS golden WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
