"""A kept model at work: loading it, face sets, eval records, predict, ONNX export."""
