#pragma once

// Expected<T, E> is std::expected<T, E> wherever the standard library provides it (g++ 12 with -std=c++23,
// the compiler of every shipped build). clang 14 with libstdc++ 12, the only clang on the build hosts and the
// one the libFuzzer targets need, does not: libstdc++ hides <expected> behind __cpp_concepts >= 202002L,
// which clang 14 does not reach. The fallback below is a small subset with the same spelling, so code
// written against it compiles unchanged under both; use only what both provide: construction from a value
// or from fail(error), has_value(), operator bool, operator*, operator->, error().
// Known limit: no value() (it would throw), no monadic operations, no Expected<void, E>.
//
// Why it stays (issue 8 asked whether the fuzz build can do without it; tried on 2026-12-02): no clang that
// Debian bookworm ships compiles libstdc++ 12's <expected>. clang++-14 (the default) and clang++-16 (the
// newest in bookworm, 1:16.0.6) both define __cpp_concepts as 201907L with -std=c++2b, so <expected> is
// empty for them and `std::expected<int, int>` does not name a type. libc++ 16 has std::expected, but the
// fuzz targets link re2, built against libstdc++, whose interface passes std::string: the two standard
// libraries cannot be mixed in one program. It can go once the fuzz build has a clang that defines
// __cpp_concepts as 202002L (newer than any in bookworm) with libstdc++, or g++ gains libFuzzer.

#include <version>

#if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202202L

#include <expected>
#include <type_traits>
#include <utility>

namespace fg::devices::serial {

template <class T, class E>
using Expected = std::expected<T, E>;

template <class E>
constexpr std::unexpected<std::decay_t<E>> fail(E&& error) {
  return std::unexpected<std::decay_t<E>>(std::forward<E>(error));
}

}  // namespace fg::devices::serial

#else

#include <type_traits>
#include <utility>
#include <variant>

namespace fg::devices::serial {

template <class E>
struct Unexpected {
  E error;
};

template <class E>
constexpr Unexpected<std::decay_t<E>> fail(E&& error) {
  return Unexpected<std::decay_t<E>>{std::forward<E>(error)};
}

template <class T, class E>
class Expected {
 public:
  // Indexes rather than types select the alternative, so T and E may be the same type.
  template <class U = T>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, Expected>)
      // NOLINTNEXTLINE(bugprone-forwarding-reference-overload): the requires clause excludes Expected itself.
      constexpr explicit(!std::is_convertible_v<U&&, T>) Expected(U&& value)
      : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  template <class G>
  constexpr Expected(Unexpected<G> error) : v_(std::in_place_index<1>, std::move(error.error)) {}

  constexpr bool has_value() const noexcept { return v_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  constexpr T& operator*() & { return *std::get_if<0>(&v_); }
  constexpr const T& operator*() const& { return *std::get_if<0>(&v_); }
  constexpr T&& operator*() && { return std::move(*std::get_if<0>(&v_)); }
  constexpr T* operator->() { return std::get_if<0>(&v_); }
  constexpr const T* operator->() const { return std::get_if<0>(&v_); }

  constexpr E& error() & { return *std::get_if<1>(&v_); }
  constexpr const E& error() const& { return *std::get_if<1>(&v_); }
  constexpr E&& error() && { return std::move(*std::get_if<1>(&v_)); }

 private:
  std::variant<T, E> v_;
};

}  // namespace fg::devices::serial

#endif
