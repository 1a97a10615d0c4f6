"""The ONNX models bench/classify measures, built at run time with
Debian's python3-onnx (no model files in the repository):

  tiny  global average pooling, a 3x2 linear layer, softmax, on 32x32
        input: almost all of a job's time is decoding and scaling the
        picture, so it shows pixd's own overhead.
  cnn   a small convolutional network on 224x224 input (five 3x3
        convolutions with stride 2, 3 -> 16 -> 32 -> 64 -> 128 -> 256
        channels, ReLU, global average pooling, a 256x10 linear layer,
        softmax; ~0.1 GFLOP, fixed random weights): a stand-in for a
        real, small image classifier.

Copied apart from tests/integration/redblue_model.py on purpose: the
benchmark imports nothing from tests/."""
import numpy
import onnx
from onnx import TensorProto, helper, numpy_helper


def _save(nodes, inits, size, outputs, path):
    graph = helper.make_graph(
        nodes, "bench",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, outputs])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def tiny(path):
    w = numpy.array([[8, -8], [0, 0], [-8, 8]], dtype=numpy.float32)
    nodes = [helper.make_node("GlobalAveragePool", ["input"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"], axis=1),
             helper.make_node("MatMul", ["f", "w"], ["l"]),
             helper.make_node("Softmax", ["l"], ["scores"], axis=1)]
    _save(nodes, [numpy_helper.from_array(w, "w")], 32, 2, path)
    return 32, 2


def cnn(path):
    rng = numpy.random.default_rng(7)
    chans = [3, 16, 32, 64, 128, 256]
    nodes, inits, x = [], [], "input"
    for i in range(5):
        cin, cout = chans[i], chans[i + 1]
        w = rng.normal(0, (2.0 / (9 * cin)) ** 0.5, (cout, cin, 3, 3)).astype(numpy.float32)
        b = numpy.zeros(cout, dtype=numpy.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes += [helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], kernel_shape=[3, 3],
                                   strides=[2, 2], pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"])]
        x = f"r{i}"
    fc = rng.normal(0, 0.05, (256, 10)).astype(numpy.float32)
    inits.append(numpy_helper.from_array(fc, "fc"))
    nodes += [helper.make_node("GlobalAveragePool", [x], ["p"]),
              helper.make_node("Flatten", ["p"], ["f"], axis=1),
              helper.make_node("MatMul", ["f", "fc"], ["l"]),
              helper.make_node("Softmax", ["l"], ["scores"], axis=1)]
    _save(nodes, inits, 224, 10, path)
    return 224, 10
