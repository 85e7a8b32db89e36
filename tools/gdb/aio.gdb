# tools/gdb/aio.gdb - gdb conveniences for this project. `./aio debug NAME` loads it;
# by hand:  gdb -x tools/gdb/aio.gdb --args build/lesson01_loop/lesson01_demo
# (or add `add-auto-load-safe-path /path/to/repo` to ~/.gdbinit and source it there).
#
# Commands:
#   aio-next-iteration   run to the start of the next event-loop iteration
#   aio-skip-std         make `step` skip the standard library (std::function,
#                        std::invoke, containers) so it lands in our code
#   aio-noskip-std       undo aio-skip-std
#   aio-where            a short backtrace: our frames' function, file and line
# Use the GCC build (`build/`, what ./aio debug uses): its debug info is what gdb 13
# reads best. To stop after an await, break on the line after the co_await:
#   break lesson02_coroutines/demo.cpp:42

set pagination off
set print pretty on
set print object on
set print static-members off
set print frame-arguments scalars
set breakpoint pending on

define aio-next-iteration
  tbreak aio::EventLoop::iteration
  continue
end
document aio-next-iteration
Run to the start of the next event-loop iteration (a temporary breakpoint on
aio::EventLoop::iteration, then continue).
end

define aio-skip-std
  skip -rfunction ^std::
  skip -rfunction ^__gnu_cxx::
end
document aio-skip-std
Make `step` skip functions of the standard library (std::, __gnu_cxx::). Note: a
callback called from inside a skipped function (std::function::operator(), say) is
stepped over too; put a breakpoint in the callback to stop there.
end

define aio-noskip-std
  skip delete
end
document aio-noskip-std
Delete every skip (undoes aio-skip-std).
end

define aio-where
  backtrace -frame-arguments none -frame-info short-location
end
document aio-where
A backtrace without arguments: each frame's function and location.
end

echo aio.gdb loaded: aio-next-iteration, aio-skip-std, aio-where (help aio-where). Type `run`.\n
