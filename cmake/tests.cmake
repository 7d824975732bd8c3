# Tests. One unit-test executable per tests/unit/test_*.c, linked against
# every part. End-to-end scenarios tests/e2e/NNNN-*.sh get the built binary
# in $SLUICE and the source tree in $SL_SRC. Fuzz targets fuzz/fuzz_*.c are
# built only with SL_FUZZ and run for a short, fixed time.
# $SL_TMP: every test's scratch directory, there whichever test runs first
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/tmp)
file(GLOB unit_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(t ${unit_tests})
  get_filename_component(name ${t} NAME_WE)
  add_executable(${name} ${t})
  target_link_libraries(${name} ${SL_ALL_LIBS})
  add_test(NAME unit/${name} COMMAND ${name})
  set_tests_properties(unit/${name} PROPERTIES
    ENVIRONMENT "SL_SRC=${CMAKE_SOURCE_DIR};SL_TMP=${CMAKE_BINARY_DIR}/tmp"
    LABELS unit TIMEOUT 300)
endforeach()

if(NOT SL_FUZZ)
  file(GLOB e2e_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/e2e/[0-9]*.sh)
  foreach(t ${e2e_tests})
    get_filename_component(name ${t} NAME_WE)
    add_test(NAME e2e/${name} COMMAND bash ${t})
    set_tests_properties(e2e/${name} PROPERTIES
      ENVIRONMENT "SLUICE=$<TARGET_FILE:sluice>;SL_SRC=${CMAKE_SOURCE_DIR};SL_TMP=${CMAKE_BINARY_DIR}/tmp;SL_SANITIZE=${SL_SANITIZE}"
      LABELS e2e TIMEOUT 900)
  endforeach()
endif()

if(SL_FUZZ)
  set(SL_FUZZ_SECONDS 20 CACHE STRING "seconds per fuzz target in ctest")
  file(GLOB fuzzers CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
  foreach(f ${fuzzers})
    get_filename_component(name ${f} NAME_WE)
    add_executable(${name} ${f})
    target_link_libraries(${name} ${SL_ALL_LIBS})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    set(corpus ${CMAKE_SOURCE_DIR}/fuzz/corpus/${name})
    add_test(NAME fuzz/${name}
      COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
              $<TARGET_FILE:${name}> -max_total_time=${SL_FUZZ_SECONDS} -rss_limit_mb=2048
              -timeout=10 -max_len=65536 ${CMAKE_BINARY_DIR}/corpus-${name} ${corpus})
    set_tests_properties(fuzz/${name} PROPERTIES LABELS fuzz TIMEOUT 300)
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/corpus-${name})
  endforeach()
endif()
