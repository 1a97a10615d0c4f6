"""A tiny real ONNX classifier for tests and bench/classify, built with
Debian's python3-onnx: global average pooling of the three input channels,
a fixed linear layer and a softmax. Fed RGB scaled to 0..1 (pixd's
defaults), it tells mostly-red pictures ("red", index 0) from mostly-blue
ones ("blue", index 1)."""
import numpy
import onnx
from onnx import TensorProto, helper, numpy_helper

LABELS = ["red", "blue"]


def model_bytes(outputs=2, size=32):
    """The serialized model; outputs > 2 adds classes that never win, for
    label-count mismatch tests."""
    w = numpy.zeros((3, outputs), dtype=numpy.float32)
    w[0, 0], w[2, 0] = 8.0, -8.0   # red minus blue
    w[0, 1], w[2, 1] = -8.0, 8.0   # blue minus red
    w[:, 2:] = -4.0
    nodes = [
        helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "w"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["scores"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "redblue",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, outputs])],
        initializer=[numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model.SerializeToString()


def write(path, outputs=2, size=32):
    with open(path, "wb") as f:
        f.write(model_bytes(outputs, size))


def write_labels(path, labels=LABELS):
    with open(path, "w") as f:
        f.write("\n".join(labels) + "\n")
