"""``LeanAdam``: Adam for the fit loop, without ``torch.optim``'s per-step machinery.

``torch.optim.Adam.step`` wraps its arithmetic in profiler records, hook
dispatch and grad-mode switching; on a small model that costs as much as the
update itself. ``LeanAdam`` performs exactly the arithmetic of
``torch.optim.Adam(foreach=False)`` (no weight decay, no amsgrad), in place,
on a handful of tensors, and keeps the same ``param_groups[0]["lr"]``
interface for learning-rate schedules. Its state is plain tensors and
numbers, so checkpoints load with ``weights_only=True``.

>>> import torch
>>> p = torch.zeros(2, requires_grad=True)
>>> opt = LeanAdam([p], lr=0.1)
>>> p.grad = torch.tensor([1.0, -1.0])
>>> opt.step()
>>> p
tensor([-0.1000,  0.1000], requires_grad=True)
"""
from __future__ import annotations

import math

import torch

__all__ = ["LeanAdam"]


class LeanAdam:
    """Adam (Kingma and Ba), bit for bit ``torch.optim.Adam(foreach=False)``."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params = list(params)
        self.param_groups = [{"params": self.params, "lr": lr, "betas": betas, "eps": eps}]
        self.steps = 0
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        group = self.param_groups[0]
        beta1, beta2 = group["betas"]
        self.steps += 1
        step_size = group["lr"] / (1 - beta1 ** self.steps)
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** self.steps)
        eps = group["eps"]
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            grad = p.grad
            if grad is None:
                continue
            m.lerp_(grad, 1 - beta1)
            v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (v.sqrt() / bias_correction2_sqrt).add_(eps)
            p.detach().addcdiv_(m, denom, value=-step_size)  # detach: an update, not a graph op

    def state_dict(self) -> dict:
        return {"steps": self.steps, "lr": self.param_groups[0]["lr"],
                "exp_avg": [m.clone() for m in self.exp_avg],
                "exp_avg_sq": [v.clone() for v in self.exp_avg_sq]}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]
        self.param_groups[0]["lr"] = state["lr"]
        for mine, saved in zip(self.exp_avg + self.exp_avg_sq, state["exp_avg"] + state["exp_avg_sq"]):
            mine.copy_(saved)
