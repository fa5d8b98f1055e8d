# Coverage-guided fuzz targets (libFuzzer with ASan/UBSan, clang only; README "Fuzzing"). The fuzz build (PIPEC_FUZZ=ON,
# build-fuzz/) defines the targets; every other build registers the `fuzz` test, which builds them with clang and runs
# each for a minute (tests/fuzz/run_fuzz.sh), or is skipped when clang++ is not installed.
if(PIPEC_FUZZ)
  add_library(pipec_fuzz_inputs STATIC ${CMAKE_CURRENT_LIST_DIR}/fuzz_inputs.cpp)
  target_compile_options(pipec_fuzz_inputs PRIVATE ${PIPEC_WARNINGS})
  target_compile_definitions(pipec_fuzz_inputs PRIVATE PIPEC_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  target_link_libraries(pipec_fuzz_inputs PUBLIC pipec_emit pipec_driver)
  set(PIPEC_FUZZ_TARGETS)
  foreach(name spec sql record spec_test_file)
    add_executable(fuzz_${name} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${name}.cpp)
    target_compile_options(fuzz_${name} PRIVATE ${PIPEC_WARNINGS})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_${name} PRIVATE pipec_fuzz_inputs pipec_spec_test)
    list(APPEND PIPEC_FUZZ_TARGETS fuzz_${name})
  endforeach()
  add_custom_target(fuzz_targets DEPENDS ${PIPEC_FUZZ_TARGETS})
else()
  add_test(NAME fuzz COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_fuzz.sh)
  # Alone: the targets run two at a time on the machine's cores, and the clang build before them uses every core.
  set_tests_properties(fuzz PROPERTIES LABELS fuzz RUN_SERIAL TRUE TIMEOUT 3600 SKIP_RETURN_CODE 77
                                       WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endif()
