# Cross build for a Raspberry Pi 2/3/4 running a 32-bit OS (Raspberry Pi OS armhf or Debian armhf),
# against Debian's armhf multiarch libraries (scripts/install-deps.sh armhf installs them).
# Debian's armhf is ARMv7 with VFPv3-D16: it does not run on the ARMv6 Pi Zero W and Pi 1
# (toolchains/armv6-static.cmake is for those).
# ctest runs the test programs under qemu-user through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
# g++ notes on every std::vector<T>::iterator passed by value that GCC 7.1 changed the ARM calling
# convention for it; all of fieldgate is built with one compiler, so the note is noise.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")

# pkg-config must see only the target's .pc files (and the architecture-independent ones).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# As for aarch64: the emulator takes the dynamic linker and libc from the multiarch libc6:armhf in
# /lib/arm-linux-gnueabihf (-L /), not from the cross toolchain's /usr/arm-linux-gnueabihf.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm;-L;/)
