"""`fer export`'s files in the other runtimes, against `fer eval --predictions`.

    python scripts/check_export.py FACES.csv PREDICTIONS.csv MODEL.onnx MODEL.safetensors

Runs ONNX Runtime on the ONNX file and PyTorch (and Keras, where tensorflow or tf_keras is
installed) on the safetensors file (scripts/load_safetensors.py), over the faces of FACES.csv
(FER2013 CSV, pixels / 255), and compares each face's probabilities with fer's. Exits non-zero
when any differs by more than 1e-5. tests/export.rs runs it when FER_INTEROP_PYTHON is set.
"""
import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load_safetensors import keras_model, torch_model  # noqa: E402

TOLERANCE = 1e-5


def main(faces_csv, predictions_csv, onnx_path, safetensors_path):
    rows = list(csv.DictReader(open(faces_csv)))
    faces = np.array([[float(p) / 255 for p in r["pixels"].split()] for r in rows], dtype=np.float32)
    faces = faces.reshape(-1, 1, 48, 48)
    predicted = list(csv.DictReader(open(predictions_csv)))
    columns = [c for c in predicted[0] if c.startswith("p_")]
    index = [int(r["index"]) for r in predicted]
    fers = np.array([[float(r[c]) for c in columns] for r in predicted], dtype=np.float64)
    faces = faces[index]

    results = {}
    import onnxruntime
    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    results["onnxruntime " + onnxruntime.__version__] = session.run(None, {"image": faces})[0]

    import torch
    model, classes = torch_model(safetensors_path)
    assert ["p_" + c for c in classes] == columns, (classes, columns)
    with torch.no_grad():
        results["torch " + torch.__version__] = torch.softmax(model(torch.from_numpy(faces)), 1).numpy()
    try:
        keras, _ = keras_model(safetensors_path)
        results["keras"] = keras.predict(faces.transpose(0, 2, 3, 1), verbose=0)
    except ImportError:
        print("keras: not installed here, skipped")

    worst = 0.0
    for name, probabilities in results.items():
        diff = float(np.abs(probabilities - fers).max())
        worst = max(worst, diff)
        print(f"{name}: {len(faces)} faces, largest difference from fer {diff:.2e}")
    if worst > TOLERANCE:
        sys.exit(f"differences above {TOLERANCE}")


if __name__ == "__main__":
    main(*sys.argv[1:])
