"""The user's inputs: the arrays of an ``.npz`` file by name, or one LinlintError saying why not."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from linlint.errors import LinlintError
from linlint.model.find import existing_file
from linlint.wording import quoted_list


def load_npz(path: str | Path, *, expected: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` file by name; with ``expected``, every such name must be present."""
    path = existing_file(path, "an .npz file")
    shown = str(path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise LinlintError("not an .npz archive (a single .npy array?)", shown)
        with archive:
            arrays = {name: archive[name] for name in archive.files}
    except LinlintError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise LinlintError(f"cannot read inputs (.npz): {reason}", shown) from None
    if expected is not None:
        missing = [name for name in expected if name not in arrays]
        if missing:
            raise LinlintError(f"no array for model input {quoted_list(missing)}", shown)
    return arrays
