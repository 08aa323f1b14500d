#!/usr/bin/python3
"""The input gradient of a stride-1 depthwise convolution two ways, on PyTorch (Debian's
python3-torch: the same libtorch 1.13 and oneDNN 2.6 as mnas's engine), one thread, channels_last
activations of batch 128 as a proxy trial trains them: oneDNN's backward-data kernel
(aten::convolution_backward) and its forward kernel run on the output gradient with the kernel
turned by 180 degrees (what native/depthwise_conv.cc does). Prints each shape's median
milliseconds over REPEATS calls both ways and the largest difference between the two results.
Run it with jemalloc, so that glibc's page faults do not swamp the kernels:

    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \\
      /usr/bin/python3 bench/depthwise-backward-data.py [REPEATS=7]
"""
import statistics
import sys
import time

import torch


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main():
    args = sys.argv[1:]
    if len(args) > 1 or not all(a.isdigit() and int(a) >= 1 for a in args):
        print("usage: bench/depthwise-backward-data.py [REPEATS >= 1]", file=sys.stderr)
        sys.exit(2)
    repeats = int(args[0]) if args else 7
    torch.set_num_threads(1)
    torch.manual_seed(0)
    for channels, size, k in [(48, 28, 5), (96, 28, 3), (96, 28, 5), (144, 14, 5), (240, 7, 3), (288, 7, 5)]:
        x = torch.randn(128, channels, size, size).contiguous(memory_format=torch.channels_last)
        w = torch.randn(channels, 1, k, k)
        grad_out = torch.randn(128, channels, size, size).contiguous(memory_format=torch.channels_last)
        p = k // 2
        turned = w.flip([2, 3]).contiguous()

        def backward_data():
            return torch.ops.aten.convolution_backward(grad_out, x, w, None, [1, 1], [p, p], [1, 1], False, [0, 0], channels, [True, False, False])[0]

        def forward_turned():
            return torch.nn.functional.conv2d(grad_out, turned, None, 1, k - 1 - p, 1, channels)

        diff = (backward_data() - forward_turned()).abs().max().item()
        a, b = median_ms(backward_data, repeats), median_ms(forward_turned, repeats)
        print(f"128x{channels}x{size}x{size} k{k}: backward-data {a:.1f} ms, forward with the kernel turned {b:.1f} ms (x{a / b:.2f}); largest difference {diff:.1e}")


if __name__ == "__main__":
    main()
