// exception_context.hpp - what call_exception_handler is given (asyncio: the context
// dict of BaseEventLoop.call_exception_handler).
//
// asyncio's context holds the objects themselves: context['task'] is the Task,
// context['future'] the Future, so a handler can read a task's name or cancel it.
// Here the keys every context may have are fields (message, exception, handle) and
// the others are `extra`: each a ContextValue, the object type-erased (std::any) with
// a function that prints it. A handler reaches the object by its type,
//     if (const aio::Task<>* t = ctx.get<aio::Task<>>("task")) t->get_name();
// and only the default handler formats them (EventLoop::default_exception_handler:
// every key but message and exception, sorted, as "key: repr").
// Lesson 1 cannot name a Task or a Future: the lessons that make them put them here.
#pragma once

#include <any>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace aio {

class Handle;

// One value of a context: any copyable object that has repr() (a Task<T>, a
// Future<T>) or points to one (a counted reference), or text printed as it is.
class ContextValue {
public:
    ContextValue(std::string text) : object_(std::move(text)), repr_(&repr_text) {}
    ContextValue(const char* text) : ContextValue(std::string(text)) {}
    template <class T, class = std::enable_if_t<!std::is_convertible_v<T, std::string>>>
    ContextValue(T object) : object_(std::move(object)), repr_(&repr_object<T>) {}

    // The object if it is a T (std::any_cast's rule: exactly T), else null.
    template <class T>
    const T* get() const noexcept {
        return std::any_cast<T>(&object_);
    }
    const std::type_info& type() const noexcept { return object_.type(); }
    // asyncio: repr(value), as the default handler prints it.
    std::string repr() const { return repr_(object_); }

private:
    static std::string repr_text(const std::any& a) { return std::any_cast<const std::string&>(a); }
    template <class T>
    static std::string repr_object(const std::any& a) {
        const T& object = std::any_cast<const T&>(a);
        if constexpr (requires { object.repr(); })
            return object.repr();
        else
            return object->repr();
    }

    std::any object_;
    std::string (*repr_)(const std::any&);
};

// asyncio's context dict; the keys that exist in every lesson are fields.
struct ExceptionContext {
    std::string message;
    std::exception_ptr exception;
    const Handle* handle = nullptr;  // valid during the call only: handles are recycled
    std::vector<std::pair<std::string, ContextValue>> extra;

    // asyncio: context.get(key). The first value under `key`, or null.
    const ContextValue* find(std::string_view key) const noexcept {
        for (const auto& [k, v] : extra)
            if (k == key) return &v;
        return nullptr;
    }
    // A context inside a context ("Unhandled error in exception handler") prints as
    // its message.
    std::string repr() const { return message; }
    // The object under `key` if it is a T, else null.
    template <class T>
    const T* get(std::string_view key) const noexcept {
        const ContextValue* v = find(key);
        return v ? v->get<T>() : nullptr;
    }
};

}  // namespace aio
