// builtins.hpp - Python's repr(), str() and print() for C++ values (Python: builtins).
//
//   aio::print("results:", results);   // results: [1, 'two', ValueError('bad')]
//   std::string s = aio::repr(std::tuple{1, 2.5, "x"});   // (1, 2.5, 'x')
//
// A ported tutorial prints what Python printed, so repr(x) is Python's repr of the value
// x stands for:
//   bool                  True, False
//   integers, floats      42; Python's shortest float: 0.1, 1.0, 2.5, 1e+16, inf, nan
//   enums                 their value
//   strings, char         quoted and escaped as Python does: 'a', "it's", 'tab\t'
//   monostate, nullopt    None (also nullptr)
//   std::optional         None or the value
//   ranges (vector, array, list, deque, span...)   a list: [1, 2]
//   std::tuple, std::pair a tuple: (1, 'a'), (1,), ()
//   maps, sets            a dict {'a': 1} and a set {1, 2} (set() when empty)
//   std::variant          the alternative it holds
//   exceptions            ValueError('bad'), TimeoutError(), std::runtime_error('x'),
//                         from the object or a std::exception_ptr (null: None)
//   a `repr()` member     what it returns (Task, Future, Handle, Outcome, Lock...)
//   anything else         operator<< if it has one; otherwise a compile error
// str(x) is the text itself for strings, the message for exceptions (Python's str(e)),
// a `str()` member's result if there is one, and repr(x) for everything else; so inside
// a container a string is quoted and at the top it is not, as Python prints them.
// print(a, b, ...) writes str(a) + " " + str(b) + ... + "\n" to std::cout in one write,
// as Python's print(a, b) writes to sys.stdout (buffered alike when piped).
//
// Lesson 1 names no later type: those print through a repr() member, and exceptions
// through lesson 1's PythonException interface (exceptions.hpp).
#pragma once

#include <concepts>
#include <cstddef>
#include <exception>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "lesson01_loop/exceptions.hpp"

