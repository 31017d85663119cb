# bpf_object(NAME SOURCE [DEPENDS headers...])
# Compiles one BPF program with clang into NAME.bpf.o, generates its libbpf skeleton with
# `bpftool gen skeleton`, and exposes INTERFACE target NAME_skel whose include directory holds
# NAME.skel.h. The same shape as libbpf-bootstrap's function, so readers know it at a glance.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

set(WIRESPAN_VMLINUX_DIR ${CMAKE_BINARY_DIR}/vmlinux)
set(WIRESPAN_VMLINUX_H ${WIRESPAN_VMLINUX_DIR}/vmlinux.h)
set(WIRESPAN_BTF_SOURCE /sys/kernel/btf/vmlinux CACHE FILEPATH "BTF used to generate vmlinux.h")
# vmlinux.h is generated at build time rather than kept in-tree: CO-RE relocations make the
# resulting object portable, and generating it keeps a 3 MB machine-generated header out of review.
add_custom_command(
  OUTPUT ${WIRESPAN_VMLINUX_H}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${WIRESPAN_VMLINUX_DIR}
  COMMAND ${BPFTOOL} btf dump file ${WIRESPAN_BTF_SOURCE} format c > ${WIRESPAN_VMLINUX_H}
  COMMENT "Generating vmlinux.h from ${WIRESPAN_BTF_SOURCE}"
  VERBATIM)
add_custom_target(wirespan_vmlinux DEPENDS ${WIRESPAN_VMLINUX_H})

function(bpf_object name source)
  cmake_parse_arguments(BPF "" "" "DEPENDS" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/bpf_gen)
  set(obj ${out_dir}/${name}.bpf.o)
  set(skel ${out_dir}/${name}.skel.h)
  get_filename_component(src_abs ${source} ABSOLUTE)
  get_filename_component(src_dir ${src_abs} DIRECTORY)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror
            -Wno-unused-function -Wno-compare-distinct-pointer-types
            -I${WIRESPAN_VMLINUX_DIR} -I${src_dir} -I${PROJECT_SOURCE_DIR}
            -c ${src_abs} -o ${obj}
    DEPENDS ${src_abs} ${BPF_DEPENDS} ${WIRESPAN_VMLINUX_H}
    COMMENT "BPF ${name}: clang -> ${name}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "BPF ${name}: bpftool gen skeleton"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${out_dir})
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
