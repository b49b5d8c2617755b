# valijson 1.0 — the header-only JSON Schema validator behind src/schema (drafts 4 and 7).
#
# Debian packages it as libvalijson-dev, but installing that package pulls in Qt, Poco and about a hundred other
# packages that only its examples need (PLATFORM.md). So the .deb is fetched with `apt-get download` (no root
# needed, only the apt lists) and unpacked with `dpkg -x` into the build tree, once per build directory.
#
# Exposes the INTERFACE target `valijson`: its include directory (SYSTEM, so its warnings are not ours) and
# VALIJSON_USE_EXCEPTIONS=1, without which valijson calls abort() on a malformed schema or value.

set(HERALD_VALIJSON_DEPS_DIR ${CMAKE_BINARY_DIR}/_deps)
set(HERALD_VALIJSON_ROOT ${HERALD_VALIJSON_DEPS_DIR}/valijson)
set(HERALD_VALIJSON_INCLUDE_DIR ${HERALD_VALIJSON_ROOT}/usr/include)

if(NOT EXISTS ${HERALD_VALIJSON_INCLUDE_DIR}/valijson)
    find_program(HERALD_APT_GET apt-get)
    find_program(HERALD_DPKG dpkg)
    if(NOT HERALD_APT_GET OR NOT HERALD_DPKG)
        message(FATAL_ERROR "valijson: apt-get and dpkg are needed to fetch libvalijson-dev (Debian 12).")
    endif()
    file(MAKE_DIRECTORY ${HERALD_VALIJSON_DEPS_DIR})
    file(GLOB _valijson_old_debs ${HERALD_VALIJSON_DEPS_DIR}/libvalijson-dev_*.deb)
    if(_valijson_old_debs)
        file(REMOVE ${_valijson_old_debs})
    endif()
    message(STATUS "valijson: apt-get download libvalijson-dev")
    execute_process(
        COMMAND ${HERALD_APT_GET} download libvalijson-dev
        WORKING_DIRECTORY ${HERALD_VALIJSON_DEPS_DIR}
        RESULT_VARIABLE _valijson_rc
        OUTPUT_VARIABLE _valijson_out
        ERROR_VARIABLE _valijson_err)
    file(GLOB _valijson_deb ${HERALD_VALIJSON_DEPS_DIR}/libvalijson-dev_*.deb)
    if(NOT _valijson_rc EQUAL 0 OR NOT _valijson_deb)
        message(FATAL_ERROR
            "valijson: 'apt-get download libvalijson-dev' failed (exit ${_valijson_rc}):\n"
            "${_valijson_err}\n"
            "The apt package lists are probably missing: run scripts/install-deps.sh (it refreshes them), "
            "or 'apt-get update' as root, then configure again.")
    endif()
    list(GET _valijson_deb 0 _valijson_deb)
    get_filename_component(_valijson_deb_name ${_valijson_deb} NAME)
    if(NOT _valijson_deb_name MATCHES "^libvalijson-dev_1\\.0[+_]")
        # src/schema/validator.cpp maps valijson 1.0's error texts to keywords; another version needs a look.
        message(WARNING "valijson: expected version 1.0, got ${_valijson_deb_name}")
    endif()
    # Unpack beside the final place and rename, so an interrupted configure never leaves half a tree behind.
    set(_valijson_tmp ${HERALD_VALIJSON_ROOT}.tmp)
    file(REMOVE_RECURSE ${_valijson_tmp})
    execute_process(
        COMMAND ${HERALD_DPKG} -x ${_valijson_deb} ${_valijson_tmp}
        RESULT_VARIABLE _valijson_rc
        ERROR_VARIABLE _valijson_err)
    if(NOT _valijson_rc EQUAL 0 OR NOT EXISTS ${_valijson_tmp}/usr/include/valijson/validator.hpp)
        message(FATAL_ERROR "valijson: 'dpkg -x ${_valijson_deb}' failed (exit ${_valijson_rc}): ${_valijson_err}")
    endif()
    file(REMOVE_RECURSE ${HERALD_VALIJSON_ROOT})
    file(RENAME ${_valijson_tmp} ${HERALD_VALIJSON_ROOT})
    message(STATUS "valijson: unpacked ${_valijson_deb_name} into ${HERALD_VALIJSON_ROOT}")
endif()

if(NOT TARGET valijson)
    add_library(valijson INTERFACE)
    target_include_directories(valijson SYSTEM INTERFACE ${HERALD_VALIJSON_INCLUDE_DIR})
    target_compile_definitions(valijson INTERFACE VALIJSON_USE_EXCEPTIONS=1)
endif()
