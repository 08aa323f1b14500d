#!/usr/bin/python3
"""PyTorch peer of mnas's proxy trial, for `mnas bench proxy` (driver: src/bench/pytorch-peer.ts).

    /usr/bin/python3 bench/proxy_pytorch.py --spec SPEC.json --threads T

Loads the spec and the data, prints {"ready": true, ...}, then answers JSON lines on stdin:
{"trial": i} runs proxy trial i of the spec and prints one result line; {"quit": true} or EOF
exits 0. Any error prints {"error": "..."} and exits 1. Only protocol lines go to stdout: the
real stdout is kept for them and fd 1 is pointed at stderr, so stray prints cannot corrupt it.

A trial does the work mnas's trainArch does for a proxy recipe (src/train/run.ts): build the
network of the plan (src/model/plan.ts, blocks.ts, network.ts), train with the recipe
(src/train/trainer.ts, recipe.ts), recalibrate BN (bn-calibration.ts), evaluate (evaluate.ts).
Random streams differ from mnas's (torch's generator instead of mnas's Rng); the work is the same.
"""
import argparse
import gzip
import json
import math
import os
import resource
import sys
import time

PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr


def send(message):
    PROTOCOL.write(json.dumps(message) + "\n")
    PROTOCOL.flush()


class PeerError(Exception):
    pass


class MissingPrerequisite(PeerError):
    """Something the machine lacks (python3-torch): reported as such, so mnas says so in one line."""


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise PeerError(f"usage: {message}")


def js_round(x):
    """Math.round: halves round up (Python's round() rounds them to even)."""
    return math.floor(x + 0.5)


# ---------------------------------------------------------------------------------------------
# Data


def read_idx(path):
    import numpy as np

    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise PeerError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * d: 8 + 4 * d], "big") for d in range(ndim)]
    offset = 4 + 4 * ndim
    size = math.prod(dims)
    if len(raw) - offset != size:
        raise PeerError(f"{path}: header says {dims} ({size} bytes) but the file holds {len(raw) - offset}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


class Data:
    """The pool (official training set) as uint8 NHWC plus int64 labels, and batch assembly."""

    def __init__(self, spec, torch):
        d = spec["data"]
        self.torch = torch
        self.height, self.width, self.channels = int(d["height"]), int(d["width"]), int(d["channels"])
        images = read_idx(d["images"])
        labels = read_idx(d["labels"])
        if labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise PeerError(f"{d['images']} and {d['labels']}: {images.shape[0]} images but labels of shape {list(labels.shape)}")
        images = images.reshape(images.shape[0], images.shape[1], images.shape[2], -1)
        if list(images.shape[1:]) != [self.height, self.width, self.channels]:
            raise PeerError(f"{d['images']}: images are {list(images.shape[1:])} (HxWxC), the spec says {[self.height, self.width, self.channels]}")
        if "count" in d and images.shape[0] != int(d["count"]):
            raise PeerError(f"{d['images']}: {images.shape[0]} images, the spec's dataset has {d['count']}")
        self.count = images.shape[0]
        self.images = torch.from_numpy(images.copy())
        self.labels = torch.from_numpy(labels.astype("int64"))
        mean, std = [float(m) for m in d["mean"]], [float(s) for s in d["std"]]
        if len(mean) != self.channels or len(std) != self.channels:
            raise PeerError(f"spec data: mean/std need {self.channels} entries")
        # (byte / 255 - mean) / std = byte * scale + shift, per channel
        self.scale = torch.tensor([1 / (255 * s) for s in std]).view(1, -1, 1, 1)
        self.shift = torch.tensor([-m / s for m, s in zip(mean, std)]).view(1, -1, 1, 1)

    def indices(self, values, what):
        t = self.torch.tensor(values, dtype=self.torch.long)
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= self.count):
            raise PeerError(f"spec {what}: an index is outside [0, {self.count})")
        return t

    def batch(self, idx, augmentation=None, generator=None, channels_last=False):
        """Images at idx as normalised float32 NCHW (random crop with zero padding and flips as
        augmentation.ts defines them, when given) and their labels."""
        torch = self.torch
        x = self.images.index_select(0, idx)  # N H W C, uint8
        if augmentation is not None:
            n, h, w = x.shape[0], self.height, self.width
            p = augmentation["padding"]
            if p > 0:
                x = torch.nn.functional.pad(x, (0, 0, p, p, p, p))
                crop_y = torch.randint(0, 2 * p + 1, (n,), generator=generator)
                crop_x = torch.randint(0, 2 * p + 1, (n,), generator=generator)
            else:
                crop_y = crop_x = torch.zeros(n, dtype=torch.long)
            columns = torch.arange(w).expand(n, w)
            if augmentation["flip"]:
                flip = torch.randint(0, 2, (n, 1), generator=generator).bool()
                columns = torch.where(flip, w - 1 - columns, columns)
            rows = crop_y[:, None] + torch.arange(h)[None, :]
            columns = crop_x[:, None] + columns
            x = x[torch.arange(n)[:, None, None], rows[:, :, None], columns[:, None, :]]
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        x = x.permute(0, 3, 1, 2).to(torch.float32, memory_format=memory_format)
        x.mul_(self.scale).add_(self.shift)
        return x, self.labels.index_select(0, idx)


