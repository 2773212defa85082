import sys
from pathlib import Path

# Make ``tests/op_catalogue.py`` importable as a plain module from every test file.
sys.path.insert(0, str(Path(__file__).parent))
