# The ATmega328P (Arduino Uno and Nano, or a bare chip) at 16 MHz, with Debian's gcc-avr, binutils-avr and
# avr-libc (scripts/install-deps.sh installs them). Used by the firmware's own project, never by the
# gateway's build:
#
#   cmake -S firmware/avr -B build/avr -DCMAKE_TOOLCHAIN_FILE=toolchains/avr-atmega328p.cmake
#   cmake --build build/avr     # build/avr/fieldgate-node.elf, .hex, and the size report
#
# Another AVR of the same family needs a copy of this file with its own FG_AVR_MCU and F_CPU, and a board
# file in firmware/avr/ for its pins.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR avr)

set(FG_AVR_MCU atmega328p CACHE STRING "avr-gcc -mmcu name of the target chip")
set(FG_AVR_F_CPU 16000000 CACHE STRING "Clock frequency of the target in Hz")

set(CMAKE_C_COMPILER avr-gcc)
set(CMAKE_ASM_COMPILER avr-gcc)
find_program(FG_AVR_OBJCOPY avr-objcopy REQUIRED)
find_program(FG_AVR_SIZE avr-size REQUIRED)

# -mmcu and F_CPU are added by the firmware's project from FG_AVR_MCU and FG_AVR_F_CPU (not through
# CMAKE_C_FLAGS, which a -DCMAKE_C_FLAGS=... on the command line would replace).
# Optimise for size in every build type: the budget is flash.
set(CMAKE_C_FLAGS_RELEASE_INIT "-Os")
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os")
set(CMAKE_C_FLAGS_DEBUG_INIT "-Os -g")
set(CMAKE_C_FLAGS_RELWITHDEBINFO_INIT "-Os -g")

# A bare-metal target cannot link a test program without a startup file and a linker script that the
# compiler checks do not pass, so the checks only compile.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# Headers and libraries come from avr-libc only, never from the host.
set(CMAKE_FIND_ROOT_PATH /usr/lib/avr)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
