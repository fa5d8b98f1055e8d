add_test(NAME image_packages COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_image_packages.sh $<TARGET_FILE:pipec>)
set_tests_properties(image_packages PROPERTIES LABELS image TIMEOUT 60 WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
