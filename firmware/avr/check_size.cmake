# Prints the flash and static RAM a firmware ELF uses and fails when either reaches its budget.
#
#   cmake -DSIZE_TOOL=avr-size -DELF=fieldgate-node.elf -DFLASH_BUDGET=8192 -DRAM_BUDGET=1024 -P check_size.cmake
#
# Flash is what avrdude writes: .text (code, vectors, constants in program memory) plus .data (the initial
# values of initialised variables, copied to RAM at start). Static RAM is .data, .bss and .noinit.
foreach(var SIZE_TOOL ELF FLASH_BUDGET RAM_BUDGET)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_size.cmake: ${var} is not set")
  endif()
endforeach()

execute_process(COMMAND ${SIZE_TOOL} -A ${ELF} OUTPUT_VARIABLE sections RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "check_size.cmake: ${SIZE_TOOL} -A ${ELF} failed (${result})")
endif()

set(text 0)
set(data 0)
set(bss 0)
set(noinit 0)
string(REPLACE "\n" ";" lines "${sections}")
foreach(line IN LISTS lines)
  if(line MATCHES "^\\.(text|data|bss|noinit)[ \t]+([0-9]+)")
    set(${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
  endif()
endforeach()
math(EXPR flash "${text} + ${data}")
math(EXPR ram "${data} + ${bss} + ${noinit}")

get_filename_component(name ${ELF} NAME)
message(STATUS "${name}: flash ${flash} bytes (.text ${text} + .data ${data}), budget ${FLASH_BUDGET}")
message(STATUS "${name}: static RAM ${ram} bytes (.data ${data} + .bss ${bss} + .noinit ${noinit}), budget ${RAM_BUDGET}")
if(flash GREATER_EQUAL FLASH_BUDGET)
  message(FATAL_ERROR "${name}: flash ${flash} bytes is over the budget of ${FLASH_BUDGET}")
endif()
if(ram GREATER_EQUAL RAM_BUDGET)
  message(FATAL_ERROR "${name}: static RAM ${ram} bytes is over the budget of ${RAM_BUDGET}")
endif()
