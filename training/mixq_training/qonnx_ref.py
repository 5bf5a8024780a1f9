"""Second, independent check of an exported file: the ``qonnx`` package's own
reference executor (``qonnx.core.onnx_exec.execute_onnx``: its Python
implementation of ``Quant``, onnxruntime for the standard ops)."""

from __future__ import annotations

import numpy as np
import onnx


def available() -> bool:
    try:
        import qonnx.core.onnx_exec  # noqa: F401
        return True
    except Exception:
        return False


def qonnx_predict(path: str, x: np.ndarray, batch_size: int = 100) -> np.ndarray:
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes

    outs = []
    wrappers = {}
    for i in range(0, len(x), batch_size):
        xb = np.ascontiguousarray(x[i:i + batch_size], dtype=np.float32)
        n = len(xb)
        if n not in wrappers:
            proto = onnx.load(path)
            # The file is exported with batch 1; re-declare the batch size.
            proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value = n
            proto.graph.output[0].type.tensor_type.shape.dim[0].dim_value = n
            del proto.graph.value_info[:]
            wrappers[n] = ModelWrapper(proto).transform(InferShapes())
        m = wrappers[n]
        out = execute_onnx(m, {m.graph.input[0].name: xb})
        outs.append(out[m.graph.output[0].name])
    return np.concatenate(outs)
