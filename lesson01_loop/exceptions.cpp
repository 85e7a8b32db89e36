// exceptions.cpp - the out-of-line parts of exceptions.hpp: OSError's message and the
// Python names of exception types.
#include "lesson01_loop/exceptions.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "lesson01_loop/builtins.hpp"

namespace aio {

OSError::OSError(const std::string& what_call, int err)
    : std::runtime_error(what_call + ": " + std::strerror(err)), err_(err) {}

// Python: OSError.__str__ is "[Errno N] strerror", then ": 'filename'" if there is one.
OSError::OSError(int err, const std::string& text, const std::string& filename)
    : std::runtime_error("[Errno " + std::to_string(err) + "] " + text +
                         (filename.empty() ? "" : ": " + detail::string_repr(filename))),
      err_(err),
      strerror_(text) {}

// Python: repr(OSError(111, 'Connection refused')) shows errno and strerror (the
// filename is left out of repr, as Python's args are only the first two).
std::string OSError::python_args() const {
    if (strerror_.empty()) return PythonException::python_args();
    return std::to_string(err_) + ", " + detail::string_repr(strerror_);
}

namespace {

// The demangled C++ name ("std::runtime_error", "MyError"). Two implementation details
// are left out: "(anonymous namespace)::" (Python shows a __main__ class bare, too), and
// the std::_Nested_exception<E> that std::throw_with_nested(E) throws (libstdc++): it
// is shown as the E the user threw and catches.
std::string cxx_name(const std::type_info& type) {
    int status = 0;
    char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
    std::string name = status == 0 && demangled ? demangled : type.name();
    std::free(demangled);
    constexpr std::string_view wrapper = "std::_Nested_exception<";
    if (name.size() > wrapper.size() && name.compare(0, wrapper.size(), wrapper) == 0 &&
        name.back() == '>')
        name = name.substr(wrapper.size(), name.size() - wrapper.size() - 1);
    constexpr std::string_view anonymous = "(anonymous namespace)::";
    for (std::size_t at; (at = name.find(anonymous)) != name.npos;)
        name.erase(at, anonymous.size());
    return name;
}

}  // namespace

// Python's BaseException.__repr__ shows args: one string argument is its repr.
std::string PythonException::python_args() const {
    const auto* self = dynamic_cast<const std::exception*>(this);
    std::string_view message = self ? self->what() : "";
    return message.empty() ? std::string() : detail::string_repr(message);
}

std::string python_type_name(const std::exception& error, bool qualified) {
    std::string name = cxx_name(typeid(error));
    const auto* py = dynamic_cast<const PythonException*>(&error);
    if (!py) return name;
    PythonException::Name python = py->python_name();
    if (name != cxx_name(python.type)) return name;  // a user's subclass: its own name
    std::string_view full = python.qualified;
    std::size_t dot = full.rfind('.');
    return std::string(qualified || dot == full.npos ? full : full.substr(dot + 1));
}

std::string describe_exception(const std::exception_ptr& error) {
    if (!error) return "";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        std::string out = python_type_name(e);
        if (*e.what()) out += std::string(": ") + e.what();
        return out;
    } catch (...) {
        return "unknown exception (not derived from std::exception)";
    }
}

}  // namespace aio
