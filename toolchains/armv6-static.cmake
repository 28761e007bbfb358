# Static build for the ARMv6 Raspberry Pis (Pi Zero W, Pi 1), which run Raspberry Pi OS's armhf: an ARMv6
# hard-float port that is not Debian's armhf (ARMv7). Neither Debian's armhf libraries (ARMv7 code) nor
# Raspberry Pi OS's (not reachable here) can be linked, so the program is linked statically against
# Debian 12's armel libraries: armel is ARMv5TE with soft-float calling conventions, and ARMv5TE code runs
# on the ARMv6 core. A static program has no dynamic linker and no shared library, so the float ABI of the
# Pi's own libraries does not matter to it.
#
# The libraries come from a sysroot of unpacked armel packages, with a libmosquitto.a built from Debian's
# mosquitto source package (scripts/armv6-sysroot.sh). glibc and libstdc++ are the armel cross
# toolchain's (crossbuild-essential-armel). Tests run under qemu-arm emulating the Pi's ARM1176.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv6l)
set(CMAKE_C_COMPILER arm-linux-gnueabi-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabi-g++)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabi)

if(DEFINED ENV{FG_ARMV6_SYSROOT})
  set(FG_ARMV6_SYSROOT "$ENV{FG_ARMV6_SYSROOT}")
else()
  get_filename_component(FG_ARMV6_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../build/armv6-sysroot" ABSOLUTE)
endif()
if(NOT EXISTS "${FG_ARMV6_SYSROOT}/usr/lib/arm-linux-gnueabi/libmosquitto.a")
  message(FATAL_ERROR "No ARMv6 sysroot at ${FG_ARMV6_SYSROOT}: run scripts/armv6-sysroot.sh")
endif()

# Every library, header and CMake package from the sysroot, and only from there; programs from the host.
set(CMAKE_FIND_ROOT_PATH "${FG_ARMV6_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${FG_ARMV6_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${FG_ARMV6_SYSROOT}/usr/lib/arm-linux-gnueabi/pkgconfig:${FG_ARMV6_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# A static link. The sysroot has no libX.so development links, so pkg_check_modules and find_library
# resolve every -lX to libX.a (libuv.a, libsodium.a, libmosquitto.a ...); the libraries that those need
# but whose .pc files list only for static links (Libs.private) are added to every link here. OpenSSL
# uses 64-bit atomics, which ARMv5TE lacks: libatomic provides them (with the kernel's helpers).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_C_FLAGS_INIT "-isystem ${FG_ARMV6_SYSROOT}/usr/include/arm-linux-gnueabi")
# -Wno-psabi: see arm-linux-gnueabihf.cmake.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi -isystem ${FG_ARMV6_SYSROOT}/usr/include/arm-linux-gnueabi")
set(CMAKE_CXX_STANDARD_LIBRARIES
    "-L${FG_ARMV6_SYSROOT}/usr/lib/arm-linux-gnueabi -lssl -lcrypto -lz -latomic -pthread")

# The Pi Zero W's and Pi 1's core. A static program needs no -L.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm;-cpu;arm1176)
