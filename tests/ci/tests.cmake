# The GitHub Actions workflow of docs/ci.md, run step by step on a scratch repository (base and head commits).
add_test(NAME ci_workflow COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_ci_workflow.sh $<TARGET_FILE:pipec>)
set_tests_properties(ci_workflow PROPERTIES LABELS golden TIMEOUT 120 WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