namespace aio {

namespace detail {

// The scalar forms, out of line (builtins.cpp).
std::string string_repr(std::string_view text);  // Python's repr(str)
std::string float_repr(double value);            // Python's repr(float)
std::string float_repr(float value);             // a float's own shortest digits
std::string exception_repr(const std::exception& error);
std::string exception_repr(const std::exception_ptr& error);  // None for null
std::string exception_str(const std::exception_ptr& error);   // '' for null
void write_stdout(const std::string& line);                   // one write to std::cout

template <class T>
inline constexpr bool is_optional = false;
template <class T>
inline constexpr bool is_optional<std::optional<T>> = true;
template <class T>
inline constexpr bool is_variant = false;
template <class... T>
inline constexpr bool is_variant<std::variant<T...>> = true;
template <class T>
inline constexpr bool is_tuple = false;
template <class... T>
inline constexpr bool is_tuple<std::tuple<T...>> = true;
template <class A, class B>
inline constexpr bool is_tuple<std::pair<A, B>> = true;

template <class T>
concept None = std::is_same_v<T, std::monostate> || std::is_same_v<T, std::nullopt_t> ||
    std::is_same_v<T, std::nullptr_t>;
template <class T>
concept Text = std::is_convertible_v<const T&, std::string_view> && !None<T>;
template <class T>
concept HasRepr = requires(const T& v) {
    { v.repr() } -> std::convertible_to<std::string>;
};
template <class T>
concept HasStr = requires(const T& v) {
    { v.str() } -> std::convertible_to<std::string>;
};
template <class T>
concept Iterable = requires(const T& v) {
    std::begin(v);
    std::end(v);
};
template <class T>
using element_t = std::remove_cvref_t<decltype(*std::begin(std::declval<const T&>()))>;
// A range of something else (std::filesystem::path is a range of paths: not a list).
template <class T>
concept Range = Iterable<T> && !std::is_same_v<element_t<T>, T>;
template <class T>
concept MapLike = Range<T> && requires {
    typename T::key_type;
    typename T::mapped_type;
};
template <class T>
concept SetLike = Range<T> && !MapLike<T> && requires {
    typename T::key_type;
};
template <class T>
concept Streamable = requires(std::ostream& os, const T& v) {
    os << v;
};

// Whether repr() has a form for T (element types included); the rest is a compile error
// in repr(), and a generic form where a printer must accept any T (Future's repr).
template <class T>
struct representable
    : std::bool_constant<std::is_arithmetic_v<T> || std::is_enum_v<T> || None<T> || Text<T> ||
                         HasRepr<T> || std::is_same_v<T, std::exception_ptr> ||
                         std::is_base_of_v<std::exception, T> || Streamable<T>> {};
template <class T>
struct representable<std::optional<T>> : representable<T> {};
template <class... T>
struct representable<std::variant<T...>> : std::conjunction<representable<T>...> {};
template <class... T>
struct representable<std::tuple<T...>> : std::conjunction<representable<T>...> {};
template <class A, class B>
struct representable<std::pair<A, B>> : std::conjunction<representable<A>, representable<B>> {};
template <class T>
requires(Range<T> && !Text<T> && !HasRepr<T>) struct representable<T>
    : representable<element_t<T>> {
};
template <class T>
concept Representable = representable<std::remove_cvref_t<T>>::value;

template <class T>
void repr_into(std::string& out, const T& value);

// "[a, b]" from a range; map entries as "k: v".
template <class R>
void repr_items(std::string& out, const R& range, const char* open, const char* close) {
    out += open;
    const char* sep = "";
    for (const auto& item : range) {
        out += sep;
        sep = ", ";
        if constexpr (MapLike<R>) {
            repr_into(out, item.first);
            out += ": ";
            repr_into(out, item.second);
        } else {
            repr_into(out, item);
        }
    }
    out += close;
}

// Python's tuple: "(a, b)", "(a,)", "()".
template <class Tuple>
void repr_tuple(std::string& out, const Tuple& tuple) {
    out += '(';
    std::apply(
        [&out](const auto&... item) {
            [[maybe_unused]] const char* sep = "";  // unused for ()
            ((out += sep, sep = ", ", repr_into(out, item)), ...);
        },
        tuple);
    if constexpr (std::tuple_size_v<Tuple> == 1) out += ',';
    out += ')';
}

template <class T>
void repr_into(std::string& out, const T& value) {
    if constexpr (std::is_same_v<T, bool>) {
        out += value ? "True" : "False";
    } else if constexpr (std::is_same_v<T, char>) {
        out += string_repr(std::string_view(&value, 1));
    } else if constexpr (std::is_integral_v<T>) {
        out += std::to_string(value);
    } else if constexpr (std::is_enum_v<T>) {
        out += std::to_string(static_cast<std::underlying_type_t<T>>(value));
    } else if constexpr (std::is_floating_point_v<T>) {
        if constexpr (std::is_same_v<T, float>)
            out += float_repr(value);
        else
            out += float_repr(static_cast<double>(value));
    } else if constexpr (None<T>) {
        out += "None";
    } else if constexpr (Text<T>) {
        out += string_repr(std::string_view(value));
    } else if constexpr (is_optional<T>) {
        if (value)
            repr_into(out, *value);
        else
            out += "None";
    } else if constexpr (std::is_same_v<T, std::exception_ptr>) {
        out += exception_repr(value);
    } else if constexpr (std::is_base_of_v<std::exception, T>) {
        out += exception_repr(static_cast<const std::exception&>(value));
    } else if constexpr (HasRepr<T>) {
        out += value.repr();
    } else if constexpr (is_variant<T>) {
        std::visit([&out](const auto& held) { repr_into(out, held); }, value);
    } else if constexpr (is_tuple<T>) {
        repr_tuple(out, value);
    } else if constexpr (MapLike<T>) {
        repr_items(out, value, "{", "}");
    } else if constexpr (SetLike<T>) {
        if (std::begin(value) == std::end(value))
            out += "set()";
        else
            repr_items(out, value, "{", "}");
    } else if constexpr (Range<T>) {
        repr_items(out, value, "[", "]");
    } else if constexpr (Streamable<T>) {
        std::ostringstream text;
        text << value;
        out += text.str();
    } else {
        static_assert(HasRepr<T>,
                      "aio::repr: no printable form for this type; give it a member "
                      "`std::string repr() const` (or an operator<<)");
    }
}

}  // namespace detail

// Python's repr(value). See the table at the top of this file.
template <class T>
std::string repr(const T& value) {
    std::string out;
    detail::repr_into(out, value);
    return out;
}

// Python's str(value): the text of a string, the message of an exception, else repr().
template <class T>
std::string str(const T& value) {
    if constexpr (detail::Text<T>)
        return std::string(std::string_view(value));
    else if constexpr (std::is_same_v<T, char>)
        return std::string(1, value);
    else if constexpr (std::is_same_v<T, std::exception_ptr>)
        return detail::exception_str(value);
    else if constexpr (std::is_base_of_v<std::exception, T>)
        return value.what();
    else if constexpr (detail::HasStr<T>)
        return value.str();
    else
        return repr(value);
}

// Python's print(a, b, ...): str() of each, joined by spaces, then a newline, written to
// std::cout (Python's sys.stdout). print() alone writes an empty line.
template <class... A>
void print(const A&... values) {
    std::string line;
    [[maybe_unused]] const char* sep = "";  // unused by print()
    ((line += sep, sep = " ", line += str(values)), ...);
    line += '\n';
    detail::write_stdout(line);
}

}  // namespace aio
