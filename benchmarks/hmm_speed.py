"""Cost of potential + gradient of a K-state hidden Markov model against its length T.

The chain is summed out by the forward algorithm (a tree of batched log-space
matrix products), so the cost grows linearly in T: the script prints the time
per evaluation at T = 1,000 and 10,000 and their ratio (below 12 is linear).

    python benchmarks/hmm_speed.py
"""
from __future__ import annotations

import time

import torch

import dslppl

MODEL = """
model hmm {
  data T: int
  data K: int
  data y: real[T]
  pi: simplex[K] ~ Dirichlet(ones(K))
  P: simplex[K, K] ~ Dirichlet(ones(K))
  mu: ordered[K] ~ Normal(0, 5)
  sigma ~ HalfNormal(2)
  z[0] ~ Categorical(pi)
  for t in 1..T {
    z[t] ~ Categorical(P[z[t - 1]])
  }
  plate t in T {
    y[t] ~ Normal(mu[z[t]], sigma)
  }
}
"""


def seconds_per_gradient(model, length: int, states: int = 4, repeats: int = 20) -> float:
    generator = torch.Generator().manual_seed(length)
    y = torch.randn(length, generator=generator, dtype=torch.float64) * 3
    bound = model.bind({"T": length, "K": states, "y": y.tolist()})
    u = torch.randn(bound.dim, generator=generator, dtype=torch.float64).requires_grad_()
    for _ in range(3):  # warm up
        bound.potential(u).backward()
    start = time.perf_counter()
    for _ in range(repeats):
        u.grad = None
        bound.potential(u).backward()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    torch.set_num_threads(1)
    model = dslppl.loads(MODEL)
    small, large = seconds_per_gradient(model, 1_000), seconds_per_gradient(model, 10_000)
    print(f"K = 4: T = 1,000: {small * 1e3:.2f} ms; T = 10,000: {large * 1e3:.2f} ms; "
          f"ratio {large / small:.2f} (linear: about 10)")


if __name__ == "__main__":
    main()
