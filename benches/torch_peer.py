"""PyTorch eager beside `fer bench train`: the same network, batch and NSL-style adversarial step.

A copy of ../shared/peers/seed_torch.py (table 4.2's network on the CPU) that also runs the
other presets' networks and on a GPU, and writes `fer bench --json`'s document:

    python benches/torch_peer.py --network report-5.2 --device cuda:0 --images 2000 --json out.json

Images per second by the wall clock, timed from an idle device to an idle device (CUDA runs
asynchronously), after two untimed warm-up steps. Inputs are random faces already on the
device, as in `fer bench train`.
"""
import argparse
import json
import time

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from load_safetensors import sequential  # noqa: E402

# fer's presets (src/model/config.rs): per block (filters, kernel, convolutions, dropout);
# then (units, dropout) per dense layer.
PRESETS = {
    "report-4.2": ([(64, 5, 2, .4), (128, 3, 2, .4), (256, 3, 2, .5)], [(128, .6)]),
    "report-5.1": ([(64, 3, 2, .3), (128, 3, 2, .3), (256, 3, 2, .4), (512, 3, 2, .4)],
                   [(256, .5), (128, .5)]),
    "report-5.2": ([(32, 5, 1, .25), (64, 3, 1, .25), (128, 3, 1, .4)], [(128, .5)]),
    "small": ([(16, 3, 1, .1), (32, 3, 1, .1), (64, 3, 1, .2)], [(64, .3)]),
    "tiny": ([(8, 3, 1, 0.), (16, 3, 1, 0.)], [(32, 0.)]),
}


def network(name, classes=7):
    """The preset as fer's table (what `fer export --safetensors` stores), built by the same
    function that loads exported weights: Conv -> BatchNorm -> ELU per convolution, as fer
    and the study's Keras model (BatchNorm epsilon 1e-3, Keras momentum 0.99)."""
    blocks, dense = PRESETS[name]
    table = {
        "input": [48, 48], "classes": classes,
        "batch_norm_epsilon": 1e-3, "batch_norm_momentum": 0.99,
        "blocks": [{"filters": f, "kernel": k, "convs": c, "dropout": d} for f, k, c, d in blocks],
        "dense": [{"units": u, "dropout": d} for u, d in dense],
    }
    return sequential(table, nn)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="report-4.2", choices=sorted(PRESETS))
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--images", type=int, default=500, help="images per timed pass")
    parser.add_argument("--predict-images", type=int, default=1024)
    parser.add_argument("--json", help="also write the rates here, as fer bench --json does")
    args = parser.parse_args()

    torch.manual_seed(0)
    device = torch.device(args.device)
    model = network(args.network).to(device)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3, eps=1e-7)
    b = args.batch_size
    x = torch.rand(b, 1, 48, 48, device=device)
    y = torch.randint(0, 7, (b,), device=device)

    def train():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    def adversarial():
        # NSL's l2 step of 0.12 from the labeled loss's input gradient, multiplier 0.3.
        xx = x.clone().requires_grad_(True)
        labeled = F.cross_entropy(model(xx), y)
        (g,) = torch.autograd.grad(labeled, xx, retain_graph=True)
        norm = g.flatten(1).norm(dim=1).clamp_min(1e-6).view(-1, 1, 1, 1)
        x_adv = (x + 0.12 * g / norm).detach()
        loss = labeled + 0.3 * F.cross_entropy(model(x_adv), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    faces = torch.rand(256, 1, 48, 48, device=device)

    def predict():
        model.eval()
        with torch.no_grad():
            model(faces).argmax(1)
        model.train()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def rate(step, images_per_step, images):
        steps = max(1, images // images_per_step)
        step()
        step()
        sync()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        return {"wall": steps * images_per_step / (time.perf_counter() - start), "cpu": None}

    rates = {
        "train": rate(train, b, args.images),
        "adv": rate(adversarial, b, args.images),
        "predict": rate(predict, 256, args.predict_images),
    }
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"PyTorch {torch.__version__} eager, {args.network}, batch {b}, on {name}:")
    for what, r in rates.items():
        print(f"  {what}: {r['wall']:.1f} images/s")
    if args.json:
        report = {
            "preset": args.network,
            "batch_size": b,
            "images": args.images,
            "predict_images": args.predict_images,
            "backends": [{"name": f"torch {torch.__version__} eager", "device": args.device,
                          **rates, "peak_rss_mib": None}],
        }
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)


if __name__ == "__main__":
    main()
