# libFuzzer support (tests/fuzz, docs/reliability.md). Only used when HERALD_FUZZ is on, in a build
# directory of its own configured with clang (`make fuzz` uses build-fuzz and clang++-14):
#
#   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DHERALD_FUZZ=ON
#   cmake --build build-fuzz --target herald_fuzzers
#
# The modules a fuzz target links are compiled with -fsanitize=fuzzer-no-link (coverage feedback
# for libFuzzer, no second main) plus ASan and UBSan, so that a parser bug is found where it
# happens rather than where its damage shows. The targets themselves link -fsanitize=fuzzer, which
# brings libFuzzer's main. Other modules are left alone: the fuzz build never builds them.

if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "HERALD_FUZZ needs clang (libFuzzer); configure with "
                        "-DCMAKE_CXX_COMPILER=clang++-14 in a separate build directory")
endif()

# Assertions stay on: Result<T>::value() asserts that a value is present, and a parser that hands
# out a failed Result is a bug the fuzzer should report.
string(TOUPPER "${CMAKE_BUILD_TYPE}" _herald_fuzz_config)
if("${CMAKE_CXX_FLAGS_${_herald_fuzz_config}}" MATCHES "NDEBUG")
    message(WARNING "HERALD_FUZZ: CMAKE_CXX_FLAGS_${_herald_fuzz_config} defines NDEBUG, which "
                    "disables the assertions fuzzing relies on; `make fuzz` passes "
                    "-O1 -gline-tables-only instead")
endif()

set(HERALD_FUZZ_SANITIZERS address,undefined)
# UBSan's `function` check is left out: clang 14 cannot compile Asio coroutines with it ("Cannot represent a
# difference across sections"), and the end-to-end target (http_server) builds the whole server, coroutines and
# all. What it would catch, a call through a function pointer of the wrong type, is also a compiler warning.
set(HERALD_FUZZ_COMMON_FLAGS -fno-omit-frame-pointer -fno-sanitize-recover=undefined -fno-sanitize=function)

# herald_fuzz_instrument(herald_core herald_base ...): compile these library targets for fuzzing.
# List every module a target links, transitively: an uninstrumented module gives libFuzzer no
# coverage to steer by and ASan no shadow checks on its own accesses.
function(herald_fuzz_instrument)
    foreach(target IN LISTS ARGN)
        get_property(done TARGET ${target} PROPERTY HERALD_FUZZ_INSTRUMENTED)
        if(done)
            continue()
        endif()
        if(HERALD_SANITIZE STREQUAL "address")
            # The whole tree already has ASan and UBSan (the sanitizer build, `make test-asan`). Naming them again
            # here would come after the global -fno-sanitize=function (CMake drops the repeated flags) and
            # switch that check back on.
            target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
        else()
            target_compile_options(${target} PRIVATE
                -fsanitize=fuzzer-no-link,${HERALD_FUZZ_SANITIZERS} ${HERALD_FUZZ_COMMON_FLAGS})
        endif()
        set_property(TARGET ${target} PROPERTY HERALD_FUZZ_INSTRUMENTED TRUE)
    endforeach()
endfunction()

# herald_fuzz_instrument_closure(herald_server): the module and every herald_* module it links, transitively.
function(herald_fuzz_instrument_closure)
    set(pending ${ARGN})
    set(seen "")
    while(pending)
        list(POP_FRONT pending target)
        if(target IN_LIST seen OR NOT TARGET ${target} OR NOT target MATCHES "^herald_")
            continue()
        endif()
        list(APPEND seen ${target})
        get_target_property(deps ${target} LINK_LIBRARIES)
        if(deps)
            list(APPEND pending ${deps})
        endif()
    endwhile()
    herald_fuzz_instrument(${seen})
endfunction()

# herald_fuzz_target(NAME cursor SOURCES cursor_fuzz.cpp DEPS herald_engine)
# Builds the executable <NAME>_fuzz and adds it to the herald_fuzzers target. Its seed corpus lives
# in tests/fuzz/corpus/<NAME>/, an optional dictionary in tests/fuzz/dict/<NAME>.dict.
function(herald_fuzz_target)
    cmake_parse_arguments(F "" "NAME" "SOURCES;DEPS" ${ARGN})
    set(exe ${F_NAME}_fuzz)
    add_executable(${exe} ${F_SOURCES})
    target_include_directories(${exe} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(${exe} PRIVATE ${F_DEPS})
    if(HERALD_SANITIZE STREQUAL "address")
        target_compile_options(${exe} PRIVATE -fsanitize=fuzzer)
    else()
        target_compile_options(${exe} PRIVATE
            -fsanitize=fuzzer,${HERALD_FUZZ_SANITIZERS} ${HERALD_FUZZ_COMMON_FLAGS})
    endif()
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer,${HERALD_FUZZ_SANITIZERS})
    # Next to each other in the build directory, where tests/fuzz/run.sh looks for them.
    set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
    add_dependencies(herald_fuzzers ${exe})
endfunction()

add_custom_target(herald_fuzzers)
