#!/usr/bin/python3
"""What bfloat16 would buy a proxy training step on this CPU, measured on PyTorch (Debian's
python3-torch, the same libtorch 1.13 and oneDNN 2.6 as mnas's engine), one thread.

One step (forward, backward, SGD) of a batch of 128 28x28x1 images through an MBConv network like
the trial-cost issue's 20.6M-MAC example, three ways, alternating:
  fp32     everything in float32 (what mnas and the PyTorch peer do);
  casts    only the convolutions in bfloat16, their inputs cast and their outputs cast back, so
           that batch norm and the rest stay float32 (what mnas could do without bfloat16
           kernels of its own for batch norm, depthwise gradients and squeeze-excite);
  autocast torch.autocast('cpu', bfloat16): activations stay bfloat16 between layers.
Prints each way's median seconds per step over ROUNDS rounds of STEPS steps.

    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \\
      /usr/bin/python3 bench/pytorch_bf16_step.py [ROUNDS=5] [STEPS=10]
"""
import statistics
import sys
import time

import torch


class Conv(torch.nn.Conv2d):
    cast = False

    def forward(self, x):
        if Conv.cast:
            return torch.nn.functional.conv2d(x.bfloat16(), self.weight.bfloat16(), None, self.stride, self.padding, 1, self.groups).float()
        return super().forward(x)


def mbconv(cin, cout, expand, kernel, stride):
    mid = cin * expand
    return torch.nn.Sequential(
        Conv(cin, mid, 1, bias=False), torch.nn.BatchNorm2d(mid), torch.nn.ReLU(),
        Conv(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False), torch.nn.BatchNorm2d(mid), torch.nn.ReLU(),
        Conv(mid, cout, 1, bias=False), torch.nn.BatchNorm2d(cout))


def main():
    args = sys.argv[1:]
    if len(args) > 2 or not all(a.isdigit() for a in args):
        rounds = steps = 0
    else:
        rounds = int(args[0]) if len(args) > 0 else 5
        steps = int(args[1]) if len(args) > 1 else 10
    if rounds < 1 or steps < 1:
        print("usage: bench/pytorch_bf16_step.py [ROUNDS >= 1] [STEPS >= 1]", file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        Conv(1, 16, 3, 1, 1, bias=False), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
        mbconv(16, 24, 6, 5, 1), mbconv(24, 24, 3, 5, 2), mbconv(24, 40, 6, 3, 2), mbconv(40, 80, 6, 3, 2),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(80, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(128, 1, 28, 28)
    y = torch.randint(0, 10, (128,))
    seconds = {"fp32": [], "casts": [], "autocast": []}
    for _ in range(rounds):
        for way in seconds:
            Conv.cast = way == "casts"
            t = time.perf_counter()
            for _ in range(steps):
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=way == "autocast"):
                    loss = torch.nn.functional.cross_entropy(net(x).float(), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
            seconds[way].append((time.perf_counter() - t) / steps)
    base = statistics.median(seconds["fp32"])
    for way, s in seconds.items():
        m = statistics.median(s)
        print(f"{way}: {m * 1000:.0f} ms a step (median of {rounds} rounds of {steps}), x{base / m:.2f} against fp32")


if __name__ == "__main__":
    main()
