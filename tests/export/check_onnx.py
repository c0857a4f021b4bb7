"""Checks an exported ONNX file with the reference checker (Debian python3-onnx).

usage: check_onnx.py MODEL.onnx
Runs onnx.checker.check_model(full_check=True) (which includes strict shape inference) and prints
"ok" plus the opset/IR versions and metadata keys; exits 1 with the checker's message otherwise.
"""
import sys

import onnx


def main():
    model = onnx.load(sys.argv[1])
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # The checker raises several exception types.
        print("check failed: %s" % e)
        return 1
    opset = {o.domain: o.version for o in model.opset_import}
    print("ok ir=%d opset=%d metadata=%s" % (model.ir_version, opset.get("", 0),
                                             ",".join(sorted(p.key for p in model.metadata_props))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
