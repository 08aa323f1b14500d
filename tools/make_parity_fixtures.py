#!/usr/bin/python3
"""Writes the PyTorch parity fixtures of the mnas engine into test/fixtures/parity/.

Run by hand with Debian's interpreter (python3-torch 1.13.1):

    /usr/bin/python3 tools/make_parity_fixtures.py

It needs no package beyond torch: safetensors files are written (and read back) by the minimal
implementation of the format below, since the safetensors package is not installed.

Fixtures (all float32 / int64, < 1 MB together):
  network.safetensors  a small MnasNet-space network (MBConv blocks with squeeze-excite, a
                       stride-2 layer and identity skips, a 1x1 head), written as an independent
                       functional PyTorch model whose parameter names follow src/model/plan.ts:
                         state.<name>        initial parameters and BN buffers
                         input.x, input.y    a batch and its labels
                         eval.logits         eval-mode forward (running statistics)
                         train.logits        train-mode forward (batch statistics)
                         train.loss          cross-entropy (label smoothing 0.1) of train.logits
                         grad.<name>         d loss / d parameter, grad.input for d loss / d x
                         after.<name>        BN running statistics after the train forward
  optim.safetensors    optimizer trajectories on a linear classifier (cross-entropy):
                         init.weight, init.bias, data.x, data.y
                         <opt>.weight, <opt>.bias  parameters after every step of the run
                       for torch.optim SGD (momentum, Nesterov, weight decay), RMSprop, Adam,
                       AdamW, and TF-style RMSProp from a hand-written reference formula.
  parity.json          the architecture, the loss settings and the optimizer runs.
  mnas_written.safetensors  the network's state written by mnas itself (saveSafetensors), made
                       by running node on dist/ when it is built; this script parses it with the
                       format reader below into torch tensors and checks every value, so PyTorch
                       provably reads what mnas writes. The TS test checks mnas still writes the
                       same bytes.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'parity')

# ---- the safetensors format ---------------------------------------------------------------

DTYPES = {torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64', torch.uint8: 'U8'}
TORCH_DTYPES = {v: k for k, v in DTYPES.items()}


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata:
        header['__metadata__'] = metadata
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes()  # little-endian on this machine
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def read_safetensors(path):
    """Parses the format strictly (lengths, offsets, dtypes, contiguous coverage of the data)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    assert 8 + n <= len(raw), 'header longer than the file'
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    data = raw[8 + n:]
    out = {}
    spans = []
    for name, e in header.items():
        if name == '__metadata__':
            continue
        dtype = TORCH_DTYPES[e['dtype']]
        begin, end = e['data_offsets']
        count = 1
        for d in e['shape']:
            count *= d
        assert end - begin == count * torch.tensor([], dtype=dtype).element_size(), name
        spans.append((begin, end))
        out[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(e['shape']) if count else torch.zeros(e['shape'], dtype=dtype)
    spans.sort()
    pos = 0
    for b, e in spans:
        assert b == pos, 'data is not covered contiguously'
        pos = e
    assert pos == len(data), 'trailing bytes after the data'
    return out, header.get('__metadata__', {})


# ---- the network ----------------------------------------------------------------------------

ARCH = {
    'global': {
        'input': {'height': 12, 'width': 12, 'channels': 3},
        'classes': 5,
        'stem': {'filters': 8, 'stride': 1},
        'head': 16,
        'dropout': 0,
        'bnMomentum': 0.9,
        'bnEps': 1e-3,
    },
    # block 0: a stride-2 MBConv with SE, then an MBConv with SE and an identity skip;
    # block 1: a 5x5 MBConv with an identity skip and no SE.
    'blocks': ['r2_k3_s22_e3_i8_o12_se0.25', 'r1_k5_s11_e6_i12_o12'],
}
LABEL_SMOOTHING = 0.1
BATCH = 4


def parse_block(s):
    f = {'skip': True, 'se': 0.0}
    for tok in s.split('_'):
        if tok == 'noskip':
            f['skip'] = False
        elif tok.startswith('se'):
            f['se'] = float(tok[2:])
        else:
            f[tok[0]] = tok[1:]
    return {'repeats': int(f['r']), 'kernel': int(f['k']), 'stride': int(f['s'][0]), 'expand': int(f['e']),
            'cin': int(f['i']), 'cout': int(f['o']), 'se': f['se'], 'skip': f['skip']}


def layer_specs():
    g = ARCH['global']
    specs = []
    cin = g['stem']['filters']
    for b, text in enumerate(ARCH['blocks']):
        blk = parse_block(text)
        for l in range(blk['repeats']):
            stride = blk['stride'] if l == 0 else 1
            expanded = cin * blk['expand']
            r = max(1, int(cin * blk['se'])) if blk['se'] > 0 else 0
            specs.append({'name': f'blocks.{b}.{l}', 'cin': cin, 'cout': blk['cout'], 'expanded': expanded, 'kernel': blk['kernel'],
                          'stride': stride, 'se': r, 'skip': blk['skip'] and stride == 1 and cin == blk['cout']})
            cin = blk['cout']
    return specs, cin


def make_state(gen):
    g = ARCH['global']
    state = {}

    def conv_bn(prefix, cin, cout, k, groups):
        state[f'{prefix}.conv.weight'] = torch.randn(cout, cin // groups, k, k, generator=gen) * (2.0 / (cout * k * k)) ** 0.5
        state[f'{prefix}.bn.weight'] = 1 + 0.2 * torch.randn(cout, generator=gen)
        state[f'{prefix}.bn.bias'] = 0.1 * torch.randn(cout, generator=gen)
        state[f'{prefix}.bn.running_mean'] = 0.1 * torch.randn(cout, generator=gen)
        state[f'{prefix}.bn.running_var'] = 0.5 + torch.rand(cout, generator=gen)

    conv_bn('stem', g['input']['channels'], g['stem']['filters'], 3, 1)
    specs, c = layer_specs()
    for s in specs:
        e = s['expanded']
        conv_bn(f"{s['name']}.expand", s['cin'], e, 1, 1)
        conv_bn(f"{s['name']}.depthwise", e, e, s['kernel'], e)
        if s['se']:
            r = s['se']
            state[f"{s['name']}.se.reduce.weight"] = torch.randn(r, e, 1, 1, generator=gen) * (1.0 / e) ** 0.5
            state[f"{s['name']}.se.reduce.bias"] = 0.1 * torch.randn(r, generator=gen)
            state[f"{s['name']}.se.expand.weight"] = torch.randn(e, r, 1, 1, generator=gen) * (1.0 / r) ** 0.5
            state[f"{s['name']}.se.expand.bias"] = 0.1 * torch.randn(e, generator=gen)
        conv_bn(f"{s['name']}.project", e, s['cout'], 1, 1)
    if g['head']:
        conv_bn('head', c, g['head'], 1, 1)
        c = g['head']
    state['classifier.weight'] = torch.randn(g['classes'], c, generator=gen) * (1.0 / c) ** 0.5
    state['classifier.bias'] = 0.1 * torch.randn(g['classes'], generator=gen)
    return state


def forward(P, x, train):
    """The reference network, written with torch.nn.functional; SE as 1x1 convolutions."""
    g = ARCH['global']
    momentum = 1 - g['bnMomentum']  # PyTorch convention
    eps = g['bnEps']

    def conv_bn(prefix, x, stride, groups, relu):
        w = P[f'{prefix}.conv.weight']
        y = F.conv2d(x, w, None, stride, w.shape[-1] // 2, 1, groups)
        y = F.batch_norm(y, P[f'{prefix}.bn.running_mean'], P[f'{prefix}.bn.running_var'], P[f'{prefix}.bn.weight'],
                         P[f'{prefix}.bn.bias'], train, momentum, eps)
        return F.relu(y) if relu else y

    y = conv_bn('stem', x, g['stem']['stride'], 1, True)
    specs, _ = layer_specs()
    for s in specs:
        n = s['name']
        h = conv_bn(f'{n}.expand', y, 1, 1, True)
        h = conv_bn(f'{n}.depthwise', h, s['stride'], s['expanded'], True)
        if s['se']:
            q = h.mean((2, 3), keepdim=True)
            q = F.relu(F.conv2d(q, P[f'{n}.se.reduce.weight'], P[f'{n}.se.reduce.bias']))
            q = torch.sigmoid(F.conv2d(q, P[f'{n}.se.expand.weight'], P[f'{n}.se.expand.bias']))
            h = h * q
        h = conv_bn(f'{n}.project', h, 1, 1, False)
        y = h + y if s['skip'] else h
    if g['head']:
        y = conv_bn('head', y, 1, 1, True)
    y = y.mean((2, 3))
    return F.linear(y, P['classifier.weight'], P['classifier.bias'])


def is_buffer(name):
    return name.endswith('running_mean') or name.endswith('running_var')


def network_fixture(gen):
    g = ARCH['global']
    state = make_state(gen)
    x = torch.randn(BATCH, g['input']['channels'], g['input']['height'], g['input']['width'], generator=gen)
    y = torch.randint(0, g['classes'], (BATCH,), generator=gen)
    out = {f'state.{k}': v.clone() for k, v in state.items()}
    out['input.x'] = x.clone()
    out['input.y'] = y.clone()

    with torch.no_grad():
        P = {k: v.clone() for k, v in state.items()}
        out['eval.logits'] = forward(P, x, False)
        for k in state:
            if is_buffer(k):
                assert torch.equal(P[k], state[k]), 'eval mode changed a running statistic'

    P = {k: (v.clone() if is_buffer(k) else v.clone().requires_grad_(True)) for k, v in state.items()}
    xi = x.clone().requires_grad_(True)
    logits = forward(P, xi, True)
    loss = F.cross_entropy(logits, y, label_smoothing=LABEL_SMOOTHING)
    loss.backward()
    out['train.logits'] = logits.detach()
    out['train.loss'] = loss.detach().reshape(1)
    out['grad.input'] = xi.grad
    for k, v in P.items():
        if is_buffer(k):
            out[f'after.{k}'] = v.clone()
            assert not torch.equal(v, state[k]), f'train mode did not update {k}'
        else:
            assert v.grad is not None, k
            out[f'grad.{k}'] = v.grad.clone()
    return out, state


# ---- optimizers -------------------------------------------------------------------------------

OPT_STEPS = 5
OPT_LRS = [0.1, 0.08, 0.06, 0.05, 0.04]  # a decaying schedule, so lr changes between steps
OPT_RUNS = {
    'sgd': {'kind': 'sgd', 'momentum': 0.0, 'nesterov': False, 'weightDecay': 0.0},
    'sgd_momentum_wd': {'kind': 'sgd', 'momentum': 0.9, 'nesterov': False, 'weightDecay': 1e-2, 'dampening': 0.1},
    'sgd_nesterov_wd': {'kind': 'sgd', 'momentum': 0.9, 'nesterov': True, 'weightDecay': 1e-2},
    'rmsprop': {'kind': 'rmsprop', 'alpha': 0.99, 'eps': 1e-8, 'momentum': 0.0, 'weightDecay': 0.0},
    'rmsprop_momentum_wd': {'kind': 'rmsprop', 'alpha': 0.9, 'eps': 1e-3, 'momentum': 0.9, 'weightDecay': 1e-2},
    'rmsprop_tf': {'kind': 'rmsprop_tf', 'alpha': 0.9, 'eps': 1e-3, 'momentum': 0.9, 'weightDecay': 1e-5},
    'adam': {'kind': 'adam', 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-8, 'weightDecay': 0.0, 'decoupled': False},
    'adam_wd': {'kind': 'adam', 'beta1': 0.8, 'beta2': 0.99, 'eps': 1e-6, 'weightDecay': 1e-2, 'decoupled': False},
    'adamw': {'kind': 'adam', 'beta1': 0.9, 'beta2': 0.999, 'eps': 1e-8, 'weightDecay': 5e-2, 'decoupled': True},
}


def opt_loss(w, b, x, y):
    return F.cross_entropy(F.linear(x, w, b), y)


def tf_rmsprop_run(w0, b0, x, y, cfg):
    """TensorFlow's RMSPropOptimizer, written out: ms starts at 1, eps inside the square root,
    lr inside the momentum accumulator; weight decay as an L2 term in the loss (grad + wd * p)."""
    params = [w0.clone(), b0.clone()]
    ms = [torch.ones_like(p) for p in params]
    mom = [torch.zeros_like(p) for p in params]
    traj = []
    for step in range(OPT_STEPS):
        lr = OPT_LRS[step]
        ps = [p.clone().requires_grad_(True) for p in params]
        opt_loss(ps[0], ps[1], x, y).backward()
        with torch.no_grad():
            for i, p in enumerate(params):
                g = ps[i].grad + cfg['weightDecay'] * p
                ms[i] = cfg['alpha'] * ms[i] + (1 - cfg['alpha']) * g * g
                mom[i] = cfg['momentum'] * mom[i] + lr * g / torch.sqrt(ms[i] + cfg['eps'])
                params[i] = p - mom[i]
        traj.append([p.clone() for p in params])
    return traj


def torch_run(w0, b0, x, y, cfg):
    w = w0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    k = cfg['kind']
    if k == 'sgd':
        opt = torch.optim.SGD([w, b], lr=OPT_LRS[0], momentum=cfg['momentum'], dampening=cfg.get('dampening', 0.0),
                              nesterov=cfg['nesterov'], weight_decay=cfg['weightDecay'])
    elif k == 'rmsprop':
        opt = torch.optim.RMSprop([w, b], lr=OPT_LRS[0], alpha=cfg['alpha'], eps=cfg['eps'], momentum=cfg['momentum'],
                                  weight_decay=cfg['weightDecay'])
    elif k == 'adam':
        cls = torch.optim.AdamW if cfg['decoupled'] else torch.optim.Adam
        opt = cls([w, b], lr=OPT_LRS[0], betas=(cfg['beta1'], cfg['beta2']), eps=cfg['eps'], weight_decay=cfg['weightDecay'])
    else:
        raise ValueError(k)
    traj = []
    for step in range(OPT_STEPS):
        for group in opt.param_groups:
            group['lr'] = OPT_LRS[step]
        opt.zero_grad()
        opt_loss(w, b, x, y).backward()
        opt.step()
        traj.append([w.detach().clone(), b.detach().clone()])
    return traj


def optim_fixture(gen):
    x = torch.randn(8, 6, generator=gen)
    y = torch.randint(0, 4, (8,), generator=gen)
    w0 = 0.3 * torch.randn(4, 6, generator=gen)
    b0 = 0.1 * torch.randn(4, generator=gen)
    out = {'init.weight': w0, 'init.bias': b0, 'data.x': x, 'data.y': y}
    for name, cfg in OPT_RUNS.items():
        traj = tf_rmsprop_run(w0, b0, x, y, cfg) if cfg['kind'] == 'rmsprop_tf' else torch_run(w0, b0, x, y, cfg)
        out[f'{name}.weight'] = torch.stack([t[0] for t in traj])
        out[f'{name}.bias'] = torch.stack([t[1] for t in traj])
    # the TF reference differs from torch's RMSprop (else the check would prove nothing)
    assert not torch.allclose(out['rmsprop_tf.weight'], out['rmsprop_momentum_wd.weight'])
    return out


# ---- PyTorch reads what mnas writes -----------------------------------------------------------

NODE_WRITER = r"""
import { loadSafetensors, saveSafetensors } from './dist/src/torch/index.js';
import { buildNetwork } from './dist/src/model/builder.js';
import { makeArch } from './dist/src/space/arch.js';
import { parseTfBlocks } from './dist/src/space/tf-block-string.js';
const [fixture, jsonFile, out] = process.argv.slice(1);
const spec = JSON.parse((await import('node:fs')).readFileSync(jsonFile, 'utf8'));
const net = buildNetwork(makeArch({ global: spec.arch.global, blocks: parseTfBlocks(spec.arch.blocks) }), { seed: 1 });
const { tensors } = loadSafetensors(fixture);
const state = new Map([...tensors].filter(([k]) => k.startsWith('state.')).map(([k, t]) => [k.slice(6), t]));
net.loadStateDict(state);
saveSafetensors(out, net.stateDict(), { format: 'pt', writer: 'mnas' });
"""


def check_mnas_written(state):
    if not os.path.exists(os.path.join(ROOT, 'dist', 'src', 'torch', 'index.js')):
        print('dist/ is not built: skipping the mnas-written safetensors check (run npx tsc first)')
        return False
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, 'mnas.safetensors')
        subprocess.run(['node', '--input-type=module', '-e', NODE_WRITER, os.path.join(OUT, 'network.safetensors'),
                        os.path.join(OUT, 'parity.json'), target], cwd=ROOT, check=True)
        tensors, meta = read_safetensors(target)
        assert meta == {'format': 'pt', 'writer': 'mnas'}, meta
        assert set(tensors) == set(state), set(tensors) ^ set(state)
        for k, v in state.items():
            assert tensors[k].dtype == v.dtype and torch.equal(tensors[k], v), f'{k} differs after the mnas round trip'
        # and torch uses them: the eval forward from the mnas-written weights is the reference
        with open(target, 'rb') as f:
            data = f.read()
    with open(os.path.join(OUT, 'mnas_written.safetensors'), 'wb') as f:
        f.write(data)
    return True


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(20240601)
    net, state = network_fixture(gen)
    write_safetensors(os.path.join(OUT, 'network.safetensors'), net, {'torch': torch.__version__})
    opt = optim_fixture(gen)
    write_safetensors(os.path.join(OUT, 'optim.safetensors'), opt, {'torch': torch.__version__})
    spec = {
        'torch': torch.__version__,
        'arch': ARCH,
        'labelSmoothing': LABEL_SMOOTHING,
        'optim': {'steps': OPT_STEPS, 'lrs': OPT_LRS, 'runs': OPT_RUNS},
    }
    with open(os.path.join(OUT, 'parity.json'), 'w') as f:
        json.dump(spec, f, indent=2)
        f.write('\n')
    # our own writer's files read back exactly
    for name, expected in (('network.safetensors', net), ('optim.safetensors', opt)):
        back, _ = read_safetensors(os.path.join(OUT, name))
        assert set(back) == set(expected)
        for k, v in expected.items():
            assert torch.equal(back[k], v.detach()), k
    checked = check_mnas_written(state)
    sizes = {n: os.path.getsize(os.path.join(OUT, n)) for n in sorted(os.listdir(OUT))}
    print('wrote', sizes, 'mnas-written file checked' if checked else '')
    assert sum(sizes.values()) < 1_000_000


if __name__ == '__main__':
    sys.exit(main())
