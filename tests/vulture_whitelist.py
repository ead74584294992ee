"""Names vulture reports as unused that are used where it cannot see: read by `tests/test_dead_code.py`, never run.

Each entry says who uses it. Add one only for such a true false positive; remove dead code instead."""
# ruff: noqa
# fmt: off

# Qt calls these overrides of QObject/QWidget/QOpenGLWidget methods itself
_.eventFilter
_.initializeGL
_.paintGL
_.paintEvent
_.dragEnterEvent
_.dropEvent

# pyqtgraph's AxisItem calls these overrides, passing every parameter of its signature
_.logTickValues
_.logTickStrings
stdTicks

# CompareResult fields written with setattr(result, f"{name}_s", ...) and read with getattr in compare_panel.py
teacher_s
student_s

# onnxruntime.SessionOptions attributes: set here, read by onnxruntime
_.intra_op_num_threads
_.inter_op_num_threads
