"""Shared by the module's tests: where the sources and the CLI are (set by ctest, see python/CMakeLists.txt)."""
import os

SOURCE_DIR = os.environ.get("IMPRECISE_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
CLI = os.environ.get("IMPRECISE_CLI", "")
EDGE = os.path.join(SOURCE_DIR, "scenarios", "edge_multi_model.json")
