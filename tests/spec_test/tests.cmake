# Golden tests of `pipec test`: passing and failing spec tests with their exact output, --bless, JUnit XML.
add_test(NAME spec_test COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_spec_tests.sh $<TARGET_FILE:pipec>)
set_tests_properties(spec_test PROPERTIES LABELS golden TIMEOUT 120 WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