# ---------------------------------------------------------------------------------------------
# Network (names and shapes are the plan's; checked after building)


def build_network(plan, recipe, torch):
    nn, F = torch.nn, torch.nn.functional
    # the plan and the recipe use TF's convention (running = m * running + (1 - m) * batch)
    bn_momentum = 1 - float(recipe.get("bnMomentum", plan["bnMomentum"]))
    bn_eps = float(plan["bnEps"])

    class ConvBn(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.conv = nn.Conv2d(p["inChannels"], p["outChannels"], p["kernel"], stride=p["stride"],
                                  padding=p["padding"], groups=p["groups"], bias=False)
            self.bn = nn.BatchNorm2d(p["outChannels"], eps=bn_eps, momentum=bn_momentum)
            self.relu = bool(p["relu"])

        def forward(self, x):
            y = self.bn(self.conv(x))
            return F.relu(y, inplace=True) if self.relu else y

    class SqueezeExcite(nn.Module):
        """Weights stored as 1x1 convs, applied as linear layers on the pooled vector (as mnas)."""

        def __init__(self, p):
            super().__init__()
            self.c, self.r = p["channels"], p["reducedChannels"]
            self.reduce = nn.Conv2d(self.c, self.r, 1, bias=True)
            self.expand = nn.Conv2d(self.r, self.c, 1, bias=True)

        def forward(self, x):
            s = x.mean((2, 3))
            h = F.relu(F.linear(s, self.reduce.weight.view(self.r, self.c), self.reduce.bias))
            g = torch.sigmoid(F.linear(h, self.expand.weight.view(self.c, self.r), self.expand.bias))
            return x * g.view(-1, self.c, 1, 1)

    class SearchLayer(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.body = []
            for stage, key in (("expand", "expandConv"), ("depthwise", "depthwiseConv"), ("regular", "regularConv"),
                               ("se", "se"), ("project", "projectConv")):
                if p[key] is not None:
                    module = SqueezeExcite(p[key]) if stage == "se" else ConvBn(p[key])
                    self.add_module(stage, module)
                    self.body.append(module)
            self.shortcut = p["shortcut"]

        def forward(self, x):
            y = x
            for module in self.body:
                y = module(y)
            s = self.shortcut
            if s is None:
                return y
            if s["kind"] == "identity":
                return y + x
            z = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False) if s["downsample"] else x
            if s["channelChange"] == "zero_pad":
                z = F.pad(z, (0, 0, 0, 0, 0, s["outChannels"] - s["inChannels"]))
            elif s["channelChange"] == "truncate":
                z = z[:, : s["outChannels"]]
            return y + z

    class Network(nn.Module):
        def __init__(self):
            super().__init__()
            blocks = []
            self.head = None
            self.dropout = 0.0
            for layer in plan["layers"]:
                kind = layer["kind"]
                if kind == "stem":
                    self.stem = ConvBn(layer["conv"])
                elif kind == "block":
                    while len(blocks) <= layer["block"]:
                        blocks.append([])
                    blocks[layer["block"]].append(SearchLayer(layer))
                elif kind == "head":
                    self.head = ConvBn(layer["conv"])
                elif kind == "classifier":
                    self.dropout = float(recipe.get("dropout", layer["dropout"]))
                    self.classifier = nn.Linear(layer["inFeatures"], layer["outFeatures"], bias=True)
                elif kind != "pool":
                    raise PeerError(f"plan: unknown layer kind '{kind}'")
            self.blocks = nn.Sequential(*[nn.Sequential(*b) for b in blocks])

        def forward(self, x):
            y = self.blocks(self.stem(x))
            if self.head is not None:
                y = self.head(y)
            f = y.mean((2, 3))
            if self.dropout > 0 and self.training:
                f = F.dropout(f, self.dropout, training=True)
            return self.classifier(f)

    net = Network()
    init = recipe.get("init", "pytorch")
    if init == "tf-mnasnet":
        tf_mnasnet_init(net, torch)
    elif init != "pytorch":
        raise PeerError(f"recipe.init '{init}' is not supported")
    check_against_plan(net, plan)
    return net


def tf_mnasnet_init(net, torch):
    """src/torch/nn/init.ts: conv weights N(0, sqrt(2 / fan_out)), conv biases 0, dense weights
    U(+-1/sqrt(out)), dense biases 0."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d):
                w = m.weight
                fan_out = w.shape[0] * w.shape[2] * w.shape[3]
                w.normal_(0, math.sqrt(2 / fan_out))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, torch.nn.Linear):
                bound = 1 / math.sqrt(m.weight.shape[0])
                m.weight.uniform_(-bound, bound)
                m.bias.zero_()


def check_against_plan(net, plan):
    expected = {p["name"]: list(p["shape"]) for p in plan["params"]}
    for name, t in net.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        if expected.pop(name, None) != list(t.shape):
            raise PeerError(f"built '{name}' {list(t.shape)} is not in the plan with that shape (bug in proxy_pytorch.py)")
    if expected:
        raise PeerError(f"plan entries not built: {', '.join(expected)} (bug in proxy_pytorch.py)")


# ---------------------------------------------------------------------------------------------
# Recipe: optimizer and schedule (src/train/recipe.ts, src/torch/optim/)


def make_optimizer(net, recipe, torch):
    params = list(net.parameters())
    decayed = [p for p in params if p.dim() >= 2]
    plain = [p for p in params if p.dim() < 2]
    weight_decay = float(recipe["weightDecay"])
    groups = [g for g in ({"params": decayed, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}) if g["params"]]
    momentum = float(recipe["momentum"])
    if recipe["optimizer"] == "sgd":
        return torch.optim.SGD(groups, lr=0.0, momentum=momentum, nesterov=bool(recipe["nesterov"]) and momentum > 0)
    if recipe["optimizer"] == "rmsprop":
        return TfRmsprop(groups, torch, decay=float(recipe["rmspropDecay"]), eps=float(recipe["rmspropEps"]), momentum=momentum)
    raise PeerError(f"recipe.optimizer '{recipe['optimizer']}' is not supported")


class TfRmsprop:
    """TensorFlow-style RMSProp as native/optim.cc's rmspropStep(tfStyle): mean square starts
    at 1, eps inside the square root, the learning rate inside the momentum buffer."""

    def __init__(self, groups, torch, decay, eps, momentum):
        self.torch, self.decay, self.eps, self.momentum = torch, decay, eps, momentum
        self.param_groups = [dict(g, lr=0.0) for g in groups]
        self.state = {p: (torch.ones_like(p), torch.zeros_like(p)) for g in groups for p in g["params"]}

    def zero_grad(self, set_to_none=True):
        for g in self.param_groups:
            for p in g["params"]:
                p.grad = None

    def step(self):
        with self.torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad.add(p, alpha=group["weight_decay"]) if group["weight_decay"] else p.grad
                    square, buffer = self.state[p]
                    square.mul_(self.decay).addcmul_(g, g, value=1 - self.decay)
                    avg = square.add(self.eps).sqrt_()
                    if self.momentum > 0:
                        buffer.mul_(self.momentum).addcdiv_(g, avg, value=group["lr"])
                        p.sub_(buffer)
                    else:
                        p.addcdiv_(g, avg, value=-group["lr"])


def make_schedule(recipe, steps_per_epoch):
    """src/torch/optim/schedule.ts: linear warm-up from 0 over round(warmupEpochs * steps)
    steps (lr * (step + 1) / warmup), then cosine to 0 / exponential (staircase) / constant."""
    total = steps_per_epoch * int(recipe["epochs"])
    warmup = min(total - 1, js_round(float(recipe["warmupEpochs"]) * steps_per_epoch))
    base = float(recipe["lr"])
    kind = recipe["schedule"]
    if kind == "cosine":
        span = max(1, total - warmup)
        after = lambda s: 0.5 * base * (1 + math.cos(math.pi * min(s, span) / span))
    elif kind == "exponential":
        decay_steps = float(recipe["decayEpochs"]) * steps_per_epoch
        after = lambda s: base * math.pow(float(recipe["decayRate"]), math.floor(s / decay_steps))
    elif kind == "constant":
        after = lambda s: base
    else:
        raise PeerError(f"recipe.schedule '{kind}' is not supported")
    return lambda step: base * (step + 1) / warmup if step < warmup else after(step - warmup)


# ---------------------------------------------------------------------------------------------
# One proxy trial


def first_non_finite(net, torch):
    for name, t in net.state_dict().items():
        if t.dtype == torch.float32 and not bool(torch.isfinite(t).all()):
            return name
    return None


def train(net, data, train_indices, recipe, augmentation, generator, torch):
    """Returns (status, reason, steps, seconds inside the loop)."""
    batch_size, epochs = int(recipe["batchSize"]), int(recipe["epochs"])
    steps_per_epoch = len(train_indices) // batch_size
    if steps_per_epoch == 0:
        raise PeerError(f"{len(train_indices)} training images are fewer than one batch of {batch_size}")
    schedule = make_schedule(recipe, steps_per_epoch)
    optimizer = make_optimizer(net, recipe, torch)
    label_smoothing, max_loss = float(recipe["labelSmoothing"]), float(recipe["maxLoss"])
    channels_last = bool(recipe.get("channelsLast", False))
    F = torch.nn.functional
    step = 0
    seconds = 0.0
    net.train()
    for epoch in range(epochs):
        order = train_indices[torch.randperm(len(train_indices), generator=generator)]
        for s in range(steps_per_epoch):
            t0 = time.perf_counter()
            idx = order[s * batch_size:(s + 1) * batch_size]
            lr = schedule(step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, y = data.batch(idx, augmentation, generator, channels_last)
            loss = F.cross_entropy(net(x), y, label_smoothing=label_smoothing)
            value = loss.item()
            if not value <= max_loss:
                seconds += time.perf_counter() - t0
                return "failed", f"diverged at epoch {epoch + 1} step {s + 1}: loss {value}", step, seconds
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            seconds += time.perf_counter() - t0
        bad = first_non_finite(net, torch)
        if bad is not None:
            return "failed", f"diverged at epoch {epoch + 1}: {bad} is not finite", step, seconds
    for p in net.parameters():
        p.grad = None
    return "done", None, step, seconds


def recalibrate_batch_norm(net, data, indices, batch_size, channels_last, torch):
    """Cumulative average of batch statistics (momentum=None) over indices, no augmentation."""
    layers = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    momenta = [bn.momentum for bn in layers]
    for bn in layers:
        bn.reset_running_stats()
        bn.momentum = None
    try:
        net.train()
        with torch.no_grad():
            for k, start in enumerate(range(0, len(indices), batch_size)):
                idx = indices[start:start + batch_size]
                if len(idx) < 2 and k > 0:
                    break  # a single sample has no batch variance
                net(data.batch(idx, channels_last=channels_last)[0])
    finally:
        for bn, m in zip(layers, momenta):
            bn.momentum = m


def evaluate(net, data, indices, batch_size, channels_last, torch):
    net.eval()
    correct = 0
    loss_sum = 0.0
    with torch.no_grad():
        for start in range(0, len(indices), batch_size):
            x, y = data.batch(indices[start:start + batch_size], channels_last=channels_last)
            logits = net(x)
            correct += int((logits.argmax(1) == y).sum())
            loss_sum += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
    return correct / len(indices), loss_sum / len(indices)


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def run_trial(i, spec, data, train_indices, validation_indices, torch):
    trial = spec["trials"][i]
    recipe = spec["recipe"]
    augmentation = recipe["augmentation"]
    if augmentation["padding"] == 0 and not augmentation["flip"]:
        augmentation = None
    channels_last = bool(recipe.get("channelsLast", False))
    seed = int(recipe["seed"])

    reset_peak_rss()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    torch.manual_seed(seed)
    net = build_network(trial["plan"], recipe, torch)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    params = sum(p.numel() for p in net.parameters())
    generator = torch.Generator()
    generator.manual_seed(seed)
    status, reason, steps, train_seconds = train(net, data, train_indices, recipe, augmentation, generator, torch)
    val_accuracy = val_loss = None
    if status == "done":
        recalibration = int(recipe["bnRecalibrationImages"])
        if recalibration > 0:
            order = train_indices[torch.randperm(len(train_indices), generator=generator)]
            recalibrate_batch_norm(net, data, order[:recalibration], int(recipe["batchSize"]), channels_last, torch)
        eval_batch_size = int(trial.get("eval_batch_size", recipe["evalBatchSize"]))
        val_accuracy, val_loss = evaluate(net, data, validation_indices, eval_batch_size, channels_last, torch)
    seconds = time.perf_counter() - started
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "trial": i,
        "arch": trial["arch"],
        "status": status,
        "params": params,
        "steps": steps,
        "seconds": seconds,
        "train_seconds": train_seconds,
        "val_accuracy": val_accuracy,
        "val_loss": val_loss,
        "minor_faults": usage1.ru_minflt - usage0.ru_minflt,
        "system_seconds": usage1.ru_stime - usage0.ru_stime,
        "user_seconds": usage1.ru_utime - usage0.ru_utime,
        "peak_rss_bytes": peak_rss_bytes(),
    }
    if reason is not None:
        result["reason"] = reason
    return result


# ---------------------------------------------------------------------------------------------


def jemalloc_loaded():
    try:
        with open("/proc/self/maps") as f:
            return any("libjemalloc" in line for line in f)
    except OSError:
        return False


def main():
    parser = ArgumentParser(prog="proxy_pytorch.py")
    parser.add_argument("--spec", required=True)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    if args.threads < 1:
        raise PeerError(f"usage: --threads must be >= 1, got {args.threads}")
    try:
        import torch
    except ImportError as e:
        raise MissingPrerequisite(f"python3-torch is missing ({e}); install it with `apt-get install python3-torch`")
    torch.set_num_interop_threads(1)
    torch.set_num_threads(args.threads)
    try:
        with open(args.spec) as f:
            spec = json.load(f)
    except (OSError, ValueError) as e:
        raise PeerError(f"cannot read the spec {args.spec}: {e}")
    data = Data(spec, torch)
    train_indices = data.indices(spec["train_indices"], "train_indices")
    validation_indices = data.indices(spec["validation_indices"], "validation_indices")
    if len(validation_indices) == 0:
        raise PeerError("spec validation_indices: no validation images to score on")
    send({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
          "jemalloc": jemalloc_loaded(), "trials": len(spec["trials"])})
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError:
            raise PeerError(f"stdin: not a JSON line: {line.strip()[:200]}")
        if message.get("quit"):
            return
        i = message.get("trial")
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(spec["trials"]):
            raise PeerError(f"stdin: expected {{\"trial\": 0..{len(spec['trials']) - 1}}} or {{\"quit\": true}}, got {line.strip()[:200]}")
        send(run_trial(i, spec, data, train_indices, validation_indices, torch))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - every failure becomes one protocol line
        message = str(e) if isinstance(e, PeerError) else f"{type(e).__name__}: {e}"
        if not isinstance(e, PeerError):
            import traceback
            traceback.print_exc(file=sys.stderr)
        send({"error": message, **({"missing": True} if isinstance(e, MissingPrerequisite) else {})})
        sys.exit(1)
    sys.exit(0)
