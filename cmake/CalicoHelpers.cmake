# calico_cc_library / calico_cc_test: one static library per directory (abseil's absl_cc_library,
# Katran's per-concern STATIC libs). Every library gets the alias calico::<name>.

set(CALICO_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wconversion)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 at -O2/-O3 reports std::string concatenations as overlapping memcpy (GCC bug 105329)
  # and similar false positives from libstdc++ inlining.
  # Only optimised builds see them.
  list(APPEND CALICO_WARNINGS $<$<NOT:$<CONFIG:Debug>>:-Wno-restrict -Wno-stringop-overflow -Wno-array-bounds>)
endif()
if(CALICO_WERROR)
  list(APPEND CALICO_WARNINGS -Werror)
endif()

# CALICO_SANITIZER_DEFAULTS (the asan and fuzz presets): every test and binary gets the sanitizer
# run-time defaults of cmake/sanitizer_defaults.cc.
option(CALICO_SANITIZER_DEFAULTS "Compile sanitizer run-time defaults into every binary" OFF)
function(calico_sanitizer_defaults target)
  if(CALICO_SANITIZER_DEFAULTS)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/cmake/sanitizer_defaults.cc)
  endif()
endfunction()

function(calico_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "HDRS;SRCS;DEPS" ${ARGN})
  if(ARG_SRCS)
    add_library(calico_${ARG_NAME} STATIC ${ARG_SRCS} ${ARG_HDRS})
    target_include_directories(calico_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(calico_${ARG_NAME} PUBLIC ${ARG_DEPS})
    target_compile_options(calico_${ARG_NAME} PRIVATE ${CALICO_WARNINGS})
  else()
    add_library(calico_${ARG_NAME} INTERFACE)
    target_include_directories(calico_${ARG_NAME} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(calico_${ARG_NAME} INTERFACE ${ARG_DEPS})
  endif()
  add_library(calico::${ARG_NAME} ALIAS calico_${ARG_NAME})
endfunction()

set(CALICO_TEST_PATHS_HEADER ${CMAKE_BINARY_DIR}/generated/calico_test_paths.h)
file(CONFIGURE OUTPUT ${CALICO_TEST_PATHS_HEADER} CONTENT
  "#pragma once\n#define CALICO_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\"\n#define CALICO_BINARY_DIR \"${CMAKE_BINARY_DIR}\"\n")

# LABELS: unit (hermetic, default) | privileged (root + network namespaces) | integration (runs
# another program: etcd, BIRD) | threads (exercises code on several threads: `make tsan-test`
# runs these under ThreadSanitizer); a test may carry several ("unit threads").
function(calico_cc_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  calico_sanitizer_defaults(${ARG_NAME})
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_options(${ARG_NAME} PRIVATE ${CALICO_WARNINGS})
  # CALICO_SOURCE_DIR / CALICO_BINARY_DIR come from a generated header forced into every test
  # rather than from -D flags: ccache (with CCACHE_BASEDIR, see the Makefile) then rewrites every
  # path on the command line to a relative one, so two clones of the tree share cached objects, and
  # the absolute directories reach only the tests through the header's content.
  target_compile_options(${ARG_NAME} PRIVATE -include ${CALICO_TEST_PATHS_HEADER})
  # NO_PRETTY_VALUES: parameter values (some are raw bytes) stay out of the ctest names.
  gtest_discover_tests(${ARG_NAME} NO_PRETTY_VALUES PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
  # gtest_discover_tests flattens PROPERTIES, so a list of labels would lose all but the first:
  # a script run after discovery (in ctest) sets the whole list on the discovered tests.
  list(LENGTH ARG_LABELS label_count)
  if(label_count GREATER 1)
    set(label_script ${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}_labels.cmake)
    file(WRITE ${label_script}
      "if(${ARG_NAME}_TESTS)\n  set_tests_properties(\${${ARG_NAME}_TESTS} PROPERTIES LABELS \"${ARG_LABELS}\")\nendif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${label_script})
  endif()
endfunction()


# A thin binary in build/bin.
function(calico_cc_binary)
  cmake_parse_arguments(ARG "" "NAME;OUTPUT" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  calico_sanitizer_defaults(${ARG_NAME})
  if(ARG_OUTPUT)
    set_target_properties(${ARG_NAME} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT})
  endif()
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  target_compile_options(${ARG_NAME} PRIVATE ${CALICO_WARNINGS})
endfunction()
