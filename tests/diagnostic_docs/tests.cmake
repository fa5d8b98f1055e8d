# The diagnostics reference: every code of compiler/common/diagnostic_codes.def has a golden case and an up-to-date
# page in docs/diagnostics/, and the sources use no unregistered code.
add_test(NAME diagnostic_docs COMMAND pipec_diagnostic_docs ${CMAKE_SOURCE_DIR} --check)
set_tests_properties(diagnostic_docs PROPERTIES LABELS golden)
