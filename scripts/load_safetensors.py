"""Load `fer export --safetensors` weights into PyTorch and Keras, and check they agree.

    python scripts/load_safetensors.py model.safetensors                 # PyTorch
    python scripts/load_safetensors.py model.safetensors --keras         # and Keras
    python scripts/load_safetensors.py model.safetensors --faces faces.npy --out probs.npy

The file's metadata holds the network's table (`network`, as fer's TOML/JSON) and the class
names (`classes`), so every preset and custom table loads. As a library:

    from load_safetensors import torch_model, keras_model
    model, classes = torch_model("model.safetensors")   # torch.nn.Sequential, eval mode
    probabilities = torch.softmax(model(faces), 1)     # faces: [N, 1, 48, 48], pixels / 255

Needs `torch` and `safetensors` (and `tensorflow` or `keras` for --keras).
"""
import argparse
import json


def sequential(network, torch_nn):
    """The torch.nn.Sequential whose state-dict names `fer export` writes: per convolution
    Conv2d, BatchNorm2d, ELU; per block MaxPool2d, Dropout; Flatten; per dense layer Linear,
    BatchNorm1d, ELU, Dropout; the output Linear (logits)."""
    nn = torch_nn
    eps, momentum = network["batch_norm_epsilon"], 1.0 - network["batch_norm_momentum"]
    layers, channels = [], 1
    height, width = network["input"]
    for block in network["blocks"]:
        for _ in range(block["convs"]):
            layers += [nn.Conv2d(channels, block["filters"], block["kernel"], padding="same"),
                       nn.BatchNorm2d(block["filters"], eps=eps, momentum=momentum), nn.ELU()]
            channels = block["filters"]
        layers += [nn.MaxPool2d(2), nn.Dropout(block["dropout"])]
        height, width = height // 2, width // 2
    layers.append(nn.Flatten())
    features = channels * height * width
    for dense in network["dense"]:
        layers += [nn.Linear(features, dense["units"]),
                   nn.BatchNorm1d(dense["units"], eps=eps, momentum=momentum),
                   nn.ELU(), nn.Dropout(dense["dropout"])]
        features = dense["units"]
    layers.append(nn.Linear(features, network["classes"]))
    return nn.Sequential(*layers)


def read(path):
    from safetensors import safe_open
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return json.loads(meta["network"]), json.loads(meta["classes"]), tensors


def torch_model(path):
    """The network in PyTorch (eval mode) and its class names."""
    import torch
    network, classes, tensors = read(path)
    model = sequential(network, torch.nn)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
    return model.eval(), classes


def keras_model(path):
    """The study's Keras model (channels-last input [N, 48, 48, 1], softmax output) with the
    same weights, and the class names."""
    try:
        import tf_keras as keras
    except ImportError:
        import keras
    network, classes, t = read(path)
    eps, momentum = network["batch_norm_epsilon"], network["batch_norm_momentum"]
    height, width = network["input"]
    layers, weights, index, channels = [keras.Input((height, width, 1))], [], 0, 1

    def norm(i):
        return [t[f"{i}.weight"], t[f"{i}.bias"], t[f"{i}.running_mean"], t[f"{i}.running_var"]]

    for block in network["blocks"]:
        for _ in range(block["convs"]):
            layers += [keras.layers.Conv2D(block["filters"], block["kernel"], padding="same"),
                       keras.layers.BatchNormalization(epsilon=eps, momentum=momentum),
                       keras.layers.Activation("elu")]
            # PyTorch's [out, in, kh, kw] as Keras' [kh, kw, in, out].
            weights += [[t[f"{index}.weight"].transpose(2, 3, 1, 0), t[f"{index}.bias"]],
                        norm(index + 1), []]
            index += 3
        layers += [keras.layers.MaxPooling2D(2), keras.layers.Dropout(block["dropout"])]
        weights += [[], []]
        index += 2
        height, width = height // 2, width // 2
        channels = block["filters"]
    layers.append(keras.layers.Flatten())
    weights.append([])
    index += 1
    first = True
    for dense in network["dense"] + [None]:
        w = t[f"{index}.weight"]  # [out, in]
        if first:
            # Keras flattens (h, w, c), PyTorch (c, h, w): reorder the inputs.
            w = w.reshape(-1, channels, height, width).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
            first = False
        if dense is None:
            layers.append(keras.layers.Dense(network["classes"], activation="softmax"))
            weights.append([w.T, t[f"{index}.bias"]])
            break
        layers += [keras.layers.Dense(dense["units"]),
                   keras.layers.BatchNormalization(epsilon=eps, momentum=momentum),
                   keras.layers.Activation("elu"), keras.layers.Dropout(dense["dropout"])]
        weights += [[w.T, t[f"{index}.bias"]], norm(index + 1), [], []]
        index += 4
    model = keras.Sequential(layers)
    for layer, values in zip(model.layers, weights):
        if values:
            layer.set_weights(values)
    return model, classes


def main():
    import numpy as np
    import torch
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights")
    parser.add_argument("--faces", help=".npy of faces [N, 48, 48] or [N, 1, 48, 48], pixels / 255 "
                        "(default: 16 random faces)")
    parser.add_argument("--out", help="write PyTorch's probabilities here (.npy)")
    parser.add_argument("--keras", action="store_true", help="also load into Keras and compare")
    args = parser.parse_args()
    model, classes = torch_model(args.weights)
    network = read(args.weights)[0]
    height, width = network["input"]
    if args.faces:
        faces = np.load(args.faces).astype(np.float32).reshape(-1, 1, height, width)
    else:
        faces = np.random.default_rng(0).random((16, 1, height, width), dtype=np.float32)
    with torch.no_grad():
        probabilities = torch.softmax(model(torch.from_numpy(faces)), 1).numpy()
    print(f"PyTorch: {len(faces)} faces, classes {', '.join(classes)}")
    if args.out:
        np.save(args.out, probabilities)
    if args.keras:
        keras, _ = keras_model(args.weights)
        theirs = keras.predict(faces.transpose(0, 2, 3, 1), verbose=0)
        diff = float(np.abs(theirs - probabilities).max())
        print(f"Keras: largest difference from PyTorch {diff:.2e}")
        if diff > 1e-4:
            raise SystemExit("Keras and PyTorch disagree")


if __name__ == "__main__":
    main()
