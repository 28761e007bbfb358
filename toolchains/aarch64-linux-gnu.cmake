# Cross build for a Raspberry Pi 3/4/5 running a 64-bit OS (Raspberry Pi OS arm64 or Debian arm64),
# against Debian's arm64 multiarch libraries (scripts/install-deps.sh arm64 installs them).
# ctest runs the test programs under qemu-user through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkg-config must see only the target's .pc files (and the architecture-independent ones).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# The emulator takes the dynamic linker and libc from the multiarch libc6:arm64 in /lib/aarch64-linux-gnu
# (-L /), not from the cross toolchain's /usr/aarch64-linux-gnu: the two are different builds of glibc,
# and the cross ld.so with the multiarch libc.so (which it finds first) hangs in pthread_create.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/)
