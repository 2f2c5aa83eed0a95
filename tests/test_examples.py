"""The examples run as shipped (the training example with fewer steps)."""
import pathlib
import runpy
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_train_digits_learns():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import train_digits
    finally:
        sys.path.pop(0)
    acc, losses = train_digits.main(steps=80, plot=False)
    assert losses[-1] < losses[0] / 3
    assert acc > 0.85


def test_quickstart_runs(capsys):
    runpy.run_path(str(ROOT / "examples" / "quickstart.py"), run_name="__main__")
    assert "y =" in capsys.readouterr().out
