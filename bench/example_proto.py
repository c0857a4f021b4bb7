"""The tf.Example Python classes for the bench peers, compiled at run time from the reference .proto the
tests ship (tests/data/reference/example.proto), so no peer depends on TensorFlow."""
import importlib
import os
import subprocess
import sys
import tempfile

PROTO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "reference")


def load_example_pb2():
    """Runs protoc into a temporary directory and imports the generated example_pb2 module."""
    out = tempfile.mkdtemp(prefix="bench-peer-")
    subprocess.run(["protoc", "--python_out=" + out, "-I", PROTO_DIR, os.path.join(PROTO_DIR, "example.proto")],
                   check=True)
    sys.path.insert(0, out)
    return importlib.import_module("example_pb2")
