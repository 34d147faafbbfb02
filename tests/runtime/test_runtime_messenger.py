"""The handler stack: apply_stack's phases, Messenger entry/exit, decorator forms."""
import pytest
import torch
from torch.distributions import Normal

import dslppl.runtime as rt
from dslppl.runtime import messenger
from dslppl.runtime.messenger import Message, Messenger, apply_stack


class Recorder(Messenger):
    """Logs (tag, phase, site) and optionally stops messages."""

    __slots__ = ("tag", "log", "stop")

    def __init__(self, tag, log, stop=False, fn=None):
        super().__init__(fn)
        self.tag, self.log, self.stop = tag, log, stop

    def process_message(self, msg):
        self.log.append((self.tag, "process", msg.name))
        if self.stop:
            msg.stop = True

    def postprocess_message(self, msg):
        self.log.append((self.tag, "post", msg.name, msg.value is not None))


def test_phases_run_innermost_first_then_outermost_first():
    log = []
    with Recorder("outer", log), Recorder("inner", log):
        rt.sample("x", Normal(0.0, 1.0))
    assert log == [("inner", "process", "x"), ("outer", "process", "x"),
                   ("outer", "post", "x", True), ("inner", "post", "x", True)]


def test_stop_hides_the_message_from_outer_handlers():
    log = []
    with Recorder("outer", log), Recorder("middle", log, stop=True), Recorder("inner", log):
        value = rt.sample("x", Normal(0.0, 1.0))
    assert value.shape == ()  # the default effect still ran
    assert [entry[0] for entry in log] == ["inner", "middle", "middle", "inner"]


def test_apply_stack_keeps_a_value_set_by_a_handler_and_marks_done():
    msg = apply_stack(Message("param", "p", fn=lambda: 1.0, value=2.0))
    assert msg.value == 2.0 and msg.done
    msg = apply_stack(Message("param", "p", fn=lambda a, b=0: a + b, args=(1,), kwargs={"b": 2}))
    assert msg.value == 3


def test_message_defaults_are_not_shared():
    a, b = Message("sample", "a"), Message("sample", "b")
    assert a.infer is not b.infer and a.infer == {}
    assert dict(a.kwargs) == {} and len(a.kwargs) == 0
    assert a.scale == 1.0 and a.mask is None and a.plates == () and not a.stop
    with pytest.raises(AttributeError):
        a.extra_key = 1  # slots: handler state cannot leak onto messages
    # identity semantics: no tensor comparisons, usable as dict keys
    assert a != Message("sample", "a") and len({a, b}) == 2


def test_exception_leaves_the_stack_clean():
    def model():
        with rt.plate("p", 3):
            rt.sample("x", Normal(0.0, 1.0))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        rt.trace(rt.seed(rt.scale(model, scale=2.0), rng_seed=0)).get_trace()
    assert messenger._STACK == []
    # the plate's dim is free again
    with rt.plate("q", 2):
        assert rt.sample("y", Normal(0.0, 1.0)).shape == (2,)


def test_exception_pops_handlers_entered_and_never_exited():
    outer = rt.trace()
    with pytest.raises(ValueError):
        with outer:
            rt.block().__enter__()  # leaked on purpose
            rt.scale(scale=2.0).__enter__()
            raise ValueError("oops")
    assert messenger._STACK == []


def test_exit_out_of_order_is_an_error():
    a, b = rt.trace(), rt.block()
    a.__enter__()
    b.__enter__()
    with pytest.raises(RuntimeError, match="innermost"):
        a.__exit__(None, None, None)
    messenger._STACK.clear()


def test_a_handler_cannot_be_installed_twice():
    tracer = rt.trace()
    with tracer:
        with pytest.raises(RuntimeError, match="already active"):
            tracer.__enter__()


def test_wrapper_and_decorator_forms():
    @rt.seed(rng_seed=1)
    def model():
        return rt.sample("x", Normal(0.0, 1.0))

    assert torch.equal(model(), model())

    @rt.trace
    def traced():
        return rt.sample("y", Normal(0.0, 1.0))

    assert list(traced.get_trace().nodes) == ["y"]


def test_one_decorator_applied_twice_gives_independent_wrappers():
    doubling = rt.scale(scale=2.0)
    f = doubling(lambda: rt.sample("a", Normal(0.0, 1.0), obs=torch.tensor(0.0)))
    g = doubling(lambda: rt.sample("b", Normal(0.0, 1.0), obs=torch.tensor(0.0)))
    assert list(rt.trace(f).get_trace().nodes) == ["a"]
    assert list(rt.trace(g).get_trace().nodes) == ["b"]
    assert doubling.fn is None


def test_handler_without_fn_must_be_given_a_function():
    with pytest.raises(TypeError, match="without fn"):
        rt.trace()(1, 2)
    with pytest.raises(TypeError, match="callable"):
        rt.scale(3.0)  # scale passed positionally as fn


def test_am_i_wrapped():
    assert not rt.am_i_wrapped()
    with rt.block():
        assert rt.am_i_wrapped()
    assert not rt.am_i_wrapped()
